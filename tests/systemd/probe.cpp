// husk_systemd_probe: drives the systemd driver's D-Bus client and property conversion
// against a real systemd, without husk (tests/systemd/guest_check.sh runs it in the VM).
//   probe [-s] [-a ADDRESS] connect
//   probe [-s] start CGROUPS_PATH ID PID [--memory N] [--pids N] [--quota Q] [--period P]
//                    [--cpus LIST] [--annotation NAME=VALUE]... [--timeout MS]  (prints the unit)
//   probe stop UNIT | cgroup UNIT | version | reset UNIT
// -s: the system bus even as root (not systemd's private socket); -a: that D-Bus address.
// Prints the round trips and the time of each call on stderr.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "husk/core/log.hpp"
#include "husk/os/systemd/dbus.hpp"
#include "husk/os/systemd/path.hpp"
#include "husk/os/systemd/props.hpp"

using namespace husk;
using namespace husk::os::systemd;

namespace {

int fail(const Error& e) {
  std::fprintf(stderr, "probe: %s\n", e.describe().c_str());
  return e.code() == Errc::exists ? 3 : 1;
}

Result<Bus> open_bus(const std::string& address, bool system_bus) {
  if (!address.empty()) return Bus::connect(address, true);
  return Bus::connect_system(!system_bus);
}

bool is_v2() { return access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0; }

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (std::getenv("PROBE_DEBUG")) husk::log::set_level(husk::log::Level::debug);
  std::string address;
  bool system_bus = false;
  while (!args.empty() && (args[0] == "-s" || args[0] == "-a")) {
    if (args[0] == "-s") {
      system_bus = true;
      args.erase(args.begin());
    } else if (args.size() > 1) {
      address = args[1];
      args.erase(args.begin(), args.begin() + 2);
    } else {
      break;
    }
  }
  if (args.empty()) {
    std::fprintf(stderr, "usage: probe [-s] [-a ADDRESS] connect|start|stop|cgroup|version|reset ...\n");
    return 2;
  }
  auto t0 = std::chrono::steady_clock::now();
  auto ms = [&] { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(); };
  auto bus = open_bus(address, system_bus);
  if (!bus) return fail(bus.error());
  std::fprintf(stderr, "probe: connected in %.2f ms\n", ms());
  const std::string& cmd = args[0];
  Result<void> r = ok();
  if (cmd == "connect") {
    auto v = bus->version();
    if (!v) return fail(v.error());
    std::printf("%u\n", *v);
  } else if (cmd == "version") {
    auto v = bus->manager_string("Version");
    if (!v) return fail(v.error());
    std::printf("%s\n", v->c_str());
  } else if (cmd == "start" && args.size() >= 4) {
    auto u = parse_cgroups_path(args[1], args[2], false);
    if (!u) return fail(u.error());
    spec::Resources res;
    std::map<std::string, std::string> annotations;
    std::chrono::milliseconds timeout = kJobTimeout;
    for (size_t i = 4; i + 1 < args.size(); i += 2) {
      const auto& k = args[i];
      const auto& v = args[i + 1];
      auto& mem = res.memory ? *res.memory : res.memory.emplace();
      auto& cpu = res.cpu ? *res.cpu : res.cpu.emplace();
      if (k == "--memory")
        mem.limit = std::stoll(v);
      else if (k == "--pids")
        res.pids = spec::Pids{std::stoll(v)};
      else if (k == "--quota")
        cpu.quota = std::stoll(v);
      else if (k == "--period")
        cpu.period = std::stoull(v);
      else if (k == "--cpus")
        cpu.cpus = v;
      else if (k == "--timeout")
        timeout = std::chrono::milliseconds(std::stoll(v));
      else if (k == "--annotation")
        annotations[v.substr(0, v.find('='))] = v.substr(v.find('=') + 1);
      else
        return std::fprintf(stderr, "probe: unknown option %s\n", k.c_str()), 2;
    }
    Host h;
    h.v2 = is_v2();
    auto props = unit_properties(*u, std::stoi(args[3]), h.v2);
    // no device rules given: the default device policy would deny everything; leave it
    auto rp = resource_properties(res, h);
    if (!rp) return fail(rp.error());
    for (auto& p : *rp)
      if (p.name != "DevicePolicy" && p.name != "DeviceAllow") props.push_back(p);
    auto ap = annotation_properties(annotations);
    if (!ap) return fail(ap.error());
    props.insert(props.end(), ap->begin(), ap->end());
    for (auto& p : props) std::fprintf(stderr, "probe:   %s = %s\n", p.name.c_str(), to_text(p.value).c_str());
    r = bus->start_transient_unit(u->unit, props, timeout);
    if (r) std::printf("%s\n", u->unit.c_str());
  } else if (cmd == "stop" && args.size() == 2) {
    r = bus->stop_unit(args[1]);
  } else if (cmd == "reset" && args.size() == 2) {
    r = bus->reset_failed_unit(args[1]);
  } else if (cmd == "cgroup" && args.size() == 2) {
    auto cg = bus->unit_control_group(args[1]);
    if (!cg) return fail(cg.error());
    std::printf("%s\n", cg->c_str());
  } else {
    std::fprintf(stderr, "probe: bad arguments\n");
    return 2;
  }
  std::fprintf(stderr, "probe: %s: %u round trips, %.2f ms in all\n", cmd.c_str(), bus->round_trips(), ms());
  if (!r) return fail(r.error());
  return 0;
}
