#include "husk/os/syscall.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "husk/core/syscall_compat.hpp"

namespace husk::os {

long sys_clone3(uint64_t flags, int exit_signal, int cgroup_fd) {
  clone_args a;
  std::memset(&a, 0, sizeof a);
  a.flags = flags;
  a.exit_signal = static_cast<uint64_t>(exit_signal);
  if (cgroup_fd >= 0) {
    a.flags |= CLONE_INTO_CGROUP;
    a.cgroup = static_cast<uint64_t>(cgroup_fd);
  }
  return ::syscall(SYS_clone3, &a, sizeof a);
}

int sys_pivot_root(const char* n, const char* o) { return static_cast<int>(::syscall(SYS_pivot_root, n, o)); }

int sys_openat2(int dirfd, const char* path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  open_how how{};
  how.flags = flags;
  how.mode = mode;
  how.resolve = resolve;
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

int sys_mount_setattr(int dirfd, const char* path, unsigned flags, const MountAttr& attr) {
  return static_cast<int>(::syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof attr));
}

int sys_mount_setattr(int dirfd, const char* path, unsigned flags, uint64_t set, uint64_t clr, uint64_t prop) {
  return sys_mount_setattr(dirfd, path, flags, MountAttr{set, clr, prop, 0});
}

int sys_close_range(unsigned first, unsigned last, unsigned flags) {
  return static_cast<int>(::syscall(SYS_close_range, first, last, flags));
}

int sys_pidfd_open(pid_t pid, unsigned flags) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags)); }

Result<void> mount(const std::string& source, const std::string& target, const char* fstype, unsigned long flags,
                   const std::string& data) {
  if (::mount(source.c_str(), target.c_str(), fstype, flags, data.empty() ? nullptr : data.c_str()) < 0)
    return Error::sys(fmt::format("mount {} ({}, flags {:#x})", source, fstype ? fstype : "none", flags));
  return {};
}

std::string fd_path(int fd) { return fmt::format("/proc/self/fd/{}", fd); }

}  // namespace husk::os

namespace husk::os {

int sys_open_tree(int dirfd, const char* path, unsigned flags) {
  return static_cast<int>(::syscall(SYS_open_tree, dirfd, path, flags));
}
int sys_move_mount(int fd1, const char* p1, int fd2, const char* p2, unsigned flags) {
  return static_cast<int>(::syscall(SYS_move_mount, fd1, p1, fd2, p2, flags));
}
int sys_fsopen(const char* fsname, unsigned flags) { return static_cast<int>(::syscall(SYS_fsopen, fsname, flags)); }
int sys_fsconfig(int fd, unsigned cmd, const char* key, const void* value, int aux) {
  return static_cast<int>(::syscall(SYS_fsconfig, fd, cmd, key, value, aux));
}
int sys_fsmount(int fd, unsigned flags, unsigned attr) {
  return static_cast<int>(::syscall(SYS_fsmount, fd, flags, attr));
}

Result<UniqueFd> clone_tree(int dirfd, const std::string& path, bool recursive) {
  unsigned flags = OPEN_TREE_CLONE | O_CLOEXEC | (recursive ? AT_RECURSIVE : 0u) | (path.empty() ? AT_EMPTY_PATH : 0u);
  int fd = sys_open_tree(dirfd, path.c_str(), flags);
  if (fd < 0) return Error::sys(fmt::format("open_tree {}", path.empty() ? fd_path(dirfd) : path));
  return UniqueFd(fd);
}

Result<void> attach_tree(int tree, int target, std::string_view what) {
  if (sys_move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return Error::sys(fmt::format("move_mount onto {}", what));
  return {};
}

Result<void> set_mount_attrs(int fd, uint64_t set, uint64_t clr, bool recursive, std::string_view what) {
  if (set == 0 && clr == 0) return {};
  if (sys_mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), set, clr, 0) < 0)
    return Error::sys(fmt::format("mount_setattr {}", what));
  return {};
}

void ms_to_attr(unsigned long s, unsigned long c, uint64_t& set, uint64_t& clr) {
  constexpr uint64_t kAtime = MOUNT_ATTR__ATIME;
  struct {
    unsigned long ms;
    uint64_t attr;
  } simple[] = {{MS_RDONLY, MOUNT_ATTR_RDONLY},         {MS_NOSUID, MOUNT_ATTR_NOSUID},
                {MS_NODEV, MOUNT_ATTR_NODEV},           {MS_NOEXEC, MOUNT_ATTR_NOEXEC},
                {MS_NODIRATIME, MOUNT_ATTR_NODIRATIME}, {MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW}};
  for (auto& e : simple) {
    if (s & e.ms) set |= e.attr;
    if (c & e.ms) clr |= e.attr;
  }
  if (s & MS_NOATIME) {
    clr |= kAtime;
    set = (set & ~kAtime) | MOUNT_ATTR_NOATIME;
  } else if (s & MS_STRICTATIME) {
    clr |= kAtime;
    set = (set & ~kAtime) | MOUNT_ATTR_STRICTATIME;
  } else if (s & MS_RELATIME) {
    clr |= kAtime;
    set &= ~kAtime;
  }
}
}  // namespace husk::os
