// spec -> ContainerPlan: every decision made in the parent, before any clone. The child
// code is a straight list of syscalls on this data (DESIGN.md §2).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/spec/model.hpp"
#include "husk/spec/mount_options.hpp"

namespace husk::spec {

struct NsJoin {
  int flag;          // CLONE_NEW*
  std::string path;  // opened in P before clone
};

struct NsPlan {
  int unshare_flags = 0;        // namespaces S creates (CLONE_NEWUSER handled first)
  std::vector<NsJoin> joins;    // setns targets; the user namespace first
  bool new_user = false, join_user = false;
  bool new_cgroup = false;      // unshared by C after it is in its cgroup
  bool new_mount = false;
  bool new_pid = false;
};

struct MountOp {
  std::string source;       // absolute for binds (relative ones resolved against the bundle)
  std::string destination;  // absolute, cleaned, inside the container
  std::string type;         // "" for binds
  MountOptions opts;
  bool bind = false;
};

struct DeviceOp {
  std::string path;  // absolute inside the container
  char type = 'c';   // c, b, p (u is c)
  uint32_t major = 0, minor = 0;
  uint32_t mode = 0666;  // permission bits
  uint32_t uid = 0, gid = 0;
};

struct CapSets {
  uint64_t bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
};

struct RlimitOp {
  int resource;
  uint64_t soft, hard;
};

struct ProcessPlan {
  std::vector<std::string> args, env;
  std::string cwd;
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;
  std::optional<uint32_t> umask;
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  bool no_new_privileges = false;
  std::optional<CapSets> caps;  // nullopt: keep the runtime's (no capabilities object)
  std::vector<RlimitOp> rlimits;
  std::optional<int> oom_score_adj;
  std::optional<std::string> apparmor_profile, selinux_label;
};

struct PlanInputs {
  std::string id;
  std::string bundle;  // absolute
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;  // including LISTEN_FDS
  int listen_fds = 0;
};

struct ContainerPlan {
  std::string id, bundle, rootfs, oci_version;
  bool readonly_root = false;
  bool no_pivot = false, no_new_keyring = false;
  unsigned long root_propagation = 0;   // applied to "/" after pivot_root (0: none)
  unsigned long prepare_propagation = 0;  // applied to "/" before the rootfs bind
  NsPlan ns;
  std::string uid_map, gid_map;  // exact /proc/<pid>/uid_map text
  std::string time_offsets;      // exact /proc/<pid>/timens_offsets text
  std::optional<std::string> hostname, domainname;
  std::vector<MountOp> mounts;
  bool dev_is_mounted = false;   // a mount at /dev: default devices and symlinks go there
  std::vector<DeviceOp> devices;  // default devices first, then linux.devices
  std::vector<std::string> masked_paths, readonly_paths;
  std::vector<std::pair<std::string, std::string>> sysctl;  // /proc/sys relative path, value
  ProcessPlan process;
  Hooks hooks;
  std::optional<std::string> cgroups_path;
  std::optional<Resources> resources;
  std::map<std::string, std::string> annotations;
  std::optional<Seccomp> seccomp;
  int preserve_fds = 0;
  std::optional<std::string> mount_label;
  std::optional<unsigned long> personality;  // PER_LINUX / PER_LINUX32
};

Result<ContainerPlan> make_plan(const Spec& s, const PlanInputs& in);

// Pure helpers, unit-tested.
std::string id_map_text(const std::vector<IdMapping>& maps);
Result<CapSets> cap_sets(const Capabilities& c);
// The environment of the process: the spec's env plus HOME (from the passwd entry, if
// HOME is absent) and LISTEN_FDS/LISTEN_PID when fds are passed through.
std::vector<std::string> process_env(const std::vector<std::string>& env, int listen_fds);
unsigned long propagation_flag(std::string_view name);

}  // namespace husk::spec
