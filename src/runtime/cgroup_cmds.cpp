// pause, resume, ps, update, events: the commands that act on a container's cgroup.
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <sstream>

#include "husk/core/log.hpp"
#include "husk/os/cgroups/stats.hpp"
#include "husk/os/process.hpp"
#include "husk/runtime/runtime.hpp"
#include "husk/spec/json.hpp"
#include "husk/spec/validate.hpp"
#include "lifecycle.hpp"

namespace husk::runtime {
namespace {

Error not_running(const Loaded& c, std::string_view what) {
  return Error::make(Errc::bad_state,
                     fmt::format("cannot {} container {:?}: it is {}", what, c.st.id, state::to_string(c.status)));
}

}  // namespace

// pause (running or created -> paused, as runc) and resume (paused -> running, or created
// when the init still waits on exec.fifo), under the container's lock.
static Result<void> set_frozen(const GlobalOptions& g, const std::string& id, bool frozen) {
  auto store = store_for(g);
  TRY(spec::check_container_id(id));
  TRY_ASSIGN(auto lock, store.lock(id));
  TRY_ASSIGN(auto c, load(store, id));
  bool ok = frozen ? c.status == state::Status::running || c.status == state::Status::created
                   : c.status == state::Status::paused;
  if (!ok) return Error::make(Errc::bad_state, frozen ? "container not running" : "container not paused");  // runc
  return c.cgroup->freeze(frozen);
}

Result<void> pause(const GlobalOptions& g, const std::string& id) { return set_frozen(g, id, true); }
Result<void> resume(const GlobalOptions& g, const std::string& id) { return set_frozen(g, id, false); }

Result<std::string> ps(const GlobalOptions& g, const PsOptions& o) {
  auto store = store_for(g);
  TRY_ASSIGN(auto c, load(store, o.id));
  TRY_ASSIGN(auto pids, c.cgroup->pids());
  if (o.format == "json") return nlohmann::json(pids).dump() + "\n";
  if (o.format != "table")
    return Error::make(Errc::invalid_argument, fmt::format("--format {:?}: must be table or json", o.format));
  // ps(1) with the caller's arguments; keep the header and the container's rows.
  std::vector<std::string> args = {"ps"};
  if (o.ps_args.empty())
    args.push_back("-ef");
  else
    args.insert(args.end(), o.ps_args.begin(), o.ps_args.end());
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return Error::sys("pipe");
  pid_t child = ::fork();
  if (child < 0) return Error::sys("fork");
  if (child == 0) {
    ::dup2(p[1], 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp("ps", argv.data());
    _exit(127);
  }
  ::close(p[1]);
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  TRY_ASSIGN(auto ex, os::process::wait_pid(child));
  if (ex.code() == 127) return Error::make(Errc::not_found, "ps: cannot run ps(1)");
  if (ex.code() != 0)
    return Error::make(Errc::invalid_argument, fmt::format("ps {}: exit status {}", fmt::join(args, " "), ex.code()));
  std::istringstream in(out);
  std::string header, line, result;
  std::getline(in, header);
  // The PID column: its index in the header.
  std::istringstream hs(header);
  std::string col;
  int pid_col = -1;
  for (int i = 0; hs >> col; ++i)
    if (col == "PID") pid_col = i;
  if (pid_col < 0) return Error::make(Errc::invalid_argument, "ps: its output has no PID column");
  result = header + "\n";
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string f;
    for (int i = 0; i <= pid_col && ls >> f; ++i) {
    }
    pid_t pid = static_cast<pid_t>(std::atoi(f.c_str()));
    if (std::find(pids.begin(), pids.end(), pid) != pids.end()) result += line + "\n";
  }
  return result;
}

Result<int64_t> parse_size(std::string_view s) {
  if (s == "-1") return int64_t{-1};
  size_t i = 0;
  while (i < s.size() && (isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return Error::make(Errc::invalid_argument, fmt::format("invalid size {:?}", s));
  double v = std::strtod(std::string(s.substr(0, i)).c_str(), nullptr);
  std::string unit(s.substr(i));
  while (!unit.empty() && unit[0] == ' ') unit.erase(0, 1);
  for (auto& ch : unit) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  if (!unit.empty() && unit.back() == 'i') unit.pop_back();
  double mul = 1;
  if (unit == "")
    mul = 1;
  else if (unit == "k")
    mul = 1024.0;
  else if (unit == "m")
    mul = 1024.0 * 1024;
  else if (unit == "g")
    mul = 1024.0 * 1024 * 1024;
  else if (unit == "t")
    mul = 1024.0 * 1024 * 1024 * 1024;
  else if (unit == "p")
    mul = 1024.0 * 1024 * 1024 * 1024 * 1024;
  else
    return Error::make(Errc::invalid_argument, fmt::format("invalid size {:?}", s));
  double bytes = v * mul;  // a double that does not fit int64_t must not be converted
  if (!(bytes < 9223372036854775807.0))
    return Error::make(Errc::invalid_argument, fmt::format("size {:?} is too large", s));
  return static_cast<int64_t>(bytes);
}

Result<void> update(const GlobalOptions& g, const UpdateOptions& o) {
  auto store = store_for(g);
  TRY(spec::check_container_id(o.id));
  spec::Resources r;
  if (!o.resources.empty()) {
    std::string bytes;
    if (o.resources == "-") {
      char buf[8192];
      ssize_t n;
      while ((n = ::read(0, buf, sizeof buf)) > 0) bytes.append(buf, static_cast<size_t>(n));
      if (n < 0) return Error::sys("read resources from stdin");
    } else {
      TRY_ASSIGN(bytes, read_file(o.resources).context("--resources"));
    }
    TRY_ASSIGN(r,
               spec::parse_resources(bytes, o.resources == "-" ? "--resources (stdin)" : "--resources " + o.resources));
  }
  // Flags override the file, as with runc.
  auto mem = [&]() -> spec::Memory& {
    if (!r.memory) r.memory = spec::Memory{};
    return *r.memory;
  };
  auto cpu = [&]() -> spec::Cpu& {
    if (!r.cpu) r.cpu = spec::Cpu{};
    return *r.cpu;
  };
  if (o.memory) {
    TRY_ASSIGN(mem().limit, parse_size(*o.memory).context("--memory"));
  }
  if (o.memory_swap) {
    TRY_ASSIGN(mem().swap, parse_size(*o.memory_swap).context("--memory-swap"));
  }
  if (o.memory_reservation) {
    TRY_ASSIGN(mem().reservation, parse_size(*o.memory_reservation).context("--memory-reservation"));
  }
  if (o.kernel_memory) {
    TRY_ASSIGN(mem().kernel, parse_size(*o.kernel_memory).context("--kernel-memory"));
  }
  if (o.kernel_memory_tcp) {
    TRY_ASSIGN(mem().kernel_tcp, parse_size(*o.kernel_memory_tcp).context("--kernel-memory-tcp"));
  }
  if (o.cpu_shares) cpu().shares = *o.cpu_shares;
  if (o.cpu_period) cpu().period = *o.cpu_period;
  if (o.cpu_quota) cpu().quota = *o.cpu_quota;
  if (o.cpu_burst) cpu().burst = *o.cpu_burst;
  if (o.cpu_rt_period) cpu().realtime_period = *o.cpu_rt_period;
  if (o.cpu_rt_runtime) cpu().realtime_runtime = *o.cpu_rt_runtime;
  if (o.cpuset_cpus) cpu().cpus = *o.cpuset_cpus;
  if (o.cpuset_mems) cpu().mems = *o.cpuset_mems;
  if (o.pids_limit) r.pids = spec::Pids{*o.pids_limit};
  if (o.blkio_weight) {
    if (!r.block_io) r.block_io = spec::BlockIO{};
    r.block_io->weight = *o.blkio_weight;
  }
  TRY(spec::check_resources(r, "update: resources"));

  TRY_ASSIGN(auto lock, store.lock(o.id));
  TRY_ASSIGN(auto c, load(store, o.id));
  if (c.status == state::Status::stopped) return not_running(c, "update");
  if (r.memory && r.memory->check_before_update.value_or(false) && r.memory->limit && *r.memory->limit > 0) {
    auto s = c.cgroup->stats();
    if (s.memory.usage > static_cast<uint64_t>(*r.memory->limit))
      return Error::make(Errc::invalid_argument,
                         fmt::format("update: memory usage {} is above the new limit {} (checkBeforeUpdate)",
                                     s.memory.usage, *r.memory->limit));
  }
  return c.cgroup->set(r, false).context("update");
}

namespace {
nlohmann::ordered_json mem_json(const os::cgroups::MemoryEntry& e) {
  return {{"limit", e.limit}, {"usage", e.usage}, {"max", e.max}, {"failcnt", e.failcnt}};
}
nlohmann::ordered_json blkio_json(const std::vector<os::cgroups::BlkioEntry>& v) {
  auto a = nlohmann::ordered_json::array();
  for (auto& e : v) a.push_back({{"major", e.major}, {"minor", e.minor}, {"op", e.op}, {"value", e.value}});
  return a;
}
// runc's `events` stats object (libcontainer/cgroups types, JSON names as runc prints them).
nlohmann::ordered_json stats_json(const os::cgroups::Stats& s) {
  nlohmann::ordered_json d;
  d["cpu"] = {
      {"usage", {{"total", s.cpu_total}, {"percpu", s.cpu_percpu}, {"kernel", s.cpu_kernel}, {"user", s.cpu_user}}},
      {"throttling",
       {{"periods", s.periods}, {"throttledPeriods", s.throttled_periods}, {"throttledTime", s.throttled_time}}}};
  d["memory"] = {{"cache", s.memory_cache},      {"usage", mem_json(s.memory)}, {"swap", mem_json(s.swap)},
                 {"kernel", mem_json(s.kernel)}, {"kernelTCP", mem_json({})},   {"raw", s.memory_raw}};
  d["pids"] = {{"current", s.pids_current}, {"limit", s.pids_limit}};
  d["blkio"] = {{"ioServiceBytesRecursive", blkio_json(s.io_service_bytes)},
                {"ioServicedRecursive", blkio_json(s.io_serviced)}};
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  for (auto& [size, e] : s.hugetlb) h[size] = {{"usage", e.usage}, {"max", e.max}, {"failcnt", e.failcnt}};
  d["hugetlb"] = h;
  return d;
}

Result<int64_t> parse_interval_ms(std::string_view s) {
  // Go durations as runc takes them: "5s", "500ms", "1m", "1.5s".
  size_t i = 0;
  while (i < s.size() && (isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return Error::make(Errc::invalid_argument, fmt::format("--interval {:?}: not a duration", s));
  double v = std::strtod(std::string(s.substr(0, i)).c_str(), nullptr);
  std::string_view u = s.substr(i);
  double ms;
  if (u == "ms")
    ms = v;
  else if (u == "s" || u.empty())
    ms = v * 1000;
  else if (u == "m")
    ms = v * 60000;
  else if (u == "h")
    ms = v * 3600000;
  else
    return Error::make(Errc::invalid_argument, fmt::format("--interval {:?}: not a duration", s));
  if (ms <= 0) return Error::make(Errc::invalid_argument, "--interval must be positive");
  return static_cast<int64_t>(ms);
}
}  // namespace

Result<int> events(const GlobalOptions& g, const EventsOptions& o) {
  auto store = store_for(g);
  TRY_ASSIGN(int64_t interval, parse_interval_ms(o.interval));
  TRY_ASSIGN(auto c, load(store, o.id));
  if (c.status == state::Status::stopped) return not_running(c, "get events of");
  auto emit = [&](std::string_view type, const nlohmann::ordered_json& data) {
    nlohmann::ordered_json e = {{"type", type}, {"id", o.id}};
    if (!data.is_null()) e["data"] = data;
    std::string line = e.dump() + "\n";
    return write_all(1, line);
  };
  if (o.stats) {
    TRY(emit("stats", stats_json(c.cgroup->stats())));
    return 0;
  }
  auto watch = c.cgroup->watch_oom();
  if (!watch) log::warning("events: no OOM notifications: {}", watch.error().describe());
  uint64_t ooms = c.cgroup->oom_kills();
  int64_t waited = 0;
  for (;;) {
    pollfd p{watch ? watch->fd.get() : -1, POLLIN, 0};
    int n = ::poll(&p, 1, 200);
    if (n > 0 && (p.revents & POLLIN)) {
      char buf[4096];
      while (::read(p.fd, buf, sizeof buf) > 0) {
      }
      uint64_t now = c.cgroup->oom_kills();
      // v1 eventfd fires on OOM; v2 memory.events also changes for other counters.
      if (now > ooms || (!watch->v2 && now == ooms)) TRY(emit("oom", nullptr));
      ooms = now;
    }
    if (!os::process::is_alive(c.st.pid, c.st.start_time)) return 0;
    waited += 200;
    if (waited >= interval) {
      waited = 0;
      TRY(emit("stats", stats_json(c.cgroup->stats())));
    }
  }
}

}  // namespace husk::runtime
