// The bound on the compiled seccomp cache (<root>/.seccomp, os/seccomp.hpp): at most
// `max_files` entries and `max_bytes` bytes. Least recently used first out: a cache hit
// touches its entry's mtime (atime is unreliable under relatime/noatime), and after every
// write the oldest entries are removed until the directory is within both limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace husk::os::seccomp {

struct CacheLimits {
  size_t max_files = 128;
  uint64_t max_bytes = 8u << 20;
};

// Marks the entry open at `fd` as just used.
void touch_entry(int fd);
// Removes the least recently used "*.bpf" entries of the directory `dirfd` until it holds at
// most l.max_files entries and l.max_bytes bytes, and writers' temporary files older than an
// hour (left by a killed husk). Best effort; returns how many entries it removed.
size_t trim_cache(int dirfd, const CacheLimits& l = {});

}  // namespace husk::os::seccomp
