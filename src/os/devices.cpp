#include "husk/os/devices.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "husk/core/path.hpp"
#include "husk/os/rootfs.hpp"
#include "husk/os/syscall.hpp"

namespace husk::os::devices {

namespace {

// What the image already has at a device's path (mknod said EEXIST), not followed: true if
// it is that very node (kept); false if the host node is to be bound over it (a regular
// file, another node); a symlink, a directory, or anything but a fifo where one is asked
// for is refused naming the path.
Result<bool> existing_node_kept(int parent, const std::string& name, const spec::DeviceOp& d, mode_t type) {
  struct stat st;
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return Error::sys(fmt::format("stat {}", d.path));
  if ((st.st_mode & S_IFMT) == type && (type == S_IFIFO || st.st_rdev == makedev(d.major, d.minor))) return true;
  if (type == S_IFIFO || S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode))
    return Error::make(Errc::invalid_spec, fmt::format("{} in the container root is a {}, not the device", d.path,
                                                       S_ISLNK(st.st_mode)   ? "symlink"
                                                       : S_ISDIR(st.st_mode) ? "directory"
                                                                             : "file"));
  return false;
}

}  // namespace

Result<void> apply_devices(int rootfd, const std::vector<spec::DeviceOp>& devs, bool in_userns) {
  for (auto& d : devs) {
    TRY_ASSIGN(auto parent, rootfs::ensure_in_root(rootfd, path::dirname(d.path), true));
    std::string name = path::basename(d.path);
    mode_t type = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
    bool bind = in_userns && d.type != 'p';
    if (!bind && ::mknodat(parent.get(), name.c_str(), type | (d.mode & 07777), makedev(d.major, d.minor)) < 0) {
      if (errno == EEXIST) {
        TRY_ASSIGN(bool kept, existing_node_kept(parent.get(), name, d, type));
        if (kept) continue;
      } else if (errno != EPERM) {
        return Error::sys(fmt::format("mknod {}", d.path));
      }
      bind = true;
    }
    if (bind) {
      // The host node of the same path, bound onto an empty file (an image's symlink or
      // directory there is refused, never followed).
      TRY_ASSIGN(auto target, rootfs::ensure_file_at(parent.get(), name, d.path));
      TRY_ASSIGN(auto tree, clone_tree(AT_FDCWD, d.path, false).context(fmt::format("bind device {}", d.path)));
      TRY(attach_tree(tree.get(), target.get(), d.path));
      continue;
    }
    // C runs with umask 0, so the node has its exact mode; it is ours (0:0) unless asked.
    if ((d.uid || d.gid) && ::fchownat(parent.get(), name.c_str(), d.uid, d.gid, AT_SYMLINK_NOFOLLOW) < 0)
      return Error::sys(fmt::format("chown {}", d.path));
  }
  return {};
}

Result<void> apply_dev_symlinks(int rootfd, bool has_devpts) {
  TRY_ASSIGN(auto dev, rootfs::ensure_in_root(rootfd, "/dev", true));
  struct Link {
    const char* target;
    const char* name;
  };
  std::vector<Link> links = {{"/proc/self/fd", "fd"},
                             {"/proc/self/fd/0", "stdin"},
                             {"/proc/self/fd/1", "stdout"},
                             {"/proc/self/fd/2", "stderr"}};
  if (::access("/proc/kcore", F_OK) == 0) links.push_back({"/proc/kcore", "core"});
  if (has_devpts) {
    // /dev/ptmx must point at the container's devpts instance.
    // (Whatever the image has there: a symlink is removed, never followed.)
    if (::unlinkat(dev.get(), "ptmx", 0) < 0 && errno != ENOENT) return Error::sys("remove /dev/ptmx");
    links.push_back({"pts/ptmx", "ptmx"});
  }
  for (auto& l : links)
    if (::symlinkat(l.target, dev.get(), l.name) < 0 && errno != EEXIST)
      return Error::sys(fmt::format("symlink /dev/{}", l.name));
  return {};
}

}  // namespace husk::os::devices
