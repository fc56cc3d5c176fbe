// SHA-256 against FIPS 180-4 vectors; the seccomp cache entry format and its checks.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "husk/core/sha256.hpp"
#include "husk/os/procfs.hpp"
#include "husk/os/seccomp.hpp"

using namespace husk;

TEST_CASE("sha256: standard vectors", "[sha256]") {
  CHECK(Sha256::hex(Sha256().finish()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256::hex(Sha256().update("abc").finish()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256::hex(Sha256().update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").finish()) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 m;
  std::string a(1000, 'a');
  for (int i = 0; i < 1000; ++i) m.update(a);
  CHECK(Sha256::hex(m.finish()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Fields are length-prefixed: ("ab","c") and ("a","bc") differ.
  CHECK(Sha256().field("ab").field("c").finish() != Sha256().field("a").field("bc").finish());
}

TEST_CASE("seccomp cache: the key covers the whole profile", "[seccomp]") {
  spec::Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls.push_back({{"getcwd"}, "SCMP_ACT_ERRNO", 38, {}});
  auto k = os::seccomp::profile_key(s);
  CHECK(os::seccomp::profile_key(s) == k);
  auto t = s;
  t.syscalls[0].errno_ret = 39;
  CHECK(os::seccomp::profile_key(t) != k);
  t = s;
  t.syscalls[0].args.push_back({0, 1, 0, "SCMP_CMP_EQ"});
  CHECK(os::seccomp::profile_key(t) != k);
  t = s;
  t.listener_path = "/x";
  CHECK(os::seccomp::profile_key(t) != k);
}

TEST_CASE("seccomp cache: entries round-trip, and any change is rejected", "[seccomp]") {
  spec::Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls.push_back({{"getcwd"}, "SCMP_ACT_ERRNO", 38, {}});
  auto bpf = os::seccomp::compile(s);
  REQUIRE(bpf);
  auto key = os::seccomp::profile_key(s);
  std::string e = os::seccomp::encode_entry(key, *bpf);
  auto back = os::seccomp::decode_entry(e, key);
  REQUIRE(back);
  CHECK(back->prog.size() == bpf->prog.size());
  CHECK(std::memcmp(back->prog.data(), bpf->prog.data(), bpf->prog.size() * sizeof(sock_filter)) == 0);
  CHECK(back->flags == bpf->flags);
  for (size_t i = 0; i < e.size(); i += 7) {
    std::string t = e;
    t[i] = static_cast<char>(t[i] ^ 0x40);
    CHECK_FALSE(os::seccomp::decode_entry(t, key));
  }
  CHECK_FALSE(os::seccomp::decode_entry(e.substr(0, e.size() - 1), key));
  auto other = key;
  other[0] ^= 1;
  CHECK_FALSE(os::seccomp::decode_entry(e, other));
}

TEST_CASE("seccomp: notify needs a listener path; flags and actions are known", "[seccomp]") {
  spec::Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls.push_back({{"getcwd"}, "SCMP_ACT_NOTIFY", std::nullopt, {}});
  auto r = os::seccomp::compile(s);
  REQUIRE_FALSE(r);
  CHECK(r.error().describe().find("/linux/seccomp/listenerPath") != std::string::npos);
  s.listener_path = "/run/agent.sock";
  auto ok = os::seccomp::compile(s);
  REQUIRE(ok);
  CHECK(ok->notify);
  CHECK((ok->flags & (1u << 3)) != 0);  // SECCOMP_FILTER_FLAG_NEW_LISTENER
}

TEST_CASE("procfs: the magic check tells procfs from anything else", "[procfs]") {
  int p = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  int t = ::open("/", O_RDONLY | O_CLOEXEC);
  CHECK(os::procfs::is_procfs(p));
  CHECK_FALSE(os::procfs::is_procfs(t));
  ::close(p);
  ::close(t);
}
