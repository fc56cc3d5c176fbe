#include "husk/spec/plan.hpp"

#include <fmt/format.h>
#include <sched.h>
#include <sys/mount.h>

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
      auto v = capability_number(n);
      if (!v) return Error::make(Errc::invalid_spec, fmt::format("unknown capability {:?}", n));
      dst |= uint64_t{1} << *v;
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
    if (op.destination == "/dev") p.dev_is_mounted = true;
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

  // Process.
  auto& sp = *s.process;
  auto& pp = p.process;
  pp.args = sp.args;
  pp.env = process_env(sp.env, in.listen_fds);
  pp.cwd = sp.cwd;
  pp.uid = sp.user.uid;
  pp.gid = sp.user.gid;
  pp.additional_gids = sp.user.additional_gids;
  pp.umask = sp.user.umask;
  pp.terminal = sp.terminal;
  pp.console_size = sp.console_size;
  pp.no_new_privileges = sp.no_new_privileges;
  if (sp.capabilities) {
    TRY_ASSIGN(pp.caps, cap_sets(*sp.capabilities).context("config.json: /process/capabilities"));
  }
  for (auto& r : sp.rlimits) pp.rlimits.push_back(RlimitOp{*rlimit_number(r.type), r.soft, r.hard});
  pp.oom_score_adj = sp.oom_score_adj;
  pp.apparmor_profile = sp.apparmor_profile;
  pp.selinux_label = sp.selinux_label;
  return p;
}

}  // namespace husk::spec
