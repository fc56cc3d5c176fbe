// The command line parser: every subcommand registered, argv from the input split at NUL
// bytes, parsed by CLI11 and the per-command callbacks; the selected action is never run
// (it would create containers), so this is parse-only. Flag values that reach our own
// parsers (signals, sizes) are fuzzed through them too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "husk/runtime/runtime.hpp"
#include "husk/spec/oci_state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace husk;
  std::vector<std::string> words{"husk"};
  std::string cur;
  for (size_t i = 0; i < size && words.size() < 64; ++i) {
    if (data[i] == 0) {
      words.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(data[i]);
    }
  }
  words.push_back(cur);
  for (size_t i = 1; i < words.size(); ++i) {
    (void)spec::parse_signal(words[i]);
    (void)runtime::parse_size(words[i]);
  }
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  CLI::App app{"husk", "husk"};
  runtime::GlobalOptions g;
  app.add_option("--root", g.root);
  app.add_option("--log", g.log_file);
  app.add_option("--log-format", g.log_format)->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", g.debug);
  app.add_flag("--systemd-cgroup", g.systemd_cgroup);
  app.add_option("--rootless", g.rootless);
  app.require_subcommand(1);
  cli::Action action;
  cli::Registry reg{app, g, action};
  for (auto add : {cli::add_create, cli::add_start, cli::add_run, cli::add_state, cli::add_list, cli::add_kill,
                   cli::add_delete, cli::add_spec, cli::add_features, cli::add_pause, cli::add_resume, cli::add_ps,
                   cli::add_update, cli::add_events, cli::add_exec})
    add(reg);
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::Error&) {
  }
  return 0;
}
