#include "husk/os/cgroups/devices_bpf.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "husk/os/cgroups/writes.hpp"

namespace husk::os::cgroups {
namespace {

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}
bpf_insn ldx_w(uint8_t dst, uint8_t src, int16_t off) { return insn(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0); }
bpf_insn alu_k(uint8_t op, uint8_t dst, int32_t imm) { return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm); }
bpf_insn mov_r(uint8_t dst, uint8_t src) { return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn jne_k(uint8_t dst, int32_t imm, int16_t off) { return insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm); }
bpf_insn jne_r(uint8_t dst, uint8_t src, int16_t off) { return insn(BPF_JMP | BPF_JNE | BPF_X, dst, src, off, 0); }
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

long sys_bpf(int cmd, bpf_attr* a) { return ::syscall(SYS_bpf, cmd, a, sizeof *a); }

}  // namespace

std::vector<spec::DeviceRule> v2_device_rules(const std::vector<spec::DeviceRule>& config) {
  std::vector<spec::DeviceRule> out = config;
  for (auto& text : default_allowed_devices()) {
    // "c 1:3 rwm" / "c *:* m" / "c 136:* rwm"
    char type = 0, acc[8] = {};
    char ma[16] = {}, mi[16] = {};
    if (std::sscanf(text.c_str(), "%c %15[^:]:%15s %7s", &type, ma, mi, acc) != 4) continue;
    spec::DeviceRule r;
    r.allow = true;
    r.type = std::string(1, type);
    if (std::string(ma) != "*") r.major = std::stoll(ma);
    if (std::string(mi) != "*") r.minor = std::stoll(mi);
    r.access = acc;
    out.push_back(r);
  }
  return out;
}

std::vector<bpf_insn> device_program(const std::vector<spec::DeviceRule>& rules) {
  std::vector<bpf_insn> p;
  // r2 = type (BPF_DEVCG_DEV_*), r3 = access (BPF_DEVCG_ACC_*), r4 = major, r5 = minor
  p.push_back(ldx_w(BPF_REG_2, BPF_REG_1, 0));
  p.push_back(alu_k(BPF_AND, BPF_REG_2, 0xFFFF));
  p.push_back(ldx_w(BPF_REG_3, BPF_REG_1, 0));
  p.push_back(alu_k(BPF_RSH, BPF_REG_3, 16));
  p.push_back(ldx_w(BPF_REG_4, BPF_REG_1, 4));
  p.push_back(ldx_w(BPF_REG_5, BPF_REG_1, 8));
  // The last rule wins: test them from the end.
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    auto& r = *it;
    std::vector<bpf_insn> b;  // jumps use off = -1 as "to the end of this block"
    std::string type = r.type.value_or("a");
    if (type == "c")
      b.push_back(jne_k(BPF_REG_2, BPF_DEVCG_DEV_CHAR, -1));
    else if (type == "b")
      b.push_back(jne_k(BPF_REG_2, BPF_DEVCG_DEV_BLOCK, -1));
    std::string acc = r.access.value_or("rwm");
    int32_t mask = 0;
    if (acc.find('r') != std::string::npos) mask |= BPF_DEVCG_ACC_READ;
    if (acc.find('w') != std::string::npos) mask |= BPF_DEVCG_ACC_WRITE;
    if (acc.find('m') != std::string::npos) mask |= BPF_DEVCG_ACC_MKNOD;
    if (mask != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
      // the requested access must be a subset of the rule's: (r3 & mask) == r3
      b.push_back(mov_r(BPF_REG_1, BPF_REG_3));
      b.push_back(alu_k(BPF_AND, BPF_REG_1, mask));
      b.push_back(jne_r(BPF_REG_1, BPF_REG_3, -1));
    }
    if (r.major && *r.major >= 0) b.push_back(jne_k(BPF_REG_4, static_cast<int32_t>(*r.major), -1));
    if (r.minor && *r.minor >= 0) b.push_back(jne_k(BPF_REG_5, static_cast<int32_t>(*r.minor), -1));
    b.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r.allow ? 1 : 0));
    b.push_back(exit_insn());
    for (size_t i = 0; i < b.size(); ++i)
      if (BPF_CLASS(b[i].code) == BPF_JMP && BPF_OP(b[i].code) != BPF_EXIT && b[i].off == -1)
        b[i].off = static_cast<int16_t>(b.size() - i - 1);
    p.insert(p.end(), b.begin(), b.end());
    // A rule without conditions ends the program: what follows would be unreachable
    // (and the verifier refuses unreachable instructions).
    if (b.size() == 2) return p;
  }
  p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
  p.push_back(exit_insn());
  return p;
}

Result<void> apply_device_program(const std::string& dir, const std::vector<spec::DeviceRule>& rules) {
  auto prog = device_program(rules);
  UniqueFd cg(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cg) return Error::sys("open cgroup " + dir);
  // Programs attached before us (a previous create or update): replaced below.
  uint32_t ids[64] = {};
  bpf_attr q{};
  q.query.target_fd = static_cast<uint32_t>(cg.get());
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = reinterpret_cast<uint64_t>(ids);
  q.query.prog_cnt = 64;
  uint32_t old_count = sys_bpf(BPF_PROG_QUERY, &q) == 0 ? q.query.prog_cnt : 0;

  static const char license[] = "Apache";
  char logbuf[4096] = {};
  bpf_attr a{};
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = reinterpret_cast<uint64_t>(prog.data());
  a.insn_cnt = static_cast<uint32_t>(prog.size());
  a.license = reinterpret_cast<uint64_t>(license);
  a.log_buf = reinterpret_cast<uint64_t>(logbuf);
  a.log_size = sizeof logbuf;
  a.log_level = 1;
  int pfd = static_cast<int>(sys_bpf(BPF_PROG_LOAD, &a));
  if (pfd < 0) {
    a.log_level = 0;  // some kernels refuse a log buffer without errors to report
    a.log_buf = 0;
    a.log_size = 0;
    pfd = static_cast<int>(sys_bpf(BPF_PROG_LOAD, &a));
  }
  if (pfd < 0)
    return Error::sys(fmt::format("load the cgroup device program ({} instructions) {}", prog.size(), logbuf));
  UniqueFd p(pfd);
  bpf_attr at{};
  at.target_fd = static_cast<uint32_t>(cg.get());
  at.attach_bpf_fd = static_cast<uint32_t>(p.get());
  at.attach_type = BPF_CGROUP_DEVICE;
  at.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf(BPF_PROG_ATTACH, &at) < 0) return Error::sys("attach the device program to " + dir);
  for (uint32_t i = 0; i < old_count && i < 64; ++i) {
    bpf_attr g{};
    g.prog_id = ids[i];
    UniqueFd old(static_cast<int>(sys_bpf(BPF_PROG_GET_FD_BY_ID, &g)));
    if (!old) continue;
    bpf_attr d{};
    d.target_fd = static_cast<uint32_t>(cg.get());
    d.attach_bpf_fd = static_cast<uint32_t>(old.get());
    d.attach_type = BPF_CGROUP_DEVICE;
    if (sys_bpf(BPF_PROG_DETACH, &d) < 0) return Error::sys("detach the previous device program of " + dir);
  }
  return {};
}

}  // namespace husk::os::cgroups
