// Resource values as cgroup file writes, pure (unit-tested): what v1 and v2 directories
// get for a spec::Resources. The drivers (driver.hpp) decide where they go.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/spec/model.hpp"

namespace husk::os::cgroups {

// File name -> value, in order. Zero or absent values mean "leave unchanged" (docker
// sends zeros to `update`).
using Writes = std::vector<std::pair<std::string, std::string>>;
Writes v1_writes(const std::string& hierarchy, const spec::Resources& r);
Writes v2_writes(const spec::Resources& r);
uint64_t shares_to_weight(uint64_t shares);
uint64_t blkio_to_io_weight(uint64_t weight);
std::string rdma_line(const std::string& device, const spec::Rdma& l);
// The v2 controllers `r` needs: every one on pure v2 (runc enables all), on a hybrid host
// those of hugepageLimits, rdma and `unified` keys.
std::vector<std::string> v2_controllers_needed(const spec::Resources& r, bool pure_v2);
// One resource write; a file that may legitimately be missing is skipped (debug log).
Result<void> write_one(const std::string& dir, const std::string& file, const std::string& value);
// runc's default device allow list, applied after the config's rules on v1.
std::vector<std::string> default_allowed_devices();
std::string device_rule(const spec::DeviceRule& d);
// The controller a v2 file belongs to ("memory.max" -> "memory").
std::string controller_of(std::string_view file);
// Whitespace-separated words (cgroup.controllers, cgroup.subtree_control).
std::vector<std::string> words(const std::string& text);

}  // namespace husk::os::cgroups
