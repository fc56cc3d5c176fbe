// Cgroup hierarchy detection: from /proc/self/mountinfo plus statfs, never by listing
// /sys/fs/cgroup (engines leave plain directories there). Handles v1, v2 and hybrid.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "husk/core/error.hpp"

namespace husk::os::cgroups {

struct Hierarchy {
  std::string name;                      // "memory", "cpu,cpuacct", "name=systemd", "unified"
  std::string mountpoint;                // /sys/fs/cgroup/memory
  std::string root;                      // mountinfo field 4: the mount's root in the hierarchy
  std::vector<std::string> controllers;  // ["cpu","cpuacct"]; v2: from cgroup.controllers
  bool v2 = false;
};

struct Layout {
  enum class Mode { v1, v2, hybrid, none } mode = Mode::none;
  std::vector<Hierarchy> hierarchies;
  const Hierarchy* find(std::string_view controller) const;
  const Hierarchy* unified() const;
};

// Pure: parses mountinfo text. `verify` (optional) confirms each mountpoint by statfs.
Layout parse_layout(std::string_view mountinfo);
Result<Layout> detect_layout();
std::string_view to_string(Layout::Mode m);

// /proc/self/cgroup: hierarchy key ("memory", "" for v2) -> path.
std::map<std::string, std::string> parse_proc_cgroup(std::string_view text);

}  // namespace husk::os::cgroups
