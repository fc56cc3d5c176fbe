#include "husk/os/seccomp.hpp"
#include "husk/core/version.hpp"
#include "husk/os/seccomp_cache.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/utsname.h>

#include <cstring>

#include "husk/core/fd.hpp"
#include "husk/core/log.hpp"
#include "husk/core/syscall_compat.hpp"

namespace husk::os::seccomp {
namespace {

Result<uint32_t> action(const std::string& a, std::optional<uint32_t> errno_ret, std::optional<uint32_t> default_errno,
                        const std::string& where) {
  if (a == "SCMP_ACT_KILL" || a == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (a == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (a == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (a == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret.value_or(default_errno.value_or(EPERM)));
  if (a == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret.value_or(default_errno.value_or(EPERM)));
  if (a == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (a == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (a == "SCMP_ACT_NOTIFY") return SCMP_ACT_NOTIFY;
  return Error::make(Errc::invalid_spec, fmt::format("{}: unknown seccomp action {:?}", where, a));
}

Result<scmp_compare> op(const std::string& o, const std::string& where) {
  if (o == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (o == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (o == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (o == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (o == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (o == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (o == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  return Error::make(Errc::invalid_spec, fmt::format("{}: unknown seccomp operator {:?}", where, o));
}

// The libseccomp name of an OCI architecture ("SCMP_ARCH_X86_64" -> "x86_64"), 0 if unknown.
uint32_t arch_token(const std::string& a) {
  std::string name = a.rfind("SCMP_ARCH_", 0) == 0 ? a.substr(10) : a;
  for (auto& ch : name) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
  return seccomp_arch_resolve_name(name.c_str());
}

// runc's (libseccomp-golang's) name of an architecture: the lower-case suffix, but amd64
// and arm64 for x86_64 and aarch64.
std::string go_arch_name(const std::string& a) {
  std::string name = a.rfind("SCMP_ARCH_", 0) == 0 ? a.substr(10) : a;
  for (auto& ch : name) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
  if (name == "x86_64") return "amd64";
  if (name == "aarch64") return "arm64";
  return name;
}

// The largest syscall number the profile names, per architecture of its list (0: none), as
// runc's ENOSYS stub computes it. Names unknown on an architecture are ignored. With
// `any_only`, an architecture's walk stops at its first number above 0: enough to tell which
// architectures have none (the warning, on every create), at a lookup or so per architecture
// instead of one per name and architecture (~440K instructions for Docker's profile).
struct LastSyscall {
  std::string oci_name;
  uint32_t arch;
  uint32_t nr;
};
std::vector<LastSyscall> last_syscalls(const spec::Seccomp& s, bool any_only = false) {
  std::vector<LastSyscall> out;
  for (auto& a : s.architectures) {
    uint32_t arch = arch_token(a);
    if (!arch) continue;
    bool seen = false;
    for (auto& l : out) seen = seen || l.arch == arch;
    if (seen) continue;
    uint32_t largest = 0;
    for (size_t i = 0; i < s.syscalls.size() && !(any_only && largest); ++i)
      for (auto& name : s.syscalls[i].names) {
        int nr = seccomp_syscall_resolve_name_arch(arch, name.c_str());
        if (nr >= 0 && static_cast<uint32_t>(nr) > largest) largest = static_cast<uint32_t>(nr);
        if (any_only && largest) break;
      }
    out.push_back({a, arch, largest});
  }
  return out;
}

// runc prepends a stub returning ENOSYS for syscalls newer than any the profile names (glibc
// falls back on ENOSYS, not on EPERM), unless the default action allows or already is ENOSYS.
bool wants_enosys_stub(const spec::Seccomp& s) {
  const std::string& d = s.default_action;
  if (d == "SCMP_ACT_ALLOW" || d == "SCMP_ACT_LOG" || d == "SCMP_ACT_TRACE") return false;
  return !(s.default_errno_ret && *s.default_errno_ret == ENOSYS);
}

// The stub: per architecture, "arch matches and nr > largest -> ENOSYS", else the filter.
// x86_64 and x32 share an audit arch; the x32 bit (1 << 30) of the number tells them apart.
std::vector<sock_filter> enosys_stub(const std::vector<LastSyscall>& last) {
  constexpr uint32_t kX32Bit = 0x40000000;
  std::vector<std::vector<sock_filter>> blocks;
  for (auto& l : last) {
    if (l.nr == 0) continue;
    std::vector<sock_filter> b;
    b.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4));  // arch
    bool x86_64 = l.arch == SCMP_ARCH_X86_64, x32 = l.arch == SCMP_ARCH_X32;
    uint8_t rest = x86_64 || x32 ? 3 : 2;
    b.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, x32 ? SCMP_ARCH_X86_64 : l.arch, 0, rest));
    b.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0));  // nr
    if (x86_64) b.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kX32Bit, 1, 0));
    if (x32) b.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kX32Bit, 0, 1));
    b.push_back(BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, l.nr, 0xff, 0));  // target set below
    blocks.push_back(std::move(b));
  }
  if (blocks.empty()) return {};
  std::vector<sock_filter> out;
  size_t total = 0;
  for (auto& b : blocks) total += b.size();
  size_t enosys_at = total + 1;  // after the blocks and a "ja 1" into the filter
  for (auto& b : blocks)
    for (auto& ins : b) {
      if (ins.code == (BPF_JMP | BPF_JGT | BPF_K)) ins.jt = static_cast<uint8_t>(enosys_at - out.size() - 1);
      out.push_back(ins);
    }
  out.push_back(BPF_STMT(BPF_JMP | BPF_JA, 1));
  out.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS));
  return out;
}

struct Ctx {
  scmp_filter_ctx c;
  ~Ctx() { seccomp_release(c); }
};
}  // namespace

