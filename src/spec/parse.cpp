// config.json parsing with JSON-pointer error messages. Unknown fields are ignored, as the
// runtime-spec requires; known fields of the wrong type are errors.
#include <fmt/format.h>

#include "husk/spec/json.hpp"
#include "husk/spec/json_input.hpp"

namespace husk::spec {
namespace {

using json = nlohmann::json;

// A failed field: its JSON pointer and what was wrong.
struct Bad {
  std::string ptr, what;
};

class Reader {
 public:
  explicit Reader(const json& j, std::string ptr = "") : j_(j), ptr_(std::move(ptr)) {}

  const json& raw() const { return j_; }
  const std::string& ptr() const { return ptr_; }
  std::string at(std::string_view key) const { return ptr_ + "/" + std::string(key); }

  bool has(const char* key) const { return get(key) != nullptr; }
  // The member `key`, or nullptr when it is absent or null (one lookup).
  const json* get(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }

  Reader child(const char* key, json::value_t want) const {
    const json& c = j_.at(key);
    if (c.type() != want) throw Bad{at(key), want == json::value_t::object ? "must be an object" : "must be an array"};
    return Reader(c, at(key));
  }

  std::optional<std::string> str(const char* key) const {
    const json* found = get(key);
    if (!found) return std::nullopt;
    const json& v = *found;
    if (!v.is_string()) throw Bad{at(key), "must be a string"};
    return no_nul(v.get<std::string>(), [&] { return at(key); });
  }
  // Strings reach syscalls as C strings: a NUL would silently cut them short. Error pointers
  // are built only for the error: `where` is a string or a function returning one (Docker's
  // seccomp profile alone has ~400 strings and numbers, each formatted for nothing before).
  template <class Where>
  static std::string no_nul(std::string s, const Where& where) {
    if (s.find('\0') != std::string::npos) throw Bad{pointer(where), "must not contain a NUL byte"};
    return s;
  }
  template <class Where>
  static std::string pointer(const Where& where) {
    if constexpr (std::is_invocable_v<const Where&>)
      return where();
    else
      return std::string(where);
  }
  std::optional<bool> boolean(const char* key) const {
    const json* found = get(key);
    if (!found) return std::nullopt;
    const json& v = *found;
    if (!v.is_boolean()) throw Bad{at(key), "must be a boolean"};
    return v.get<bool>();
  }
  template <class T>
  std::optional<T> num(const char* key) const {
    const json* found = get(key);
    if (!found) return std::nullopt;
    return as_num<T>(*found, [&] { return at(key); });
  }
  std::vector<std::string> strings(const char* key) const {
    std::vector<std::string> out;
    const json* found = get(key);
    if (!found) return out;
    const json& v = *found;
    if (!v.is_array()) throw Bad{at(key), "must be an array of strings"};
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      auto where = [&] { return fmt::format("{}/{}", at(key), i); };
      if (!v[i].is_string()) throw Bad{where(), "must be a string"};
      out.push_back(no_nul(v[i].get<std::string>(), where));
    }
    return out;
  }
  // `nul_ok`: annotations are only stored and echoed, never handed to a syscall.
  std::map<std::string, std::string> string_map(const char* key, bool nul_ok = false) const {
    std::map<std::string, std::string> out;
    const json* found = get(key);
    if (!found) return out;
    const json& v = *found;
    if (!v.is_object()) throw Bad{at(key), "must be an object"};
    for (auto& item : v.items()) {
      // Named, not a structured binding: clang 14 (the fuzz build) cannot capture those.
      const std::string& k = item.key();
      const json& val = item.value();
      if (!val.is_string()) throw Bad{at(key) + "/" + k, "must be a string"};
      auto where = [&] { return at(key) + "/" + k; };
      out[nul_ok ? k : no_nul(k, [&] { return at(key); })] =
          nul_ok ? val.get<std::string>() : no_nul(val.get<std::string>(), where);
    }
    return out;
  }
  // Calls f(Reader) for every object element of the array `key`.
  template <class F>
  void each(const char* key, F f) const {
    const json* found = get(key);
    if (!found) return;
    const json& v = *found;
    if (!v.is_array()) throw Bad{at(key), "must be an array"};
    for (size_t i = 0; i < v.size(); ++i) {
      std::string p = fmt::format("{}/{}", at(key), i);
      if (!v[i].is_object()) throw Bad{p, "must be an object"};
      f(Reader(v[i], p));
    }
  }
  template <class T, class Where>
  static T as_num(const json& v, const Where& where) {
    auto ptr = [&] { return pointer(where); };
    if (!v.is_number()) throw Bad{ptr(), "must be a number"};
    if constexpr (std::is_unsigned_v<T>) {
      if (v.is_number_float() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0))
        throw Bad{ptr(), "must be a non-negative integer"};
      uint64_t x = v.get<uint64_t>();
      if (x > std::numeric_limits<T>::max()) throw Bad{ptr(), "out of range"};
      return static_cast<T>(x);
    } else if constexpr (std::is_integral_v<T>) {
      if (v.is_number_float()) throw Bad{ptr(), "must be an integer"};
      if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max()))
        throw Bad{ptr(), "out of range"};
      int64_t x = v.get<int64_t>();
      if (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max()) throw Bad{ptr(), "out of range"};
      return static_cast<T>(x);
    } else {
      return v.get<T>();
    }
  }

 private:
  const json& j_;
  std::string ptr_;
};

