#pragma once
#include <optional>
#include <string>

#include "husk/core/error.hpp"

namespace husk::os::uts {
Result<void> apply(const std::optional<std::string>& hostname, const std::optional<std::string>& domainname);
}  // namespace husk::os::uts
