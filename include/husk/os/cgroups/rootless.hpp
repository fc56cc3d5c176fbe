// Rootless cgroups for the cgroupfs driver: which of the container's cgroup directories an
// unprivileged caller may use, decided before the driver is made (runc 1.1.5's rules).
//  - A hierarchy whose directory the caller cannot create or join (not delegated: the
//    directory, or its nearest existing ancestor, is not writable) is dropped. On a v1 or
//    hybrid host that is every v1 hierarchy; on v2 the target unless it was delegated.
//  - Dropped, but the config asks for a limit it holds: an error naming it (runc: "cannot
//    set <subsystem> limit: container could not join or create cgroup"). Device rules are
//    not limits here (runc ignores the devices controller when rootless).
//  - Dropped, and cgroupsPath was given explicitly: an error (runc fails the mkdir).
//  - A v1 devices hierarchy is always dropped: it holds only rules an unprivileged writer
//    may not set (runc ignores its errors when rootless); on v2 the caller (create) skips
//    the device program.
#pragma once

#include <functional>
#include <string>

#include "husk/core/error.hpp"
#include "husk/os/cgroups/detect.hpp"
#include "husk/spec/model.hpp"
#include "husk/state/cgroup_paths.hpp"

namespace husk::os::cgroups {

// Whether the caller may create (or join) `dir`.
using UsableProbe = std::function<bool(const std::string& dir)>;

// Pure given `usable`: `full` without the hierarchies the caller may not use; `dirs` are
// the container's directories resolved on `full` (resolve_paths).
Result<Layout> rootless_layout(const Layout& full, const state::CgroupPaths& dirs, const spec::Resources* r,
                               bool explicit_path, const UsableProbe& usable);
// The probe on this host: `dir` exists and the caller may write it and its cgroup.procs,
// or its nearest existing ancestor is writable.
bool usable_by_caller(const std::string& dir);
// The layout the cgroupfs driver gets when rootless (cgroupsPath: the config's, or "").
Result<Layout> rootless_layout(const Layout& full, const std::string& cgroups_path, const std::string& id,
                               const spec::Resources* r);

}  // namespace husk::os::cgroups