Hook read_hook(const Reader& r) {
  Hook h;
  auto p = r.str("path");
  if (!p) throw Bad{r.at("path"), "is required"};
  h.path = *p;
  h.args = r.strings("args");
  h.env = r.strings("env");
  h.timeout = r.num<int>("timeout");
  if (h.timeout && *h.timeout <= 0) throw Bad{r.at("timeout"), "must be greater than zero"};
  return h;
}

Hooks read_hooks(const Reader& r) {
  Hooks h;
  auto list = [&](const char* key, std::vector<Hook>& out) {
    r.each(key, [&](const Reader& e) { out.push_back(read_hook(e)); });
  };
  list("prestart", h.prestart);
  list("createRuntime", h.create_runtime);
  list("createContainer", h.create_container);
  list("startContainer", h.start_container);
  list("poststart", h.poststart);
  list("poststop", h.poststop);
  return h;
}

Process read_process(const Reader& r) {
  Process p;
  p.terminal = r.boolean("terminal").value_or(false);
  if (r.has("consoleSize")) {
    auto c = r.child("consoleSize", json::value_t::object);
    p.console_size = ConsoleSize{c.num<uint32_t>("height").value_or(0), c.num<uint32_t>("width").value_or(0)};
  }
  if (r.has("user")) {
    auto u = r.child("user", json::value_t::object);
    p.user.uid = u.num<uint32_t>("uid").value_or(0);
    p.user.gid = u.num<uint32_t>("gid").value_or(0);
    p.user.umask = u.num<uint32_t>("umask");
    if (u.has("additionalGids")) {
      auto a = u.child("additionalGids", json::value_t::array);
      for (size_t i = 0; i < a.raw().size(); ++i)
        p.user.additional_gids.push_back(
            Reader::as_num<uint32_t>(a.raw()[i], [&] { return fmt::format("{}/{}", a.ptr(), i); }));
    }
  }
  p.args = r.strings("args");
  p.env = r.strings("env");
  p.cwd = r.str("cwd").value_or("");
  if (r.has("capabilities")) {
    auto c = r.child("capabilities", json::value_t::object);
    Capabilities caps;
    auto set = [&](const char* k, std::optional<std::vector<std::string>>& out) {
      if (c.has(k)) out = c.strings(k);
    };
    set("bounding", caps.bounding);
    set("effective", caps.effective);
    set("inheritable", caps.inheritable);
    set("permitted", caps.permitted);
    set("ambient", caps.ambient);
    p.capabilities = caps;
  }
  r.each("rlimits", [&](const Reader& e) {
    Rlimit l;
    auto t = e.str("type");
    if (!t) throw Bad{e.at("type"), "is required"};
    l.type = *t;
    l.hard = e.num<uint64_t>("hard").value_or(0);
    l.soft = e.num<uint64_t>("soft").value_or(0);
    p.rlimits.push_back(l);
  });
  p.no_new_privileges = r.boolean("noNewPrivileges").value_or(false);
  p.apparmor_profile = r.str("apparmorProfile");
  p.oom_score_adj = r.num<int>("oomScoreAdj");
  p.selinux_label = r.str("selinuxLabel");
  if (r.has("scheduler")) {
    auto c = r.child("scheduler", json::value_t::object);
    Scheduler sc;
    auto pol = c.str("policy");
    if (!pol) throw Bad{c.at("policy"), "is required"};
    sc.policy = *pol;
    sc.nice = c.num<int32_t>("nice").value_or(0);
    sc.priority = c.num<int32_t>("priority").value_or(0);
    sc.flags = c.strings("flags");
    sc.runtime = c.num<uint64_t>("runtime").value_or(0);
    sc.deadline = c.num<uint64_t>("deadline").value_or(0);
    sc.period = c.num<uint64_t>("period").value_or(0);
    p.scheduler = sc;
  }
  if (r.has("ioPriority")) {
    auto c = r.child("ioPriority", json::value_t::object);
    IoPriority io;
    auto cl = c.str("class");
    if (!cl) throw Bad{c.at("class"), "is required"};
    io.io_class = *cl;
    auto pr = c.num<int>("priority");
    if (!pr) throw Bad{c.at("priority"), "is required"};
    io.priority = *pr;
    p.io_priority = io;
  }
  if (r.has("execCPUAffinity")) {
    auto c = r.child("execCPUAffinity", json::value_t::object);
    p.exec_cpu_affinity = ExecCpuAffinity{c.str("initial").value_or(""), c.str("final").value_or("")};
  }
  return p;
}

