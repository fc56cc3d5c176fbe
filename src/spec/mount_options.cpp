#include "husk/spec/mount_options.hpp"

#include <sys/mount.h>

#include <string_view>

#include "husk/core/syscall_compat.hpp"

namespace husk::spec {
namespace {

constexpr uint64_t kAttrRdonly = MOUNT_ATTR_RDONLY, kAttrNosuid = MOUNT_ATTR_NOSUID, kAttrNodev = MOUNT_ATTR_NODEV,
                   kAttrNoexec = MOUNT_ATTR_NOEXEC, kAttrAtimeMask = MOUNT_ATTR__ATIME,
                   kAttrRelatime = MOUNT_ATTR_RELATIME, kAttrNoatime = MOUNT_ATTR_NOATIME,
                   kAttrStrictatime = MOUNT_ATTR_STRICTATIME, kAttrNodiratime = MOUNT_ATTR_NODIRATIME,
                   kAttrNosymfollow = MOUNT_ATTR_NOSYMFOLLOW;

struct FlagEntry {
  std::string_view name;
  bool clear;  // the option clears the flag
  unsigned long flag;
};
constexpr FlagEntry kFlags[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"symfollow", true, MS_NOSYMFOLLOW},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
    {"bind", false, MS_BIND},
    {"rbind", false, MS_BIND | MS_REC},
};

struct PropEntry {
  std::string_view name;
  unsigned long flag;
};
constexpr PropEntry kProps[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

struct AttrEntry {
  std::string_view name;
  bool clear;
  uint64_t attr;
};
constexpr AttrEntry kAttrs[] = {
    {"rro", false, kAttrRdonly},
    {"rrw", true, kAttrRdonly},
    {"rnosuid", false, kAttrNosuid},
    {"rsuid", true, kAttrNosuid},
    {"rnodev", false, kAttrNodev},
    {"rdev", true, kAttrNodev},
    {"rnoexec", false, kAttrNoexec},
    {"rexec", true, kAttrNoexec},
    {"rnodiratime", false, kAttrNodiratime},
    {"rdiratime", true, kAttrNodiratime},
    {"rnosymfollow", false, kAttrNosymfollow},
    {"rsymfollow", true, kAttrNosymfollow},
};

}  // namespace

MountOptions parse_mount_options(const std::vector<std::string>& opts) {
  MountOptions m;
  for (const auto& o : opts) {
    bool done = false;
    for (auto& f : kFlags) {
      if (o == f.name) {
        if (f.clear) {
          m.flags &= ~f.flag;
          m.clear |= f.flag;
        } else {
          m.flags |= f.flag;
          m.clear &= ~f.flag;
        }
        done = true;
        break;
      }
    }
    if (done) continue;
    for (auto& p : kProps) {
      if (o == p.name) {
        m.propagation.push_back(p.flag);
        done = true;
        break;
      }
    }
    if (done) continue;
    for (auto& a : kAttrs) {
      if (o == a.name) {
        m.recursive_attrs = true;
        if (a.clear) {
          m.attr_clr |= a.attr;
          m.attr_set &= ~a.attr;
        } else {
          m.attr_set |= a.attr;
          m.attr_clr &= ~a.attr;
        }
        done = true;
        break;
      }
    }
    if (done) continue;
    // The atime family is one field: setting one replaces the others.
    auto atime = [&](uint64_t v) {
      m.recursive_attrs = true;
      m.attr_clr |= kAttrAtimeMask;
      m.attr_set = (m.attr_set & ~kAttrAtimeMask) | v;
    };
    if (o == "rrelatime") {
      atime(kAttrRelatime);
    } else if (o == "rnoatime") {
      atime(kAttrNoatime);
    } else if (o == "rstrictatime") {
      atime(kAttrStrictatime);
    } else if (o == "rnorelatime") {
      atime(kAttrStrictatime);  // the atime field has no "unset": not-relatime is strict
    } else if (o == "ratime" || o == "rnostrictatime") {
      atime(kAttrRelatime);  // back to the kernel default
    } else if (o == "tmpcopyup") {
      m.tmpcopyup = true;
    } else if (o == "idmap" || o == "ridmap") {
      m.idmap = true;
      if (o == "ridmap") m.idmap_recursive = true;
    } else {
      if (!m.data.empty()) m.data += ',';
      m.data += o;
    }
  }
  return m;
}

std::vector<std::string> known_mount_options() {
  std::vector<std::string> out;
  for (auto& f : kFlags) out.emplace_back(f.name);
  for (auto& p : kProps) out.emplace_back(p.name);
  for (auto& a : kAttrs) out.emplace_back(a.name);
  for (auto s : {"rrelatime", "rnorelatime", "rnoatime", "ratime", "rstrictatime", "rnostrictatime", "tmpcopyup",
                 "idmap", "ridmap"})
    out.emplace_back(s);
  return out;
}

}  // namespace husk::spec
