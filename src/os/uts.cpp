#include "husk/os/uts.hpp"

#include <unistd.h>

namespace husk::os::uts {

Result<void> apply(const std::optional<std::string>& hostname, const std::optional<std::string>& domainname) {
  if (hostname && ::sethostname(hostname->c_str(), hostname->size()) < 0) return Error::sys("sethostname");
  if (domainname && ::setdomainname(domainname->c_str(), domainname->size()) < 0) return Error::sys("setdomainname");
  return {};
}

}  // namespace husk::os::uts
