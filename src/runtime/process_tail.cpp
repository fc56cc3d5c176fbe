// The end of every container process, the init's (C) and exec's (T) alike, in one order:
//
//   drop_privileges   linux.memoryPolicy, stdio to the user, cwd, (seccomp first when
//                     no_new_privileges is off: it needs CAP_SYS_ADMIN), bounding set,
//                     groups/gid/uid, capabilities, umask, no_new_privs
//   arm_for_exec      a NOTIFY filter (its listener fd reaches P while P listens),
//                     signal dispositions and mask reset, pdeathsig cleared
//   exec_process      preserved fds inheritable, the rest close-on-exec
//                     (CVE-2024-21626), the remaining no_new_privileges filter and the
//                     caller's last step (C, as runc: exec.fifo and the startContainer
//                     hooks under the filter; T: the final CPU affinity, then the
//                     filter), execve
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "husk/core/syscall_compat.hpp"
#include "husk/os/capabilities.hpp"
#include "husk/os/process.hpp"
#include "husk/os/stdio_owner.hpp"
#include "husk/os/syscall.hpp"
#include "husk/os/user.hpp"
#include "roles.hpp"

namespace husk::runtime {

// cwd (as root first, again after the uid change on EACCES, as runc), then the privilege
// drop: `early_seccomp` (the filter, when it must go in while CAP_SYS_ADMIN is still
// there), bounding set, uid/gid/groups keeping capabilities, then the capability sets.
Result<void> enter_cwd_and_drop_privileges(const spec::ProcessPlan& pp,
                                           const std::function<Result<void>()>& early_seccomp) {
  bool chdir_later = false;
  if (::chdir(pp.cwd.c_str()) < 0) {
    if (errno != EACCES) return Error::sys(fmt::format("chdir to cwd {:?}", pp.cwd));
    chdir_later = true;
  } else {
    TRY(os::process::check_cwd(pp.cwd));
  }
  // Without no_new_privs seccomp needs CAP_SYS_ADMIN: the caller installs it first.
  if (!pp.no_new_privileges) TRY(early_seccomp());
  if (pp.caps) TRY(os::caps::apply_bounding(pp.caps->bounding));
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return Error::sys("prctl(PR_SET_KEEPCAPS)");
  TRY(os::user::apply(pp));
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return Error::sys("prctl(PR_SET_KEEPCAPS)");
  if (pp.caps) {
    TRY(os::caps::apply_sets(*pp.caps));
    TRY(os::caps::apply_ambient(pp.caps->ambient));
  }
  if (chdir_later) {
    if (::chdir(pp.cwd.c_str()) < 0) return Error::sys(fmt::format("chdir to cwd {:?}", pp.cwd));
    TRY(os::process::check_cwd(pp.cwd));
  }
  return {};
}

Result<void> install_seccomp(const os::seccomp::Bpf& bpf, os::sync::Channel& to_parent) {
  TRY_ASSIGN(UniqueFd listener, os::seccomp::install(bpf));
  if (!listener) return {};
  int fds[1] = {listener.get()};
  TRY(to_parent.send(os::sync::MsgType::seccomp_listener_fd, {}, fds));
  return to_parent.wait_for(os::sync::MsgType::seccomp_listener_done);
}

Result<void> drop_privileges(const spec::ProcessPlan& pp, const std::optional<os::seccomp::Bpf>& bpf,
                             os::sync::Channel& to_parent, const std::optional<os::mempolicy::Prepared>& mempolicy) {
  // First, as runc: before any seccomp filter (Docker's profile allows set_mempolicy only
  // with CAP_SYS_NICE). The policy is per task and survives execve: the process and its
  // children keep it.
  if (mempolicy) TRY(os::mempolicy::apply_result(*mempolicy));
  TRY(os::stdio::give_to_user(pp.uid));  // while we may still chown (runc: the same)
  TRY(enter_cwd_and_drop_privileges(
      pp, [&]() -> Result<void> { return bpf ? install_seccomp(*bpf, to_parent) : Result<void>{}; }));
  ::umask(pp.umask.value_or(022));
  if (pp.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return Error::sys("prctl(PR_SET_NO_NEW_PRIVS)");
  return {};
}

Result<void> arm_for_exec(const spec::ProcessPlan& pp, const std::optional<os::seccomp::Bpf>& bpf,
                          os::sync::Channel& to_parent) {
  if (bpf && pp.no_new_privileges && bpf->notify) TRY(install_seccomp(*bpf, to_parent));
  // Handlers do not survive exec, but a blocked mask and ignored signals would.
  os::process::reset_signals();
  // The uid change cleared it; set again, it would outlive execve: P may go away.
  if (::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0) return Error::sys("clear pdeathsig");
  return {};
}

Result<void> exec_process(const spec::ProcessPlan& pp, const std::optional<os::seccomp::Bpf>& bpf, int preserve_fds,
                          const std::string& exe, const std::vector<std::string>& env,
                          const std::function<Result<void>()>& last_step, bool filter_first) {
  for (int i = 0; i < preserve_fds; ++i) {
    int fl = ::fcntl(3 + i, F_GETFD);
    if (fl >= 0) ::fcntl(3 + i, F_SETFD, fl & ~FD_CLOEXEC);
  }
  os::sys_close_range(3 + static_cast<unsigned>(preserve_fds), ~0U, CLOSE_RANGE_CLOEXEC);  // CVE-2024-21626
  bool late_filter = bpf && pp.no_new_privileges && !bpf->notify;
  if (late_filter && filter_first) TRY(os::seccomp::install(*bpf));
  TRY(last_step());
  if (late_filter && !filter_first) TRY(os::seccomp::install(*bpf));
  std::vector<char*> argv, envp;
  for (auto& a : pp.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  ::execve(exe.c_str(), argv.data(), envp.data());
  return Error::sys(fmt::format("exec {:?}", exe));
}

}  // namespace husk::runtime