Result<Bpf> compile(const spec::Seccomp& s) {
  TRY_ASSIGN(uint32_t def, action(s.default_action, s.default_errno_ret, std::nullopt, "/linux/seccomp/defaultAction"));
  Ctx ctx{seccomp_init(def)};
  if (!ctx.c) return Error::make(Errc::internal, "seccomp_init failed");
  // The filter must not be re-checked against NNP by libseccomp: we set NNP ourselves.
  seccomp_attr_set(ctx.c, SCMP_FLTATR_CTL_NNP, 0);
  // A binary tree of syscall numbers instead of a linear list: fewer instructions per
  // syscall, and the kernel's install-time action cache (which runs the program for every
  // syscall number of every architecture) finishes several times sooner.
  seccomp_attr_set(ctx.c, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  for (size_t i = 0; i < s.architectures.size(); ++i) {
    std::string a = s.architectures[i];
    uint32_t arch = arch_token(a);
    if (!arch)
      return Error::make(Errc::invalid_spec,
                         fmt::format("config.json: /linux/seccomp/architectures/{}: unknown architecture {:?}", i, a));
    int r = seccomp_arch_add(ctx.c, arch);
    if (r < 0 && r != -EEXIST) return Error::sys(fmt::format("seccomp: add architecture {}", a), -r);
  }
  Bpf out;
  if (s.default_errno_ret && s.default_action != "SCMP_ACT_ERRNO" && s.default_action != "SCMP_ACT_TRACE")
    return Error::make(
        Errc::invalid_spec,
        fmt::format("config.json: /linux/seccomp/defaultErrnoRet: {} does not take an errno", s.default_action));
  if (s.listener_metadata && !s.listener_path)
    return Error::make(Errc::invalid_spec, "config.json: /linux/seccomp/listenerMetadata: set without listenerPath");
  for (size_t i = 0; i < s.flags.size(); ++i) {
    auto& f = s.flags[i];
    if (f == "SECCOMP_FILTER_FLAG_TSYNC")
      out.flags |= SECCOMP_FILTER_FLAG_TSYNC;
    else if (f == "SECCOMP_FILTER_FLAG_LOG")
      out.flags |= SECCOMP_FILTER_FLAG_LOG;
    else if (f == "SECCOMP_FILTER_FLAG_SPEC_ALLOW")
      out.flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    else if (f == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")
      out.flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    else
      return Error::make(Errc::invalid_spec,
                         fmt::format("config.json: /linux/seccomp/flags/{}: unknown flag {:?}", i, f));
  }
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    auto& sc = s.syscalls[i];
    std::string where = fmt::format("config.json: /linux/seccomp/syscalls/{}", i);
    if (sc.names.empty()) return Error::make(Errc::invalid_spec, where + "/names: must contain at least one entry");
    // "When the action doesn't support an errno, the runtime MUST print and error and fail."
    if (sc.errno_ret && sc.action != "SCMP_ACT_ERRNO" && sc.action != "SCMP_ACT_TRACE")
      return Error::make(Errc::invalid_spec, fmt::format("{}/errnoRet: {} does not take an errno", where, sc.action));
    TRY_ASSIGN(uint32_t act, action(sc.action, sc.errno_ret, s.default_errno_ret, where + "/action"));
    if (act == SCMP_ACT_NOTIFY && !sc.names.empty()) out.notify = true;
    if (act == def) continue;  // libseccomp refuses rules equal to the default action
    std::vector<scmp_arg_cmp> cmps;
    for (size_t k = 0; k < sc.args.size(); ++k) {
      auto& a = sc.args[k];
      TRY_ASSIGN(auto o, op(a.op, fmt::format("{}/args/{}/op", where, k)));
      cmps.push_back(scmp_arg_cmp{a.index, o, a.value, a.value_two});
    }
    // Several conditions on the same argument cannot be ANDed by libseccomp (EINVAL); as
    // runc, each condition then becomes a rule of its own (the conditions are ORed).
    bool same_arg = false;
    for (size_t k = 0; k < cmps.size() && !same_arg; ++k)
      for (size_t m = k + 1; m < cmps.size(); ++m)
        if (cmps[k].arg == cmps[m].arg) same_arg = true;
    for (auto& name : sc.names) {
      // The runtime writes to its sync pipe after the filter is installed: a notify rule
      // on write would hand that write to the agent (runc refuses it too).
      if (act == SCMP_ACT_NOTIFY && name == "write")
        return Error::make(Errc::invalid_spec, where + "/names: SCMP_ACT_NOTIFY cannot be used for the write syscall");
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        log::debug("seccomp: syscall {:?} unknown on this architecture, skipped", name);
        continue;
      }
      if (same_arg) {
        for (auto& c : cmps) {
          int r = seccomp_rule_add_array(ctx.c, act, nr, 1, &c);
          if (r < 0) return Error::sys(fmt::format("seccomp: add rule for {}", name), -r).context(where);
        }
        continue;
      }
      int r = seccomp_rule_add_array(ctx.c, act, nr, static_cast<unsigned>(cmps.size()), cmps.data());
      if (r < 0) return Error::sys(fmt::format("seccomp: add rule for {}", name), -r).context(where);
    }
  }
  if (def == SCMP_ACT_NOTIFY) out.notify = true;
  if (out.notify && !s.listener_path)
    return Error::make(Errc::invalid_spec,
                       "config.json: /linux/seccomp/listenerPath: SCMP_ACT_NOTIFY needs a listener socket");
  if (out.notify && s.listener_path && (s.listener_path->empty() || (*s.listener_path)[0] != '/'))
    return Error::make(Errc::invalid_spec, "config.json: /linux/seccomp/listenerPath: must be an absolute path");
  // The listener fd comes from the kernel at install; TSYNC cannot be combined with it
  // (and the init is single-threaded anyway). WAIT_KILLABLE_RECV needs a listener.
  if (out.notify) {
    out.flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    out.flags &= ~static_cast<unsigned>(SECCOMP_FILTER_FLAG_TSYNC);
  } else if (out.flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
    log::debug("seccomp: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored: the profile has no SCMP_ACT_NOTIFY rule");
    out.flags &= ~static_cast<unsigned>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
  }
  int mfd = ::memfd_create("husk-seccomp", MFD_CLOEXEC);
  if (mfd < 0) return Error::sys("memfd_create");
  UniqueFd m(mfd);
  int r = seccomp_export_bpf(ctx.c, mfd);
  if (r < 0) return Error::sys("seccomp: export BPF", -r);
  off_t size = ::lseek(mfd, 0, SEEK_END);
  out.prog.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  if (::pread(mfd, out.prog.data(), out.prog.size() * sizeof(sock_filter), 0) < 0) return Error::sys("read BPF");
  if (wants_enosys_stub(s)) {
    auto stub = enosys_stub(last_syscalls(s));
    out.prog.insert(out.prog.begin(), stub.begin(), stub.end());
    if (out.prog.size() > BPF_MAXINSNS) return Error::make(Errc::invalid_spec, "seccomp: the filter is too long");
  }
  return out;
}

