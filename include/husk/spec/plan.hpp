// spec -> ContainerPlan: every decision made in the parent, before any clone. The child
// code is a straight list of syscalls on this data (docs/design.md §1).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/spec/exec_record.hpp"
#include "husk/spec/model.hpp"
#include "husk/spec/mount_options.hpp"

namespace husk::spec {

struct NsJoin {
  int flag;          // CLONE_NEW*
  std::string path;  // opened in P before clone
};

struct NsPlan {
  int unshare_flags = 0;      // namespaces S creates (CLONE_NEWUSER handled first)
  std::vector<NsJoin> joins;  // setns targets; the user namespace first
  bool new_user = false, join_user = false;
  bool new_cgroup = false;  // unshared by C after it is in its cgroup
  bool new_mount = false;
  bool new_pid = false;
};

struct MountOp {
  std::string source;       // absolute for binds (relative ones resolved against the bundle)
  std::string destination;  // absolute, cleaned, inside the container
  std::string type;         // "" for binds
  MountOptions opts;
  bool bind = false;
  // Idmapped (runtime-spec 1.3: mounts[].uidMappings/gidMappings, idmap/ridmap): P makes
  // the idmapped tree before the clone, C attaches it. The mount's own mappings, else
  // the container's; with a joined user namespace and no mappings of its own, its path.
  bool idmap = false;
  std::vector<IdMapping> idmap_uid, idmap_gid;
  std::string idmap_userns_path;
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

struct SchedPlan {
  int policy = 0;
  uint64_t flags = 0;
  int32_t nice = 0, priority = 0;
  uint64_t runtime = 0, deadline = 0, period = 0;
};

struct ProcessPlan {
  std::vector<std::string> args;
  std::vector<std::string> env;  // deduplicated (last wins), no empty HOME
  bool home_set = false;         // else HOME comes from the user's passwd entry (or "/")
  std::string cwd;
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;
  std::optional<uint32_t> umask;
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  bool no_new_privileges = false;
  std::optional<CapSets> caps;  // no capabilities object: all zero (none, as runc)
  std::vector<RlimitOp> rlimits;
  std::optional<int> oom_score_adj;
  std::optional<std::string> apparmor_profile, selinux_label;
  std::optional<SchedPlan> scheduler;
  std::optional<int> io_priority;  // ioprio_set value: class << 13 | level
  // execCPUAffinity (exec only): before joining the cgroup, and right before execve.
  std::vector<unsigned> cpus_initial, cpus_final;
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
  unsigned long root_propagation = 0;     // applied to "/" after pivot_root (0: none)
  unsigned long prepare_propagation = 0;  // applied to "/" before the rootfs bind
  NsPlan ns;
  std::string uid_map, gid_map;  // exact /proc/<pid>/uid_map text
  std::string time_offsets;      // exact /proc/<pid>/timens_offsets text
  std::optional<std::string> hostname, domainname;
  std::vector<MountOp> mounts;
  bool dev_is_bind_mounted = false;  // a bind at /dev is the caller's: no devices or symlinks made in it
  bool devpts_is_mounted = false;    // a devpts at /dev/pts: /dev/ptmx links to pts/ptmx
  std::vector<DeviceOp> devices;     // default devices first, then linux.devices
  std::vector<std::string> masked_paths, readonly_paths;
  std::vector<std::pair<std::string, std::string>> sysctl;  // /proc/sys relative path, value
  ProcessPlan process;
  bool has_process = true;  // config.json had a process (else start must fail)
  Hooks hooks;
  std::optional<std::string> cgroups_path;
  std::optional<Resources> resources;
  std::map<std::string, std::string> annotations;
  std::optional<Seccomp> seccomp;
  int preserve_fds = 0;
  std::optional<std::string> mount_label;    // applied by create when SELinux is on (os/lsm.hpp)
  std::optional<unsigned long> personality;  // PER_LINUX / PER_LINUX32
  // runtime-spec 1.3. memoryPolicy is checked against the host's nodes by the runtime.
  std::optional<MemoryPolicy> memory_policy;
  std::vector<std::pair<std::string, std::string>> net_devices;  // host name -> name inside, sorted
  bool own_netns = false;  // a network namespace not ours: new, or joined by path (as runc)
  std::optional<IntelRdt> intel_rdt;
};

Result<ContainerPlan> make_plan(const Spec& s, const PlanInputs& in);
// The per-process part of a plan (config.json's process, or exec's); `where` names the
// object in errors.
Result<ProcessPlan> process_plan(const Process& sp, int listen_fds, std::string_view where);

// `husk exec` without --process: the container's process with these changes (runc's
// getProcess). With --process the file's object is used as it is, as runc does.
struct ExecOverrides {
  std::vector<std::string> args;
  std::string cwd, apparmor, process_label, user;  // "" = keep
  std::vector<std::string> env, caps;
  std::vector<int64_t> additional_gids;
  bool tty = false;
  std::optional<bool> no_new_privs;
};

// What the tenant process of `exec` gets. Container-wide settings come from the
// container's config.json: seccomp, personality, oomScoreAdj, and the process's
// capabilities, rlimits, labels, umask, scheduler, ioPriority and execCPUAffinity when
// the exec'd process does not set its own (runc's newInitConfig for setns processes).
struct ExecPlan {
  ProcessPlan process;
  std::optional<Seccomp> seccomp;
  std::optional<unsigned long> personality;
  std::optional<int> oom_score_adj;
  // To log before running it: unknown capabilities (--cap, process.json), skipped.
  std::vector<std::string> warnings;
  std::optional<MemoryPolicy> memory_policy;  // linux.memoryPolicy: every process of the container
};

// `file` names the --process file in errors ("" when there is none).
Result<ExecPlan> make_exec_plan(const ExecRecord& container, const std::optional<Process>& from_file,
                                std::string_view file, const ExecOverrides& o);
Result<ExecPlan> make_exec_plan(const Spec& container, const std::optional<Process>& from_file, std::string_view file,
                                const ExecOverrides& o);
// "UID[:GID]" with decimal numbers only (crun's CVE-2026-30892 was a lax parser).
Result<std::pair<uint32_t, std::optional<uint32_t>>> parse_user(std::string_view s);

// Whether a process with these capabilities could ptrace a non-dumpable husk process
// (whose memory belongs to the host's user namespace): only with CAP_SYS_PTRACE in its
// bounding set (nullopt: it keeps ours, all of them) and no user namespace of its own.
bool may_ptrace_host(const std::optional<CapSets>& caps, bool own_userns);

// Pure helpers, unit-tested.
std::string id_map_text(const std::vector<IdMapping>& maps);
Result<CapSets> cap_sets(const Capabilities& c);
// The environment of the process: the spec's env plus HOME (from the passwd entry, if
// HOME is absent) and LISTEN_FDS/LISTEN_PID when fds are passed through.
std::vector<std::string> process_env(const std::vector<std::string>& env, int listen_fds);
// runc's environment rules: of duplicate keys the last one stays (at its own position),
// an empty HOME is dropped; `home_set` tells whether a non-empty HOME is present.
std::vector<std::string> dedupe_env(const std::vector<std::string>& env, bool& home_set);
unsigned long propagation_flag(std::string_view name);

}  // namespace husk::spec
