#include "commands.hpp"
#include "husk/runtime/runtime.hpp"

namespace husk::cli {

void add_list(Registry r) {
  static runtime::ListOptions o;
  auto* sub = r.app.add_subcommand("list", "list the containers under --root");
  sub->alias("ls");
  sub->add_option("--format,-f", o.format, "table or json")->check(CLI::IsMember({"table", "json"}));
  sub->add_flag("--quiet,-q", o.quiet, "print only the container ids");
  sub->callback([r] {
    r.action = [g = &r.global]() -> Result<int> {
      TRY_ASSIGN(auto out, runtime::list(*g, o).context("list"));
      print(out);
      return 0;
    };
  });
}

}  // namespace husk::cli
