// start, state, list, kill, delete: short-lived commands that read the state store and
// derive the status from facts (pid + start time, exec.fifo, freezer).
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

#include "husk/core/log.hpp"
#include "husk/os/exec_fifo.hpp"
#include "husk/os/hooks.hpp"
#include "husk/os/process.hpp"
#include "husk/os/syscall.hpp"
#include "husk/runtime/runtime.hpp"
#include "husk/spec/json_input.hpp"
#include "husk/spec/oci_state.hpp"
#include "husk/spec/validate.hpp"
#include "lifecycle.hpp"
#include "spec13.hpp"

namespace husk::runtime {

state::StateStore store_for(const GlobalOptions& g) { return state::StateStore(g.root); }

void fault_point(const char* cmd, const char* step) {
  static const char* const want = std::getenv("HUSK_FAULT_KILL");
  if (!want) return;
  size_t n = std::strlen(cmd);
  if (std::strncmp(want, cmd, n) == 0 && want[n] == ':' && std::strcmp(want + n + 1, step) == 0) ::raise(SIGKILL);
}

Result<Loaded> load(const state::StateStore& store, const std::string& id, bool holding_lock) {
  TRY(spec::check_container_id(id));
  TRY_ASSIGN(auto st, store.load(id));
  TRY_ASSIGN(auto cg, os::cgroups::open_driver(st.cgroup_driver, st.cgroup_paths));
  state::Facts f;
  f.saved = !st.creating;
  // Holding the lock ourselves, no create is running on it.
  f.creator_alive = st.creating && !holding_lock && store.busy(id);
  f.init_alive = st.pid > 0 && os::process::is_alive(st.pid, st.start_time);
  f.fifo_exists = os::exec_fifo::exists(store.dir(id));
  f.frozen = f.init_alive && cg->frozen();
  return Loaded{std::move(st), state::derive_status(f), std::move(cg)};
}

// A directory without state.json (see StateStore::load).
static bool is_bare(const state::State& st) { return st.creating && st.pid == 0 && st.cgroup_paths.all().empty(); }

static Result<Loaded> load_recovered(const state::StateStore& store, const std::string& id) {
  TRY_ASSIGN(auto st, store.load_recovery(id));
  TRY_ASSIGN(auto cg, os::cgroups::open_driver(st.cgroup_driver, st.cgroup_paths));
  return Loaded{std::move(st), state::Status::stopped, std::move(cg)};
}

// Processes left in the container's cgroup (orphans of a shared pid namespace, or a
// container whose init died first) are killed before the cgroup is removed.
static void kill_leftovers(const Loaded& c) {
  for (int i = 0; i < 100; ++i) {
    auto pids = c.cgroup->pids();
    if (!pids || pids->empty()) return;
    for (pid_t p : *pids) ::kill(p, SIGKILL);
    (void)c.cgroup->freeze(false);
    ::usleep(10000);
  }
}

// Until the init has exited (at most 10 s): its pidfd becomes readable.
static void wait_dead(const state::State& st) {
  UniqueFd pfd(os::sys_pidfd_open(st.pid, 0));
  if (pfd && os::process::is_alive(st.pid, st.start_time)) {
    pollfd x{pfd.get(), POLLIN, 0};
    ::poll(&x, 1, 10000);
  }
}

Result<void> destroy(const state::StateStore& store, const Loaded& c) {
  // A create that died: its init may outlive it (the record names it with its start time).
  if (c.st.creating && c.st.pid > 0 && os::process::is_alive(c.st.pid, c.st.start_time)) {
    ::kill(c.st.pid, SIGKILL);
    wait_dead(c.st);
  }
  if (c.st.created_cgroup) kill_leftovers(c);
  // As create's rollback: the poststop hooks once a container (its init) existed.
  if (!c.st.hooks.poststop.empty() && (!c.st.creating || c.st.pid > 0)) {
    os::hooks::run_hooks_warn("poststop", c.st.hooks.poststop, hook_state(c.st, "stopped", 0));
  }
  if (c.st.created_cgroup) TRY(c.cgroup->destroy());
  TRY(rdt_remove(store.dir(c.st.id)));
  return store.remove(c.st.id);
}

Result<void> signal_container(const Loaded& c, int sig, bool all) {
  if (all || c.st.shared_pid_ns) {
    TRY_ASSIGN(auto pids, c.cgroup->pids());
    // Freeze so that nothing forks between reading the list and signalling it.
    bool froze = c.status != state::Status::paused && c.cgroup->freeze(true);
    for (pid_t p : pids) ::kill(p, sig);
    if (froze) (void)c.cgroup->freeze(false);
    if (!pids.empty() || !all) return {};
  }
  if (::kill(c.st.pid, sig) < 0) return Error::sys(fmt::format("signal {} to pid {}", sig, c.st.pid));
  return {};
}

Result<void> start(const GlobalOptions& g, const std::string& id) {
  auto store = store_for(g);
  TRY(spec::check_container_id(id));
  TRY_ASSIGN(auto lock, store.lock(id));
  TRY_ASSIGN(auto c, load(store, id, true));
  if (!state::can_start(c.status))
    return Error::make(Errc::bad_state,
                       fmt::format("cannot start container {:?} in the {} state", id, state::to_string(c.status)));
  if (c.st.no_process)
    return Error::make(Errc::invalid_spec,
                       fmt::format("cannot start container {:?}: its config.json has no process", id));
  return start_created(store, c.st);
}

Result<void> start_created(const state::StateStore& store, const state::State& st) {
  TRY(os::exec_fifo::release(store.dir(st.id), st.pid, st.start_time));
  if (!st.hooks.poststart.empty()) {
    // runtime-spec 1.3 (and runc since 2015): a failing poststart hook is an error and
    // stops the container; delete then destroys it.
    if (auto r = os::hooks::run_hooks("poststart", st.hooks.poststart, hook_state(st, "running", st.pid)); !r) {
      if (os::process::is_alive(st.pid, st.start_time)) ::kill(st.pid, SIGKILL);
      wait_dead(st);
      return std::move(r).error();
    }
  }
  return {};
}

// runc's state/list object: ociVersion, id, pid (0 once stopped), status, bundle,
// rootfs, created, owner, annotations.
static nlohmann::ordered_json state_object(const Loaded& c) {
  int pid = c.status == state::Status::stopped ? 0 : c.st.pid;
  return spec::state_object(state::oci_state(c.st, state::to_string(c.status), pid), spec::StateShape::command);
}

Result<std::string> state(const GlobalOptions& g, const std::string& id) {
  auto store = store_for(g);
  TRY_ASSIGN(auto c, load(store, id));
  return spec::dump_json(state_object(c), 2) + "\n";
}

Result<std::string> list(const GlobalOptions& g, const ListOptions& o) {
  if (o.format != "table" && o.format != "json")
    return Error::make(Errc::invalid_argument, fmt::format("invalid --format {:?}: must be table or json", o.format));
  auto store = store_for(g);
  TRY_ASSIGN(auto ids, store.list());
  std::vector<Loaded> all;
  for (auto& id : ids) {
    auto c = load(store, id);
    if (c) {
      all.push_back(std::move(*c));
    } else if (c.error().code() != Errc::not_found && c.error().code() != Errc::bad_state) {
      // Gone or still being created: skipped. Unreadable: said, as runc's "load container X".
      std::string msg = c.error().describe(), own = fmt::format("container {:?}: ", id);
      if (msg.compare(0, own.size(), own) == 0) msg.erase(0, own.size());
      fmt::print(stderr, "load container {}: {}\n", id, msg);
    }
  }
  if (o.quiet) {
    std::string out;
    for (auto& c : all) out += c.st.id + "\n";
    return out;
  }
  if (o.format == "json") {
    if (all.empty()) return std::string("null\n");
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (auto& c : all) arr.push_back(state_object(c));
    return spec::dump_json(arr) + "\n";
  }
  // Columns padded like Go's tabwriter (minwidth 12, padding 1), as runc prints them.
  std::vector<std::array<std::string, 6>> rows = {{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (auto& c : all)
    rows.push_back({c.st.id, std::to_string(c.status == state::Status::stopped ? 0 : c.st.pid),
                    std::string(state::to_string(c.status)), c.st.bundle, c.st.created,
                    c.st.owner.empty() ? "root" : c.st.owner});
  std::array<size_t, 6> w{};
  for (auto& r : rows)
    for (size_t i = 0; i < 6; ++i) w[i] = std::max({w[i], r[i].size() + 1, size_t{12}});
  std::string out;
  for (auto& r : rows) {
    for (size_t i = 0; i < 6; ++i) out += i == 5 ? r[i] : fmt::format("{:<{}}", r[i], w[i]);
    out += "\n";
  }
  return out;
}

Result<void> kill(const GlobalOptions& g, const KillOptions& o) {
  TRY_ASSIGN(int sig, spec::parse_signal(o.signal));
  auto store = store_for(g);
  TRY(spec::check_container_id(o.id));
  TRY_ASSIGN(auto lock, store.lock(o.id));
  TRY_ASSIGN(auto c, load(store, o.id, true));
  // runtime-spec "kill": a container that is neither created nor running MUST give an
  // error (runtime-tools `kill` asserts it; its `pidfile` test kills an exited container
  // and expects success, which contradicts this: see conformance/expected.txt).
  // With --all a stopped container's cgroup may still hold processes (exec'd ones, or a
  // shared pid namespace): they are signalled and an empty cgroup is success, as runc
  // (containerd's `ctr t rm -f` sends `kill --all 9` after the task exited).
  if (o.all && c.status == state::Status::stopped) {
    auto pids = c.cgroup->pids();  // never the recorded init pid: it may be reused by now
    if (pids)
      for (pid_t p : *pids) ::kill(p, sig);
    return {};
  }
  if (!state::can_kill(c.status)) return Error::make(Errc::bad_state, "container not running");  // runc's text
  return signal_container(c, sig, o.all);
}

Result<void> remove(const GlobalOptions& g, const DeleteOptions& o) {
  auto store = store_for(g);
  TRY(spec::check_container_id(o.id));
  auto lock = store.lock(o.id);
  if (!lock) {
    // `delete --force` of an unknown container is not an error (the shims call it twice).
    if (o.force && lock.error().code() == Errc::not_found) return {};
    return std::move(lock).error();
  }
  StepClock clock("delete");
  clock.mark("locked");
  auto c = load(store, o.id, true);
  // A record that could not be read (EACCES, ENOMEM, EIO...) is kept: it is all that names
  // the container's processes and cgroups, and a second `delete --force` may read it.
  if (!c && c.error().sys_errno() != 0 && c.error().sys_errno() != ENOENT && c.error().sys_errno() != ENOTDIR)
    return std::move(c).error();
  if (o.force && (!c || is_bare(c->st))) {
    // state.json garbled or gone: what the recovery record names (the init, its cgroups)
    // is removed as after a create that did not finish; without one, the directory only.
    if (auto r = load_recovered(store, o.id)) {
      if (!c) log::warning("{}; removing what {} names", c.error().describe(), store.dir(o.id) + "/recovery.json");
      c = std::move(r);
    } else if (!c) {
      log::warning("{}", c.error().describe());
      return store.remove(o.id);
    }
  }
  if (!c) return std::move(c).error();
  if (c->status != state::Status::stopped) {
    if (!o.force)
      return Error::make(Errc::bad_state, fmt::format("cannot delete container {} that is not stopped: {}", o.id,
                                                      state::to_string(c->status)));  // runc's text
    (void)signal_container(*c, SIGKILL, true);
    if (c->status == state::Status::paused) (void)c->cgroup->freeze(false);
    wait_dead(c->st);
    clock.mark("killed");
  }
  return destroy(store, *c);
}

}  // namespace husk::runtime
