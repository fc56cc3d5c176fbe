// The container process's user, after pivot_root: groups, gid and uid from the plan and
// the container's own /etc/passwd and /etc/group (parsed by hand: no NSS in a child).
#pragma once
#include <string>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/spec/plan.hpp"

namespace husk::os::user {
// Supplementary groups (additionalGids + the user's groups in /etc/group), gid, uid.
Result<void> apply(const spec::ProcessPlan& pp);
// pp.env plus HOME from the container's /etc/passwd (or "/") when it has none.
std::vector<std::string> env_with_home(const spec::ProcessPlan& pp);
}  // namespace husk::os::user
