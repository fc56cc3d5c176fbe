#include "husk/os/seccomp_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <string_view>
#include <vector>

namespace husk::os::seccomp {

void touch_entry(int fd) { (void)::futimens(fd, nullptr); }

size_t trim_cache(int dirfd, const CacheLimits& l) {
  int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return 0;
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return 0;
  }
  ::rewinddir(d);
  struct Entry {
    std::string name;
    struct timespec used;
    uint64_t bytes;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  time_t now = ::time(nullptr);
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    struct stat st;
    if (::fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) continue;
    if (n.size() > 4 && n.substr(n.size() - 4) == ".tmp") {
      if (now - st.st_mtime > 3600) ::unlinkat(dirfd, e->d_name, 0);
      continue;
    }
    if (n.size() <= 4 || n.substr(n.size() - 4) != ".bpf") continue;
    entries.push_back({std::string(n), st.st_mtim, static_cast<uint64_t>(st.st_size)});
    total += static_cast<uint64_t>(st.st_size);
  }
  ::closedir(d);
  if (entries.size() <= l.max_files && total <= l.max_bytes) return 0;
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.used.tv_sec != b.used.tv_sec ? a.used.tv_sec < b.used.tv_sec : a.used.tv_nsec < b.used.tv_nsec;
  });
  size_t removed = 0, left = entries.size();
  for (auto& e : entries) {
    if (left <= l.max_files && total <= l.max_bytes) break;
    if (::unlinkat(dirfd, e.name.c_str(), 0) == 0 || errno == ENOENT) {
      ++removed;
      --left;
      total -= e.bytes;
    }
  }
  return removed;
}

}  // namespace husk::os::seccomp
