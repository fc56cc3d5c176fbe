// Seccomp: the profile is compiled to BPF in P (libseccomp), or loaded from the compiled
// cache; the child's install() is one syscall on prepared data.
//
// The cache (<root>/.seccomp/<key>.bpf) is keyed by a SHA-256 of everything the BPF
// depends on: the parsed profile, husk's and libseccomp's versions, libseccomp's API
// level for this kernel, and the native architecture. A file is used only if it is a
// regular file owned by us, not writable by group or others, with one link, in a
// directory that is ours and mode 0700, and if its own SHA-256 trailer, magic and key
// match; anything else is ignored (debug log) and the profile is compiled afresh.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/core/fd.hpp"
#include "husk/core/sha256.hpp"
#include "husk/spec/model.hpp"

namespace husk::os::seccomp {

struct Bpf {
  std::vector<sock_filter> prog;
  unsigned flags = 0;   // SECCOMP_FILTER_FLAG_*
  bool notify = false;  // has SCMP_ACT_NOTIFY rules: installed with a new listener
};

Result<Bpf> compile(const spec::Seccomp& s);
// compile() through the cache in `cache_dir` ("" disables it).
Result<Bpf> load_or_compile(const spec::Seccomp& s, const std::string& cache_dir);
Sha256::Digest profile_key(const spec::Seccomp& s);
// Serialised cache entry and its checked reader (pure, unit-tested).
std::string encode_entry(const Sha256::Digest& key, const Bpf& bpf);
Result<Bpf> decode_entry(std::string_view bytes, const Sha256::Digest& key);

// The compiled program of one container, kept in its state directory for exec.
Result<void> save_program(int dirfd, const std::string& name, const std::string& id, const Bpf& bpf);
Result<Bpf> load_program(const std::string& path, const std::string& id);

// Installs the filter; with notify rules, returns the listener fd (else an empty fd).
Result<UniqueFd> install(const Bpf& bpf);

std::vector<std::string> known_actions();
std::vector<std::string> known_operators();
std::vector<std::string> known_archs();
std::vector<std::string> known_flags();

}  // namespace husk::os::seccomp
