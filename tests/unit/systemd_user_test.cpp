// The systemd driver rootless (--systemd-cgroup as an unprivileged user): where the user's
// systemd is reached, and the unit and cgroup runc's rootless rules give.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "husk/os/systemd/dbus.hpp"
#include "husk/os/systemd/path.hpp"
#include "husk/os/systemd/unit_plan.hpp"

using namespace husk;
using namespace husk::os::systemd;
namespace cgroups = husk::os::cgroups;

namespace {

std::set<std::string> g_sockets;
bool exists(const std::string& p) { return g_sockets.count(p) > 0; }

}  // namespace

TEST_CASE("systemd user manager address: session bus, runtime dir bus, private socket") {
  g_sockets = {"/run/user/1000/bus", "/run/user/1000/systemd/private", "/tmp/x/systemd/private"};
  // DBUS_SESSION_BUS_ADDRESS wins as given (not checked: it may be abstract or tcp).
  auto a = *user_manager_address("unix:path=/elsewhere", "/run/user/1000", 1000, exists);
  CHECK(a.address == "unix:path=/elsewhere");
  CHECK(a.bus);
  a = *user_manager_address("", "/run/user/1000", 1000, exists);
  CHECK(a.address == "unix:path=/run/user/1000/bus");
  CHECK(a.bus);
  // no XDG_RUNTIME_DIR: /run/user/UID
  a = *user_manager_address(nullptr, nullptr, 1000, exists);
  CHECK(a.address == "unix:path=/run/user/1000/bus");
  // no bus daemon: the manager's private socket, without Hello
  a = *user_manager_address(nullptr, "/tmp/x", 1000, exists);
  CHECK(a.address == "unix:path=/tmp/x/systemd/private");
  CHECK_FALSE(a.bus);
  // nothing: one line naming both sockets
  auto none = user_manager_address(nullptr, nullptr, 1001, exists);
  REQUIRE_FALSE(none);
  auto m = none.error().message();
  CHECK(m.find("/run/user/1001/bus") != std::string::npos);
  CHECK(m.find("/run/user/1001/systemd/private") != std::string::npos);
  CHECK(m.find("XDG_RUNTIME_DIR unset") != std::string::npos);
  CHECK(m.find('\n') == std::string::npos);
}

TEST_CASE("systemd rootless unit: user.slice below the user manager, cgroupsPath as for root") {
  auto layout = cgroups::parse_layout("35 30 0:31 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  const std::string mgr = "/user.slice/user-1000.slice/user@1000.service";
  UnitInputs in;
  in.id = "c1";
  in.rootless = true;
  in.manager_cgroup = mgr;
  for (auto cp : {"", "user.slice:husk:c1", ":husk:c1"}) {
    in.cgroups_path = cp;
    auto p = plan_unit(in, layout, {}, Host{});
    REQUIRE(p);
    CHECK(p->unit.slice == "user.slice");
    CHECK(p->unit.unit == "husk-c1.scope");
    CHECK(p->cgroup == mgr + "/user.slice/husk-c1.scope");
    CHECK(p->dirs.at("unified") == "/sys/fs/cgroup" + mgr + "/user.slice/husk-c1.scope");
  }
  // a nested slice and a slice as the name, both below the manager
  in.cgroups_path = "a-b.slice:pfx:c1";
  auto n = *plan_unit(in, layout, {}, Host{});
  CHECK(n.cgroup == mgr + "/a.slice/a-b.slice/pfx-c1.scope");
  in.cgroups_path = "user.slice:x:mine-c.slice";
  auto s = *plan_unit(in, layout, {}, Host{});
  CHECK(s.unit.unit == "mine-c.slice");
  CHECK(s.cgroup == mgr + "/mine.slice/mine-c.slice");
  // root's default is system.slice with the same cgroupsPath
  auto root = *parse_cgroups_path("", "c1", false);
  CHECK(root.slice == "system.slice");
  // the properties say which slice and delegate the unit, as for root
  in.cgroups_path = "";
  auto p = *plan_unit(in, layout, {}, Host{});
  bool slice = false, delegate = false;
  for (auto& prop : p.props) {
    if (prop.name == "Slice") slice = std::get<std::string>(prop.value) == "user.slice";
    if (prop.name == "Delegate") delegate = std::get<bool>(prop.value);
  }
  CHECK(slice);
  CHECK(delegate);
}

TEST_CASE("systemd rootless: the common ancestor a cgroup migration is checked at") {
  const std::string mgr = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service";
  // from a scope of the user's systemd: the user's manager cgroup (the user's own)
  CHECK(common_ancestor(mgr + "/app.slice/run-r1.scope", mgr + "/user.slice/husk-c1.scope") == mgr);
  // from a login session: the user's slice (root's)
  CHECK(common_ancestor("/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope",
                        mgr + "/user.slice/husk-c1.scope") == "/sys/fs/cgroup/user.slice/user-1000.slice");
  // from a system service: the root of the hierarchy
  CHECK(common_ancestor("/sys/fs/cgroup/system.slice/x.service", mgr + "/user.slice/husk-c1.scope") ==
        "/sys/fs/cgroup");
  // already in it, below it, a name prefix that is not a parent, unclean paths
  CHECK(common_ancestor(mgr, mgr) == mgr);
  CHECK(common_ancestor(mgr + "/a/b", mgr + "/a") == mgr + "/a");
  CHECK(common_ancestor("/x/ab", "/x/abc") == "/x");
  CHECK(common_ancestor("/x//a/", "/x/a/b") == "/x/a");
  CHECK(common_ancestor("/a", "/b") == "/");
}
