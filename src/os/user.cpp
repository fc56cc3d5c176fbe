#include "husk/os/user.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <unistd.h>

#include "husk/core/fd.hpp"
#include "husk/os/passwd.hpp"

namespace husk::os::user {

// The process's user: groups, gid, uid, keeping capabilities across the change.
// The supplementary groups are exactly additionalGids: OCI always gives a gid, and runc
// (GetExecUser with an explicit group) then reads no groups from the image's /etc/group.
Result<void> apply(const spec::ProcessPlan& pp) {
  std::vector<gid_t> groups(pp.additional_gids.begin(), pp.additional_gids.end());
  if (::setgroups(groups.size(), groups.data()) < 0) {
    // In a user namespace with setgroups denied, only an empty list is allowed.
    if (!(errno == EPERM && groups.empty())) return Error::sys("setgroups");
  }
  if (::setresgid(pp.gid, pp.gid, pp.gid) < 0) return Error::sys(fmt::format("setresgid({})", pp.gid));
  if (::setresuid(pp.uid, pp.uid, pp.uid) < 0) return Error::sys(fmt::format("setresuid({})", pp.uid));
  return {};
}

std::vector<std::string> env_with_home(const spec::ProcessPlan& pp) {
  std::vector<std::string> env = pp.env;
  if (!pp.home_set) {
    std::string home = "/";
    if (auto pw = read_file("/etc/passwd"))
      if (auto u = passwd::find_user(*pw, pp.uid); u && !u->home.empty()) home = u->home;
    env.push_back("HOME=" + home);
  }
  return env;
}

}  // namespace husk::os::user
