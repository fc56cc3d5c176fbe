// systemd unit properties, pure (unit-tested): the values as D-Bus typed data, the base
// properties of the container's transient unit, linux.resources converted the way runc
// 1.1.5 does, and org.systemd.property.<Name> annotations parsed as GVariant text.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/os/systemd/path.hpp"
#include "husk/spec/model.hpp"

namespace husk::os::systemd {

// D-Bus values a property can carry; the signature follows from the alternative.
using DeviceAllowList = std::vector<std::pair<std::string, std::string>>;  // a(ss)
using Value = std::variant<bool,                                           // b
                           uint8_t,                                        // y
                           int16_t,                                        // n
                           uint16_t,                                       // q
                           int32_t,                                        // i
                           uint32_t,                                       // u
                           int64_t,                                        // x
                           uint64_t,                                       // t
                           double,                                         // d
                           std::string,                                    // s
                           std::vector<std::string>,                       // as
                           std::vector<uint8_t>,                           // ay
                           std::vector<uint32_t>,                          // au
                           std::vector<int32_t>,                           // ai
                           std::vector<uint64_t>,                          // at
                           DeviceAllowList>;                               // a(ss)
std::string signature(const Value& v);
// For messages and tests: "uint64 100", "'x'", "['a', 'b']".
std::string to_text(const Value& v);

struct Property {
  std::string name;
  Value value;
  bool operator==(const Property&) const = default;
};
using Properties = std::vector<Property>;
// The last property named `name`, or nullptr.
const Property* find(const Properties& ps, std::string_view name);

inline constexpr uint64_t kInfinity = UINT64_MAX;  // systemd's USEC_INFINITY / CGROUP_LIMIT_MAX

// What the conversion needs from the host (kept out so the functions stay pure).
struct Host {
  bool v2 = true;
  // systemd's version (Manager.Version); 0 = unknown, taken as recent. Below 242 there is
  // no CPUQuotaPeriodUSec, below 244 no AllowedCPUs/AllowedMemoryNodes (runc drops them;
  // the cgroupfs writes still apply them).
  unsigned version = 0;
  std::string proc_devices;                               // /proc/devices text
  std::function<bool(const std::string&)> device_exists;  // "/dev/char/1:3" (or /sys/dev/...)
};

// This host's facts: /proc/devices, and a device node check through /dev/{char,block}/M:m
// or /sys/dev/{char,block}/M:m (udev may not have populated /dev), as runc does.
Host read_host(bool v2, unsigned version = 0);

// Description, Slice (a scope) or Wants (a slice), Delegate, PIDs (pid > 0), accounting
// switches, DefaultDependencies=no: runc's Apply.
Properties unit_properties(const UnitPath& u, pid_t pid, bool v2);

// linux.resources -> properties; zero means unset (docker sends zeros to update).
// v2: MemoryMax, MemoryLow, MemorySwapMax (memory.swap - memory), CPUWeight, IOWeight,
// TasksMax, CPUQuota*, Allowed*, and the `unified` keys systemd knows. v1: MemoryLimit,
// CPUShares, BlockIOWeight, TasksMax, CPUQuota*, Allowed*. Both: DevicePolicy/DeviceAllow
// from the device rules followed by the default allow list (cgroups::v2_device_rules), only
// when `r` has rules (plan_unit adds the default list's for a config without any).
Result<Properties> resource_properties(const spec::Resources& r, const Host& h);

// The CPU quota as systemd takes it (quota 0 with a period: unlimited).
void add_cpu_quota(Properties& ps, int64_t quota, uint64_t period, unsigned version);
// "1,3-5" -> bytes with those bits set, byte 0 = CPUs 0-7 (systemd's order).
Result<std::vector<uint8_t>> range_to_bits(std::string_view list);
// cgroup v2 swap = memory.swap - memory (runc's ConvertMemorySwapToCgroupV2Value).
Result<int64_t> v2_swap(int64_t memory_swap, int64_t memory);
// DevicePolicy + DeviceAllow for the rules (the config's followed by the defaults).
Result<Properties> device_properties(const std::vector<spec::DeviceRule>& rules, const Host& h);

// org.systemd.property.<Name> annotations, in name order. A name of fewer than 3 or
// non-letter characters, or a value that is not a supported GVariant literal: one line
// naming the annotation. "<x>Sec" names with a number become "<x>USec" in microseconds.
Result<Properties> annotation_properties(const std::map<std::string, std::string>& annotations);
// GVariant text: 'str' "str", true/false, numbers (int32; double with '.'/'e'), typed
// ("uint64 5", "@t 5", "int64 -1", "double 0.5", "string 'x'"), arrays of strings or
// numbers (['a', 'b'], @as [], @au [1, 2], [uint64 1, 2]).
Result<Value> parse_gvariant(std::string_view text);

}  // namespace husk::os::systemd
