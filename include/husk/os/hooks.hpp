// OCI hooks: fork+exec with the state JSON on stdin, `args`, `env`, `timeout`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/spec/model.hpp"

namespace husk::os::hooks {

Result<void> run_hook(const spec::Hook& h, std::string_view state_json);
// As above, the hook starting in `cwd` (unchanged when empty). A hook without `env` inherits
// the runtime's environment (runc). run_hooks starts prestart, createRuntime, poststart and
// poststop hooks in the state's bundle directory, as runc does.
Result<void> run_hook(const spec::Hook& h, std::string_view state_json, const std::string& cwd);
// Runs every hook in order; stops at the first failure, naming the hook list and index.
Result<void> run_hooks(std::string_view kind, const std::vector<spec::Hook>& hs, std::string_view state_json);
// poststop: every hook runs; a failure is logged as a warning (runtime-spec lifecycle 13).
void run_hooks_warn(std::string_view kind, const std::vector<spec::Hook>& hs, std::string_view state_json);

}  // namespace husk::os::hooks
