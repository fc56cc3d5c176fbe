// cgroupfs, the cgroup2 hierarchy: controllers, resource writes, cgroup.freeze.
#include <fcntl.h>
#include <fmt/format.h>

#include <algorithm>

#include "fs.hpp"
#include "husk/core/path.hpp"
#include "husk/os/cgroups/devices_bpf.hpp"
#include "husk/os/cgroups/writes.hpp"

namespace husk::os::cgroups::v2 {

Result<void> enable_controllers(const std::string& mountpoint, const std::string& dir,
                                const std::vector<std::string>& want) {
  if (want.empty() || !path::is_within(mountpoint, dir)) return {};
  auto avail = read_file(mountpoint + "/cgroup.controllers");
  if (!avail) return {};
  auto have = words(*avail);
  std::string add;
  for (auto& c : want)
    if (std::find(have.begin(), have.end(), c) != have.end() && add.find("+" + c + " ") == std::string::npos)
      add += "+" + c + " ";
  if (add.empty()) return {};
  std::string cur = mountpoint;
  auto comps = path::components(dir.substr(mountpoint.size()));
  for (size_t i = 0; i + 1 <= comps.size(); ++i) {
    auto enabled = read_file(cur + "/cgroup.subtree_control");
    std::string need;
    for (auto& w : words(add))
      if (!enabled || enabled->find(w.substr(1)) == std::string::npos) need += w + " ";
    if (!need.empty())
      TRY(write_file(cur + "/cgroup.subtree_control", need).context("cgroup: enable v2 controllers in " + cur));
    if (i < comps.size()) cur = path::join(cur, comps[i]);
    if (i + 1 == comps.size()) break;
  }
  return {};
}

Result<void> set(const std::string& dir, const spec::Resources& r, bool pure, bool creating) {
  auto all = v2_writes(r);
  if (!all.empty()) {
    std::vector<std::string> avail;
    if (!pure) {
      if (auto c = read_file(dir + "/cgroup.controllers")) avail = words(*c);
    }
    for (auto& [file, value] : all) {
      bool raw = r.unified.count(file) > 0;
      if (pure || raw || std::find(avail.begin(), avail.end(), controller_of(file)) != avail.end())
        TRY(write_one(dir, file, value));
    }
  }
  if (pure && (creating || !r.devices.empty()))
    TRY(apply_device_program(dir, v2_device_rules(r.devices)).context("cgroup v2 devices"));
  return {};
}

Result<void> freeze(const std::string& dir, bool f) { return write_file(dir + "/cgroup.freeze", f ? "1" : "0"); }

bool frozen(const std::string& dir) {
  auto v = read_file(dir + "/cgroup.freeze");
  return v && v->rfind("1", 0) == 0;
}

Result<UniqueFd> open_dir(const std::string& dir, int flags) {
  UniqueFd fd(::open(dir.c_str(), flags | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return Error::sys("open cgroup " + dir);
  return fd;
}

}  // namespace husk::os::cgroups::v2
