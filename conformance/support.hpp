// Helpers for the spec conformance tests (conformance/*_test.cpp). They drive the built
// husk binary through the integration harness (tests/integration/harness.hpp): real
// containers, a private --root, absolute cgroupsPath under /husk-test, everything removed
// afterwards. Each TEST_CASE quotes the runtime-spec (v1.2.0, runtime.md / config.md /
// config-linux.md) MUST statement it checks in its name or first comment.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "harness.hpp"
#include "helpers.hpp"

namespace conf {

using it::Bundle;
using it::Out;

// Polls `husk state` until the status is `want` (or the id is gone: "").
inline std::string wait_status(Bundle& b, const std::string& want, int tries = 300) {
  std::string st;
  for (int i = 0; i < tries; ++i) {
    Out o = it::husk({"state", b.id});
    st = o.code == 0 ? nlohmann::json::parse(o.out).value("status", "") : "";
    if (st == want) return st;
    ::usleep(10000);
  }
  return st;
}

inline bool state_dir_exists(const Bundle& b) { return it::exists(it::state_root() + "/" + b.id); }

// The v1 memory (or pure v2) directory of the bundle's cgroupsPath.
inline std::string cgroup_dir(const Bundle& b) { return it::cgroup_dir(b, "memory"); }

inline std::string ns_of(const std::string& pid, const std::string& type) {
  char buf[128] = {};
  std::string p = "/proc/" + pid + "/ns/" + type;
  ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// Nothing of a failed create is left: no state, no cgroup, no mount of the bundle.
inline void check_no_trace(const Bundle& b) {
  CHECK_FALSE(state_dir_exists(b));
  CHECK(it::leftover_cgroups().empty());
  CHECK(it::host_mounts_with(b.dir).empty());
  Out l = it::husk({"list", "-q"});
  CHECK(l.out.find(b.id) == std::string::npos);
}

// create fails, its one-line error names `what`, and nothing is left behind.
inline void create_fails(Bundle& b, const std::string& what) {
  Out o = b.create();
  INFO(o.err);
  CHECK(o.code != 0);
  CHECK(o.err.find(what) != std::string::npos);
  check_no_trace(b);
}

inline std::string pid_of(Bundle& b) { return std::to_string(b.state().value("pid", 0)); }

}  // namespace conf
