// linux.intelRdt (runtime-spec 1.3) through the resctrl filesystem: the CLOS group
// (closID, default the container id; "/" is the root group), its schemata, the
// container's MON group (enableMonitoring) and the pid in their `tasks`; removal on
// delete of what the runtime created. Every function takes the resctrl root as a
// parameter so the logic runs against a fixture tree.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "husk/core/error.hpp"

namespace husk::os::resctrl {

struct Config {
  std::optional<std::string> clos_id;
  std::optional<std::string> l3_cache_schema;
  std::optional<std::string> mem_bw_schema;
  std::vector<std::string> schemata;
  bool enable_monitoring = false;
};

// The first resctrl mount in a /proc/self/mountinfo text, or nullopt.
std::optional<std::string> find_root(std::string_view mountinfo);
// The host's resctrl root, or the create error the spec asks for when none is mounted:
// "config.json: /linux/intelRdt: resctrl is not mounted ...".
Result<std::string> host_root(const std::string& mountinfo_path = "/proc/self/mountinfo");

// The spec's value rules: closID not "." / ".." and no '/' unless it is "/";
// memBwSchema starts with "MB:"; no value contains a newline.
Result<void> validate(const Config& c);

// The text written to `schemata`: l3CacheSchema, then memBwSchema, then each schemata
// line, one per line; empty when none is set (then `schemata` is not written).
std::string schemata_text(const Config& c);

// Does every domain of every line of `wanted` have that value in `existing` (a schemata
// file as the kernel prints it)? Values compare as numbers (hex bitmasks for caches,
// decimal for MB/SMBA), so "L3:0=00ff" matches "L3:0=ff".
bool schemata_match(std::string_view existing, std::string_view wanted);

// What apply() did: delete needs it (store it with the container's state).
struct Group {
  std::string clos_path;  // the CTRL_MON group
  bool created = false;   // the runtime made clos_path (closID unset): remove it on delete
  std::string mon_path;   // mon_groups/<container-id>, or empty
};

// Makes or checks the group as the spec says, writes the schemata when the runtime made
// the group (an existing group's schemata must match), makes the MON group, and writes
// `pid` to the tasks of both. On error nothing it made is left behind.
Result<Group> apply(const std::string& root, const std::string& container_id, const Config& c, pid_t pid);

// exec: another process of the container joins the CLOS group, then its MON group.
Result<void> add_task(const Group& g, pid_t pid);

// Delete: the MON group, and the CLOS group only when the runtime created it.
Result<void> remove(const Group& g);

}  // namespace husk::os::resctrl
