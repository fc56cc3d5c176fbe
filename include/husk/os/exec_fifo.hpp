// exec.fifo: C blocks opening it for writing until `husk start` opens it for reading.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "husk/core/error.hpp"
#include "husk/core/fd.hpp"

namespace husk::os::exec_fifo {
// P: mkfifo <dir>/exec.fifo (0622) and open it O_PATH for the child.
Result<UniqueFd> prepare(int dirfd, const std::string& dir);
// C: reopen the O_PATH fd for writing (blocks until start), write one byte.
Result<void> wait_for_start(int path_fd);
// start: open for reading (unblocks C), read the byte, unlink the fifo.
Result<void> release(const std::string& dir, pid_t init, uint64_t start_time);
bool exists(const std::string& dir);
}  // namespace husk::os::exec_fifo
