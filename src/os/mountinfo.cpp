#include "husk/os/mountinfo.hpp"

namespace husk::os::mountinfo {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '\\' && i + 3 < s.size() && octal(s[i + 1]) && octal(s[i + 2]) && octal(s[i + 3])) {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The space-separated fields of `s` (empty ones skipped).
std::vector<std::string_view> fields(std::string_view s) {
  std::vector<std::string_view> f;
  for (size_t i = 0; i < s.size();) {
    size_t sp = s.find(' ', i);
    if (sp == std::string_view::npos) sp = s.size();
    if (sp > i) f.push_back(s.substr(i, sp - i));
    i = sp + 1;
  }
  return f;
}

}  // namespace

std::vector<Entry> parse(std::string_view text) {
  std::vector<Entry> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    size_t sep = line.find(" - ");
    if (sep == std::string_view::npos) continue;
    auto left = fields(line.substr(0, sep));
    auto right = fields(line.substr(sep + 3));
    if (left.size() < 5 || right.empty()) continue;
    out.push_back(Entry{unescape(left[3]), unescape(left[4]), std::string(right[0]),
                        right.size() > 2 ? std::string(right[2]) : std::string()});
  }
  return out;
}

}  // namespace husk::os::mountinfo
