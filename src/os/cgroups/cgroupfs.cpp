// The cgroupfs driver: husk writes the cgroup files itself, on v1, pure v2 or a hybrid
// host (fs_v1.cpp and fs_v2.cpp for each version), and owns the placement policy: which
// fast path puts a new process in its cgroups (driver.hpp).
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>

#include "fs.hpp"
#include "husk/core/path.hpp"
#include "husk/os/cgroups/driver.hpp"
#include "husk/os/cgroups/writes.hpp"

namespace husk::os::cgroups {

Paths resolve_paths(const Layout& l, const std::string& cgroups_path, const std::map<std::string, std::string>& own) {
  Paths out;
  for (auto& h : l.hierarchies) {
    std::string p;
    if (!cgroups_path.empty() && cgroups_path[0] == '/') {
      p = cgroups_path;
    } else {
      auto it = own.find(h.name);
      std::string base = it != own.end() ? it->second : "/";
      p = path::join(base, cgroups_path);
    }
    // The hierarchy may be mounted at a sub-root (cgroup namespaces, containers).
    if (h.root != "/" && path::is_within(h.root, p)) p = p.substr(h.root.size());
    std::string dir = path::clean(path::join(h.mountpoint, p));
    if (h.v2)
      out.v2 = dir;
    else
      out.v1[h.name] = dir;
  }
  return out;
}

namespace {

class Cgroupfs final : public Driver {
 public:
  Cgroupfs(Paths paths, std::string v2_mountpoint) : paths_(std::move(paths)), v2_mount_(std::move(v2_mountpoint)) {}
  std::string_view name() const override { return kCgroupfs; }
  const Paths& paths() const override { return paths_; }

  Result<InitPlacement> plan_init(bool through_stage1, size_t max_fds) override {
    InitPlacement p;
    p.self_join = paths_.v1_dirs();
    if (through_stage1) {
      // The parent sends the `tasks` fds with one message; too many: it joins by pid.
      if (p.self_join.size() > max_fds) p.self_join.clear();
      p.parent_opens_tasks = !p.self_join.empty();
      return p;
    }
    // Straight into the v2 cgroup (hybrid or pure v2); the init joins the v1 ones itself.
    if (!paths_.v2.empty()) {
      TRY(make_v2());
      TRY_ASSIGN(p.clone_into, v2::open_dir(paths_.v2, O_RDONLY));
    }
    return p;
  }

  Result<void> create(const spec::Resources* r) override {
    for (auto& [name, dir] : paths_.v1) {
      if (std::find(created_.begin(), created_.end(), dir) != created_.end()) continue;
      TRY_ASSIGN(bool made, v1::make(name, dir));
      if (made) created_.push_back(dir);
    }
    TRY(make_v2());
    if (!paths_.v2.empty() && (r || paths_.pure_v2()))
      TRY(v2::enable_controllers(v2_mount_, paths_.v2,
                                 v2_controllers_needed(r ? *r : spec::Resources{}, paths_.pure_v2())));
    return {};
  }

  Result<std::vector<UniqueFd>> place_init(pid_t pid, const InitPlacement& p, bool cloned_into) override {
    std::string s = std::to_string(pid);
    if (!cloned_into && !paths_.v2.empty()) TRY(write_file(paths_.v2 + "/cgroup.procs", s).context("join cgroup"));
    if (p.parent_opens_tasks) return v1::open_tasks(p.self_join);
    if (p.self_join.empty())
      for (auto& [name, dir] : paths_.v1) TRY(write_file(dir + "/cgroup.procs", s).context("join cgroup"));
    return std::vector<UniqueFd>{};
  }

  Result<ProcessPlacement> place_process(const std::vector<std::string>& args) const override;

  Result<void> set(const spec::Resources& r, bool creating) const override {
    // A value with no controller to hold it cannot be applied: an error, not a silent
    // drop (runtime-spec create: "If the runtime cannot apply a property as specified in
    // the configuration, it MUST generate an error"). cgroup v2 has neither of these.
    if (r.network) {
      if (r.network->class_id && paths_.v1_dir("net_cls").empty())
        return Error::make(Errc::unsupported,
                           "linux.resources.network.classID: this host has no net_cls cgroup controller");
      if (!r.network->priorities.empty() && paths_.v1_dir("net_prio").empty())
        return Error::make(Errc::unsupported,
                           "linux.resources.network.priorities: this host has no net_prio cgroup controller");
    }
    for (auto& [name, dir] : paths_.v1) TRY(v1::set(name, dir, r));
    if (!paths_.v2.empty()) TRY(v2::set(paths_.v2, r, paths_.pure_v2(), creating));
    return {};
  }

