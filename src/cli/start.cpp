#include "commands.hpp"
#include "husk/runtime/runtime.hpp"

namespace husk::cli {

void add_start(Registry r) {
  static std::string id;
  auto* sub = r.app.add_subcommand("start", "run the user-defined process of a created container");
  sub->add_option("container-id", id, "id of the container")->required();
  sub->callback([r] {
    r.action = [g = &r.global]() -> Result<int> {
      TRY(runtime::start(*g, id).context("start"));
      return 0;
    };
  });
}

}  // namespace husk::cli
