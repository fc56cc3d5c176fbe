#include "commands.hpp"
#include "husk/runtime/runtime.hpp"

namespace husk::cli {

void add_start(Registry r) {
  add_id_command(r, "start", "run the user-defined process of a created container", runtime::start);
}

}  // namespace husk::cli