  Result<void> freeze(bool f) const override {
    if (auto d = paths_.v1_dir("freezer"); !d.empty()) return v1::freeze(d, f);
    if (!paths_.v2.empty()) return v2::freeze(paths_.v2, f);
    return Error::make(Errc::unsupported, "no freezer cgroup available");
  }

  bool frozen() const override {
    if (auto d = paths_.v1_dir("freezer"); !d.empty()) return v1::frozen(d);
    return paths_.pure_v2() && v2::frozen(paths_.v2);
  }

  Result<std::vector<pid_t>> pids() const override {
    std::string d;
    for (auto c : {"pids", "devices", "freezer", "memory", "cpu"})
      if (d = paths_.v1_dir(c); !d.empty()) break;
    if (d.empty()) d = paths_.v1.empty() ? paths_.v2 : paths_.v1.begin()->second;
    if (d.empty()) return std::vector<pid_t>{};
    return subtree_pids(d);
  }

  Stats stats() const override { return read_stats(paths_); }
  uint64_t oom_kills() const override { return cgroups::oom_kills(paths_); }
  Result<OomWatch> watch_oom() const override { return cgroups::watch_oom(paths_); }
  bool created_any() const override { return !created_.empty(); }

  Result<void> destroy() const override {
    for (auto& dir : paths_.all()) TRY(remove_subtree(dir));
    return {};
  }

 private:
  Result<void> make_v2() {
    if (paths_.v2.empty() || std::find(created_.begin(), created_.end(), paths_.v2) != created_.end()) return {};
    TRY_ASSIGN(bool made, make_dir(paths_.v2));
    if (made) created_.push_back(paths_.v2);
    return {};
  }

  Paths paths_;
  std::string v2_mount_;
  std::vector<std::string> created_;
};

// --cgroup [CONTROLLER[,CONTROLLER...]:]PATH -> the sub-path for each named hierarchy
// ("" for the v2 one); a bare PATH applies to every hierarchy. PATH is relative to the
// container's cgroup (`/`: the container's own) and may not leave it. The messages are
// runc's (libcontainer newSetnsProcess), which scripts may match on.
Result<std::map<std::string, std::string>> sub_cgroups(const std::vector<std::string>& args, const Paths& paths) {
  std::map<std::string, std::string> out;
  for (auto& a : args) {
    auto colon = a.find(':');
    std::string sub = colon == std::string::npos ? a : a.substr(colon + 1);
    std::vector<std::string> names;
    if (colon == std::string::npos || colon == 0) {  // ":PATH" too, as runc
      for (auto& [h, d] : paths.v1) names.push_back(h);
      if (!paths.v2.empty()) names.push_back("");
    } else {
      std::string list = a.substr(0, colon);
      size_t i = 0;
      while (i <= list.size()) {
        size_t j = std::min(list.find(',', i), list.size());
        std::string ctrl = list.substr(i, j - i);
        std::string dir = paths.v1_dir(ctrl);
        if (dir.empty() && ctrl == "unified") dir = paths.v2;  // the name the state file gives it
        if (dir.empty())
          return Error::make(
              Errc::invalid_argument,
              fmt::format("unable to create new parent process: unknown controller {} in SubCgroupPaths", ctrl));
        for (auto& [h, d] : paths.v1)
          if (d == dir) names.push_back(h);
        if (dir == paths.v2) names.push_back("");
        i = j + 1;
      }
    }
    for (auto& h : names) out[h] = sub;
  }
  return out;
}

Result<ProcessPlacement> Cgroupfs::place_process(const std::vector<std::string>& args) const {
  Paths dirs = paths_;
  TRY_ASSIGN(auto subs, sub_cgroups(args, dirs));
  for (auto& [h, sub] : subs) {
    std::string& slot = h.empty() ? dirs.v2 : dirs.v1[h];
    std::string d = path::clean(path::join(slot, sub));
    if (!path::is_within(slot, d))
      return Error::make(Errc::invalid_argument,
                         fmt::format("unable to create new parent process: {} is not a sub cgroup path", sub));
    struct stat st;
    if (::stat(d.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
      return Error::make(Errc::not_found, fmt::format("unable to start container process: error adding pid to cgroups: "
                                                      "open {}/cgroup.procs: no such file or directory",
                                                      d));
    slot = d;
  }
  ProcessPlacement p;
  p.self_join = dirs.v1_dirs();
  p.v2_dir = dirs.v2;
  if (!dirs.v2.empty()) {
    TRY_ASSIGN(p.clone_into, v2::open_dir(dirs.v2, O_PATH));
  }
  return p;
}

}  // namespace

std::unique_ptr<Driver> cgroupfs_driver(Paths paths, std::string v2_mountpoint) {
  return std::unique_ptr<Driver>(new Cgroupfs(std::move(paths), std::move(v2_mountpoint)));
}

}  // namespace husk::os::cgroups
