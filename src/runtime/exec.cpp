// `husk exec`: a new process in a running container (docs/design.md §4).
//
//   P (husk exec)                                   T (the tenant process)
//   -------------                                   ----------------------
//   re-exec sealed (os/self.hpp); lock; status
//   plan from the container's config.json copy
//   pidfd of the init; which namespaces differ
//   setns(pidfd, CLONE_NEWPID): our children are
//   born in the container's pid namespace
//   (ASan build: back to our own once T is cloned)
//   clone3 (CLONE_INTO_CGROUP: the v2 directory) -> affinity (initial), v1 cgroups, rlimits,
//                                                   oom_score_adj, setns(pidfd, the rest)
//                                                   setsid, console, keyring, personality,
//                                                   scheduling, cwd, seccomp, user, caps,
//                                                   NNP, exe lookup as the user
//                  <------------------------------ seccomp_listener_fd {fd} (NOTIFY only)
//   fd + state to listenerPath
//   seccomp_listener_done ------------------------>
//                  <------------------------------ EOF: execve succeeded (the socket is
//                                                  CLOEXEC), or `error`
//   unlock; pid file; -d: exit 0, else forward signals, reap, exit with its code
//
// T is P's child, so the foreground P reaps it; no stage 1 is needed: setns(CLONE_NEWPID)
// only changes where P's children are born. T joins the cgroups before the namespaces,
// while it still sees the host's /sys/fs/cgroup. Child-safety rules: runtime/roles.hpp.
#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "husk/core/log.hpp"
#include "husk/core/path.hpp"
#include "husk/core/scope_guard.hpp"
#include "husk/core/syscall_compat.hpp"
#include "husk/os/capabilities.hpp"
#include "husk/os/cgroups/driver.hpp"
#include "husk/os/console.hpp"
#include "husk/os/executable.hpp"
#include "husk/os/lsm.hpp"
#include "husk/os/process.hpp"
#include "husk/os/procfs.hpp"
#include "husk/os/rlimits.hpp"
#include "husk/os/rootless.hpp"
#include "husk/os/sched.hpp"
#include "husk/os/self.hpp"
#include "husk/os/syscall.hpp"
#include "husk/os/user.hpp"
#include "husk/runtime/runtime.hpp"
#include "husk/spec/json.hpp"
#include "husk/spec/validate.hpp"
#include "lifecycle.hpp"
#include "roles.hpp"
#include "spec13.hpp"

