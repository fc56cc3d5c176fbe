#include "husk/os/mempolicy.hpp"
#include "husk/core/text.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include <fmt/format.h>

#include "husk/core/fd.hpp"

namespace husk::os::mempolicy {

namespace {

// linux/mempolicy.h
enum : int {
  kDefault = 0,
  kPreferred = 1,
  kBind = 2,
  kInterleave = 3,
  kLocal = 4,
  kPreferredMany = 5,
  kWeightedInterleave = 6,
};
enum : int { kFNumaBalancing = 1 << 13, kFRelativeNodes = 1 << 14, kFStaticNodes = 1 << 15 };

constexpr std::string_view kModeNames[] = {
    "MPOL_DEFAULT",   "MPOL_BIND",           "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE",
    "MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_LOCAL"};
constexpr int kModeValues[] = {kDefault, kBind, kInterleave, kWeightedInterleave, kPreferred, kPreferredMany, kLocal};
constexpr std::string_view kFlagNames[] = {"MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"};
constexpr int kFlagValues[] = {kFNumaBalancing, kFRelativeNodes, kFStaticNodes};

Error bad(std::string_view field, std::string msg) {
  return Error::make(Errc::invalid_spec, fmt::format("config.json: /linux/memoryPolicy/{}: {}", field, msg));
}

using text::trim;

Result<int> parse_id(std::string_view s, std::string_view list) {
  int v = -1;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < 0)
    return Error::make(Errc::invalid_argument,
                       fmt::format("bad node list \"{}\": \"{}\" is not a node number", list, s));
  if (v >= kMaxNodes)
    return Error::make(Errc::invalid_argument,
                       fmt::format("bad node list \"{}\": node {} is above {}", list, v, kMaxNodes - 1));
  return v;
}

}  // namespace

std::span<const std::string_view> known_modes() { return kModeNames; }
std::span<const std::string_view> known_flags() { return kFlagNames; }

Result<std::vector<int>> parse_nodes(std::string_view list) {
  std::vector<int> out;
  std::string_view all = trim(list);
  if (all.empty()) return out;
  size_t pos = 0;
  while (pos <= all.size()) {
    size_t comma = all.find(',', pos);
    std::string_view item = all.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      TRY_ASSIGN(int v, parse_id(item, list));
      out.push_back(v);
    } else {
      TRY_ASSIGN(int lo, parse_id(item.substr(0, dash), list));
      TRY_ASSIGN(int hi, parse_id(item.substr(dash + 1), list));
      if (lo > hi)
        return Error::make(Errc::invalid_argument,
                           fmt::format("bad node list \"{}\": range {} is reversed", list, item));
      for (int i = lo; i <= hi; ++i) out.push_back(i);
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::vector<int>> online_nodes(const std::string& path) {
  auto text = read_file(path);
  if (!text) {
    if (text.error().sys_errno() == ENOENT) return std::vector<int>{0};
    return std::move(text).error();
  }
  return parse_nodes(*text).context(path);
}

Result<Prepared> prepare(const Config& c, const std::vector<int>& online) {
  Prepared p;
  auto m = std::find(std::begin(kModeNames), std::end(kModeNames), c.mode);
  if (m == std::end(kModeNames)) return bad("mode", fmt::format("unknown mode \"{}\"", c.mode));
  int mode = kModeValues[m - std::begin(kModeNames)];
  int flags = 0;
  for (size_t i = 0; i < c.flags.size(); ++i) {
    auto f = std::find(std::begin(kFlagNames), std::end(kFlagNames), c.flags[i]);
    if (f == std::end(kFlagNames))
      return bad(fmt::format("flags/{}", i), fmt::format("unknown flag \"{}\"", c.flags[i]));
    flags |= kFlagValues[f - std::begin(kFlagNames)];
  }
  std::vector<int> nodes;
  if (c.nodes) {
    auto n = parse_nodes(*c.nodes);
    if (!n) return bad("nodes", n.error().message());
    nodes = std::move(*n);
  }
  const std::string name(c.mode);
  switch (mode) {
    case kDefault:
    case kLocal:
      if (!nodes.empty()) return bad("nodes", fmt::format("{} takes no nodes", name));
      if (flags & (kFStaticNodes | kFRelativeNodes))
        return bad("flags", fmt::format("{} takes neither MPOL_F_STATIC_NODES nor MPOL_F_RELATIVE_NODES", name));
      break;
    case kBind:
    case kInterleave:
    case kWeightedInterleave:
    case kPreferredMany:
      if (nodes.empty()) return bad("nodes", fmt::format("{} needs at least one node", name));
      break;
    default:  // MPOL_PREFERRED: zero nodes means local allocation
      if (nodes.empty() && (flags & (kFStaticNodes | kFRelativeNodes)))
        return bad("flags", "MPOL_PREFERRED without nodes takes neither MPOL_F_STATIC_NODES nor MPOL_F_RELATIVE_NODES");
      break;
  }
  if ((flags & kFStaticNodes) && (flags & kFRelativeNodes))
    return bad("flags", "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other");
  if ((flags & kFNumaBalancing) && mode != kBind && mode != kPreferredMany)
    return bad("flags", fmt::format("MPOL_F_NUMA_BALANCING needs MPOL_BIND or MPOL_PREFERRED_MANY, not {}", name));
  if (!(flags & kFRelativeNodes))
    for (int n : nodes)
      if (!std::binary_search(online.begin(), online.end(), n))
        return bad("nodes", fmt::format("node {} is not online on this host", n));
  p.mode = mode | flags;
  constexpr int kBits = 8 * sizeof(unsigned long);
  for (int n : nodes) p.mask[static_cast<size_t>(n / kBits)] |= 1UL << (n % kBits);
  // The kernel reads maxnode - 1 bits.
  p.maxnode = nodes.empty() ? 0 : static_cast<unsigned long>(nodes.back()) + 2;
  return p;
}

int apply(const Prepared& p) noexcept {
  long r = ::syscall(SYS_set_mempolicy, p.mode, p.maxnode ? p.mask.data() : nullptr, p.maxnode);
  return r < 0 ? -errno : 0;
}

Result<void> apply_result(const Prepared& p) {
  int r = apply(p);
  if (r < 0) return Error::sys("set_mempolicy (linux.memoryPolicy)", -r);
  return {};
}

}  // namespace husk::os::mempolicy
