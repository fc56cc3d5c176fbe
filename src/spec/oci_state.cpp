#include "husk/spec/oci_state.hpp"

#include "husk/spec/json_input.hpp"

namespace husk::spec {

std::string oci_state_json(const OciState& s) {
  nlohmann::ordered_json j;
  j["ociVersion"] = s.oci_version;
  j["id"] = s.id;
  j["status"] = s.status;
  j["pid"] = s.pid;
  j["bundle"] = s.bundle;
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  return dump_json(j);
}

}  // namespace husk::spec
