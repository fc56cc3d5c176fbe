// Which cgroup driver a container gets: cgroupfs, or systemd with --systemd-cgroup; the
// state's cgroupDriver reopens the same one for the other commands.
#include <fmt/format.h>

#include "husk/os/cgroups/driver.hpp"

namespace husk::os::cgroups {

Result<std::unique_ptr<Driver>> make_driver(const DriverRequest& rq, const Layout& layout) {
  if (rq.systemd) return make_systemd_driver(rq, layout);
  if (auto& p = rq.cgroups_path; p && p->find(':') != std::string::npos && (*p)[0] != '/')
    return Error::make(Errc::invalid_spec,
                       "config.json: /linux/cgroupsPath: \"slice:prefix:name\" paths need --systemd-cgroup");
  std::map<std::string, std::string> own;
  if (auto t = read_file("/proc/self/cgroup")) own = parse_proc_cgroup(*t);
  auto* u = layout.unified();
  return cgroupfs_driver(resolve_paths(layout, rq.cgroups_path.value_or(rq.id), own), u ? u->mountpoint : "");
}

Result<std::unique_ptr<Driver>> open_driver(std::string_view name, const Paths& paths) {
  if (name == kCgroupfs) return cgroupfs_driver(paths, "");
  if (name == kSystemd) return open_systemd_driver(paths);
  return Error::make(Errc::unsupported,
                     fmt::format("the container was made by the {:?} cgroup driver, which husk does not have", name));
}

}  // namespace husk::os::cgroups
