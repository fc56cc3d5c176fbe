// Namespaces: open join targets in P (prepare_joins), write id maps and time offsets from
// P (*_from_parent), join/unshare in S (apply_*).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/core/fd.hpp"
#include "husk/spec/plan.hpp"

namespace husk::os::ns {

struct OpenedNs {
  int flag;
  UniqueFd fd;
  std::string path;
};

// Opens every `path` namespace and checks it is of the declared type.
Result<std::vector<OpenedNs>> prepare_joins(const spec::NsPlan& plan);
// setns into each, in order (user first).
Result<void> apply_joins(const std::vector<OpenedNs>& joins);
Result<void> write_id_maps_from_parent(pid_t pid, const std::string& uid_map, const std::string& gid_map);

}  // namespace husk::os::ns
