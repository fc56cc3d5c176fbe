#include "commands.hpp"
#include "husk/core/log.hpp"
#include "husk/runtime/runtime.hpp"

namespace husk::cli {

void add_exec(Registry r) {
  static runtime::ExecOptions o;
  auto* sub = r.app.add_subcommand("exec", "run a new process inside a running container");
  sub->add_option("--process,-p", o.process_file,
                  "path to a process.json (an OCI process object); the flags below it are then ignored");
  sub->add_option("--console-socket", o.console_socket,
                  "path to an AF_UNIX socket which will receive the pty master of the process's terminal");
  sub->add_option("--pidfd-socket", o.pidfd_socket,
                  "path to an AF_UNIX socket which will receive a pidfd of the process");
  sub->add_flag("--detach,-d", o.detach, "detach from the process: exit once it runs");
  sub->add_option("--pid-file", o.pid_file, "file to write the process's pid to");
  sub->add_option("--preserve-fds", o.preserve_fds, "pass N additional file descriptors (3..3+N-1) to the process")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--ignore-paused", o.ignore_paused, "allow exec in a paused container (the process starts frozen)");
  sub->add_option("--cgroup", o.cgroups,
                  "run in an existing sub-cgroup of the container: [CONTROLLER[,CONTROLLER]:]PATH (repeatable)")
      ->allow_extra_args(false);
  sub->add_flag("--tty,-t", o.tty, "allocate a pseudo-TTY");
  sub->add_option("--cwd", o.cwd, "current working directory in the container");
  sub->add_option("--env,-e", o.env, "set an environment variable NAME=VALUE (repeatable)")->allow_extra_args(false);
  sub->add_option("--user,-u", o.user, "run as UID[:GID] (numbers)");
  sub->add_option("--additional-gids,-g", o.additional_gids, "add a supplementary group id (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("--cap,-c", o.caps, "add a capability to the bounding, effective and permitted sets (repeatable)")
      ->allow_extra_args(false);
  sub->add_flag("--no-new-privs", o.no_new_privs, "set no_new_privs for the process");
  sub->add_option("--apparmor", o.apparmor, "AppArmor profile for the process");
  sub->add_option("--process-label", o.process_label, "SELinux label for the process");
  sub->add_option("container-id", o.id, "id of the container")->required();
  sub->add_option("command", o.args, "the command and its arguments (unless --process)");
  // Everything after the command belongs to it, flags included ("exec ID sh -c 'exit 7'").
  sub->positionals_at_end();
  sub->prefix_command();
  sub->callback([r] {
    r.action = [g = &r.global]() -> Result<int> {
      if (!o.args.empty() && o.args[0] == "--") o.args.erase(o.args.begin());
      auto code = runtime::exec(*g, o);
      if (code) return *code;
      // runc exits 255 when exec fails, so a caller tells it from the process's codes.
      log::error("{}", code.error().context("exec failed").describe());
      return 255;
    };
  });
}

}  // namespace husk::cli
