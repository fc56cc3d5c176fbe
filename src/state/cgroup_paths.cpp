#include "husk/state/cgroup_paths.hpp"

namespace husk::state {

namespace {
constexpr std::string_view kV2Key = "unified";
}

bool hierarchy_has(std::string_view list, std::string_view controller) {
  while (!list.empty()) {
    auto comma = list.find(',');
    if (list.substr(0, comma) == controller) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::string CgroupPaths::v1_dir(std::string_view controller) const {
  for (auto& [name, dir] : v1)
    if (name == controller || hierarchy_has(name, controller)) return dir;
  return "";
}

std::vector<std::string> CgroupPaths::v1_dirs() const {
  std::vector<std::string> out;
  out.reserve(v1.size());
  for (auto& [name, dir] : v1) out.push_back(dir);
  return out;
}

std::vector<std::string> CgroupPaths::all() const {
  auto out = v1_dirs();
  if (!v2.empty()) out.push_back(v2);
  return out;
}

std::map<std::string, std::string> CgroupPaths::to_map() const {
  auto m = v1;
  if (!v2.empty()) m[std::string(kV2Key)] = v2;
  return m;
}

CgroupPaths CgroupPaths::from_map(const std::map<std::string, std::string>& m) {
  CgroupPaths p;
  for (auto& [name, dir] : m) {
    if (name == kV2Key)
      p.v2 = dir;
    else
      p.v1[name] = dir;
  }
  return p;
}

}  // namespace husk::state
