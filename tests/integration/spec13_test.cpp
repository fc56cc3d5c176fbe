// runtime-spec 1.3 on real containers: linux.memoryPolicy (init and exec), pids.limit 0,
// linux.netDevices (a veth end moved in and renamed), linux.intelRdt without resctrl,
// idmapped mounts (bind, rbind + ridmap, tmpfs).
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "harness.hpp"
#include "husk/os/idmap.hpp"

using namespace it;

namespace {

Out exec_in(const Bundle& b, const std::vector<std::string>& cmd) {
  std::vector<std::string> a{"exec", b.id};
  a.insert(a.end(), cmd.begin(), cmd.end());
  return it::husk(a);
}

void run_detached(Bundle& b) {
  Out o = b.run({"--detach"});
  INFO(o.err);
  REQUIRE(o.code == 0);
  REQUIRE(b.state()["status"] == "running");
}

// Create must fail with `needle` in its one-line error and leave nothing behind.
void refused(Bundle& b, const std::string& needle) {
  b.save();
  Out o = b.create();
  INFO(o.err);
  CHECK(o.code != 0);
  CHECK(o.err.find(needle) != std::string::npos);
  CHECK(std::count(o.err.begin(), o.err.end(), '\n') <= 1);
  CHECK(it::husk({"state", b.id}).code != 0);
  CHECK_FALSE(exists(state_root() + "/" + b.id));
  for (auto& c : leftover_cgroups()) CHECK(c.find(b.cgroup) == std::string::npos);
}

bool link_exists(const std::string& name) { return run_cmd({"/sbin/ip", "link", "show", name}).code == 0; }

// Where the idmapped-bind tests make their sources: HUSK_TEST_IDMAP_DIR names a directory on
// a file system that can be idmapped (the pure-v2 VM's ext4, tests/vm/guest.sh: its /tmp is a
// tmpfs, which 6.1 cannot idmap); else /tmp.
const char* idmap_dir_env() {
  const char* e = ::getenv("HUSK_TEST_IDMAP_DIR");
  return e && *e ? e : nullptr;
}

// A host directory, world-searchable, owned by `uid`, removed afterwards.
struct HostDir {
  std::string path;
  explicit HostDir(uid_t uid) {
    std::string t = std::string(idmap_dir_env() ? idmap_dir_env() : "/tmp") + "/husk-idmap-XXXXXX";
    INFO(t);
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    path = t;
    ::chmod(path.c_str(), 0755);
    REQUIRE(::chown(path.c_str(), uid, uid) == 0);
  }
  ~HostDir() { run_cmd({"/bin/rm", "-rf", path}); }
};

std::string owner(const std::string& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) < 0) return "missing";
  return std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
}

// A user namespace (root is host 100000); the mount points exist already: its root
// cannot create them in the rootfs, which belongs to the host's root.
void userns(Bundle& b) {
  for (auto d : {"/data", "/scratch"}) ::mkdir((b.rootfs + d).c_str(), 0755);
  b.config["linux"]["namespaces"].push_back({{"type", "user"}});
  b.config["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  b.config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
}

// Where the filesystem of `dir` cannot be idmapped on this kernel (tmpfs before 6.3),
// create must say so naming the mount; the test is then skipped, unless the directory came
// from HUSK_TEST_IDMAP_DIR, which promises a file system that can be: then it fails.
bool idmap_unsupported(Bundle& b, const std::string& dir) {
  if (husk::os::idmap::probe_bind(dir)) return false;
  INFO("HUSK_TEST_IDMAP_DIR=" << (idmap_dir_env() ? idmap_dir_env() : "(unset)"));
  CHECK(idmap_dir_env() == nullptr);
  Out o = b.run();
  INFO(o.err);
  CHECK(o.code != 0);
  CHECK(o.err.find("does not support idmapped mounts on this kernel") != std::string::npos);
  CHECK(o.err.find("/mounts/") != std::string::npos);
  skip("the filesystem of " + dir + " cannot be idmapped on this kernel");
  return true;
}

nlohmann::json one_map(uint32_t container, uint32_t host, uint32_t size) {
  return {{{"containerID", container}, {"hostID", host}, {"size", size}}};
}

}  // namespace

