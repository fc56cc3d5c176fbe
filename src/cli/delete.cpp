#include "commands.hpp"
#include "husk/runtime/runtime.hpp"

namespace husk::cli {

void add_delete(Registry r) {
  static runtime::DeleteOptions o;
  auto* sub = r.app.add_subcommand("delete", "delete a stopped container and everything husk made for it");
  sub->alias("rm");
  sub->add_option("container-id", o.id, "id of the container")->required();
  sub->add_flag("--force,-f", o.force, "kill the container first if it is still running (SIGKILL)");
  sub->callback([r] {
    r.action = [g = &r.global]() -> Result<int> {
      TRY(named(runtime::remove(*g, o), "delete"));
      return 0;
    };
  });
}

}  // namespace husk::cli
