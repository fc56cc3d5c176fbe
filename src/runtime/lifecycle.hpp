// Internal pieces shared by create/start/run/kill/delete.
#pragma once

#include <signal.h>
#include <time.h>

#include "husk/core/log.hpp"

#include "husk/os/sync.hpp"

#include <sys/types.h>

#include <memory>
#include <span>
#include <string>

#include "husk/core/fd.hpp"
#include "husk/os/cgroups/driver.hpp"
#include "husk/runtime/options.hpp"
#include "husk/state/status.hpp"
#include "husk/state/store.hpp"

namespace husk::runtime {

enum class CreateMode { detached, foreground };

struct Created {
  pid_t pid = 0;
  UniqueFd console_master;  // foreground run with a terminal and no --console-socket
  state::State state;       // as saved to state.json
};

Result<Created> create_container(const GlobalOptions& g, const CreateOptions& o, CreateMode mode);

struct Loaded {
  state::State st;
  state::Status status;
  std::unique_ptr<os::cgroups::Driver> cgroup;  // the driver that made the container
};
// `holding_lock`: the caller holds the container's lock (a `creating` record is then one
// whose create died: stopped).
Result<Loaded> load(const state::StateStore& store, const std::string& id, bool holding_lock = false);
// start of a container known to be `created` (lock held by the caller).
Result<void> start_created(const state::StateStore& store, const state::State& st);
// poststop hooks, cgroup removal, state dir removal (init must be dead).
Result<void> destroy(const state::StateStore& store, const Loaded& c);
// Signals init, or every process of the cgroup when `all`.
Result<void> signal_container(const Loaded& c, int sig, bool all);
std::string hook_state(const state::State& st, std::string_view status, int pid);
state::StateStore store_for(const GlobalOptions& g);
// --pid-file: written atomically; relative to our cwd.
Result<void> write_pid_file(const std::string& file, pid_t pid);
// --pidfd-socket: a pidfd of `pid` in one SCM_RIGHTS message.
Result<void> send_pidfd(const std::string& socket, pid_t pid);

// Fault injection for tests (docs/reliability.md, tests/integration/faults_test.cpp):
// with HUSK_FAULT_KILL=CMD:STEP in the environment, the process SIGKILLs itself when its
// StepClock CMD marks STEP. Unset (always, outside the tests), it costs one load and a
// compare per mark.
void fault_point(const char* cmd, const char* step);

// Step timings for --debug: where a command spends its time. Each step is a fault point.
struct StepClock {
  const char* cmd;
  timespec start{};
  explicit StepClock(const char* c) : cmd(c) { clock_gettime(CLOCK_MONOTONIC, &start); }
  void mark(const char* step) const {
    fault_point(cmd, step);
    if (!log::enabled(log::Level::debug)) return;
    timespec now{}, cpu{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    long us = (now.tv_sec - start.tv_sec) * 1000000L + (now.tv_nsec - start.tv_nsec) / 1000;
    log::debug("{}: {} at +{}us (cpu {}us)", cmd, step, us, cpu.tv_sec * 1000000L + cpu.tv_nsec / 1000);
  }
};

// P's side of the sync protocol: the next message of a child, its logs re-emitted and
// its `error` returned as ours; nullopt on EOF (an error if `seq` is not done).
Result<std::optional<os::sync::Msg>> next_msg(os::sync::Channel& ch, os::sync::ExpectedSequence& seq,
                                              std::string_view who);
// Sends to a child; if it already died, the error it left in the socket is returned.
Result<void> send_to(os::sync::Channel& ch, std::string_view who, os::sync::MsgType t, std::string_view payload = {},
                     std::span<const int> fds = {});
// SCMP_ACT_NOTIFY: the listener fd and runc's containerProcessState (state with
// `status` and the init's pid; `pid` the filtered process) go to listenerPath.
Result<void> send_seccomp_listener(const spec::Seccomp& sc, const state::State& st, std::string_view status, pid_t init,
                                   pid_t pid, int fd);

// Signals a foreground run/exec forwards (all but the uncatchable and the faults). Block
// them before cloning the process, so none is lost; the child resets its mask.
sigset_t forwarded_signals();
// Forwards signals to `pid`, copies between our stdio and `master` (if >= 0), reaps
// children until `pid` exits; returns its code (or 128 + signal).
int wait_foreground(pid_t pid, int master);
// Clears ONLCR on the pty (runc's foreground terminal path does, before the process runs).
void clear_onlcr(int master);

}  // namespace husk::runtime
