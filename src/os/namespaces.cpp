#include "husk/os/namespaces.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "husk/os/idmap_writer.hpp"
#include "husk/spec/validate.hpp"

namespace husk::os::ns {

Result<std::vector<OpenedNs>> prepare_joins(const spec::NsPlan& plan) {
  std::vector<OpenedNs> out;
  for (auto& j : plan.joins) {
    UniqueFd fd(::open(j.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return Error::sys(fmt::format("open {} namespace {}", spec::namespace_proc_name(j.flag), j.path));
    int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
    if (type < 0) return Error::make(Errc::invalid_spec, fmt::format("namespace path {} is not a namespace", j.path));
    if (type != j.flag)
      return Error::make(Errc::invalid_spec, fmt::format("namespace path {} is not a {} namespace", j.path,
                                                         spec::namespace_proc_name(j.flag)));
    out.push_back(OpenedNs{j.flag, std::move(fd), j.path});
  }
  return out;
}

Result<void> apply_joins(const std::vector<OpenedNs>& joins) {
  for (auto& j : joins)
    if (::setns(j.fd.get(), j.flag) < 0)
      return Error::sys(fmt::format("join {} namespace {}", spec::namespace_proc_name(j.flag), j.path));
  return {};
}

Result<void> write_id_maps_from_parent(pid_t pid, const std::string& uid_map, const std::string& gid_map) {
  // An unprivileged caller maps its own id directly (setgroups "deny" first) and anything
  // more through newuidmap/newgidmap. Root writes the files (here: the hot-code layout,
  // scripts/layout/husk.order, knows this path).
  if (::geteuid() != 0) return idmap::write_maps(pid, uid_map, gid_map);
  if (!uid_map.empty()) TRY(write_file(fmt::format("/proc/{}/uid_map", pid), uid_map).context("write uid_map"));
  if (!gid_map.empty()) TRY(write_file(fmt::format("/proc/{}/gid_map", pid), gid_map).context("write gid_map"));
  return {};
}

}  // namespace husk::os::ns
