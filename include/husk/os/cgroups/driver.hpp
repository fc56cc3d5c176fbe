// The cgroup driver seam: everything husk does to a container's cgroups goes through a
// Driver. cgroupfs (cgroupfs.cpp: v1, v2 and the hybrid combination) is the one
// implementation today; a systemd driver (transient units over D-Bus) is the second.
// The state file records which driver made a container, and the other commands reopen
// the same one (open_driver).
//
// create:  plan_init (before the clone: the fast paths)  -> create (directories,
//          controllers) -> place_init (the init's pid, what the fast paths did not do)
//          -> set (limits)
// exec:    place_process (the container's cgroups or --cgroup sub-cgroups)
// others:  set (update), freeze/frozen (pause, resume, status), pids (ps, kill --all,
//          delete), stats/oom_kills/watch_oom (events, create's failure report), destroy.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/core/fd.hpp"
#include "husk/os/cgroups/detect.hpp"
#include "husk/os/cgroups/stats.hpp"
#include "husk/spec/model.hpp"
#include "husk/state/cgroup_paths.hpp"

namespace husk::os::cgroups {

using Paths = state::CgroupPaths;

// How create's init gets into its cgroups without the slow paths:
// - clone3(CLONE_INTO_CGROUP) into the v2 directory (no stage 1 in between);
// - the init writes "0" to each v1 directory's `tasks` itself, the one migration the
//   kernel performs without the global cgroup_threadgroup_rwsem (whose first taker in a
//   burst waits for an RCU grace period); through `tasks` fds the parent opened when the
//   init is in a user namespace (it may not open the host's files itself).
struct InitPlacement {
  UniqueFd clone_into;                 // the v2 directory, or empty
  std::vector<std::string> self_join;  // v1 directories the init enters itself
  bool parent_opens_tasks = false;     // the parent sends their `tasks` fds (place_init)
};

// Where exec's process goes: clone3 into `clone_into`, else it writes itself into
// `v2_dir`; it enters `self_join` (v1) itself, before joining the namespaces.
struct ProcessPlacement {
  UniqueFd clone_into;
  std::string v2_dir;
  std::vector<std::string> self_join;
};

class Driver {
 public:
  virtual ~Driver() = default;
  // The name the state file records ("cgroupfs", "systemd").
  virtual std::string_view name() const = 0;
  virtual const Paths& paths() const = 0;

  // create, before the init is cloned (through a stage 1 or directly).
  virtual Result<InitPlacement> plan_init(bool through_stage1, size_t max_fds) = 0;
  // Makes the directories and enables the v2 controllers `r` needs (r: null when the
  // config has no resources).
  virtual Result<void> create(const spec::Resources* r) = 0;
  // The init's pid is known: joins it where the fast paths did not; returns the `tasks`
  // fds to send it (InitPlacement::parent_opens_tasks). `cloned_into`: clone3 put it in
  // the v2 directory.
  virtual Result<std::vector<UniqueFd>> place_init(pid_t pid, const InitPlacement& p, bool cloned_into) = 0;
  // exec: the container's cgroups, or the sub-cgroups `--cgroup` names
  // ([CONTROLLER[,CONTROLLER...]:]PATH, runc's form).
  virtual Result<ProcessPlacement> place_process(const std::vector<std::string>& sub_cgroups) const = 0;

  // `creating`: on pure v2 the device program (default allow list) is installed even
  // when the config has no device rules; `update` replaces it only when given rules.
  virtual Result<void> set(const spec::Resources& r, bool creating) const = 0;
  virtual Result<void> freeze(bool frozen) const = 0;
  virtual bool frozen() const = 0;
  // Every pid of the container's cgroup and of its sub-cgroups.
  virtual Result<std::vector<pid_t>> pids() const = 0;
  virtual Stats stats() const = 0;
  virtual uint64_t oom_kills() const = 0;
  virtual Result<OomWatch> watch_oom() const = 0;
  // Whether this driver made a directory (create's undo path and state's createdCgroup).
  virtual bool created_any() const = 0;
  // Removes the container's cgroups and their sub-cgroups (retries while the kernel tears
  // tasks down).
  virtual Result<void> destroy() const = 0;
};

inline constexpr std::string_view kCgroupfs = "cgroupfs";
inline constexpr std::string_view kSystemd = "systemd";

// What create knows when it picks the driver.
struct DriverRequest {
  bool systemd = false;                                             // --systemd-cgroup
  std::optional<std::string> cgroups_path;                          // linux.cgroupsPath
  std::string id;                                                   // the container's
  const spec::Resources* resources = nullptr;                       // linux.resources (systemd: unit properties)
  const std::map<std::string, std::string>* annotations = nullptr;  // org.systemd.property.*
};

// create: the driver the options ask for, its paths resolved on this host (cgroupfs:
// cgroupsPath, absent: the container id; systemd: the unit cgroupsPath names). The one
// place that chooses a driver (select.cpp).
Result<std::unique_ptr<Driver>> make_driver(const DriverRequest& rq, const Layout& layout);
// The other commands: the driver that made the container (the state's cgroupDriver;
// state files without one were made by cgroupfs).
Result<std::unique_ptr<Driver>> open_driver(std::string_view name, const Paths& paths);

// The cgroupfs driver over `paths` (`v2_mountpoint`: where create enables v2 controllers;
// "" when not creating). The systemd driver does its file writes through one.
std::unique_ptr<Driver> cgroupfs_driver(Paths paths, std::string v2_mountpoint);
// The systemd driver (systemd.cpp): a transient unit per container over D-Bus.
Result<std::unique_ptr<Driver>> make_systemd_driver(const DriverRequest& rq, const Layout& layout);
Result<std::unique_ptr<Driver>> open_systemd_driver(const Paths& paths);

// The child's side of the v1 fast path: the calling thread moves itself into each
// directory through `tasks` ("0"), opening them itself, or through `tasks` fds the
// parent opened (tasks[i] is dirs[i]'s; the kernel checks the opener's credentials).
Result<void> join_self_v1(const std::vector<std::string>& dirs);
Result<void> join_self_v1(std::span<const UniqueFd> tasks, const std::vector<std::string>& dirs);

// A cgroup and its sub-cgroups (any depth), for every driver: the pids of all of them
// (kill --all, delete --force, ps), and removal depth-first, retrying while the kernel
// tears tasks down (runc: GetAllPids, RemovePath).
Result<std::vector<pid_t>> subtree_pids(const std::string& dir);
Result<void> remove_subtree(const std::string& dir);

// Resolves the container's cgroup directories: absolute as given; relative under the
// caller's own cgroup of each hierarchy (`own`: /proc/self/cgroup), as runc does.
Paths resolve_paths(const Layout& l, const std::string& cgroups_path, const std::map<std::string, std::string>& own);

}  // namespace husk::os::cgroups
