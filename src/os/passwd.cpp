#include "husk/os/passwd.hpp"

#include <charconv>
#include <sstream>

namespace husk::os::passwd {
namespace {
std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ':') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}
std::optional<uint32_t> num(const std::string& s) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}
}  // namespace

std::optional<User> find_user(std::string_view text, uint32_t uid) {
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto f = fields(line);
    if (f.size() < 7) continue;
    auto u = num(f[2]);
    auto g = num(f[3]);
    if (!u || !g || *u != uid) continue;
    return User{f[0], *u, *g, f[5]};
  }
  return std::nullopt;
}

std::vector<uint32_t> groups_of(std::string_view text, std::string_view user) {
  std::vector<uint32_t> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto f = fields(line);
    if (f.size() < 4) continue;
    auto g = num(f[2]);
    if (!g) continue;
    std::istringstream ms(f[3]);
    std::string m;
    while (std::getline(ms, m, ','))
      if (m == user) out.push_back(*g);
  }
  return out;
}

}  // namespace husk::os::passwd
