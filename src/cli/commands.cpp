#include "commands.hpp"

#include <unistd.h>

#include "husk/core/fd.hpp"

namespace husk::cli {

void add_create_options(CLI::App* sub, runtime::CreateOptions& o) {
  sub->add_option("container-id", o.id, "unique name of the container")->required();
  sub->add_option("--bundle,-b", o.bundle, "path to the root of the bundle directory (default: current directory)");
  sub->add_option("--console-socket", o.console_socket,
                  "path to an AF_UNIX socket which will receive the pty master of the container's terminal");
  sub->add_option("--pid-file", o.pid_file, "file to write the container init's pid to");
  sub->add_option("--pidfd-socket", o.pidfd_socket, "path to an AF_UNIX socket which will receive a pidfd of the init");
  sub->add_flag("--no-pivot", o.no_pivot, "do not use pivot_root (for a ramdisk rootfs); uses MS_MOVE and chroot");
  sub->add_flag("--no-new-keyring", o.no_new_keyring, "do not create a new session keyring for the container");
  sub->add_option("--preserve-fds", o.preserve_fds, "pass N additional file descriptors (3..3+N-1) to the container")
      ->check(CLI::NonNegativeNumber);
}

void print(std::string_view s) { (void)write_all(1, s); }

void add_id_command(Registry r, const char* name, const char* help, IdFn fn) {
  static std::string id;
  auto* sub = r.app.add_subcommand(name, help);
  sub->add_option("container-id", id, "id of the container")->required();
  sub->callback([r, fn, name] {
    r.action = [g = &r.global, fn, name]() -> Result<int> {
      TRY(named(fn(*g, id), name));
      return 0;
    };
  });
}

}  // namespace husk::cli
