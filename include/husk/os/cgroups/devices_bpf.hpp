// cgroup v2 device control: husk generates a BPF_PROG_TYPE_CGROUP_DEVICE program from the
// rule list itself (no libbpf), with runc's semantics: the last matching rule wins, a
// rule matches when type, major and minor match and the requested access is a subset of
// its access, and anything no rule matches is denied (mknod and open alike).
#pragma once

#include <linux/bpf.h>

#include <vector>

#include "husk/core/error.hpp"
#include "husk/core/fd.hpp"
#include "husk/spec/model.hpp"

namespace husk::os::cgroups {

// Pure (unit-tested): the program's instructions.
std::vector<bpf_insn> device_program(const std::vector<spec::DeviceRule>& rules);
// The rules applied on v2: the config's, then runc's default allow list.
std::vector<spec::DeviceRule> v2_device_rules(const std::vector<spec::DeviceRule>& config);
// Loads the program and attaches it to the cgroup directory `dir` (BPF_F_ALLOW_MULTI),
// then detaches the device programs that were there before (an `update` replaces them).
Result<void> apply_device_program(const std::string& dir, const std::vector<spec::DeviceRule>& rules);

}  // namespace husk::os::cgroups
