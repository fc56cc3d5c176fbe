// Small text helpers shared by the parsers of kernel files (sysfs lists, resctrl schemata).
#pragma once

#include <string_view>

namespace husk::text {

// `s` without leading and trailing blanks (space, tab, CR, LF).
constexpr std::string_view trim(std::string_view s) {
  constexpr std::string_view blanks = " \t\r\n";
  auto b = s.find_first_not_of(blanks);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(blanks) - b + 1);
}

}  // namespace husk::text
