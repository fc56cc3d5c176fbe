#include "husk/os/stdio_owner.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace husk::os::stdio {

Result<void> give_to_user(uid_t uid) {
  for (int fd = 0; fd <= 2; ++fd) {
    struct stat st;
    if (::fstat(fd, &st) < 0) {
      if (errno == EBADF) continue;
      return Error::sys(fmt::format("fstat fd {}", fd));
    }
    if (st.st_uid == uid || (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))) continue;
    if (::fchown(fd, uid, st.st_gid) < 0 && errno != EPERM && errno != EINVAL)
      return Error::sys(fmt::format("give fd {} to uid {}", fd, uid));
  }
  return {};
}

}  // namespace husk::os::stdio