Result<UniqueFd> install(const Bpf& bpf) {
  sock_fprog prog{static_cast<unsigned short>(bpf.prog.size()), const_cast<sock_filter*>(bpf.prog.data())};
  unsigned flags = bpf.flags;
  long r = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (r < 0 && errno == EINVAL && (flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)) {
    // Kernels before 5.19 do not know the flag: it is an optimisation, not a guarantee.
    flags &= ~static_cast<unsigned>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    r = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  }
  if (r < 0) return Error::sys("install seccomp filter");
  if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) return UniqueFd(static_cast<int>(r));
  return UniqueFd();
}

Sha256::Digest profile_key(const spec::Seccomp& s) {
  Sha256 h;
  h.field("husk-seccomp-cache-v3-enosys").field(kVersion).field(kCommit);
  const scmp_version* v = seccomp_version();
  h.field(v->major).field(v->minor).field(v->micro).field(seccomp_api_get()).field(seccomp_arch_native());
  h.field(s.default_action).field(s.default_errno_ret.value_or(~0u)).field(s.default_errno_ret.has_value());
  h.field(s.architectures.size());
  for (auto& a : s.architectures) h.field(a);
  h.field(s.flags.size());
  for (auto& f : s.flags) h.field(f);
  h.field(s.listener_path.value_or("")).field(s.listener_path.has_value());
  h.field(s.syscalls.size());
  for (auto& sc : s.syscalls) {
    h.field(sc.names.size());
    for (auto& n : sc.names) h.field(n);
    h.field(sc.action).field(sc.errno_ret.value_or(~0u)).field(sc.errno_ret.has_value());
    h.field(sc.args.size());
    for (auto& a : sc.args) h.field(a.index).field(a.value).field(a.value_two).field(a.op);
  }
  return h.finish();
}

