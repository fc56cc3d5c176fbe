// Terminals: a pty made inside the container (from its devpts), the slave made the
// controlling terminal and stdio, the master sent to --console-socket in ONE message
// (payload: the pty name, SCM_RIGHTS: the master), as runc does.
#pragma once

#include <optional>
#include <string>

#include "husk/core/error.hpp"
#include "husk/core/fd.hpp"
#include "husk/spec/model.hpp"

namespace husk::os::console {

// P: connect to the caller's unix socket before clone.
Result<UniqueFd> connect_socket(const std::string& path);
// C, after pivot_root: create the pty, bind the slave on /dev/console, send the master,
// make the slave the controlling terminal and fds 0-2.
Result<void> apply_console(int sock, const std::optional<spec::ConsoleSize>& size, bool mount_console);
// `husk run` in the foreground without --console-socket: receive the master ourselves
// (run.cpp's wait loop then copies between it and our stdio).
Result<UniqueFd> recv_master(int sock);

// P, before clone: the process's terminal end, --console-socket connected, or (no socket)
// a socketpair whose peer the foreground command keeps to receive the pty master. Both
// empty without a terminal.
struct Ends {
  UniqueFd console, peer;
};
Result<Ends> open_ends(bool terminal, const std::string& console_socket);

}  // namespace husk::os::console
