// Capabilities in the container process: bounding, then (after the uid change, with
// keep-caps) permitted/effective/inheritable, then ambient.
#pragma once

#include <cstdint>

#include "husk/core/error.hpp"
#include "husk/spec/plan.hpp"

namespace husk::os::caps {

int last_cap();
// Refuses sets naming capabilities the bounding set of this process lacks (this VM has no
// CAP_SYS_RESOURCE), with the capability's name, instead of a bare EPERM.
Result<void> check_available(const spec::CapSets& c);
Result<void> apply_bounding(uint64_t keep);
Result<void> apply_sets(const spec::CapSets& c);
Result<void> apply_ambient(uint64_t ambient);

}  // namespace husk::os::caps
