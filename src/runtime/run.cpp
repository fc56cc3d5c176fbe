// `husk run`: create + start in one process. In the foreground P is the container init's
// parent (CLONE_PARENT) and a subreaper: it forwards signals, proxies a terminal if it
// allocated one, reaps, and deletes the container unless --keep.
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "husk/core/log.hpp"
#include "husk/os/console.hpp"
#include "husk/runtime/runtime.hpp"
#include "lifecycle.hpp"

namespace husk::runtime {
Result<int> run(const GlobalOptions& g, const RunOptions& o) {
  sigset_t old;
  if (!o.detach) {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    // Blocked before the clone so no signal is lost; C resets its mask before exec.
    sigset_t set = forwarded_signals();
    ::sigprocmask(SIG_BLOCK, &set, &old);
  }
  CreateOptions co = o;
  co.starts = true;
  auto created = create_container(g, co, o.detach ? CreateMode::detached : CreateMode::foreground);
  if (!created) return std::move(created).error().context("run");
  if (!o.detach && created->console_master) clear_onlcr(created->console_master.get());
  auto store = store_for(g);
  // We created it and know its state: start it without reading state.json back, under
  // the container's lock like any other command.
  Result<void> started = [&]() -> Result<void> {
    TRY_ASSIGN(auto lock, store.lock(o.id));
    return start_created(store, created->state);
  }();
  if (!started) {
    (void)remove(g, DeleteOptions{o.id, true});
    return std::move(started).error().context("run");
  }
  if (o.detach) return 0;
  int code = wait_foreground(created->pid, created->console_master ? created->console_master.get() : -1);
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  if (!o.keep) {
    // The init is reaped: the container is stopped; destroy it from what we know.
    Result<void> r = [&]() -> Result<void> {
      TRY_ASSIGN(auto lock, store.lock(o.id));
      TRY_ASSIGN(auto cg, os::cgroups::open_driver(created->state.cgroup_driver, created->state.cgroup_paths));
      Loaded c{created->state, state::Status::stopped, std::move(cg)};
      return destroy(store, c);
    }();
    if (!r) log::warning("{}", r.error().describe());
  }
  return code;
}

}  // namespace husk::runtime
