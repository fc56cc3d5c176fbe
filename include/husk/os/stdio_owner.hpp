// The container process's stdio given to its user, as runc (fixStdioPermissions): the
// console pty or the pipes/files engines pass as fds 0-2 belong to the caller (root), and a
// process running as another uid could not reopen them (/dev/stdout, `tty`).
#pragma once

#include <sys/types.h>

#include "husk/core/error.hpp"

namespace husk::os::stdio {

// fchown of fds 0-2 to `uid` (the group kept), before the uid changes. Skipped: an fd
// already owned by `uid`, /dev/null, an owner or group not mapped in our user namespace
// (EPERM, EINVAL: better untouched than failing), a closed fd.
Result<void> give_to_user(uid_t uid);

}  // namespace husk::os::stdio
