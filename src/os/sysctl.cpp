#include "husk/os/sysctl.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace husk::os::sysctl {

Result<void> apply(const procfs::Handle& proc, const std::vector<std::pair<std::string, std::string>>& kv) {
  for (auto& [k, v] : kv) {
    std::string key = k;  // the config's spelling: dots
    std::replace(key.begin(), key.end(), '/', '.');
    TRY(proc.write("sys/" + k, v).context(fmt::format("config.json: /linux/sysctl: {:?}", key)));
  }
  return {};
}

}  // namespace husk::os::sysctl
