// A cgroup and every cgroup below it: what kill --all, delete --force and ps act on. The
// container (or anything in it with write access, e.g. a delegated cgroup mount) may make
// sub-cgroups; runc walks them for the pids (GetAllPids) and removes them depth-first
// (RemovePath). Shared by every driver: the directories are cgroupfs ones in any case.
#include <dirent.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sstream>

#include "husk/core/fd.hpp"
#include "husk/os/cgroups/driver.hpp"

namespace husk::os::cgroups {
namespace {

// The names of the sub-directories of `dir` (sub-cgroups). ENOENT: none.
Result<std::vector<std::string>> children(const std::string& dir) {
  std::vector<std::string> out;
  // cgroupfs (kernfs) keeps a directory's link count at 2 + its sub-directories: at 2 there
  // is nothing to list. One stat instead of opendir's open, fstat, two getdents, close and
  // 32 KiB buffer on every delete. Another count (1: a filesystem that does not keep it)
  // is listed.
  struct stat st;
  if (::stat(dir.c_str(), &st) < 0) {
    if (errno == ENOENT) return out;
    return Error::sys("open cgroup " + dir);
  }
  if (S_ISDIR(st.st_mode) && st.st_nlink == 2) return out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    return Error::sys("open cgroup " + dir);
  }
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (e->d_type == DT_DIR && n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  return out;
}

Result<void> collect(const std::string& dir, std::vector<pid_t>& out, int depth) {
  auto text = read_file(dir + "/cgroup.procs");
  if (!text) {
    // Removed meanwhile (a sub-cgroup the container dropped): nothing in it.
    if (depth > 0 && text.error().sys_errno() == ENOENT) return {};
    return std::move(text).error();
  }
  std::istringstream ss(*text);
  pid_t p;
  while (ss >> p) out.push_back(p);
  TRY_ASSIGN(auto subs, children(dir));
  for (auto& s : subs) TRY(collect(dir + "/" + s, out, depth + 1));
  return {};
}

}  // namespace

Result<std::vector<pid_t>> subtree_pids(const std::string& dir) {
  std::vector<pid_t> out;
  TRY(collect(dir, out, 0));
  return out;
}

Result<void> remove_subtree(const std::string& dir) {
  for (int i = 0;; ++i) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    int err = errno;
    if (err == EBUSY || err == ENOTEMPTY) {
      // Sub-cgroups first (a cgroup with children is EBUSY), then retry while the kernel
      // tears the last tasks down.
      TRY_ASSIGN(auto subs, children(dir));
      for (auto& s : subs) TRY(remove_subtree(dir + "/" + s));
      if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
      err = errno;
    }
    if (err != EBUSY || i >= 200) {
      errno = err;
      return Error::sys("remove cgroup " + dir);
    }
    timespec ts{0, 5'000'000};
    ::nanosleep(&ts, nullptr);
  }
}

}  // namespace husk::os::cgroups
