#include "husk/state/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "husk/core/path.hpp"
#include "husk/spec/json.hpp"

namespace husk::state {

std::string to_json(const State& s) {
  nlohmann::ordered_json j;
  j["id"] = s.id;
  j["ociVersion"] = s.oci_version;
  j["pid"] = s.pid;
  j["startTime"] = s.start_time;
  j["bundle"] = s.bundle;
  j["rootfs"] = s.rootfs;
  j["created"] = s.created;
  j["owner"] = s.owner;
  j["annotations"] = s.annotations;
  j["cgroupPaths"] = s.cgroup_paths.to_map();
  j["cgroupDriver"] = s.cgroup_driver;
  j["createdCgroup"] = s.created_cgroup;
  j["sharedPidNs"] = s.shared_pid_ns;
  if (s.no_new_keyring) j["noNewKeyring"] = true;
  if (s.no_process) j["noProcess"] = true;
  j["hooks"] = spec::hooks_to_json(s.hooks);
  return j.dump();
}

Result<State> state_from_json(std::string_view bytes) {
  try {
    auto j = nlohmann::json::parse(bytes.begin(), bytes.end());
    State s;
    s.id = j.at("id").get<std::string>();
    s.oci_version = j.value("ociVersion", "");
    s.pid = j.at("pid").get<int>();
    s.start_time = j.value("startTime", uint64_t{0});
    s.bundle = j.value("bundle", "");
    s.rootfs = j.value("rootfs", "");
    s.created = j.value("created", "");
    s.owner = j.value("owner", "");
    s.annotations = j.value("annotations", std::map<std::string, std::string>{});
    s.cgroup_paths = CgroupPaths::from_map(j.value("cgroupPaths", std::map<std::string, std::string>{}));
    s.cgroup_driver = j.value("cgroupDriver", "cgroupfs");  // older state files: cgroupfs made them
    s.created_cgroup = j.value("createdCgroup", false);
    s.shared_pid_ns = j.value("sharedPidNs", false);
    s.no_new_keyring = j.value("noNewKeyring", false);
    s.no_process = j.value("noProcess", false);
    if (j.contains("hooks")) {
      TRY_ASSIGN(s.hooks, spec::parse_hooks(j["hooks"]));
    }
    return s;
  } catch (const nlohmann::json::exception& e) {
    return Error::make(Errc::internal, fmt::format("state.json is corrupt: {}", e.what()));
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
  return Locked(d, std::move(fd));
}

Result<Locked> StateStore::lock(const std::string& id) const {
  std::string d = dir(id);
  UniqueFd fd(::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return Error::make(Errc::not_found, fmt::format("container {:?} does not exist", id));
    return Error::sys("open " + d);
  }
  while (::flock(fd.get(), LOCK_EX) < 0)
    if (errno != EINTR) return Error::sys("lock " + d);
  // Deleted while we waited for the lock?
  struct stat st;
  if (::fstat(fd.get(), &st) == 0 && st.st_nlink == 0)
    return Error::make(Errc::not_found, fmt::format("container {:?} does not exist", id));
  return Locked(d, std::move(fd));
}

Result<State> StateStore::load(const std::string& id) const {
  auto bytes = read_file(dir(id) + "/state.json");
  if (!bytes) {
    if (bytes.error().sys_errno() == ENOENT) {
      struct stat st;
      if (::stat(dir(id).c_str(), &st) < 0)
        return Error::make(Errc::not_found, fmt::format("container {:?} does not exist", id));
      return Error::make(Errc::bad_state, fmt::format("container {:?} is still being created", id));
    }
    return std::move(bytes).error();
  }
  return state_from_json(*bytes).context(fmt::format("container {:?}", id));
}

Result<void> StateStore::save(const State& s) const {
  return write_file_atomic(dir(s.id) + "/state.json", to_json(s), 0600);
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
