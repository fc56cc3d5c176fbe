#include "husk/os/sched.hpp"

#include <fmt/format.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

namespace husk::os::sched {

namespace {
// include/uapi/linux/sched/types.h (glibc 2.36 has no wrapper).
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
};
}  // namespace

Result<void> apply(const spec::ProcessPlan& pp) {
  if (pp.scheduler) {
    const auto& s = *pp.scheduler;
    SchedAttr a{};
    a.size = sizeof a;
    a.sched_policy = static_cast<uint32_t>(s.policy);
    a.sched_flags = s.flags;
    a.sched_nice = s.nice;
    a.sched_priority = static_cast<uint32_t>(s.priority);
    a.sched_runtime = s.runtime;
    a.sched_deadline = s.deadline;
    a.sched_period = s.period;
    if (::syscall(SYS_sched_setattr, 0, &a, 0) < 0) return Error::sys("sched_setattr (process.scheduler)");
  }
  if (pp.io_priority && ::syscall(SYS_ioprio_set, 1 /*IOPRIO_WHO_PROCESS*/, 0, *pp.io_priority) < 0)
    return Error::sys("ioprio_set (process.ioPriority)");
  return {};
}

Result<void> set_cpu_affinity(const std::vector<unsigned>& cpus, std::string_view what) {
  if (cpus.empty()) return {};
  unsigned max = *std::max_element(cpus.begin(), cpus.end());
  size_t n = std::max<size_t>(CPU_ALLOC_SIZE(max + 1), sizeof(cpu_set_t));
  std::vector<unsigned char> buf(n);
  auto* set = reinterpret_cast<cpu_set_t*>(buf.data());
  for (unsigned c : cpus) CPU_SET_S(c, n, set);
  if (::sched_setaffinity(0, n, set) < 0) return Error::sys(fmt::format("sched_setaffinity ({})", what));
  return {};
}

}  // namespace husk::os::sched
