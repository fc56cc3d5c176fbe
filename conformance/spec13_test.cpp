// runtime-spec v1.3.0 (config.md mounts, config-linux.md netDevices and intelRdt): one
// MUST per test, quoted in its name.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "support.hpp"

using namespace conf;

namespace {

bool link_exists(const std::string& name) { return it::run_cmd({"/sbin/ip", "link", "show", name}).code == 0; }

// A veth pair made for a test, deleted afterwards (whichever ends are still here).
struct Veth {
  std::string a, b;
  explicit Veth(const std::string& tag) {
    a = "hc" + std::to_string(::getpid() % 100000) + tag + "a";
    b = "hc" + std::to_string(::getpid() % 100000) + tag + "b";
    Out o = it::run_cmd({"/sbin/ip", "link", "add", a, "type", "veth", "peer", "name", b});
    INFO(o.err);
    REQUIRE(o.code == 0);
  }
  ~Veth() {
    it::run_cmd({"/sbin/ip", "link", "del", a});
    it::run_cmd({"/sbin/ip", "link", "del", b});
  }
};

void net_bundle(Bundle& b, const std::string& dev, const std::string& name) {
  b.busybox();
  b.add_namespace("network");
  b.config["linux"]["netDevices"] = {{dev, name.empty() ? nlohmann::json::object() : nlohmann::json{{"name", name}}}};
}

nlohmann::json map1(uint32_t c, uint32_t h) { return {{{"containerID", c}, {"hostID", h}, {"size", 1}}}; }

}  // namespace

TEST_CASE(
    "linux netDevices: \"A set of network devices that MUST be made available in the container\"; "
    "\"The runtime MUST set the network device state to \\\"up\\\"\"",
    "[conformance][linux]") {
  Veth v("u");
  Bundle b("c13-netdev");
  net_bundle(b, v.a, "eth7");
  b.args({"/bin/busybox", "ip", "link", "show", "eth7"});
  Out o = b.run();
  INFO(o.out << o.err);
  CHECK(o.code == 0);
  CHECK(o.out.find("eth7") != std::string::npos);
  CHECK(o.out.find(",UP") != std::string::npos);
}

TEST_CASE("linux netDevices: \"The runtime MUST preserve ... all permanent IP addresses ... with global scope\"",
          "[conformance][linux]") {
  Veth v("p");
  REQUIRE(it::run_cmd({"/sbin/ip", "addr", "add", "10.254.13.7/32", "dev", v.a}).code == 0);
  Bundle b("c13-netaddr");
  net_bundle(b, v.a, "");
  b.args({"/bin/busybox", "ip", "addr", "show", v.a});
  Out o = b.run();
  INFO(o.out << o.err);
  CHECK(o.code == 0);
  CHECK(o.out.find("10.254.13.7/32") != std::string::npos);
}

TEST_CASE(
    "linux netDevices: \"If a network device with the specified name already exists in the container "
    "namespace, the runtime MUST generate an error\"",
    "[conformance][linux]") {
  Veth v("e");
  Bundle b("c13-netexists");
  net_bundle(b, v.a, "lo");  // every new network namespace has a `lo`
  create_fails(b, "/linux/netDevices/" + v.a);
}

