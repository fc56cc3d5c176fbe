#include "husk/state/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <nlohmann/json.hpp>

#include "husk/core/path.hpp"
#include "husk/spec/json.hpp"
#include "husk/spec/json_input.hpp"
#include "husk/spec/oci_state.hpp"

namespace husk::state {

namespace {

struct Corrupt {
  std::string what;
};

std::string get_path(const nlohmann::json& j, const char* key) {
  if (auto h = j.find(std::string(key) + "Hex"); h != j.end() && h->is_string())
    if (auto raw = spec::unhex(h->get<std::string>())) return *raw;
  auto v = j.find(key);
  if (v == j.end()) return "";
  if (!v->is_string()) throw Corrupt{fmt::format("{} must be a string", key)};
  return v->get<std::string>();
}

// An integer field in [lo, hi]; a float, a string or a value out of range is corruption
// (never a float->int conversion: 1e300 would be undefined behaviour).
template <class T>
T get_int(const nlohmann::json& j, const char* key, bool required, T lo, T hi) {
  auto v = j.find(key);
  if (v == j.end()) {
    if (required) throw Corrupt{fmt::format("{} is missing", key)};
    return T{};
  }
  if (v->is_number_unsigned()) {
    uint64_t x = v->get<uint64_t>();
    if (x <= static_cast<uint64_t>(hi)) return static_cast<T>(x);
  } else if (v->is_number_integer()) {
    int64_t x = v->get<int64_t>();
    if (x >= static_cast<int64_t>(lo) && (x < 0 || static_cast<uint64_t>(x) <= static_cast<uint64_t>(hi)))
      return static_cast<T>(x);
  }
  throw Corrupt{fmt::format("{} must be an integer in [{}, {}]", key, lo, hi)};
}

}  // namespace

spec::OciState oci_state(const State& s, std::string_view status, int pid) {
  spec::OciState o;
  o.oci_version = s.oci_version;
  o.id = s.id;
  o.status = std::string(status);
  o.pid = pid;
  o.bundle = s.bundle;
  o.annotations = s.annotations;
  o.rootfs = s.rootfs;
  o.created = s.created;
  o.owner = s.owner;
  o.start_time = s.start_time;
  return o;
}

namespace {

bool no_hooks(const spec::Hooks& h) {
  return h.prestart.empty() && h.create_runtime.empty() && h.create_container.empty() && h.start_container.empty() &&
         h.poststart.empty() && h.poststop.empty();
}

void put_str(std::string& o, std::string_view key, const std::string& v) {
  o += '"';
  o += key;
  o += "\":\"";
  o += v;
  o += "\",";
}

void put_map(std::string& o, std::string_view key, const std::map<std::string, std::string>& m) {
  o += '"';
  o += key;
  o += "\":{";
  for (auto& [k, v] : m) {
    o += '"';
    o += k;
    o += "\":\"";
    o += v;
    o += "\",";
  }
  if (!m.empty()) o.pop_back();
  o += "},";
}

}  // namespace

// The record of a container whose strings are all printable ASCII without quote or
// backslash, and that has no hooks (the common case; create writes three records): written
// directly, byte for byte what the object of `to_json_object` dumps to (a unit test compares
// them), without building it. nullopt: use the object.
std::optional<std::string> to_json_plain(const State& s) {
  if (!no_hooks(s.hooks)) return std::nullopt;
  for (auto* v : {&s.id, &s.oci_version, &s.bundle, &s.rootfs, &s.created, &s.owner, &s.cgroup_driver})
    if (!spec::plain_ascii(*v)) return std::nullopt;
  const auto paths = s.cgroup_paths.to_map();
  for (auto* m : {&s.annotations, &paths})
    for (auto& [k, v] : *m)
      if (!spec::plain_ascii(k) || !spec::plain_ascii(v)) return std::nullopt;
  std::string o;
  o.reserve(512);
  o += '{';
  put_str(o, "id", s.id);
  put_str(o, "ociVersion", s.oci_version);
  o += "\"pid\":" + std::to_string(s.pid) + ",\"startTime\":" + std::to_string(s.start_time) + ",";
  put_str(o, "bundle", s.bundle);
  put_str(o, "rootfs", s.rootfs);
  put_str(o, "created", s.created);
  put_str(o, "owner", s.owner);
  put_map(o, "annotations", s.annotations);
  put_map(o, "cgroupPaths", paths);
  put_str(o, "cgroupDriver", s.cgroup_driver);
  o += s.created_cgroup ? "\"createdCgroup\":true," : "\"createdCgroup\":false,";
  o += s.shared_pid_ns ? "\"sharedPidNs\":true," : "\"sharedPidNs\":false,";
  if (s.no_new_keyring) o += "\"noNewKeyring\":true,";
  if (s.no_process) o += "\"noProcess\":true,";
  if (s.creating) o += "\"creating\":true,";
  o += "\"hooks\":{}}";
  return o;
}

std::string to_json(const State& s) {
  if (auto fast = to_json_plain(s)) return std::move(*fast);
  return to_json_object(s);
}

std::string to_json_object(const State& s) {
  nlohmann::ordered_json j = spec::state_object(oci_state(s, "", s.pid), spec::StateShape::record);
  j["cgroupPaths"] = s.cgroup_paths.to_map();
  j["cgroupDriver"] = s.cgroup_driver;
  j["createdCgroup"] = s.created_cgroup;
  j["sharedPidNs"] = s.shared_pid_ns;
  if (s.no_new_keyring) j["noNewKeyring"] = true;
  if (s.no_process) j["noProcess"] = true;
  if (s.creating) j["creating"] = true;
  j["hooks"] = spec::hooks_to_json(s.hooks);
  return spec::dump_json(j);
}

Result<State> state_from_json(std::string_view bytes, std::string_view source) {
  auto parsed = spec::parse_json(bytes, source);
  if (!parsed)
    return Error::make(Errc::internal, fmt::format("{} (the state file is corrupt)", parsed.error().message()));
  const nlohmann::json& j = *parsed;
  try {
    if (!j.is_object()) throw Corrupt{"not a JSON object"};
    State s;
    s.id = j.at("id").get<std::string>();
    s.oci_version = j.value("ociVersion", "");
    s.pid = get_int<int>(j, "pid", true, 0, std::numeric_limits<int>::max());
    s.start_time = get_int<uint64_t>(j, "startTime", false, 0, std::numeric_limits<uint64_t>::max());
    s.bundle = get_path(j, "bundle");
    s.rootfs = get_path(j, "rootfs");
    s.created = j.value("created", "");
    s.owner = j.value("owner", "");
    s.annotations = j.value("annotations", std::map<std::string, std::string>{});
    s.cgroup_paths = CgroupPaths::from_map(j.value("cgroupPaths", std::map<std::string, std::string>{}));
    s.cgroup_driver = j.value("cgroupDriver", "cgroupfs");  // older state files: cgroupfs made them
    s.created_cgroup = j.value("createdCgroup", false);
    s.shared_pid_ns = j.value("sharedPidNs", false);
    s.no_new_keyring = j.value("noNewKeyring", false);
    s.no_process = j.value("noProcess", false);
    s.creating = j.value("creating", false);
    if (j.contains("hooks")) {
      if (!j.at("hooks").is_object()) throw Corrupt{"hooks must be an object"};
      TRY_ASSIGN(s.hooks, spec::parse_hooks(j.at("hooks")));
    }
    return s;
  } catch (const Corrupt& c) {
    return Error::make(Errc::internal, fmt::format("{} is corrupt: {}", source, c.what));
  } catch (const nlohmann::json::exception& e) {
    return Error::make(Errc::internal, fmt::format("{} is corrupt: {}", source, e.what()));
  }
}

static Result<UniqueFd> open_locked(const std::string& d) {
  UniqueFd fd(::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return Error::sys("open " + d);
  while (::flock(fd.get(), LOCK_EX) < 0)
    if (errno != EINTR) return Error::sys("lock " + d);
  return fd;
}

Result<Locked> StateStore::create(const std::string& id) const {
  std::string d = dir(id);
  int made = ::mkdir(d.c_str(), 0711);
  if (made < 0 && errno == ENOENT) {
    // mkdir -p the root, as runc does for --root (only when it is missing).
    std::string cur;
    for (auto& c : path::components(root_)) {
      cur += "/" + c;
      if (::mkdir(cur.c_str(), 0711) < 0 && errno != EEXIST) return Error::sys("create state root " + cur);
    }
    made = ::mkdir(d.c_str(), 0711);
  }
  if (made < 0) {
    if (errno == EEXIST) return Error::make(Errc::exists, fmt::format("container with id {:?} already exists", id));
    return Error::sys("create state dir " + d);
  }
  TRY_ASSIGN(auto fd, open_locked(d));
  // Between our mkdir and our lock a `delete --force` may have removed the directory (and
  // another create made it again): ours is the one we locked, empty and still linked.
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) return Error::sys("stat " + d);
  if (st.st_nlink == 0)
    return Error::make(Errc::exists, fmt::format("container {:?} was deleted while being created", id));
  if (::faccessat(fd.get(), "state.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return Error::make(Errc::exists, fmt::format("container with id {:?} already exists", id));
  return Locked(d, std::move(fd));
}

bool StateStore::busy(const std::string& id) const {
  UniqueFd fd(::open(dir(id).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return false;
  if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) return false;  // closing the fd drops it
  return errno == EWOULDBLOCK;
}

Result<Locked> StateStore::lock(const std::string& id) const {
  std::string d = dir(id);
  UniqueFd fd(::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return Error::make(Errc::not_found, std::string(kNoSuchContainer));
    return Error::sys("open " + d);
  }
  while (::flock(fd.get(), LOCK_EX) < 0)
    if (errno != EINTR) return Error::sys("lock " + d);
  // Deleted while we waited for the lock?
  struct stat st;
  if (::fstat(fd.get(), &st) == 0 && st.st_nlink == 0)
    return Error::make(Errc::not_found, std::string(kNoSuchContainer));
  return Locked(d, std::move(fd));
}

Result<State> StateStore::load(const std::string& id) const {
  auto bytes = read_file(dir(id) + "/state.json");
  if (!bytes) {
    if (bytes.error().sys_errno() == ENOENT) {
      struct stat st;
      if (::stat(dir(id).c_str(), &st) < 0) return Error::make(Errc::not_found, std::string(kNoSuchContainer));
      State bare;  // killed between mkdir and the first record, or about to write it
      bare.id = id;
      bare.creating = true;
      return bare;
    }
    return std::move(bytes).error();
  }
  TRY_ASSIGN(auto st, state_from_json(*bytes, dir(id) + "/state.json").context(fmt::format("container {:?}", id)));
  // A create still running or killed: once the init's pid is known, recovery.json is the
  // fuller record (state.json is rewritten only when create finishes).
  if (st.creating && st.pid == 0) {
    if (auto r = load_recovery(id)) return r;
  }
  return st;
}

// The container directory is ours and locked: a temp file left by a killed husk is stale
// (the O_EXCL create fails on it; it is removed then, not before every write).
static Result<void> write_record(const std::string& path, std::string_view json, bool sync) {
  auto r = write_file_atomic(path, json, 0600, sync);
  if (r || r.error().sys_errno() != EEXIST) return r;
  ::unlink((path + ".tmp").c_str());
  return write_file_atomic(path, json, 0600, sync);
}

Result<void> StateStore::save(const State& s) const {
  // A `creating` record matters while husk runs (a killed create); after a machine crash
  // the processes and cgroups it names are gone anyway: no fsync on create's path.
  return write_record(dir(s.id) + "/state.json", to_json(s), !s.creating);
}

Result<void> StateStore::save_recovery(const State& s) const {
  // Always a `creating` record: whatever it names is cleaned up as a create that did not
  // finish (create passes one; a copy only for any other caller).
  if (!s.creating) {
    State r = s;
    r.creating = true;
    return save_recovery(r);
  }
  return write_record(dir(s.id) + "/recovery.json", to_json(s), false);
}

Result<State> StateStore::load_recovery(const std::string& id) const {
  std::string p = dir(id) + "/recovery.json";
  TRY_ASSIGN(auto bytes, read_file(p));
  TRY_ASSIGN(auto st, state_from_json(bytes, p));
  if (st.id != id) return Error::make(Errc::internal, fmt::format("{} is corrupt: it names container {:?}", p, st.id));
  st.creating = true;
  return st;
}

static void remove_tree_at(int dfd) {
  DIR* d = ::fdopendir(dfd);
  if (!d) {
    ::close(dfd);
    return;
  }
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    if (e->d_type == DT_DIR) {
      int sub = ::openat(::dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) remove_tree_at(sub);
      ::unlinkat(::dirfd(d), e->d_name, AT_REMOVEDIR);
    } else {
      ::unlinkat(::dirfd(d), e->d_name, 0);
    }
  }
  ::closedir(d);
}

Result<void> StateStore::remove(const std::string& id) const {
  std::string d = dir(id);
  int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? Result<void>{} : Result<void>(Error::sys("open " + d));
  remove_tree_at(fd);
  if (::rmdir(d.c_str()) < 0 && errno != ENOENT) return Error::sys("remove " + d);
  return {};
}

Result<std::vector<std::string>> StateStore::list() const {
  std::vector<std::string> out;
  DIR* d = ::opendir(root_.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    return Error::sys("open " + root_);
  }
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    // Ids never start with a dot: ".seccomp" (the BPF cache) is not a container.
    if (n.empty() || n[0] == '.' || e->d_type != DT_DIR) continue;
    out.emplace_back(n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace husk::state
