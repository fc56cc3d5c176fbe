#include "husk/os/process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>

#include "husk/core/fd.hpp"
#include "husk/os/syscall.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
namespace {
// ASan's Die() (after a report, or when its allocator cannot map memory) ends in
// exit_group; a container init whose seccomp profile denies everything gets EPERM there,
// calls Die() again and spins forever. Its report is written by then: exit_group, or trap.
void die_for_good() {
  ::syscall(SYS_exit_group, 99);
  __builtin_trap();
}
[[maybe_unused]] const bool death_callback_set = (__sanitizer_set_death_callback(die_for_good), true);
}  // namespace
#endif

namespace husk::os::process {

Result<pid_t> clone_child(uint64_t flags, int cgroup_fd) {
  int sig = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
  long r = sys_clone3(flags, sig, cgroup_fd);
  if (r < 0 && errno == ENOSYS) {
    // Kernels before 5.3: plain clone with fork semantics (no cgroup placement).
    if (cgroup_fd >= 0) return Error::sys("clone3 with CLONE_INTO_CGROUP");
    r = ::syscall(SYS_clone, static_cast<unsigned long>(flags) | static_cast<unsigned long>(sig), nullptr, nullptr,
                  nullptr, nullptr);
  }
  if (r < 0) return Error::sys("clone3");
  return static_cast<pid_t>(r);
}

bool Exit::exited() const { return WIFEXITED(status); }

int Exit::code() const {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

Result<Exit> wait_pid(pid_t pid) {
  int st = 0;
  while (::waitpid(pid, &st, __WALL) < 0) {
    if (errno != EINTR) return Error::sys(fmt::format("wait for pid {}", pid));
  }
  return Exit{st};
}

std::optional<ProcStat> proc_stat(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  buf[n] = 0;
  // comm may hold spaces and parentheses: fields start after the last ')'.
  char* p = std::strrchr(buf, ')');
  if (!p || p[1] != ' ') return std::nullopt;
  ProcStat st;
  st.state = p[2];
  // Field 3 is state; start time is field 22.
  char* q = p + 2;
  for (int field = 3; field < 22 && q; ++field) {
    q = std::strchr(q, ' ');
    if (q) ++q;
  }
  if (!q) return std::nullopt;
  st.start_time = std::strtoull(q, nullptr, 10);
  return st;
}

bool is_alive(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return false;
  auto st = proc_stat(pid);
  if (!st) return false;
  if (st->state == 'Z' || st->state == 'X') return false;
  return start_time == 0 || st->start_time == start_time;
}

Result<void> set_pdeathsig(int sig) {
  if (::prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) < 0) return Error::sys("prctl(PR_SET_PDEATHSIG)");
  return {};
}

void exit_child(int code) noexcept {
#if defined(__SANITIZE_ADDRESS__)
  ::syscall(SYS_exit_group, code);
  ::syscall(SYS_exit, code);
  __builtin_trap();  // both denied by the filter: die by SIGILL, as glibc's _exit by SIGSEGV
#else
  ::_exit(code);
#endif
}

void reset_signals() {
  uint64_t ign = ~uint64_t{0};
  if (auto st = read_file("/proc/self/status")) {
    auto pos = st->find("\nSigIgn:\t");
    if (pos != std::string::npos) ign = std::strtoull(st->c_str() + pos + 9, nullptr, 16);
  }
  for (int s = 1; s < NSIG && s <= 64; ++s)
    if (ign & (uint64_t{1} << (s - 1))) ::signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// A cwd reached through a leaked fd or magic link would be outside the root
// (CVE-2024-21626): getcwd then reports "(unreachable)" instead of an absolute path.
Result<void> check_cwd(const std::string& cwd) {
  char buf[4096];
  if (!::getcwd(buf, sizeof buf) || buf[0] != '/')
    return Error::make(Errc::invalid_spec, fmt::format("cwd {:?} is outside the container", cwd));
  return {};
}

}  // namespace husk::os::process
