// The container process's executable, looked up inside the container (after pivot_root).
#pragma once
#include <string>
#include <vector>

#include "husk/core/error.hpp"

namespace husk::os::executable {
// Resolves arg0 as execvp would: a path with a slash relative to `cwd`, otherwise each
// directory of the PATH in `env` (or the default PATH).
Result<std::string> resolve(const std::string& arg0, const std::vector<std::string>& env, const std::string& cwd);
}  // namespace husk::os::executable