Resources read_resources(const Reader& r) {
  Resources res;
  r.each("devices", [&](const Reader& e) {
    DeviceRule d;
    auto a = e.boolean("allow");
    if (!a) throw Bad{e.at("allow"), "is required"};
    d.allow = *a;
    d.type = e.str("type");
    d.major = e.num<int64_t>("major");
    d.minor = e.num<int64_t>("minor");
    d.access = e.str("access");
    res.devices.push_back(d);
  });
  if (r.has("memory")) {
    auto m = r.child("memory", json::value_t::object);
    Memory mem;
    mem.limit = m.num<int64_t>("limit");
    mem.reservation = m.num<int64_t>("reservation");
    mem.swap = m.num<int64_t>("swap");
    mem.kernel = m.num<int64_t>("kernel");
    mem.kernel_tcp = m.num<int64_t>("kernelTCP");
    mem.swappiness = m.num<uint64_t>("swappiness");
    mem.disable_oom_killer = m.boolean("disableOOMKiller");
    mem.use_hierarchy = m.boolean("useHierarchy");
    mem.check_before_update = m.boolean("checkBeforeUpdate");
    res.memory = mem;
  }
  if (r.has("cpu")) {
    auto c = r.child("cpu", json::value_t::object);
    Cpu cpu;
    cpu.shares = c.num<uint64_t>("shares");
    cpu.quota = c.num<int64_t>("quota");
    cpu.period = c.num<uint64_t>("period");
    cpu.burst = c.num<uint64_t>("burst");
    cpu.realtime_runtime = c.num<int64_t>("realtimeRuntime");
    cpu.realtime_period = c.num<uint64_t>("realtimePeriod");
    cpu.cpus = c.str("cpus");
    cpu.mems = c.str("mems");
    cpu.idle = c.num<int64_t>("idle");
    res.cpu = cpu;
  }
  if (r.has("pids")) {
    auto p = r.child("pids", json::value_t::object);
    res.pids = Pids{p.num<int64_t>("limit")};
  }
  if (r.has("blockIO")) {
    auto b = r.child("blockIO", json::value_t::object);
    BlockIO io;
    io.weight = b.num<uint16_t>("weight");
    io.leaf_weight = b.num<uint16_t>("leafWeight");
    b.each("weightDevice", [&](const Reader& e) {
      io.weight_device.push_back(WeightDevice{e.num<int64_t>("major").value_or(0), e.num<int64_t>("minor").value_or(0),
                                              e.num<uint16_t>("weight"), e.num<uint16_t>("leafWeight")});
    });
    auto throttle = [&](const char* key, std::vector<ThrottleDevice>& out) {
      b.each(key, [&](const Reader& e) {
        out.push_back(ThrottleDevice{e.num<int64_t>("major").value_or(0), e.num<int64_t>("minor").value_or(0),
                                     e.num<uint64_t>("rate").value_or(0)});
      });
    };
    throttle("throttleReadBpsDevice", io.throttle_read_bps);
    throttle("throttleWriteBpsDevice", io.throttle_write_bps);
    throttle("throttleReadIOPSDevice", io.throttle_read_iops);
    throttle("throttleWriteIOPSDevice", io.throttle_write_iops);
    res.block_io = io;
  }
  r.each("hugepageLimits", [&](const Reader& e) {
    auto ps = e.str("pageSize");
    if (!ps) throw Bad{e.at("pageSize"), "is required"};
    res.hugepage_limits.push_back(HugepageLimit{*ps, e.num<uint64_t>("limit").value_or(0)});
  });
  if (r.has("network")) {
    auto n = r.child("network", json::value_t::object);
    Network net;
    net.class_id = n.num<uint32_t>("classID");
    n.each("priorities", [&](const Reader& e) {
      auto name = e.str("name");
      if (!name) throw Bad{e.at("name"), "is required"};
      net.priorities.push_back(NetPriority{*name, e.num<uint32_t>("priority").value_or(0)});
    });
    res.network = net;
  }
  if (r.has("rdma")) {
    auto d = r.child("rdma", json::value_t::object);
    for (auto& [k, v] : d.raw().items()) {
      std::string p = d.at(k);
      if (!v.is_object()) throw Bad{p, "must be an object"};
      Reader o(v, p);
      res.rdma[k] = Rdma{o.num<uint32_t>("hcaHandles"), o.num<uint32_t>("hcaObjects")};
    }
  }
  if (r.has("unified")) {
    auto u = r.child("unified", json::value_t::object);
    for (auto& item : u.raw().items()) {
      const std::string& k = item.key();  // named: clang 14 cannot capture a structured binding
      const json& v = item.value();
      if (!v.is_string()) throw Bad{u.at(k), "must be a string"};
      res.unified[Reader::no_nul(k, u.ptr())] = Reader::no_nul(v.get<std::string>(), [&] { return u.at(k); });
    }
  }
  return res;
}

