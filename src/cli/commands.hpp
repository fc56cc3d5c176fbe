// One function per command: each adds its subcommand and options to the app and sets
// `action` when selected. The action calls exactly one runtime:: function and prints.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "husk/core/error.hpp"
#include "husk/runtime/options.hpp"
#include "husk/state/store.hpp"

namespace husk::cli {

using Action = std::function<Result<int>()>;

// runc's texts for the errors scripts compare (unknown id, wrong status): printed bare, as
// runc prints them.
inline bool runc_text(const Error& e) {
  const std::string& m = e.message();
  return m == state::kNoSuchContainer || m == "container not running" || m == "container not paused" ||
         m.rfind("cannot delete container ", 0) == 0;
}

// `r` with the command's name before its error ("update: ..."), except runc's texts.
template <class R>
R named(R r, std::string_view name) {
  if (r || runc_text(r.error())) return r;
  return std::move(r).context(name);
}

struct Registry {
  CLI::App& app;
  const runtime::GlobalOptions& global;
  Action& action;
};

void add_create(Registry r);
void add_start(Registry r);
void add_run(Registry r);
void add_state(Registry r);
void add_list(Registry r);
void add_kill(Registry r);
void add_delete(Registry r);
void add_spec(Registry r);
void add_features(Registry r);
void add_pause(Registry r);
void add_resume(Registry r);
void add_ps(Registry r);
void add_update(Registry r);
void add_events(Registry r);
void add_exec(Registry r);

// A subcommand whose only argument is a container id, running `fn` on it (start, pause,
// resume). The id lives in static storage: one command runs per process.
using IdFn = Result<void> (*)(const runtime::GlobalOptions&, const std::string&);
void add_id_command(Registry r, const char* name, const char* help, IdFn fn);

// Options shared by create and run.
void add_create_options(CLI::App* sub, runtime::CreateOptions& o);
void print(std::string_view s);

}  // namespace husk::cli
