// The per-process steps shared by the container's init (init.cpp) and by exec's tenant
// process (exec.cpp): user, environment, scheduling, CPU affinity, executable lookup and
// the checks right before execve. They run in a child, after the namespaces are joined.
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>

#include "husk/core/path.hpp"
#include "husk/os/capabilities.hpp"
#include "husk/os/console.hpp"
#include "husk/os/passwd.hpp"
#include "roles.hpp"

namespace husk::runtime {

// The process's user: groups, gid, uid, keeping capabilities across the change.
Result<void> apply_user(const spec::ProcessPlan& pp) {
  std::vector<gid_t> groups(pp.additional_gids.begin(), pp.additional_gids.end());
  if (auto pw = read_file("/etc/passwd")) {
    if (auto u = os::passwd::find_user(*pw, pp.uid)) {
      if (auto gr = read_file("/etc/group"))
        for (auto g : os::passwd::groups_of(*gr, u->name))
          if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    }
  }
  if (::setgroups(groups.size(), groups.data()) < 0) {
    // In a user namespace with setgroups denied, only an empty list is allowed.
    if (!(errno == EPERM && groups.empty())) return Error::sys("setgroups");
  }
  if (::setresgid(pp.gid, pp.gid, pp.gid) < 0) return Error::sys(fmt::format("setresgid({})", pp.gid));
  if (::setresuid(pp.uid, pp.uid, pp.uid) < 0) return Error::sys(fmt::format("setresuid({})", pp.uid));
  return {};
}

std::vector<std::string> env_with_home(const spec::ProcessPlan& pp) {
  std::vector<std::string> env = pp.env;
  if (!pp.home_set) {
    std::string home = "/";
    if (auto pw = read_file("/etc/passwd"))
      if (auto u = os::passwd::find_user(*pw, pp.uid); u && !u->home.empty()) home = u->home;
    env.push_back("HOME=" + home);
  }
  return env;
}

// Our own binary must never be exec'd into the container (CVE-2019-5736), directly or as
// a #! interpreter.
Result<void> refuse_self(const std::string& exe, dev_t dev, ino_t ino) {
  auto same = [&](const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino;
  };
  if (same(exe))
    return Error::make(Errc::invalid_spec, fmt::format("exec {:?}: refusing to execute the runtime binary", exe));
  UniqueFd f(::open(exe.c_str(), O_RDONLY | O_CLOEXEC));
  char buf[256] = {};
  if (f && ::read(f.get(), buf, sizeof buf - 1) > 2 && buf[0] == '#' && buf[1] == '!') {
    std::string interp(buf + 2);
    interp = interp.substr(0, interp.find_first_of("\n"));
    size_t b = interp.find_first_not_of(" \t");
    interp = b == std::string::npos ? "" : interp.substr(b);
    interp = interp.substr(0, interp.find_first_of(" \t"));
    if (!interp.empty() && same(interp))
      return Error::make(Errc::invalid_spec, fmt::format("exec {:?}: its interpreter is the runtime binary", exe));
  }
  return {};
}

void reset_signals() {
  uint64_t ign = ~uint64_t{0};
  if (auto st = read_file("/proc/self/status")) {
    auto pos = st->find("\nSigIgn:\t");
    if (pos != std::string::npos) ign = std::strtoull(st->c_str() + pos + 9, nullptr, 16);
  }
  for (int s = 1; s < NSIG && s <= 64; ++s)
    if (ign & (uint64_t{1} << (s - 1))) ::signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// A cwd reached through a leaked fd or magic link would be outside the root
// (CVE-2024-21626): getcwd then reports "(unreachable)" instead of an absolute path.
Result<void> check_cwd(const std::string& cwd) {
  char buf[4096];
  if (!::getcwd(buf, sizeof buf) || buf[0] != '/')
    return Error::make(Errc::invalid_spec, fmt::format("cwd {:?} is outside the container", cwd));
  return {};
}

Result<std::string> resolve_executable(const std::string& arg0, const std::vector<std::string>& env,
                                       const std::string& cwd) {
  auto ok = [](const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
  };
  if (arg0.find('/') != std::string::npos) {
    std::string p = arg0[0] == '/' ? arg0 : path::join(cwd, arg0);
    if (!ok(p)) return Error::make(Errc::not_found, fmt::format("exec: {:?}: no such executable file", arg0));
    return p;
  }
  std::string search = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (auto& e : env)
    if (e.rfind("PATH=", 0) == 0) search = e.substr(5);
  size_t i = 0;
  while (i <= search.size()) {
    size_t j = search.find(':', i);
    if (j == std::string::npos) j = search.size();
    std::string dir = search.substr(i, j - i);
    if (dir.empty()) dir = cwd;
    std::string cand = path::join(dir[0] == '/' ? dir : path::join(cwd, dir), arg0);
    if (ok(cand)) return cand;
    i = j + 1;
  }
  return Error::make(Errc::not_found, fmt::format("exec: {:?}: executable file not found in $PATH", arg0));
}

Result<void> enter_cwd_and_drop_privileges(const spec::ProcessPlan& pp,
                                           const std::function<Result<void>()>& early_seccomp) {
  bool chdir_later = false;
  if (::chdir(pp.cwd.c_str()) < 0) {
    if (errno != EACCES) return Error::sys(fmt::format("chdir to cwd {:?}", pp.cwd));
    chdir_later = true;
  } else {
    TRY(check_cwd(pp.cwd));
  }
  // Without no_new_privs seccomp needs CAP_SYS_ADMIN: the caller installs it first.
  if (!pp.no_new_privileges) TRY(early_seccomp());
  if (pp.caps) TRY(os::caps::apply_bounding(pp.caps->bounding));
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return Error::sys("prctl(PR_SET_KEEPCAPS)");
  TRY(apply_user(pp));
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return Error::sys("prctl(PR_SET_KEEPCAPS)");
  if (pp.caps) {
    TRY(os::caps::apply_sets(*pp.caps));
    TRY(os::caps::apply_ambient(pp.caps->ambient));
  }
  if (chdir_later) {
    if (::chdir(pp.cwd.c_str()) < 0) return Error::sys(fmt::format("chdir to cwd {:?}", pp.cwd));
    TRY(check_cwd(pp.cwd));
  }
  return {};
}

Result<ConsoleEnds> open_console(bool terminal, const std::string& console_socket) {
  ConsoleEnds e;
  if (!terminal) return e;
  if (!console_socket.empty()) {
    TRY_ASSIGN(e.console, os::console::connect_socket(console_socket));
    return e;
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return Error::sys("socketpair");
  e.console.reset(sv[0]);
  e.peer.reset(sv[1]);
  return e;
}

void self_identity(dev_t& dev, ino_t& ino) {
  struct stat self;
  if (::stat("/proc/self/exe", &self) == 0) {
    dev = self.st_dev;
    ino = self.st_ino;
  }
}

namespace {
// include/uapi/linux/sched/types.h (glibc 2.36 has no wrapper).
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
};
}  // namespace

Result<void> apply_scheduling(const spec::ProcessPlan& pp) {
  if (pp.scheduler) {
    const auto& s = *pp.scheduler;
    SchedAttr a{};
    a.size = sizeof a;
    a.sched_policy = static_cast<uint32_t>(s.policy);
    a.sched_flags = s.flags;
    a.sched_nice = s.nice;
    a.sched_priority = static_cast<uint32_t>(s.priority);
    a.sched_runtime = s.runtime;
    a.sched_deadline = s.deadline;
    a.sched_period = s.period;
    if (::syscall(SYS_sched_setattr, 0, &a, 0) < 0) return Error::sys("sched_setattr (process.scheduler)");
  }
  if (pp.io_priority && ::syscall(SYS_ioprio_set, 1 /*IOPRIO_WHO_PROCESS*/, 0, *pp.io_priority) < 0)
    return Error::sys("ioprio_set (process.ioPriority)");
  return {};
}

Result<void> set_cpu_affinity(const std::vector<unsigned>& cpus, std::string_view what) {
  if (cpus.empty()) return {};
  unsigned max = *std::max_element(cpus.begin(), cpus.end());
  size_t n = std::max<size_t>(CPU_ALLOC_SIZE(max + 1), sizeof(cpu_set_t));
  std::vector<unsigned char> buf(n);
  auto* set = reinterpret_cast<cpu_set_t*>(buf.data());
  for (unsigned c : cpus) CPU_SET_S(c, n, set);
  if (::sched_setaffinity(0, n, set) < 0) return Error::sys(fmt::format("sched_setaffinity ({})", what));
  return {};
}

}  // namespace husk::runtime
