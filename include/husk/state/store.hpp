// The state store: <root>/<id>/ holds state.json (written tmp + rename), exec.fifo and the
// lock. Commands on one id are serialised by flock(2) on the container directory.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/file.h>

#include "husk/core/error.hpp"
#include "husk/core/fd.hpp"
#include "husk/spec/model.hpp"
#include "husk/spec/oci_state.hpp"
#include "husk/state/cgroup_paths.hpp"

namespace husk::state {

// What husk remembers of a container between commands.
struct State {
  std::string id, oci_version, bundle, rootfs, created, owner;
  int pid = 0;
  uint64_t start_time = 0;  // /proc/<pid>/stat field 22
  std::map<std::string, std::string> annotations;
  CgroupPaths cgroup_paths;
  std::string cgroup_driver = "cgroupfs";  // the driver that made them (os/cgroups/driver.hpp)
  bool created_cgroup = false;             // husk made it, so delete removes it
  spec::Hooks hooks;                       // poststart/poststop from config.json at create time
  bool shared_pid_ns = false;              // no new pid namespace: kill --all / delete kill every pid
  bool no_new_keyring = false;             // create --no-new-keyring: exec joins no session keyring either
  bool no_process = false;                 // config.json had no process: start refuses
  // create has not finished (docs/reliability.md, crash-safe create): the record is
  // written as soon as the state dir exists and again once the init's pid is known, so
  // that a create killed at any instant leaves what delete needs to remove everything.
  bool creating = false;
};

// Its OCI fields with `status` and `pid` (spec/oci_state.hpp builds the JSON shapes).
spec::OciState oci_state(const State& s, std::string_view status, int pid);
std::string to_json(const State& s);
// The two ways to_json writes a record: directly, for a record of plain ASCII strings and no
// hooks (nullopt otherwise), and through nlohmann's object (any record). Exposed for the
// unit test that checks they agree.
std::optional<std::string> to_json_plain(const State& s);
std::string to_json_object(const State& s);
// Errors name `source` ("<dir>/state.json is corrupt: ..."); never throws.
Result<State> state_from_json(std::string_view bytes, std::string_view source = "state.json");

// An open, locked container directory. The destructor releases the lock (closing an fd).
class Locked {
 public:
  Locked(std::string dir, UniqueFd fd) : dir_(std::move(dir)), fd_(std::move(fd)) {}
  const std::string& dir() const { return dir_; }
  int fd() const { return fd_.get(); }
  // Drops the lock now, even while a child still holds a copy of the descriptor (flock
  // locks belong to the open file description, which a clone shares).
  void release() {
    if (fd_) ::flock(fd_.get(), LOCK_UN);
    fd_.reset();
  }

 private:
  std::string dir_;
  UniqueFd fd_;
};

// runc's text for an unknown container id (libcontainer ErrNotExist), printed as is:
// scripts compare it.
inline constexpr std::string_view kNoSuchContainer = "container does not exist";

class StateStore {
 public:
  explicit StateStore(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }
  std::string dir(const std::string& id) const { return root_ + "/" + id; }
  // What exec needs of the config create read (the exec record, spec/exec_record.hpp), and the
  // compiled seccomp program: the bundle's config.json may change or go away.
  std::string exec_config(const std::string& id) const { return dir(id) + "/exec.json"; }
  std::string exec_seccomp(const std::string& id) const { return dir(id) + "/seccomp.bpf"; }
  // Present once a process that may hold CAP_SYS_PTRACE over the host's user namespace
  // was let into the container: exec then runs from a sealed binary (os/self.hpp).
  std::string ptrace_marker(const std::string& id) const { return dir(id) + "/ptrace"; }

  // mkdir <root>/<id>; Errc::exists if taken. Returns it locked.
  Result<Locked> create(const std::string& id) const;
  // Whether another open of the container directory holds its lock (a command running on
  // it, e.g. the create that is making it).
  bool busy(const std::string& id) const;
  // Opens and locks an existing container directory; Errc::not_found if absent.
  Result<Locked> lock(const std::string& id) const;
  // A directory without state.json (a create killed before its first write) loads as a
  // bare `creating` record of that id; a `creating` state.json without a pid, as
  // recovery.json when that exists.
  Result<State> load(const std::string& id) const;
  Result<void> save(const State& s) const;
  // The `creating` record naming the init (pid, start time, cgroups, hooks) as
  // recovery.json, written once during create and never rewritten: load() prefers it to a
  // `creating` state.json without a pid (create does not rewrite state.json until it
  // finishes), and `delete --force` falls back on it when state.json was garbled or lost.
  Result<void> save_recovery(const State& s) const;
  Result<State> load_recovery(const std::string& id) const;
  // Removes the directory and everything in it.
  Result<void> remove(const std::string& id) const;
  Result<std::vector<std::string>> list() const;

 private:
  std::string root_;
};

}  // namespace husk::state
