#include <fmt/format.h>

#include <csignal>
#include <cstring>

#include "husk/spec/oci_state.hpp"

namespace husk::spec {
namespace {
struct Sig {
  const char* name;
  int num;
};
constexpr Sig kSigs[] = {
    {"ABRT", SIGABRT},     {"ALRM", SIGALRM},   {"BUS", SIGBUS},   {"CHLD", SIGCHLD}, {"CLD", SIGCHLD},
    {"CONT", SIGCONT},     {"FPE", SIGFPE},     {"HUP", SIGHUP},   {"ILL", SIGILL},   {"INT", SIGINT},
    {"IO", SIGIO},         {"IOT", SIGIOT},     {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},
    {"PROF", SIGPROF},     {"PWR", SIGPWR},     {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV}, {"STKFLT", SIGSTKFLT},
    {"STOP", SIGSTOP},     {"SYS", SIGSYS},     {"TERM", SIGTERM}, {"TRAP", SIGTRAP}, {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},   {"URG", SIGURG},   {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
    {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH}, {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}};
}  // namespace

Result<int> parse_signal(std::string_view s) {
  if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (s.size() > 3) return Error::make(Errc::invalid_argument, fmt::format("invalid signal {:?}", s));
    int n = std::stoi(std::string(s));
    // 0 is the "is it alive?" probe (kill(2)); runc accepts it too.
    if (n < 0 || n > SIGRTMAX) return Error::make(Errc::invalid_argument, fmt::format("invalid signal {:?}", s));
    return n;
  }
  std::string up;
  for (char c : s) up += static_cast<char>(toupper(static_cast<unsigned char>(c)));
  if (up.compare(0, 3, "SIG") == 0) up.erase(0, 3);
  for (auto& x : kSigs)
    if (up == x.name) return x.num;
  if (up.compare(0, 5, "RTMIN") == 0 || up.compare(0, 5, "RTMAX") == 0) {
    int base = up[2] == 'M' && up[3] == 'I' ? SIGRTMIN : SIGRTMAX;
    std::string rest = up.substr(5);
    if (rest.empty()) return base;
    if ((rest[0] == '+' || rest[0] == '-') && rest.size() > 1 && rest.size() <= 4 &&
        std::all_of(rest.begin() + 1, rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      int n = base + std::stoi(rest);
      if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
    }
  }
  return Error::make(Errc::invalid_argument, fmt::format("unknown signal {:?}", s));
}

std::string_view signal_name(int sig) {
  for (auto& x : kSigs)
    if (x.num == sig) return x.name;
  return "";
}

}  // namespace husk::spec
