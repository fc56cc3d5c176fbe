#include "husk/os/cgroups/stats.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <sstream>

namespace husk::os::cgroups {
namespace {

uint64_t num(const std::string& path) {
  auto t = read_file(path);
  if (!t) return 0;
  if (t->rfind("max", 0) == 0) return UINT64_MAX;
  return std::strtoull(t->c_str(), nullptr, 10);
}

std::map<std::string, uint64_t> keyed(const std::string& path) {
  std::map<std::string, uint64_t> out;
  auto t = read_file(path);
  if (!t) return out;
  std::istringstream ss(*t);
  std::string k;
  uint64_t v;
  while (ss >> k >> v) out[k] = v;
  return out;
}

void blkio_v1(const std::string& path, std::vector<BlkioEntry>& out) {
  auto t = read_file(path);
  if (!t) return;
  std::istringstream ss(*t);
  std::string line;
  while (std::getline(ss, line)) {
    unsigned long long ma, mi, v;
    char op[32];
    if (std::sscanf(line.c_str(), "%llu:%llu %31s %llu", &ma, &mi, op, &v) == 4) out.push_back({ma, mi, op, v});
  }
}

void io_v2(const std::string& path, Stats& s) {
  auto t = read_file(path);
  if (!t) return;
  std::istringstream ss(*t);
  std::string line;
  while (std::getline(ss, line)) {
    unsigned long long ma, mi;
    int n = 0;
    if (std::sscanf(line.c_str(), "%llu:%llu %n", &ma, &mi, &n) != 2) continue;
    std::istringstream kv(line.substr(static_cast<size_t>(n)));
    std::string item;
    while (kv >> item) {
      auto eq = item.find('=');
      if (eq == std::string::npos) continue;
      std::string k = item.substr(0, eq);
      uint64_t v = std::strtoull(item.c_str() + eq + 1, nullptr, 10);
      if (k == "rbytes") s.io_service_bytes.push_back({ma, mi, "Read", v});
      if (k == "wbytes") s.io_service_bytes.push_back({ma, mi, "Write", v});
      if (k == "rios") s.io_serviced.push_back({ma, mi, "Read", v});
      if (k == "wios") s.io_serviced.push_back({ma, mi, "Write", v});
    }
  }
}

std::vector<std::string> hugepage_sizes() {
  std::vector<std::string> out;
  for (auto kb : {2048ULL, 1048576ULL}) {
    if (::access(fmt::format("/sys/kernel/mm/hugepages/hugepages-{}kB", kb).c_str(), F_OK) != 0) continue;
    out.push_back(kb >= 1048576 ? fmt::format("{}GB", kb / 1048576) : fmt::format("{}MB", kb / 1024));
  }
  return out;
}
}  // namespace

Stats read_stats(const state::CgroupPaths& dirs) {
  Stats s;
  bool pure_v2 = dirs.pure_v2();
  const std::string& unified = dirs.v2;
  if (pure_v2) {
    auto cpu = keyed(unified + "/cpu.stat");
    s.cpu_total = cpu["usage_usec"] * 1000;
    s.cpu_user = cpu["user_usec"] * 1000;
    s.cpu_kernel = cpu["system_usec"] * 1000;
    s.periods = cpu["nr_periods"];
    s.throttled_periods = cpu["nr_throttled"];
    s.throttled_time = cpu["throttled_usec"] * 1000;
    s.memory.usage = num(unified + "/memory.current");
    s.memory.max = num(unified + "/memory.peak");
    s.memory.limit = num(unified + "/memory.max");
    s.swap.usage = num(unified + "/memory.swap.current");
    s.swap.limit = num(unified + "/memory.swap.max");
    s.memory_raw = keyed(unified + "/memory.stat");
    s.memory_cache = s.memory_raw["file"];
    s.pids_current = num(unified + "/pids.current");
    s.pids_limit = num(unified + "/pids.max");
    io_v2(unified + "/io.stat", s);
  } else {
    if (auto d = dirs.v1_dir("cpuacct"); !d.empty()) {
      s.cpu_total = num(d + "/cpuacct.usage");
      s.cpu_user = num(d + "/cpuacct.usage_user");
      s.cpu_kernel = num(d + "/cpuacct.usage_sys");
      if (auto t = read_file(d + "/cpuacct.usage_percpu")) {
        std::istringstream ss(*t);
        uint64_t v;
        while (ss >> v) s.cpu_percpu.push_back(v);
      }
    }
    if (auto d = dirs.v1_dir("cpu"); !d.empty()) {
      auto st = keyed(d + "/cpu.stat");
      s.periods = st["nr_periods"];
      s.throttled_periods = st["nr_throttled"];
      s.throttled_time = st["throttled_time"];
    }
    if (auto d = dirs.v1_dir("memory"); !d.empty()) {
      auto m = [&](const char* prefix, MemoryEntry& e) {
        e.usage = num(fmt::format("{}/{}usage_in_bytes", d, prefix));
        e.max = num(fmt::format("{}/{}max_usage_in_bytes", d, prefix));
        e.limit = num(fmt::format("{}/{}limit_in_bytes", d, prefix));
        e.failcnt = num(fmt::format("{}/{}failcnt", d, prefix));
      };
      m("memory.", s.memory);
      m("memory.memsw.", s.swap);
      m("memory.kmem.", s.kernel);
      s.memory_raw = keyed(d + "/memory.stat");
      s.memory_cache = s.memory_raw["cache"];
    }
    if (auto d = dirs.v1_dir("pids"); !d.empty()) {
      s.pids_current = num(d + "/pids.current");
      s.pids_limit = num(d + "/pids.max");
    }
    if (auto d = dirs.v1_dir("blkio"); !d.empty()) {
      blkio_v1(d + "/blkio.throttle.io_service_bytes_recursive", s.io_service_bytes);
      blkio_v1(d + "/blkio.throttle.io_serviced_recursive", s.io_serviced);
    }
  }
  // hugetlb: a v1 hierarchy, or the v2 one (pure or hybrid).
  std::string h = dirs.v1_dir("hugetlb");
  bool h_v2 = h.empty();
  if (h_v2) h = unified;
  if (!h.empty()) {
    for (auto& size : hugepage_sizes()) {
      MemoryEntry e;
      if (h_v2) {
        if (::access(fmt::format("{}/hugetlb.{}.current", h, size).c_str(), F_OK) != 0) continue;
        e.usage = num(fmt::format("{}/hugetlb.{}.current", h, size));
        e.limit = num(fmt::format("{}/hugetlb.{}.max", h, size));
        e.failcnt = keyed(fmt::format("{}/hugetlb.{}.events", h, size))["max"];
      } else {
        e.usage = num(fmt::format("{}/hugetlb.{}.usage_in_bytes", h, size));
        e.max = num(fmt::format("{}/hugetlb.{}.max_usage_in_bytes", h, size));
        e.limit = num(fmt::format("{}/hugetlb.{}.limit_in_bytes", h, size));
        e.failcnt = num(fmt::format("{}/hugetlb.{}.failcnt", h, size));
      }
      s.hugetlb[size] = e;
    }
  }
  return s;
}

uint64_t oom_kills(const state::CgroupPaths& dirs) {
  bool pure_v2 = dirs.pure_v2();
  if (pure_v2) return keyed(dirs.v2 + "/memory.events")["oom_kill"];
  if (auto d = dirs.v1_dir("memory"); !d.empty()) return keyed(d + "/memory.oom_control")["oom_kill"];
  return 0;
}

Result<OomWatch> watch_oom(const state::CgroupPaths& dirs) {
  OomWatch w;
  bool pure_v2 = dirs.pure_v2();
  if (pure_v2) {
    w.v2 = true;
    w.events_file = dirs.v2 + "/memory.events";
    w.fd.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!w.fd) return Error::sys("inotify_init1");
    if (::inotify_add_watch(w.fd.get(), w.events_file.c_str(), IN_MODIFY) < 0)
      return Error::sys("watch " + w.events_file);
    return w;
  }
  auto d = dirs.v1_dir("memory");
  if (d.empty()) return w;
  w.events_file = d + "/memory.oom_control";
  UniqueFd ctl(::open(w.events_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ctl) return Error::sys("open " + w.events_file);
  w.fd.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!w.fd) return Error::sys("eventfd");
  TRY(write_file(d + "/cgroup.event_control", fmt::format("{} {}", w.fd.get(), ctl.get()))
          .context("register OOM notification"));
  return w;
}

}  // namespace husk::os::cgroups
