// P, the `husk create` process: all host-side work (DESIGN.md §3.2). Numbered comments
// match the sync points in os/sync.hpp and runtime/init.cpp.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "husk/core/log.hpp"
#include "husk/core/path.hpp"
#include "husk/core/scope_guard.hpp"
#include "husk/os/capabilities.hpp"
#include "husk/os/cgroups/manager.hpp"
#include "husk/os/cgroups/stats.hpp"
#include "husk/os/console.hpp"
#include "husk/os/exec_fifo.hpp"
#include "husk/os/hooks.hpp"
#include "husk/os/process.hpp"
#include "husk/os/rlimits.hpp"
#include "husk/os/self.hpp"
#include "husk/os/syscall.hpp"
#include "husk/runtime/lifecycle.hpp"
#include "husk/runtime/roles.hpp"
#include "husk/spec/json.hpp"
#include "husk/spec/oci_state.hpp"
#include "husk/spec/validate.hpp"
#include "husk/spec/defaults.hpp"

#include <nlohmann/json.hpp>

namespace husk::runtime {
namespace {

using os::sync::Channel;
using os::sync::ExpectedSequence;
using os::sync::Msg;
using os::sync::MsgType;

Result<std::string> absolute_dir(const std::string& p, const char* what) {
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) return Error::sys(fmt::format("{} {}", what, p));
  struct stat st;
  if (::stat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
    return Error::make(Errc::invalid_argument, fmt::format("{} {}: not a directory", what, p));
  return std::string(buf);
}

std::vector<os::rootfs::CgroupView> cgroup_views(const os::cgroups::Layout& layout,
                                                 const std::map<std::string, std::string>& dirs) {
  std::vector<os::rootfs::CgroupView> out;
  for (auto& h : layout.hierarchies) {
    os::rootfs::CgroupView v;
    v.v2 = h.v2;
    v.host_dir = dirs.at(h.name);
    v.subdir = path::basename(h.mountpoint);
    if (h.v2) {
      v.mount_data = "";
    } else {
      for (auto& c : h.controllers) {
        if (c.rfind("name=", 0) == 0) v.mount_data = "none," + c;
        else v.mount_data += (v.mount_data.empty() ? "" : ",") + c;
      }
      if (h.controllers.size() > 1)
        for (auto& c : h.controllers)
          if (c != v.subdir && c.rfind("name=", 0) != 0) v.aliases.push_back(c);
    }
    out.push_back(std::move(v));
  }
  return out;
}


}  // namespace

Result<void> write_pid_file(const std::string& file, pid_t pid) {
  std::string abs = file;
  if (file[0] != '/') {
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof cwd)) return Error::sys("getcwd");
    abs = path::join(cwd, file);
  }
  return write_file_atomic(abs, std::to_string(pid), 0644).context("pid file");
}

Result<void> send_pidfd(const std::string& socket, pid_t pid) {
  UniqueFd fd(os::sys_pidfd_open(pid, 0));
  if (!fd) return Error::sys("pidfd_open");
  TRY_ASSIGN(auto sock, os::console::connect_socket(socket).context("--pidfd-socket"));
  int fds[1] = {fd.get()};
  return send_with_fds(sock.get(), std::string_view("pidfd"), fds).context("send a pidfd to --pidfd-socket");
}

std::string hook_state(const state::State& st, std::string_view status, int pid) {
  spec::OciState s;
  s.oci_version = st.oci_version;
  s.id = st.id;
  s.status = std::string(status);
  s.pid = pid;
  s.bundle = st.bundle;
  s.annotations = st.annotations;
  return spec::oci_state_json(s);
}

state::StateStore store_for(const GlobalOptions& g) { return state::StateStore(g.root); }

// The next protocol message from a child, re-emitting its logs; `error` becomes our error.
Result<std::optional<Msg>> next_msg(Channel& ch, ExpectedSequence& seq, std::string_view who) {
  for (;;) {
    TRY_ASSIGN(auto m, ch.recv());
    if (!m) {
      if (!seq.done()) return Error::make(Errc::protocol, fmt::format("{} exited before it was ready", who));
      return std::optional<Msg>{};
    }
    if (m->type == MsgType::log) {
      if (!m->payload.empty()) {
        auto level = static_cast<log::Level>(m->payload[0]);
        if (log::enabled(level)) log::emit(level, m->payload.substr(1));
      }
      continue;
    }
    if (m->type == MsgType::error) return Error::from_wire(m->err, m->payload);
    TRY(seq.accept(m->type));
    return m;
  }
}

