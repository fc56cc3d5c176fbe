// The OCI state (runtime-spec "State") and the signal-name table.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "husk/core/error.hpp"

namespace husk::spec {

struct OciState {
  std::string oci_version, id, status, bundle;
  int pid = 0;
  std::map<std::string, std::string> annotations;
};
// {"ociVersion","id","status","pid","bundle","annotations"} as hooks receive it.
std::string oci_state_json(const OciState& s);

// "KILL", "SIGKILL", "kill", "9" -> 9
Result<int> parse_signal(std::string_view s);
std::string_view signal_name(int sig);

}  // namespace husk::spec
