#include "husk/os/cgroups/manager.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "husk/core/fd.hpp"
#include "husk/core/log.hpp"
#include "husk/core/path.hpp"

namespace husk::os::cgroups {

std::map<std::string, std::string> resolve_paths(const Layout& l, const std::string& cgroups_path,
                                                 const std::map<std::string, std::string>& own) {
  std::map<std::string, std::string> out;
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
    out[h.name] = path::clean(path::join(h.mountpoint, p));
  }
  return out;
}

std::string Manager::dir_of(std::string_view controller) const {
  for (auto& [name, dir] : dirs_) {
    if (name == controller) return dir;
    std::istringstream ss(name);
    std::string part;
    while (std::getline(ss, part, ','))
      if (part == controller) return dir;
  }
  return "";
}

static Result<void> copy_cpuset_down(const std::string& mountpoint, const std::string& leaf) {
  // New cpuset cgroups start empty and refuse tasks: fill cpus/mems from the parent.
  std::string cur = mountpoint;
  for (auto& c : path::components(leaf.substr(mountpoint.size()))) {
    std::string parent = cur;
    cur = path::join(cur, c);
    for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
      auto v = read_file(cur + "/" + f);
      if (v && v->find_first_not_of(" \n") == std::string::npos) {
        TRY_ASSIGN(auto pv, read_file(parent + "/" + f));
        TRY(write_file(cur + "/" + f, pv));
      }
    }
  }
  return {};
}

Result<void> Manager::precreate(const std::string& only) {
  for (auto& [name, dir] : dirs_) {
    if (!only.empty() && name != only) continue;
    if (std::find(created_.begin(), created_.end(), dir) != created_.end()) continue;
    // The leaf first (parents usually exist); mkdir -p only when they do not. Only the
    // leaf is ours to remove later: parents may be shared with other containers.
    if (::mkdir(dir.c_str(), 0755) < 0) {
      if (errno == EEXIST) continue;
      if (errno != ENOENT) return Error::sys(fmt::format("create cgroup {}", dir));
      std::string cur;
      for (auto& c : path::components(dir)) {
        cur += "/" + c;
        if (::mkdir(cur.c_str(), 0755) < 0 && errno != EEXIST)
          return Error::sys(fmt::format("create cgroup {}", cur));
      }
    }
    created_.push_back(dir);
    if (name == "cpuset" || name.find("cpuset") != std::string::npos) {
      auto mp = dir.substr(0, dir.find('/', std::string("/sys/fs/cgroup/").size()));
      TRY(copy_cpuset_down(mp, dir).context("cgroup cpuset"));
    }
  }
  return {};
}

