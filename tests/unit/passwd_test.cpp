#include <catch2/catch.hpp>

#include "husk/os/passwd.hpp"

using namespace husk::os::passwd;

TEST_CASE("passwd: find a user by uid") {
  const char* pw = "root:x:0:0:root:/root:/bin/sh\n# comment\nbad line\nalice:x:1000:1000:A:/home/alice:/bin/sh\n";
  auto u = find_user(pw, 1000);
  REQUIRE(u);
  CHECK(u->name == "alice");
  CHECK(u->home == "/home/alice");
  CHECK_FALSE(find_user(pw, 42));
}

TEST_CASE("group: supplementary groups by membership") {
  const char* gr = "root:x:0:\nwheel:x:10:alice,bob\naudio:x:29:bob\nvideo:x:44:alice\n";
  CHECK(groups_of(gr, "alice") == std::vector<uint32_t>{10, 44});
  CHECK(groups_of(gr, "carol").empty());
}
