// Processes: clone, wait, liveness (pid + start time), parent-death signal.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "husk/core/error.hpp"

namespace husk::os::process {

// clone3 with fork semantics (the child continues on a copy of the stack and gets 0).
// CLONE_PARENT children get exit_signal 0 (the kernel reuses the caller's).
Result<pid_t> clone_child(uint64_t flags, int cgroup_fd = -1);

struct Exit {
  int status = 0;  // raw wait status
  bool exited() const;
  // The exit code as a shell reports it: code, or 128 + signal.
  int code() const;
};
Result<Exit> wait_pid(pid_t pid);

// Field 22 of /proc/<pid>/stat, and whether the process is a zombie.
struct ProcStat {
  uint64_t start_time = 0;
  char state = '?';
};
std::optional<ProcStat> proc_stat(pid_t pid);
// Alive, not a zombie, and the same process (start time) as recorded.
bool is_alive(pid_t pid, uint64_t start_time);

Result<void> set_pdeathsig(int sig);

// A child's last step when it cannot exec: _exit(code). In an ASan build, exit_group
// itself, bypassing ASan's _exit (whose exit-time leak check clones a tracer: under a
// seccomp filter that denies clone and exit_group it dies twice and spins forever).
[[noreturn]] void exit_child(int code) noexcept;

// Default dispositions for ignored signals and an empty mask: both survive execve.
void reset_signals();
// A cwd reached through a leaked fd is outside the root (CVE-2024-21626): getcwd then
// reports "(unreachable)" instead of an absolute path. `cwd` names it in the error.
Result<void> check_cwd(const std::string& cwd);

}  // namespace husk::os::process
