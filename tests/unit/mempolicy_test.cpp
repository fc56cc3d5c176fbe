#include <catch2/catch.hpp>

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "husk/os/mempolicy.hpp"

using namespace husk;
using namespace husk::os::mempolicy;

namespace {
Prepared must(const Config& c, std::vector<int> online = {0}) {
  auto p = prepare(c, online);
  INFO((p ? std::string() : p.error().message()));
  REQUIRE(p);
  return *p;
}
std::string err(const Config& c, std::vector<int> online = {0}) {
  auto p = prepare(c, online);
  REQUIRE_FALSE(p);
  return p.error().message();
}
}  // namespace

TEST_CASE("mempolicy: node lists") {
  CHECK(*parse_nodes("0-3,7") == std::vector<int>{0, 1, 2, 3, 7});
  CHECK(*parse_nodes("7,0-1,1") == std::vector<int>{0, 1, 7});
  CHECK(*parse_nodes("") == std::vector<int>{});
  CHECK(*parse_nodes("0\n") == std::vector<int>{0});
  CHECK(*parse_nodes("5-5") == std::vector<int>{5});
  for (const char* bad : {"a", "1-", "-1", "3-1", "1,,2", "1 2", "1024", "0-99999", "1,"}) {
    INFO(bad);
    CHECK_FALSE(parse_nodes(bad));
  }
}

TEST_CASE("mempolicy: the host's online nodes") {
  char dir[] = "/tmp/husk-mpol-XXXXXX";
  REQUIRE(mkdtemp(dir));
  std::string f = std::string(dir) + "/online";
  std::ofstream(f) << "0-1,4\n";
  CHECK(*online_nodes(f) == std::vector<int>{0, 1, 4});
  ::unlink(f.c_str());
  CHECK(*online_nodes(f) == std::vector<int>{0});  // no NUMA: node 0
  ::rmdir(dir);
  // This host: node 0 at least.
  auto host = online_nodes();
  REQUIRE(host);
  CHECK(!host->empty());
  CHECK(host->front() == 0);
}

TEST_CASE("mempolicy: modes and flags are the spec's, in its order") {
  std::vector<std::string_view> modes(known_modes().begin(), known_modes().end());
  CHECK(modes == std::vector<std::string_view>{"MPOL_DEFAULT", "MPOL_BIND", "MPOL_INTERLEAVE",
                                               "MPOL_WEIGHTED_INTERLEAVE", "MPOL_PREFERRED", "MPOL_PREFERRED_MANY",
                                               "MPOL_LOCAL"});
  std::vector<std::string_view> flags(known_flags().begin(), known_flags().end());
  CHECK(flags ==
        std::vector<std::string_view>{"MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"});
}

TEST_CASE("mempolicy: prepared arguments") {
  auto p = must({"MPOL_BIND", "0", {}});
  CHECK(p.mode == 2);
  CHECK(p.mask[0] == 1);
  CHECK(p.maxnode == 2);
  p = must({"MPOL_INTERLEAVE", "0-1,65", {"MPOL_F_STATIC_NODES"}}, {0, 1, 65});
  CHECK(p.mode == (3 | (1 << 15)));
  CHECK(p.mask[0] == 3);
  CHECK(p.mask[1] == 2);
  CHECK(p.maxnode == 67);
  p = must({"MPOL_DEFAULT", std::nullopt, {}});
  CHECK(p.mode == 0);
  CHECK(p.maxnode == 0);
  CHECK(must({"MPOL_LOCAL", "", {}}).mode == 4);
  CHECK(must({"MPOL_PREFERRED", std::nullopt, {}}).mode == 1);
  CHECK(must({"MPOL_PREFERRED_MANY", "0", {"MPOL_F_NUMA_BALANCING"}}).mode == (5 | (1 << 13)));
  CHECK(must({"MPOL_WEIGHTED_INTERLEAVE", "0", {}}).mode == 6);
  CHECK(must({"MPOL_BIND", "0", {"MPOL_F_NUMA_BALANCING"}}).mode == (2 | (1 << 13)));
  // Relative node numbers need not exist on the host.
  CHECK(must({"MPOL_BIND", "3", {"MPOL_F_RELATIVE_NODES"}}).mode == (2 | (1 << 14)));
}

TEST_CASE("mempolicy: refused configs name the field") {
  CHECK(err({"MPOL_FOO", "0", {}}) == "config.json: /linux/memoryPolicy/mode: unknown mode \"MPOL_FOO\"");
  CHECK(err({"bind", "0", {}}) == "config.json: /linux/memoryPolicy/mode: unknown mode \"bind\"");
  CHECK(err({"MPOL_BIND", "0", {"MPOL_F_STATIC_NODES", "MPOL_F_X"}}) ==
        "config.json: /linux/memoryPolicy/flags/1: unknown flag \"MPOL_F_X\"");
  CHECK(err({"MPOL_BIND", "0-", {}}).rfind("config.json: /linux/memoryPolicy/nodes: bad node list \"0-\"", 0) == 0);
  CHECK(err({"MPOL_BIND", std::nullopt, {}}) ==
        "config.json: /linux/memoryPolicy/nodes: MPOL_BIND needs at least one node");
  CHECK(err({"MPOL_INTERLEAVE", "", {}}) ==
        "config.json: /linux/memoryPolicy/nodes: MPOL_INTERLEAVE needs at least one node");
  CHECK(err({"MPOL_DEFAULT", "0", {}}) == "config.json: /linux/memoryPolicy/nodes: MPOL_DEFAULT takes no nodes");
  CHECK(err({"MPOL_LOCAL", "0", {}}) == "config.json: /linux/memoryPolicy/nodes: MPOL_LOCAL takes no nodes");
  CHECK(err({"MPOL_BIND", "1", {}}) == "config.json: /linux/memoryPolicy/nodes: node 1 is not online on this host");
  CHECK(err({"MPOL_BIND", "0", {"MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"}}) ==
        "config.json: /linux/memoryPolicy/flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other");
  CHECK(err({"MPOL_INTERLEAVE", "0", {"MPOL_F_NUMA_BALANCING"}}) ==
        "config.json: /linux/memoryPolicy/flags: MPOL_F_NUMA_BALANCING needs MPOL_BIND or MPOL_PREFERRED_MANY, not "
        "MPOL_INTERLEAVE");
  CHECK(err({"MPOL_LOCAL", std::nullopt, {"MPOL_F_STATIC_NODES"}}).find("takes neither") != std::string::npos);
}

TEST_CASE("mempolicy: set_mempolicy applies the prepared policy (in a child)") {
  auto p = must({"MPOL_BIND", "0", {}}, *online_nodes());
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (apply(p) != 0) _exit(1);
    int mode = -1;
    unsigned long mask[16] = {};
    if (syscall(SYS_get_mempolicy, &mode, mask, 1024UL, nullptr, 0UL) != 0) _exit(2);
    _exit(mode == 2 && mask[0] == 1 ? 0 : 3);
  }
  int st = 0;
  REQUIRE(waitpid(pid, &st, 0) == pid);
  CHECK(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 0);
  // A node the kernel lacks (bypassing the online check): the syscall's errno comes back.
  Prepared bogus = p;
  bogus.mask[0] = 0;
  bogus.mask[15] = 1UL << 63;
  bogus.maxnode = 1025;
  pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) _exit(apply(bogus) < 0 ? 0 : 1);
  REQUIRE(waitpid(pid, &st, 0) == pid);
  CHECK(WEXITSTATUS(st) == 0);
}
