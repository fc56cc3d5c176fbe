// husk: the CLI. Global flags come before the subcommand, as with runc. Errors are logged
// once, here, and exit 1.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "husk/core/log.hpp"
#include "husk/os/rootless.hpp"
#include "husk/os/self.hpp"
#include "husk/runtime/runtime.hpp"

using namespace husk;

namespace {
// A parse error as one line (CLI11 prints usage otherwise).
int usage_error(const CLI::ParseError& e, const runtime::GlobalOptions& g) {
  std::string msg = e.what();
  if (msg.empty()) msg = "invalid arguments";
  std::string line = "husk: " + msg + " (see husk --help)\n";
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    // An unknown option: runc's (Go flag's) text, which scripts compare, as an error record.
    auto colon = msg.find(": ");
    std::istringstream words(colon == std::string::npos ? "" : msg.substr(colon + 2));
    for (std::string w; words >> w;)
      if (w.size() > 1 && w[0] == '-') {
        std::string name = w.substr(w[1] == '-' ? 2 : 1);
        name = name.substr(0, name.find('='));
        line = log::format_record(log::Format::text, log::Level::error, "flag provided but not defined: -" + name,
                                  log::now_rfc3339());
        break;
      }
  }
  (void)!::write(2, line.data(), line.size());
  (void)g;
  return 1;
}

struct Cmd {
  const char* name;
  const char* alias;
  void (*add)(cli::Registry);
};
const Cmd kCmds[] = {{"create", nullptr, cli::add_create},
                     {"start", nullptr, cli::add_start},
                     {"run", nullptr, cli::add_run},
                     {"state", nullptr, cli::add_state},
                     {"list", "ls", cli::add_list},
                     {"kill", nullptr, cli::add_kill},
                     {"delete", "rm", cli::add_delete},
                     {"spec", nullptr, cli::add_spec},
                     {"features", nullptr, cli::add_features},
                     {"pause", nullptr, cli::add_pause},
                     {"resume", nullptr, cli::add_resume},
                     {"ps", nullptr, cli::add_ps},
                     {"update", nullptr, cli::add_update},
                     {"events", nullptr, cli::add_events},
                     {"exec", nullptr, cli::add_exec}};

// Returns the exit status when the command line is answered here (the help for global
// options alone, an unknown command), else -1 once the subcommands are registered.
int register_commands(CLI::App& app, cli::Registry reg, int argc, char** argv) {
  // Building every subcommand costs more than a short command's own work (`state`,
  // `kill`): register only the one named on the command line, or all of them for help,
  // errors and unknown names (CLI11 then reports them).
  const Cmd* only = nullptr;
  std::string_view word;
  for (int i = 1; i < argc && !only; ++i) {
    std::string_view a = argv[i];
    if (!a.empty() && a[0] == '-') {
      // A global option given as "--opt value" consumes the next word.
      const CLI::Option* opt =
          a.find('=') == std::string_view::npos ? app.get_option_no_throw(std::string(a)) : nullptr;
      if (opt && opt->get_items_expected_min() > 0) ++i;
      continue;
    }
    word = a;
    for (auto& c : kCmds)
      if (a == c.name || (c.alias && a == c.alias)) only = &c;
    break;
  }
  if (!only && word.empty()) {
    bool asks = false;  // --help / --version are answered by CLI11 below
    for (int i = 1; i < argc; ++i) {
      std::string_view a = argv[i];
      if (a == "-h" || a == "--help" || a == "-v" || a == "--version") asks = true;
    }
    if (!asks) {
      // As runc: global options and no command print the help and succeed.
      for (auto& c : kCmds) c.add(reg);
      std::string h = app.help();
      (void)!::write(1, h.data(), h.size());
      return 0;
    }
  }
  if (!only && !word.empty()) {
    std::string line = "husk: unknown command \"" + std::string(word) + "\" (see husk --help)\n";
    (void)!::write(2, line.data(), line.size());
    return 3;  // runc (urfave/cli) exits 3 for an unknown command; scripts test for it
  }
  for (auto& c : kCmds)
    if (!only || only == &c) c.add(reg);
  return -1;
}
}  // namespace

int main(int argc, char** argv) {
  os::self::remember_argv(argc, argv);
  CLI::App app{"husk: an OCI container runtime (runc-compatible)", "husk"};
  runtime::GlobalOptions g;
  app.set_version_flag("--version,-v", runtime::version_text());
  auto* root_opt =
      app.add_option("--root", g.root,
                     "root directory for container state (default: /run/husk, or $XDG_RUNTIME_DIR/husk for an "
                     "unprivileged caller)");
  app.add_option("--log", g.log_file, "append logs to this file (default: stderr)");
  app.add_option("--log-format", g.log_format, "log format: text or json")->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", g.debug, "enable debug logging");
  app.add_flag("--systemd-cgroup", g.systemd_cgroup,
               "use the systemd cgroup driver: a transient unit per container (cgroupsPath slice:prefix:name)");
  app.add_option("--rootless", g.rootless,
                 "rootless mode: true, false or auto (default: rootless when not root or inside a user namespace)");
  app.require_subcommand(1);
  app.fallthrough(false);

  cli::Action action;
  cli::Registry reg{app, g, action};
  if (int done = register_commands(app, reg, argc, argv); done >= 0) return done;

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    std::string v = e.what();
    (void)!::write(1, v.data(), v.size());
    return 0;
  } catch (const CLI::ParseError& e) {
    return usage_error(e, g);
  }

  // (Checked only when given: the default path stays within the hot-code layout.)
  if (g.rootless != "auto") {
    if (auto m = os::rootless::parse_mode(g.rootless); !m) {
      std::string line = "husk: " + m.error().describe() + "\n";
      (void)!::write(2, line.data(), line.size());
      return 1;
    }
  }
  // runc's rule: an unprivileged caller (or root in a user namespace, USER not "root")
  // with XDG_RUNTIME_DIR set keeps its state in $XDG_RUNTIME_DIR/husk, mode 01700.
  // (Without XDG_RUNTIME_DIR the default stands: no call outside the hot-code layout.)
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); root_opt->count() == 0 && xdg && *xdg) {
    g.root = os::rootless::default_state_root();
    if (g.root != "/run/husk") {
      if ((::mkdir(g.root.c_str(), 0700) < 0 && errno != EEXIST) || ::chmod(g.root.c_str(), 01700) < 0) {
        std::string line = "husk: state root " + g.root + " (from $XDG_RUNTIME_DIR): " + std::strerror(errno) + "\n";
        (void)!::write(2, line.data(), line.size());
        return 1;
      }
    }
  }

  log::Format fmt = g.log_format == "json" ? log::Format::json : log::Format::text;
  int log_fd = 2;
  if (!g.log_file.empty()) {
    log_fd = ::open(g.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      std::string line = "husk: cannot open log file " + g.log_file + ": " + std::strerror(errno) + "\n";
      (void)!::write(2, line.data(), line.size());
      return 1;
    }
  }
  static log::FdSink sink(log_fd, fmt, log_fd != 2);
  log::set_sink(&sink);
  log::set_level(g.debug ? log::Level::debug : log::Level::warning);

  auto r = action();
  if (!r) {
    log::error("{}", r.error().describe());
    return 1;
  }
  return *r;
}
