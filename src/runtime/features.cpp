// `husk features` (runtime-spec features.md) and `husk --version`: true to what this
// build implements.
#include <fmt/format.h>
#include "husk/core/version.hpp"

#include <nlohmann/json.hpp>

#include "husk/os/mempolicy.hpp"
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
  // rdma: rdma.max is written on v1 and v2 (os/cgroups/writes.cpp).
  lin["cgroup"] = {{"v1", true}, {"v2", true}, {"systemd", true}, {"systemdUser", true}, {"rdma", true}};
  lin["seccomp"] = {{"enabled", true},
                    {"actions", os::seccomp::known_actions()},
                    {"operators", os::seccomp::known_operators()},
                    {"archs", os::seccomp::known_archs()},
                    {"knownFlags", os::seccomp::known_flags()},
                    {"supportedFlags", os::seccomp::known_flags()}};
  lin["apparmor"] = {{"enabled", true}};
  lin["selinux"] = {{"enabled", true}};
  // runtime-spec 1.3 (runtime/spec13.cpp). intelRdt and idmap say what husk implements,
  // "irrespective of the availability ... on the host" (features-linux.md): create fails
  // with a one-line error where the host lacks resctrl or the filesystem idmapping.
  lin["intelRdt"] = {{"enabled", true}, {"schemata", true}, {"monitoring", true}};
  lin["memoryPolicy"] = {{"modes", os::mempolicy::known_modes()}, {"flags", os::mempolicy::known_flags()}};
  lin["mountExtensions"] = {{"idmap", {{"enabled", true}}}};
  lin["netDevices"] = {{"enabled", true}};
  f["linux"] = lin;
  // Annotations of config.json husk acts on (it acts on none: they are only reported).
  f["potentiallyUnsafeConfigAnnotations"] = oj::array();
  f["annotations"] = {{"io.github.husk.version", kVersion}, {"io.github.husk.commit", kCommit}};
  return f.dump(4) + "\n";
}

std::string version_text() {
  return fmt::format("husk version {}\ncommit: {}\nspec: {}\n", kVersion, kCommit, spec::kOciVersion);
}

}  // namespace husk::runtime
