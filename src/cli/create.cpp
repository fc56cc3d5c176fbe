#include "commands.hpp"
#include "husk/runtime/runtime.hpp"

namespace husk::cli {

void add_create(Registry r) {
  static runtime::CreateOptions o;
  auto* sub = r.app.add_subcommand("create", "create a container (its init waits for `start`)");
  add_create_options(sub, o);
  sub->callback([r] {
    r.action = [g = &r.global]() -> Result<int> {
      TRY(runtime::create(*g, o));
      return 0;
    };
  });
}

}  // namespace husk::cli