namespace husk::runtime {
namespace {

using os::sync::MsgType;

// The namespaces T joins, in setns order for the per-fd fallback: user first (it grants
// the capabilities for the others), mount last of those that need host paths.
constexpr int kNsOrder[] = {CLONE_NEWUSER,   CLONE_NEWIPC,  CLONE_NEWUTS, CLONE_NEWNET,
                            CLONE_NEWCGROUP, CLONE_NEWTIME, CLONE_NEWNS};

bool same_ns(pid_t pid, int flag) {
  auto name = spec::namespace_proc_name(flag);
  struct stat a, b;
  if (::stat(fmt::format("/proc/{}/ns/{}", pid, name).c_str(), &a) < 0) return true;  // kernel without it
  if (::stat(fmt::format("/proc/self/ns/{}", name).c_str(), &b) < 0) return true;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// T's side: setns into every namespace in `flags` (never CLONE_NEWPID: P did it).
Result<void> join_namespaces(const TenantContext& t) {
  if (!t.ns_flags) return {};
  if (::setns(t.pidfd, t.ns_flags) == 0) return {};
  if (errno != EINVAL) return Error::sys("setns into the container's namespaces");
  // Kernels before 5.8 take no pidfd: one /proc/<init>/ns/* fd per namespace, all opened
  // before the first join (the mount namespace hides the host's /proc).
  std::vector<std::pair<int, UniqueFd>> fds;
  for (int f : kNsOrder) {
    if (!(t.ns_flags & f)) continue;
    auto path = fmt::format("/proc/{}/ns/{}", t.init_pid, spec::namespace_proc_name(f));
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return Error::sys("open " + path);
    fds.emplace_back(f, std::move(fd));
  }
  for (auto& [f, fd] : fds)
    if (::setns(fd.get(), f) < 0) return Error::sys(fmt::format("setns {}", spec::namespace_proc_name(f)));
  return {};
}

Result<void> tenant_steps(TenantContext& t) {
  const auto& plan = *t.plan;
  const auto& pp = plan.process;
  StepClock clock("exec: tenant");
  TRY(os::process::set_pdeathsig(SIGKILL));
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  // Still on the host: affinity for the setup, the cgroups (v1 by `tasks`, as create's C),
  // limits only a privileged process can raise, oom_score_adj.
  TRY(os::sched::set_cpu_affinity(pp.cpus_initial, "execCPUAffinity.initial"));
  TRY(os::cgroups::join_self_v1(t.v1_dirs));
  if (!t.v2_dir.empty()) TRY(write_file(t.v2_dir + "/cgroup.procs", "0").context("join cgroup"));
  TRY(os::rlimits::apply_from_parent(0, pp.rlimits));
  if (plan.oom_score_adj && !t.oom_inherited)
    TRY(write_file("/proc/self/oom_score_adj", std::to_string(*plan.oom_score_adj)).context("oomScoreAdj"));

  clock.mark("in the cgroups");
  TRY(join_namespaces(t));
  clock.mark("in the namespaces");
  if ((t.ns_flags & CLONE_NEWUSER) || t.user_ns_joined) {
    // As root of the container's user namespace until the process's own user is set.
    if (::setresgid(0, 0, 0) < 0) return Error::sys("setresgid(0) in the container's user namespace");
    if (::setresuid(0, 0, 0) < 0) return Error::sys("setresuid(0) in the container's user namespace");
  }
  // Joining a mount namespace moved our root there; a container without one of its own
  // was chrooted by its init: we follow it.
  if (t.root_fd >= 0) {
    if (::fchdir(t.root_fd) < 0 || ::chroot(".") < 0) return Error::sys("chroot into the container's root");
    ::close(t.root_fd);
    t.root_fd = -1;
  }
  if (::chdir("/") < 0) return Error::sys("chdir /");
  if (::setsid() < 0) return Error::sys("setsid");
  if (pp.terminal) TRY(os::console::apply_console(t.console_fd, pp.console_size, false));
  if (t.console_fd >= 0) ::close(t.console_fd);
  if (!t.no_new_keyring) TRY(os::lsm::join_session_keyring(t.id));
  if (plan.personality && ::personality(*plan.personality) < 0) return Error::sys("set personality");
  TRY(os::sched::apply(pp));
  bool labels =
      (pp.apparmor_profile && !pp.apparmor_profile->empty()) || (pp.selinux_label && !pp.selinux_label->empty());
  if (labels) {
    TRY_ASSIGN(auto proc, os::procfs::Handle::open());
    TRY(os::lsm::apply_exec_labels(proc, pp.apparmor_profile, pp.selinux_label));
  }

  clock.mark("console, keyring, scheduling, labels");
  TRY(drop_privileges(pp, t.bpf, t.to_parent, t.mempolicy));
  clock.mark("user, capabilities");
  // Looked up as the process's user, as runc: a directory it cannot search hides it.
  std::vector<std::string> env = os::user::env_with_home(pp);
  TRY_ASSIGN(std::string exe, os::executable::resolve(pp.args[0], env, pp.cwd));
  TRY(os::self::refuse_exec(exe, t.self_dev, t.self_ino));
  TRY(arm_for_exec(pp, t.bpf, t.to_parent));
  clock.mark("executable found");
  // Success closes the sync socket (CLOEXEC): P reads EOF. Failure is reported on it.
  return exec_process(pp, t.bpf, t.preserve_fds, exe, env,
                      [&] { return os::sched::set_cpu_affinity(pp.cpus_final, "execCPUAffinity.final"); });
}

// A wrong status is the same Errc as start, kill and delete give.
Result<void> check_status(const Loaded& c, bool ignore_paused) {
  switch (c.status) {
    case state::Status::created:  // its init waits on exec.fifo; runc runs the process
    case state::Status::running:
      return {};
    case state::Status::paused:
      if (ignore_paused) return {};
      return Error::make(Errc::bad_state, "cannot exec in a paused container (use --ignore-paused to override)");
    default:
      return Error::make(Errc::bad_state, "cannot exec in a stopped container");
  }
}

// The plan: the exec record create kept (older state directories without one: the
// bundle's config.json, and the seccomp profile compiled again: `kept` false), with the
// CLI's changes or --process.
Result<spec::ExecPlan> plan_exec(const state::StateStore& store, const Loaded& c, const ExecOptions& o, bool& kept) {
  std::string cfg_path = store.exec_config(o.id);
  kept = true;
  auto bytes = read_file(cfg_path);
  if (!bytes && bytes.error().code() == Errc::not_found) {
    kept = false;
    cfg_path = c.st.bundle + "/config.json";
    bytes = read_file(cfg_path);
  }
  if (!bytes) return std::move(bytes).error();
  TRY_ASSIGN(auto cfg, spec::parse_exec_record(*bytes, cfg_path));
  std::optional<spec::Process> from_file;
  if (!o.process_file.empty()) {
    TRY_ASSIGN(auto text, read_file(o.process_file).context("--process"));
    TRY_ASSIGN(from_file, spec::parse_process(text, o.process_file));
  }
  spec::ExecOverrides ov{
      o.args, o.cwd,  o.apparmor,        o.process_label, o.user,
      o.env,  o.caps, o.additional_gids, o.tty,           o.no_new_privs ? std::optional<bool>(true) : std::nullopt};
  return spec::make_exec_plan(cfg, from_file, o.process_file, ov);
}

Result<std::optional<os::seccomp::Bpf>> exec_seccomp(const GlobalOptions& g, const state::StateStore& store,
                                                     const std::string& id, const spec::ExecPlan& plan, bool kept) {
  std::optional<os::seccomp::Bpf> out;
  if (!plan.seccomp) return out;
  if (kept) {
    TRY_ASSIGN(out, os::seccomp::load_program(store.exec_seccomp(id), id));
  } else {
    TRY_ASSIGN(out, os::seccomp::load_or_compile(*plan.seccomp, g.root + "/.seccomp"));
  }
  return out;
}

}  // namespace

void tenant_main(TenantContext& t) noexcept {
  ::close(t.parent_fd);
  ::close(t.lock_fd);
  os::sync::ChannelSink sink(t.to_parent);
  log::set_sink(&sink);
  try {
    auto r = tenant_steps(t);
    t.to_parent.send_error(std::move(r).error());
  } catch (...) {
    t.to_parent.send_error(Error::make(Errc::internal, "unexpected exception"));
  }
  os::process::exit_child(127);
}

namespace {

// Until EOF from T: hand each seccomp listener fd it sends to the listenerPath agent.
Result<void> drive_tenant(os::sync::Channel& ch, const spec::ExecPlan& plan, const Loaded& c, pid_t tpid) {
  os::sync::ExpectedSequence seq({{MsgType::seccomp_listener_fd, true}, {MsgType::seccomp_listener_fd, true}});
  for (;;) {
    auto m = next_msg(ch, seq, "the process");
    if (!m) return std::move(m).error();
    if (!*m) return {};
    if ((*m)->type == MsgType::seccomp_listener_fd) {
      if ((*m)->fds.size() != 1 || !plan.seccomp || !plan.seccomp->listener_path)
        return Error::make(Errc::protocol, "sync: unexpected seccomp listener fd");
      TRY(send_seccomp_listener(*plan.seccomp, c.st, "running", c.st.pid, tpid, (*m)->fds[0].get()));
      TRY(send_to(ch, "the process", MsgType::seccomp_listener_done));
    }
  }
}

// The foreground tail: the pty master from the console socket's other end, if any, then wait.
int wait_with_console(pid_t tpid, const UniqueFd& console_peer) {
  UniqueFd master;
  if (console_peer) {
    auto mr = os::console::recv_master(console_peer.get());
    if (mr) master = std::move(*mr);
  }
  return wait_foreground(tpid, master ? master.get() : -1);
}

// P's side, once T is cloned (or could not be), in an ASan build only: P's later children
// are born in P's own pid namespace again. husk's P has none, but LeakSanitizer clones a
// tracer at exit which, born in the container's namespace, cannot see P (getppid() is 0),
// quits, and leaves P's exit spinning until it is killed (docs/reliability.md,
// Sanitizers). The release build keeps its exec path (open + setns: 12-36 us measured).
// A P that also joined the container's user namespace (rootless) cannot return (EPERM).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kLeakSanitizer = true;
#else
constexpr bool kLeakSanitizer = false;
#endif
void leave_pid_ns_for_children() {
  UniqueFd self(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
  if (self) (void)::setns(self.get(), CLONE_NEWPID);
}

// P's side, when setns(pidfd, CLONE_NEWPID) failed: by /proc/<pid>/ns/pid (no pidfd
// setns, kernel < 5.8), or, rootless, from inside the container's user namespace: an
// unprivileged P has no CAP_SYS_ADMIN over the pid namespace until it is in the user
// namespace it owns (runc's nsexec joins the user namespace first as well). T then
// skips the user namespace (joined twice: EINVAL) but still becomes its root.
Result<void> enter_pid_ns(TenantContext& t, const UniqueFd& pidfd) {
  if (errno == EPERM && (t.ns_flags & CLONE_NEWUSER) && ::setns(pidfd.get(), CLONE_NEWUSER | CLONE_NEWPID) == 0) {
    t.ns_flags &= ~CLONE_NEWUSER;
    t.user_ns_joined = true;
    return {};
  }
  UniqueFd ns(::open(fmt::format("/proc/{}/ns/pid", t.init_pid).c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns || ::setns(ns.get(), CLONE_NEWPID) < 0) return Error::sys("setns into the container's pid namespace");
  return {};
}

// What P settles for T before the clone. Unprivileged (rootless): limits it may not
// raise are refused naming the field, and oomScoreAdj is set on P for T to inherit (T's
// own /proc files are not T's to open while it is not dumpable). linux.memoryPolicy is
// checked against the host's nodes.
Result<void> prepare_in_parent(const spec::ExecPlan& plan, TenantContext& t) {
  const auto& pp = plan.process;
  if ((!pp.rlimits.empty() || plan.oom_score_adj) && (::geteuid() != 0 || os::rootless::in_user_namespace())) {
    TRY(os::rootless::check_rlimits(pp.rlimits));
    if (plan.oom_score_adj) {
      TRY(os::rootless::set_own_oom_score_adj(*plan.oom_score_adj));
      t.oom_inherited = true;
    }
  }
  TRY_ASSIGN(t.mempolicy, prepare_mempolicy(plan.memory_policy));
  return {};
}

}  // namespace

Result<int> exec(const GlobalOptions& g, const ExecOptions& o) {
  StepClock clock("exec");
  clock.mark("start");
  TRY(spec::check_container_id(o.id));
  auto store = store_for(g);
  // T lives in a pid namespace we did not create. If a process there may hold
  // CAP_SYS_PTRACE over our user namespace (the marker, never removed while the
  // container exists), T could be opened through /proc/<T>/exe: run from a read-only
  // view of our binary (os/self.hpp). Otherwise non-dumpable T is out of reach, at no
  // re-exec cost (0.7 ms).
  if (::access(store.ptrace_marker(o.id).c_str(), F_OK) == 0) TRY(os::self::ensure_sealed());
  if (o.detach && o.tty && o.console_socket.empty() && o.process_file.empty())
    return Error::make(Errc::invalid_argument, "cannot allocate a tty with --detach and without --console-socket");
  std::optional<state::Locked> lock;
  TRY_ASSIGN(lock, store.lock(o.id));
  TRY_ASSIGN(auto c, load(store, o.id));
  TRY(check_status(c, o.ignore_paused));
  clock.mark("state loaded");
  bool kept = true;
  TRY_ASSIGN(const spec::ExecPlan plan, plan_exec(store, c, o, kept));
  for (auto& w : plan.warnings) log::warning("{}", w);
  const auto& pp = plan.process;
  clock.mark("planned");
  if (pp.terminal && o.detach && o.console_socket.empty())
    return Error::make(Errc::invalid_argument, "cannot allocate a tty with --detach and without --console-socket");
  if (!pp.terminal && !o.console_socket.empty())
    return Error::make(Errc::invalid_argument, "--console-socket given, but the process has no terminal (--tty)");
  if (pp.caps) TRY(os::caps::check_available(*pp.caps).context("exec: capabilities"));

  TenantContext t;
  t.plan = &plan;
  TRY(prepare_in_parent(plan, t));
  t.id = o.id;
  t.no_new_keyring = c.st.no_new_keyring;
  t.preserve_fds = o.preserve_fds;
  TRY_ASSIGN(t.bpf, exec_seccomp(g, store, o.id, plan, kept));

  // The init, held by a pidfd: it cannot be replaced by a recycled pid from here on.
  UniqueFd pidfd(os::sys_pidfd_open(c.st.pid, 0));
  if (!pidfd || !os::process::is_alive(c.st.pid, c.st.start_time))
    return Error::make(Errc::bad_state, "cannot exec in a stopped container");
  t.pidfd = pidfd.get();
  t.init_pid = c.st.pid;
  for (int f : kNsOrder)
    if (!same_ns(c.st.pid, f)) t.ns_flags |= f;
  // The process we start may be the first able to ptrace us: later execs seal.
  if (spec::may_ptrace_host(pp.caps, t.ns_flags & CLONE_NEWUSER)) {
    UniqueFd m(::openat(lock->fd(), "ptrace", O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    if (!m) return Error::sys("create the ptrace marker");
  }
  UniqueFd root;
  if (!(t.ns_flags & CLONE_NEWNS)) {
    root.reset(::open(fmt::format("/proc/{}/root", c.st.pid).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return Error::sys("open the container's root");
    t.root_fd = root.get();
  }

  // Cgroups: the container's, or its sub-cgroups (--cgroup); v2 at clone time.
  TRY_ASSIGN(auto placed, c.cgroup->place_process(o.cgroups));
  t.v1_dirs = placed.self_join;

  TRY_ASSIGN(auto ends, os::console::open_ends(pp.terminal, o.console_socket));
  UniqueFd console = std::move(ends.console), console_peer = std::move(ends.peer);
  if (console) t.console_fd = console.get();
  os::self::identity(t.self_dev, t.self_ino);
  TRY_ASSIGN(auto sp, make_seqpacket_pair());
  os::sync::Channel ch(std::move(sp.first));
  t.to_parent = os::sync::Channel(std::move(sp.second));
  t.parent_fd = ch.fd();
  t.lock_fd = lock->fd();

  // Our children are born in the container's pid namespace; we stay where we are.
  bool pid_ns_entered = !same_ns(c.st.pid, CLONE_NEWPID);
  if (pid_ns_entered && ::setns(pidfd.get(), CLONE_NEWPID) < 0) TRY(enter_pid_ns(t, pidfd));
  sigset_t old;
  bool foreground = !o.detach;
  if (foreground) {
    sigset_t set = forwarded_signals();
    ::sigprocmask(SIG_BLOCK, &set, &old);
  }
  ScopeGuard unblock([&] {
    if (foreground) ::sigprocmask(SIG_SETMASK, &old, nullptr);
  });
  clock.mark("prepared");
  auto cl = os::process::clone_child(0, placed.clone_into ? placed.clone_into.get() : -1);
  if (!cl && placed.clone_into) {
    // No CLONE_INTO_CGROUP (kernel < 5.7): T writes itself into the v2 directory.
    log::debug("clone3 into the cgroup: {}; joining by pid", cl.error().describe());
    t.v2_dir = placed.v2_dir;
    cl = os::process::clone_child(0);
  }
  if (kLeakSanitizer && pid_ns_entered && !(cl && *cl == 0)) leave_pid_ns_for_children();
  TRY_ASSIGN(pid_t tpid, std::move(cl).context("start the process in the container"));
  if (tpid == 0) tenant_main(t);
  t.to_parent.close();
  // T exists and holds the init by pidfd: the lock is not needed any more, and must not
  // be held while T may sit frozen in a paused container (resume takes it). T shares the
  // descriptor and, born frozen in a paused v2 cgroup (CLONE_INTO_CGROUP), cannot close
  // its copy: unlock the description itself.
  lock->release();
  clock.mark("cloned");
  pid_t reap = tpid;
  ScopeGuard kill_tenant([&] {
    if (reap > 0) {
      ::kill(reap, SIGKILL);
      ::waitpid(reap, nullptr, __WALL);
    }
  });

  TRY(rdt_add_task(store.dir(o.id), tpid));
  TRY(drive_tenant(ch, plan, c, tpid));
  // EOF: the process runs (a death before execve is its exit status, reaped below).
  reap = 0;
  if (!o.pid_file.empty()) TRY(write_pid_file(o.pid_file, tpid));
  clock.mark("process runs");
  if (!o.pidfd_socket.empty()) TRY(send_pidfd(o.pidfd_socket, tpid));
  if (o.detach) return 0;
  console.reset();
  return wait_with_console(tpid, console_peer);
}

}  // namespace husk::runtime
