#include "husk/os/self.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "husk/core/fd.hpp"
#include "husk/core/log.hpp"
#include "husk/core/syscall_compat.hpp"
#include "husk/os/syscall.hpp"

extern char** environ;

namespace husk::os::self {
namespace {
char** g_argv = nullptr;

constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

[[nodiscard]] Error exec_fd(int fd) {
  ::syscall(SYS_execveat, fd, "", g_argv, environ, AT_EMPTY_PATH);
  return Error::sys("re-execute husk from its sealed copy");
}

// Fallback for kernels without open_tree/mount_setattr (< 5.12): a sealed memfd copy.
Result<void> exec_memfd_copy() {
  UniqueFd src(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!src) return Error::sys("open /proc/self/exe");
  struct stat st;
  if (::fstat(src.get(), &st) < 0) return Error::sys("stat /proc/self/exe");
  UniqueFd m(::memfd_create("husk", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!m) return Error::sys("memfd_create");
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = ::sendfile(m.get(), src.get(), &off, static_cast<size_t>(st.st_size - off));
    if (n <= 0) return Error::sys("copy husk into a memfd");
  }
  if (::fchmod(m.get(), 0555) < 0 || ::fcntl(m.get(), F_ADD_SEALS, kSeals) < 0)
    return Error::sys("seal the memfd copy");
  return exec_fd(m.get());
}
}  // namespace

void remember_argv(int, char** argv) { g_argv = argv; }

bool is_sealed() {
  UniqueFd fd(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  struct statvfs sv;
  if (::fstatvfs(fd.get(), &sv) == 0 && (sv.f_flag & ST_RDONLY)) return true;
  int seals = ::fcntl(fd.get(), F_GET_SEALS);
  return seals >= 0 && (seals & kSeals) == kSeals;
}

Result<void> ensure_sealed() {
  if (is_sealed()) return {};
  if (!g_argv) return Error::make(Errc::internal, "re-execute husk: argv not recorded");
  log::debug("re-executing from a read-only view of our binary");
  int tree = sys_open_tree(AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) {
    if (errno != ENOSYS) return Error::sys("open_tree /proc/self/exe");
    return exec_memfd_copy();
  }
  UniqueFd t(tree);
  if (sys_mount_setattr(t.get(), "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, 0) <
      0) {
    if (errno != ENOSYS) return Error::sys("make our binary's mount read-only");
    return exec_memfd_copy();
  }
  return exec_fd(t.get());
}

void identity(dev_t& dev, ino_t& ino) {
  struct stat self;
  if (::stat("/proc/self/exe", &self) == 0) {
    dev = self.st_dev;
    ino = self.st_ino;
  }
}

// Our own binary must never be exec'd into the container (CVE-2019-5736), directly or as
// a #! interpreter.
Result<void> refuse_exec(const std::string& exe, dev_t dev, ino_t ino) {
  auto same = [&](const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino;
  };
  if (same(exe))
    return Error::make(Errc::invalid_spec, fmt::format("exec {:?}: refusing to execute the runtime binary", exe));
  UniqueFd f(::open(exe.c_str(), O_RDONLY | O_CLOEXEC));
  char buf[256] = {};
  if (f && ::read(f.get(), buf, sizeof buf - 1) > 2 && buf[0] == '#' && buf[1] == '!') {
    std::string interp(buf + 2);
    interp = interp.substr(0, interp.find_first_of("\n"));
    size_t b = interp.find_first_not_of(" \t");
    interp = b == std::string::npos ? "" : interp.substr(b);
    interp = interp.substr(0, interp.find_first_of(" \t"));
    if (!interp.empty() && same(interp))
      return Error::make(Errc::invalid_spec, fmt::format("exec {:?}: its interpreter is the runtime binary", exe));
  }
  return {};
}

}  // namespace husk::os::self
