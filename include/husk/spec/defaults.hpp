// Defaults shared by validation, planning and `husk spec`: capability names, default
// devices, /dev symlinks, rlimit names, the default config.json.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "husk/core/error.hpp"

namespace husk::spec {

// "CAP_SYS_ADMIN" -> 21. Accepts the names of every capability up to CAP_CHECKPOINT_RESTORE.
std::optional<int> capability_number(std::string_view name);
std::string_view capability_name(int n);
inline constexpr int kCapMaxKnown = 40;

// "RLIMIT_NOFILE" -> 7
std::optional<int> rlimit_number(std::string_view name);
// 7 -> "RLIMIT_NOFILE"; "" when unknown.
std::string_view rlimit_name(int n);

// process.scheduler names -> SCHED_* policy numbers and SCHED_FLAG_* bits.
std::optional<int> scheduler_policy(std::string_view name);
std::optional<uint64_t> scheduler_flag(std::string_view name);
// "IOPRIO_CLASS_RT" -> 1 (RT), 2 (BE), 3 (IDLE).
std::optional<int> io_priority_class(std::string_view name);
// "0-3,7" -> {0,1,2,3,7}; "" -> {}. Errors say what is wrong.
Result<std::vector<unsigned>> cpu_list(std::string_view s);

struct DefaultDevice {
  const char* path;
  unsigned major, minor;
};
// /dev/null, zero, full, random, urandom, tty: created in every container with /dev.
const std::vector<DefaultDevice>& default_devices();

// The config.json `husk spec` writes (runc's layout); rootless adds a user namespace.
// runc's default spec; `cgroup_ns`: add a cgroup namespace (runc does on a pure v2 host only).
nlohmann::ordered_json default_config(bool rootless, bool cgroup_ns = false);

// The OCI version this build implements.
inline constexpr const char* kOciVersion = "1.3.0";

}  // namespace husk::spec
