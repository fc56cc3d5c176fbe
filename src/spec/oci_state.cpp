#include "husk/spec/oci_state.hpp"

#include "husk/spec/json_input.hpp"

namespace husk::spec {

nlohmann::ordered_json state_object(const OciState& s, StateShape shape) {
  const bool hook = shape == StateShape::hook, command = shape == StateShape::command,
             record = shape == StateShape::record;
  // The state file keeps a path that is not UTF-8 exactly, in "<key>Hex" (json_input.hpp).
  auto path = [&](nlohmann::ordered_json& j, const char* key, const std::string& v) {
    if (record)
      put_bytes(j, key, v);
    else
      j[key] = v;
  };
  nlohmann::ordered_json j;
  if (record) j["id"] = s.id;
  j["ociVersion"] = s.oci_version;
  if (!record) j["id"] = s.id;
  if (hook) j["status"] = s.status;
  j["pid"] = s.pid;
  if (command) j["status"] = s.status;
  if (record) j["startTime"] = s.start_time;
  path(j, "bundle", s.bundle);
  if (!hook) {
    path(j, "rootfs", s.rootfs);
    j["created"] = s.created;
    j["owner"] = s.owner;
  }
  if (record || !s.annotations.empty()) j["annotations"] = s.annotations;
  return j;
}

std::string oci_state_json(const OciState& s) { return dump_json(state_object(s, StateShape::hook)); }

}  // namespace husk::spec
