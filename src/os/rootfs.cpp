#include "husk/os/rootfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <climits>
#include <cstdlib>

#include "husk/core/log.hpp"
#include "husk/core/path.hpp"
#include "husk/core/syscall_compat.hpp"
#include "husk/os/mountinfo.hpp"
#include "husk/os/syscall.hpp"

namespace husk::os::rootfs {
namespace {

Result<void> copy_tree(int from, int to);

// Locked flags of a mount (inherited into a user namespace: they cannot be cleared, and
// its atime mode cannot change): read-only, nosuid, nodev, noexec and the atime mode.
unsigned long mount_flags_of(int fd) {
  struct statvfs sv;
  if (::fstatvfs(fd, &sv) < 0) return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME)
    f |= MS_NOATIME;
  else if (sv.f_flag & ST_RELATIME)
    f |= MS_RELATIME;
  else
    f |= MS_STRICTATIME;
  return f;
}

constexpr unsigned long kAtimeModes = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;

std::string_view flag_name(unsigned long f, bool cleared) {
  switch (f) {
    case MS_RDONLY:
      return cleared ? "rw" : "ro";
    case MS_NOSUID:
      return cleared ? "suid" : "nosuid";
    case MS_NODEV:
      return cleared ? "dev" : "nodev";
    case MS_NOEXEC:
      return cleared ? "exec" : "noexec";
    case MS_NOATIME:
      return "noatime";
    case MS_RELATIME:
      return "relatime";
    default:
      return "strictatime";
  }
}

// In a user namespace the kernel refuses (EPERM) to clear a locked flag or to change the
// locked atime mode: after that EPERM, say which (runc's "cannot clear locked flags" / "cannot change
// locked atime flags").
Result<void> check_locked(const spec::MountOp& m, unsigned long locked) {
  for (unsigned long f : {MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC})
    if ((locked & f) && (m.opts.clear & f))
      return Error::make(Errc::invalid_spec,
                         fmt::format("option {:?} clears the locked flag {:?} of the source's mount (inherited "
                                     "into the user namespace)",
                                     flag_name(f, true), flag_name(f, false)));
  unsigned long want = m.opts.flags & kAtimeModes, have = locked & kAtimeModes;
  if (want && have && !(want & have))
    return Error::make(Errc::invalid_spec,
                       fmt::format("option {:?} changes the locked atime flag {:?} of the source's mount "
                                   "(inherited into the user namespace)",
                                   flag_name(want, false), flag_name(have, false)));
  return {};
}

// `premade`: the tree P cloned before the user namespace existed (bind_source_tree), or -1:
// clone the source here.
Result<void> bind_mount(const Context& ctx, const spec::MountOp& m, int premade) {
  struct stat st;
  if (premade >= 0 ? ::fstat(premade, &st) < 0 : ::stat(m.source.c_str(), &st) < 0)
    return Error::sys(fmt::format("bind source {}", m.source));
  TRY_ASSIGN(auto target, ensure_in_root(ctx.rootfd, m.destination, S_ISDIR(st.st_mode)));
  bool rec = m.opts.flags & MS_REC;
  UniqueFd own;
  if (premade < 0) {
    TRY_ASSIGN(own, clone_tree(AT_FDCWD, m.source, rec));
  }
  int tree = premade >= 0 ? premade : own.get();
  uint64_t set = 0, clr = 0;
  unsigned long want = m.opts.flags & spec::kBindRemountMask;
  unsigned long locked = ctx.in_userns ? mount_flags_of(tree) : 0;
  // P's clone carries no lock (it was made outside the user namespace): refuse what the
  // kernel would refuse on a clone made in here, as runc does with its mountFds.
  if (premade >= 0 && locked) TRY(check_locked(m, locked));
  want |= locked & ~(m.opts.clear | kAtimeModes);
  ms_to_attr(want, m.opts.clear, set, clr);
  // Plain ro/nosuid/... apply to the top mount, as MS_REMOUNT does for runc.
  if (auto r = set_mount_attrs(tree, set, clr, false, m.destination); !r) {
    if (r.error().sys_errno() == EPERM && locked) TRY(check_locked(m, locked));
    return std::move(r).error();
  }
  return attach_tree(tree, target.get(), m.destination);
}

// A bind of the container's cgroup directory on the host at `target`.
Result<void> bind_view(const CgroupView& v, int target, unsigned long flags, const std::string& where) {
  TRY_ASSIGN(auto tree, clone_tree(AT_FDCWD, v.host_dir, false));
  uint64_t set = 0, clr = 0;
  ms_to_attr(flags, 0, set, clr);
  TRY(set_mount_attrs(tree.get(), set, clr, false, where));
  return attach_tree(tree.get(), target, where);
}

// A cgroup mount refused in a user namespace (EPERM; EBUSY: the hierarchy's superblock
// belongs to another user namespace): bind the container's cgroup instead, as runc does.
bool view_bind_fallback(const Context& ctx, const Error& e) {
  bool fallback = ctx.in_userns && (e.sys_errno() == EPERM || e.sys_errno() == EBUSY);
  if (fallback) log::debug("cgroup mount: {}; binding the container's cgroup instead", e.describe());
  return fallback;
}

// /sys/fs/cgroup: a tmpfs holding one directory per hierarchy; each is a fresh cgroup
// mount inside a cgroup namespace, or a bind of the container's own cgroup otherwise.
Result<void> cgroup_mount(const Context& ctx, const spec::MountOp& m) {
  TRY_ASSIGN(auto target, ensure_in_root(ctx.rootfd, m.destination, true));
  unsigned long flags = m.opts.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME | MS_NOATIME | MS_STRICTATIME);
  bool only_v2 = ctx.cgroups.size() == 1 && ctx.cgroups[0].v2;
  if (only_v2) {
    auto& v = ctx.cgroups[0];
    if (ctx.cgroupns) {
      auto r = os::mount("cgroup2", fd_path(target.get()), "cgroup2", flags | (m.opts.flags & MS_RDONLY), "");
      if (r || !view_bind_fallback(ctx, r.error())) return r;
    }
    return bind_view(v, target.get(), flags | (m.opts.flags & MS_RDONLY), m.destination);
  }
  TRY(os::mount("tmpfs", fd_path(target.get()), "tmpfs", flags, "mode=755"));
  TRY_ASSIGN(auto top, open_in_root(ctx.rootfd, m.destination, O_PATH | O_DIRECTORY));
  for (auto& v : ctx.cgroups) {
    if (::mkdirat(top.get(), v.subdir.c_str(), 0755) < 0 && errno != EEXIST)
      return Error::sys(fmt::format("mkdir {}/{}", m.destination, v.subdir));
    UniqueFd sub(::openat(top.get(), v.subdir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) return Error::sys(fmt::format("open {}/{}", m.destination, v.subdir));
    std::string where = m.destination + "/" + v.subdir;
    bool mounted = false;
    if (ctx.cgroupns) {
      auto r = os::mount("cgroup", fd_path(sub.get()), v.v2 ? "cgroup2" : "cgroup", flags | (m.opts.flags & MS_RDONLY),
                         v.mount_data);
      if (!r && !view_bind_fallback(ctx, r.error())) return std::move(r).error().context(where);
      mounted = bool(r);
    }
    if (!mounted) TRY(bind_view(v, sub.get(), flags | (m.opts.flags & MS_RDONLY), where));
    for (auto& a : v.aliases)
      if (::symlinkat(v.subdir.c_str(), top.get(), a.c_str()) < 0 && errno != EEXIST)
        return Error::sys(fmt::format("symlink {}/{}", m.destination, a));
  }
  if (m.opts.flags & MS_RDONLY) {
    TRY_ASSIGN(auto again, open_in_root(ctx.rootfd, m.destination, O_PATH | O_DIRECTORY));
    TRY(set_mount_attrs(again.get(), MOUNT_ATTR_RDONLY, 0, false, m.destination));
  }
  return {};
}

// procfs and sysfs only on a real directory: a symlink in the image (/proc -> somewhere)
// would move them where path-based LSM rules on /proc no longer apply (CVE-2019-16884).
// As runc, the last component is checked without following it.
Result<void> check_ordinary_dir(const Context& ctx, const spec::MountOp& m) {
  if (m.type != "proc" && m.type != "sysfs") return {};
  std::string dest = path::clean("/" + m.destination);
  if (dest == "/") return {};
  // The usual /proc and /sys sit right in the root: no parent to open.
  std::string up = path::dirname(dest);
  int at = ctx.rootfd;
  UniqueFd parent;
  if (up != "/") {
    auto p = open_in_root(ctx.rootfd, up, O_PATH | O_DIRECTORY);
    if (!p) return {};  // created below, as a directory
    parent = std::move(*p);
    at = parent.get();
  }
  struct stat st {};
  if (::fstatat(at, path::basename(dest).c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return {};
  if (!S_ISDIR(st.st_mode))
    return Error::make(Errc::invalid_spec,
                       fmt::format("filesystem \"{}\" must be mounted on ordinary directory", m.type));
  return {};
}

bool delayed_readonly(const spec::MountOp& m) {
  return !m.bind && (m.opts.flags & MS_RDONLY) && (m.type == "tmpfs" || path::clean("/" + m.destination) == "/dev");
}

Result<void> fs_mount(const Context& ctx, const spec::MountOp& m) {
  TRY(check_ordinary_dir(ctx, m));
  TRY_ASSIGN(auto target, ensure_in_root(ctx.rootfd, m.destination, true));
  UniqueFd old;
  if (m.opts.tmpcopyup) {
    old.reset(::openat(target.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!old) return Error::sys(fmt::format("open {} for tmpcopyup", m.destination));
  }
  unsigned long flags = m.opts.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  // A read-only tmpfs (or /dev) is mounted read-write: nested mounts, devices and the
  // console need it writable; apply_readonly_tmpfs makes it read-only at the end (runc).
  if (delayed_readonly(m)) flags &= ~MS_RDONLY;
  auto r = os::mount(m.source, fd_path(target.get()), m.type.c_str(), flags, m.opts.data);
  if (!r && r.error().sys_errno() == EPERM && (m.type == "sysfs" || m.type == "mqueue")) {
    // Without a netns (sysfs) or ipc ns of our own (mqueue) inside a user namespace the
    // kernel refuses a new instance: bind the host's, as runc does.
    log::debug("mount {} on {}: EPERM, falling back to a bind mount", m.type, m.destination);
    spec::MountOp b = m;
    b.source = m.type == "sysfs" ? "/sys" : "/dev/mqueue";
    b.bind = true;
    b.opts.flags = (m.opts.flags | MS_BIND | MS_REC) & ~MS_REMOUNT;
    return bind_mount(ctx, b, -1);
  }
  TRY(std::move(r).context(m.destination));
  if (m.opts.tmpcopyup) {
    TRY_ASSIGN(auto fresh, open_in_root(ctx.rootfd, m.destination, O_RDONLY | O_DIRECTORY));
    TRY(copy_tree(old.get(), fresh.get()).context(fmt::format("tmpcopyup {}", m.destination)));
  }
  return {};
}

Result<void> copy_tree(int from, int to) {
  int dfd = ::dup(from);
  if (dfd < 0) return Error::sys("dup");
  DIR* d = ::fdopendir(dfd);
  if (!d) {
    ::close(dfd);
    return Error::sys("fdopendir");
  }
  ::rewinddir(d);
  Result<void> res;
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st;
    if (::fstatat(from, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(to, e->d_name, st.st_mode & 07777) < 0 && errno != EEXIST) {
        res = Error::sys(std::string(n));
        break;
      }
      UniqueFd a(::openat(from, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd b(::openat(to, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!a || !b) {
        res = Error::sys(std::string(n));
        break;
      }
      if (auto r = copy_tree(a.get(), b.get()); !r) {
        res = std::move(r);
        break;
      }
    } else if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t l = ::readlinkat(from, e->d_name, buf, sizeof buf - 1);
      if (l < 0) continue;
      buf[l] = 0;
      ::symlinkat(buf, to, e->d_name);
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd a(::openat(from, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd b(::openat(to, e->d_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777));
      if (!a || !b) {
        res = Error::sys(std::string(n));
        break;
      }
      char buf[65536];
      ssize_t k;
      while ((k = ::read(a.get(), buf, sizeof buf)) > 0)
        if (!write_all(b.get(), std::string_view(buf, static_cast<size_t>(k)))) break;
    } else {
      ::mknodat(to, e->d_name, st.st_mode, st.st_rdev);
    }
    ::fchownat(to, e->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
  }
  ::closedir(d);
  return res;
}

}  // namespace

Result<UniqueFd> open_in_root(int rootfd, const std::string& p, int flags) {
  std::string rel = path::clean("/" + p);
  int fd = sys_openat2(rootfd, rel.c_str(), static_cast<uint64_t>(flags | O_CLOEXEC), 0,
                       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0) return Error::sys(fmt::format("open {} in the container root", rel));
  return UniqueFd(fd);
}

static Result<UniqueFd> ensure_in_root_at(int rootfd, const std::string& p, bool dir, int depth) {
  if (depth > 40) return Error::make(Errc::invalid_spec, fmt::format("{}: too many levels of symbolic links", p));
  auto comps = path::components(p);
  int dupfd = ::fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
  if (dupfd < 0) return Error::sys("dup rootfd");
  UniqueFd cur(dupfd);
  std::string prefix;
  for (size_t i = 0; i < comps.size(); ++i) {
    prefix += "/" + comps[i];
    int fd = sys_openat2(rootfd, prefix.c_str(), O_PATH | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd < 0 && errno == ENOENT) {
      bool last = i + 1 == comps.size();
      int r;
      if (!last || dir) {
        r = ::mkdirat(cur.get(), comps[i].c_str(), 0755);
      } else {
        r = ::openat(cur.get(), comps[i].c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (r >= 0) ::close(r);
      }
      if (r < 0 && errno == EEXIST) {
        // The name exists but does not resolve: a dangling symlink. Its target is made
        // inside the root (never on the host), then the walk continues from there.
        char buf[4096];
        ssize_t n = ::readlinkat(cur.get(), comps[i].c_str(), buf, sizeof buf - 1);
        if (n > 0) {
          std::string target(buf, static_cast<size_t>(n));
          std::string base = target[0] == '/' ? target : path::dirname(prefix) + "/" + target;
          for (size_t k = i + 1; k < comps.size(); ++k) base += "/" + comps[k];
          return ensure_in_root_at(rootfd, path::clean(base), dir, depth + 1);
        }
      } else if (r < 0) {
        return Error::sys(fmt::format("create {} in the container root", prefix));
      }
      fd = sys_openat2(rootfd, prefix.c_str(), O_PATH | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    }
    if (fd < 0) return Error::sys(fmt::format("resolve {} in the container root", prefix));
    cur.reset(fd);
  }
  return cur;
}

Result<UniqueFd> ensure_in_root(int rootfd, const std::string& p, bool dir) {
  // Most destinations exist already (/proc, /sys, /dev in the image): one resolution.
  int fd =
      sys_openat2(rootfd, path::clean("/" + p).c_str(), O_PATH | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd >= 0) return UniqueFd(fd);
  if (errno != ENOENT) return Error::sys(fmt::format("resolve {} in the container root", p));
  return ensure_in_root_at(rootfd, p, dir, 0);
}

Result<UniqueFd> ensure_file_at(int dirfd, const std::string& name, const std::string& shown) {
  UniqueFd fd(::openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd && errno == ENOENT) {
    int f = ::openat(dirfd, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f < 0) return Error::sys(fmt::format("create {} in the container root", shown));
    ::close(f);
    fd.reset(::openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  }
  if (!fd) return Error::sys(fmt::format("open {} in the container root", shown));
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) return Error::sys(fmt::format("stat {} in the container root", shown));
  if (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode))
    return Error::make(Errc::invalid_spec, fmt::format("{} in the container root is a {}, not a file to mount on",
                                                       shown, S_ISLNK(st.st_mode) ? "symlink" : "directory"));
  return fd;
}

Result<UniqueFd> prepare_root(const spec::ContainerPlan& p) {
  TRY(os::mount("", "/", nullptr, p.prepare_propagation, "").context("rootfs propagation"));
  // pivot_root needs the rootfs to be a mount point: bind it onto itself.
  TRY(os::mount(p.rootfs, p.rootfs, nullptr, MS_BIND | MS_REC, "").context(fmt::format("bind rootfs {}", p.rootfs)));
  UniqueFd fd(::open(p.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return Error::sys(fmt::format("open rootfs {}", p.rootfs));
  return fd;
}

namespace {
// Propagation and recursive attributes (rro, ...) of a mount, once it is attached.
Result<void> finish_mount(const Context& ctx, const spec::MountOp& m) {
  if (m.opts.propagation.empty() && !m.opts.recursive_attrs) return {};
  TRY_ASSIGN(auto fd, open_in_root(ctx.rootfd, m.destination, O_PATH));
  for (auto prop : m.opts.propagation)
    TRY(os::mount("", fd_path(fd.get()), nullptr, prop, "").context(fmt::format("propagation of {}", m.destination)));
  if (m.opts.recursive_attrs) TRY(set_mount_attrs(fd.get(), m.opts.attr_set, m.opts.attr_clr, true, m.destination));
  return {};
}

// A masked or read-only path below the container's root (O_PATH, no symlink followed out of
// it); an empty fd when the path does not exist: both lists skip it, as runc.
Result<UniqueFd> open_listed_path(int root, const std::string& p, std::string_view what) {
  int fd = sys_openat2(root, path::clean("/" + p).c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC, 0,
                       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0 && errno != ENOENT) return Error::sys(fmt::format("{} {}", what, p));
  return UniqueFd(fd);
}
}  // namespace

Result<UniqueFd> bind_source_tree(const spec::MountOp& m) {
  auto what = fmt::format("mount {} on {}", m.source, m.destination);
  struct stat st;
  if (::stat(m.source.c_str(), &st) < 0) return Error::sys(fmt::format("bind source {}", m.source)).context(what);
  return clone_tree(AT_FDCWD, m.source, (m.opts.flags & MS_REC) != 0).context(what);
}

Result<void> apply_mount(const Context& ctx, const spec::MountOp& m, int premade) {
  Result<void> r = m.type == "cgroup" ? cgroup_mount(ctx, m) : m.bind ? bind_mount(ctx, m, premade) : fs_mount(ctx, m);
  TRY(std::move(r).context(fmt::format("mount {} on {}", m.bind ? m.source : m.type, m.destination)));
  return finish_mount(ctx, m);
}

Result<void> attach_mount(const Context& ctx, const spec::MountOp& m, int tree) {
  bool dir = true;
  if (m.bind) {
    struct stat st;
    if (::stat(m.source.c_str(), &st) < 0) return Error::sys(fmt::format("bind source {}", m.source));
    dir = S_ISDIR(st.st_mode);
  }
  TRY_ASSIGN(auto target, ensure_in_root(ctx.rootfd, m.destination, dir));
  TRY(attach_tree(tree, target.get(), m.destination)
          .context(fmt::format("idmapped mount {} on {}", m.bind ? m.source : m.type, m.destination)));
  return finish_mount(ctx, m);
}

namespace {
Result<void> hide_revealing_mounts(const std::string& rootfs) {
  TRY_ASSIGN(auto text, read_file("/proc/self/mountinfo"));
  char real[PATH_MAX];
  std::string root = ::realpath(rootfs.c_str(), real) ? std::string(real) : rootfs;
  for (auto& p : revealing_mounts(text, root)) {
    // The unmount must not reach the host: the mount becomes a slave first.
    if (::mount("", p.c_str(), nullptr, MS_SLAVE | MS_REC, nullptr) < 0 && errno != ENOENT && errno != EINVAL)
      return Error::sys(fmt::format("--no-pivot: make {} a slave", p));
    if (::umount2(p.c_str(), MNT_DETACH) == 0 || errno == ENOENT) continue;
    if (errno != EINVAL && errno != EPERM) return Error::sys(fmt::format("--no-pivot: unmount {}", p));
    // Not ours to unmount (a locked mount): cover it, as runc.
    if (::mount("tmpfs", p.c_str(), "tmpfs", 0, nullptr) < 0 && errno != ENOENT)
      return Error::sys(fmt::format("--no-pivot: cover {} with a tmpfs", p));
  }
  return {};
}
}  // namespace

std::vector<std::string> revealing_mounts(std::string_view mountinfo, std::string_view rootfs) {
  std::vector<std::string> out;
  for (auto& e : os::mountinfo::parse(mountinfo))
    if (e.root == "/" && (e.fstype == "proc" || e.fstype == "sysfs") && !path::is_within(rootfs, e.mountpoint))
      out.push_back(std::move(e.mountpoint));
  return out;
}

Result<void> pivot(const std::string& rootfs, bool no_pivot) {
  if (no_pivot) {
    TRY(hide_revealing_mounts(rootfs));
    if (::chdir(rootfs.c_str()) < 0) return Error::sys("chdir " + rootfs);
    TRY(os::mount(rootfs, "/", nullptr, MS_MOVE, "").context("move rootfs to /"));
    if (::chroot(".") < 0) return Error::sys("chroot");
    if (::chdir("/") < 0) return Error::sys("chdir /");
    return {};
  }
  UniqueFd oldroot(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  UniqueFd newroot(::open(rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!oldroot || !newroot) return Error::sys("open roots for pivot_root");
  if (::fchdir(newroot.get()) < 0) return Error::sys("chdir rootfs");
  if (sys_pivot_root(".", ".") < 0) return Error::sys("pivot_root");
  // The old root is stacked under "/" now: detach it without propagating to the host.
  if (::fchdir(oldroot.get()) < 0) return Error::sys("chdir old root");
  TRY(os::mount("", ".", nullptr, MS_SLAVE | MS_REC, "").context("make old root slave"));
  if (::umount2(".", MNT_DETACH) < 0) return Error::sys("unmount old root");
  if (::chdir("/") < 0) return Error::sys("chdir /");
  return {};
}

Result<void> apply_masked_paths(const std::vector<std::string>& paths) {
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return Error::sys("open /");
  // Files are masked with the container's /dev/null, opened once without following any
  // symlink and verified to be the 1:3 character device (CVE-2025-31133).
  UniqueFd devnull, empty_dir;
  auto null_fd = [&]() -> Result<int> {
    if (devnull) return devnull.get();
    int fd = sys_openat2(root.get(), "/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC, 0,
                         RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    if (fd < 0) return Error::sys("open /dev/null to mask paths");
    devnull.reset(fd);
    struct stat st;
    if (::fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
      return Error::make(Errc::invalid_spec, "/dev/null in the container is not the 1:3 character device");
    return fd;
  };
  for (auto& p : paths) {
    TRY_ASSIGN(auto target, open_listed_path(root.get(), p, "masked path"));
    if (!target) continue;
    struct stat st;
    if (::fstat(target.get(), &st) < 0) return Error::sys(fmt::format("masked path {}", p));
    if (S_ISDIR(st.st_mode)) {
      // One read-only empty tmpfs, made with the new mount API (no path to race on), and
      // shared by every directory mask (one superblock, as runc 1.5 and crun do).
      if (!empty_dir) {
        UniqueFd fs(sys_fsopen("tmpfs", 1 /*FSOPEN_CLOEXEC*/));
        if (!fs) return Error::sys("fsopen tmpfs");
        // Source "tmpfs" and a read-only superblock, as runc's mask shows in mountinfo.
        if (sys_fsconfig(fs.get(), FSCONFIG_SET_STRING, "source", "tmpfs", 0) < 0 ||
            sys_fsconfig(fs.get(), FSCONFIG_SET_FLAG, "ro", nullptr, 0) < 0 ||
            sys_fsconfig(fs.get(), FSCONFIG_SET_STRING, "size", "0", 0) < 0 ||
            sys_fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
          return Error::sys("fsconfig tmpfs");
        UniqueFd mnt(
            sys_fsmount(fs.get(), 1 /*FSMOUNT_CLOEXEC*/, 0x1 | 0x2 | 0x4 | 0x8 /*RDONLY|NOSUID|NODEV|NOEXEC*/));
        if (!mnt) return Error::sys("fsmount tmpfs");
        TRY(attach_tree(mnt.get(), target.get(), p));
        empty_dir = std::move(mnt);  // now attached: further masks are binds of it
      } else {
        TRY_ASSIGN(auto tree, clone_tree(empty_dir.get(), "", false));
        TRY(attach_tree(tree.get(), target.get(), p));
      }
    } else {
      TRY_ASSIGN(int nfd, null_fd());
      TRY_ASSIGN(auto tree, clone_tree(nfd, "", false));
      TRY(attach_tree(tree.get(), target.get(), p));
    }
  }
  return {};
}

Result<void> apply_readonly_paths(const std::vector<std::string>& paths) {
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return Error::sys("open /");
  for (auto& p : paths) {
    TRY_ASSIGN(auto target, open_listed_path(root.get(), p, "readonly path"));
    if (!target) continue;
    TRY_ASSIGN(auto tree, clone_tree(target.get(), "", true));
    TRY(set_mount_attrs(tree.get(), MOUNT_ATTR_RDONLY, 0, true, p));
    TRY(attach_tree(tree.get(), target.get(), p));
  }
  return {};
}

Result<void> apply_readonly_tmpfs(const std::vector<spec::MountOp>& mounts) {
  constexpr unsigned long kPerMount =
      MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;
  for (auto& m : mounts) {
    if (!delayed_readonly(m)) continue;
    // MS_REMOUNT|MS_BIND changes the mount's flags only (allowed in a user namespace), as
    // runc's remountReadonly: the tmpfs itself stays rw underneath.
    std::string dest = path::clean("/" + m.destination);
    if (::mount("", dest.c_str(), "", (m.opts.flags & kPerMount) | MS_REMOUNT | MS_BIND | MS_RDONLY, "") < 0)
      return Error::sys(fmt::format("remount {} read-only", dest));
  }
  return {};
}

Result<void> apply_readonly_root() {
  if (sys_mount_setattr(AT_FDCWD, "/", 0, MOUNT_ATTR_RDONLY, 0, 0) < 0) return Error::sys("make / read-only");
  return {};
}

Result<void> apply_root_propagation(unsigned long flags) {
  if (!flags) return {};
  return os::mount("", "/", nullptr, flags, "").context("rootfsPropagation");
}

}  // namespace husk::os::rootfs
