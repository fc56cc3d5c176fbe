#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "husk/core/fd.hpp"
#include "husk/runtime/runtime.hpp"
#include "husk/spec/defaults.hpp"

namespace husk::runtime {

Result<void> write_spec(const SpecOptions& o) {
  std::string p = o.bundle + "/config.json";
  struct stat st;
  if (::stat(o.bundle.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
    return Error::make(Errc::invalid_argument, fmt::format("bundle {}: not a directory", o.bundle));
  if (::stat(p.c_str(), &st) == 0) return Error::make(Errc::exists, fmt::format("File {} exists. Remove it first", p));
  UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (!fd) return Error::sys("create " + p);
  return write_all(fd.get(), spec::default_config(o.rootless).dump(1, '\t') + "\n");
}

}  // namespace husk::runtime
