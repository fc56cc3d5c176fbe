// C, the container's init: container-side setup in a fixed order, then it blocks on
// exec.fifo until `husk start`, and execs the user's process. Each step names its sync
// point (os/sync.hpp, docs/design.md §4). Child-safety rules: runtime/roles.hpp.
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
#include <utility>

#include "husk/core/log.hpp"
#include "husk/core/path.hpp"
#include "husk/core/syscall_compat.hpp"
#include "husk/os/capabilities.hpp"
#include "husk/os/cgroups/driver.hpp"
#include "husk/os/console.hpp"
#include "husk/os/devices.hpp"
#include "husk/os/exec_fifo.hpp"
#include "husk/os/executable.hpp"
#include "husk/os/hooks.hpp"
#include "husk/os/lsm.hpp"
#include "husk/os/passwd.hpp"
#include "husk/os/process.hpp"
#include "husk/os/sched.hpp"
#include "husk/os/self.hpp"
#include "husk/os/syscall.hpp"
#include "husk/os/sysctl.hpp"
#include "husk/os/user.hpp"
#include "husk/os/uts.hpp"
#include "roles.hpp"

namespace husk::runtime {
namespace {

using os::sync::MsgType;

// sync 4: P has made the cgroup and set its limits; the state for our hooks rides on the
// message, with (after S) the v1 `tasks` fds we move ourselves through. Then a cgroup
// namespace, rooted at that cgroup.
Result<void> wait_cgroup(ChildContext& ctx) {
  if (ctx.in_cgroup) return {};
  TRY_ASSIGN(auto m, ctx.to_parent_c.wait_msg(MsgType::continue_));
  ctx.hook_state_json = std::move(m.payload);
  if (!m.fds.empty())
    TRY(os::cgroups::join_self_v1(m.fds, ctx.self_join_v1));
  else
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
  for (size_t i = 0; i < p.mounts.size(); ++i) {
    auto& m = p.mounts[i];
    if (m.type == "cgroup") TRY(wait_cgroup(ctx));
    if (i < ctx.idmapped_trees.size() && ctx.idmapped_trees[i] >= 0) {
      int tree = std::exchange(ctx.idmapped_trees[i], -1);
      auto r = m.idmap ? os::rootfs::attach_mount(ctx.rootfs, m, tree) : os::rootfs::apply_mount(ctx.rootfs, m, tree);
      ::close(tree);
      TRY(std::move(r));
    } else {
      TRY(os::rootfs::apply_mount(ctx.rootfs, m));
    }
  }
  // A bind-mounted /dev is the caller's business; otherwise we populate it.
  if (!p.dev_is_bind_mounted) {
    TRY(os::devices::apply_devices(ctx.rootfs.rootfd, p.devices, p.ns.new_user || p.ns.join_user));
    TRY(os::devices::apply_dev_symlinks(ctx.rootfs.rootfd, p.devpts_is_mounted));
  }
  // A missing process.cwd is made (0755, after the mounts: it may be under one), as runc
  // (createCwd). One the user can reach and we cannot (EACCES) is left to the chdir.
  if (p.has_process) {
    auto cwd = os::rootfs::ensure_in_root(ctx.rootfs.rootfd, p.process.cwd, true);
    if (!cwd && cwd.error().sys_errno() != EACCES) return std::move(cwd).error().context("config.json: /process/cwd");
  }
  ctx.rootfs.rootfd = -1;
  return {};
}

Result<void> init_steps(ChildContext& ctx) {
  const auto& p = *ctx.plan;
  const auto& pp = p.process;
  auto& ch = ctx.to_parent_c;
  TRY(os::process::set_pdeathsig(SIGKILL));
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  ::umask(0);  // device nodes and mount points get exactly the modes we ask for

  if (::setsid() < 0) return Error::sys("setsid");
  // sync 3 (no S): the network namespace, before any mount (a sysfs shows the netns of
  // its mounter), while P builds the cgroup.
  if (ctx.unshare_in_init && ::unshare(ctx.unshare_in_init) < 0) return Error::sys("unshare network namespace");

  // sync 5: mounts and devices; sync 4 (in the cgroup) happens during or after them.
  if (p.ns.new_mount || !p.mounts.empty()) TRY(setup_rootfs(ctx));
  TRY(wait_cgroup(ctx));

  // sync 6: P moves linux.netDevices into our network namespace, prestart +
  // createRuntime run in P; createContainer here, before pivot_root.
  bool hooks = !p.hooks.prestart.empty() || !p.hooks.create_runtime.empty() || ctx.netns_request;
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
  bool labels =
      (pp.apparmor_profile && !pp.apparmor_profile->empty()) || (pp.selinux_label && !pp.selinux_label->empty());
  std::optional<os::procfs::Handle> proc;
  if (!p.sysctl.empty() || labels) {
    TRY_ASSIGN(proc, os::procfs::Handle::open());
  }
  // sysctl first: readonlyPaths usually covers /proc/sys.
  if (!p.sysctl.empty()) TRY(os::sysctl::apply(*proc, p.sysctl));
  if (p.ns.new_mount) {
    // readonlyPaths first, then maskedPaths, as runc (the order mountinfo shows).
    TRY(os::rootfs::apply_readonly_paths(p.readonly_paths));
    TRY(os::rootfs::apply_masked_paths(p.masked_paths));
  }
  TRY(os::uts::apply(p.hostname, p.domainname));
  if (pp.terminal) TRY(os::console::apply_console(ctx.console_fd, pp.console_size, p.ns.new_mount));
  if (ctx.console_fd >= 0) ::close(ctx.console_fd);
  if (p.ns.new_mount) TRY(os::rootfs::apply_readonly_tmpfs(p.mounts));
  if (!p.no_new_keyring) TRY(os::lsm::join_session_keyring(p.id));
  if (labels) TRY(os::lsm::apply_exec_labels(*proc, pp.apparmor_profile, pp.selinux_label));
  if (p.ns.new_mount) {
    TRY(os::rootfs::apply_root_propagation(p.root_propagation));
    if (p.readonly_root) TRY(os::rootfs::apply_readonly_root());
  }
  // The executable is resolved now, so "not found" fails create, not start. Without a
  // process there is none: C waits in `created` until killed (start refuses it).
  std::string exe;
  if (p.has_process) {
    TRY_ASSIGN(exe, os::executable::resolve(pp.args[0], pp.env, pp.cwd));
    TRY(os::self::refuse_exec(exe, ctx.self_dev, ctx.self_ino));
  }
  std::vector<std::string> env = os::user::env_with_home(pp);

  if (p.personality && ::personality(*p.personality) < 0) return Error::sys("set personality");
  // Still privileged: a higher priority or a real-time policy needs CAP_SYS_NICE.
  TRY(os::sched::apply(pp));

  // sync 8: P sets rlimits, oom_score_adj, writes state.json and the pid file.
  TRY(ch.ready());
  TRY(ch.wait_for(MsgType::run));

  // sync 9: cwd first, as root (as runc: the runtime may reach what the user cannot);
  // on EACCES again after the uid change. Verified before seccomp may forbid getcwd.
  // Then the shared tail (runtime/process_tail.cpp).
  TRY(drop_privileges(pp, ctx.bpf, ch, ctx.mempolicy));
  TRY(arm_for_exec(pp, ctx.bpf, ch));

  // sync 10: P sees EOF and returns; from here nothing of ours may reach fds 0-2.
  ch.close();
  log::set_sink(nullptr);
  log::set_level(log::Level::error);
  return exec_process(
      pp, ctx.bpf, p.preserve_fds, exe, env,
      [&]() -> Result<void> {
        TRY(os::exec_fifo::wait_for_start(ctx.fifo_fd));
        if (!p.has_process) return Error::make(Errc::invalid_spec, "config.json: /process: not set, nothing to start");
        return os::hooks::run_hooks("startContainer", p.hooks.start_container, ctx.hook_state_json);
      },
      /*filter_first=*/true);
}

}  // namespace

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
  os::process::exit_child(1);
}

}  // namespace husk::runtime