Seccomp read_seccomp(const Reader& r) {
  Seccomp s;
  auto d = r.str("defaultAction");
  if (!d) throw Bad{r.at("defaultAction"), "is required"};
  s.default_action = *d;
  s.default_errno_ret = r.num<uint32_t>("defaultErrnoRet");
  s.architectures = r.strings("architectures");
  s.flags = r.strings("flags");
  s.listener_path = r.str("listenerPath");
  s.listener_metadata = r.str("listenerMetadata");
  r.each("syscalls", [&](const Reader& e) {
    SeccompSyscall sc;
    sc.names = e.strings("names");
    auto a = e.str("action");
    if (!a) throw Bad{e.at("action"), "is required"};
    sc.action = *a;
    sc.errno_ret = e.num<uint32_t>("errnoRet");
    e.each("args", [&](const Reader& ar) {
      SeccompArg arg;
      arg.index = ar.num<uint32_t>("index").value_or(0);
      arg.value = ar.num<uint64_t>("value").value_or(0);
      arg.value_two = ar.num<uint64_t>("valueTwo").value_or(0);
      auto op = ar.str("op");
      if (!op) throw Bad{ar.at("op"), "is required"};
      arg.op = *op;
      sc.args.push_back(arg);
    });
    s.syscalls.push_back(sc);
  });
  return s;
}

