// runtime-spec 1.3 features in create and exec (internal to the runtime library): the
// host-dependent checks that validate (pure) cannot make, and the parent's side of
// netDevices, intelRdt and idmapped mounts. The os facilities do the syscalls.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/core/fd.hpp"
#include "husk/os/mempolicy.hpp"
#include "husk/os/resctrl.hpp"
#include "husk/spec/plan.hpp"

namespace husk::runtime {

// linux.memoryPolicy checked against the host's online nodes and made into
// set_mempolicy's arguments (nullopt when the config has none).
Result<std::optional<os::mempolicy::Prepared>> prepare_mempolicy(const std::optional<spec::MemoryPolicy>& mp);

// linux.netDevices: names, duplicates, a network namespace (new or joined).
Result<void> check_net_devices(const spec::ContainerPlan& plan);
// Moves them into the network namespace of `pid` (which must differ from ours).
Result<void> move_net_devices(const spec::ContainerPlan& plan, pid_t pid);

// linux.intelRdt: its values, and the resctrl root (the spec's error when none is mounted).
os::resctrl::Config rdt_config(const spec::IntelRdt& r);
Result<std::string> prepare_intel_rdt(const spec::ContainerPlan& plan);

// What intelRdt made, kept in the state directory (intel_rdt.json) for exec and delete.
Result<void> save_rdt_group(int state_dir_fd, const os::resctrl::Group& g);
Result<std::optional<os::resctrl::Group>> load_rdt_group(const std::string& state_dir);
// exec: the new process joins the container's CLOS (and MON) group, if it has one.
Result<void> rdt_add_task(const std::string& state_dir, pid_t pid);
// delete: the MON group, and the CLOS group when the runtime created it.
Result<void> rdt_remove(const std::string& state_dir);

// Idmapped mounts: one detached idmapped tree per idmapped mount of the plan (an
// invalid fd for the others), made by P, root in the initial user namespace. With a new
// user namespace also each bind's source, cloned (not yet flagged) from P's view.
Result<std::vector<UniqueFd>> make_idmapped_trees(const spec::ContainerPlan& plan);

}  // namespace husk::runtime
