// Writing a new user namespace's id maps from the parent, as the kernel lets the caller:
//   - privileged (euid 0 with CAP_SETUID/CAP_SETGID over the target's parent namespace):
//     /proc/<pid>/uid_map and gid_map directly;
//   - unprivileged, mapping exactly its own id (one range of size 1): directly too, with
//     "deny" written to /proc/<pid>/setgroups before gid_map (user_namespaces(7));
//   - anything else: the setuid helpers newuidmap/newgidmap (package uidmap), which allow
//     the caller's own id and the subordinate ranges of /etc/subuid and /etc/subgid. The
//     ranges are checked first, for a one-line error naming the field.
// runc does the same (nsexec.c: direct write, newuidmap on EPERM; setgroups "deny" unless
// the gid map is more than {0, egid, 1}).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "husk/core/error.hpp"

namespace husk::os::idmap {

struct Range {
  uint64_t inside = 0, outside = 0, count = 0;
};
struct SubRange {
  uint64_t start = 0, count = 0;
};

// "inside outside count" lines, as /proc/<pid>/uid_map takes them.
Result<std::vector<Range>> parse_map(std::string_view text);
// The ranges of USER (by name, or by uid in decimal) in /etc/subuid or /etc/subgid text.
std::vector<SubRange> subids_for(std::string_view file_text, std::string_view user, uint32_t id);
// The map is exactly one id of the caller: one range of size 1 whose outside id is `self`.
bool is_self_map(const std::vector<Range>& m, uint32_t self);
// Every outside id is `self` or inside one of `sub`; otherwise an error naming `field`
// ("uidMappings"/"gidMappings") and the first id that is not allowed.
Result<void> check_allowed(const std::vector<Range>& m, uint32_t self, const std::vector<SubRange>& sub,
                           std::string_view field, std::string_view subid_file);
// argv for newuidmap/newgidmap: BIN PID inside outside count ...
std::vector<std::string> helper_argv(const std::string& bin, pid_t pid, const std::vector<Range>& m);
// The first executable NAME in the directories of PATH ("" when none).
std::string find_on_path(std::string_view name, std::string_view path_env);

struct WritePlan {
  bool uid_helper = false, gid_helper = false;  // through newuidmap / newgidmap
  bool deny_setgroups = false;                  // "deny" to /proc/<pid>/setgroups before gid_map
};
// What to do for maps `uid`/`gid` written by a caller with euid/egid. Root maps anything
// directly; others map their own id directly and the rest through the helpers.
WritePlan plan_write(const std::vector<Range>& uid, const std::vector<Range>& gid, uid_t euid, gid_t egid);

// Writes the maps of `pid` (a child that has unshared its user namespace and is dumpable)
// following plan_write; uid_map/gid_map are /proc texts, empty for none.
Result<void> write_maps(pid_t pid, const std::string& uid_map, const std::string& gid_map);

}  // namespace husk::os::idmap
