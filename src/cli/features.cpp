#include "commands.hpp"
#include "husk/runtime/runtime.hpp"

namespace husk::cli {

void add_features(Registry r) {
  auto* sub = r.app.add_subcommand("features", "print the features husk implements (runtime-spec features.md)");
  sub->callback([r] {
    r.action = []() -> Result<int> {
      print(runtime::features_json());
      return 0;
    };
  });
}

}  // namespace husk::cli
