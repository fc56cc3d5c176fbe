#include "commands.hpp"
#include "husk/runtime/runtime.hpp"

namespace husk::cli {

void add_kill(Registry r) {
  static runtime::KillOptions o;
  auto* sub = r.app.add_subcommand("kill", "send a signal (default TERM) to the container's init");
  sub->add_option("container-id", o.id, "id of the container")->required();
  sub->add_option("signal", o.signal, "signal name (KILL, SIGKILL) or number (9)");
  sub->add_flag("--all,-a", o.all, "send the signal to every process of the container");
  sub->callback([r] {
    r.action = [g = &r.global]() -> Result<int> {
      TRY(named(runtime::kill(*g, o), "kill"));
      return 0;
    };
  });
}

}  // namespace husk::cli
