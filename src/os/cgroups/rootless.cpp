#include "husk/os/cgroups/rootless.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include "husk/core/fd.hpp"
#include "husk/core/log.hpp"
#include "husk/core/path.hpp"
#include "husk/os/cgroups/driver.hpp"
#include "husk/os/cgroups/writes.hpp"

namespace husk::os::cgroups {

namespace {

// The first value of `r` that needs hierarchy `h` (a v1 name, or "" for cgroup2), or "".
std::string limit_needing(const Hierarchy& h, const spec::Resources& r, bool pure_v2) {
  if (!h.v2) {
    if (state::hierarchy_has(h.name, "devices")) return "";
    auto w = v1_writes(h.name, r);
    return w.empty() ? "" : w.front().first;
  }
  if (pure_v2) {
    auto w = v2_writes(r);
    return w.empty() ? "" : w.front().first;
  }
  auto c = v2_controllers_needed(r, false);
  return c.empty() ? "" : c.front();
}

}  // namespace

Result<Layout> rootless_layout(const Layout& full, const state::CgroupPaths& dirs, const spec::Resources* r,
                               bool explicit_path, const UsableProbe& usable) {
  Layout out;
  out.mode = full.mode;
  bool pure_v2 = full.mode == Layout::Mode::v2;
  for (auto& h : full.hierarchies) {
    std::string dir = h.v2 ? dirs.v2 : dirs.v1_dir(h.name);
    // A v1 devices cgroup holds only rules an unprivileged writer may not set.
    bool devices = !h.v2 && state::hierarchy_has(h.name, "devices");
    if (dir.empty() || (!devices && usable(dir))) {
      out.hierarchies.push_back(h);
      continue;
    }
    std::string what = h.v2 ? std::string("cgroup2") : h.name;
    if (explicit_path && !devices)
      return Error::make(Errc::invalid_spec,
                         fmt::format("linux.cgroupsPath: rootless: {} is not delegated to uid {} (no permission to "
                                     "create or join it); leave cgroupsPath out to run without this cgroup",
                                     dir, ::geteuid()));
    if (r) {
      if (std::string f = limit_needing(h, *r, pure_v2); !f.empty())
        return Error::make(Errc::invalid_spec,
                           fmt::format("linux.resources: cannot set {} limit ({}): rootless container could not "
                                       "join or create cgroup {} (not delegated to uid {})",
                                       what, f, dir, ::geteuid()));
    }
    log::debug("rootless: no {} cgroup ({} is not writable)", what, dir);
  }
  if (out.hierarchies.empty()) out.mode = Layout::Mode::none;
  return out;
}

bool usable_by_caller(const std::string& dir) {
  std::string d = dir;
  if (::access(d.c_str(), F_OK) == 0)
    return ::access(d.c_str(), W_OK) == 0 && ::access((d + "/cgroup.procs").c_str(), W_OK) == 0;
  while (d != "/" && !d.empty()) {
    d = path::dirname(d);
    if (::access(d.c_str(), F_OK) == 0) return ::access(d.c_str(), W_OK) == 0;
  }
  return false;
}

Result<Layout> rootless_layout(const Layout& full, const std::string& cgroups_path, const std::string& id,
                               const spec::Resources* r) {
  std::map<std::string, std::string> own;
  if (auto t = read_file("/proc/self/cgroup")) own = parse_proc_cgroup(*t);
  auto dirs = resolve_paths(full, cgroups_path.empty() ? id : cgroups_path, own);
  return rootless_layout(full, dirs, r, !cgroups_path.empty(), usable_by_caller);
}

}  // namespace husk::os::cgroups
