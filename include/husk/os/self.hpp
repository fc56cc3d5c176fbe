// Protecting our own binary (CVE-2019-5736, docs/design.md §9).
//
// Every husk process that enters a container is non-dumpable, and the container init
// refuses to exec our own inode (runtime/init.cpp). That holds unless a process in the
// container has CAP_SYS_PTRACE over our user namespace: it can then open
// /proc/<husk>/exe, keep the fd, and write through it once husk has exited. So when a
// husk process will live in a pid namespace it did not create (a joined pid namespace,
// none at all, and every `exec`), husk first re-executes itself from a read-only
// detached bind mount of its own file (open_tree + mount_setattr + execveat: no mount
// appears anywhere, the mount disappears with the last process using it, and every
// write through /proc/<pid>/exe or /proc/<pid>/map_files then fails with EROFS).
// Kernels without open_tree get a sealed memfd copy instead (as runc's fallback).
#pragma once

#include <sys/types.h>

#include <string>

#include "husk/core/error.hpp"

namespace husk::os::self {

// main() records argv so a re-exec repeats the same command.
void remember_argv(int argc, char** argv);
// True when our executable cannot be written through /proc/self/exe: its mount is
// read-only or it is a write-sealed memfd.
bool is_sealed();
// Re-executes the current command from a read-only view of our binary unless it is
// already sealed. Returns only when already sealed, or on failure.
Result<void> ensure_sealed();
// dev/ino of our own binary (refuse_exec's argument), taken in P before clone.
void identity(dev_t& dev, ino_t& ino);
// Our own binary is never exec'd into the container (CVE-2019-5736), directly or as a
// #! interpreter.
Result<void> refuse_exec(const std::string& exe, dev_t dev, ino_t ino);

}  // namespace husk::os::self
