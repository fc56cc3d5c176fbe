// AppArmor and SELinux for the container process.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/os/procfs.hpp"
#include "husk/spec/plan.hpp"

namespace husk::os::lsm {
bool apparmor_enabled();
bool selinux_enabled();
// Sets the profile/label the next execve switches to; errors when AppArmor is asked for
// but not enabled (as runc), ignores SELinux labels when SELinux is off (as runc/crun).
// Through the verified procfs handle (os/procfs.hpp).
Result<void> apply_exec_labels(const procfs::Handle& proc, const std::optional<std::string>& apparmor,
                               const std::optional<std::string>& selinux);
// linux.mountLabel, as runc: with SELinux enabled, `context="<label>"` joins the data of
// every filesystem mount but proc, sysfs, cgroup and mqueue (binds keep their own
// labels); without SELinux runc ignores it, and so does create (it only logs that).
// Pure: the caller asks selinux_enabled().
void label_mounts(std::vector<spec::MountOp>& mounts, const std::string& label);
// A new session keyring named after the container (runc's default; --no-new-keyring skips).
Result<void> join_session_keyring(const std::string& id);
}  // namespace husk::os::lsm
