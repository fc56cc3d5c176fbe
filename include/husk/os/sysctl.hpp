#pragma once
#include <string>
#include <utility>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/os/procfs.hpp"

namespace husk::os::sysctl {
// After pivot_root: writes /proc/sys/<key> of the container's namespaces.
// Each key written through the verified procfs handle (os/procfs.hpp).
Result<void> apply(const procfs::Handle& proc, const std::vector<std::pair<std::string, std::string>>& kv);
}  // namespace husk::os::sysctl
