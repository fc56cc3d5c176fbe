// Integration harness: real containers driven through the built husk binary. Every bundle
// lives in a temp dir with test_init as its only program, uses an absolute cgroupsPath
// under /husk-test/<pid>-<name>, and a private --root; all of it is removed afterwards,
// also when a test fails.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace it {

struct Out {
  int code = -1;
  std::string out, err;
};

// Runs husk with the test --root; `stdin_data` is written to its stdin.
Out husk(const std::vector<std::string>& args, const std::string& stdin_data = "");
Out run_cmd(const std::vector<std::string>& argv, const std::string& stdin_data = "");
std::string state_root();
std::string slurp(const std::string& path);
bool exists(const std::string& path);
// Every line of /proc/self/mountinfo that mentions `needle`.
std::vector<std::string> host_mounts_with(const std::string& needle);
// True on a host with v1 controllers (this VM: hybrid), false on pure cgroup v2.
bool cgroup_v1_host();
// process.capabilities with every capability of our bounding set in bounding, effective and
// permitted: "all of them" (an absent capabilities object gives none, as runc).
nlohmann::json all_capabilities();
// A test that cannot run on this host says so: a Catch2 warning "SKIP: <why>" (printed
// with the run's results) and a count main() prints at the end. Use as
// `if (cond) return it::skip("...");` (Catch2 v2 has no SKIP).
void skip(const std::string& why);
int skipped();
// sha256sum of a file (hex), "" if unreadable.
std::string sha256_of(const std::string& path);
// Cgroup directories under the test prefix that still exist.
std::vector<std::string> leftover_cgroups();

class Bundle {
 public:
  explicit Bundle(const std::string& name);
  ~Bundle();
  Bundle(const Bundle&) = delete;
  nlohmann::json config;
  std::string dir, rootfs, id, cgroup;
  void args(std::vector<std::string> a);
  // Asks for a new namespace of this type unless the config has one (`husk spec` adds a
  // cgroup namespace on a pure cgroup v2 host only, as runc).
  void add_namespace(const std::string& type);
  // Adds /bin/busybox (Debian's busybox-static) and /bin/sh to the rootfs.
  void busybox();
  void save() const;
  Out run(const std::vector<std::string>& extra = {});  // husk run --bundle dir id
  Out create(const std::vector<std::string>& extra = {});
  Out start();
  nlohmann::json state();
};

}  // namespace it