Result<UniqueFd> Manager::open_unified() const {
  auto it = dirs_.find("unified");
  if (it == dirs_.end()) return UniqueFd();
  UniqueFd fd(::open(it->second.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return Error::sys("open cgroup " + it->second);
  return fd;
}

Result<void> join_self_v1(const std::vector<std::string>& v1_dirs) {
  for (auto& d : v1_dirs) TRY(write_file(d + "/tasks", "0").context("join cgroup"));
  return {};
}

Result<void> Manager::join(pid_t pid, const std::string& only) const {
  std::string p = std::to_string(pid);
  for (auto& [name, dir] : dirs_)
    if (only.empty() || name == only) TRY(write_file(dir + "/cgroup.procs", p).context("join cgroup"));
  return {};
}

std::string device_rule(const spec::DeviceRule& d) {
  std::string type = d.type.value_or("a");
  if (type == "a" && !d.major && !d.minor && d.access.value_or("rwm") == "rwm") return "a";
  auto num = [](const std::optional<int64_t>& v) { return v && *v >= 0 ? std::to_string(*v) : std::string("*"); };
  return fmt::format("{} {}:{} {}", type, num(d.major), num(d.minor), d.access.value_or("rwm"));
}

std::vector<std::string> default_allowed_devices() {
  return {"c *:* m",  "b *:* m",   "c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm", "c 5:0 rwm",
          "c 1:5 rwm", "c 1:9 rwm", "c 5:1 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm"};
}

std::vector<std::pair<std::string, std::string>> v1_writes(const std::string& h, const spec::Resources& r) {
  std::vector<std::pair<std::string, std::string>> w;
  auto has = [&](const char* c) {
    std::istringstream ss(h);
    std::string part;
    while (std::getline(ss, part, ','))
      if (part == c) return true;
    return false;
  };
  if (has("devices") && !r.devices.empty()) {
    for (auto& d : r.devices) w.emplace_back(d.allow ? "devices.allow" : "devices.deny", device_rule(d));
    for (auto& d : default_allowed_devices()) w.emplace_back("devices.allow", d);
  }
  if (has("memory") && r.memory) {
    auto& m = *r.memory;
    // memsw must stay >= limit: raise it first when both grow (runc orders the same way).
    if (m.limit && *m.limit != 0) w.emplace_back("memory.limit_in_bytes", std::to_string(*m.limit));
    if (m.swap && *m.swap != 0) w.emplace_back("memory.memsw.limit_in_bytes", std::to_string(*m.swap));
    if (m.reservation && *m.reservation != 0) w.emplace_back("memory.soft_limit_in_bytes", std::to_string(*m.reservation));
    if (m.swappiness && *m.swappiness <= 100) w.emplace_back("memory.swappiness", std::to_string(*m.swappiness));
    if (m.disable_oom_killer && *m.disable_oom_killer) w.emplace_back("memory.oom_control", "1");
  }
  if (has("cpu") && r.cpu) {
    auto& c = *r.cpu;
    if (c.shares && *c.shares) w.emplace_back("cpu.shares", std::to_string(*c.shares));
    if (c.period && *c.period) w.emplace_back("cpu.cfs_period_us", std::to_string(*c.period));
    if (c.quota && *c.quota) w.emplace_back("cpu.cfs_quota_us", std::to_string(*c.quota));
  }
  if (has("cpuset") && r.cpu) {
    if (r.cpu->cpus && !r.cpu->cpus->empty()) w.emplace_back("cpuset.cpus", *r.cpu->cpus);
    if (r.cpu->mems && !r.cpu->mems->empty()) w.emplace_back("cpuset.mems", *r.cpu->mems);
  }
  if (has("pids") && r.pids && r.pids->limit != 0)
    w.emplace_back("pids.max", r.pids->limit < 0 ? std::string("max") : std::to_string(r.pids->limit));
  return w;
}

std::vector<std::pair<std::string, std::string>> v2_writes(const spec::Resources& r) {
  std::vector<std::pair<std::string, std::string>> w;
  if (r.memory) {
    auto& m = *r.memory;
    auto v = [](int64_t x) { return x < 0 ? std::string("max") : std::to_string(x); };
    if (m.limit && *m.limit != 0) w.emplace_back("memory.max", v(*m.limit));
    if (m.reservation && *m.reservation != 0) w.emplace_back("memory.low", v(*m.reservation));
    if (m.swap && *m.swap != 0) {
      // OCI swap is memory+swap; v2 swap.max is swap alone.
      if (*m.swap < 0) w.emplace_back("memory.swap.max", "max");
      else if (m.limit && *m.limit > 0) w.emplace_back("memory.swap.max", std::to_string(std::max<int64_t>(0, *m.swap - *m.limit)));
    }
  }
  if (r.cpu) {
    auto& c = *r.cpu;
    if (c.shares && *c.shares) {
      // runc's conversion: [2, 262144] -> [1, 10000]
      uint64_t s = std::clamp<uint64_t>(*c.shares, 2, 262144);
      w.emplace_back("cpu.weight", std::to_string(1 + ((s - 2) * 9999) / 262142));
    }
    if ((c.quota && *c.quota) || (c.period && *c.period)) {
      std::string q = c.quota && *c.quota > 0 ? std::to_string(*c.quota) : "max";
      w.emplace_back("cpu.max", fmt::format("{} {}", q, c.period && *c.period ? *c.period : 100000));
    }
    if (c.cpus && !c.cpus->empty()) w.emplace_back("cpuset.cpus", *c.cpus);
    if (c.mems && !c.mems->empty()) w.emplace_back("cpuset.mems", *c.mems);
  }
  if (r.pids && r.pids->limit != 0)
    w.emplace_back("pids.max", r.pids->limit < 0 ? std::string("max") : std::to_string(r.pids->limit));
  return w;
}

Result<void> Manager::set(const spec::Resources& r) const {
  for (auto& [name, dir] : dirs_) {
    auto writes = name == "unified" ? std::vector<std::pair<std::string, std::string>>{} : v1_writes(name, r);
    if (name == "unified" && dirs_.size() == 1) writes = v2_writes(r);
    for (auto& [file, value] : writes)
      TRY(write_file(dir + "/" + file, value).context(fmt::format("cgroup: set {}={}", file, value)));
  }
  if (dirs_.size() == 1 && dirs_.count("unified") && !r.devices.empty())
    log::debug("cgroup v2: device rules are enforced by the eBPF device program (not built in this version)");
  return {};
}

Result<void> Manager::freeze(bool f) const {
  if (auto d = dir_of("freezer"); !d.empty()) return write_file(d + "/freezer.state", f ? "FROZEN" : "THAWED");
  if (auto it = dirs_.find("unified"); it != dirs_.end()) return write_file(it->second + "/cgroup.freeze", f ? "1" : "0");
  return Error::make(Errc::unsupported, "no freezer cgroup available");
}

bool Manager::frozen() const {
  if (auto d = dir_of("freezer"); !d.empty()) {
    auto v = read_file(d + "/freezer.state");
    return v && v->rfind("FROZEN", 0) == 0;
  }
  if (auto it = dirs_.find("unified"); it != dirs_.end() && dirs_.size() == 1) {
    auto v = read_file(it->second + "/cgroup.freeze");
    return v && v->rfind("1", 0) == 0;
  }
  return false;
}

Result<std::vector<pid_t>> Manager::pids() const {
  std::string d;
  for (auto c : {"pids", "devices", "freezer", "memory", "cpu"})
    if (d = dir_of(c); !d.empty()) break;
  if (d.empty() && !dirs_.empty()) d = dirs_.begin()->second;
  if (d.empty()) return std::vector<pid_t>{};
  TRY_ASSIGN(auto text, read_file(d + "/cgroup.procs"));
  std::vector<pid_t> out;
  std::istringstream ss(text);
  pid_t p;
  while (ss >> p) out.push_back(p);
  return out;
}

Result<void> Manager::destroy() const {
  for (auto& [name, dir] : dirs_) {
    for (int i = 0;; ++i) {
      if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) break;
      if (errno != EBUSY || i >= 200) return Error::sys("remove cgroup " + dir);
      timespec ts{0, 5'000'000};
      ::nanosleep(&ts, nullptr);
    }
  }
  return {};
}

}  // namespace husk::os::cgroups
