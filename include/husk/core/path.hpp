// Lexical path helpers (no filesystem access).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace husk::path {

std::string join(std::string_view a, std::string_view b);
// Lexically cleans: collapses "//", removes ".", resolves ".." (not above "/" for
// absolute paths).
std::string clean(std::string_view p);
// True when `p` (cleaned) is `root` or below it.
bool is_within(std::string_view root, std::string_view p);
std::vector<std::string> components(std::string_view p);
std::string dirname(std::string_view p);
std::string basename(std::string_view p);

}  // namespace husk::path
