#include <catch2/catch.hpp>

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "husk/core/fd.hpp"
#include "husk/os/netdev.hpp"

using namespace husk;
using namespace husk::os::netdev;

TEST_CASE("netdev: interface names as the kernel's dev_valid_name") {
  for (const char* ok : {"eth0", "a", "veth-1.2_x", "eth%d", "abcdefghijklmno"}) {
    INFO(ok);
    CHECK(valid_name(ok));
  }
  for (const char* bad : {"", ".", "..", "a/b", "eth 0", "eth\t0", "eth:0", "abcdefghijklmnop"}) {
    INFO(bad);
    CHECK_FALSE(valid_name(bad));
  }
}

TEST_CASE("netdev: the config checks name the field") {
  CHECK(validate({}, false));
  CHECK(validate({{"eth0", ""}, {"eth1", "ceth1"}}, true));
  CHECK(validate({{"eth0", "eth%d"}, {"eth1", "eth%d"}}, true));
  auto e = validate({{"eth0", ""}}, false);
  REQUIRE_FALSE(e);
  CHECK(e.error().message() == "config.json: /linux/netDevices: moving network devices needs a network namespace");
  e = validate({{"eth/0", ""}}, true);
  REQUIRE_FALSE(e);
  CHECK(e.error().message() == "config.json: /linux/netDevices/eth/0: invalid network device name \"eth/0\"");
  e = validate({{"eth0", "a very long name!"}}, true);
  REQUIRE_FALSE(e);
  CHECK(e.error().message() ==
        "config.json: /linux/netDevices/eth0/name: invalid network device name \"a very long name!\"");
  e = validate({{"eth0", ""}, {"eth1", "eth0"}}, true);
  REQUIRE_FALSE(e);
  CHECK(e.error().message() ==
        "config.json: /linux/netDevices/eth1/name: two devices would be named \"eth0\" in the container");
}

namespace {

int sh(const std::string& cmd) { return std::system(cmd.c_str()); }

std::string out(const std::string& cmd) {
  std::string r;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.append(buf, n);
  ::pclose(f);
  return r;
}

bool gone(const std::string& name) {
  for (int i = 0; i < 100; ++i) {
    if (if_nametoindex(name.c_str()) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

// [root]: makes a network namespace and veth pairs of its own; closing the namespace fd
// frees the namespace, which destroys the veths (both ends) as the spec describes.
TEST_CASE("netdev: a veth end moves into a network namespace, renamed, with its addresses, up", "[root]") {
  if (geteuid() != 0 || sh("command -v ip >/dev/null && command -v nsenter >/dev/null") != 0) {
    WARN("SKIPPED: needs root, ip(8) and nsenter(1)");
    return;
  }
  const std::string a = fmt::format("hk{}a", getpid() % 1000000), b = fmt::format("hk{}b", getpid() % 1000000);
  const std::string c = fmt::format("hk{}c", getpid() % 1000000), d = fmt::format("hk{}d", getpid() % 1000000);
  struct Cleanup {
    std::string a, c;
    ~Cleanup() { std::system(fmt::format("ip link del {} 2>/dev/null; ip link del {} 2>/dev/null", a, c).c_str()); }
  } cleanup{a, c};
  // The test's own network namespace, held by an fd.
  UniqueFd self(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  REQUIRE(self);
  REQUIRE(::unshare(CLONE_NEWNET) == 0);
  UniqueFd ns(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  REQUIRE(::setns(self.get(), CLONE_NEWNET) == 0);
  REQUIRE(ns);
  const std::string in_ns = fmt::format("nsenter --net=/proc/{}/fd/{} ", getpid(), ns.get());

  REQUIRE(sh(fmt::format("ip link add {} type veth peer name {}", a, b)) == 0);
  REQUIRE(sh(fmt::format("ip addr add 10.213.7.1/24 dev {0} && ip addr add 10.214.7.1/24 scope link dev {0} && "
                         "ip -6 addr add fd00:213::1/64 dev {0} nodad && ip link set {0} up",
                         a)) == 0);
  auto r = move_into(ns.get(), {a, "eth9"});
  INFO((r ? std::string() : r.error().describe()));
  REQUIRE(r);
  CHECK(if_nametoindex(a.c_str()) == 0);  // gone from the host
  std::string addrs = out(in_ns + "ip -o addr show dev eth9");
  INFO(addrs);
  CHECK(addrs.find("inet 10.213.7.1/24") != std::string::npos);
  CHECK(addrs.find("inet6 fd00:213::1/64") != std::string::npos);
  CHECK(addrs.find("10.214.7.1") == std::string::npos);  // link scope: not moved
  std::string link = out(in_ns + "ip -o link show dev eth9");
  INFO(link);
  CHECK((link.find(",UP") != std::string::npos || link.find("<UP") != std::string::npos));

  // A second device: the name is taken in the namespace -> an error; a template -> moved.
  REQUIRE(sh(fmt::format("ip link add {} type veth peer name {}", c, d)) == 0);
  r = move_into(ns.get(), {c, "eth9"});
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("a device named \"eth9\" already exists") != std::string::npos);
  CHECK(if_nametoindex(c.c_str()) != 0);  // still on the host
  r = move_into(ns.get(), {c, "eth%d"});
  INFO((r ? std::string() : r.error().describe()));
  REQUIRE(r);
  CHECK(if_nametoindex(c.c_str()) == 0);
  std::string links = out(in_ns + "ip -o link show");
  INFO(links);
  CHECK(links.find(": eth0") != std::string::npos);
  // A missing host device.
  r = move_into(ns.get(), {"hk-none-x", ""});
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("netDevices: hk-none-x: no such interface") != std::string::npos);

  // The namespace freed: the kernel destroys the virtual devices, peers included.
  ns.reset();
  CHECK(gone(b));
  CHECK(gone(d));
}