void read_id_maps(const Reader& r, const char* key, std::vector<IdMapping>& out) {
  r.each(key, [&](const Reader& e) {
    out.push_back(IdMapping{e.num<uint32_t>("containerID").value_or(0), e.num<uint32_t>("hostID").value_or(0),
                            e.num<uint32_t>("size").value_or(0)});
  });
}

// runtime-spec 1.3: memoryPolicy, netDevices, intelRdt (enableCMT/enableMBM of older
// drafts are ignored).
void read_linux_13(const Reader& r, Linux& l) {
  if (r.has("memoryPolicy")) {
    auto m = r.child("memoryPolicy", json::value_t::object);
    auto mode = m.str("mode");
    if (!mode) throw Bad{m.at("mode"), "is required"};
    l.memory_policy = MemoryPolicy{*mode, m.str("nodes"), m.strings("flags")};
  }
  if (r.has("netDevices")) {
    auto n = r.child("netDevices", json::value_t::object);
    for (auto& [k, v] : n.raw().items()) {
      std::string p = n.at(k);
      if (!v.is_object()) throw Bad{p, "must be an object"};
      Reader o(v, p);
      l.net_devices[k] = NetDevice{o.str("name").value_or("")};
    }
  }
  if (r.has("intelRdt")) {
    auto i = r.child("intelRdt", json::value_t::object);
    IntelRdt rdt;
    rdt.clos_id = i.str("closID");
    rdt.l3_cache_schema = i.str("l3CacheSchema");
    rdt.mem_bw_schema = i.str("memBwSchema");
    rdt.schemata = i.strings("schemata");
    rdt.enable_monitoring = i.boolean("enableMonitoring").value_or(false);
    l.intel_rdt = std::move(rdt);
  }
}

Linux read_linux(const Reader& r) {
  Linux l;
  read_id_maps(r, "uidMappings", l.uid_mappings);
  read_id_maps(r, "gidMappings", l.gid_mappings);
  l.sysctl = r.string_map("sysctl");
  if (r.has("resources")) l.resources = read_resources(r.child("resources", json::value_t::object));
  l.cgroups_path = r.str("cgroupsPath");
  r.each("namespaces", [&](const Reader& e) {
    auto t = e.str("type");
    if (!t) throw Bad{e.at("type"), "is required"};
    l.namespaces.push_back(Namespace{*t, e.str("path")});
  });
  r.each("devices", [&](const Reader& e) {
    Device d;
    auto t = e.str("type");
    if (!t) throw Bad{e.at("type"), "is required"};
    auto p = e.str("path");
    if (!p) throw Bad{e.at("path"), "is required"};
    d.type = *t;
    d.path = *p;
    d.major = e.num<int64_t>("major").value_or(0);
    d.minor = e.num<int64_t>("minor").value_or(0);
    d.file_mode = e.num<uint32_t>("fileMode");
    d.uid = e.num<uint32_t>("uid");
    d.gid = e.num<uint32_t>("gid");
    l.devices.push_back(d);
  });
  if (r.has("seccomp")) l.seccomp = read_seccomp(r.child("seccomp", json::value_t::object));
  l.rootfs_propagation = r.str("rootfsPropagation");
  l.masked_paths = r.strings("maskedPaths");
  l.readonly_paths = r.strings("readonlyPaths");
  l.mount_label = r.str("mountLabel");
  if (r.has("timeOffsets")) {
    auto t = r.child("timeOffsets", json::value_t::object);
    for (auto& [k, v] : t.raw().items()) {
      std::string p = t.at(k);
      if (!v.is_object()) throw Bad{p, "must be an object"};
      Reader o(v, p);
      l.time_offsets[k] = TimeOffset{o.num<int64_t>("secs").value_or(0), o.num<uint32_t>("nanosecs").value_or(0)};
    }
  }
  read_linux_13(r, l);
  if (r.has("personality")) {
    auto p = r.child("personality", json::value_t::object);
    auto d = p.str("domain");
    if (!d) throw Bad{p.at("domain"), "is required"};
    l.personality = Personality{*d, p.strings("flags")};
  }
  return l;
}

