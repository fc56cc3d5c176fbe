// The mount option table: OCI `mounts[].options` -> mount(2) flags, propagation,
// mount_setattr(2) recursive attributes and filesystem data. Pure; unit-tested.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace husk::spec {

struct MountOptions {
  unsigned long flags = 0;                 // MS_* to set
  unsigned long clear = 0;                 // MS_* explicitly cleared ("rw", "suid", ...)
  std::vector<unsigned long> propagation;  // MS_SHARED/MS_PRIVATE/... (| MS_REC)
  uint64_t attr_set = 0, attr_clr = 0;     // MOUNT_ATTR_* applied recursively
  bool recursive_attrs = false;
  bool tmpcopyup = false;
  bool idmap = false;            // "idmap" or "ridmap" (never passed to mount(2))
  bool idmap_recursive = false;  // "ridmap": every mount of the tree is idmapped
  std::string data;              // comma-joined filesystem options
};

MountOptions parse_mount_options(const std::vector<std::string>& opts);
// Flags mount(2) accepts for an MS_REMOUNT|MS_BIND of a bind mount.
inline constexpr unsigned long kBindRemountMask = 0x1 /*RDONLY*/ | 0x2 /*NOSUID*/ | 0x4 /*NODEV*/ | 0x8 /*NOEXEC*/ |
                                                  0x400 /*NOATIME*/ | 0x800 /*NODIRATIME*/ | 0x200000 /*RELATIME*/ |
                                                  0x1000000 /*STRICTATIME*/ | 0x100 /*NOSYMFOLLOW*/;
// Every option name the table knows (for `husk features`).
std::vector<std::string> known_mount_options();

}  // namespace husk::spec
