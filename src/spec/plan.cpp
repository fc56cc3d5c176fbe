#include "husk/spec/plan.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sched.h>
#include <sys/mount.h>

#include <algorithm>
#include <set>

#include "husk/core/path.hpp"
#include "husk/spec/defaults.hpp"
#include "husk/spec/validate.hpp"

namespace husk::spec {

std::string id_map_text(const std::vector<IdMapping>& maps) {
  std::string out;
  for (auto& m : maps) out += fmt::format("{} {} {}\n", m.container_id, m.host_id, m.size);
  return out;
}

Result<CapSets> cap_sets(const Capabilities& c) {
  CapSets out;
  auto bits = [](const std::optional<std::vector<std::string>>& names, uint64_t& dst) -> Result<void> {
    if (!names) return {};
    for (auto& n : *names) {
      // An unknown name is skipped: validate warned (runtime-spec 1.1+ "MUST be logged as a
      // warning ... SHOULD NOT fail"; runc ignores it too).
      if (auto v = capability_number(n)) dst |= uint64_t{1} << *v;
    }
    return {};
  };
  TRY(bits(c.bounding, out.bounding));
  TRY(bits(c.effective, out.effective));
  TRY(bits(c.permitted, out.permitted));
  TRY(bits(c.inheritable, out.inheritable));
  TRY(bits(c.ambient, out.ambient));
  return out;
}

std::vector<std::string> process_env(const std::vector<std::string>& env, int listen_fds) {
  std::vector<std::string> out = env;
  if (listen_fds > 0) {
    out.push_back(fmt::format("LISTEN_FDS={}", listen_fds));
    out.push_back("LISTEN_PID=1");
  }
  return out;
}

std::vector<std::string> dedupe_env(const std::vector<std::string>& env, bool& home_set) {
  home_set = false;
  std::vector<std::string> out;
  std::set<std::string_view> seen;
  for (size_t n = env.size(); n > 0; --n) {
    const std::string& kv = env[n - 1];
    std::string_view key = std::string_view(kv).substr(0, kv.find('='));
    if (!seen.insert(key).second) continue;
    if (key == "HOME") {
      if (kv.size() == 5) continue;  // "HOME=": replaced by the passwd home later
      home_set = true;
    }
    out.push_back(kv);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

Result<ProcessPlan> process_plan(const Process& sp, int listen_fds, std::string_view where) {
  ProcessPlan pp;
  pp.args = sp.args;
  pp.env = dedupe_env(process_env(sp.env, listen_fds), pp.home_set);
  pp.cwd = sp.cwd;
  pp.uid = sp.user.uid;
  pp.gid = sp.user.gid;
  pp.additional_gids = sp.user.additional_gids;
  pp.umask = sp.user.umask;
  pp.terminal = sp.terminal;
  pp.console_size = sp.console_size;
  pp.no_new_privileges = sp.no_new_privileges;
  // No capabilities object: none at all, as runc (capabilities.New of an empty set).
  pp.caps = CapSets{};
  if (sp.capabilities) {
    TRY_ASSIGN(pp.caps, cap_sets(*sp.capabilities).context(fmt::format("{}/capabilities", where)));
  }
  for (auto& r : sp.rlimits) {
    auto n = rlimit_number(r.type);
    if (!n) return Error::make(Errc::invalid_spec, fmt::format("{}/rlimits: unknown rlimit {:?}", where, r.type));
    pp.rlimits.push_back(RlimitOp{*n, r.soft, r.hard});
  }
  pp.oom_score_adj = sp.oom_score_adj;
  pp.apparmor_profile = sp.apparmor_profile;
  pp.selinux_label = sp.selinux_label;
  if (sp.scheduler) {
    auto& sc = *sp.scheduler;
    SchedPlan sched;
    auto pol = scheduler_policy(sc.policy);
    if (!pol)
      return Error::make(Errc::invalid_spec, fmt::format("{}/scheduler/policy: unknown policy {:?}", where, sc.policy));
    sched.policy = *pol;
    for (auto& f : sc.flags) {
      auto bit = scheduler_flag(f);
      if (!bit) return Error::make(Errc::invalid_spec, fmt::format("{}/scheduler/flags: unknown flag {:?}", where, f));
      sched.flags |= *bit;
    }
    sched.nice = sc.nice;
    sched.priority = sc.priority;
    sched.runtime = sc.runtime;
    sched.deadline = sc.deadline;
    sched.period = sc.period;
    pp.scheduler = sched;
  }
  if (sp.io_priority) {
    auto cls = io_priority_class(sp.io_priority->io_class);
    if (!cls)
      return Error::make(Errc::invalid_spec,
                         fmt::format("{}/ioPriority/class: unknown class {:?}", where, sp.io_priority->io_class));
    pp.io_priority = (*cls << 13) | sp.io_priority->priority;
  }
  if (sp.exec_cpu_affinity) {
    TRY_ASSIGN(pp.cpus_initial,
               cpu_list(sp.exec_cpu_affinity->initial).context(fmt::format("{}/execCPUAffinity/initial", where)));
    TRY_ASSIGN(pp.cpus_final,
               cpu_list(sp.exec_cpu_affinity->final_).context(fmt::format("{}/execCPUAffinity/final", where)));
  }
  return pp;
}

Result<std::pair<uint32_t, std::optional<uint32_t>>> parse_user(std::string_view s) {
  auto num = [&](std::string_view t, const char* what) -> Result<uint32_t> {
    if (t.empty() || t.size() > 10 || t.find_first_not_of("0123456789") != std::string_view::npos)
      return Error::make(Errc::invalid_argument, fmt::format("--user {:?}: {} must be a decimal number", s, what));
    uint64_t v = std::stoull(std::string(t));
    if (v > 0xfffffffeULL)
      return Error::make(Errc::invalid_argument, fmt::format("--user {:?}: {} is out of range", s, what));
    return static_cast<uint32_t>(v);
  };
  auto colon = s.find(':');
  TRY_ASSIGN(uint32_t uid, num(s.substr(0, colon), "the uid"));
  std::optional<uint32_t> gid;
  if (colon != std::string_view::npos) {
    TRY_ASSIGN(gid, num(s.substr(colon + 1), "the gid"));
  }
  return std::pair{uid, gid};
}

bool may_ptrace_host(const std::optional<CapSets>& caps, bool own_userns) {
  constexpr int kCapSysPtrace = 19;
  return !own_userns && (!caps || (caps->bounding >> kCapSysPtrace) & 1);
}

Result<ExecPlan> make_exec_plan(const Spec& container, const std::optional<Process>& from_file, std::string_view file,
                                const ExecOverrides& o) {
  return make_exec_plan(exec_record(container), from_file, file, o);
}

Result<ExecPlan> make_exec_plan(const ExecRecord& container, const std::optional<Process>& from_file,
                                std::string_view file, const ExecOverrides& o) {
  if (!container.process) return Error::make(Errc::invalid_spec, "config.json: /process: is required");
  const Process& cp = *container.process;
  Process p;
  std::string where;
  std::vector<std::string> warnings;
  if (from_file) {
    p = *from_file;
    where = fmt::format("{}: ", file);
  } else {
    p = cp;
    where = "exec: config.json: /process";
    if (o.args.empty()) return Error::make(Errc::invalid_argument, "exec: a command is required (or --process FILE)");
    p.args = o.args;
    if (!o.cwd.empty()) p.cwd = o.cwd;
    if (!o.apparmor.empty()) p.apparmor_profile = o.apparmor;
    if (!o.process_label.empty()) p.selinux_label = o.process_label;
    std::vector<std::string> unknown;
    for (auto& c : o.caps) {
      if (!capability_number(c)) {  // warned and skipped, as runc (runtime-spec 1.1+)
        if (std::find(unknown.begin(), unknown.end(), c) == unknown.end()) unknown.push_back(c);
        continue;
      }
      if (!p.capabilities) p.capabilities = Capabilities{};
      auto add = [&](std::optional<std::vector<std::string>>& set) {
        if (!set) set.emplace();
        if (std::find(set->begin(), set->end(), c) == set->end()) set->push_back(c);
      };
      add(p.capabilities->bounding);
      add(p.capabilities->effective);
      add(p.capabilities->permitted);
      // Ambient needs inheritable, which --cap does not add (CVE-2022-29162): only when
      // the process already has an inheritable set, as runc.
      if (p.capabilities->inheritable) add(p.capabilities->ambient);
    }
    if (!unknown.empty())  // runc's text (a Go list)
      warnings.push_back(fmt::format("ignoring unknown or unavailable capabilities: [{}]", fmt::join(unknown, " ")));
    for (auto& e : o.env) {
      auto eq = e.find('=');
      if (eq == std::string::npos || eq == 0)
        return Error::make(Errc::invalid_argument, fmt::format("--env {:?}: must be NAME=VALUE", e));
      p.env.push_back(e);
    }
    p.terminal = o.tty;
    if (o.no_new_privs) p.no_new_privileges = *o.no_new_privs;
    if (!o.user.empty()) {
      TRY_ASSIGN(auto ug, parse_user(o.user));
      p.user.uid = ug.first;
      if (ug.second) p.user.gid = *ug.second;
    }
    for (auto g : o.additional_gids) {
      if (g < 0 || g > 0xfffffffeLL)
        return Error::make(Errc::invalid_argument,
                           fmt::format("--additional-gids {}: must be a gid (0 to 4294967294)", g));
      p.user.additional_gids.push_back(static_cast<uint32_t>(g));
    }
  }
  TRY(check_process_object(p, where, &warnings));
  // Container-wide defaults where the exec'd process sets nothing.
  if (!p.capabilities) p.capabilities = cp.capabilities;
  if (p.rlimits.empty()) p.rlimits = cp.rlimits;
  if (!p.apparmor_profile || p.apparmor_profile->empty()) p.apparmor_profile = cp.apparmor_profile;
  if (!p.selinux_label || p.selinux_label->empty()) p.selinux_label = cp.selinux_label;
  if (!p.user.umask) p.user.umask = cp.user.umask;
  if (!p.scheduler) p.scheduler = cp.scheduler;
  if (!p.io_priority) p.io_priority = cp.io_priority;
  if (!p.exec_cpu_affinity) p.exec_cpu_affinity = cp.exec_cpu_affinity;

  ExecPlan out;
  TRY_ASSIGN(out.process, process_plan(p, 0, where));
  out.seccomp = container.seccomp;
  if (auto& pe = container.personality) out.personality = pe->domain == "LINUX32" ? 0x0008UL : 0UL;
  out.oom_score_adj = cp.oom_score_adj;
  out.warnings = std::move(warnings);
  out.memory_policy = container.memory_policy;
  return out;
}

unsigned long propagation_flag(std::string_view p) {
  if (p == "private") return MS_PRIVATE;
  if (p == "rprivate") return MS_PRIVATE | MS_REC;
  if (p == "shared") return MS_SHARED;
  if (p == "rshared") return MS_SHARED | MS_REC;
  if (p == "slave") return MS_SLAVE;
  if (p == "rslave") return MS_SLAVE | MS_REC;
  if (p == "unbindable") return MS_UNBINDABLE;
  if (p == "runbindable") return MS_UNBINDABLE | MS_REC;
  return 0;
}

namespace {
// The mappings an idmapped mount gets: its own, else the container's user namespace's
// (new: linux.uidMappings/gidMappings; joined: that namespace, by path).
void plan_idmap(const Mount& m, const Linux& l, const NsPlan& ns, MountOp& op) {
  if (!op.opts.idmap && m.uid_mappings.empty() && m.gid_mappings.empty()) return;
  op.idmap = true;
  if (!m.uid_mappings.empty()) {
    op.idmap_uid = m.uid_mappings;
    op.idmap_gid = m.gid_mappings;
  } else if (ns.join_user) {
    op.idmap_userns_path = ns.joins.front().path;
  } else {
    op.idmap_uid = l.uid_mappings;
    op.idmap_gid = l.gid_mappings;
  }
}
}  // namespace

Result<ContainerPlan> make_plan(const Spec& s, const PlanInputs& in) {
  ContainerPlan p;
  p.id = in.id;
  p.bundle = in.bundle;
  p.oci_version = s.oci_version;
  p.rootfs = path::clean(s.root->path[0] == '/' ? s.root->path : path::join(in.bundle, s.root->path));
  p.readonly_root = s.root->readonly;
  p.no_pivot = in.no_pivot;
  p.no_new_keyring = in.no_new_keyring;
  p.preserve_fds = in.preserve_fds;
  p.hostname = s.hostname;
  p.domainname = s.domainname;
  p.hooks = s.hooks;
  p.annotations = s.annotations;

  const Linux empty_linux;
  const Linux& l = s.linux_ ? *s.linux_ : empty_linux;

  // Namespaces: the user namespace first, so the others are owned by it.
  for (auto& n : l.namespaces) {
    int f = namespace_flag(n.type);
    if (n.path) {
      if (f == CLONE_NEWUSER) {
        p.ns.joins.insert(p.ns.joins.begin(), NsJoin{f, *n.path});
        p.ns.join_user = true;
      } else {
        p.ns.joins.push_back(NsJoin{f, *n.path});
      }
    } else if (f == CLONE_NEWUSER) {
      p.ns.new_user = true;
    } else if (f == CLONE_NEWCGROUP) {
      p.ns.new_cgroup = true;
    } else {
      p.ns.unshare_flags |= f;
    }
    if (f == CLONE_NEWNS) p.ns.new_mount = !n.path;
    if (f == CLONE_NEWPID) p.ns.new_pid = !n.path;
  }
  if (p.ns.new_user) {
    p.uid_map = id_map_text(l.uid_mappings);
    p.gid_map = id_map_text(l.gid_mappings);
  }
  for (auto& [clock, off] : l.time_offsets) p.time_offsets += fmt::format("{} {} {}\n", clock, off.secs, off.nanosecs);

  // Rootfs propagation: before the bind we make "/" slave (runc's default), so nothing
  // in the container reaches the host; private when asked. A shared root is made shared
  // only after pivot_root, which refuses shared mounts (EINVAL).
  std::string prop = l.rootfs_propagation.value_or("");
  p.root_propagation = propagation_flag(prop);
  p.prepare_propagation = MS_SLAVE | MS_REC;
  if (prop == "private" || prop == "rprivate") p.prepare_propagation = MS_PRIVATE | MS_REC;

  // Mounts, in order.
  for (auto& m : s.mounts) {
    MountOp op;
    op.destination = path::clean(m.destination[0] == '/' ? m.destination : "/" + m.destination);
    op.type = m.type.value_or("");
    op.opts = parse_mount_options(m.options);
    op.bind = (op.opts.flags & MS_BIND) || op.type == "bind";
    if (op.bind) {
      op.opts.flags |= MS_BIND;
      op.type.clear();
    }
    std::string src = m.source.value_or(op.type.empty() ? "none" : op.type);
    if (op.bind && !src.empty() && src[0] != '/') src = path::join(in.bundle, src);
    op.source = src;
    if (op.destination == "/dev" && op.bind) p.dev_is_bind_mounted = true;
    if (op.destination == "/dev/pts" && !op.bind) p.devpts_is_mounted = true;
    plan_idmap(m, l, p.ns, op);
    p.mounts.push_back(std::move(op));
  }

  for (auto& d : default_devices()) p.devices.push_back(DeviceOp{d.path, 'c', d.major, d.minor, 0666, 0, 0});
  for (auto& d : l.devices) {
    DeviceOp op;
    op.path = path::clean(d.path);
    op.type = d.type == "u" ? 'c' : d.type[0];
    op.major = static_cast<uint32_t>(d.major);
    op.minor = static_cast<uint32_t>(d.minor);
    op.mode = d.file_mode.value_or(0666) & 07777;
    op.uid = d.uid.value_or(0);
    op.gid = d.gid.value_or(0);
    // A config device replaces a default one at the same path.
    std::erase_if(p.devices, [&](const DeviceOp& x) { return x.path == op.path; });
    p.devices.push_back(op);
  }
  p.masked_paths = l.masked_paths;
  p.readonly_paths = l.readonly_paths;
  for (auto& [k, v] : l.sysctl) {
    std::string rel = k;
    for (auto& c : rel)
      if (c == '.') c = '/';
    p.sysctl.emplace_back(rel, v);
  }
  p.cgroups_path = l.cgroups_path;
  p.resources = l.resources;
  p.seccomp = l.seccomp;
  p.mount_label = l.mount_label;
  if (l.personality) p.personality = l.personality->domain == "LINUX32" ? 0x0008UL /*PER_LINUX32*/ : 0UL /*PER_LINUX*/;
  p.memory_policy = l.memory_policy;
  for (auto& [host, d] : l.net_devices) p.net_devices.emplace_back(host, d.name);
  p.own_netns = p.ns.unshare_flags & CLONE_NEWNET;
  for (auto& j : p.ns.joins) p.own_netns = p.own_netns || j.flag == CLONE_NEWNET;
  p.intel_rdt = l.intel_rdt;

  if (s.process) {
    TRY_ASSIGN(p.process, process_plan(*s.process, in.listen_fds, "config.json: /process"));
  } else {
    // No process: the container is set up and waits in `created`; start refuses it.
    p.has_process = false;
    p.process.cwd = "/";
  }
  return p;
}

}  // namespace husk::spec
