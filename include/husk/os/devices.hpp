// Device nodes in the container's /dev: mknod, or a bind of the host node inside a user
// namespace (where mknod is refused); and the standard /dev symlinks.
#pragma once

#include <vector>

#include "husk/core/error.hpp"
#include "husk/spec/plan.hpp"

namespace husk::os::devices {

Result<void> apply_devices(int rootfd, const std::vector<spec::DeviceOp>& devs, bool in_userns);
// /dev/fd, stdin, stdout, stderr, ptmx (with a devpts mount), core.
Result<void> apply_dev_symlinks(int rootfd, bool has_devpts);

}  // namespace husk::os::devices
