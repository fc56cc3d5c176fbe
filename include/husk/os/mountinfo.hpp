// /proc/PID/mountinfo as entries (proc(5)): the fields husk's readers use.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace husk::os::mountinfo {

struct Entry {
  std::string root;        // field 4: the mount's root within its file system
  std::string mountpoint;  // field 5, octal escapes (\040 ...) decoded
  std::string fstype;      // first field after " - "
  std::string super_options;
};

// Every well-formed line of `text`, in order; malformed lines are skipped.
std::vector<Entry> parse(std::string_view text);

}  // namespace husk::os::mountinfo
