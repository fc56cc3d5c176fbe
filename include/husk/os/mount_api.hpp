// Fallback constants of the new mount API (linux/mount.h, 5.12+) that glibc 2.36's headers
// may lack, and mount_setattr with a user namespace fd (MOUNT_ATTR_IDMAP). To be merged
// into the project's one home for syscall fallback constants.
#pragma once

#include <fcntl.h>
#include <sys/syscall.h>

#include <cstdint>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

namespace husk::os::mount_api {

inline constexpr unsigned kOpenTreeClone = 1;       // OPEN_TREE_CLONE
inline constexpr unsigned kAtRecursive = 0x8000;    // AT_RECURSIVE
inline constexpr uint64_t kAttrIdmap = 0x00100000;  // MOUNT_ATTR_IDMAP
inline constexpr unsigned kMoveFEmptyPath = 0x4;    // MOVE_MOUNT_F_EMPTY_PATH
inline constexpr unsigned kMoveTEmptyPath = 0x40;   // MOVE_MOUNT_T_EMPTY_PATH
inline constexpr unsigned kFsconfigCmdCreate = 6;   // FSCONFIG_CMD_CREATE
inline constexpr unsigned kFsopenCloexec = 1;       // FSOPEN_CLOEXEC
inline constexpr unsigned kFsmountCloexec = 1;      // FSMOUNT_CLOEXEC

// struct mount_attr (MOUNT_ATTR_SIZE_VER0 = 32 bytes).
struct MountAttr {
  uint64_t attr_set = 0, attr_clr = 0, propagation = 0, userns_fd = 0;
};

// mount_setattr(2) with the whole struct (the userns_fd that MOUNT_ATTR_IDMAP needs).
int sys_mount_setattr_attr(int dirfd, const char* path, unsigned flags, const MountAttr& attr);

}  // namespace husk::os::mount_api
