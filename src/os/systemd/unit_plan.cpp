// The systemd driver's decisions before any D-Bus call.
#include "husk/os/systemd/unit_plan.hpp"

#include "husk/os/cgroups/devices_bpf.hpp"

namespace husk::os::systemd {

Result<UnitPlan> plan_unit(const UnitInputs& in, const cgroups::Layout& layout,
                           const std::map<std::string, std::string>& pid1_cgroup, const Host& host) {
  bool v2 = layout.mode == cgroups::Layout::Mode::v2;
  if (in.rootless && !v2)
    return Error::make(Errc::unsupported, "--systemd-cgroup: rootless containers need a pure cgroup v2 host");
  UnitPlan p;
  TRY_ASSIGN(p.unit, parse_cgroups_path(in.cgroups_path, in.id, in.rootless));
  TRY_ASSIGN(p.cgroup, unit_cgroup(p.unit, in.rootless ? in.manager_cgroup : ""));
  p.dirs = unit_dirs(layout, p.cgroup, pid1_cgroup);
  p.props = unit_properties(p.unit, 0, v2);
  Host h = host;
  h.v2 = v2;
  if (!in.resources || in.resources->devices.empty()) {
    // No rules in the config: the default allow list alone, which husk applies too.
    TRY_ASSIGN(auto dp, device_properties(cgroups::v2_device_rules({}), h));
    p.props.insert(p.props.end(), dp.begin(), dp.end());
  }
  if (in.resources) {
    TRY_ASSIGN(auto rp, resource_properties(*in.resources, h));
    p.props.insert(p.props.end(), rp.begin(), rp.end());
  }
  if (in.annotations) {
    TRY_ASSIGN(auto ap, annotation_properties(*in.annotations));
    p.props.insert(p.props.end(), ap.begin(), ap.end());
  }
  return p;
}

Properties start_properties(const UnitPlan& p, pid_t pid) {
  Properties out;
  out.reserve(p.props.size() + 1);
  bool added = false;
  for (auto& prop : p.props) {
    out.push_back(prop);
    if (!added && (prop.name == "Delegate" || prop.name == "Wants")) {
      out.push_back({"PIDs", std::vector<uint32_t>{static_cast<uint32_t>(pid)}});
      added = true;
    }
  }
  if (!added) out.push_back({"PIDs", std::vector<uint32_t>{static_cast<uint32_t>(pid)}});
  return out;
}

}  // namespace husk::os::systemd
