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
#include "husk/os/cgroups/devices_bpf.hpp"

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

std::string Manager::dir_of(std::string_view controller) const { return dir_for(dirs_, controller); }

std::string dir_for(const std::map<std::string, std::string>& dirs, std::string_view controller) {
  for (auto& [name, dir] : dirs) {
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
  TRY_ASSIGN(auto tasks, open_v1_tasks(v1_dirs));
  return join_self_v1(tasks, v1_dirs);
}

Result<void> join_self_v1(std::span<const UniqueFd> tasks, const std::vector<std::string>& v1_dirs) {
  if (tasks.size() != v1_dirs.size())
    return Error::make(Errc::protocol, "join cgroup: one tasks fd per v1 directory expected");
  for (size_t i = 0; i < tasks.size(); ++i)
    if (::write(tasks[i].get(), "0", 1) != 1) return Error::sys(fmt::format("join cgroup {}", v1_dirs[i]));
  return {};
}

Result<std::vector<UniqueFd>> open_v1_tasks(const std::vector<std::string>& v1_dirs) {
  std::vector<UniqueFd> out;
  out.reserve(v1_dirs.size());
  for (auto& d : v1_dirs) {
    UniqueFd fd(::open((d + "/tasks").c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return Error::sys(fmt::format("join cgroup {}", d));
    out.push_back(std::move(fd));
  }
  return out;
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

namespace {
bool has_controller(const std::string& h, const char* c) {
  std::istringstream ss(h);
  std::string part;
  while (std::getline(ss, part, ','))
    if (part == c) return true;
  return false;
}
std::string dev(int64_t major, int64_t minor) { return fmt::format("{}:{}", major, minor); }
// "2MB" -> "2MB" (the cgroup file names use the same unit spelling as the spec).
}  // namespace

Writes v1_writes(const std::string& h, const spec::Resources& r) {
  Writes w;
  auto has = [&](const char* c) { return has_controller(h, c); };
  if (has("devices") && !r.devices.empty()) {
    for (auto& d : r.devices) w.emplace_back(d.allow ? "devices.allow" : "devices.deny", device_rule(d));
    for (auto& d : default_allowed_devices()) w.emplace_back("devices.allow", d);
  }
  if (has("memory") && r.memory) {
    auto& m = *r.memory;
    // The memory/memsw order is decided by Manager::set (it depends on the current value).
    if (m.limit && *m.limit != 0) w.emplace_back("memory.limit_in_bytes", std::to_string(*m.limit));
    if (m.swap && *m.swap != 0) w.emplace_back("memory.memsw.limit_in_bytes", std::to_string(*m.swap));
    if (m.reservation && *m.reservation != 0) w.emplace_back("memory.soft_limit_in_bytes", std::to_string(*m.reservation));
    if (m.kernel && *m.kernel != 0) w.emplace_back("memory.kmem.limit_in_bytes", std::to_string(*m.kernel));
    if (m.kernel_tcp && *m.kernel_tcp != 0) w.emplace_back("memory.kmem.tcp.limit_in_bytes", std::to_string(*m.kernel_tcp));
    if (m.swappiness && *m.swappiness <= 100) w.emplace_back("memory.swappiness", std::to_string(*m.swappiness));
    if (m.disable_oom_killer) w.emplace_back("memory.oom_control", *m.disable_oom_killer ? "1" : "0");
    if (m.use_hierarchy && *m.use_hierarchy) w.emplace_back("memory.use_hierarchy", "1");
  }
  if (has("cpu") && r.cpu) {
    auto& c = *r.cpu;
    if (c.shares && *c.shares) w.emplace_back("cpu.shares", std::to_string(*c.shares));
    if (c.period && *c.period) w.emplace_back("cpu.cfs_period_us", std::to_string(*c.period));
    if (c.quota && *c.quota) w.emplace_back("cpu.cfs_quota_us", std::to_string(*c.quota));
    if (c.burst) w.emplace_back("cpu.cfs_burst_us", std::to_string(*c.burst));
    if (c.realtime_period && *c.realtime_period) w.emplace_back("cpu.rt_period_us", std::to_string(*c.realtime_period));
    if (c.realtime_runtime && *c.realtime_runtime) w.emplace_back("cpu.rt_runtime_us", std::to_string(*c.realtime_runtime));
    if (c.idle) w.emplace_back("cpu.idle", std::to_string(*c.idle));
  }
  if (has("cpuset") && r.cpu) {
    if (r.cpu->cpus && !r.cpu->cpus->empty()) w.emplace_back("cpuset.cpus", *r.cpu->cpus);
    if (r.cpu->mems && !r.cpu->mems->empty()) w.emplace_back("cpuset.mems", *r.cpu->mems);
  }
  if (has("pids") && r.pids && r.pids->limit != 0)
    w.emplace_back("pids.max", r.pids->limit < 0 ? std::string("max") : std::to_string(r.pids->limit));
  if (has("blkio") && r.block_io) {
    auto& b = *r.block_io;
    if (b.weight && *b.weight) w.emplace_back("blkio.weight", std::to_string(*b.weight));
    if (b.leaf_weight && *b.leaf_weight) w.emplace_back("blkio.leaf_weight", std::to_string(*b.leaf_weight));
    for (auto& d : b.weight_device) {
      if (d.weight) w.emplace_back("blkio.weight_device", fmt::format("{} {}", dev(d.major, d.minor), *d.weight));
      if (d.leaf_weight) w.emplace_back("blkio.leaf_weight_device", fmt::format("{} {}", dev(d.major, d.minor), *d.leaf_weight));
    }
    auto th = [&](const char* file, const std::vector<spec::ThrottleDevice>& v) {
      for (auto& d : v) w.emplace_back(file, fmt::format("{} {}", dev(d.major, d.minor), d.rate));
    };
    th("blkio.throttle.read_bps_device", b.throttle_read_bps);
    th("blkio.throttle.write_bps_device", b.throttle_write_bps);
    th("blkio.throttle.read_iops_device", b.throttle_read_iops);
    th("blkio.throttle.write_iops_device", b.throttle_write_iops);
  }
  if (has("hugetlb"))
    for (auto& l : r.hugepage_limits) w.emplace_back(fmt::format("hugetlb.{}.limit_in_bytes", l.page_size), std::to_string(l.limit));
  if (has("net_cls") && r.network && r.network->class_id) w.emplace_back("net_cls.classid", std::to_string(*r.network->class_id));
  if (has("net_prio") && r.network)
    for (auto& p : r.network->priorities) w.emplace_back("net_prio.ifpriomap", fmt::format("{} {}", p.name, p.priority));
  if (has("rdma"))
    for (auto& [devname, l] : r.rdma) w.emplace_back("rdma.max", rdma_line(devname, l));
  return w;
}

std::string rdma_line(const std::string& devname, const spec::Rdma& l) {
  std::string line = devname;
  if (l.hca_handles) line += fmt::format(" hca_handle={}", *l.hca_handles);
  if (l.hca_objects) line += fmt::format(" hca_object={}", *l.hca_objects);
  return line;
}

uint64_t shares_to_weight(uint64_t shares) {
  // runc's conversion: [2, 262144] -> [1, 10000]
  uint64_t s = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((s - 2) * 9999) / 262142;
}

uint64_t blkio_to_io_weight(uint64_t w) {
  // runc: [10, 1000] -> [1, 10000]
  w = std::clamp<uint64_t>(w, 10, 1000);
  return 1 + (w - 10) * 9999 / 990;
}

Writes v2_writes(const spec::Resources& r) {
  Writes w;
  if (r.memory) {
    auto& m = *r.memory;
    auto v = [](int64_t x) { return x < 0 ? std::string("max") : std::to_string(x); };
    // swap first when it grows the total, as for v1 (memory.swap.max is swap alone).
    if (m.limit && *m.limit != 0) w.emplace_back("memory.max", v(*m.limit));
    if (m.swap && *m.swap != 0) {
      if (*m.swap < 0) w.emplace_back("memory.swap.max", "max");
      else if (m.limit && *m.limit > 0) w.emplace_back("memory.swap.max", std::to_string(std::max<int64_t>(0, *m.swap - *m.limit)));
    }
    if (m.reservation && *m.reservation != 0) w.emplace_back("memory.low", v(*m.reservation));
  }
  if (r.cpu) {
    auto& c = *r.cpu;
    if (c.shares && *c.shares) w.emplace_back("cpu.weight", std::to_string(shares_to_weight(*c.shares)));
    if ((c.quota && *c.quota) || (c.period && *c.period)) {
      std::string q = c.quota && *c.quota > 0 ? std::to_string(*c.quota) : "max";
      w.emplace_back("cpu.max", fmt::format("{} {}", q, c.period && *c.period ? *c.period : 100000));
    }
    if (c.burst) w.emplace_back("cpu.max.burst", std::to_string(*c.burst));
    if (c.idle) w.emplace_back("cpu.idle", std::to_string(*c.idle));
    if (c.cpus && !c.cpus->empty()) w.emplace_back("cpuset.cpus", *c.cpus);
    if (c.mems && !c.mems->empty()) w.emplace_back("cpuset.mems", *c.mems);
  }
  if (r.pids && r.pids->limit != 0)
    w.emplace_back("pids.max", r.pids->limit < 0 ? std::string("max") : std::to_string(r.pids->limit));
  if (r.block_io) {
    auto& b = *r.block_io;
    if (b.weight && *b.weight) w.emplace_back("io.weight", fmt::format("default {}", blkio_to_io_weight(*b.weight)));
    for (auto& d : b.weight_device)
      if (d.weight) w.emplace_back("io.weight", fmt::format("{} {}", dev(d.major, d.minor), blkio_to_io_weight(*d.weight)));
    auto th = [&](const char* key, const std::vector<spec::ThrottleDevice>& v) {
      for (auto& d : v) w.emplace_back("io.max", fmt::format("{} {}={}", dev(d.major, d.minor), key, d.rate == 0 ? std::string("max") : std::to_string(d.rate)));
    };
    th("rbps", b.throttle_read_bps);
    th("wbps", b.throttle_write_bps);
    th("riops", b.throttle_read_iops);
    th("wiops", b.throttle_write_iops);
  }
  for (auto& l : r.hugepage_limits) w.emplace_back(fmt::format("hugetlb.{}.max", l.page_size), std::to_string(l.limit));
  for (auto& [devname, l] : r.rdma) w.emplace_back("rdma.max", rdma_line(devname, l));
  for (auto& [k, v] : r.unified) w.emplace_back(k, v);
  return w;
}

namespace {
// Files the kernel may not have (config-dependent, or removed in newer kernels): a
// missing one is skipped with a debug log, as runc does for kernel memory.
bool optional_file(std::string_view f) {
  return f.rfind("memory.kmem.", 0) == 0 || f.rfind("cpu.rt_", 0) == 0 || f == "cpu.cfs_burst_us" ||
         f == "cpu.idle" || f == "cpu.max.burst" || f == "blkio.leaf_weight" || f == "blkio.leaf_weight_device" ||
         f == "memory.use_hierarchy";
}

// The controller a v2 file belongs to ("memory.max" -> "memory").
std::string controller_of(std::string_view file) { return std::string(file.substr(0, file.find('.'))); }

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream ss(text);
  std::string w;
  while (ss >> w) out.push_back(w);
  return out;
}
}  // namespace

Result<void> write_one(const std::string& dir, const std::string& file, const std::string& value) {
  std::string path = dir + "/" + file;
  auto r = write_file(path, value);
  if (r) return {};
  int e = r.error().sys_errno();
  if (e == ENOENT && optional_file(file)) {
    log::debug("cgroup: {} is not available on this kernel; {}={} skipped", path, file, value);
    return {};
  }
  if (e == ENOENT) return Error::make(Errc::unsupported, fmt::format("cgroup: set {}={}: {} does not exist (controller or kernel feature missing)", file, value, path));
  return std::move(r).error().context(fmt::format("cgroup: set {}={}", file, value));
}

std::vector<std::string> v2_controllers_needed(const spec::Resources& r, bool pure_v2) {
  if (pure_v2) return {"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"};
  std::vector<std::string> out;
  if (!r.hugepage_limits.empty()) out.push_back("hugetlb");
  if (!r.rdma.empty()) out.push_back("rdma");
  for (auto& [k, v] : r.unified) out.push_back(controller_of(k));
  return out;
}

Result<void> Manager::enable_v2_controllers(const std::string& mountpoint, const std::vector<std::string>& want) const {
  auto it = dirs_.find("unified");
  if (it == dirs_.end() || want.empty() || !path::is_within(mountpoint, it->second)) return {};
  auto avail = read_file(mountpoint + "/cgroup.controllers");
  if (!avail) return {};
  auto have = words(*avail);
  std::string add;
  for (auto& c : want)
    if (std::find(have.begin(), have.end(), c) != have.end() && add.find("+" + c + " ") == std::string::npos)
      add += "+" + c + " ";
  if (add.empty()) return {};
  std::string cur = mountpoint;
  auto comps = path::components(it->second.substr(mountpoint.size()));
  for (size_t i = 0; i + 1 <= comps.size(); ++i) {
    auto enabled = read_file(cur + "/cgroup.subtree_control");
    std::string need;
    for (auto& w : words(add))
      if (!enabled || enabled->find(w.substr(1)) == std::string::npos) need += w + " ";
    if (!need.empty()) TRY(write_file(cur + "/cgroup.subtree_control", need).context("cgroup: enable v2 controllers in " + cur));
    if (i < comps.size()) cur = path::join(cur, comps[i]);
    if (i + 1 == comps.size()) break;
  }
  return {};
}

Result<void> Manager::set(const spec::Resources& r, bool creating) const {
  bool pure_v2 = is_pure_v2(dirs_);
  // A value with no controller to hold it cannot be applied: an error, not a silent
  // drop (runtime-spec create: "If the runtime cannot apply a property as specified in
  // the configuration, it MUST generate an error"). cgroup v2 has neither of these.
  if (r.network) {
    auto held = [&](const char* c) {
      return std::any_of(dirs_.begin(), dirs_.end(), [&](const auto& d) { return d.first != "unified" && has_controller(d.first, c); });
    };
    if (r.network->class_id && !held("net_cls"))
      return Error::make(Errc::unsupported, "linux.resources.network.classID: this host has no net_cls cgroup controller");
    if (!r.network->priorities.empty() && !held("net_prio"))
      return Error::make(Errc::unsupported, "linux.resources.network.priorities: this host has no net_prio cgroup controller");
  }
  for (auto& [name, dir] : dirs_) {
    Writes writes;
    if (name != "unified") {
      writes = v1_writes(name, r);
      // memory and memory+swap must stay ordered (memsw >= limit at every step): when the
      // new total is above the current limit (or unlimited), swap goes first.
      if (has_controller(name, "memory") && r.memory && r.memory->limit && *r.memory->limit != 0 && r.memory->swap &&
          *r.memory->swap != 0) {
        auto cur = read_file(dir + "/memory.limit_in_bytes");
        uint64_t cur_limit = cur ? std::strtoull(cur->c_str(), nullptr, 10) : 0;
        bool swap_first = *r.memory->swap == -1 || static_cast<uint64_t>(*r.memory->swap) > cur_limit;
        auto is_mem = [](const auto& x) { return x.first == "memory.limit_in_bytes"; };
        auto is_sw = [](const auto& x) { return x.first == "memory.memsw.limit_in_bytes"; };
        auto a = std::find_if(writes.begin(), writes.end(), is_mem), b = std::find_if(writes.begin(), writes.end(), is_sw);
        if (a != writes.end() && b != writes.end() && swap_first != (b < a)) std::iter_swap(a, b);
      }
    } else {
      // The v2 hierarchy: everything on pure v2; on a hybrid host only the controllers it
      // holds (e.g. hugetlb) and `unified`.
      auto all = v2_writes(r);
      std::vector<std::string> avail;
      if (all.empty()) continue;
      if (!pure_v2) {
        if (auto c = read_file(dir + "/cgroup.controllers")) avail = words(*c);
      }
      for (auto& wr : all) {
        bool raw = r.unified.count(wr.first) > 0;
        if (pure_v2 || raw || std::find(avail.begin(), avail.end(), controller_of(wr.first)) != avail.end())
          writes.push_back(wr);
      }
    }
    // A v1 device rule is one write(2) each: consecutive rules for one file share an open.
    UniqueFd rules;
    std::string rules_file;
    for (auto& [file, value] : writes) {
      if (file.rfind("devices.", 0) != 0) {
        TRY(write_one(dir, file, value));
        continue;
      }
      std::string path = dir + "/" + file;
      if (file != rules_file) {
        rules.reset(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
        if (!rules) return Error::sys("open " + path).context(fmt::format("cgroup: set {}={}", file, value));
        rules_file = file;
      }
      if (::write(rules.get(), value.data(), value.size()) < 0)
        return Error::sys("write " + path).context(fmt::format("cgroup: set {}={}", file, value));
    }
  }
  if (pure_v2 && (creating || !r.devices.empty()))
    TRY(apply_device_program(dirs_.at("unified"), v2_device_rules(r.devices)).context("cgroup v2 devices"));
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
  if (auto it = dirs_.find("unified"); it != dirs_.end() && is_pure_v2(dirs_)) {
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
