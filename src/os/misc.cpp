// Small per-process facilities: rlimits, sysctl, oom_score_adj, uts, exec.fifo, LSM
// labels and the session keyring.
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <algorithm>

#include <linux/keyctl.h>

#include <cstring>

#include "husk/core/log.hpp"
#include "husk/os/exec_fifo.hpp"
#include "husk/os/lsm.hpp"
#include "husk/os/process.hpp"
#include "husk/os/rlimits.hpp"
#include "husk/os/syscall.hpp"
#include "husk/os/sysctl.hpp"
#include "husk/os/uts.hpp"
#include "husk/spec/defaults.hpp"

namespace husk::os {

namespace rlimits {
Result<void> apply_from_parent(pid_t pid, const std::vector<spec::RlimitOp>& limits) {
  for (auto& l : limits) {
    rlimit r{l.soft, l.hard};
    if (::prlimit(pid, static_cast<__rlimit_resource>(l.resource), &r, nullptr) < 0) {
      return Error::sys(fmt::format("set rlimit {} (soft {}, hard {})", l.resource, l.soft, l.hard));
    }
  }
  return {};
}
}  // namespace rlimits

namespace sysctl {
Result<void> apply(const procfs::Handle& proc, const std::vector<std::pair<std::string, std::string>>& kv) {
  for (auto& [k, v] : kv) {
    std::string key = k;  // the config's spelling: dots
    std::replace(key.begin(), key.end(), '/', '.');
    TRY(proc.write("sys/" + k, v).context(fmt::format("config.json: /linux/sysctl: {:?}", key)));
  }
  return {};
}
}  // namespace sysctl

namespace uts {
Result<void> apply(const std::optional<std::string>& hostname, const std::optional<std::string>& domainname) {
  if (hostname && ::sethostname(hostname->c_str(), hostname->size()) < 0) return Error::sys("sethostname");
  if (domainname && ::setdomainname(domainname->c_str(), domainname->size()) < 0) return Error::sys("setdomainname");
  return {};
}
}  // namespace uts

namespace exec_fifo {
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
      return Error::make(Errc::bad_state, "container init exited before start");
    }
  }
  ::unlink(p.c_str());
  return {};
}
bool exists(const std::string& dir) {
  struct stat st;
  return ::stat((dir + "/exec.fifo").c_str(), &st) == 0;
}
}  // namespace exec_fifo

namespace lsm {
bool apparmor_enabled() {
  auto v = read_file("/sys/module/apparmor/parameters/enabled");
  return v && !v->empty() && (*v)[0] == 'Y';
}
bool selinux_enabled() {
  struct stat st;
  return ::stat("/sys/fs/selinux/enforce", &st) == 0;
}
Result<void> apply_exec_labels(const procfs::Handle& proc, const std::optional<std::string>& apparmor,
                               const std::optional<std::string>& selinux) {
  if (apparmor && !apparmor->empty()) {
    if (!apparmor_enabled())
      return Error::make(
          Errc::unsupported,
          fmt::format("apparmorProfile {:?} requested, but AppArmor is not enabled on this host", *apparmor));
    auto r = proc.write("thread-self/attr/apparmor/exec", "exec " + *apparmor);
    if (!r) TRY(proc.write("thread-self/attr/exec", "exec " + *apparmor).context("set AppArmor profile"));
  }
  if (selinux && !selinux->empty()) {
    if (!selinux_enabled()) {
      log::debug("selinuxLabel {:?} ignored: SELinux is not enabled", *selinux);
    } else {
      TRY(proc.write("thread-self/attr/exec", *selinux).context("set SELinux label"));
    }
  }
  return {};
}
Result<void> join_session_keyring(const std::string& id) {
  std::string name = "_ses." + id;
  if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.c_str()) < 0) {
    if (errno == ENOSYS || errno == EACCES) {
      log::debug("session keyring not created: {}", std::strerror(errno));
      return {};
    }
    return Error::sys("join session keyring");
  }
  return {};
}
}  // namespace lsm

}  // namespace husk::os
