// The OCI state (runtime-spec "State") and the signal-name table.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "husk/core/error.hpp"

namespace husk::spec {

// A container's state: the runtime-spec's State, and what runc's `state` adds.
struct OciState {
  std::string oci_version, id, status, bundle;
  int pid = 0;
  std::map<std::string, std::string> annotations;
  std::string rootfs, created, owner;  // command and record shapes
  uint64_t start_time = 0;             // record shape
};

// The one builder of the three state objects husk writes; each field is written the same
// way in all of them, in the order (and subset) of its shape:
enum class StateShape {
  hook,     // runtime-spec State, hooks' stdin: ociVersion id status pid bundle [annotations]
  command,  // runc's `state` and `list --format json`: ociVersion id pid status bundle rootfs
            // created owner [annotations]
  record,   // the head of husk's state.json (state/store.cpp adds its own fields after it):
            // id ociVersion pid startTime bundle[Hex] rootfs[Hex] created owner annotations
};
nlohmann::ordered_json state_object(const OciState& s, StateShape shape);
// The hook shape, serialised.
std::string oci_state_json(const OciState& s);

// "KILL", "SIGKILL", "kill", "9" -> 9
Result<int> parse_signal(std::string_view s);
std::string_view signal_name(int sig);

}  // namespace husk::spec
