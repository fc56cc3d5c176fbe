// Everything the systemd driver decides before it talks to systemd, pure (unit-tested): the
// unit, its cgroup and directories, and the properties StartTransientUnit gets.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

#include "husk/core/error.hpp"
#include "husk/os/cgroups/detect.hpp"
#include "husk/os/systemd/path.hpp"
#include "husk/os/systemd/props.hpp"
#include "husk/spec/model.hpp"

namespace husk::os::systemd {

struct UnitPlan {
  UnitPath unit;
  std::string cgroup;                       // below the hierarchy root: "/system.slice/x.scope"
  std::map<std::string, std::string> dirs;  // hierarchy -> directory (unit_dirs)
  Properties props;                         // without PIDs (start_properties adds it)
};

struct UnitInputs {
  std::string cgroups_path;  // linux.cgroupsPath ("" = default)
  std::string id;
  bool rootless = false;
  std::string manager_cgroup;  // rootless: the user manager's ControlGroup
  const spec::Resources* resources = nullptr;
  const std::map<std::string, std::string>* annotations = nullptr;
};

// The base properties, then the resources', then the annotations' (last: they override,
// as systemd applies properties in order). Errors name cgroupsPath, the resource or the
// annotation. Rootless on a v1/hybrid layout is refused, as runc does.
Result<UnitPlan> plan_unit(const UnitInputs& in, const cgroups::Layout& layout,
                           const std::map<std::string, std::string>& pid1_cgroup, const Host& host);

// The plan's properties with PIDs=[pid] (after Delegate, where runc puts it).
Properties start_properties(const UnitPlan& p, pid_t pid);

}  // namespace husk::os::systemd
