// Device rules -> DevicePolicy/DeviceAllow, as runc 1.1.5 does: systemd only has an allow
// list, so the rules are replayed on a small emulator of the devices cgroup first. The
// devices program husk installs itself stays the enforcement; these are best effort.
#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <sstream>

#include "husk/core/fd.hpp"
#include "husk/core/log.hpp"
#include "husk/os/systemd/props.hpp"

namespace husk::os::systemd {
namespace {

struct Rule {
  char type;             // 'c' or 'b'
  int64_t major, minor;  // -1: wildcard
  std::string access;    // subset of "rwm"
};

std::string merge_access(const std::string& a, const std::string& b) {
  std::string out;
  for (char c : std::string("rwm"))
    if (a.find(c) != std::string::npos || b.find(c) != std::string::npos) out += c;
  return out;
}

std::string remove_access(const std::string& a, const std::string& b) {
  std::string out;
  for (char c : a)
    if (b.find(c) == std::string::npos) out += c;
  return out;
}

// The devices cgroup's state after the rules: the default, and the exceptions to it.
struct Emulator {
  bool default_allow = false;
  std::vector<Rule> exceptions;

  void apply(const spec::DeviceRule& d) {
    std::string type = d.type.value_or("a");
    if (type == "a") {  // the kernel takes any "a" rule as "a *:* rwm": a reset
      default_allow = d.allow;
      exceptions.clear();
      return;
    }
    Rule r{type[0], d.major.value_or(-1), d.minor.value_or(-1), merge_access(d.access.value_or("rwm"), "")};
    auto same = [&](const Rule& e) { return e.type == r.type && e.major == r.major && e.minor == r.minor; };
    auto it = std::find_if(exceptions.begin(), exceptions.end(), same);
    if (d.allow != default_allow) {  // a new exception, or more access for one
      if (it == exceptions.end())
        exceptions.push_back(r);
      else
        it->access = merge_access(it->access, r.access);
    } else if (it != exceptions.end()) {  // back towards the default
      it->access = remove_access(it->access, r.access);
      if (it->access.empty()) exceptions.erase(it);
    }
  }
};

// "char-pts" for (c, 136): the group name of a major in /proc/devices, or "".
std::string device_group(std::string_view proc_devices, char type, int64_t major) {
  std::istringstream ss{std::string(proc_devices)};
  std::string line;
  char current = 0;
  while (std::getline(ss, line)) {
    if (line == "Character devices:")
      current = 'c';
    else if (line == "Block devices:")
      current = 'b';
    if (current != type) continue;
    std::istringstream ls(line);
    int64_t m = -1;
    std::string name;
    if (ls >> m >> name && m == major) return (type == 'c' ? "char-" : "block-") + name;
  }
  return "";
}

}  // namespace

Host read_host(bool v2, unsigned version) {
  Host h;
  h.v2 = v2;
  h.version = version;
  if (auto t = read_file("/proc/devices")) h.proc_devices = *t;
  h.device_exists = [](const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 || stat(("/sys" + p).c_str(), &st) == 0;
  };
  return h;
}

Result<Properties> device_properties(const std::vector<spec::DeviceRule>& rules, const Host& h) {
  Emulator emu;
  for (auto& d : rules) {
    auto t = d.type.value_or("a");
    if (t != "a" && t != "c" && t != "b" && t != "u")
      return Error::make(Errc::invalid_spec, fmt::format("linux.resources.devices: invalid type {:?}", t));
    if (t == "u") t = "c";  // unbuffered character devices are character devices
    auto copy = d;
    copy.type = t;
    emu.apply(copy);
  }
  Properties ps{{"DevicePolicy", std::string("strict")}, {"DeviceAllow", DeviceAllowList{}}};
  if (emu.default_allow) {
    if (emu.exceptions.empty())
      return Properties{{"DevicePolicy", std::string("auto")}, {"DeviceAllow", DeviceAllowList{}}};
    log::warning(
        "systemd has no deny rules for devices: its unit gets a deny-all policy (husk's own devices "
        "program applies the rules)");
    return ps;
  }
  DeviceAllowList allow;
  for (auto& r : emu.exceptions) {
    std::string path;
    if (r.major == -1) {
      if (r.minor != -1) continue;  // "*:n" has no systemd form
      path = r.type == 'c' ? "char-*" : "block-*";
    } else if (r.minor == -1) {
      path = device_group(h.proc_devices, r.type, r.major);
      if (path.empty()) continue;
    } else {
      path = fmt::format("/dev/{}/{}:{}", r.type == 'c' ? "char" : "block", r.major, r.minor);
      // systemd warns about paths that do not exist; runc skips those.
      if (h.device_exists && !h.device_exists(path)) continue;
    }
    allow.emplace_back(path, r.access);
  }
  ps.push_back({"DeviceAllow", std::move(allow)});
  return ps;
}

}  // namespace husk::os::systemd