TEST_CASE(
    "linux netDevices: \"The runtime MUST NOT attempt to move the interface out of the namespace before "
    "deletion\"",
    "[conformance][linux]") {
  Veth v("d");
  {
    Bundle b("c13-netdel");
    net_bundle(b, v.a, "");
    b.args({"/bin/test_init", "pause"});
    REQUIRE(b.run({"--detach"}).code == 0);
    CHECK_FALSE(link_exists(v.a));
    REQUIRE(it::husk({"delete", "--force", b.id}).code == 0);
  }
  // The kernel destroys a virtual device with its namespace (and a veth's peer with it):
  // the device never comes back to the host.
  for (int i = 0; i < 100 && link_exists(v.b); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(link_exists(v.a));
  CHECK_FALSE(link_exists(v.b));
}

TEST_CASE(
    "linux intelRdt: \"If no mounted resctrl pseudo-filesystem is available in the runtime mount namespace, "
    "the runtime MUST generate an error\"",
    "[conformance][linux]") {
  if (it::slurp("/proc/self/mountinfo").find(" - resctrl ") != std::string::npos)
    return it::skip("this host has resctrl mounted");
  Bundle b("c13-rdt");
  b.config["linux"]["intelRdt"] = {{"closID", "c13"}};
  create_fails(b, "/linux/intelRdt: resctrl is not mounted");
}

TEST_CASE("config mounts: uidMappings \"If specified, it MUST be specified along with gidMappings\"",
          "[conformance][config]") {
  Bundle b("c13-idmap-half");
  b.config["mounts"].push_back({{"destination", "/data"},
                                {"type", "bind"},
                                {"source", "/tmp"},
                                {"options", {"bind"}},
                                {"uidMappings", map1(0, 100000)}});
  create_fails(b, "/gidMappings: must be given together with uidMappings");
}

TEST_CASE(
    "config mounts: idmap \"If there are no uidMappings and gidMappings specified and the container isn't "
    "using user namespaces, an error MUST be returned\"",
    "[conformance][config]") {
  Bundle b("c13-idmap-nons");
  b.config["mounts"].push_back(
      {{"destination", "/data"}, {"type", "bind"}, {"source", "/tmp"}, {"options", {"rbind", "idmap"}}});
  create_fails(b, "/options: idmap needs uidMappings/gidMappings or a user namespace");
}

TEST_CASE(
    "config mounts: idmap \"If uidMappings or gidMappings are specified for the mount, the runtime MUST use "
    "those values for the mount's mapping\"",
    "[conformance][config]") {
  // HUSK_TEST_IDMAP_DIR: a file system that can be idmapped (the pure-v2 VM's ext4, whose
  // /tmp is a tmpfs that 6.1 cannot idmap; tests/vm/guest.sh); else /tmp.
  const char* base = ::getenv("HUSK_TEST_IDMAP_DIR");
  std::string t = std::string(base && *base ? base : "/tmp") + "/husk-c13-XXXXXX";
  INFO(t);
  REQUIRE(::mkdtemp(t.data()) != nullptr);
  std::string dir = t;
  ::chmod(dir.c_str(), 0755);
  REQUIRE(::chown(dir.c_str(), 2000, 2000) == 0);
  Bundle b("c13-idmap-own");
  ::mkdir((b.rootfs + "/data").c_str(), 0755);
  b.config["linux"]["namespaces"].push_back({{"type", "user"}});
  b.config["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  b.config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  // on-disk 2000 -> host 100007 -> 7 in the container (not 2000: the container's mapping).
  b.config["mounts"].push_back({{"destination", "/data"},
                                {"type", "bind"},
                                {"source", dir},
                                {"options", {"bind", "idmap"}},
                                {"uidMappings", map1(2000, 100007)},
                                {"gidMappings", map1(2000, 100007)}});
  b.args({"/bin/test_init", "stat", "/data"});
  Out o = b.run();
  INFO(o.err);
  if (o.code != 0 && o.err.find("does not support idmapped mounts on this kernel") != std::string::npos) {
    // tmpfs before Linux 6.3: the error names the mount. A HUSK_TEST_IDMAP_DIR promised
    // a file system that can be idmapped: no skip then.
    CHECK(o.err.find("/mounts/") != std::string::npos);
    CHECK_FALSE((base && *base));
    ::rmdir(dir.c_str());
    return it::skip("the filesystem of " + dir + " cannot be idmapped on this kernel");
  }
  CHECK(o.out == "d 0:0 0755 7:7\n");
  ::rmdir(dir.c_str());
}
