// Thin wrappers for syscalls glibc 2.36 lacks or that we want as Result.
#pragma once

#include <linux/openat2.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "husk/core/error.hpp"
#include "husk/core/fd.hpp"

namespace husk::os {

long sys_clone3(uint64_t flags, int exit_signal, int cgroup_fd);
int sys_pivot_root(const char* new_root, const char* put_old);
int sys_openat2(int dirfd, const char* path, uint64_t flags, uint64_t mode, uint64_t resolve);
// struct mount_attr (MOUNT_ATTR_SIZE_VER0, 32 bytes), with the userns_fd that
// MOUNT_ATTR_IDMAP needs.
struct MountAttr {
  uint64_t attr_set = 0, attr_clr = 0, propagation = 0, userns_fd = 0;
};
int sys_mount_setattr(int dirfd, const char* path, unsigned flags, const MountAttr& attr);
int sys_mount_setattr(int dirfd, const char* path, unsigned flags, uint64_t attr_set, uint64_t attr_clr,
                      uint64_t propagation);
int sys_close_range(unsigned first, unsigned last, unsigned flags);
int sys_pidfd_open(pid_t pid, unsigned flags);

Result<void> mount(const std::string& source, const std::string& target, const char* fstype, unsigned long flags,
                   const std::string& data);

// "/proc/self/fd/N": the path mount(2) and friends follow to the fd's file.
std::string fd_path(int fd);

}  // namespace husk::os

namespace husk::os {
int sys_open_tree(int dirfd, const char* path, unsigned flags);
int sys_move_mount(int from_dirfd, const char* from_path, int to_dirfd, const char* to_path, unsigned flags);
int sys_fsopen(const char* fsname, unsigned flags);
int sys_fsconfig(int fd, unsigned cmd, const char* key, const void* value, int aux);
int sys_fsmount(int fd, unsigned flags, unsigned attr_flags);

// A detached copy of the mount tree at `fd` (a file or directory), as open_tree(2) with
// OPEN_TREE_CLONE; recursive when asked.
Result<UniqueFd> clone_tree(int dirfd, const std::string& path, bool recursive);
// move_mount(tree -> target fd): attaches a detached tree on the object `target` refers to.
Result<void> attach_tree(int tree, int target, std::string_view what);
// mount_setattr(fd, "", AT_EMPTY_PATH [| AT_RECURSIVE]).
Result<void> set_mount_attrs(int fd, uint64_t set, uint64_t clr, bool recursive, std::string_view what);
// MS_* flags -> MOUNT_ATTR_* (set, clear) for mount_setattr.
void ms_to_attr(unsigned long set_flags, unsigned long clear_flags, uint64_t& attr_set, uint64_t& attr_clr);
}  // namespace husk::os
