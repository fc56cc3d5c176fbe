#include "husk/spec/validate.hpp"

#include <fmt/format.h>
#include <sched.h>

#include <set>

#include "husk/core/path.hpp"
#include "husk/core/syscall_compat.hpp"
#include "husk/spec/defaults.hpp"
#include "husk/spec/mount_options.hpp"

namespace husk::spec {
namespace {
Error invalid(std::string msg) { return Error::make(Errc::invalid_spec, std::move(msg)); }

bool has_ns(const Spec& s, std::string_view type) {
  if (!s.linux_) return false;
  for (auto& n : s.linux_->namespaces)
    if (n.type == type) return true;
  return false;
}
}  // namespace

int namespace_flag(std::string_view t) {
  if (t == "pid") return CLONE_NEWPID;
  if (t == "network") return CLONE_NEWNET;
  if (t == "mount") return CLONE_NEWNS;
  if (t == "ipc") return CLONE_NEWIPC;
  if (t == "uts") return CLONE_NEWUTS;
  if (t == "user") return CLONE_NEWUSER;
  if (t == "cgroup") return CLONE_NEWCGROUP;
  if (t == "time") return CLONE_NEWTIME;
  return 0;
}

std::string_view namespace_proc_name(int f) {
  switch (f) {
    case CLONE_NEWPID:
      return "pid";
    case CLONE_NEWNET:
      return "net";
    case CLONE_NEWNS:
      return "mnt";
    case CLONE_NEWIPC:
      return "ipc";
    case CLONE_NEWUTS:
      return "uts";
    case CLONE_NEWUSER:
      return "user";
    case CLONE_NEWCGROUP:
      return "cgroup";
    case CLONE_NEWTIME:
      return "time";
  }
  return "";
}

Result<void> check_container_id(std::string_view id) {
  auto first_ok = [](char c) { return isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '-'; };
  if (id.empty()) return Error::make(Errc::invalid_argument, "container id cannot be empty");
  if (id.size() > 1024) return Error::make(Errc::invalid_argument, "container id is too long");
  bool ok = first_ok(id[0]);
  for (char c : id.substr(1)) ok = ok && (first_ok(c) || c == '.');
  if (!ok || id == "." || id == "..")
    return Error::make(Errc::invalid_argument,
                       fmt::format("invalid container id {:?}: must match [a-zA-Z0-9_+-][a-zA-Z0-9_+.-]*", id));
  return {};
}

Result<void> check_root(const Spec& s) {
  if (!s.root || s.root->path.empty()) return invalid("config.json: /root/path: is required");
  return {};
}

Result<void> check_process(const Spec& s, std::vector<std::string>* warnings) {
  // runtime-spec config "process": OPTIONAL, "REQUIRED when start is called"; create
  // accepts a config without it and start refuses (lifecycle: "start ... MUST generate
  // an error if process was not set").
  if (!s.process) return {};
  return check_process_object(*s.process, "config.json: /process", warnings);
}

Result<void> check_process_object(const Process& p, std::string_view where, std::vector<std::string>* warnings) {
  if (p.args.empty()) return invalid(fmt::format("{}/args: must not be empty", where));
  if (p.cwd.empty() || p.cwd[0] != '/')
    return invalid(fmt::format("{}/cwd: {:?} must be an absolute path", where, p.cwd));
  for (size_t i = 0; i < p.env.size(); ++i) {
    auto eq = p.env[i].find('=');
    if (eq == std::string::npos || eq == 0)
      return invalid(fmt::format("{}/env/{}: {:?} is not KEY=VALUE", where, i, p.env[i]));
    if (p.env[i].find('\0') != std::string::npos)
      return invalid(fmt::format("{}/env/{}: contains a NUL byte", where, i));
  }
  if (p.capabilities) {
    auto& c = *p.capabilities;
    auto one = [&](const char* set, const std::optional<std::vector<std::string>>& v) -> Result<void> {
      if (!v) return {};
      // runtime-spec 1.1+: "Any value which cannot be mapped to a relevant kernel interface,
      // or cannot be granted otherwise MUST be logged as a warning by the runtime. Runtimes
      // SHOULD NOT fail if the container configuration requests capabilities that cannot be
      // granted" (runc warns and goes on).
      // Without a warnings list (exec's process.json, until its plan skips unknown names)
      // an unknown name is still an error.
      for (size_t i = 0; i < v->size(); ++i) {
        if (capability_number((*v)[i])) continue;
        if (!warnings)
          return invalid(fmt::format("{}/capabilities/{}/{}: unknown capability {:?}", where, set, i, (*v)[i]));
        warnings->push_back(
            fmt::format("{}/capabilities/{}/{}: unknown capability {:?} ignored", where, set, i, (*v)[i]));
      }
      return {};
    };
    TRY(one("bounding", c.bounding));
    TRY(one("effective", c.effective));
    TRY(one("inheritable", c.inheritable));
    TRY(one("permitted", c.permitted));
    TRY(one("ambient", c.ambient));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < p.rlimits.size(); ++i) {
    auto& r = p.rlimits[i];
    if (!rlimit_number(r.type))
      return invalid(fmt::format("{}/rlimits/{}/type: unknown rlimit {:?}", where, i, r.type));
    if (!seen.insert(r.type).second)
      return invalid(fmt::format("{}/rlimits/{}/type: duplicate rlimit {:?}", where, i, r.type));
    if (r.soft > r.hard) return invalid(fmt::format("{}/rlimits/{}: soft limit is above the hard limit", where, i));
  }
  if (p.scheduler) {
    auto& sc = *p.scheduler;
    auto pol = scheduler_policy(sc.policy);
    if (!pol) return invalid(fmt::format("{}/scheduler/policy: unknown policy {:?}", where, sc.policy));
    for (size_t i = 0; i < sc.flags.size(); ++i)
      if (!scheduler_flag(sc.flags[i]))
        return invalid(fmt::format("{}/scheduler/flags/{}: unknown flag {:?}", where, i, sc.flags[i]));
    if (sc.nice < -20 || sc.nice > 19)
      return invalid(fmt::format("{}/scheduler/nice: {} is outside [-20, 19]", where, sc.nice));
    bool rt = sc.policy == "SCHED_FIFO" || sc.policy == "SCHED_RR";
    if (rt && (sc.priority < 1 || sc.priority > 99))
      return invalid(fmt::format("{}/scheduler/priority: {} is outside [1, 99] for {}", where, sc.priority, sc.policy));
    if (!rt && sc.priority != 0)
      return invalid(fmt::format("{}/scheduler/priority: must be 0 for {}", where, sc.policy));
    if (sc.policy == "SCHED_DEADLINE" &&
        (sc.runtime == 0 || sc.runtime > sc.deadline || (sc.period != 0 && sc.deadline > sc.period)))
      return invalid(fmt::format("{}/scheduler: SCHED_DEADLINE needs 0 < runtime <= deadline <= period", where));
  }
  if (p.io_priority) {
    if (!io_priority_class(p.io_priority->io_class))
      return invalid(fmt::format("{}/ioPriority/class: unknown class {:?}", where, p.io_priority->io_class));
    if (p.io_priority->priority < 0 || p.io_priority->priority > 7)
      return invalid(fmt::format("{}/ioPriority/priority: {} is outside [0, 7]", where, p.io_priority->priority));
  }
  if (p.exec_cpu_affinity) {
    if (auto r = cpu_list(p.exec_cpu_affinity->initial); !r)
      return invalid(fmt::format("{}/execCPUAffinity/initial: {}", where, r.error().message()));
    if (auto r = cpu_list(p.exec_cpu_affinity->final_); !r)
      return invalid(fmt::format("{}/execCPUAffinity/final: {}", where, r.error().message()));
  }
  return {};
}

Result<void> check_namespaces(const Spec& s) {
  std::set<std::string> seen;
  if (s.linux_) {
    for (size_t i = 0; i < s.linux_->namespaces.size(); ++i) {
      auto& n = s.linux_->namespaces[i];
      if (!namespace_flag(n.type))
        return invalid(fmt::format("config.json: /linux/namespaces/{}/type: unknown namespace type {:?}", i, n.type));
      if (!seen.insert(n.type).second)
        return invalid(fmt::format("config.json: /linux/namespaces/{}: duplicate namespace {:?}", i, n.type));
      if (n.path && (n.path->empty() || (*n.path)[0] != '/'))
        return invalid(fmt::format("config.json: /linux/namespaces/{}/path: must be an absolute path", i));
    }
  }
  if (s.hostname && !s.hostname->empty() && !has_ns(s, "uts"))
    return invalid("config.json: /hostname: setting a hostname needs a uts namespace");
  if (s.domainname && !s.domainname->empty() && !has_ns(s, "uts"))
    return invalid("config.json: /domainname: setting a domainname needs a uts namespace");
  if (s.linux_ && !s.linux_->time_offsets.empty()) {
    if (!has_ns(s, "time")) return invalid("config.json: /linux/timeOffsets: needs a time namespace");
    for (auto& [k, v] : s.linux_->time_offsets)
      if (k != "monotonic" && k != "boottime")
        return invalid(fmt::format("config.json: /linux/timeOffsets/{}: unknown clock", k));
  }
  return {};
}

Result<void> check_userns_maps(const Spec& s) {
  if (!s.linux_) return {};
  bool user = false, joined = false;
  for (auto& n : s.linux_->namespaces)
    if (n.type == "user") {
      user = true;
      joined = n.path.has_value();
    }
  bool maps = !s.linux_->uid_mappings.empty() || !s.linux_->gid_mappings.empty();
  if (maps && !user) return invalid("config.json: /linux/uidMappings: id mappings need a user namespace");
  if (user && !joined) {
    if (s.linux_->uid_mappings.empty())
      return invalid("config.json: /linux/uidMappings: a new user namespace needs uid mappings");
    if (s.linux_->gid_mappings.empty())
      return invalid("config.json: /linux/gidMappings: a new user namespace needs gid mappings");
  }
  for (size_t i = 0; i < s.linux_->uid_mappings.size(); ++i)
    if (s.linux_->uid_mappings[i].size == 0)
      return invalid(fmt::format("config.json: /linux/uidMappings/{}/size: must be > 0", i));
  for (size_t i = 0; i < s.linux_->gid_mappings.size(); ++i)
    if (s.linux_->gid_mappings[i].size == 0)
      return invalid(fmt::format("config.json: /linux/gidMappings/{}/size: must be > 0", i));
  return {};
}

// runtime-spec 1.3 config.md, mounts: uidMappings/gidMappings "MUST both be specified"
// when either is; idmap/ridmap without them use the container's user namespace, and
// without one "the runtime MUST return an error".
static Result<void> check_idmapped_mount(const Spec& s, const Mount& m, const MountOptions& o, size_t i) {
  bool own = !m.uid_mappings.empty() || !m.gid_mappings.empty();
  if (!own && !o.idmap) return {};
  if (m.uid_mappings.empty() != m.gid_mappings.empty())
    return invalid(fmt::format("config.json: /mounts/{}/{}: must be given together with {}", i,
                               m.uid_mappings.empty() ? "uidMappings" : "gidMappings",
                               m.uid_mappings.empty() ? "gidMappings" : "uidMappings"));
  for (auto* maps : {&m.uid_mappings, &m.gid_mappings})
    for (size_t j = 0; j < maps->size(); ++j)
      if ((*maps)[j].size == 0)
        return invalid(fmt::format("config.json: /mounts/{}/{}/{}/size: must be > 0", i,
                                   maps == &m.uid_mappings ? "uidMappings" : "gidMappings", j));
  if (!own && !has_ns(s, "user"))
    return invalid(
        fmt::format("config.json: /mounts/{}/options: idmap needs uidMappings/gidMappings or a user namespace", i));
  bool bind = (o.flags & 0x1000 /*MS_BIND*/) || m.type.value_or("") == "bind";
  if (!bind && m.type.value_or("") != "tmpfs")
    return Error::make(Errc::unsupported,
                       fmt::format("config.json: /mounts/{}: idmapped mounts need a bind or tmpfs mount (type {:?})", i,
                                   m.type.value_or("")));
  return {};
}

Result<void> check_mounts(const Spec& s) {
  for (size_t i = 0; i < s.mounts.size(); ++i) {
    auto& m = s.mounts[i];
    if (m.destination.empty()) return invalid(fmt::format("config.json: /mounts/{}/destination: must not be empty", i));
    auto o = parse_mount_options(m.options);
    bool bind = (o.flags & 0x1000 /*MS_BIND*/) || m.type.value_or("") == "bind";
    if (bind && (!m.source || m.source->empty()))
      return invalid(fmt::format("config.json: /mounts/{}/source: a bind mount needs a source", i));
    TRY(check_idmapped_mount(s, m, o, i));
  }
  return {};
}

// maskedPaths/readonlyPaths are mounts: without a mount namespace of its own the container
// would mask the host's paths, so (as runc) the config is refused rather than skipped.
Result<void> check_restricted_paths(const Spec& s) {
  if (!s.linux_ || has_ns(s, "mount")) return {};
  const char* field = !s.linux_->masked_paths.empty()     ? "maskedPaths"
                      : !s.linux_->readonly_paths.empty() ? "readonlyPaths"
                                                          : nullptr;
  if (!field) return {};
  return invalid(
      fmt::format("config.json: /linux/{}: unable to restrict sys entries without a private MNT namespace", field));
}

Result<void> check_sysctl(const Spec& s) {
  if (!s.linux_) return {};
  for (auto& [k, v] : s.linux_->sysctl) {
    auto is = [&, &key = k](std::string_view p) { return key.compare(0, p.size(), p) == 0; };
    const char* need = nullptr;
    if (is("net.")) {
      need = "network";
    } else if (k == "kernel.msgmax" || k == "kernel.msgmnb" || k == "kernel.msgmni" || k == "kernel.sem" ||
               k == "kernel.shmall" || k == "kernel.shmmax" || k == "kernel.shmmni" || k == "kernel.shm_rmid_forced" ||
               is("fs.mqueue.")) {
      need = "ipc";
    } else if (k == "kernel.hostname") {
      // As runc: the dedicated `hostname` field owns it (else one silently loses).
      return invalid(
          fmt::format("config.json: /linux/sysctl/{}: sysctl \"kernel.hostname\" is not allowed as it conflicts with "
                      "the OCI \"hostname\" field",
                      k));
    } else if (k == "kernel.domainname") {
      need = "uts";
    } else if (is("user.")) {
      need = "user";
    } else {
      return invalid(fmt::format("config.json: /linux/sysctl/{}: sysctl is not in a separate kernel namespace", k));
    }
    bool ok = false;
    for (auto& n : s.linux_->namespaces)
      if (n.type == need && !n.path) ok = true;
    // A joined netns is still the container's own: allow net.* with a path too.
    for (auto& n : s.linux_->namespaces)
      if (n.type == need && n.path && std::string_view(need) == "network") ok = true;
    if (!ok) return invalid(fmt::format("config.json: /linux/sysctl/{}: needs a {} namespace", k, need));
  }
  return {};
}

Result<void> check_devices(const Spec& s) {
  if (!s.linux_) return {};
  for (size_t i = 0; i < s.linux_->devices.size(); ++i) {
    auto& d = s.linux_->devices[i];
    if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p")
      return invalid(fmt::format("config.json: /linux/devices/{}/type: {:?} is not one of c, b, u, p", i, d.type));
    // runtime-spec 1.2: the path MAY be anywhere in the container (runc accepts any
    // absolute path too); only the root itself cannot be a device node.
    if (d.path.empty() || d.path[0] != '/' || path::clean(d.path) == "/")
      return invalid(fmt::format("config.json: /linux/devices/{}/path: {:?} must be an absolute path", i, d.path));
  }
  return {};
}

Result<void> check_cgroups_path(const Spec& s) {
  if (!s.linux_ || !s.linux_->cgroups_path) return {};
  for (auto& c : path::components(*s.linux_->cgroups_path))
    if (c == "..") return invalid("config.json: /linux/cgroupsPath: must not contain \"..\"");
  // "slice:prefix:name" without --systemd-cgroup: os/cgroups/select.cpp (the flag decides).
  return {};
}

namespace {
bool valid_cpuset(const std::string& v) {
  // "0-3,5,7-8": comma-separated numbers or ascending ranges.
  if (v.empty()) return true;
  size_t i = 0;
  while (i < v.size()) {
    auto num = [&](unsigned long& out) {
      size_t b = i;
      while (i < v.size() && isdigit(static_cast<unsigned char>(v[i]))) ++i;
      if (i == b || i - b > 6) return false;
      out = std::stoul(v.substr(b, i - b));
      return true;
    };
    unsigned long a = 0, c = 0;
    if (!num(a)) return false;
    if (i < v.size() && v[i] == '-') {
      ++i;
      if (!num(c) || c < a) return false;
    }
    if (i < v.size()) {
      if (v[i] != ',' || i + 1 == v.size()) return false;
      ++i;
    }
  }
  return true;
}
bool valid_page_size(const std::string& p) {
  size_t i = 0;
  while (i < p.size() && isdigit(static_cast<unsigned char>(p[i]))) ++i;
  if (i == 0) return false;
  auto unit = p.substr(i);
  return unit == "KB" || unit == "MB" || unit == "GB";
}
}  // namespace

Result<void> check_resources(const Resources& r, const std::string& where) {
  auto bad = [&](const std::string& field, const std::string& why) {
    return Error::make(Errc::invalid_spec, fmt::format("{}/{}: {}", where, field, why));
  };
  for (size_t i = 0; i < r.devices.size(); ++i) {
    auto& d = r.devices[i];
    if (d.type && *d.type != "a" && *d.type != "c" && *d.type != "b")
      return bad(fmt::format("devices/{}/type", i), fmt::format("{:?} is not one of a, c, b", *d.type));
    if (d.access && (d.access->empty() || d.access->find_first_not_of("rwm") != std::string::npos))
      return bad(fmt::format("devices/{}/access", i), fmt::format("{:?} must be made of r, w, m", *d.access));
    if ((d.major && *d.major < -1) || (d.minor && *d.minor < -1))
      return bad(fmt::format("devices/{}", i), "major/minor must be >= 0 (or -1 for any)");
  }
  if (auto& m = r.memory) {
    auto lim = [&](const char* f, const std::optional<int64_t>& v) -> Result<void> {
      if (v && *v < -1) return bad(std::string("memory/") + f, fmt::format("{} is negative (-1 means unlimited)", *v));
      return {};
    };
    TRY(lim("limit", m->limit));
    TRY(lim("reservation", m->reservation));
    TRY(lim("swap", m->swap));
    TRY(lim("kernel", m->kernel));
    TRY(lim("kernelTCP", m->kernel_tcp));
    if (m->swappiness && *m->swappiness > 100)
      return bad("memory/swappiness", fmt::format("{} is not in [0, 100]", *m->swappiness));
    if (m->limit && m->swap && *m->limit > 0 && *m->swap > 0 && *m->swap < *m->limit)
      return bad("memory/swap", "memory+swap must not be below the memory limit");
  }
  if (auto& c = r.cpu) {
    if (c->cpus && !valid_cpuset(*c->cpus))
      return bad("cpu/cpus", fmt::format("{:?} is not a cpu list like \"0-2,4\"", *c->cpus));
    if (c->mems && !valid_cpuset(*c->mems))
      return bad("cpu/mems", fmt::format("{:?} is not a node list like \"0-1\"", *c->mems));
    if (c->quota && *c->quota < -1)
      return bad("cpu/quota", fmt::format("{} is negative (-1 means unlimited)", *c->quota));
    if (c->realtime_runtime && *c->realtime_runtime < -1) return bad("cpu/realtimeRuntime", "must be >= -1");
    if (c->idle && *c->idle != 0 && *c->idle != 1) return bad("cpu/idle", "must be 0 or 1");
  }
  if (auto& b = r.block_io) {
    auto w = [&](const std::string& f, const std::optional<uint16_t>& v) -> Result<void> {
      if (v && *v != 0 && (*v < 10 || *v > 1000)) return bad(f, fmt::format("{} is not in [10, 1000]", *v));
      return {};
    };
    TRY(w("blockIO/weight", b->weight));
    TRY(w("blockIO/leafWeight", b->leaf_weight));
    for (size_t i = 0; i < b->weight_device.size(); ++i) {
      TRY(w(fmt::format("blockIO/weightDevice/{}/weight", i), b->weight_device[i].weight));
      TRY(w(fmt::format("blockIO/weightDevice/{}/leafWeight", i), b->weight_device[i].leaf_weight));
    }
  }
  for (size_t i = 0; i < r.hugepage_limits.size(); ++i)
    if (!valid_page_size(r.hugepage_limits[i].page_size))
      return bad(fmt::format("hugepageLimits/{}/pageSize", i),
                 fmt::format("{:?} is not like \"2MB\"", r.hugepage_limits[i].page_size));
  if (r.network)
    for (size_t i = 0; i < r.network->priorities.size(); ++i) {
      auto& n = r.network->priorities[i].name;
      if (n.empty() || n.find_first_of(" \n/") != std::string::npos)
        return bad(fmt::format("network/priorities/{}/name", i), fmt::format("{:?} is not an interface name", n));
    }
  for (auto& [k, v] : r.rdma)
    if (k.empty() || k.find_first_of(" \n/") != std::string::npos)
      return bad("rdma", fmt::format("{:?} is not a device name", k));
  for (auto& [k, v] : r.unified) {
    // A key is a file of the container's own cgroup: never a path, never the runtime's
    // control files; a value is one line.
    if (k.empty() || k.find('/') != std::string::npos || k.find("..") != std::string::npos ||
        k.find('.') == std::string::npos || k.find_first_of(" \n\0") != std::string::npos)
      return bad(fmt::format("unified/{}", k), "not a cgroup file name like \"memory.high\"");
    if (k.rfind("cgroup.", 0) == 0)
      return bad(fmt::format("unified/{}", k), "cgroup.* files are managed by the runtime");
    if (v.find('\n') != std::string::npos && v.find('\n') + 1 != v.size())
      return bad(fmt::format("unified/{}", k), "the value must be a single line");
  }
  return {};
}

Result<void> check_hooks(const Spec& s) {
  auto one = [&](const char* name, const std::vector<Hook>& hs) -> Result<void> {
    for (size_t i = 0; i < hs.size(); ++i)
      if (hs[i].path.empty() || hs[i].path[0] != '/')
        return invalid(fmt::format("config.json: /hooks/{}/{}/path: must be an absolute path", name, i));
    return {};
  };
  TRY(one("prestart", s.hooks.prestart));
  TRY(one("createRuntime", s.hooks.create_runtime));
  TRY(one("createContainer", s.hooks.create_container));
  TRY(one("startContainer", s.hooks.start_container));
  TRY(one("poststart", s.hooks.poststart));
  TRY(one("poststop", s.hooks.poststop));
  return {};
}

Result<void> check_unsupported(const Spec& s) {
  if (!s.linux_) return {};
  if (auto& p = s.linux_->personality) {
    if (p->domain != "LINUX" && p->domain != "LINUX32")
      return invalid(
          fmt::format("config.json: /linux/personality/domain: unknown domain {:?} (LINUX or LINUX32)", p->domain));
    // runtime-spec: "Currently no flag values are supported."
    if (!p->flags.empty())
      return invalid(fmt::format("config.json: /linux/personality/flags/0: unsupported flag {:?}", p->flags[0]));
  }
  if (auto& p = s.linux_->rootfs_propagation; p && !p->empty()) {
    static const std::set<std::string> ok = {"private", "rprivate", "shared",     "rshared",
                                             "slave",   "rslave",   "unbindable", "runbindable"};
    if (!ok.count(*p)) return invalid(fmt::format("config.json: /linux/rootfsPropagation: unknown value {:?}", *p));
  }
  return {};
}

Result<std::vector<std::string>> validate(const Spec& s) {
  std::vector<std::string> warnings;
  if (s.oci_version.compare(0, 2, "1.") != 0)
    return invalid(fmt::format("config.json: /ociVersion: unsupported version {:?}", s.oci_version));
  TRY(check_root(s));
  TRY(check_process(s, &warnings));
  // execCPUAffinity is for exec'd processes only (runtime-spec); it is kept for them.
  TRY(check_namespaces(s));
  TRY(check_userns_maps(s));
  TRY(check_mounts(s));
  // runc accepts a relative destination (as relative to the root) with this warning.
  for (auto& m : s.mounts)
    if (!m.destination.empty() && m.destination[0] != '/')
      warnings.push_back(
          fmt::format("mount destination {} is not absolute. Support for non-absolute mount "
                      "destinations will be removed in a future release.",
                      m.destination));
  TRY(check_restricted_paths(s));
  TRY(check_sysctl(s));
  TRY(check_devices(s));
  TRY(check_cgroups_path(s));
  if (s.linux_ && s.linux_->resources) TRY(check_resources(*s.linux_->resources, "config.json: /linux/resources"));
  TRY(check_hooks(s));
  TRY(check_unsupported(s));
  if (!s.linux_ || s.linux_->namespaces.empty())
    warnings.push_back(
        "config.json: /linux/namespaces: no namespaces: the container shares every namespace with the host");
  return warnings;
}

}  // namespace husk::spec
