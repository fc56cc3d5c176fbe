#include "husk/os/cgroups/detect.hpp"

#include <linux/magic.h>
#include <sys/vfs.h>

#include <sstream>

#include "husk/core/fd.hpp"
#include "husk/core/path.hpp"
#include "husk/os/mountinfo.hpp"

namespace husk::os::cgroups {
namespace {
std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(sep, i);
    if (j == std::string_view::npos) j = s.size();
    out.emplace_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace

const Hierarchy* Layout::find(std::string_view controller) const {
  for (auto& h : hierarchies)
    for (auto& c : h.controllers)
      if (c == controller) return &h;
  return nullptr;
}

const Hierarchy* Layout::unified() const {
  for (auto& h : hierarchies)
    if (h.v2) return &h;
  return nullptr;
}

std::string_view to_string(Layout::Mode m) {
  switch (m) {
    case Layout::Mode::v1:
      return "v1";
    case Layout::Mode::v2:
      return "v2";
    case Layout::Mode::hybrid:
      return "hybrid";
    case Layout::Mode::none:
      return "none";
  }
  return "none";
}

Layout parse_layout(std::string_view mountinfo) {
  Layout l;
  bool any_v1 = false, any_v2 = false;
  for (auto& e : os::mountinfo::parse(mountinfo)) {
    const std::string& fstype = e.fstype;
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    Hierarchy h;
    h.mountpoint = std::move(e.mountpoint);
    h.root = std::move(e.root);
    if (fstype == "cgroup2") {
      h.v2 = true;
      h.name = "unified";
      any_v2 = true;
    } else {
      for (auto& o : split(e.super_options, ',')) {
        if (o == "rw" || o == "ro" || o.empty() || o.rfind("release_agent=", 0) == 0 || o == "xattr" ||
            o == "noprefix" || o == "clone_children" || o == "cpuset_v2_mode" || o == "favordynmods")
          continue;
        h.controllers.push_back(o);
      }
      if (h.controllers.empty()) continue;
      for (size_t i = 0; i < h.controllers.size(); ++i) h.name += (i ? "," : "") + h.controllers[i];
      any_v1 = true;
    }
    // A hierarchy mounted twice (bind mounts): keep the first.
    bool dup = false;
    for (auto& x : l.hierarchies)
      if (x.name == h.name) dup = true;
    if (!dup) l.hierarchies.push_back(std::move(h));
  }
  l.mode = any_v1 && any_v2 ? Layout::Mode::hybrid
           : any_v1         ? Layout::Mode::v1
           : any_v2         ? Layout::Mode::v2
                            : Layout::Mode::none;
  return l;
}

Result<Layout> detect_layout() {
  TRY_ASSIGN(auto text, read_file("/proc/self/mountinfo"));
  Layout l = parse_layout(text);
  // statfs confirms each mount point still shows that hierarchy: mountinfo also lists
  // mounts that a later mount covers (a tmpfs over /sys/fs/cgroup, as in private views).
  std::vector<Hierarchy> verified;
  for (auto& h : l.hierarchies) {
    struct statfs sf;
    if (::statfs(h.mountpoint.c_str(), &sf) < 0) continue;
    if (h.v2 ? sf.f_type != CGROUP2_SUPER_MAGIC : sf.f_type != CGROUP_SUPER_MAGIC) continue;
    if (h.v2 && l.mode == Layout::Mode::v2) {
      if (auto c = read_file(h.mountpoint + "/cgroup.controllers")) {
        std::istringstream cs(*c);
        std::string x;
        while (cs >> x) h.controllers.push_back(x);
      }
    }
    verified.push_back(std::move(h));
  }
  l.hierarchies = std::move(verified);
  bool v1 = false, v2 = false;
  for (auto& h : l.hierarchies) (h.v2 ? v2 : v1) = true;
  l.mode = v1 && v2 ? Layout::Mode::hybrid : v1 ? Layout::Mode::v1 : v2 ? Layout::Mode::v2 : Layout::Mode::none;
  return l;
}

std::map<std::string, std::string> parse_proc_cgroup(std::string_view text) {
  std::map<std::string, std::string> out;
  for (auto& line : split(text, '\n')) {
    auto a = line.find(':');
    if (a == std::string::npos) continue;
    auto b = line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string ctrls = line.substr(a + 1, b - a - 1);
    std::string p = line.substr(b + 1);
    if (ctrls.empty()) {
      out["unified"] = p;
    } else {
      out[ctrls] = p;
    }
  }
  return out;
}

}  // namespace husk::os::cgroups
