#include "husk/os/idmap.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "husk/core/syscall_compat.hpp"
#include "husk/os/syscall.hpp"

namespace husk::os::idmap {

std::string map_text(const std::vector<spec::IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps) out += fmt::format("{} {} {}\n", m.container_id, m.host_id, m.size);
  return out;
}

namespace {

// Reaps the child that holds the namespace: closing the pipe lets it exit.
struct Holder {
  pid_t pid = -1;
  UniqueFd release;
  ~Holder() {
    release.reset();
    if (pid > 0)
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
  }
};

}  // namespace

Result<UniqueFd> make_userns(const std::vector<spec::IdMapping>& uid_maps,
                             const std::vector<spec::IdMapping>& gid_maps) {
  if (uid_maps.empty() || gid_maps.empty())
    return Error::make(Errc::invalid_argument, "idmapped mount: both uid and gid mappings are needed");
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return Error::sys("pipe2");
  UniqueFd rd(p[0]);
  Holder h;
  h.release = UniqueFd(p[1]);
  long pid = sys_clone3(CLONE_NEWUSER, SIGCHLD, -1);
  if (pid < 0) return Error::sys("clone3(CLONE_NEWUSER) for an idmapped mount");
  if (pid == 0) {
    // The child only waits until the parent has opened its namespace.
    ::close(p[1]);
    char c;
    while (::read(p[0], &c, 1) < 0 && errno == EINTR) {
    }
    ::_exit(0);
  }
  h.pid = static_cast<pid_t>(pid);
  rd.reset();
  TRY(write_file(fmt::format("/proc/{}/uid_map", pid), map_text(uid_maps)).context("idmapped mount: uid_map"));
  TRY(write_file(fmt::format("/proc/{}/gid_map", pid), map_text(gid_maps)).context("idmapped mount: gid_map"));
  int fd = ::open(fmt::format("/proc/{}/ns/user", pid).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::sys("open the idmapped mount's user namespace");
  return UniqueFd(fd);
}

namespace {
Result<void> set_idmap(int tree, const Request& req, int userns_fd, std::string_view what) {
  MountAttr attr;
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  unsigned at = AT_EMPTY_PATH | (req.recursive_idmap ? AT_RECURSIVE : 0u);
  if (sys_mount_setattr(tree, "", at, attr) < 0) {
    int e = errno;
    if (e == EINVAL)
      return Error::sys(fmt::format("{}: the filesystem of {} does not support idmapped mounts on this kernel "
                                    "(mount_setattr MOUNT_ATTR_IDMAP)",
                                    what, req.source),
                        e);
    return Error::sys(fmt::format("{}: mount_setattr MOUNT_ATTR_IDMAP on {}", what, req.source), e);
  }
  return {};
}
}  // namespace

Result<UniqueFd> idmapped_tree(const Request& req, int userns_fd, std::string_view what) {
  unsigned flags = OPEN_TREE_CLONE | O_CLOEXEC | (req.recursive_tree ? AT_RECURSIVE : 0u);
  int fd = sys_open_tree(AT_FDCWD, req.source.c_str(), flags);
  if (fd < 0) return Error::sys(fmt::format("{}: open_tree {}", what, req.source));
  UniqueFd tree(fd);
  TRY(set_idmap(tree.get(), req, userns_fd, what));
  return tree;
}

Result<UniqueFd> idmapped_fs(const std::string& type, const std::string& data, int userns_fd, std::string_view what) {
  constexpr unsigned kSetFlag = 0, kSetString = 1;  // FSCONFIG_SET_FLAG / _STRING
  int fs = static_cast<int>(::syscall(SYS_fsopen, type.c_str(), FSOPEN_CLOEXEC));
  if (fs < 0) return Error::sys(fmt::format("{}: fsopen {}", what, type));
  UniqueFd fsfd(fs);
  size_t pos = 0;
  while (pos < data.size()) {
    size_t comma = data.find(',', pos);
    std::string opt = data.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? data.size() : comma + 1;
    if (opt.empty()) continue;
    size_t eq = opt.find('=');
    long r = eq == std::string::npos
                 ? ::syscall(SYS_fsconfig, fs, kSetFlag, opt.c_str(), nullptr, 0)
                 : ::syscall(SYS_fsconfig, fs, kSetString, opt.substr(0, eq).c_str(), opt.substr(eq + 1).c_str(), 0);
    if (r < 0) return Error::sys(fmt::format("{}: {} option {:?}", what, type, opt));
  }
  if (::syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
    return Error::sys(fmt::format("{}: create {}", what, type));
  int m = static_cast<int>(::syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0));
  if (m < 0) return Error::sys(fmt::format("{}: fsmount {}", what, type));
  UniqueFd tree(m);
  TRY(set_idmap(tree.get(), Request{type, false, false}, userns_fd, what));
  return tree;
}

Result<void> attach(int tree_fd, const std::string& target, std::string_view what) {
  if (sys_move_mount(tree_fd, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return Error::sys(fmt::format("{}: move_mount onto {}", what, target));
  return {};
}

namespace {

// Sets MOUNT_ATTR_IDMAP on a detached tree with a throwaway 0 -> 65534 mapping.
bool can_idmap(int tree) {
  std::vector<spec::IdMapping> m{{0, 65534, 1}};
  auto ns = make_userns(m, m);
  if (!ns) return false;
  MountAttr attr;
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(ns->get());
  return sys_mount_setattr(tree, "", AT_EMPTY_PATH, attr) == 0;
}

}  // namespace

bool probe_bind(const std::string& dir) {
  int fd = sys_open_tree(AT_FDCWD, dir.c_str(), OPEN_TREE_CLONE | O_CLOEXEC);
  if (fd < 0) return false;
  UniqueFd tree(fd);
  return can_idmap(tree.get());
}

bool probe_tmpfs() {
  int fs = sys_fsopen("tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0) return false;
  UniqueFd fsfd(fs);
  if (sys_fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) return false;
  int m = sys_fsmount(fs, FSMOUNT_CLOEXEC, 0);
  if (m < 0) return false;
  UniqueFd tree(m);
  return can_idmap(tree.get());
}

}  // namespace husk::os::idmap
