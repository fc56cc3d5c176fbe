// Scheduling of the container process: policy (sched_setattr), I/O priority, CPU affinity.
#pragma once
#include <string_view>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/spec/plan.hpp"

namespace husk::os::sched {
// process.scheduler and process.ioPriority.
Result<void> apply(const spec::ProcessPlan& pp);
// sched_setaffinity to `cpus` (nothing when empty); `what` names the field in errors.
Result<void> set_cpu_affinity(const std::vector<unsigned>& cpus, std::string_view what);
}  // namespace husk::os::sched
