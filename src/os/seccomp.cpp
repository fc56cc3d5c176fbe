#include "husk/os/seccomp.hpp"

#include <fmt/format.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "husk/core/fd.hpp"
#include "husk/core/log.hpp"

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
  if (a == "SCMP_ACT_NOTIFY")
    return Error::make(Errc::unsupported, fmt::format("{}: SCMP_ACT_NOTIFY is not supported by husk yet", where));
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
  for (size_t i = 0; i < s.architectures.size(); ++i) {
    std::string a = s.architectures[i];
    std::string name = a.rfind("SCMP_ARCH_", 0) == 0 ? a.substr(10) : a;
    for (auto& ch : name) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
    uint32_t arch = seccomp_arch_resolve_name(name.c_str());
    if (!arch)
      return Error::make(Errc::invalid_spec, fmt::format("config.json: /linux/seccomp/architectures/{}: unknown architecture {:?}", i, a));
    int r = seccomp_arch_add(ctx.c, arch);
    if (r < 0 && r != -EEXIST) return Error::sys(fmt::format("seccomp: add architecture {}", a), -r);
  }
  Bpf out;
  for (size_t i = 0; i < s.flags.size(); ++i) {
    auto& f = s.flags[i];
    if (f == "SECCOMP_FILTER_FLAG_TSYNC") out.flags |= SECCOMP_FILTER_FLAG_TSYNC;
    else if (f == "SECCOMP_FILTER_FLAG_LOG") out.flags |= SECCOMP_FILTER_FLAG_LOG;
    else if (f == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") out.flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    else return Error::make(Errc::invalid_spec, fmt::format("config.json: /linux/seccomp/flags/{}: unknown flag {:?}", i, f));
  }
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    auto& sc = s.syscalls[i];
    std::string where = fmt::format("config.json: /linux/seccomp/syscalls/{}", i);
    TRY_ASSIGN(uint32_t act, action(sc.action, sc.errno_ret, s.default_errno_ret, where + "/action"));
    if (act == def) continue;  // libseccomp refuses rules equal to the default action
    std::vector<scmp_arg_cmp> cmps;
    for (size_t k = 0; k < sc.args.size(); ++k) {
      auto& a = sc.args[k];
      TRY_ASSIGN(auto o, op(a.op, fmt::format("{}/args/{}/op", where, k)));
      cmps.push_back(scmp_arg_cmp{a.index, o, a.value, a.value_two});
    }
    for (auto& name : sc.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        log::debug("seccomp: syscall {:?} unknown on this architecture, skipped", name);
        continue;
      }
      int r = seccomp_rule_add_array(ctx.c, act, nr, static_cast<unsigned>(cmps.size()), cmps.data());
      if (r < 0) return Error::sys(fmt::format("seccomp: add rule for {}", name), -r).context(where);
    }
  }
  int mfd = ::memfd_create("husk-seccomp", MFD_CLOEXEC);
  if (mfd < 0) return Error::sys("memfd_create");
  UniqueFd m(mfd);
  int r = seccomp_export_bpf(ctx.c, mfd);
  if (r < 0) return Error::sys("seccomp: export BPF", -r);
  off_t size = ::lseek(mfd, 0, SEEK_END);
  out.prog.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  if (::pread(mfd, out.prog.data(), out.prog.size() * sizeof(sock_filter), 0) < 0) return Error::sys("read BPF");
  return out;
}

Result<void> install(const Bpf& bpf) {
  sock_fprog prog{static_cast<unsigned short>(bpf.prog.size()), const_cast<sock_filter*>(bpf.prog.data())};
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, bpf.flags, &prog) < 0) return Error::sys("install seccomp filter");
  return {};
}

std::vector<std::string> known_actions() {
  return {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
          "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"};
}
std::vector<std::string> known_operators() {
  return {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"};
}
std::vector<std::string> known_archs() {
  return {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
          "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
          "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_X32",
          "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"};
}
std::vector<std::string> known_flags() {
  return {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
}

}  // namespace husk::os::seccomp
