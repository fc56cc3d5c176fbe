// OCI hooks: fork+exec with the state JSON on stdin, `args`, `env`, `timeout`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/spec/model.hpp"

namespace husk::os::hooks {

Result<void> run_hook(const spec::Hook& h, std::string_view state_json);
// As above, the hook starting in `cwd` (unchanged when empty); with `inherit_env` a hook
// without `env` inherits the runtime's environment. run_hooks does both for prestart,
// createRuntime, poststart and poststop (cwd: the state's bundle), as runc; the hooks run
// by the container's init (createContainer, startContainer) get an empty environment, as
// under runc's init.
Result<void> run_hook(const spec::Hook& h, std::string_view state_json, const std::string& cwd, bool inherit_env);
// Runs every hook in order; stops at the first failure, naming the hook list and index.
Result<void> run_hooks(std::string_view kind, const std::vector<spec::Hook>& hs, std::string_view state_json);
// poststop: every hook runs; a failure is logged as a warning (runtime-spec lifecycle 13).
void run_hooks_warn(std::string_view kind, const std::vector<spec::Hook>& hs, std::string_view state_json);

}  // namespace husk::os::hooks
