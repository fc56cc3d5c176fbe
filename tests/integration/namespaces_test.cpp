#include <unistd.h>

#include <algorithm>

#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace it;

TEST_CASE("namespaces: uts hostname and domainname, pid 1", "[ns]") {
  Bundle b("uts");
  b.config["hostname"] = "box1";
  b.config["domainname"] = "example.org";
  b.args({"/bin/test_init", "hostname"});
  Out o = b.run();
  REQUIRE(o.code == 0);
  CHECK(o.out == "box1 example.org\n");
  b.args({"/bin/test_init", "pid"});
  CHECK(b.run().out == "1\n");
}

TEST_CASE("namespaces: a new network namespace has only lo", "[ns]") {
  Bundle b("net");
  b.args({"/bin/test_init", "cat", "/proc/net/dev"});
  Out o = b.run();
  REQUIRE(o.code == 0);
  CHECK(o.out.find("lo:") != std::string::npos);
  CHECK(o.out.find("eth") == std::string::npos);
}

TEST_CASE("namespaces: user namespace with uid/gid mappings", "[ns]") {
  Bundle b("userns");
  b.config["linux"]["namespaces"].push_back({{"type", "user"}});
  b.config["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  b.config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  // The mapped root must reach the rootfs: world-readable bundle.
  b.args({"/bin/test_init", "cat", "/proc/self/uid_map", "/proc/self/gid_map"});
  Out o = b.run();
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find("0     100000      65536") != std::string::npos);
  // mknod is refused in a user namespace: default devices are binds of the host's nodes.
  b.args({"/bin/test_init", "stat", "/dev/null"});
  Out d = b.run();
  INFO(d.err);
  CHECK(d.out == "c 1:3 0666 65534:65534\n");  // host root is unmapped: overflow ids
  // Its root (host uid 100000) cannot open the host's cgroup files, yet the init is in the
  // container's cgroup in every hierarchy (v1: through `tasks` fds from the parent).
  auto& ns = b.config["linux"]["namespaces"];
  for (size_t i = 0; i < ns.size(); ++i)
    if (ns[i]["type"] == "cgroup") ns.erase(i);
  b.args({"/bin/test_init", "cat", "/proc/self/cgroup"});
  Out c = b.run();
  INFO(c.err);
  REQUIRE(c.code == 0);
  if (cgroup_v1_host())
    for (auto h : {"memory", "pids", "cpuset", "freezer", "devices", "name=systemd"})
      CHECK(c.out.find(std::string(":") + h + ":" + b.cgroup + "\n") != std::string::npos);
  CHECK(c.out.find("0::" + b.cgroup + "\n") != std::string::npos);
}

TEST_CASE("namespaces: join an existing namespace by path", "[ns]") {
  Bundle a("nsA");
  a.config["hostname"] = "owner";
  a.args({"/bin/test_init", "pause"});
  REQUIRE(a.run({"-d"}).code == 0);
  int pid = a.state()["pid"];
  Bundle b("nsB");
  b.add_namespace("cgroup");
  for (auto& n : b.config["linux"]["namespaces"])
    if (n["type"] == "uts") n["path"] = "/proc/" + std::to_string(pid) + "/ns/uts";
  b.config.erase("hostname");
  b.args({"/bin/test_init", "hostname"});
  Out o = b.run();
  INFO(o.err);
  CHECK(o.out == "owner (none)\n");
  // With stage 1 (a namespace to join) P joins the init to its cgroups by pid.
  b.args({"/bin/test_init", "cat", "/proc/self/cgroup"});
  Out cg = b.run();
  CHECK(cg.out.find(cgroup_v1_host() ? ":memory:/\n" : "0::/\n") != std::string::npos);  // own cgroup namespace
  b.config["linux"]["namespaces"].erase(
      std::remove_if(b.config["linux"]["namespaces"].begin(), b.config["linux"]["namespaces"].end(),
                     [](auto& n) { return n["type"] == "cgroup"; }),
      b.config["linux"]["namespaces"].end());
  Out cg2 = b.run();
  if (cgroup_v1_host()) CHECK(cg2.out.find(":memory:" + b.cgroup + "\n") != std::string::npos);
  CHECK(cg2.out.find("0::" + b.cgroup + "\n") != std::string::npos);
  b.args({"/bin/test_init", "hostname"});
  // The wrong type is a create error naming the path.
  for (auto& n : b.config["linux"]["namespaces"])
    if (n["type"] == "uts") n["path"] = "/proc/" + std::to_string(pid) + "/ns/net";
  Out bad = b.run();
  CHECK(bad.code != 0);
  CHECK(bad.err.find("is not a uts namespace") != std::string::npos);
}

TEST_CASE("namespaces: cgroup namespace hides the host path", "[ns]") {
  Bundle b("cgns");
  b.add_namespace("cgroup");
  b.args({"/bin/test_init", "cat", "/proc/self/cgroup"});
  Out o = b.run();
  REQUIRE(o.code == 0);
  CHECK(o.out.find(cgroup_v1_host() ? ":memory:/\n" : "0::/\n") != std::string::npos);
  CHECK(o.out.find("husk-test") == std::string::npos);
  // Without it the container sees its absolute cgroup.
  auto& ns = b.config["linux"]["namespaces"];
  for (size_t i = 0; i < ns.size(); ++i)
    if (ns[i]["type"] == "cgroup") ns.erase(i);
  Out o2 = b.run();
  // v1 hierarchies: the init joined them itself; v2 (hybrid host): CLONE_INTO_CGROUP.
  if (cgroup_v1_host())
    for (auto h : {"memory", "pids", "cpuset", "freezer", "name=systemd"})
      CHECK(o2.out.find(std::string(":") + h + ":" + b.cgroup + "\n") != std::string::npos);
  CHECK(o2.out.find("0::" + b.cgroup + "\n") != std::string::npos);
}

TEST_CASE("namespaces: time namespace offsets", "[ns]") {
  Bundle b("timens");
  b.config["linux"]["namespaces"].push_back({{"type", "time"}});
  b.config["linux"]["timeOffsets"] = {{"boottime", {{"secs", 86400 * 365}, {"nanosecs", 0}}}};
  b.args({"/bin/test_init", "cat", "/proc/uptime"});
  Out o = b.run();
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(std::stod(o.out) > 86400.0 * 365);
}
