#include "husk/core/path.hpp"

namespace husk::path {

std::vector<std::string> components(std::string_view p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < p.size()) {
    while (i < p.size() && p[i] == '/') ++i;
    size_t j = i;
    while (j < p.size() && p[j] != '/') ++j;
    if (j > i) out.emplace_back(p.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string clean(std::string_view p) {
  bool abs = !p.empty() && p[0] == '/';
  std::vector<std::string> out;
  for (auto& c : components(p)) {
    if (c == ".") continue;
    if (c == "..") {
      if (!out.empty() && out.back() != "..") {
        out.pop_back();
      } else if (!abs) {
        out.push_back(c);
      }
      continue;
    }
    out.push_back(c);
  }
  std::string r = abs ? "/" : "";
  for (size_t i = 0; i < out.size(); ++i) {
    if (i) r += '/';
    r += out[i];
  }
  if (r.empty()) r = ".";
  return r;
}

std::string join(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  std::string r(a);
  if (r.back() != '/') r += '/';
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  r += b;
  return r;
}

bool is_within(std::string_view root, std::string_view p) {
  std::string r = clean(root), c = clean(p);
  if (r == "/") return !c.empty() && c[0] == '/';
  return c == r || (c.size() > r.size() && c.compare(0, r.size(), r) == 0 && c[r.size()] == '/');
}

std::string dirname(std::string_view p) {
  std::string c = clean(p);
  auto pos = c.rfind('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return c.substr(0, pos);
}

std::string basename(std::string_view p) {
  std::string c = clean(p);
  auto pos = c.rfind('/');
  return pos == std::string::npos ? c : c.substr(pos + 1);
}

}  // namespace husk::path
