#include "husk/os/rootless.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cstdlib>
#include <vector>

#include "husk/core/fd.hpp"
#include "husk/spec/defaults.hpp"

namespace husk::os::rootless {

Result<Mode> parse_mode(std::string_view s) {
  if (s.empty() || s == "auto") return Mode::automatic;
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"})
    if (s == t) return Mode::on;
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"})
    if (s == f) return Mode::off;
  return Error::make(Errc::invalid_argument,
                     fmt::format("--rootless: invalid value \"{}\": want true, false or auto", s));
}

bool is_initial_uid_map(std::string_view text) {
  // Fields are separated by runs of spaces; one line, maybe newline-terminated.
  std::vector<std::string_view> f;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i < text.size() && text[i] == '\n') {
      ++i;
      if (i != text.size()) return false;  // a second line
      break;
    }
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t' && text[j] != '\n') ++j;
    if (j > i) f.push_back(text.substr(i, j - i));
    i = j;
  }
  return f.size() == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295";
}

bool decide(Mode m, uid_t euid, bool in_user_ns) {
  if (m == Mode::on) return true;
  if (m == Mode::off) return false;
  return euid != 0 || in_user_ns;
}

bool honor_xdg_runtime_dir(const std::optional<std::string>& xdg, uid_t euid, bool in_user_ns,
                           const std::optional<std::string>& user) {
  if (!xdg || xdg->empty()) return false;
  if (euid != 0) return true;
  if (!in_user_ns) return false;  // the real root keeps /run/husk even with /run/user/0 set
  return !user || *user != "root";
}

std::string default_state_root(const std::optional<std::string>& xdg, uid_t euid, bool in_user_ns,
                               const std::optional<std::string>& user) {
  if (honor_xdg_runtime_dir(xdg, euid, in_user_ns, user)) return *xdg + "/husk";
  return "/run/husk";
}

bool in_user_namespace() {
  auto t = read_file("/proc/self/uid_map");
  return t && !is_initial_uid_map(*t);
}

Result<bool> detect(std::string_view mode) {
  TRY_ASSIGN(Mode m, parse_mode(mode));
  if (m != Mode::automatic) return m == Mode::on;
  uid_t euid = ::geteuid();
  return decide(m, euid, euid == 0 && in_user_namespace());
}

std::string default_state_root() {
  auto env = [](const char* n) -> std::optional<std::string> {
    const char* v = std::getenv(n);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  auto xdg = env("XDG_RUNTIME_DIR");
  uid_t euid = ::geteuid();
  // The uid_map read is only needed for euid 0 with XDG_RUNTIME_DIR set.
  bool in_ns = xdg && !xdg->empty() && euid == 0 && in_user_namespace();
  return default_state_root(xdg, euid, in_ns, env("USER"));
}

Result<void> check_rlimits(const std::vector<spec::RlimitOp>& limits,
                           const std::function<std::optional<uint64_t>(int)>& current_hard) {
  for (size_t i = 0; i < limits.size(); ++i) {
    auto& l = limits[i];
    auto cur = current_hard(l.resource);
    if (!cur || l.hard <= *cur) continue;
    auto lim = [](uint64_t v) { return v == RLIM_INFINITY ? std::string("unlimited") : std::to_string(v); };
    return Error::make(Errc::invalid_spec,
                       fmt::format("config.json: /process/rlimits/{}: {} hard limit {} is above the caller's {} "
                                   "(rootless: raising it needs CAP_SYS_RESOURCE)",
                                   i, spec::rlimit_name(l.resource), lim(l.hard), lim(*cur)));
  }
  return {};
}

Result<void> check_rlimits(const std::vector<spec::RlimitOp>& limits) {
  return check_rlimits(limits, [](int res) -> std::optional<uint64_t> {
    rlimit r{};
    if (::getrlimit(static_cast<__rlimit_resource>(res), &r) < 0) return std::nullopt;
    return static_cast<uint64_t>(r.rlim_max);
  });
}

Result<void> set_own_oom_score_adj(int value) {
  std::string cur = "?";
  if (auto t = read_file("/proc/self/oom_score_adj")) cur = std::string(*t).substr(0, t->find('\n'));
  if (auto r = write_file("/proc/self/oom_score_adj", std::to_string(value)); !r) {
    int e = r.error().sys_errno();
    if (e == EACCES || e == EPERM)
      return Error::make(Errc::invalid_spec,
                         fmt::format("config.json: /process/oomScoreAdj: {} is lower than the caller's {} (rootless: "
                                     "lowering it needs CAP_SYS_RESOURCE)",
                                     value, cur));
    return std::move(r).error().context("config.json: /process/oomScoreAdj");
  }
  return {};
}

}  // namespace husk::os::rootless
