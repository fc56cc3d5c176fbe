// SHA-256 against FIPS 180-4 vectors; the seccomp cache entry format and its checks.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <sys/stat.h>
#include "husk/core/sha256.hpp"
#include "husk/os/procfs.hpp"
#include "husk/os/seccomp.hpp"
#include "husk/os/seccomp_cache.hpp"

using namespace husk;

TEST_CASE("sha256: standard vectors", "[sha256]") {
  CHECK(Sha256::hex(Sha256().finish()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256::hex(Sha256().update("abc").finish()) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256::hex(Sha256().update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").finish()) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 m;
  std::string a(1000, 'a');
  for (int i = 0; i < 1000; ++i) m.update(a);
  CHECK(Sha256::hex(m.finish()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Fields are length-prefixed: ("ab","c") and ("a","bc") differ.
  CHECK(Sha256().field("ab").field("c").finish() != Sha256().field("a").field("bc").finish());
}

TEST_CASE("sha256: the SHA-NI form computes what the portable one does", "[sha256]") {
  if (!sha256_detail::accelerated()) {
    WARN("SKIPPED: this CPU has no SHA extensions (Sha256 uses the portable form)");
    return;
  }
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  auto next = [&] {
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    return seed;
  };
  std::vector<uint8_t> data(64 * 9);
  for (int round = 0; round < 2000; ++round) {
    for (auto& b : data) b = static_cast<uint8_t>(next());
    uint32_t a[8], b[8];
    for (int i = 0; i < 8; ++i) a[i] = b[i] = static_cast<uint32_t>(next());
    size_t n = 1 + next() % 9;
    sha256_detail::compress_portable(a, data.data(), n);
    REQUIRE(sha256_detail::compress_shani(b, data.data(), n));
    INFO("round " << round << ", " << n << " blocks");
    REQUIRE(std::memcmp(a, b, sizeof a) == 0);
  }
}

TEST_CASE("sha256: any split of the input into updates gives the same digest", "[sha256]") {
  std::string text(1000, '\0');
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>(i * 131 + 7);
  auto whole = Sha256().update(text).finish();
  for (size_t step : {1, 3, 63, 64, 65, 127, 200}) {
    Sha256 h;
    for (size_t at = 0; at < text.size(); at += step) h.update(std::string_view(text).substr(at, step));
    INFO("updates of " << step << " bytes");
    CHECK(h.finish() == whole);
  }
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

TEST_CASE("seccomp cache: bounded in count and bytes, least recently used out", "[seccomp]") {
  char dir[] = "/tmp/husk-unit-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  UniqueFd dfd(::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(dfd);
  auto put = [&](int i, size_t size, time_t mtime) {
    std::string name = fmt::format("{:02}.bpf", i);
    int fd = ::openat(dfd.get(), name.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    std::string data(size, 'x');
    REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(size));
    struct timespec t[2] = {{mtime, 0}, {mtime, 0}};
    REQUIRE(::futimens(fd, t) == 0);
    ::close(fd);
  };
  auto exists = [&](int i) { return ::faccessat(dfd.get(), fmt::format("{:02}.bpf", i).c_str(), F_OK, 0) == 0; };
  time_t base = ::time(nullptr) - 1000;
  for (int i = 0; i < 10; ++i) put(i, 100, base + i);
  // A stale writer's temp file goes; a fresh one (a create in progress) stays.
  int t = ::openat(dfd.get(), "old.bpf.1.tmp", O_WRONLY | O_CREAT, 0600);
  struct timespec old[2] = {{base - 7200, 0}, {base - 7200, 0}};
  ::futimens(t, old);
  ::close(t);
  ::close(::openat(dfd.get(), "new.bpf.2.tmp", O_WRONLY | O_CREAT, 0600));
  // Within both limits: nothing removed.
  CHECK(os::seccomp::trim_cache(dfd.get(), {10, 1000}) == 0);
  // Entry 0 is used now: it becomes the newest.
  int f0 = ::openat(dfd.get(), "00.bpf", O_RDONLY);
  os::seccomp::touch_entry(f0);
  ::close(f0);
  CHECK(os::seccomp::trim_cache(dfd.get(), {6, 1u << 20}) == 4);  // count: 1,2,3,4 go
  CHECK(exists(0));
  for (int i = 1; i <= 4; ++i) CHECK_FALSE(exists(i));
  CHECK(exists(5));
  CHECK(os::seccomp::trim_cache(dfd.get(), {100, 350}) == 3);  // bytes: 5,6,7 go
  CHECK(exists(8));
  CHECK(exists(9));
  CHECK(exists(0));
  CHECK_FALSE(exists(7));
  CHECK(::faccessat(dfd.get(), "old.bpf.1.tmp", F_OK, 0) != 0);
  CHECK(::faccessat(dfd.get(), "new.bpf.2.tmp", F_OK, 0) == 0);
  for (const char* n : {"00.bpf", "08.bpf", "09.bpf", "new.bpf.2.tmp"}) ::unlinkat(dfd.get(), n, 0);
  CHECK(::rmdir(dir) == 0);
}
