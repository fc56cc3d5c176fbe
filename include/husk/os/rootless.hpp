// Rootless mode: whether husk runs without privileges over the host (runc's rule), and where
// an unprivileged caller keeps its state. Pure decisions plus one probe of /proc/self.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "husk/core/error.hpp"
#include "husk/spec/plan.hpp"

namespace husk::os::rootless {

enum class Mode { automatic, on, off };

// --rootless: "auto" (or empty), or a boolean as runc's strconv.ParseBool reads it
// (1 t T TRUE true True, 0 f F FALSE false False).
Result<Mode> parse_mode(std::string_view s);

// True when /proc/self/uid_map text is the initial user namespace's: exactly one range
// "0 0 4294967295" (runc's userns.RunningInUserNS is the negation).
bool is_initial_uid_map(std::string_view uid_map_text);

// runc's shouldUseRootlessCgroupManager for the cgroupfs driver: an explicit mode wins;
// auto is rootless when euid != 0 or when inside a user namespace.
bool decide(Mode m, uid_t euid, bool in_user_ns);

// runc's shouldHonorXDGRuntimeDir: XDG_RUNTIME_DIR set and non-empty, and euid != 0, or
// euid 0 inside a user namespace with USER unset or not "root".
bool honor_xdg_runtime_dir(const std::optional<std::string>& xdg, uid_t euid, bool in_user_ns,
                           const std::optional<std::string>& user);

// The state root when --root is not given: $XDG_RUNTIME_DIR/husk when honored, else /run/husk.
std::string default_state_root(const std::optional<std::string>& xdg, uid_t euid, bool in_user_ns,
                               const std::optional<std::string>& user);

// Probes: /proc/self/uid_map (false when it cannot be read: no user namespaces), the
// process's environment and euid.
bool in_user_namespace();
Result<bool> detect(std::string_view mode);
std::string default_state_root();

// What an unprivileged caller (no CAP_SYS_RESOURCE) cannot ask of the kernel, refused
// before anything exists, naming the field: a hard rlimit above the caller's own
// (`current_hard`: the caller's hard limit of a resource). Pure given the probe.
Result<void> check_rlimits(const std::vector<spec::RlimitOp>& limits,
                           const std::function<std::optional<uint64_t>(int)>& current_hard);
Result<void> check_rlimits(const std::vector<spec::RlimitOp>& limits);  // getrlimit
// process.oomScoreAdj for an unprivileged caller: set on the caller itself, before the
// clone, so that its children inherit it (their /proc files are not the caller's to open
// while they are not dumpable; runc's init sets its own too). Lowering it below the
// caller's minimum is refused by the kernel: an error naming the field.
Result<void> set_own_oom_score_adj(int value);

}  // namespace husk::os::rootless
