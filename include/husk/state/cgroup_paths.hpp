// The container's cgroup directories, typed: one per v1 hierarchy and the cgroup2 one.
// Pure data (the state file keeps it); the drivers in os/cgroups act on it.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace husk::state {

struct CgroupPaths {
  // v1 hierarchy name ("memory", "cpu,cpuacct", "name=systemd") -> absolute directory.
  std::map<std::string, std::string> v1;
  // The cgroup2 directory (pure v2, or the hybrid host's cgroup2 mount); "" if none.
  std::string v2;

  bool empty() const { return v1.empty() && v2.empty(); }
  bool pure_v2() const { return v1.empty() && !v2.empty(); }
  // The v1 directory of the hierarchy holding `controller` ("cpu" finds "cpu,cpuacct"),
  // or "".
  std::string v1_dir(std::string_view controller) const;
  std::vector<std::string> v1_dirs() const;
  // Every directory, v1 ones first.
  std::vector<std::string> all() const;

  // The state file's form: hierarchy name -> directory, cgroup2 under "unified" (the
  // name state files have always used, so older ones load unchanged).
  std::map<std::string, std::string> to_map() const;
  static CgroupPaths from_map(const std::map<std::string, std::string>& m);
};

// Whether `list` ("cpu,cpuacct") names `controller`.
bool hierarchy_has(std::string_view list, std::string_view controller);

}  // namespace husk::state
