#include "husk/os/exec_fifo.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "husk/os/process.hpp"
#include "husk/os/syscall.hpp"

namespace husk::os::exec_fifo {

Result<UniqueFd> prepare(int dirfd, const std::string& dir) {
  if (::mkfifoat(dirfd, "exec.fifo", 0622) < 0) return Error::sys("mkfifo " + dir + "/exec.fifo");
  // mkfifo honours the umask; the container user may not be root.
  ::fchmodat(dirfd, "exec.fifo", 0622, 0);
  UniqueFd fd(::openat(dirfd, "exec.fifo", O_PATH | O_CLOEXEC));
  if (!fd) return Error::sys("open " + dir + "/exec.fifo");
  return fd;
}
Result<void> wait_for_start(int path_fd) {
  UniqueFd w(::open(fd_path(path_fd).c_str(), O_WRONLY | O_CLOEXEC));
  if (!w) return Error::sys("open exec.fifo");
  char c = 0;
  if (::write(w.get(), &c, 1) != 1) return Error::sys("write exec.fifo");
  return {};
}
Result<void> release(const std::string& dir, pid_t init, uint64_t start_time) {
  std::string p = dir + "/exec.fifo";
  // Non-blocking open: an init that died never opens its end, and we must not hang.
  // The init opens its end only after ours: wait for its byte, watching it stay alive.
  UniqueFd r(::open(p.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!r) return Error::sys("open " + p);
  for (;;) {
    pollfd x{r.get(), POLLIN, 0};
    int n = ::poll(&x, 1, 50);
    if (n < 0 && errno != EINTR) return Error::sys("poll exec.fifo");
    if (n > 0 && (x.revents & POLLIN)) {
      char c;
      if (::read(r.get(), &c, 1) == 1) break;
    }
    if ((n > 0 && (x.revents & POLLHUP)) || !process::is_alive(init, start_time)) {
      ::unlink(p.c_str());
      return Error::make(Errc::bad_state, "container process is already dead");
    }
  }
  // The fifo's absence is what says the container has started (as runc, whose start
  // fails when it cannot remove it): a fifo left behind would keep it `created`.
  if (::unlink(p.c_str()) < 0 && errno != ENOENT) return Error::sys("remove " + p);
  return {};
}
bool exists(const std::string& dir) {
  struct stat st;
  return ::stat((dir + "/exec.fifo").c_str(), &st) == 0;
}

}  // namespace husk::os::exec_fifo
