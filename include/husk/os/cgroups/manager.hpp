// The cgroupfs manager: one directory per hierarchy. Creating/joining (precreate, join)
// is kept apart from setting resources (set), as runc's Apply vs Set.
#pragma once

#include <sys/types.h>

#include <map>
#include <span>
#include <string>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/core/fd.hpp"
#include "husk/os/cgroups/detect.hpp"
#include "husk/spec/model.hpp"

namespace husk::os::cgroups {

// Resolves the container's cgroup path: absolute as given; relative (or absent -> the
// container id) under the caller's own cgroup of each hierarchy, as runc does.
std::map<std::string, std::string> resolve_paths(const Layout& l, const std::string& cgroups_path,
                                                 const std::map<std::string, std::string>& own);

// The directory of the hierarchy holding `controller` ("cpu" finds "cpu,cpuacct"), or "".
std::string dir_for(const std::map<std::string, std::string>& dirs, std::string_view controller);
// Only the v2 hierarchy: a pure cgroup v2 host.
inline bool is_pure_v2(const std::map<std::string, std::string>& dirs) {
  return dirs.size() == 1 && dirs.count("unified");
}

class Manager {
 public:
  // dirs: hierarchy name -> absolute directory ("memory" -> /sys/fs/cgroup/memory/x/y).
  explicit Manager(std::map<std::string, std::string> dirs) : dirs_(std::move(dirs)) {}
  const std::map<std::string, std::string>& dirs() const { return dirs_; }

  // mkdir -p every directory not made yet, or only `only` (cpuset: parents get cpus/mems
  // copied down first).
  Result<void> precreate(const std::string& only = "");
  // An fd of the v2 directory for clone3(CLONE_INTO_CGROUP), if there is a v2 hierarchy.
  Result<UniqueFd> open_unified() const;
  // Writes pid to cgroup.procs of every directory, or only of `only`.
  Result<void> join(pid_t pid, const std::string& only = "") const;
  // `creating`: on pure v2 the device program (default allow list) is installed even
  // when the config has no device rules; `update` replaces it only when given rules.
  Result<void> set(const spec::Resources& r, bool creating = false) const;
  // v2: enables `controllers` (those the hierarchy has) in cgroup.subtree_control of
  // every ancestor of the container's v2 directory below `mountpoint`.
  Result<void> enable_v2_controllers(const std::string& mountpoint, const std::vector<std::string>& controllers) const;
  Result<void> freeze(bool frozen) const;
  bool frozen() const;
  Result<std::vector<pid_t>> pids() const;
  // rmdir every directory husk created (retries while the kernel tears tasks down).
  Result<void> destroy() const;
  bool created_any() const { return !created_.empty(); }

 private:
  std::string dir_of(std::string_view controller) const;  // "" if not present
  std::map<std::string, std::string> dirs_;
  std::vector<std::string> created_;
};

// Resource file writes, pure (unit-tested): file name -> value, in order. Zero or
// absent values mean "leave unchanged" (docker sends zeros to `update`).
using Writes = std::vector<std::pair<std::string, std::string>>;
Writes v1_writes(const std::string& hierarchy, const spec::Resources& r);
Writes v2_writes(const spec::Resources& r);
uint64_t shares_to_weight(uint64_t shares);
uint64_t blkio_to_io_weight(uint64_t weight);
std::string rdma_line(const std::string& device, const spec::Rdma& l);
// The v2 controllers `r` needs: every one on pure v2 (runc enables all), on a hybrid host
// those of hugepageLimits, rdma and `unified` keys.
std::vector<std::string> v2_controllers_needed(const spec::Resources& r, bool pure_v2);
// One resource write; a file that may legitimately be missing is skipped (debug log).
Result<void> write_one(const std::string& dir, const std::string& file, const std::string& value);
// runc's default device allow list, applied after the config's rules on v1.
std::vector<std::string> default_allowed_devices();
std::string device_rule(const spec::DeviceRule& d);
// The calling thread moves itself into each v1 directory through `tasks` ("0"): the one
// migration the kernel performs without the global cgroup_threadgroup_rwsem write lock
// (whose first taker in a burst waits for an RCU grace period, milliseconds).
Result<void> join_self_v1(const std::vector<std::string>& v1_dirs);
// The same through `tasks` fds P opened (tasks[i] is v1_dirs[i]'s): the kernel checks the
// opener's credentials, so an init in a user namespace, which may not open the host's
// files itself, still moves itself without the global lock.
Result<void> join_self_v1(std::span<const UniqueFd> tasks, const std::vector<std::string>& v1_dirs);
// P's half of that: each directory's `tasks`, opened for writing.
Result<std::vector<UniqueFd>> open_v1_tasks(const std::vector<std::string>& v1_dirs);

}  // namespace husk::os::cgroups
