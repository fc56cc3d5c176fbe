// cgroup v1 cpu.shares -> cgroup v2 cpu.weight, as current runc (opencontainers/cgroups
// ConvertCPUSharesToCgroupV2Value) and crun (convert_shares_to_weight) do it: a quadratic
// in log2(shares) through (2 -> 1), (1024 -> 100), (262144 -> 10000), so the default
// 1024 shares give the v2 default weight 100 (the old linear formula gave 39).
#pragma once

#include <cstdint>

namespace husk::os::cgroups {

// 0 means "unset" and stays 0; <= 2 -> 1; >= 262144 -> 10000.
uint64_t cpu_shares_to_weight(uint64_t shares);

}  // namespace husk::os::cgroups
