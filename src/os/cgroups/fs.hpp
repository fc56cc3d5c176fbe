// cgroupfs internals, private to os/cgroups: one namespace per cgroup version. The
// Cgroupfs driver (cgroupfs.cpp) combines them: v1 only, v2 only, or both (hybrid).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/core/fd.hpp"
#include "husk/spec/model.hpp"

namespace husk::os::cgroups {

// mkdir of the leaf, or mkdir -p when its parents are missing. Only the leaf is ours to
// remove later: parents may be shared with other containers. false: it existed.
Result<bool> make_dir(const std::string& dir);
// (rmdir and the pids of a cgroup: subtree_pids, remove_subtree in driver.hpp, with its
// sub-cgroups.)

namespace v1 {
// A new directory of `hierarchy`; cpuset ones get cpus/mems copied down from the parents
// (they start empty and refuse tasks). false: it existed.
Result<bool> make(const std::string& hierarchy, const std::string& dir);
// The hierarchy's share of `r` (memory before or after memsw as the current limit
// requires; device rules through one open per file).
Result<void> set(const std::string& hierarchy, const std::string& dir, const spec::Resources& r);
Result<void> freeze(const std::string& freezer_dir, bool frozen);
bool frozen(const std::string& freezer_dir);
// Each directory's `tasks`, opened for writing.
Result<std::vector<UniqueFd>> open_tasks(const std::vector<std::string>& dirs);
}  // namespace v1

namespace v2 {
// Enables `controllers` (those the hierarchy has) in cgroup.subtree_control of every
// ancestor of `dir` below `mountpoint`.
Result<void> enable_controllers(const std::string& mountpoint, const std::string& dir,
                                const std::vector<std::string>& controllers);
// `r` in `dir`: everything on pure v2; on a hybrid host only the controllers the v2
// hierarchy holds (hugetlb, rdma...) and `unified` keys. The device program (pure v2)
// when `creating` or when `r` has rules.
Result<void> set(const std::string& dir, const spec::Resources& r, bool pure, bool creating);
Result<void> freeze(const std::string& dir, bool frozen);
bool frozen(const std::string& dir);
// The directory for clone3(CLONE_INTO_CGROUP) (`flags`: O_RDONLY or O_PATH).
Result<UniqueFd> open_dir(const std::string& dir, int flags);
}  // namespace v2

}  // namespace husk::os::cgroups
