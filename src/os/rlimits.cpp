// rlimits from P with prlimit(2).
#include "husk/os/rlimits.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

namespace husk::os::rlimits {

Result<void> apply_from_parent(pid_t pid, const std::vector<spec::RlimitOp>& limits) {
  for (auto& l : limits) {
    rlimit r{l.soft, l.hard};
    if (::prlimit(pid, static_cast<__rlimit_resource>(l.resource), &r, nullptr) < 0) {
      return Error::sys(fmt::format("set rlimit {} (soft {}, hard {})", l.resource, l.soft, l.hard));
    }
  }
  return {};
}

}  // namespace husk::os::rlimits
