#include "husk/os/cgroups/writes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "husk/core/fd.hpp"
#include "husk/core/log.hpp"
#include "husk/os/cgroups/cpu_weight.hpp"
#include "husk/state/cgroup_paths.hpp"

namespace husk::os::cgroups {

std::string device_rule(const spec::DeviceRule& d) {
  std::string type = d.type.value_or("a");
  if (type == "a" && !d.major && !d.minor && d.access.value_or("rwm") == "rwm") return "a";
  auto num = [](const std::optional<int64_t>& v) { return v && *v >= 0 ? std::to_string(*v) : std::string("*"); };
  return fmt::format("{} {}:{} {}", type, num(d.major), num(d.minor), d.access.value_or("rwm"));
}

// runc 1.1.5's list: mknod of anything, the default devices, /dev/pts/*, /dev/ptmx, /dev/net/tun.
// Not the host's console (c 5:1): the container's /dev/console is a bind of its pty (136:N).
std::vector<std::string> default_allowed_devices() {
  return {"c *:* m",   "b *:* m",   "c 1:3 rwm",   "c 1:8 rwm", "c 1:7 rwm",   "c 5:0 rwm",
          "c 1:5 rwm", "c 1:9 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm"};
}

namespace {
std::string dev(int64_t major, int64_t minor) { return fmt::format("{}:{}", major, minor); }
// runtime-spec 1.3: 0 is a real limit (no new task at all), a negative value is none.
std::string pids_max(int64_t limit) { return limit < 0 ? std::string("max") : std::to_string(limit); }
}  // namespace

Writes v1_writes(const std::string& h, const spec::Resources& r) {
  Writes w;
  auto has = [&](const char* c) { return state::hierarchy_has(h, c); };
  if (has("devices") && !r.devices.empty()) {
    for (auto& d : r.devices) w.emplace_back(d.allow ? "devices.allow" : "devices.deny", device_rule(d));
    for (auto& d : default_allowed_devices()) w.emplace_back("devices.allow", d);
  }
  if (has("memory") && r.memory) {
    auto& m = *r.memory;
    // The memory/memsw order is decided by v1::set (it depends on the current value).
    if (m.limit && *m.limit != 0) w.emplace_back("memory.limit_in_bytes", std::to_string(*m.limit));
    if (m.swap && *m.swap != 0) w.emplace_back("memory.memsw.limit_in_bytes", std::to_string(*m.swap));
    if (m.reservation && *m.reservation != 0)
      w.emplace_back("memory.soft_limit_in_bytes", std::to_string(*m.reservation));
    if (m.kernel && *m.kernel != 0) w.emplace_back("memory.kmem.limit_in_bytes", std::to_string(*m.kernel));
    if (m.kernel_tcp && *m.kernel_tcp != 0)
      w.emplace_back("memory.kmem.tcp.limit_in_bytes", std::to_string(*m.kernel_tcp));
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
    if (c.realtime_runtime && *c.realtime_runtime)
      w.emplace_back("cpu.rt_runtime_us", std::to_string(*c.realtime_runtime));
    if (c.idle) w.emplace_back("cpu.idle", std::to_string(*c.idle));
  }
  if (has("cpuset") && r.cpu) {
    if (r.cpu->cpus && !r.cpu->cpus->empty()) w.emplace_back("cpuset.cpus", *r.cpu->cpus);
    if (r.cpu->mems && !r.cpu->mems->empty()) w.emplace_back("cpuset.mems", *r.cpu->mems);
  }
  if (has("pids") && r.pids && r.pids->limit) w.emplace_back("pids.max", pids_max(*r.pids->limit));
  if (has("blkio") && r.block_io) {
    auto& b = *r.block_io;
    if (b.weight && *b.weight) w.emplace_back("blkio.weight", std::to_string(*b.weight));
    if (b.leaf_weight && *b.leaf_weight) w.emplace_back("blkio.leaf_weight", std::to_string(*b.leaf_weight));
    for (auto& d : b.weight_device) {
      if (d.weight) w.emplace_back("blkio.weight_device", fmt::format("{} {}", dev(d.major, d.minor), *d.weight));
      if (d.leaf_weight)
        w.emplace_back("blkio.leaf_weight_device", fmt::format("{} {}", dev(d.major, d.minor), *d.leaf_weight));
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
    for (auto& l : r.hugepage_limits)
      w.emplace_back(fmt::format("hugetlb.{}.limit_in_bytes", l.page_size), std::to_string(l.limit));
  if (has("net_cls") && r.network && r.network->class_id)
    w.emplace_back("net_cls.classid", std::to_string(*r.network->class_id));
  if (has("net_prio") && r.network)
    for (auto& p : r.network->priorities)
      w.emplace_back("net_prio.ifpriomap", fmt::format("{} {}", p.name, p.priority));
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
  // Current runc's and crun's quadratic conversion (cpu_weight.hpp): 1024 -> 100.
  return cpu_shares_to_weight(shares);
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
      if (*m.swap < 0)
        w.emplace_back("memory.swap.max", "max");
      else if (m.limit && *m.limit > 0)
        w.emplace_back("memory.swap.max", std::to_string(std::max<int64_t>(0, *m.swap - *m.limit)));
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
  if (r.pids && r.pids->limit) w.emplace_back("pids.max", pids_max(*r.pids->limit));
  if (r.block_io) {
    auto& b = *r.block_io;
    if (b.weight && *b.weight) w.emplace_back("io.weight", fmt::format("default {}", blkio_to_io_weight(*b.weight)));
    for (auto& d : b.weight_device)
      if (d.weight)
        w.emplace_back("io.weight", fmt::format("{} {}", dev(d.major, d.minor), blkio_to_io_weight(*d.weight)));
    auto th = [&](const char* key, const std::vector<spec::ThrottleDevice>& v) {
      for (auto& d : v)
        w.emplace_back("io.max", fmt::format("{} {}={}", dev(d.major, d.minor), key,
                                             d.rate == 0 ? std::string("max") : std::to_string(d.rate)));
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
  return f.rfind("memory.kmem.", 0) == 0 || f.rfind("cpu.rt_", 0) == 0 || f == "cpu.cfs_burst_us" || f == "cpu.idle" ||
         f == "cpu.max.burst" || f == "blkio.leaf_weight" || f == "blkio.leaf_weight_device" ||
         f == "memory.use_hierarchy";
}

}  // namespace

std::string controller_of(std::string_view file) { return std::string(file.substr(0, file.find('.'))); }

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream ss(text);
  std::string w;
  while (ss >> w) out.push_back(w);
  return out;
}

Result<void> write_one(const std::string& dir, const std::string& file, const std::string& value) {
  std::string path = dir + "/" + file;
  auto r = write_file(path, value);
  if (r) return {};
  int e = r.error().sys_errno();
  if (e == ENOENT && optional_file(file)) {
    log::debug("cgroup: {} is not available on this kernel; {}={} skipped", path, file, value);
    return {};
  }
  if (e == ENOENT)
    return Error::make(
        Errc::unsupported,
        fmt::format("cgroup: set {}={}: {} does not exist (controller or kernel feature missing)", file, value, path));
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

}  // namespace husk::os::cgroups
