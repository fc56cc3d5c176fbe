// C, the container's init: container-side setup in a fixed order, then it blocks on
// exec.fifo until `husk start`, and execs the user's process. Each step names its sync
// point (os/sync.hpp, DESIGN.md §3.2). Child-safety rules: runtime/roles.hpp.
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "husk/core/log.hpp"
#include "husk/core/path.hpp"
#include "husk/os/capabilities.hpp"
#include "husk/os/cgroups/manager.hpp"
#include "husk/os/console.hpp"
#include "husk/os/devices.hpp"
#include "husk/os/exec_fifo.hpp"
#include "husk/os/hooks.hpp"
#include "husk/os/lsm.hpp"
#include "husk/os/passwd.hpp"
#include "husk/os/process.hpp"
#include "husk/os/syscall.hpp"
#include "husk/os/sysctl.hpp"
#include "husk/os/uts.hpp"
#include "husk/runtime/roles.hpp"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace husk::runtime {
namespace {

using os::sync::MsgType;

bool has_mount_at(const spec::ContainerPlan& p, std::string_view dest, bool bind) {
  for (auto& m : p.mounts)
    if (m.destination == dest && m.bind == bind) return true;
  return false;
}

// sync 4: P has put us into the cgroup and set its limits; the state for our hooks rides
// on the message. Then a cgroup namespace, rooted at that cgroup.
Result<void> wait_cgroup(ChildContext& ctx) {
  if (ctx.in_cgroup) return {};
  TRY_ASSIGN(auto m, ctx.to_parent_c.wait_msg(MsgType::continue_));
  ctx.hook_state_json = std::move(m.payload);
  TRY(os::cgroups::join_self_v1(ctx.self_join_v1));
  ctx.in_cgroup = true;
  if (ctx.plan->ns.new_cgroup && ::unshare(CLONE_NEWCGROUP) < 0) return Error::sys("unshare cgroup namespace");
  return {};
}

// sync 5: the container's filesystem, before pivot_root. Mounts start while P is still
// building the cgroup; a `cgroup` mount waits for it (and for the cgroup namespace).
Result<void> setup_rootfs(ChildContext& ctx) {
  const auto& p = *ctx.plan;
  TRY_ASSIGN(auto rootfd, os::rootfs::prepare_root(p));
  ctx.rootfs.rootfd = rootfd.get();
  for (auto& m : p.mounts) {
    if (m.type == "cgroup") TRY(wait_cgroup(ctx));
    TRY(os::rootfs::apply_mount(ctx.rootfs, m));
  }
  // A bind-mounted /dev is the caller's business; otherwise we populate it.
  if (!has_mount_at(p, "/dev", true)) {
    TRY(os::devices::apply_devices(ctx.rootfs.rootfd, p.devices, p.ns.new_user || p.ns.join_user));
    TRY(os::devices::apply_dev_symlinks(ctx.rootfs.rootfd, has_mount_at(p, "/dev/pts", false)));
  }
  ctx.rootfs.rootfd = -1;
  return {};
}

// The process's user: groups, gid, uid, keeping capabilities across the change.
Result<void> apply_user(const spec::ProcessPlan& pp) {
  std::vector<gid_t> groups(pp.additional_gids.begin(), pp.additional_gids.end());
  if (auto pw = read_file("/etc/passwd")) {
    if (auto u = os::passwd::find_user(*pw, pp.uid)) {
      if (auto gr = read_file("/etc/group"))
        for (auto g : os::passwd::groups_of(*gr, u->name))
          if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    }
  }
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
  bool has_home = false;
  for (auto& e : env)
    if (e.rfind("HOME=", 0) == 0) has_home = true;
  if (!has_home) {
    std::string home = "/";
    if (auto pw = read_file("/etc/passwd"))
      if (auto u = os::passwd::find_user(*pw, pp.uid); u && !u->home.empty()) home = u->home;
    env.push_back("HOME=" + home);
  }
  return env;
}

// Our own binary must never be exec'd into the container (CVE-2019-5736), directly or as
// a #! interpreter.
Result<void> refuse_self(const std::string& exe, dev_t dev, ino_t ino) {
  auto same = [&](const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino;
  };
  if (same(exe)) return Error::make(Errc::invalid_spec, fmt::format("exec {:?}: refusing to execute the runtime binary", exe));
  UniqueFd f(::open(exe.c_str(), O_RDONLY | O_CLOEXEC));
  char buf[256] = {};
  if (f && ::read(f.get(), buf, sizeof buf - 1) > 2 && buf[0] == '#' && buf[1] == '!') {
    std::string interp(buf + 2);
    interp = interp.substr(0, interp.find_first_of("\n"));
    size_t b = interp.find_first_not_of(" \t");
    interp = b == std::string::npos ? "" : interp.substr(b);
    interp = interp.substr(0, interp.find_first_of(" \t"));
    if (!interp.empty() && same(interp))
      return Error::make(Errc::invalid_spec, fmt::format("exec {:?}: its interpreter is the runtime binary", exe));
  }
  return {};
}

void reset_ignored_signals() {
  uint64_t ign = ~uint64_t{0};
  if (auto st = read_file("/proc/self/status")) {
    auto pos = st->find("\nSigIgn:\t");
    if (pos != std::string::npos) ign = std::strtoull(st->c_str() + pos + 9, nullptr, 16);
  }
  for (int s = 1; s < NSIG && s <= 64; ++s)
    if (ign & (uint64_t{1} << (s - 1))) ::signal(s, SIG_DFL);
}

// A cwd reached through a leaked fd or magic link would be outside the root
// (CVE-2024-21626): getcwd then reports "(unreachable)" instead of an absolute path.
Result<void> check_cwd(const std::string& cwd) {
  char buf[4096];
  if (!::getcwd(buf, sizeof buf) || buf[0] != '/')
    return Error::make(Errc::invalid_spec, fmt::format("cwd {:?} is outside the container", cwd));
  return {};
}

// Installs the filter; a SCMP_ACT_NOTIFY listener fd goes to P, which hands it to the
// listener socket, before we go on (the fd is closed here afterwards).
Result<void> install_seccomp(ChildContext& ctx) {
  TRY_ASSIGN(UniqueFd listener, os::seccomp::install(*ctx.bpf));
  if (!listener) return {};
  int fds[1] = {listener.get()};
  TRY(ctx.to_parent_c.send(MsgType::seccomp_listener_fd, {}, fds));
  return ctx.to_parent_c.wait_for(MsgType::seccomp_listener_done);
}

Result<void> init_steps(ChildContext& ctx) {
  const auto& p = *ctx.plan;
  const auto& pp = p.process;
  auto& ch = ctx.to_parent_c;
  TRY(os::process::set_pdeathsig(SIGKILL));
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  ::umask(0);  // device nodes and mount points get exactly the modes we ask for

  if (::setsid() < 0) return Error::sys("setsid");

  // sync 5: mounts and devices; sync 4 (in the cgroup) happens during or after them.
  if (p.ns.new_mount || !p.mounts.empty()) TRY(setup_rootfs(ctx));
  TRY(wait_cgroup(ctx));

  // sync 6: prestart + createRuntime run in P; createContainer here, before pivot_root.
  bool hooks = !p.hooks.prestart.empty() || !p.hooks.create_runtime.empty();
  if (hooks) {
    TRY(ch.request_hooks());
    TRY(ch.wait_for(MsgType::hooks_done));
  }
  TRY(os::hooks::run_hooks("createContainer", p.hooks.create_container, ctx.hook_state_json));

  // sync 7: switch root, then what needs the container's /proc and /dev.
  if (p.ns.new_mount) {
    TRY(os::rootfs::pivot(p.rootfs, p.no_pivot));
  } else if (::chdir(p.rootfs.c_str()) < 0 || ::chroot(".") < 0 || ::chdir("/") < 0) {
    return Error::sys("chroot into " + p.rootfs);
  }
  // Writes to /proc use a procfs of our own, checked, never the container's paths.
  bool labels = (pp.apparmor_profile && !pp.apparmor_profile->empty()) || (pp.selinux_label && !pp.selinux_label->empty());
  std::optional<os::procfs::Handle> proc;
  if (!p.sysctl.empty() || labels) {
    TRY_ASSIGN(proc, os::procfs::Handle::open());
  }
  // sysctl first: readonlyPaths usually covers /proc/sys.
  if (!p.sysctl.empty()) TRY(os::sysctl::apply(*proc, p.sysctl));
  if (p.ns.new_mount) {
    TRY(os::rootfs::apply_masked_paths(p.masked_paths));
    TRY(os::rootfs::apply_readonly_paths(p.readonly_paths));
  }
  TRY(os::uts::apply(p.hostname, p.domainname));
  if (pp.terminal) TRY(os::console::apply_console(ctx.console_fd, pp.console_size, p.ns.new_mount));
  if (ctx.console_fd >= 0) ::close(ctx.console_fd);
  if (!p.no_new_keyring) TRY(os::lsm::join_session_keyring(p.id));
  if (labels) TRY(os::lsm::apply_exec_labels(*proc, pp.apparmor_profile, pp.selinux_label));
  if (p.ns.new_mount) {
    TRY(os::rootfs::apply_root_propagation(p.root_propagation));
    if (p.readonly_root) TRY(os::rootfs::apply_readonly_root());
  }
  // The executable is resolved now, so "not found" fails create, not start.
  TRY_ASSIGN(std::string exe, resolve_executable(pp.args[0], pp.env, pp.cwd));
  TRY(refuse_self(exe, ctx.self_dev, ctx.self_ino));
  std::vector<std::string> env = env_with_home(pp);

  if (p.personality && ::personality(*p.personality) < 0) return Error::sys("set personality");

  // sync 8: P sets rlimits, oom_score_adj, writes state.json and the pid file.
  TRY(ch.ready());
  TRY(ch.wait_for(MsgType::run));

  // sync 9: cwd first, as root (as runc: the runtime may reach what the user cannot);
  // on EACCES again after the uid change. Verified before seccomp may forbid getcwd.
  bool chdir_later = false;
  if (::chdir(pp.cwd.c_str()) < 0) {
    if (errno != EACCES) return Error::sys(fmt::format("chdir to cwd {:?}", pp.cwd));
    chdir_later = true;
  } else {
    TRY(check_cwd(pp.cwd));
  }
  // Privileges. Without no_new_privs seccomp needs CAP_SYS_ADMIN: install it first.
  if (ctx.bpf && !pp.no_new_privileges) TRY(install_seccomp(ctx));
  if (pp.caps) TRY(os::caps::apply_bounding(pp.caps->bounding));
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return Error::sys("prctl(PR_SET_KEEPCAPS)");
  TRY(apply_user(pp));
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return Error::sys("prctl(PR_SET_KEEPCAPS)");
  if (pp.caps) {
    TRY(os::caps::apply_sets(*pp.caps));
    TRY(os::caps::apply_ambient(pp.caps->ambient));
  }
  if (chdir_later) {
    if (::chdir(pp.cwd.c_str()) < 0) return Error::sys(fmt::format("chdir to cwd {:?}", pp.cwd));
    TRY(check_cwd(pp.cwd));
  }
  if (pp.umask) ::umask(*pp.umask);
  else ::umask(022);
  if (pp.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return Error::sys("prctl(PR_SET_NO_NEW_PRIVS)");
  // A listener fd must reach P while it is still here (as runc): notify filters are
  // installed now; other NNP filters as late as possible, just before exec.
  if (ctx.bpf && pp.no_new_privileges && ctx.bpf->notify) TRY(install_seccomp(ctx));

  // Handlers do not survive exec, but a blocked mask and ignored signals would: reset
  // them now (ignored ones from SigIgn, else all), off the path between start and exec.
  reset_ignored_signals();
  sigset_t all;
  sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);

  // sync 10: P sees EOF and returns; from here nothing of ours may reach fds 0-2.
  if (::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0) return Error::sys("clear pdeathsig");
  ch.close();
  log::set_sink(nullptr);
  log::set_level(log::Level::error);
  for (int i = 0; i < p.preserve_fds; ++i) {
    int fl = ::fcntl(3 + i, F_GETFD);
    if (fl >= 0) ::fcntl(3 + i, F_SETFD, fl & ~FD_CLOEXEC);
  }
  os::sys_close_range(3 + static_cast<unsigned>(p.preserve_fds), ~0U, CLOSE_RANGE_CLOEXEC);  // CVE-2024-21626
  TRY(os::exec_fifo::wait_for_start(ctx.fifo_fd));
  TRY(os::hooks::run_hooks("startContainer", p.hooks.start_container, ctx.hook_state_json));
  if (ctx.bpf && pp.no_new_privileges && !ctx.bpf->notify) TRY(os::seccomp::install(*ctx.bpf));

  std::vector<char*> argv, envp;
  for (auto& a : pp.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  ::execve(exe.c_str(), argv.data(), envp.data());
  return Error::sys(fmt::format("exec {:?}", exe));
}

}  // namespace

Result<std::string> resolve_executable(const std::string& arg0, const std::vector<std::string>& env,
                                       const std::string& cwd) {
  auto ok = [](const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
  };
  if (arg0.find('/') != std::string::npos) {
    std::string p = arg0[0] == '/' ? arg0 : path::join(cwd, arg0);
    if (!ok(p)) return Error::make(Errc::not_found, fmt::format("exec: {:?}: no such executable file", arg0));
    return p;
  }
  std::string search = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (auto& e : env)
    if (e.rfind("PATH=", 0) == 0) search = e.substr(5);
  size_t i = 0;
  while (i <= search.size()) {
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

void init_main(ChildContext& ctx) noexcept {
  // C is S's copy (or P's, without S): drop S's channel and P's fds, keep ours.
  close_parent_fds(ctx);
  ctx.to_parent_s.close();
  os::sync::ChannelSink sink(ctx.to_parent_c);
  log::set_sink(&sink);
  try {
    auto r = init_steps(ctx);
    // init_steps only returns on failure.
    if (ctx.to_parent_c.fd() >= 0) {
      ctx.to_parent_c.send_error(std::move(r).error().context("container init"));
    } else {
      std::string m = "husk: container init: " + r.error().describe() + "\n";
      (void)!::write(2, m.data(), m.size());
    }
  } catch (...) {
    ctx.to_parent_c.send_error(Error::make(Errc::internal, "container init: unexpected exception"));
  }
  _exit(1);
}

}  // namespace husk::runtime
