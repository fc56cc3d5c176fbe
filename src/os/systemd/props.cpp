// systemd unit properties: base properties, linux.resources, devices (runc 1.1.5's rules).
#include "husk/os/systemd/props.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <sstream>

#include "husk/core/log.hpp"
#include "husk/os/cgroups/devices_bpf.hpp"
#include "husk/os/cgroups/writes.hpp"

namespace husk::os::systemd {
namespace {

template <class... F>
struct Overload : F... {
  using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

constexpr uint64_t kDefaultPeriod = 100000;  // the kernel's default CFS period, v1 and v2

Property prop(std::string name, Value v) { return Property{std::move(name), std::move(v)}; }

template <class T>
std::string join_numbers(const std::vector<T>& v) {
  std::string s;
  for (auto& x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s;
}

}  // namespace

std::string signature(const Value& v) {
  static constexpr const char* sigs[] = {"b", "y", "n",  "q",  "i",  "u",  "x",  "t",
                                         "d", "s", "as", "ay", "au", "ai", "at", "a(ss)"};
  static_assert(std::size(sigs) == std::variant_size_v<Value>);
  return sigs[v.index()];
}

std::string to_text(const Value& v) {
  return std::visit(Overload{
                        [](bool b) { return std::string(b ? "true" : "false"); },
                        [](uint8_t x) { return fmt::format("byte {}", x); },
                        [](int16_t x) { return fmt::format("int16 {}", x); },
                        [](uint16_t x) { return fmt::format("uint16 {}", x); },
                        [](int32_t x) { return fmt::format("{}", x); },
                        [](uint32_t x) { return fmt::format("uint32 {}", x); },
                        [](int64_t x) { return fmt::format("int64 {}", x); },
                        [](uint64_t x) { return fmt::format("uint64 {}", x); },
                        [](double x) { return fmt::format("{}", x); },
                        [](const std::string& s) { return fmt::format("'{}'", s); },
                        [](const std::vector<std::string>& a) {
                          std::string s;
                          for (auto& x : a) s += (s.empty() ? "'" : ", '") + x + "'";
                          return "[" + s + "]";
                        },
                        [](const std::vector<uint8_t>& a) { return "@ay [" + join_numbers(a) + "]"; },
                        [](const std::vector<uint32_t>& a) { return "@au [" + join_numbers(a) + "]"; },
                        [](const std::vector<int32_t>& a) { return "@ai [" + join_numbers(a) + "]"; },
                        [](const std::vector<uint64_t>& a) { return "@at [" + join_numbers(a) + "]"; },
                        [](const DeviceAllowList& a) {
                          std::string s;
                          for (auto& [p, m] : a) s += fmt::format("{}('{}', '{}')", s.empty() ? "" : ", ", p, m);
                          return "@a(ss) [" + s + "]";
                        },
                    },
                    v);
}

const Property* find(const Properties& ps, std::string_view name) {
  for (auto it = ps.rbegin(); it != ps.rend(); ++it)
    if (it->name == name) return &*it;
  return nullptr;
}

Properties unit_properties(const UnitPath& u, pid_t pid, bool v2) {
  Properties ps;
  ps.push_back(prop("Description", "husk container " + u.name));
  if (u.is_slice()) {
    ps.push_back(prop("Wants", std::vector<std::string>{u.slice}));
  } else {
    ps.push_back(prop("Slice", u.slice));
    ps.push_back(prop("Delegate", true));
  }
  if (pid > 0) ps.push_back(prop("PIDs", std::vector<uint32_t>{static_cast<uint32_t>(pid)}));
  ps.push_back(prop("MemoryAccounting", true));
  ps.push_back(prop("CPUAccounting", true));
  ps.push_back(prop(v2 ? "IOAccounting" : "BlockIOAccounting", true));
  ps.push_back(prop("TasksAccounting", true));
  ps.push_back(prop("DefaultDependencies", false));
  return ps;
}

void add_cpu_quota(Properties& ps, int64_t quota, uint64_t period, unsigned version) {
  if (period != 0 && (version == 0 || version >= 242)) ps.push_back(prop("CPUQuotaPeriodUSec", period));
  if (quota == 0 && period == 0) return;
  uint64_t per_sec = kInfinity;
  if (quota > 0) {
    if (period == 0) period = kDefaultPeriod;
    // systemd keeps CPUQuota as a whole percentage: round up to 10 ms per second, so
    // that the cgroup's cpu.max is at least what the config asks for.
    per_sec = static_cast<uint64_t>(quota) * 1000000 / period;
    if (per_sec % 10000 != 0) per_sec = (per_sec / 10000 + 1) * 10000;
  }
  ps.push_back(prop("CPUQuotaPerSecUSec", per_sec));
}

Result<std::vector<uint8_t>> range_to_bits(std::string_view list) {
  std::vector<uint8_t> out;
  auto bad = [&](std::string_view why) {
    return Error::make(Errc::invalid_spec, fmt::format("cpu list {:?}: {}", list, why));
  };
  auto number = [&](std::string_view s, uint32_t& v) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size() && v < (1u << 20);
  };
  size_t pos = 0;
  while (pos <= list.size()) {
    auto comma = list.find(',', pos);
    auto item = list.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? list.size() + 1 : comma + 1;
    if (item.find_first_not_of(' ') == std::string_view::npos) continue;  // empty elements allowed
    uint32_t lo = 0, hi = 0;
    auto dash = item.find('-');
    if (dash == std::string_view::npos) {
      if (!number(item, lo)) return bad(fmt::format("bad number {:?}", item));
      hi = lo;
    } else if (!number(item.substr(0, dash), lo) || !number(item.substr(dash + 1), hi)) {
      return bad(fmt::format("bad range {:?}", item));
    } else if (lo > hi) {
      return bad(fmt::format("invalid range {:?}", item));
    }
    if (out.size() < hi / 8 + 1) out.resize(hi / 8 + 1);
    for (uint32_t i = lo; i <= hi; ++i) out[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  }
  if (out.empty()) return bad("empty value");
  return out;
}

Result<int64_t> v2_swap(int64_t swap, int64_t memory) {
  auto bad = [](std::string m) { return Error::make(Errc::invalid_spec, "linux.resources.memory.swap: " + m); };
  if (memory == -1 && swap == 0) return int64_t{-1};
  if (swap == -1 || swap == 0) return swap;
  if (memory == 0 || memory == -1) return bad("a swap limit needs a memory limit");
  if (memory < 0) return bad(fmt::format("invalid memory limit {}", memory));
  if (swap < memory) return bad("memory+swap limit should be >= memory limit");
  return swap - memory;
}

namespace {

uint64_t limit_value(int64_t v) { return v == -1 ? kInfinity : static_cast<uint64_t>(v); }

// The `unified` keys systemd has properties for; the others only go to the files.
Result<void> add_unified(Properties& ps, const std::map<std::string, std::string>& unified, unsigned version) {
  static const std::map<std::string, std::string> memory_keys = {
      {"memory.high", "MemoryHigh"}, {"memory.low", "MemoryLow"},          {"memory.min", "MemoryMin"},
      {"memory.max", "MemoryMax"},   {"memory.swap.max", "MemorySwapMax"}, {"pids.max", "TasksMax"}};
  for (const auto& entry : unified) {
    // Named references, not structured bindings: clang 14 (the fuzz build) cannot capture those.
    const std::string& key = entry.first;
    const std::string& raw = entry.second;
    std::string v = raw;
    v.erase(0, v.find_first_not_of(" \t\n"));
    v.erase(v.find_last_not_of(" \t\n") + 1);
    auto bad = [&] {
      return Error::make(Errc::invalid_spec, fmt::format("linux.resources.unified {:?}: invalid value {:?}", key, raw));
    };
    auto num = [&](std::string_view s, uint64_t& out) {
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      return !s.empty() && ec == std::errc() && p == s.data() + s.size();
    };
    if (auto it = memory_keys.find(key); it != memory_keys.end()) {
      uint64_t n = kInfinity;
      if (v != "max" && !num(v, n)) return bad();
      ps.push_back(prop(it->second, n));
    } else if (key == "cpu.weight") {
      uint64_t n = 0;
      if (!num(v, n)) return bad();
      ps.push_back(prop("CPUWeight", n));
    } else if (key == "cpu.max") {
      std::istringstream ss(v);
      std::string q, p, extra;
      ss >> q >> p >> extra;
      uint64_t quota = 0, period = kDefaultPeriod;
      if (q.empty() || !extra.empty() || (q != "max" && !num(q, quota)) || (!p.empty() && !num(p, period)))
        return bad();
      add_cpu_quota(ps, static_cast<int64_t>(quota), period, version);
    } else if (key == "cpuset.cpus" || key == "cpuset.mems") {
      auto bits = range_to_bits(v);
      if (!bits) return bad();
      if (version == 0 || version >= 244)
        ps.push_back(prop(key == "cpuset.cpus" ? "AllowedCPUs" : "AllowedMemoryNodes", std::move(*bits)));
    }
  }
  return ok();
}

}  // namespace

Result<Properties> resource_properties(const spec::Resources& r, const Host& h) {
  Properties ps;
  // The rules husk applies (the config's, then the default allow list), as runc sends its
  // own; none given (update): the unit's device policy stays as it is.
  if (!r.devices.empty()) {
    TRY_ASSIGN(ps, device_properties(cgroups::v2_device_rules(r.devices), h));
  }
  if (r.memory) {
    auto& m = *r.memory;
    int64_t limit = m.limit.value_or(0);
    if (limit != 0) ps.push_back(prop(h.v2 ? "MemoryMax" : "MemoryLimit", limit_value(limit)));
    if (h.v2 && m.reservation.value_or(0) != 0) ps.push_back(prop("MemoryLow", limit_value(*m.reservation)));
    if (h.v2) {
      TRY_ASSIGN(int64_t swap, v2_swap(m.swap.value_or(0), limit));
      if (swap != 0) ps.push_back(prop("MemorySwapMax", limit_value(swap)));
    }
  }
  if (r.cpu) {
    auto& c = *r.cpu;
    if (c.shares.value_or(0) != 0) {
      if (h.v2)
        ps.push_back(prop("CPUWeight", cgroups::shares_to_weight(*c.shares)));
      else
        ps.push_back(prop("CPUShares", *c.shares));
    }
    add_cpu_quota(ps, c.quota.value_or(0), c.period.value_or(0), h.version);
  }
  if (r.block_io && r.block_io->weight.value_or(0) != 0) {
    if (h.v2)
      ps.push_back(prop("IOWeight", cgroups::blkio_to_io_weight(*r.block_io->weight)));
    else
      ps.push_back(prop("BlockIOWeight", uint64_t{*r.block_io->weight}));
  }
  if (r.pids && r.pids->limit && (*r.pids->limit >= 0 || *r.pids->limit == -1))
    ps.push_back(prop("TasksMax", limit_value(*r.pids->limit)));
  if (r.cpu && (h.version == 0 || h.version >= 244)) {
    for (auto [list, name] : {std::pair{&r.cpu->cpus, "AllowedCPUs"}, std::pair{&r.cpu->mems, "AllowedMemoryNodes"}}) {
      if (!list->has_value() || (*list)->empty()) continue;
      auto bits = range_to_bits(**list);
      if (!bits)
        return Error::make(Errc::invalid_spec, fmt::format("linux.resources.cpu.{}: {}",
                                                           name[7] == 'C' ? "cpus" : "mems", bits.error().message()));
      ps.push_back(prop(name, std::move(*bits)));
    }
  }
  if (h.v2) TRY(add_unified(ps, r.unified, h.version));
  return ps;
}

}  // namespace husk::os::systemd
