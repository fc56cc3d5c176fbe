#include "husk/os/executable.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include "husk/core/path.hpp"

namespace husk::os::executable {

Result<std::string> resolve(const std::string& arg0, const std::vector<std::string>& env, const std::string& cwd) {
  auto ok = [](const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
  };
  if (arg0.find('/') != std::string::npos) {
    std::string p = arg0[0] == '/' ? arg0 : path::join(cwd, arg0);
    if (!ok(p)) return Error::make(Errc::not_found, fmt::format("exec: {:?}: no such executable file", arg0));
    return p;
  }
  // No default: with no PATH (or an empty one) in the process's env the lookup fails, as
  // runc's (Go's exec.LookPath on the env it set) does; an empty entry is the cwd.
  std::string search;
  for (auto& e : env)
    if (e.rfind("PATH=", 0) == 0) search = e.substr(5);
  size_t i = 0;
  while (!search.empty() && i <= search.size()) {
    size_t j = search.find(':', i);
    if (j == std::string::npos) j = search.size();
    std::string dir = search.substr(i, j - i);
    if (dir.empty()) dir = cwd;
    std::string cand = path::join(dir[0] == '/' ? dir : path::join(cwd, dir), arg0);
    if (ok(cand)) return cand;
    i = j + 1;
  }
  return Error::make(Errc::not_found, fmt::format("exec: {:?}: executable file not found in $PATH", arg0));
}

}  // namespace husk::os::executable
