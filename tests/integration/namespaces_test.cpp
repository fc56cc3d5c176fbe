#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

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

namespace {
// Host mounts a test makes under its bundle, detached when the test ends (also on failure),
// before the Bundle removes its directory.
struct HostMounts {
  std::vector<std::string> paths;
  ~HostMounts() {
    for (auto it = paths.rbegin(); it != paths.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  }
};
}  // namespace

// Issue 22 class 14: the sources are cloned by the runtime before the user namespace exists,
// as runc 1.1.5 opens them (mountFds); the mapped root could not traverse priv/ (0700, root).
TEST_CASE("namespaces: bind sources the user namespace cannot reach", "[ns][rootfs][mounts]") {
  Bundle b("userns-bind");
  b.config["linux"]["namespaces"].push_back({{"type", "user"}});
  b.config["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  b.config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  std::string priv = b.dir + "/priv";
  REQUIRE(::mkdir(priv.c_str(), 0700) == 0);
  REQUIRE(::chown(priv.c_str(), 0, 0) == 0);
  for (auto d : {"/src", "/src/sub", "/ro"}) REQUIRE(::mkdir((priv + d).c_str(), 0755) == 0);
  std::ofstream(priv + "/src/f") << "reached";
  std::ofstream(priv + "/ro/g") << "read-only";
  HostMounts hm;
  // A submount (rbind must bring it, bind must not) and a read-only host mount.
  REQUIRE(::mount("tmpfs", (priv + "/src/sub").c_str(), "tmpfs", 0, "mode=755") == 0);
  hm.paths.push_back(priv + "/src/sub");
  std::ofstream(priv + "/src/sub/h") << "nested";
  REQUIRE(::mount((priv + "/ro").c_str(), (priv + "/ro").c_str(), nullptr, MS_BIND, nullptr) == 0);
  hm.paths.push_back(priv + "/ro");
  REQUIRE(::mount("", (priv + "/ro").c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) == 0);
  // The mapped root cannot create the mount points in the root-owned rootfs either.
  for (auto d : {"/mnt", "/flat", "/ro"}) ::mkdir((b.rootfs + d).c_str(), 0755);
  auto bind = [&](const char* dst, const std::string& src, std::vector<std::string> opts) {
    b.config["mounts"].push_back({{"destination", dst}, {"type", "bind"}, {"source", src}, {"options", opts}});
  };
  bind("/mnt", priv + "/src", {"rbind", "ro"});
  bind("/flat", priv + "/src", {"bind"});
  bind("/ro", priv + "/ro", {"bind"});
  b.args({"/bin/test_init", "cat", "/mnt/f", "/mnt/sub/h", "/ro/g"});
  Out o = b.run();
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out == "reachednestedread-only");
  // ro applied to the clone inside the user namespace; the host's ro stays (it is locked).
  b.args({"/bin/test_init", "write", "/mnt/x", "y"});
  CHECK(b.run().out.find("Read-only file system") != std::string::npos);
  b.args({"/bin/test_init", "cat", "/proc/self/mountinfo"});
  Out mi = b.run();
  CHECK(mi.out.find(" /mnt ro,") != std::string::npos);
  CHECK(mi.out.find(" /ro ro,") != std::string::npos);
  // No tree fd reaches the process (each is closed once attached).
  b.args({"/bin/test_init", "fds"});
  Out fds = b.run();
  INFO(fds.out);
  CHECK(fds.code == 0);
  CHECK(fds.out.find("priv") == std::string::npos);
  CHECK(fds.out.find("/src") == std::string::npos);
  // Non-recursive: the submount is not there.
  b.args({"/bin/test_init", "ls", "/flat/sub"});
  Out ls = b.run();
  CHECK(ls.code == 0);
  CHECK(ls.out == "");
  CHECK_FALSE(exists(priv + "/src/x"));
  // Clearing the host mount's read-only flag is refused, as the kernel refuses it to a clone
  // made inside the user namespace (runc: "cannot clear locked flags").
  b.config["mounts"].back()["options"] = {"bind", "rw"};
  b.args({"/bin/test_init", "cat", "/ro/g"});
  Out rw = b.run();
  CHECK(rw.code != 0);
  CHECK(rw.err.find("locked") != std::string::npos);
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
