// Defaults shared by validation, planning and `husk spec`: capability names, default
// devices, /dev symlinks, rlimit names, the default config.json.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace husk::spec {

// "CAP_SYS_ADMIN" -> 21. Accepts the names of every capability up to CAP_CHECKPOINT_RESTORE.
std::optional<int> capability_number(std::string_view name);
std::string_view capability_name(int n);
inline constexpr int kCapMaxKnown = 40;

// "RLIMIT_NOFILE" -> 7
std::optional<int> rlimit_number(std::string_view name);

struct DefaultDevice {
  const char* path;
  unsigned major, minor;
};
// /dev/null, zero, full, random, urandom, tty: created in every container with /dev.
const std::vector<DefaultDevice>& default_devices();

// The config.json `husk spec` writes (runc's layout); rootless adds a user namespace.
nlohmann::ordered_json default_config(bool rootless);

// The OCI version this build implements.
inline constexpr const char* kOciVersion = "1.2.0";

}  // namespace husk::spec
