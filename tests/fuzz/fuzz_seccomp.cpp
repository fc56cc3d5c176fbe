// The seccomp profile compiler input: a linux.seccomp object, parsed, validated and compiled
// to BPF by libseccomp (userspace only: nothing is loaded into the kernel).
#include <cstddef>
#include <cstdint>
#include <string>

#include "husk/os/seccomp.hpp"
#include "husk/spec/json.hpp"
#include "husk/spec/validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace husk;
  std::string doc = R"({"ociVersion":"1.2.0","linux":{"namespaces":[{"type":"mount"}],"seccomp":)";
  doc.append(reinterpret_cast<const char*>(data), size);
  doc += "}}";
  auto s = spec::parse(doc);
  if (!s || !s->linux_ || !s->linux_->seccomp) return 0;
  if (!spec::validate(*s)) return 0;
  auto bpf = os::seccomp::compile(*s->linux_->seccomp);
  if (bpf) {
    auto key = os::seccomp::profile_key(*s->linux_->seccomp);
    auto back = os::seccomp::decode_entry(os::seccomp::encode_entry(key, *bpf), key);
    if (!back || back->prog.size() != bpf->prog.size()) __builtin_trap();
  }
  return 0;
}
