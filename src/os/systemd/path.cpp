// cgroupsPath -> transient unit, slice expansion, the unit's cgroup directories (runc 1.1.5).
#include "husk/os/systemd/path.hpp"

#include <fmt/format.h>

#include "husk/core/path.hpp"

namespace husk::os::systemd {
namespace {

Error bad_path(std::string_view p, std::string_view why) {
  return Error::make(Errc::invalid_spec, fmt::format("linux.cgroupsPath {:?}: {} (the systemd cgroup driver expects "
                                                     "\"slice:prefix:name\")",
                                                     p, why));
}

constexpr size_t kUnitNameMax = 255;  // systemd's UNIT_NAME_MAX - 1

bool unit_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '-' ||
         c == '_' || c == '.' || c == '\\' || c == '@';
}

}  // namespace

bool valid_unit_name(std::string_view unit) {
  if (unit.empty() || unit.size() > kUnitNameMax) return false;
  auto dot = unit.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  auto suffix = unit.substr(dot + 1);
  if (suffix != "scope" && suffix != "slice" && suffix != "service") return false;
  for (char c : unit.substr(0, dot))
    if (!unit_char(c)) return false;
  return true;
}

Result<std::string> expand_slice(std::string_view slice) {
  constexpr std::string_view suffix = ".slice";
  auto bad = [&] { return Error::make(Errc::invalid_spec, fmt::format("invalid slice name {:?}", slice)); };
  if (!slice.ends_with(suffix) || slice.find('/') != std::string_view::npos) return bad();
  auto name = slice.substr(0, slice.size() - suffix.size());
  if (name == "-") return std::string("/");
  if (name.empty()) return bad();
  std::string out, prefix;
  size_t start = 0;
  while (true) {
    auto dash = name.find('-', start);
    auto comp = name.substr(start, dash == std::string_view::npos ? std::string_view::npos : dash - start);
    if (comp.empty()) return bad();  // "-a", "a--b", "a-"
    out += "/" + prefix + std::string(comp) + std::string(suffix);
    prefix += std::string(comp) + "-";
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  return out;
}

Result<UnitPath> parse_cgroups_path(std::string_view p, std::string_view id, bool rootless) {
  UnitPath u;
  std::string prefix = "husk";
  std::string slice;
  if (p.empty()) {
    u.name = std::string(id);
  } else {
    auto c1 = p.find(':');
    auto c2 = c1 == std::string_view::npos ? c1 : p.find(':', c1 + 1);
    if (c2 == std::string_view::npos || p.find(':', c2 + 1) != std::string_view::npos)
      return bad_path(p, "not three fields separated by ':'");
    slice = std::string(p.substr(0, c1));
    prefix = std::string(p.substr(c1 + 1, c2 - c1 - 1));
    u.name = std::string(p.substr(c2 + 1));
  }
  u.slice = slice.empty() ? (rootless ? "user.slice" : "system.slice") : slice;
  if (!expand_slice(u.slice)) return bad_path(p, fmt::format("invalid slice name {:?}", u.slice));
  if (u.name.empty()) return bad_path(p, "empty name");
  // runc: a scope unless the name is a slice; the prefix is joined with '-' even when empty.
  u.unit = u.name.ends_with(".slice") ? u.name : prefix + "-" + u.name + ".scope";
  if (!valid_unit_name(u.unit)) return bad_path(p, fmt::format("{:?} is not a valid unit name", u.unit));
  if (u.is_slice() && !expand_slice(u.unit)) return bad_path(p, fmt::format("invalid slice name {:?}", u.unit));
  return u;
}

Result<std::string> unit_cgroup(const UnitPath& u, std::string_view manager_cgroup) {
  std::string rel;
  if (u.is_slice()) {
    TRY_ASSIGN(rel, expand_slice(u.unit));
  } else {
    TRY_ASSIGN(auto s, expand_slice(u.slice));
    rel = path::join(s, u.unit);
  }
  return path::clean(path::join(manager_cgroup.empty() ? "/" : manager_cgroup, rel));
}

std::map<std::string, std::string> unit_dirs(const cgroups::Layout& l, const std::string& cg,
                                             const std::map<std::string, std::string>& pid1) {
  std::map<std::string, std::string> out;
  for (auto& h : l.hierarchies) {
    auto it = pid1.find(h.name);  // parse_proc_cgroup's keys: the v2 line ("0::") is "unified"
    std::string base = it != pid1.end() ? path::clean(it->second) : "/";
    // systemd running in a container sees its own cgroup as the root: runc strips "init.scope".
    if (base.ends_with("/init.scope")) base = path::clean(base.substr(0, base.size() - 10));
    std::string p = path::clean(path::join(base, cg));
    if (h.root != "/" && path::is_within(h.root, p)) p = p.substr(h.root.size());
    out[h.name] = path::clean(path::join(h.mountpoint, p));
  }
  return out;
}

std::string common_ancestor(std::string_view a, std::string_view b) {
  std::string c = path::clean(a), d = path::clean(b);
  while (c != "/" && !path::is_within(c, d)) c = path::dirname(c);
  return c;
}

}  // namespace husk::os::systemd
