// Cgroup statistics for `events` (runc's types.Stats fields), read from v1 or v2 files,
// and OOM notifications (v1 eventfd on memory.oom_control, v2 memory.events).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/core/fd.hpp"
#include "husk/state/cgroup_paths.hpp"

namespace husk::os::cgroups {

struct BlkioEntry {
  uint64_t major = 0, minor = 0;
  std::string op;
  uint64_t value = 0;
};

struct MemoryEntry {
  uint64_t usage = 0, max = 0, limit = 0, failcnt = 0;
};

struct Stats {
  uint64_t cpu_total = 0, cpu_kernel = 0, cpu_user = 0;  // ns
  std::vector<uint64_t> cpu_percpu;
  uint64_t throttled_periods = 0, periods = 0, throttled_time = 0;
  MemoryEntry memory, swap, kernel;
  uint64_t memory_cache = 0;
  std::map<std::string, uint64_t> memory_raw;
  uint64_t pids_current = 0, pids_limit = 0;
  std::vector<BlkioEntry> io_service_bytes, io_serviced;
  std::map<std::string, MemoryEntry> hugetlb;  // "2MB" -> usage/max/failcnt
};

// Read through Driver::stats (driver.hpp).
Stats read_stats(const state::CgroupPaths& dirs);

// An fd that becomes readable on each OOM kill in the container's memory cgroup, and
// the count of OOM kills so far (v2 memory.events oom_kill; v1 oom_control oom_kill).
struct OomWatch {
  UniqueFd fd;  // eventfd (v1) or inotify (v2)
  bool v2 = false;
  std::string events_file;  // v2 memory.events / v1 memory.oom_control
};
Result<OomWatch> watch_oom(const state::CgroupPaths& dirs);
uint64_t oom_kills(const state::CgroupPaths& dirs);

}  // namespace husk::os::cgroups
