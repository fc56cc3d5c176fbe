#pragma once
#include <string>
#include <utility>
#include <vector>

#include "husk/core/error.hpp"

namespace husk::os::sysctl {
// After pivot_root: writes /proc/sys/<key> of the container's namespaces.
Result<void> apply(const std::vector<std::pair<std::string, std::string>>& kv);
Result<void> apply_oom_score_adj(int v);
}  // namespace husk::os::sysctl
