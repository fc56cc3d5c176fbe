#include <catch2/catch.hpp>

#include "husk/os/cgroups/cpu_weight.hpp"

using husk::os::cgroups::cpu_shares_to_weight;

TEST_CASE("cpu weight: the values crun's tests expect (tests/test_resources.py, tests_libcrun_cgroup.c)") {
  // (shares, weight) pairs of crun's test_resources_cpu_weight_systemd.
  CHECK(cpu_shares_to_weight(2) == 1);
  CHECK(cpu_shares_to_weight(3) == 2);
  CHECK(cpu_shares_to_weight(1024) == 100);
  CHECK(cpu_shares_to_weight(260000) == 9929);
  CHECK(cpu_shares_to_weight(262144) == 10000);
  // The ends: 0 is "unset", below 2 and above 262144 clamp.
  CHECK(cpu_shares_to_weight(0) == 0);
  CHECK(cpu_shares_to_weight(1) == 1);
  CHECK(cpu_shares_to_weight(500000) == 10000);
  CHECK(cpu_shares_to_weight(262143) == 10000);
}

TEST_CASE("cpu weight: the quadratic, not the old linear 1 + (shares - 2) * 9999 / 262142") {
  // Values of the formula computed independently (python3 math.ceil(10 ** ((l*l + 125*l)/612 - 7/34))).
  CHECK(cpu_shares_to_weight(100) == 17);
  CHECK(cpu_shares_to_weight(512) == 59);
  CHECK(cpu_shares_to_weight(2048) == 174);
  CHECK(cpu_shares_to_weight(65536) == 3023);
  // The old formula gave 39 for the default 1024.
  CHECK(cpu_shares_to_weight(1024) != 1 + (1024 - 2) * 9999 / 262142);
  uint64_t prev = 0;
  for (uint64_t s = 2; s <= 262144; s += 97) {
    uint64_t w = cpu_shares_to_weight(s);
    REQUIRE(w >= prev);
    REQUIRE(w >= 1);
    REQUIRE(w <= 10000);
    prev = w;
  }
}
