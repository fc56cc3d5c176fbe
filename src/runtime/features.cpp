// `husk features` (runtime-spec features.md) and `husk --version`: true to what this
// build implements.
#include <fmt/format.h>
#include "husk/core/version.hpp"

#include <nlohmann/json.hpp>

#include "husk/os/seccomp.hpp"
#include "husk/runtime/runtime.hpp"
#include "husk/spec/defaults.hpp"
#include "husk/spec/mount_options.hpp"

namespace husk::runtime {

std::string features_json() {
  using oj = nlohmann::ordered_json;
  oj f;
  f["ociVersionMin"] = "1.0.0";
  f["ociVersionMax"] = spec::kOciVersion;
  f["hooks"] = oj::array({"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"});
  auto opts = spec::known_mount_options();
  std::sort(opts.begin(), opts.end());
  f["mountOptions"] = opts;
  oj lin;
  lin["namespaces"] = oj::array({"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"});
  oj caps = oj::array();
  for (int i = 0; i <= spec::kCapMaxKnown; ++i) caps.push_back(spec::capability_name(i));
  lin["capabilities"] = caps;
  lin["cgroup"] = {{"v1", true}, {"v2", true}, {"systemd", true}, {"systemdUser", false}, {"rdma", false}};
  lin["seccomp"] = {{"enabled", true},
                    {"actions", os::seccomp::known_actions()},
                    {"operators", os::seccomp::known_operators()},
                    {"archs", os::seccomp::known_archs()},
                    {"knownFlags", os::seccomp::known_flags()},
                    {"supportedFlags", os::seccomp::known_flags()}};
  lin["apparmor"] = {{"enabled", true}};
  lin["selinux"] = {{"enabled", true}};
  lin["intelRdt"] = {{"enabled", false}};
  lin["mountExtensions"] = {{"idmap", {{"enabled", false}}}};
  f["linux"] = lin;
  f["annotations"] = {{"io.github.husk.version", kVersion}, {"io.github.husk.commit", kCommit}};
  return f.dump(4) + "\n";
}

std::string version_text() {
  return fmt::format("husk version {}\ncommit: {}\nspec: {}\n", kVersion, kCommit, spec::kOciVersion);
}

}  // namespace husk::runtime
