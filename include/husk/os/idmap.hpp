// Idmapped mounts (runtime-spec 1.3 mounts[].uidMappings/gidMappings, options idmap/ridmap):
// a user namespace fd made for the mount's mappings, a detached clone of the source tree
// with MOUNT_ATTR_IDMAP set, attached on the target.
//
// Mapping direction (kernel, mount_setattr(2)): a file whose on-disk owner is `containerID`
// appears, through the mount, owned by `hostID`; a file created through the mount by
// `hostID` is stored as `containerID`.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/core/fd.hpp"
#include "husk/spec/model.hpp"

namespace husk::os::idmap {

// "containerID hostID size\n" per mapping: the text /proc/<pid>/{uid,gid}_map takes.
std::string map_text(const std::vector<spec::IdMapping>& maps);

// A user namespace with these mappings, held by an fd (no process left behind): a child
// made in a new user namespace waits while the caller writes its maps, the caller opens
// /proc/<child>/ns/user, then the child exits and is reaped. Needs CAP_SETUID/CAP_SETGID
// over the mapped host ids (root).
Result<UniqueFd> make_userns(const std::vector<spec::IdMapping>& uid_maps,
                             const std::vector<spec::IdMapping>& gid_maps);

struct Request {
  std::string source;    // host path (a bind source)
  bool recursive_tree;   // rbind: clone the whole tree (open_tree AT_RECURSIVE)
  bool recursive_idmap;  // ridmap: MOUNT_ATTR_IDMAP on every mount of the tree (AT_RECURSIVE)
};

// A detached, idmapped clone of `req.source` (open_tree OPEN_TREE_CLONE + mount_setattr
// MOUNT_ATTR_IDMAP with userns_fd). EINVAL from mount_setattr says the filesystem does
// not support idmapped mounts on this kernel; the error says so and names `what`.
Result<UniqueFd> idmapped_tree(const Request& req, int userns_fd, std::string_view what);

// A new detached filesystem of `type` (tmpfs, ...) with the comma-separated `data`
// options (fsopen/fsconfig/fsmount), idmapped like idmapped_tree.
Result<UniqueFd> idmapped_fs(const std::string& type, const std::string& data, int userns_fd, std::string_view what);

// Attaches a detached tree on `target` (move_mount).
Result<void> attach(int tree_fd, const std::string& target, std::string_view what);

// features: can this kernel idmap a bind of `dir` (its filesystem)? Makes a detached
// clone and sets MOUNT_ATTR_IDMAP on it; nothing is attached, nothing left behind.
bool probe_bind(const std::string& dir);
// ... and a fresh detached tmpfs (fsopen/fsmount).
bool probe_tmpfs();

}  // namespace husk::os::idmap
