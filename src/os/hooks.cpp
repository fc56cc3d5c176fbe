#include "husk/os/hooks.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "husk/core/log.hpp"
#include "husk/os/syscall.hpp"

namespace husk::os::hooks {

namespace {
// The bundle named in the state the hook receives ("" when absent or unreadable).
std::string bundle_of(std::string_view state_json) {
  auto j = nlohmann::json::parse(state_json, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("bundle") || !j["bundle"].is_string()) return "";
  return j["bundle"].get<std::string>();
}

// Hooks that run in the runtime's namespaces: as runc, whose runtime process works in the
// bundle directory, they start there (hook authors use relative paths from the bundle).
bool runs_in_bundle(std::string_view kind) {
  return kind == "prestart" || kind == "createRuntime" || kind == "poststart" || kind == "poststop";
}
}  // namespace

Result<void> run_hook(const spec::Hook& h, std::string_view state_json) { return run_hook(h, state_json, "", false); }

Result<void> run_hook(const spec::Hook& h, std::string_view state_json, const std::string& cwd, bool inherit_env) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return Error::sys("pipe");
  UniqueFd rd(p[0]), wr(p[1]);
  std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : h.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  // No `env`: a runtime-side hook inherits the runtime's environment, as with runc (GPU and
  // network hooks read PATH and their own variables from it).
  char** env = h.env.empty() && inherit_env ? environ : envp.data();
  pid_t pid = ::fork();
  if (pid < 0) return Error::sys("fork hook");
  if (pid == 0) {
    ::dup2(rd.get(), 0);
    ::signal(SIGPIPE, SIG_DFL);
    if (!cwd.empty() && ::chdir(cwd.c_str()) < 0) _exit(127);
    ::execve(h.path.c_str(), argv.data(), env);
    _exit(127);
  }
  rd.reset();
  // A hook may not read its stdin: ignore SIGPIPE for the write only. The caller may be
  // the container init, whose dispositions the user's process inherits.
  struct sigaction ign {
  }, old{};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &old);
  (void)write_all(wr.get(), state_json);
  ::sigaction(SIGPIPE, &old, nullptr);
  wr.reset();
  int status = 0;
  if (h.timeout) {
    UniqueFd pfd(sys_pidfd_open(pid, 0));
    if (pfd) {
      pollfd x{pfd.get(), POLLIN, 0};
      int r;
      while ((r = ::poll(&x, 1, *h.timeout * 1000)) < 0 && errno == EINTR) {
      }
      if (r == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return Error::make(Errc::internal, fmt::format("hook {} timed out after {}s", h.path, *h.timeout));
      }
    }
  }
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return Error::sys("wait for hook");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return Error::make(Errc::internal, fmt::format("hook {} could not be executed (exit 127)", h.path));
  if (WIFSIGNALED(status))
    return Error::make(Errc::internal, fmt::format("hook {} killed by signal {}", h.path, WTERMSIG(status)));
  return Error::make(Errc::internal, fmt::format("hook {} exited with status {}", h.path, WEXITSTATUS(status)));
}

Result<void> run_hooks(std::string_view kind, const std::vector<spec::Hook>& hs, std::string_view state_json) {
  for (size_t i = 0; i < hs.size(); ++i)
    TRY(run_hook(hs[i], state_json, runs_in_bundle(kind) ? bundle_of(state_json) : "", runs_in_bundle(kind))
            .context(fmt::format("{} hook #{}", kind, i)));
  return {};
}

void run_hooks_warn(std::string_view kind, const std::vector<spec::Hook>& hs, std::string_view state_json) {
  for (size_t i = 0; i < hs.size(); ++i)
    if (auto r = run_hook(hs[i], state_json, runs_in_bundle(kind) ? bundle_of(state_json) : "", runs_in_bundle(kind))
                     .context(fmt::format("{} hook #{}", kind, i));
        !r)
      log::warning("{}", r.error().describe());
}

}  // namespace husk::os::hooks
