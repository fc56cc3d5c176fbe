// The cgroupfs manager: one directory per hierarchy. Creating/joining (precreate, join)
// is kept apart from setting resources (set), as runc's Apply vs Set.
#pragma once

#include <sys/types.h>

#include <map>
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
  Result<void> set(const spec::Resources& r) const;
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

// Resource file writes, pure (unit-tested): file name -> value, in order.
std::vector<std::pair<std::string, std::string>> v1_writes(const std::string& hierarchy, const spec::Resources& r);
std::vector<std::pair<std::string, std::string>> v2_writes(const spec::Resources& r);
// runc's default device allow list, applied after the config's rules on v1.
std::vector<std::string> default_allowed_devices();
std::string device_rule(const spec::DeviceRule& d);
// The calling thread moves itself into each v1 directory through `tasks` ("0"): the one
// migration the kernel performs without the global cgroup_threadgroup_rwsem write lock
// (whose first taker in a burst waits for an RCU grace period, milliseconds).
Result<void> join_self_v1(const std::vector<std::string>& v1_dirs);

}  // namespace husk::os::cgroups
