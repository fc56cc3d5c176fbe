// /etc/passwd and /etc/group of the container, parsed by hand: never NSS in a static
// binary, and never the host's files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace husk::os::passwd {

struct User {
  std::string name;
  uint32_t uid = 0, gid = 0;
  std::string home;
};
struct Group {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

std::optional<User> find_user(std::string_view passwd_text, uint32_t uid);
// Supplementary groups of `user` (by membership), from /etc/group text.
std::vector<uint32_t> groups_of(std::string_view group_text, std::string_view user);

}  // namespace husk::os::passwd
