// Internal pieces shared by create/start/run/kill/delete.
#pragma once

#include <sys/types.h>

#include <string>

#include "husk/core/fd.hpp"
#include "husk/os/cgroups/manager.hpp"
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
  os::cgroups::Manager cgroup;
};
Result<Loaded> load(const state::StateStore& store, const std::string& id);
// start of a container known to be `created` (lock held by the caller).
Result<void> start_created(const state::StateStore& store, const state::State& st);
// poststop hooks, cgroup removal, state dir removal (init must be dead).
Result<void> destroy(const state::StateStore& store, const Loaded& c);
// Signals init, or every process of the cgroup when `all`.
Result<void> signal_container(const Loaded& c, int sig, bool all);
std::string hook_state(const state::State& st, std::string_view status, int pid);
state::StateStore store_for(const GlobalOptions& g);

}  // namespace husk::runtime
