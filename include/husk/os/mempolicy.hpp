// linux.memoryPolicy (runtime-spec 1.3): mode, nodes, flags -> set_mempolicy(2).
// prepare() validates and builds the syscall's arguments in the parent; apply() is one
// syscall on that data (no allocation), for the init and for every exec'd process.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "husk/core/error.hpp"

namespace husk::os::mempolicy {

// The spec's constants, in its order (features: linux.memoryPolicy.modes / flags).
std::span<const std::string_view> known_modes();
std::span<const std::string_view> known_flags();

// Highest node id accepted + 1 (the kernel's MAX_NUMNODES on x86-64 with NODES_SHIFT 10).
inline constexpr int kMaxNodes = 1024;

// "0-3,7" -> {0,1,2,3,7} (sorted, unique). Empty text -> {}. Errors name no field.
Result<std::vector<int>> parse_nodes(std::string_view list);

// The host's online nodes, from /sys/devices/system/node/online (a parameter for tests).
// A kernel without NUMA has no such file: node 0 only.
Result<std::vector<int>> online_nodes(const std::string& path = "/sys/devices/system/node/online");

struct Config {
  std::string mode;
  std::optional<std::string> nodes;
  std::vector<std::string> flags;
};

struct Prepared {
  int mode = 0;  // MPOL_* | MPOL_F_* (the syscall's first argument)
  std::array<unsigned long, kMaxNodes / (8 * sizeof(unsigned long))> mask{};
  unsigned long maxnode = 0;  // 0: no nodemask (nullptr)
};

// Validates (errors: "config.json: /linux/memoryPolicy/<field>: ...") and builds the
// arguments. `online` are the host's nodes: without MPOL_F_RELATIVE_NODES every node
// named must be one of them (with it, node numbers are relative to the allowed set).
Result<Prepared> prepare(const Config& c, const std::vector<int>& online);

// set_mempolicy(mode, mask, maxnode). Returns 0 or -errno; async-signal-safe.
int apply(const Prepared& p) noexcept;
// apply() as a Result naming the field.
Result<void> apply_result(const Prepared& p);

}  // namespace husk::os::mempolicy
