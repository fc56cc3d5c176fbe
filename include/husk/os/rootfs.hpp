// The container's filesystem: root propagation and bind, every mount of the plan with its
// destination resolved inside the rootfs (openat2 RESOLVE_IN_ROOT: a symlink in the image
// never redirects a mount onto the host), pivot_root, masked/readonly paths.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/core/fd.hpp"
#include "husk/spec/plan.hpp"

namespace husk::os::rootfs {

// One cgroup hierarchy as the container should see it at a `cgroup` mount.
struct CgroupView {
  std::string subdir;      // "memory", "cpu,cpuacct", "systemd", "unified"
  std::string host_dir;    // the container's cgroup directory on the host
  std::string mount_data;  // "memory", "none,name=systemd"; "" for v2
  bool v2 = false;
  std::vector<std::string> aliases;  // symlinks for co-mounted controllers
};

struct Context {
  int rootfd = -1;  // O_PATH of the (bound) rootfs
  bool in_userns = false;
  bool cgroupns = false;
  std::vector<CgroupView> cgroups;
};

Result<UniqueFd> open_in_root(int rootfd, const std::string& path, int flags);
// mkdir -p (or create an empty file as last component) inside the root; returns O_PATH.
Result<UniqueFd> ensure_in_root(int rootfd, const std::string& path, bool dir);
// `name` in the directory `dirfd` as a mount target for a file (O_PATH), made empty (0644)
// if missing, never followed: a symlink or a directory there is refused, naming `shown`
// (the image's /dev/console or /dev/null pointing elsewhere).
Result<UniqueFd> ensure_file_at(int dirfd, const std::string& name, const std::string& shown);

// Propagation of "/" and the bind of the rootfs onto itself; returns the rootfs O_PATH fd.
Result<UniqueFd> prepare_root(const spec::ContainerPlan& p);
// `premade`: for a bind, the tree bind_source_tree made (C still sets the flags and attaches
// it), or -1.
Result<void> apply_mount(const Context& ctx, const spec::MountOp& m, int premade = -1);
// With a new user namespace, P clones each bind source (recursively for rbind) before the
// clone, from the runtime's view: C, the namespace's root, may not reach the path (runc
// 1.1.5's mountFds).
Result<UniqueFd> bind_source_tree(const spec::MountOp& m);
// An idmapped mount: `tree` is the detached tree P prepared (runtime/spec13.cpp); attached
// on the destination resolved inside the root, then propagation and recursive attributes.
Result<void> attach_mount(const Context& ctx, const spec::MountOp& m, int tree);
// --no-pivot: first every full procfs and sysfs mount outside `rootfs` is unmounted (or, when
// it cannot be, covered with an empty tmpfs), as runc's msMoveRoot: a host /proc left in the
// mount namespace would let a nested user namespace mount a fresh procfs. Then MS_MOVE + chroot.
Result<void> pivot(const std::string& rootfs, bool no_pivot);
// The mount points of /proc/self/mountinfo text that --no-pivot hides: procfs and sysfs
// mounts of a whole file system (root "/") not at or below `rootfs` (octal escapes decoded).
std::vector<std::string> revealing_mounts(std::string_view mountinfo, std::string_view rootfs);
// After pivot_root:
Result<void> apply_masked_paths(const std::vector<std::string>& paths);
Result<void> apply_readonly_paths(const std::vector<std::string>& paths);
Result<void> apply_readonly_root();
// The read-only tmpfs mounts (and a read-only /dev), mounted read-write so that what is
// nested under them could be made, made read-only now (after the console).
Result<void> apply_readonly_tmpfs(const std::vector<spec::MountOp>& mounts);
Result<void> apply_root_propagation(unsigned long flags);

}  // namespace husk::os::rootfs