namespace {
constexpr std::string_view kMagic = "HUSKBPF1";
constexpr size_t kHeader = 8 + 32 + 4 + 4 + 4;  // magic, key, flags, notify, count

void put32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
uint32_t get32(std::string_view in, size_t at) {
  uint32_t v;
  std::memcpy(&v, in.data() + at, 4);
  return v;
}
}  // namespace

std::string encode_entry(const Sha256::Digest& key, const Bpf& bpf) {
  std::string out(kMagic);
  out.append(reinterpret_cast<const char*>(key.data()), key.size());
  put32(out, bpf.flags);
  put32(out, bpf.notify ? 1 : 0);
  put32(out, static_cast<uint32_t>(bpf.prog.size()));
  out.append(reinterpret_cast<const char*>(bpf.prog.data()), bpf.prog.size() * sizeof(sock_filter));
  auto sum = Sha256().update(out).finish();
  out.append(reinterpret_cast<const char*>(sum.data()), sum.size());
  return out;
}

Result<Bpf> decode_entry(std::string_view in, const Sha256::Digest& key) {
  auto bad = [](const char* why) {
    return Error::make(Errc::invalid_argument, fmt::format("seccomp cache entry: {}", why));
  };
  if (in.size() < kHeader + 32) return bad("too short");
  auto body = in.substr(0, in.size() - 32);
  auto sum = Sha256().update(body).finish();
  if (std::memcmp(sum.data(), in.data() + body.size(), 32) != 0) return bad("checksum mismatch");
  if (body.substr(0, 8) != kMagic) return bad("bad magic");
  if (std::memcmp(body.data() + 8, key.data(), 32) != 0) return bad("key mismatch");
  Bpf b;
  b.flags = get32(body, 40);
  b.notify = get32(body, 44) != 0;
  uint32_t n = get32(body, 48);
  if (n == 0 || n > BPF_MAXINSNS || body.size() != kHeader + n * sizeof(sock_filter)) return bad("bad length");
  b.prog.resize(n);
  std::memcpy(b.prog.data(), body.data() + kHeader, n * sizeof(sock_filter));
  return b;
}

namespace {
Sha256::Digest program_key(const std::string& id) {
  Sha256 h;
  h.field("husk container seccomp program");
  h.field(id);
  return h.finish();
}
}  // namespace

