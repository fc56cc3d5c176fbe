// Writes to /proc from inside the container go through a procfs handle we made and
// checked ourselves, never through a path the image or a mount could redirect
// (CVE-2019-19921, CVE-2023-27561, CVE-2025-52881): a fresh, detached procfs instance
// (fsopen/fsmount: nothing can be mounted over its files), every file opened beneath it
// without crossing a mount or following a magic link, and checked to be on procfs.
#pragma once

#include <string>
#include <string_view>

#include "husk/core/error.hpp"
#include "husk/core/fd.hpp"

namespace husk::os::procfs {

class Handle {
 public:
  // A private procfs of the caller's pid namespace (falls back to /proc, verified, on
  // kernels without fsopen).
  static Result<Handle> open();
  // Writes `value` to <proc>/<rel> ("sys/net/ipv4/ip_forward", "thread-self/attr/exec").
  Result<void> write(std::string_view rel, std::string_view value) const;
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
};

// statfs magic check, unit-testable on any fd.
bool is_procfs(int fd);

}  // namespace husk::os::procfs