TEST_CASE("1.3 memoryPolicy: MPOL_BIND node 0 for the init and exec'd processes", "[spec13]") {
  Bundle b("mempol");
  b.busybox();
  b.config["linux"]["memoryPolicy"] = {{"mode", "MPOL_BIND"}, {"nodes", "0"}};
  b.args({"/bin/test_init", "pause"});
  b.save();
  run_detached(b);
  int pid = b.state()["pid"];
  std::string maps = slurp("/proc/" + std::to_string(pid) + "/numa_maps");
  INFO(maps);
  CHECK(maps.find(" bind:0 ") != std::string::npos);
  CHECK(maps.find(" default ") == std::string::npos);
  Out e = exec_in(b, {"/bin/test_init", "cat", "/proc/self/numa_maps"});
  INFO(e.err);
  CHECK(e.code == 0);
  CHECK(e.out.find(" bind:0 ") != std::string::npos);
  CHECK(e.out.find(" default ") == std::string::npos);
  // A child of an exec'd shell inherits it.
  Out c = exec_in(b, {"/bin/sh", "-c", "busybox cat /proc/self/numa_maps"});
  CHECK(c.out.find(" bind:0 ") != std::string::npos);
}

TEST_CASE("1.3 memoryPolicy: set before the seccomp filter, which may forbid set_mempolicy", "[spec13]") {
  // Docker's default profile allows set_mempolicy only with CAP_SYS_NICE.
  Bundle b("mempol-seccomp");
  b.config["linux"]["memoryPolicy"] = {{"mode", "MPOL_BIND"}, {"nodes", "0"}};
  b.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls", {{{"names", {"set_mempolicy", "mbind"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}}}}};
  for (bool nnp : {true, false}) {
    b.config["process"]["noNewPrivileges"] = nnp;
    b.args({"/bin/test_init", "cat", "/proc/self/numa_maps"});
    Out o = b.run();
    INFO(nnp << ": " << o.err);
    CHECK(o.code == 0);
    CHECK(o.out.find(" bind:0 ") != std::string::npos);
  }
}

TEST_CASE("1.3 memoryPolicy: bad values are refused naming the field", "[spec13]") {
  struct Case {
    nlohmann::json mp;
    std::string needle;
  };
  for (auto& [mp, needle] : std::vector<Case>{
           {{{"mode", "MPOL_FOO"}}, "/linux/memoryPolicy/mode: unknown mode"},
           {{{"mode", "MPOL_BIND"}, {"nodes", "0"}, {"flags", {"MPOL_F_X"}}}, "/linux/memoryPolicy/flags/0"},
           {{{"mode", "MPOL_BIND"}, {"nodes", "0-"}}, "/linux/memoryPolicy/nodes: bad node list"},
           {{{"mode", "MPOL_BIND"}}, "/linux/memoryPolicy/nodes: MPOL_BIND needs at least one node"},
           {{{"mode", "MPOL_BIND"}, {"nodes", "1000"}}, "node 1000 is not online"},
           {{{"mode", "MPOL_LOCAL"}, {"nodes", "0"}}, "MPOL_LOCAL takes no nodes"}}) {
    Bundle b("mempol-bad");
    b.config["linux"]["memoryPolicy"] = mp;
    refused(b, needle);
  }
}

TEST_CASE("1.3 pids.limit 0 refuses any fork", "[spec13]") {
  Bundle b("pids0");
  b.busybox();
  b.config["linux"]["resources"]["pids"] = {{"limit", 0}};
  b.args({"/bin/sh", "-c", "/bin/test_init hostname; echo rc=$?"});
  b.save();
  Out o = b.run();
  INFO(o.out << o.err);
  CHECK(o.out.find("(none)") == std::string::npos);  // test_init never ran
  CHECK(o.out.find("rc=0") == std::string::npos);
  CHECK((o.err + o.out).find("fork") != std::string::npos);
  // The file says 0, not max.
  b.args({"/bin/test_init", "pause"});
  b.save();
  run_detached(b);
  std::string f =
      cgroup_v1_host() ? "/sys/fs/cgroup/pids" + b.cgroup + "/pids.max" : "/sys/fs/cgroup" + b.cgroup + "/pids.max";
  CHECK(slurp(f) == "0\n");
}

