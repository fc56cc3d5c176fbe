#include "commands.hpp"
#include "husk/runtime/runtime.hpp"

namespace husk::cli {

void add_spec(Registry r) {
  static runtime::SpecOptions o;
  auto* sub = r.app.add_subcommand("spec", "write a default config.json into the bundle");
  sub->add_option("--bundle,-b", o.bundle, "bundle directory (default: current directory)");
  sub->add_flag("--rootless", o.rootless, "a config for a rootless container (user namespace, no cgroups)");
  sub->callback([r] {
    r.action = []() -> Result<int> {
      TRY(runtime::write_spec(o).context("spec"));
      return 0;
    };
  });
}

}  // namespace husk::cli
