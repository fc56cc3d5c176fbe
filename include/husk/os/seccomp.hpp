// Seccomp: the profile is compiled to BPF in P (libseccomp), the child's install() is one
// syscall on prepared data.
#pragma once

#include <linux/filter.h>

#include <vector>

#include "husk/core/error.hpp"
#include "husk/spec/model.hpp"

namespace husk::os::seccomp {

struct Bpf {
  std::vector<sock_filter> prog;
  unsigned flags = 0;  // SECCOMP_FILTER_FLAG_*
};

Result<Bpf> compile(const spec::Seccomp& s);
Result<void> install(const Bpf& bpf);

std::vector<std::string> known_actions();
std::vector<std::string> known_operators();
std::vector<std::string> known_archs();
std::vector<std::string> known_flags();

}  // namespace husk::os::seccomp
