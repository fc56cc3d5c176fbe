#include "commands.hpp"
#include "husk/runtime/runtime.hpp"

namespace husk::cli {

void add_run(Registry r) {
  static runtime::RunOptions o;
  auto* sub = r.app.add_subcommand("run", "create and start a container; wait for it unless --detach");
  add_create_options(sub, o);
  sub->add_flag("--detach,-d", o.detach, "detach from the container's process");
  sub->add_flag("--keep", o.keep, "do not delete the container after it exits");
  static bool no_subreaper = false;
  sub->add_flag("--no-subreaper", no_subreaper, "accepted for runc compatibility (husk always reaps as a subreaper)");
  sub->callback([r] { r.action = [g = &r.global]() -> Result<int> { return runtime::run(*g, o); }; });
}

}  // namespace husk::cli