// A send fails when the child has already died; its `error` message is then waiting
// in the socket and is the one worth reporting.
Result<void> send_to(Channel& ch, std::string_view who, MsgType t, std::string_view payload, std::span<const int> fds) {
  auto r = ch.send(t, payload, fds);
  if (r) return {};
  for (;;) {
    auto m = ch.recv();
    if (!m || !*m) break;
    if ((*m)->type == MsgType::error) return Error::from_wire((*m)->err, (*m)->payload);
  }
  return std::move(r).error().context(who);
}

// SCMP_ACT_NOTIFY: the listener fd and the container's process state go to listenerPath
// in one message, as runc sends them (runtime-spec "containerProcessState").
Result<void> send_seccomp_listener(const spec::Seccomp& sc, const state::State& st, std::string_view status, pid_t init,
                                   pid_t pid, int fd) {
  TRY_ASSIGN(auto sock, os::console::connect_socket(*sc.listener_path).context("seccomp listenerPath"));
  nlohmann::json state = nlohmann::json::parse(hook_state(st, status, init));
  nlohmann::json msg = {{"ociVersion", spec::kOciVersion}, {"fds", {"seccompFd"}}, {"pid", pid}, {"state", state}};
  if (sc.listener_metadata && !sc.listener_metadata->empty()) msg["metadata"] = *sc.listener_metadata;
  std::string text = msg.dump();
  int fds[1] = {fd};
  return send_with_fds(sock.get(), text, fds).context("send the seccomp listener fd to " + *sc.listener_path);
}



namespace {
Result<Created> create_impl(const GlobalOptions& g, const CreateOptions& o, CreateMode mode, bool& oom_killed);
}

Result<Created> create_container(const GlobalOptions& g, const CreateOptions& o, CreateMode mode) {
  bool oom_killed = false;
  auto r = create_impl(g, o, mode, oom_killed);
  // The undo path read the memory cgroup's OOM counter before removing it.
  if (!r && oom_killed)
    return std::move(r).error().context("OOM-killed: a process of the container hit its memory limit during create");
  return r;
}

