#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "husk/core/fd.hpp"
#include "husk/runtime/runtime.hpp"
#include "husk/spec/defaults.hpp"

namespace husk::runtime {

namespace {
// runc adds a cgroup namespace to its default spec on a pure cgroup v2 host only.
bool cgroup_v2_unified() {
  struct statfs fs {};
  return ::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}
}  // namespace

Result<void> write_spec(const SpecOptions& o) {
  std::string p = o.bundle + "/config.json";
  struct stat st;
  if (::stat(o.bundle.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
    return Error::make(Errc::invalid_argument, fmt::format("bundle {}: not a directory", o.bundle));
  if (::stat(p.c_str(), &st) == 0) return Error::make(Errc::exists, fmt::format("File {} exists. Remove it first", p));
  UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (!fd) return Error::sys("create " + p);
  auto c = spec::default_config(o.rootless, cgroup_v2_unified());
  if (o.rootless) {
    // As runc's specconv.ToRootless: container root is the caller's euid/egid.
    c["linux"]["uidMappings"] =
        nlohmann::ordered_json::array({{{"containerID", 0}, {"hostID", ::geteuid()}, {"size", 1}}});
    c["linux"]["gidMappings"] =
        nlohmann::ordered_json::array({{{"containerID", 0}, {"hostID", ::getegid()}, {"size", 1}}});
  }
  return write_all(fd.get(), c.dump(1, '\t') + "\n");
}

}  // namespace husk::runtime
