// One function per command; the CLI calls exactly one of them and prints the result.
#pragma once

#include <string>

#include "husk/core/error.hpp"
#include "husk/runtime/options.hpp"

namespace husk::runtime {

Result<void> create(const GlobalOptions& g, const CreateOptions& o);
Result<void> start(const GlobalOptions& g, const std::string& id);
// Returns the exit code `husk run` exits with (the container's, or 128+signal).
Result<int> run(const GlobalOptions& g, const RunOptions& o);
Result<std::string> state(const GlobalOptions& g, const std::string& id);
Result<std::string> list(const GlobalOptions& g, const ListOptions& o);
Result<void> kill(const GlobalOptions& g, const KillOptions& o);
Result<void> remove(const GlobalOptions& g, const DeleteOptions& o);
Result<void> write_spec(const SpecOptions& o);
std::string features_json();
std::string version_text();

}  // namespace husk::runtime