Spec read_spec(const Reader& r) {
  Spec s;
  auto v = r.str("ociVersion");
  if (!v) throw Bad{"/ociVersion", "is required"};
  s.oci_version = *v;
  if (r.has("process")) s.process = read_process(r.child("process", json::value_t::object));
  if (r.has("root")) {
    auto ro = r.child("root", json::value_t::object);
    auto p = ro.str("path");
    if (!p) throw Bad{"/root/path", "is required"};
    s.root = Root{*p, ro.boolean("readonly").value_or(false)};
  }
  s.hostname = r.str("hostname");
  s.domainname = r.str("domainname");
  r.each("mounts", [&](const Reader& e) {
    Mount m;
    auto d = e.str("destination");
    if (!d) throw Bad{e.at("destination"), "is required"};
    m.destination = *d;
    m.type = e.str("type");
    m.source = e.str("source");
    m.options = e.strings("options");
    read_id_maps(e, "uidMappings", m.uid_mappings);
    read_id_maps(e, "gidMappings", m.gid_mappings);
    s.mounts.push_back(m);
  });
  if (r.has("hooks")) s.hooks = read_hooks(r.child("hooks", json::value_t::object));
  s.annotations = r.string_map("annotations", true);
  if (r.has("linux")) s.linux_ = read_linux(r.child("linux", json::value_t::object));
  return s;
}

template <class T, class F>
Result<T> guarded(std::string_view bytes, std::string_view source, F f) {
  TRY_ASSIGN(json j, parse_json(bytes, source));
  if (!j.is_object()) return Error::make(Errc::invalid_spec, fmt::format("{}: must be a JSON object", source));
  try {
    return f(Reader(j));
  } catch (const Bad& b) {
    return Error::make(Errc::invalid_spec, fmt::format("{}: {}: {}", source, b.ptr, b.what));
  } catch (const json::exception& e) {
    return Error::make(Errc::invalid_spec, fmt::format("{}: {}", source, e.what()));
  }
}

void hooks_out(json& o, const char* key, const std::vector<Hook>& hs) {
  if (hs.empty()) return;
  json a = json::array();
  for (auto& h : hs) {
    json x{{"path", h.path}};
    if (!h.args.empty()) x["args"] = h.args;
    if (!h.env.empty()) x["env"] = h.env;
    if (h.timeout) x["timeout"] = *h.timeout;
    a.push_back(x);
  }
  o[key] = a;
}

}  // namespace

Result<Spec> parse(std::string_view bytes, std::string_view source) {
  return guarded<Spec>(bytes, source, [](const Reader& r) { return read_spec(r); });
}

Result<Resources> parse_resources(std::string_view bytes, std::string_view source) {
  return guarded<Resources>(bytes, source, [](const Reader& r) { return read_resources(r); });
}

Result<Process> parse_process(std::string_view bytes, std::string_view source) {
  return guarded<Process>(bytes, source, [](const Reader& r) { return read_process(r); });
}

Result<Hooks> parse_hooks(const nlohmann::json& j) {
  try {
    return read_hooks(Reader(j));
  } catch (const Bad& b) {
    return Error::make(Errc::invalid_spec, fmt::format("hooks: {}: {}", b.ptr, b.what));
  }
}

nlohmann::json hooks_to_json(const Hooks& h) {
  json o = json::object();
  hooks_out(o, "prestart", h.prestart);
  hooks_out(o, "createRuntime", h.create_runtime);
  hooks_out(o, "createContainer", h.create_container);
  hooks_out(o, "startContainer", h.start_container);
  hooks_out(o, "poststart", h.poststart);
  hooks_out(o, "poststop", h.poststop);
  return o;
}

}  // namespace husk::spec