Result<void> save_program(int dirfd, const std::string& name, const std::string& id, const Bpf& bpf) {
  UniqueFd f(::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!f) return Error::sys("create " + name);
  return write_all(f.get(), encode_entry(program_key(id), bpf)).context(name);
}

Result<Bpf> load_program(const std::string& path, const std::string& id) {
  UniqueFd f(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!f) return Error::sys("open " + path);
  std::string bytes;
  char buf[16384];
  ssize_t n;
  while ((n = ::read(f.get(), buf, sizeof buf)) > 0) bytes.append(buf, static_cast<size_t>(n));
  if (n < 0) return Error::sys("read " + path);
  return decode_entry(bytes, program_key(id)).context(path);
}

Result<Bpf> load_or_compile(const spec::Seccomp& s, const std::string& cache_dir) {
  // As runc (also when the program comes from the cache): an architecture for which the
  // profile names no syscall gets no ENOSYS stub.
  if (wants_enosys_stub(s))
    for (auto& l : last_syscalls(s, /*any_only=*/true))
      if (l.nr == 0) log::warning("could not find any syscalls for arch {}", go_arch_name(l.oci_name));
  if (cache_dir.empty()) return compile(s);
  auto key = profile_key(s);
  std::string file = cache_dir + "/" + Sha256::hex(key) + ".bpf";
  uid_t me = ::geteuid();
  auto safe = [&](int fd, bool dir) {
    struct stat st;
    if (::fstat(fd, &st) < 0 || st.st_uid != me) return false;
    if (dir) return S_ISDIR(st.st_mode) && (st.st_mode & 077) == 0;
    return S_ISREG(st.st_mode) && (st.st_mode & 022) == 0 && st.st_nlink == 1;
  };
  UniqueFd dfd(::open(cache_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dfd && safe(dfd.get(), true)) {
    UniqueFd f(::openat(dfd.get(), (Sha256::hex(key) + ".bpf").c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (f && safe(f.get(), false)) {
      std::string bytes;
      char buf[16384];
      ssize_t n;
      while ((n = ::read(f.get(), buf, sizeof buf)) > 0) bytes.append(buf, static_cast<size_t>(n));
      auto b = decode_entry(bytes, key);
      if (b) {
        touch_entry(f.get());  // LRU order for trim_cache (os/seccomp_cache.hpp)
        return b;
      }
      log::debug("{}: {}; compiling again", file, b.error().describe());
    } else if (f) {
      log::debug("{}: not a private regular file of ours; compiling again", file);
    }
  } else if (dfd) {
    log::debug("{}: not a private directory of ours; the seccomp cache is not used", cache_dir);
    return compile(s);
  }
  TRY_ASSIGN(Bpf b, compile(s));
  // Best effort: a cache that cannot be written only costs the next create a compile.
  if (!dfd) {
    std::string parent = cache_dir.substr(0, cache_dir.rfind('/'));
    ::mkdir(parent.c_str(), 0700);
    if (::mkdir(cache_dir.c_str(), 0700) < 0 && errno != EEXIST) return b;
    dfd.reset(::open(cache_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dfd || !safe(dfd.get(), true)) return b;
  }
  // A private temporary name per writer, then rename: concurrent creates never mix.
  std::string tmp = fmt::format("{}.{}.tmp", file, ::getpid());
  UniqueFd w(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!w || !write_all(w.get(), encode_entry(key, b)) || ::rename(tmp.c_str(), file.c_str()) < 0) {
    log::debug("seccomp cache {} not written: {}", file, std::strerror(errno));
    ::unlink(tmp.c_str());
  }
  trim_cache(dfd.get());
  return b;
}

std::vector<std::string> known_actions() {
  return {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO",  "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
          "SCMP_ACT_LOG",   "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"};
}
std::vector<std::string> known_operators() {
  return {"SCMP_CMP_EQ", "SCMP_CMP_GE",        "SCMP_CMP_GT", "SCMP_CMP_LE",
          "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"};
}
std::vector<std::string> known_archs() {
  return {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM",      "SCMP_ARCH_MIPS",        "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
          "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",    "SCMP_ARCH_PPC64",
          "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",  "SCMP_ARCH_X32",
          "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64"};
}
std::vector<std::string> known_flags() {
  return {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
          "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
}

}  // namespace husk::os::seccomp
