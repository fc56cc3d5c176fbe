// P, the `husk create` process: all host-side work, in five phases (docs/design.md):
//
//   prepare      parse -> validate -> plan, the seccomp program, namespaces to join, the
//                cgroup driver and its paths. Nothing exists on the host yet.
//   materialise  the state directory (locked), exec.fifo, the console, the sync sockets,
//                the exec record, seccomp.bpf. From here a Rollback undoes everything.
//   spawn        S (stage 1) or C straight away, by the cgroup placement's fast path.
//   drive        the sync protocol (os/sync.hpp): id maps, cgroups, S's report, then C's
//                steps until it waits on exec.fifo.
//   finalise     the console master for a foreground run; the rollback is dismissed.
//
// "sync N" comments name the points of the protocol in os/sync.hpp and runtime/init.cpp.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "husk/core/log.hpp"
#include "husk/core/path.hpp"
#include "husk/os/capabilities.hpp"
#include "husk/os/cgroups/driver.hpp"
#include "husk/os/cgroups/rootless.hpp"
#include "husk/os/console.hpp"
#include "husk/os/exec_fifo.hpp"
#include "husk/os/hooks.hpp"
#include "husk/os/lsm.hpp"
#include "husk/os/process.hpp"
#include "husk/os/rlimits.hpp"
#include "husk/os/rootless.hpp"
#include "husk/os/self.hpp"
#include "husk/spec/exec_record.hpp"
#include "husk/spec/json.hpp"
#include "husk/spec/validate.hpp"
#include "lifecycle.hpp"
#include "roles.hpp"
#include "spec13.hpp"

namespace husk::runtime {
namespace {

using os::sync::Channel;
using os::sync::ExpectedSequence;
using os::sync::MsgType;

Result<std::string> absolute_dir(const std::string& p, const char* what) {
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) return Error::sys(fmt::format("{} {}", what, p));
  struct stat st;
  if (::stat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
    return Error::make(Errc::invalid_argument, fmt::format("{} {}: not a directory", what, p));
  return std::string(buf);
}

// How C mounts each hierarchy for a `cgroup` mount.
std::vector<os::rootfs::CgroupView> cgroup_views(const os::cgroups::Layout& layout, const os::cgroups::Paths& dirs) {
  std::vector<os::rootfs::CgroupView> out;
  for (auto& h : layout.hierarchies) {
    // A hybrid host's cgroup2 mount is not shown: runc mounts the v1 hierarchies only.
    if (h.v2 && layout.mode == os::cgroups::Layout::Mode::hybrid) continue;
    os::rootfs::CgroupView v;
    v.v2 = h.v2;
    v.host_dir = h.v2 ? dirs.v2 : dirs.v1.at(h.name);
    v.subdir = path::basename(h.mountpoint);
    if (!h.v2) {
      for (auto& c : h.controllers) {
        if (c.rfind("name=", 0) == 0)
          v.mount_data = "none," + c;
        else
          v.mount_data += (v.mount_data.empty() ? "" : ",") + c;
      }
      if (h.controllers.size() > 1)
        for (auto& c : h.controllers)
          if (c != v.subdir && c.rfind("name=", 0) != 0) v.aliases.push_back(c);
    }
    out.push_back(std::move(v));
  }
  return out;
}

// prepare's result: the plan and what the children get, before anything exists.
struct Prepared {
  std::string bundle;
  spec::ContainerPlan plan;
  spec::ExecRecord record;
  ChildContext ctx;  // ctx.plan points at `plan`: a Prepared is never moved
  os::cgroups::Layout layout;
  std::unique_ptr<os::cgroups::Driver> cgroup;
  bool oom_inherited = false;     // P set its own oomScoreAdj before the clone (unprivileged)
  bool rootless_cgroups = false;  // the cgroupfs layout was cut to what the caller may use
  std::string rdt_root;           // the resctrl mount when linux.intelRdt is set
};

// materialise's and spawn's: what exists on the host.
struct Built {
  std::optional<state::Locked> locked;
  UniqueFd fifo, console, console_peer;
  Channel to_s, to_c;
  state::State saved;  // written once C waits on exec.fifo; the rollback's poststop hooks get it
  os::cgroups::InitPlacement placement;
  bool with_s = false, cloned_into = false;
  pid_t s_pid = 0, c_pid = 0;
  std::vector<UniqueFd> idmapped_trees;  // closed in P once the children have them
  std::optional<os::resctrl::Group> rdt_group;
};

// Undoes a create that did not finish: the children, the cgroup, the state directory;
// then, once a container existed, the poststop hooks.
class Rollback {
 public:
  Rollback(const state::StateStore& store, const std::string& id, const Prepared& p, const Built& b, bool& oom_killed)
      : store_(store), id_(id), p_(p), b_(b), oom_killed_(oom_killed) {}
  Rollback(const Rollback&) = delete;
  Rollback& operator=(const Rollback&) = delete;
  ~Rollback() {
    if (armed_) undo();
  }
  void dismiss() { armed_ = false; }

