// The systemd cgroup driver's naming, pure (unit-tested): cgroupsPath "slice:prefix:name" ->
// the transient unit and its parent slice, systemd's nested slice expansion, and the cgroup
// directories the unit gets on v2 and on each v1 hierarchy. Semantics of runc 1.1.5.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "husk/core/error.hpp"
#include "husk/os/cgroups/detect.hpp"

namespace husk::os::systemd {

struct UnitPath {
  std::string slice;  // the parent slice unit: "system.slice" (root) / "user.slice" (rootless)
  std::string unit;   // "prefix-name.scope", or the name itself when it ends in ".slice"
  std::string name;   // the name part (the Description says "husk container <name>")
  bool is_slice() const { return unit.ends_with(".slice"); }
};

// "slice:prefix:name"; "" -> default slice, prefix "husk", name = id. An empty slice part
// means the default slice too. Bad syntax: one line naming cgroupsPath.
Result<UnitPath> parse_cgroups_path(std::string_view cgroups_path, std::string_view id, bool rootless);

// systemd's slice hierarchy: "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice",
// "-.slice" -> "/". Rejects a missing ".slice", '/', leading/trailing/double dashes.
Result<std::string> expand_slice(std::string_view slice);

// Whether systemd accepts `unit` as a unit name (characters, length, a known suffix).
bool valid_unit_name(std::string_view unit);

// The unit's cgroup below a hierarchy's root: expand_slice(slice) + "/" + unit (a slice
// unit: expand_slice(unit), where systemd puts it). `manager_cgroup` prefixes it for a
// rootless user manager ("/user.slice/user-1000.slice/user@1000.service").
Result<std::string> unit_cgroup(const UnitPath& u, std::string_view manager_cgroup = "");

// The directories of the unit on every hierarchy of `l`, keyed like
// cgroups::resolve_paths ("memory", "cpu,cpuacct", "name=systemd", "unified"): mountpoint +
// the cgroup of PID 1 in that hierarchy without a trailing "init.scope" (systemd in a
// container) + unit_cgroup. `pid1_cgroup` is /proc/1/cgroup parsed by
// cgroups::parse_proc_cgroup. On pure v2 the map has the one "unified" entry.
std::map<std::string, std::string> unit_dirs(const cgroups::Layout& l, const std::string& unit_cgroup,
                                             const std::map<std::string, std::string>& pid1_cgroup);

// The deepest directory holding both absolute paths ("/a/b/c", "/a/d" -> "/a"): where the
// kernel checks a cgroup migration's permission (write access to its cgroup.procs).
std::string common_ancestor(std::string_view a, std::string_view b);

}  // namespace husk::os::systemd
