// S, stage 1: enters (setns) and creates (unshare) the namespaces, then clones C with
// CLONE_PARENT so that C is P's child and pid 1 of a new pid namespace. See os/sync.hpp.
#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>

#include "husk/core/log.hpp"
#include "husk/core/syscall_compat.hpp"
#include "husk/os/process.hpp"
#include "roles.hpp"

namespace husk::runtime {
namespace {

Result<void> stage1_steps(ChildContext& ctx) {
  const auto& p = *ctx.plan;
  auto& ch = ctx.to_parent_s;
  TRY(os::process::set_pdeathsig(SIGKILL));
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  // sync 3: join the given namespaces first (the user namespace first of all) ...
  TRY(os::ns::apply_joins(ctx.joins));
  ctx.joins.clear();

  // sync 2: ... then a new user namespace, whose maps P writes.
  if (p.ns.new_user) {
    if (::unshare(CLONE_NEWUSER) < 0) return Error::sys("unshare user namespace");
    // unshare(CLONE_NEWUSER) resets dumpable: keep /proc/<S> out of reach, but for an
    // unprivileged P while it writes the maps (runc's nsexec does the same).
    ::prctl(PR_SET_DUMPABLE, ctx.dumpable_for_maps ? 1 : 0, 0, 0, 0);
    TRY(ch.request_id_maps());
    TRY(ch.wait_for(os::sync::MsgType::map_ids_done));
    if (ctx.dumpable_for_maps) ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  }
  if (p.ns.new_user || p.ns.join_user) {
    if (::setresgid(0, 0, 0) < 0) return Error::sys("setresgid(0) in the user namespace");
    if (::setgroups(0, nullptr) < 0 && errno != EPERM) return Error::sys("setgroups in the user namespace");
    if (::setresuid(0, 0, 0) < 0) return Error::sys("setresuid(0) in the user namespace");
  }

  // sync 3: create the rest; CLONE_NEWPID and CLONE_NEWTIME take effect for C.
  if (p.ns.unshare_flags && ::unshare(p.ns.unshare_flags) < 0) return Error::sys("unshare namespaces");
  if ((p.ns.unshare_flags & CLONE_NEWTIME) && !p.time_offsets.empty())
    TRY(write_file("/proc/self/timens_offsets", p.time_offsets).context("write timens_offsets"));

  TRY_ASSIGN(pid_t c, os::process::clone_child(CLONE_PARENT));
  if (c == 0) init_main(ctx);
  TRY(ch.send_init_pid(c));
  return {};
}

}  // namespace

void close_parent_fds(ChildContext& ctx) noexcept {
  if (ctx.parent_fds_closed) return;
  ::close(ctx.parent_fds_s);
  ::close(ctx.parent_fds_c);
  ::close(ctx.lock_fd);
  ctx.parent_fds_closed = true;
}

bool needs_stage1(const spec::ContainerPlan& p) {
  return !p.ns.joins.empty() || p.ns.new_user || !p.time_offsets.empty();
}

void stage1_main(ChildContext& ctx) noexcept {
  close_parent_fds(ctx);
  os::sync::ChannelSink sink(ctx.to_parent_s);
  log::set_sink(&sink);
  int code = 0;
  try {
    auto r = stage1_steps(ctx);
    if (!r) {
      ctx.to_parent_s.send_error(std::move(r).error().context("stage 1"));
      code = 1;
    }
  } catch (...) {
    ctx.to_parent_s.send_error(Error::make(Errc::internal, "stage 1: unexpected exception"));
    code = 1;
  }
  _exit(code);
}

}  // namespace husk::runtime
