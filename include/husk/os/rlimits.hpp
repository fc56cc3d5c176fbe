#pragma once
#include <sys/types.h>

#include <vector>

#include "husk/core/error.hpp"
#include "husk/spec/plan.hpp"

namespace husk::os::rlimits {
// From P with prlimit(2): inside a user namespace C could no longer raise them.
Result<void> apply_from_parent(pid_t pid, const std::vector<spec::RlimitOp>& limits);
}  // namespace husk::os::rlimits
