#include "commands.hpp"
#include "husk/runtime/runtime.hpp"

namespace husk::cli {

void add_state(Registry r) {
  static std::string id;
  auto* sub = r.app.add_subcommand("state", "print the OCI state of a container as JSON");
  sub->add_option("container-id", id, "id of the container")->required();
  sub->callback([r] {
    r.action = [g = &r.global]() -> Result<int> {
      TRY_ASSIGN(auto json, named(runtime::state(*g, id), "state"));
      print(json);
      return 0;
    };
  });
}

}  // namespace husk::cli