TEST_CASE("1.3 netDevices: a veth end moves in as eth9 and is gone from the host", "[spec13]") {
  std::string host = "hk" + std::to_string(::getpid()) + "a", peer = "hk" + std::to_string(::getpid()) + "b";
  struct Cleanup {
    std::string a, b;
    ~Cleanup() {
      run_cmd({"/sbin/ip", "link", "del", a});
      run_cmd({"/sbin/ip", "link", "del", b});
    }
  } cleanup{host, peer};
  Out mk = run_cmd({"/sbin/ip", "link", "add", host, "type", "veth", "peer", "name", peer});
  INFO(mk.err);
  REQUIRE(mk.code == 0);
  {
    Bundle b("netdev");
    b.busybox();
    b.add_namespace("network");
    b.config["linux"]["netDevices"] = {{host, {{"name", "eth9"}}}};
    b.args({"/bin/test_init", "pause"});
    b.save();
    run_detached(b);
    Out in = exec_in(b, {"/bin/busybox", "ip", "link", "show", "eth9"});
    INFO(in.out << in.err);
    CHECK(in.code == 0);
    CHECK(in.out.find("eth9") != std::string::npos);
    CHECK(in.out.find("UP") != std::string::npos);  // the spec: "MUST set the device state to up"
    CHECK_FALSE(link_exists(host));
    CHECK(link_exists(peer));
    CHECK(it::husk({"delete", "--force", b.id}).code == 0);
  }
  // The netns is freed asynchronously; a veth end there takes its peer with it.
  for (int i = 0; i < 100 && link_exists(peer); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(link_exists(peer));
  CHECK_FALSE(link_exists(host));
}

TEST_CASE("1.3 netDevices: into a network namespace joined by path, left there on delete", "[spec13]") {
  std::string ns = "husk-it-" + std::to_string(::getpid()), dev = "hk" + std::to_string(::getpid()) + "j";
  struct Cleanup {
    std::string ns, dev;
    ~Cleanup() {
      run_cmd({"/sbin/ip", "netns", "del", ns});
      run_cmd({"/sbin/ip", "link", "del", dev});
      run_cmd({"/sbin/ip", "link", "del", dev + "p"});
    }
  } cleanup{ns, dev};
  REQUIRE(run_cmd({"/sbin/ip", "netns", "add", ns}).code == 0);
  REQUIRE(run_cmd({"/sbin/ip", "link", "add", dev, "type", "veth", "peer", "name", dev + "p"}).code == 0);
  {
    Bundle b("netdev-join");
    b.busybox();
    auto& nss = b.config["linux"]["namespaces"];
    for (size_t i = 0; i < nss.size(); ++i)
      if (nss[i]["type"] == "network") nss.erase(i);
    nss.push_back({{"type", "network"}, {"path", "/run/netns/" + ns}});
    b.config["linux"]["netDevices"] = {{dev, {{"name", "eth8"}}}};
    b.args({"/bin/busybox", "ip", "link", "show", "eth8"});
    Out o = b.run();
    INFO(o.out << o.err);
    CHECK(o.code == 0);
    CHECK(o.out.find("eth8") != std::string::npos);
  }
  // Deleted: the device stays in that namespace (the spec: not moved out).
  CHECK_FALSE(link_exists(dev));
  CHECK(run_cmd({"/sbin/ip", "netns", "exec", ns, "/sbin/ip", "link", "show", "eth8"}).code == 0);
}

TEST_CASE("1.3 netDevices: needs a network namespace, valid and distinct names", "[spec13]") {
  {
    Bundle b("netdev-nons");
    auto& ns = b.config["linux"]["namespaces"];
    for (size_t i = 0; i < ns.size(); ++i)
      if (ns[i]["type"] == "network") ns.erase(i);
    b.config["linux"]["netDevices"] = {{"dummy0", nlohmann::json::object()}};
    refused(b, "/linux/netDevices: moving network devices needs a network namespace");
  }
  {
    Bundle b("netdev-name");
    b.add_namespace("network");
    b.config["linux"]["netDevices"] = {{"dummy0", {{"name", "a/b"}}}};
    refused(b, "/linux/netDevices/dummy0/name: invalid network device name");
  }
  {
    Bundle b("netdev-dup");
    b.add_namespace("network");
    b.config["linux"]["netDevices"] = {{"dummy0", {{"name", "eth0"}}}, {"dummy1", {{"name", "eth0"}}}};
    refused(b, "/linux/netDevices/dummy1/name: two devices would be named");
  }
  {
    Bundle b("netdev-missing");
    b.add_namespace("network");
    b.config["linux"]["netDevices"] = {{"hknosuchdev", nlohmann::json::object()}};
    refused(b, "/linux/netDevices/hknosuchdev");
  }
}

TEST_CASE("1.3 intelRdt: create fails with one line when resctrl is absent", "[spec13]") {
  if (slurp("/proc/self/mountinfo").find(" - resctrl ") != std::string::npos)
    return skip("this host has resctrl mounted");
  Bundle b("rdt");
  b.config["linux"]["intelRdt"] = {{"closID", "husk-test"}, {"l3CacheSchema", "L3:0=f"}};
  refused(b, "config.json: /linux/intelRdt: resctrl is not mounted");
  Bundle v("rdt-bad");
  v.config["linux"]["intelRdt"] = {{"memBwSchema", "L3:0=f"}};
  refused(v, "/linux/intelRdt/memBwSchema");
}

TEST_CASE("1.3 idmapped bind: a uid-1000 directory seen through the mount's own mappings", "[spec13]") {
  HostDir d(1000);
  Bundle b("idmap-bind");
  userns(b);
  // On-disk 1000 appears as host 100000, the container's root; its files go to disk as 1000.
  b.config["mounts"].push_back({{"destination", "/data"},
                                {"type", "bind"},
                                {"source", d.path},
                                {"options", {"bind"}},
                                {"uidMappings", one_map(1000, 100000, 1)},
                                {"gidMappings", one_map(1000, 100000, 1)}});
  b.args({"/bin/test_init", "stat", "/data"});
  b.save();
  if (idmap_unsupported(b, d.path)) return;
  Out s = b.run();
  INFO(s.err);
  REQUIRE(s.code == 0);
  CHECK(s.out == "d 0:0 0755 0:0\n");
  b.args({"/bin/test_init", "write", "/data/made-inside", "x"});
  b.save();
  Out w = b.run();
  INFO(w.out << w.err);
  CHECK(w.out == "wrote\n");
  CHECK(owner(d.path + "/made-inside") == "1000:1000");
  // Without the mapping the same directory is not the container's (overflow id).
  b.config["mounts"].back().erase("uidMappings");
  b.config["mounts"].back().erase("gidMappings");
  b.args({"/bin/test_init", "stat", "/data"});
  b.save();
  CHECK(b.run().out == "d 0:0 0755 65534:65534\n");
}

TEST_CASE("1.3 idmapped rbind: ridmap maps the submounts too, idmap only the top", "[spec13]") {
  HostDir top(1000), sub(1000);
  ::mkdir((top.path + "/sub").c_str(), 0755);
  REQUIRE(::mount(sub.path.c_str(), (top.path + "/sub").c_str(), nullptr, MS_BIND, nullptr) == 0);
  struct Unmount {
    std::string p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } um{top.path + "/sub"};
  for (auto [opt, sub_owner] : {std::pair{"ridmap", "1000:1000"}, std::pair{"idmap", "65534:65534"}}) {
    Bundle b(std::string("idmap-") + opt);
    userns(b);
    // No mappings of its own: the container's (on-disk 1000 is 1000 inside).
    b.config["mounts"].push_back(
        {{"destination", "/data"}, {"type", "bind"}, {"source", top.path}, {"options", {"rbind", opt}}});
    b.args({"/bin/test_init", "stat", "/data"});
    b.save();
    if (idmap_unsupported(b, top.path)) return;
    Out t = b.run();
    INFO(opt << ": " << t.err);
    CHECK(t.out == "d 0:0 0755 1000:1000\n");
    b.args({"/bin/test_init", "stat", "/data/sub"});
    b.save();
    CHECK(b.run().out == std::string("d 0:0 0755 ") + sub_owner + "\n");
  }
}

TEST_CASE("1.3 idmapped tmpfs: a fresh tmpfs owned by the mapped id", "[spec13]") {
  if (!husk::os::idmap::probe_tmpfs()) return skip("this kernel cannot idmap tmpfs (needs 6.3+)");
  Bundle b("idmap-tmpfs");
  userns(b);
  // The tmpfs root (on-disk 0) appears as host 101000: uid 1000 in the container.
  b.config["mounts"].push_back({{"destination", "/scratch"},
                                {"type", "tmpfs"},
                                {"source", "tmpfs"},
                                {"options", {"nosuid", "mode=755"}},
                                {"uidMappings", one_map(0, 101000, 1)},
                                {"gidMappings", one_map(0, 101000, 1)}});
  b.args({"/bin/test_init", "stat", "/scratch"});
  b.save();
  Out s = b.run();
  INFO(s.err);
  REQUIRE(s.code == 0);
  CHECK(s.out == "d 0:0 0755 1000:1000\n");
}

TEST_CASE("1.3 idmapped mounts: the spec's errors", "[spec13]") {
  {
    Bundle b("idmap-half");
    userns(b);
    b.config["mounts"].push_back({{"destination", "/data"},
                                  {"type", "bind"},
                                  {"source", "/tmp"},
                                  {"options", {"bind"}},
                                  {"uidMappings", one_map(0, 100000, 1)}});
    refused(b, "/gidMappings: must be given together with uidMappings");
  }
  {
    Bundle b("idmap-nons");
    b.config["mounts"].push_back(
        {{"destination", "/data"}, {"type", "bind"}, {"source", "/tmp"}, {"options", {"bind", "idmap"}}});
    refused(b, "/options: idmap needs uidMappings/gidMappings or a user namespace");
  }
}