namespace {
Result<Created> create_impl(const GlobalOptions& g, const CreateOptions& o, CreateMode mode, bool& oom_killed) {
  StepClock clock("create");
  clock.mark("start");
  // sync 0: parse -> validate -> plan, before anything exists on the host.
  TRY(spec::check_container_id(o.id));
  TRY_ASSIGN(std::string bundle, absolute_dir(o.bundle, "bundle"));
  std::string config_path = bundle + "/config.json";
  TRY_ASSIGN(std::string bytes, read_file(config_path));
  std::string exec_subset;
  TRY_ASSIGN(auto spec, spec::parse(bytes, config_path, &exec_subset));
  clock.mark("parsed");
  TRY_ASSIGN(auto warnings, spec::validate(spec));
  for (auto& w : warnings) log::warning("{}", w);
  if (g.systemd_cgroup)
    return Error::make(Errc::unsupported, "--systemd-cgroup: the systemd cgroup driver is not supported by husk yet; use cgroupfs");
  int listen_fds = 0;
  if (const char* lf = std::getenv("LISTEN_FDS")) listen_fds = std::max(0, std::atoi(lf));
  spec::PlanInputs in{o.id, bundle, o.no_pivot, o.no_new_keyring, o.preserve_fds + listen_fds, listen_fds};
  TRY_ASSIGN(const spec::ContainerPlan plan, spec::make_plan(spec, in));
  if (!plan.has_process && o.starts)
    return Error::make(Errc::invalid_spec, "config.json: /process: is required to run a container");
  TRY_ASSIGN(std::string real_rootfs, absolute_dir(plan.rootfs, "root.path").context("config.json: /root/path"));
  if (real_rootfs != plan.rootfs)  // runc: "invalid rootfs: not an absolute path, or a symlink"
    return Error::make(Errc::invalid_spec, fmt::format("config.json: /root/path: invalid rootfs {}: not an absolute path, or a symlink", plan.rootfs));
  if (plan.process.terminal && o.console_socket.empty() && mode == CreateMode::detached)
    return Error::make(Errc::invalid_argument,
                       "cannot allocate a terminal (process.terminal) without --console-socket when detaching");
  if (!plan.process.terminal && !o.console_socket.empty())
    return Error::make(Errc::invalid_argument, "--console-socket given, but process.terminal is false");
  // C will live in a pid namespace it did not create, next to processes that may hold
  // CAP_SYS_PTRACE: run from a read-only view of our binary (os/self.hpp). Nothing
  // exists yet, so the re-executed command simply starts over.
  if (!plan.ns.new_pid) TRY(os::self::ensure_sealed());

  // C inherits our bounding set (a new user namespace does not widen it): a capability
  // it lacks is reported now, naming it, before anything exists.
  if (plan.process.caps)
    TRY(os::caps::check_available(*plan.process.caps).context("config.json: /process/capabilities"));
  ChildContext ctx;
  ctx.plan = &plan;
  if (plan.seccomp) {
    TRY_ASSIGN(ctx.bpf, os::seccomp::load_or_compile(*plan.seccomp, g.root + "/.seccomp"));
  }
  clock.mark("plan made");
  TRY_ASSIGN(ctx.joins, os::ns::prepare_joins(plan.ns));
  TRY_ASSIGN(auto layout, os::cgroups::detect_layout());
  clock.mark("planned");

  // From here on, everything we make is undone unless create succeeds.
  auto store = store_for(g);
  TRY_ASSIGN(auto locked, store.create(o.id));
  pid_t s_pid = 0, c_pid = 0;
  std::optional<os::cgroups::Manager> cg;
  // The state being built (written once C waits on exec.fifo); the undo path's poststop
  // hooks get it too.
  state::State saved;
  saved.id = o.id;
  saved.oci_version = plan.oci_version;
  saved.bundle = bundle;
  saved.annotations = plan.annotations;
  ScopeGuard cleanup([&] {
    bool had_container = c_pid > 0;
    if (c_pid > 0) {
      ::kill(c_pid, SIGKILL);
      ::waitpid(c_pid, nullptr, __WALL);
    }
    if (s_pid > 0) {
      ::kill(s_pid, SIGKILL);
      ::waitpid(s_pid, nullptr, __WALL);
    }
    if (cg && cg->created_any()) {
      oom_killed = os::cgroups::oom_kills(cg->dirs()) > 0;
      (void)cg->destroy();
    }
    (void)store.remove(o.id);
    // Lifecycle: a failure once the container exists (a prestart, createRuntime or
    // createContainer hook, ...) "continue[s] the lifecycle at step 12": destroyed, then
    // the poststop hooks run, and a failing one only warns (as runc's destroy).
    if (had_container && !plan.hooks.poststop.empty())
      os::hooks::run_hooks_warn("poststop", plan.hooks.poststop, hook_state(saved, "stopped", 0));
  });

  TRY_ASSIGN(auto fifo, os::exec_fifo::prepare(locked.fd(), locked.dir()));
  ctx.fifo_fd = fifo.get();
  ctx.lock_fd = locked.fd();

  std::map<std::string, std::string> own;
  if (auto t = read_file("/proc/self/cgroup")) own = os::cgroups::parse_proc_cgroup(*t);
  auto dirs = os::cgroups::resolve_paths(layout, plan.cgroups_path.value_or(o.id), own);
  cg.emplace(dirs);
  ctx.rootfs.cgroups = cgroup_views(layout, dirs);
  ctx.rootfs.cgroupns = plan.ns.new_cgroup;
  ctx.rootfs.in_userns = plan.ns.new_user || plan.ns.join_user;

  TRY_ASSIGN(auto ends, open_console(plan.process.terminal, o.console_socket));
  UniqueFd console = std::move(ends.console), console_peer = std::move(ends.peer);
  if (console) ctx.console_fd = console.get();
  self_identity(ctx.self_dev, ctx.self_ino);

  TRY_ASSIGN(auto sp_s, make_seqpacket_pair());
  TRY_ASSIGN(auto sp_c, make_seqpacket_pair());
  Channel to_s(std::move(sp_s.first)), to_c(std::move(sp_c.first));
  ctx.to_parent_s = Channel(std::move(sp_s.second));
  ctx.to_parent_c = Channel(std::move(sp_c.second));
  ctx.parent_fds_s = to_s.fd();
  ctx.parent_fds_c = to_c.fd();

  saved.rootfs = plan.rootfs;
  saved.created = log::now_rfc3339();
  saved.cgroup_paths = dirs;
  saved.hooks.poststart = plan.hooks.poststart;
  saved.hooks.poststop = plan.hooks.poststop;
  saved.shared_pid_ns = !plan.ns.new_pid;
  saved.no_new_keyring = plan.no_new_keyring;
  saved.no_process = !plan.has_process;
  // exec reads the container's settings (seccomp, capabilities, ...) from these, as runc
  // keeps the config in its state.
  {
    UniqueFd f(::openat(locked.fd(), "exec.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!f) return Error::sys("save exec.json");
    TRY(write_all(f.get(), exec_subset).context("save exec.json"));
  }
  if (ctx.bpf) TRY(os::seccomp::save_program(locked.fd(), "seccomp.bpf", o.id, *ctx.bpf));
  if (spec::may_ptrace_host(plan.process.caps, plan.ns.new_user)) {
    UniqueFd m(::openat(locked.fd(), "ptrace", O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    if (!m) return Error::sys("create the ptrace marker");
  }

  clock.mark("prepared (state dir, fifo)");
  // sync 1: clone S (or, when S has nothing to do, C itself with the namespace flags).
  bool with_s = needs_stage1(plan);
  bool joined_v2_by_pid = false;
  // C moves itself into the v1 hierarchies (writing 0 to `tasks`, the one migration
  // without the global cgroup_threadgroup_rwsem, whose first writer in a while waits for
  // an RCU grace period). Without S it opens them itself; with S (a user namespace) P
  // opens them and sends the fds.
  for (auto& v : ctx.rootfs.cgroups)
    if (!v.v2) ctx.self_join_v1.push_back(v.host_dir);
  if (with_s && ctx.self_join_v1.size() > kMaxFdsPerMessage) ctx.self_join_v1.clear();  // P joins by pid
  if (with_s) {
    TRY_ASSIGN(s_pid, os::process::clone_child(0));
    if (s_pid == 0) stage1_main(ctx);
  } else {
    // Straight into the v2 cgroup (hybrid or pure v2); C joins the v1 ones itself.
    UniqueFd v2;
    if (layout.unified()) {
      TRY(cg->precreate("unified"));
      TRY_ASSIGN(v2, cg->open_unified());
    }
    auto flags = static_cast<uint64_t>(plan.ns.unshare_flags);
    if (flags & CLONE_NEWNET) {
      ctx.unshare_in_init = CLONE_NEWNET;
      flags &= ~static_cast<uint64_t>(CLONE_NEWNET);
    }
    auto cl = os::process::clone_child(flags, v2 ? v2.get() : -1);
    if (!cl && v2) {
      // No CLONE_INTO_CGROUP (kernel < 5.7): P writes the v2 membership below.
      log::debug("clone3 into the cgroup: {}; joining by pid", cl.error().describe());
      joined_v2_by_pid = true;
      cl = os::process::clone_child(flags);
    }
    TRY_ASSIGN(c_pid, std::move(cl));
    if (c_pid == 0) init_main(ctx);
    to_s.close();
  }
  ctx.to_parent_s.close();
  ctx.to_parent_c.close();
  ctx.joins.clear();
  clock.mark("cloned");

  // sync 2: id maps first (S is blocked on them), then the cgroup directories while S
  // creates the namespaces and C starts on its mounts: a netns, a v1 cgroup mkdir and
  // the first cgroup.procs write each cost milliseconds, and they overlap this way.
  ExpectedSequence s_seq({{MsgType::map_ids_request, true}, {MsgType::init_pid, false}});
  if (plan.ns.new_user) {
    TRY_ASSIGN(auto m, next_msg(to_s, s_seq, "stage 1"));
    if (!m || m->type != MsgType::map_ids_request) return Error::make(Errc::protocol, "sync: stage 1 did not ask for id maps");
    TRY(os::ns::write_id_maps_from_parent(s_pid, plan.uid_map, plan.gid_map));
    TRY(send_to(to_s, "stage 1", MsgType::map_ids_done));
  }
  TRY(cg->precreate());
  if (auto* u = layout.unified(); u && (plan.resources || layout.mode == os::cgroups::Layout::Mode::v2)) {
    bool pure = layout.mode == os::cgroups::Layout::Mode::v2;
    TRY(cg->enable_v2_controllers(u->mountpoint,
                                  os::cgroups::v2_controllers_needed(plan.resources.value_or(spec::Resources{}), pure)));
  }
  saved.created_cgroup = cg->created_any();

  // sync 3: S reports C's pid and exits.
  if (with_s) {
    // The maps were handled above: init_pid is all that is left before EOF.
    while (true) {
      TRY_ASSIGN(auto m, next_msg(to_s, s_seq, "stage 1"));
      if (!m) break;
      if (m->payload.size() != sizeof(int)) return Error::make(Errc::protocol, "sync: bad init_pid payload");
      std::memcpy(&c_pid, m->payload.data(), sizeof c_pid);
    }
    TRY_ASSIGN(auto ex, os::process::wait_pid(s_pid));
    s_pid = 0;
    if (!ex.exited() || ex.code() != 0)
      return Error::make(Errc::internal, fmt::format("stage 1 failed (exit status {})", ex.code()));
  }
  auto st_c = os::process::proc_stat(c_pid);
  if (!st_c) return Error::make(Errc::internal, "container init exited during create");
  clock.mark("init pid known");
  saved.pid = c_pid;
  saved.start_time = st_c->start_time;

  // sync 4: C into the cgroup (it is busy with its mounts meanwhile), limits, go on.
  // Without S, C is already in the v2 cgroup; C joins the v1 ones itself on continue_
  // (with S through the fds sent with it).
  std::vector<UniqueFd> tasks;
  std::vector<int> task_fds;
  if (with_s && ctx.self_join_v1.empty()) {
    TRY(cg->join(c_pid));
  } else if (with_s) {
    if (layout.unified()) TRY(cg->join(c_pid, "unified"));
    TRY_ASSIGN(tasks, os::cgroups::open_v1_tasks(ctx.self_join_v1));
    for (auto& t : tasks) task_fds.push_back(t.get());
  } else if (joined_v2_by_pid) {
    TRY(cg->join(c_pid, "unified"));
  }
  if (plan.resources || layout.mode == os::cgroups::Layout::Mode::v2)
    TRY(cg->set(plan.resources.value_or(spec::Resources{}), true));
  clock.mark("cgroup joined");
  std::string created_state = hook_state(saved, "created", c_pid);
  TRY(send_to(to_c, "container init", MsgType::continue_, created_state, task_fds));
  tasks.clear();

  // sync 6-10.
  ExpectedSequence c_seq(
      {{MsgType::hooks_request, true}, {MsgType::ready, false}, {MsgType::seccomp_listener_fd, true}});
  for (;;) {
    TRY_ASSIGN(auto m, next_msg(to_c, c_seq, "container init"));
    if (!m) break;
    if (m->type == MsgType::hooks_request) {
      // sync 6: prestart (deprecated, same point) and createRuntime hooks.
      TRY(os::hooks::run_hooks("prestart", plan.hooks.prestart, created_state));
      TRY(os::hooks::run_hooks("createRuntime", plan.hooks.create_runtime, created_state));
      TRY(send_to(to_c, "container init", MsgType::hooks_done));
    } else if (m->type == MsgType::ready) {
      clock.mark("init ready");
      // sync 8: limits from outside, then the state the other commands read.
      TRY(os::rlimits::apply_from_parent(c_pid, plan.process.rlimits));
      if (plan.process.oom_score_adj)
        TRY(write_file(fmt::format("/proc/{}/oom_score_adj", c_pid), std::to_string(*plan.process.oom_score_adj))
                .context("process.oomScoreAdj"));
      TRY(store.save(saved));
      if (!o.pid_file.empty()) TRY(write_pid_file(o.pid_file, c_pid));
      if (!o.pidfd_socket.empty()) TRY(send_pidfd(o.pidfd_socket, c_pid));
      TRY(send_to(to_c, "container init", MsgType::run));
    } else if (m->type == MsgType::seccomp_listener_fd) {
      if (m->fds.size() != 1 || !plan.seccomp || !plan.seccomp->listener_path)
        return Error::make(Errc::protocol, "sync: unexpected seccomp listener fd");
      TRY(send_seccomp_listener(*plan.seccomp, saved, "creating", c_pid, c_pid, m->fds[0].get()));
      TRY(send_to(to_c, "container init", MsgType::seccomp_listener_done));
    }
  }
  // sync 10: EOF after `run` = C passed every step and now waits on exec.fifo.
  clock.mark("init waits on exec.fifo");
  Created out;
  out.pid = c_pid;
  out.state = saved;
  if (console_peer) {
    console.reset();
    TRY_ASSIGN(out.console_master, os::console::recv_master(console_peer.get()));
  }
  cleanup.dismiss();
  return out;
}
}  // namespace

Result<void> create(const GlobalOptions& g, const CreateOptions& o) {
  TRY(create_container(g, o, CreateMode::detached).context("create"));
  return {};
}

}  // namespace husk::runtime
