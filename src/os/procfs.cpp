#include "husk/os/procfs.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "husk/core/syscall_compat.hpp"
#include "husk/os/syscall.hpp"

namespace husk::os::procfs {

bool is_procfs(int fd) {
  struct statfs sf;
  return ::fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

Result<Handle> Handle::open() {
  Handle h;
  UniqueFd fs(sys_fsopen("proc", FSOPEN_CLOEXEC));
  if (fs) {
    if (sys_fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) return Error::sys("fsconfig procfs");
    UniqueFd m(sys_fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
    if (!m) return Error::sys("fsmount procfs");
    h.fd_ = std::move(m);
  } else {
    if (errno != ENOSYS) return Error::sys("fsopen procfs");
    h.fd_.reset(::open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!h.fd_) return Error::sys("open /proc");
  }
  if (!is_procfs(h.fd_.get())) return Error::make(Errc::invalid_spec, "/proc is not a procfs");
  return h;
}

Result<void> Handle::write(std::string_view rel, std::string_view value) const {
  std::string r(rel);
  // Beneath our procfs, never across a mount (nothing may cover the file) and never
  // through a magic link; "thread-self" and "self" are plain relative symlinks.
  int fd = sys_openat2(fd_.get(), r.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0,
                       RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS);
  if (fd < 0) return Error::sys(fmt::format("open /proc/{}", r));
  UniqueFd f(fd);
  if (!is_procfs(fd)) return Error::make(Errc::invalid_spec, fmt::format("/proc/{} is not on procfs", r));
  if (::write(fd, value.data(), value.size()) < 0) return Error::sys(fmt::format("write /proc/{}", r));
  return {};
}

}  // namespace husk::os::procfs