 private:
  static void kill_and_reap(pid_t pid) {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, __WALL);
  }
  void undo() noexcept {
    kill_and_reap(b_.c_pid);
    kill_and_reap(b_.s_pid);
    if (b_.rdt_group) (void)os::resctrl::remove(*b_.rdt_group);
    if (p_.cgroup->created_any()) {
      // Read before the cgroup goes: create_container reports an OOM kill.
      oom_killed_ = p_.cgroup->oom_kills() > 0;
      (void)p_.cgroup->destroy();
    }
    (void)store_.remove(id_);
    // Lifecycle: a failure once the container exists (a prestart, createRuntime or
    // createContainer hook, ...) "continue[s] the lifecycle at step 12": destroyed, then
    // the poststop hooks run, and a failing one only warns (as runc's destroy).
    if (b_.c_pid > 0 && !p_.plan.hooks.poststop.empty())
      os::hooks::run_hooks_warn("poststop", p_.plan.hooks.poststop, hook_state(b_.saved, "stopped", 0));
  }

  const state::StateStore& store_;
  const std::string& id_;
  const Prepared& p_;
  const Built& b_;
  bool& oom_killed_;
  bool armed_ = true;
};

// --- prepare ---------------------------------------------------------------------

Result<void> check_options(const spec::ContainerPlan& plan, const CreateOptions& o, CreateMode mode) {
  if (!plan.has_process && o.starts)
    return Error::make(Errc::invalid_spec, "config.json: /process: is required to run a container");
  TRY_ASSIGN(std::string real_rootfs, absolute_dir(plan.rootfs, "root.path").context("config.json: /root/path"));
  if (real_rootfs != plan.rootfs)  // runc: "invalid rootfs: not an absolute path, or a symlink"
    return Error::make(
        Errc::invalid_spec,
        fmt::format("config.json: /root/path: invalid rootfs {}: not an absolute path, or a symlink", plan.rootfs));
  if (plan.process.terminal && o.console_socket.empty() && mode == CreateMode::detached)
    return Error::make(Errc::invalid_argument,
                       "cannot allocate a terminal (process.terminal) without --console-socket when detaching");
  if (!plan.process.terminal && !o.console_socket.empty())
    return Error::make(Errc::invalid_argument, "--console-socket given, but process.terminal is false");
  return {};
}

// A cgroup that exists already, as runc checks it (libcontainer factory Create): processes
// in it are a warning (its count); a frozen one is refused before anything is made (the
// init would freeze on joining it and create would wait forever).
Result<void> check_existing_cgroup(const os::cgroups::Driver& cg) {
  if (auto pids = cg.pids(); pids && !pids->empty())  // an error: no such cgroup yet
    log::warning("container's cgroup is not empty: {} process(es) found", pids->size());
  if (cg.frozen()) return Error::make(Errc::bad_state, "container's cgroup unexpectedly frozen");
  return {};
}

// An unprivileged caller (not root, or root in a user namespace: runc's rootless rule):
// what it may not ask for is refused now, naming the field; oomScoreAdj is set on P for
// the children to inherit; the cgroupfs driver gets only the hierarchies delegated to the
// caller (os/cgroups/rootless.hpp) when rootless (--rootless, auto by the same rule).
Result<void> prepare_unprivileged(const GlobalOptions& g, const CreateOptions& o, Prepared& p) {
  const auto& plan = p.plan;
  uid_t euid = ::geteuid();
  bool in_ns = euid == 0 && os::rootless::in_user_namespace();
  TRY_ASSIGN(auto mode, os::rootless::parse_mode(g.rootless));
  p.ctx.dumpable_for_maps = plan.ns.new_user && euid != 0;
  if (euid != 0 || in_ns) {
    TRY(os::rootless::check_rlimits(plan.process.rlimits));
    // No mknod without privileges: devices are bind-mounted from the host's same path.
    for (auto& d : plan.devices)
      if (::access(d.path.c_str(), F_OK) < 0)
        return Error::make(Errc::invalid_spec,
                           fmt::format("config.json: /linux/devices: {}: the host has no such device (rootless: device "
                                       "nodes are bind-mounted from the host, never created)",
                                       d.path));
    if (plan.process.oom_score_adj) {
      TRY(os::rootless::set_own_oom_score_adj(*plan.process.oom_score_adj));
      p.oom_inherited = true;
    }
  }
  if (!g.systemd_cgroup && os::rootless::decide(mode, euid, in_ns)) {
    p.rootless_cgroups = true;
    TRY_ASSIGN(p.layout, os::cgroups::rootless_layout(p.layout, plan.cgroups_path.value_or(""), o.id,
                                                      plan.resources ? &*plan.resources : nullptr));
  }
  return {};
}

Result<void> prepare(const GlobalOptions& g, const CreateOptions& o, CreateMode mode, Prepared& p,
                     const StepClock& clock) {
  TRY(spec::check_container_id(o.id));
  TRY_ASSIGN(p.bundle, absolute_dir(o.bundle, "bundle"));
  std::string config_path = p.bundle + "/config.json";
  TRY_ASSIGN(std::string bytes, read_file(config_path));
  TRY_ASSIGN(auto spec, spec::parse(bytes, config_path));
  clock.mark("parsed");
  TRY_ASSIGN(auto warnings, spec::validate(spec));
  for (auto& w : warnings) log::warning("{}", w);
  int listen_fds = 0;
  if (const char* lf = std::getenv("LISTEN_FDS")) listen_fds = std::max(0, std::atoi(lf));
  spec::PlanInputs in{o.id, p.bundle, o.no_pivot, o.no_new_keyring, o.preserve_fds + listen_fds, listen_fds};
  TRY_ASSIGN(p.plan, spec::make_plan(spec, in));
  p.record = spec::exec_record(spec);
  if (p.plan.mount_label && !p.plan.mount_label->empty()) {
    if (os::lsm::selinux_enabled())
      os::lsm::label_mounts(p.plan.mounts, *p.plan.mount_label);
    else
      log::debug("linux.mountLabel {:?} ignored: SELinux is not enabled", *p.plan.mount_label);
  }
  const auto& plan = p.plan;
  TRY(check_options(plan, o, mode));
  // runtime-spec 1.3, checked against this host before anything exists.
  TRY_ASSIGN(p.ctx.mempolicy, prepare_mempolicy(plan.memory_policy));
  TRY(check_net_devices(plan));
  p.ctx.netns_request = !plan.net_devices.empty();
  TRY_ASSIGN(p.rdt_root, prepare_intel_rdt(plan));
  // C will live in a pid namespace it did not create, next to processes that may hold
  // CAP_SYS_PTRACE: run from a read-only view of our binary (os/self.hpp). Nothing
  // exists yet, so the re-executed command simply starts over.
  if (!plan.ns.new_pid) TRY(os::self::ensure_sealed());
  // C inherits our bounding set (a new user namespace does not widen it): a capability
  // it lacks is reported now, naming it, before anything exists.
  if (plan.process.caps)
    TRY(os::caps::check_available(*plan.process.caps).context("config.json: /process/capabilities"));
  p.ctx.plan = &plan;
  if (plan.seccomp) {
    TRY_ASSIGN(p.ctx.bpf, os::seccomp::load_or_compile(*plan.seccomp, g.root + "/.seccomp"));
  }
  clock.mark("plan made");
  TRY_ASSIGN(p.ctx.joins, os::ns::prepare_joins(plan.ns));
  TRY_ASSIGN(p.layout, os::cgroups::detect_layout());
  TRY(prepare_unprivileged(g, o, p));
  os::cgroups::DriverRequest rq{g.systemd_cgroup, plan.cgroups_path, o.id, plan.resources ? &*plan.resources : nullptr,
                                &plan.annotations};
  TRY_ASSIGN(p.cgroup, os::cgroups::make_driver(rq, p.layout));
  return {};
}

// --- materialise -----------------------------------------------------------------

Result<void> save_for_exec(int dir_fd, const std::string& id, const Prepared& p) {
  // exec reads the container's process settings from the record, as runc keeps the
  // config in its state: the bundle may change or go away.
  {
    UniqueFd f(::openat(dir_fd, "exec.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!f) return Error::sys("save exec.json");
    TRY(write_all(f.get(), spec::exec_record_json(p.record)).context("save exec.json"));
  }
  if (p.ctx.bpf) TRY(os::seccomp::save_program(dir_fd, "seccomp.bpf", id, *p.ctx.bpf));
  if (spec::may_ptrace_host(p.plan.process.caps, p.plan.ns.new_user)) {
    UniqueFd m(::openat(dir_fd, "ptrace", O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    if (!m) return Error::sys("create the ptrace marker");
  }
  return {};
}

// The first record, written as soon as the state directory is ours (docs/reliability.md,
// crash-safe create): a create killed from here on leaves a `creating` record naming the
// cgroups (and, once it exists, the init) for list to show and delete to remove.
Result<void> save_first_record(const state::StateStore& store, const CreateOptions& o, const Prepared& p, Built& b) {
  const auto& plan = p.plan;
  auto& saved = b.saved;
  saved.id = o.id;
  saved.oci_version = plan.oci_version;
  saved.bundle = p.bundle;
  saved.annotations = plan.annotations;
  saved.rootfs = plan.rootfs;
  saved.created = log::now_rfc3339();
  saved.cgroup_paths = p.cgroup->paths();
  saved.cgroup_driver = p.cgroup->name();
  saved.hooks.poststart = plan.hooks.poststart;
  saved.hooks.poststop = plan.hooks.poststop;
  saved.shared_pid_ns = !plan.ns.new_pid;
  saved.no_new_keyring = plan.no_new_keyring;
  saved.no_process = !plan.has_process;
  saved.creating = true;
  // What create is about to make (a directory missing now); create's own count replaces
  // it once the directories exist. A cgroup that existed before is not ours to remove.
  // One missing directory decides it: no stat of the other hierarchies.
  struct stat st;
  for (auto& d : saved.cgroup_paths.all())
    if (::stat(d.c_str(), &st) < 0) {
      saved.created_cgroup = true;
      break;
    }
  return store.save(saved);
}

// The state directory is made (and locked) by the caller, before the rollback exists.
Result<void> materialise(const CreateOptions& o, Prepared& p, Built& b) {
  const auto& plan = p.plan;
  auto& ctx = p.ctx;
  auto& locked = *b.locked;
  TRY_ASSIGN(b.fifo, os::exec_fifo::prepare(locked.fd(), locked.dir()));
  ctx.fifo_fd = b.fifo.get();
  ctx.lock_fd = locked.fd();
  ctx.rootfs.cgroups = cgroup_views(p.layout, p.cgroup->paths());
  ctx.rootfs.cgroupns = plan.ns.new_cgroup;
  ctx.rootfs.in_userns = plan.ns.new_user || plan.ns.join_user;

  TRY_ASSIGN(auto ends, os::console::open_ends(plan.process.terminal, o.console_socket));
  b.console = std::move(ends.console);
  b.console_peer = std::move(ends.peer);
  if (b.console) ctx.console_fd = b.console.get();
  os::self::identity(ctx.self_dev, ctx.self_ino);

  TRY_ASSIGN(auto sp_s, make_seqpacket_pair());
  TRY_ASSIGN(auto sp_c, make_seqpacket_pair());
  b.to_s = Channel(std::move(sp_s.first));
  b.to_c = Channel(std::move(sp_c.first));
  ctx.to_parent_s = Channel(std::move(sp_s.second));
  ctx.to_parent_c = Channel(std::move(sp_c.second));
  ctx.parent_fds_s = b.to_s.fd();
  ctx.parent_fds_c = b.to_c.fd();

  return save_for_exec(locked.fd(), o.id, p);
}

// --- spawn -------------------------------------------------------------------------

// sync 1: clone S (or, when S has nothing to do, C itself with the namespace flags).
Result<void> spawn(Prepared& p, Built& b) {
  auto& ctx = p.ctx;
  // Idmapped mounts need P (root in the initial user namespace): the trees are made
  // now and inherited by the children.
  TRY_ASSIGN(b.idmapped_trees, make_idmapped_trees(p.plan));
  for (auto& t : b.idmapped_trees) ctx.idmapped_trees.push_back(t ? t.get() : -1);
  b.with_s = needs_stage1(p.plan);
  TRY_ASSIGN(b.placement, p.cgroup->plan_init(b.with_s, kMaxFdsPerMessage));
  ctx.self_join_v1 = b.placement.self_join;
  if (b.with_s) {
    TRY_ASSIGN(b.s_pid, os::process::clone_child(0));
    if (b.s_pid == 0) stage1_main(ctx);
  } else {
    const UniqueFd& into = b.placement.clone_into;
    auto flags = static_cast<uint64_t>(p.plan.ns.unshare_flags);
    if (flags & CLONE_NEWNET) {
      ctx.unshare_in_init = CLONE_NEWNET;
      flags &= ~static_cast<uint64_t>(CLONE_NEWNET);
    }
    auto cl = os::process::clone_child(flags, into ? into.get() : -1);
    b.cloned_into = cl && into;
    if (!cl && into) {
      // No CLONE_INTO_CGROUP (kernel < 5.7): place_init writes the v2 membership.
      log::debug("clone3 into the cgroup: {}; joining by pid", cl.error().describe());
      cl = os::process::clone_child(flags);
    }
    TRY_ASSIGN(b.c_pid, std::move(cl));
    if (b.c_pid == 0) init_main(ctx);
    b.to_s.close();
  }
  ctx.to_parent_s.close();
  ctx.to_parent_c.close();
  ctx.joins.clear();
  b.idmapped_trees.clear();
  ctx.idmapped_trees.clear();
  return {};
}

// --- drive -------------------------------------------------------------------------

// sync 2-3: id maps first (S is blocked on them), then the cgroup directories while S
// creates the namespaces and C starts on its mounts (a netns, a v1 cgroup mkdir and the
// first cgroup.procs write each cost milliseconds, and they overlap this way); then S
// reports C's pid and exits.
Result<void> drive_stage1(Prepared& p, Built& b) {
  const auto& plan = p.plan;
  ExpectedSequence s_seq({{MsgType::map_ids_request, true}, {MsgType::init_pid, false}});
  if (plan.ns.new_user) {
    TRY_ASSIGN(auto m, next_msg(b.to_s, s_seq, "stage 1"));
    if (!m || m->type != MsgType::map_ids_request)
      return Error::make(Errc::protocol, "sync: stage 1 did not ask for id maps");
    TRY(os::ns::write_id_maps_from_parent(b.s_pid, plan.uid_map, plan.gid_map));
    TRY(send_to(b.to_s, "stage 1", MsgType::map_ids_done));
  }
  TRY(p.cgroup->create(plan.resources ? &*plan.resources : nullptr));
  b.saved.created_cgroup = b.saved.created_cgroup || p.cgroup->created_any();
  if (!b.with_s) return {};
  // The maps were handled above: init_pid is all that is left before EOF.
  for (;;) {
    TRY_ASSIGN(auto m, next_msg(b.to_s, s_seq, "stage 1"));
    if (!m) break;
    if (m->payload.size() != sizeof(int)) return Error::make(Errc::protocol, "sync: bad init_pid payload");
    std::memcpy(&b.c_pid, m->payload.data(), sizeof b.c_pid);
  }
  TRY_ASSIGN(auto ex, os::process::wait_pid(b.s_pid));
  b.s_pid = 0;
  if (!ex.exited() || ex.code() != 0)
    return Error::make(Errc::internal, fmt::format("stage 1 failed (exit status {})", ex.code()));
  return {};
}

// sync 8: limits from outside, then the state the other commands read.
Result<void> init_ready(const state::StateStore& store, const CreateOptions& o, const Prepared& p, const Built& b) {
  const auto& pp = p.plan.process;
  TRY(os::rlimits::apply_from_parent(b.c_pid, pp.rlimits));
  if (pp.oom_score_adj && !p.oom_inherited)
    TRY(write_file(fmt::format("/proc/{}/oom_score_adj", b.c_pid), std::to_string(*pp.oom_score_adj))
            .context("process.oomScoreAdj"));
  TRY(store.save(b.saved));
  if (!o.pid_file.empty()) TRY(write_pid_file(o.pid_file, b.c_pid));
  if (!o.pidfd_socket.empty()) TRY(send_pidfd(o.pidfd_socket, b.c_pid));
  return {};
}

// sync 4-10: C into its cgroups and limits set, `continue`; then C's requests until EOF
// after `run` (C passed every step and now waits on exec.fifo).
Result<void> drive_init(const state::StateStore& store, const CreateOptions& o, Prepared& p, Built& b,
                        const StepClock& clock) {
  const auto& plan = p.plan;
  auto st_c = os::process::proc_stat(b.c_pid);
  if (!st_c) return Error::make(Errc::internal, "container init exited during create");
  b.saved.pid = b.c_pid;
  b.saved.start_time = st_c->start_time;
  clock.mark("init pid known");

  // sync 4: C is busy with its mounts meanwhile; it joins the v1 hierarchies itself on
  // `continue` (after S, through the `tasks` fds sent with it).
  TRY_ASSIGN(auto tasks, p.cgroup->place_init(b.c_pid, b.placement, b.cloned_into));
  std::vector<int> task_fds;
  for (auto& t : tasks) task_fds.push_back(t.get());
  if (plan.resources || p.cgroup->paths().pure_v2()) {
    // Rootless: no device program (it needs privileges; runc ignores device errors then).
    auto r = plan.resources.value_or(spec::Resources{});
    if (p.rootless_cgroups) r.devices.clear();
    TRY(p.cgroup->set(r, !p.rootless_cgroups));
  }
  clock.mark("cgroup joined");
  if (plan.intel_rdt) {
    // linux.intelRdt: the CLOS group (and MON group) with the init's pid, before it runs.
    TRY_ASSIGN(b.rdt_group, os::resctrl::apply(p.rdt_root, plan.id, rdt_config(*plan.intel_rdt), b.c_pid));
    TRY(save_rdt_group(b.locked->fd(), *b.rdt_group));
  }
  std::string created_state = hook_state(b.saved, "created", b.c_pid);
  TRY(send_to(b.to_c, "container init", MsgType::continue_, created_state, task_fds));
  tasks.clear();
  // Still `creating`, now naming the init: written while C does its mounts, not before
  // C may go on (a husk killed before this point takes C with it: pdeathsig, the socket).
  // Written once, as recovery.json only: loads of the `creating` state.json read it, and
  // `delete --force` falls back on it if state.json is later garbled or lost.
  TRY(store.save_recovery(b.saved));

  ExpectedSequence c_seq(
      {{MsgType::hooks_request, true}, {MsgType::ready, false}, {MsgType::seccomp_listener_fd, true}});
  for (;;) {
    TRY_ASSIGN(auto m, next_msg(b.to_c, c_seq, "container init"));
    if (!m) break;
    if (m->type == MsgType::hooks_request) {
      // sync 6: C's network namespace exists: linux.netDevices move in first (as runc,
      // before the hooks), then prestart (deprecated, same point) and createRuntime hooks.
      TRY(move_net_devices(plan, b.c_pid));
      TRY(os::hooks::run_hooks("prestart", plan.hooks.prestart, created_state));
      TRY(os::hooks::run_hooks("createRuntime", plan.hooks.create_runtime, created_state));
      TRY(send_to(b.to_c, "container init", MsgType::hooks_done));
    } else if (m->type == MsgType::ready) {
      clock.mark("init ready");
      b.saved.creating = false;
      TRY(init_ready(store, o, p, b));
      clock.mark("state saved");
      TRY(send_to(b.to_c, "container init", MsgType::run));
    } else if (m->type == MsgType::seccomp_listener_fd) {
      if (m->fds.size() != 1 || !plan.seccomp || !plan.seccomp->listener_path)
        return Error::make(Errc::protocol, "sync: unexpected seccomp listener fd");
      TRY(send_seccomp_listener(*plan.seccomp, b.saved, "creating", b.c_pid, b.c_pid, m->fds[0].get()));
      TRY(send_to(b.to_c, "container init", MsgType::seccomp_listener_done));
    }
  }
  clock.mark("init waits on exec.fifo");
  return {};
}

// --- finalise ----------------------------------------------------------------------

Result<Created> finalise(Built& b) {
  Created out;
  out.pid = b.c_pid;
  out.state = b.saved;
  if (b.console_peer) {
    b.console.reset();
    TRY_ASSIGN(out.console_master, os::console::recv_master(b.console_peer.get()));
  }
  return out;
}

Result<Created> create_impl(const GlobalOptions& g, const CreateOptions& o, CreateMode mode, bool& oom_killed) {
  StepClock clock("create");
  clock.mark("start");
  Prepared p;
  TRY(prepare(g, o, mode, p, clock));
  clock.mark("planned");

  // From here on, everything we make is undone unless create succeeds.
  auto store = store_for(g);
  Built b;
  TRY_ASSIGN(b.locked, store.create(o.id));
  clock.mark("state dir locked");
  Rollback rollback(store, o.id, p, b, oom_killed);
  TRY(check_existing_cgroup(*p.cgroup));  // after "already exists", as runc
  TRY(save_first_record(store, o, p, b));
  clock.mark("record saved");
  TRY(materialise(o, p, b));
  clock.mark("prepared (state dir, fifo)");
  TRY(spawn(p, b));
  clock.mark("cloned");
  TRY(drive_stage1(p, b));
  clock.mark("cgroups made");
  TRY(drive_init(store, o, p, b, clock));
  TRY_ASSIGN(auto out, finalise(b));
  rollback.dismiss();
  return out;
}

}  // namespace

Result<Created> create_container(const GlobalOptions& g, const CreateOptions& o, CreateMode mode) {
  bool oom_killed = false;
  auto r = create_impl(g, o, mode, oom_killed);
  // The rollback read the memory cgroup's OOM counter before removing it.
  if (!r && oom_killed)
    return std::move(r).error().context("OOM-killed: a process of the container hit its memory limit during create");
  return r;
}

Result<void> create(const GlobalOptions& g, const CreateOptions& o) {
  TRY(create_container(g, o, CreateMode::detached).context("create"));
  return {};
}

}  // namespace husk::runtime
