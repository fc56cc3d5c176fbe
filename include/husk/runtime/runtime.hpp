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
// Returns the exit code `husk exec` exits with: the process's, 128+signal, or 0 with -d.
Result<int> exec(const GlobalOptions& g, const ExecOptions& o);
Result<std::string> state(const GlobalOptions& g, const std::string& id);
Result<std::string> list(const GlobalOptions& g, const ListOptions& o);
Result<void> kill(const GlobalOptions& g, const KillOptions& o);
Result<void> remove(const GlobalOptions& g, const DeleteOptions& o);
Result<void> write_spec(const SpecOptions& o);
Result<void> pause(const GlobalOptions& g, const std::string& id);
Result<void> resume(const GlobalOptions& g, const std::string& id);
Result<std::string> ps(const GlobalOptions& g, const PsOptions& o);
Result<void> update(const GlobalOptions& g, const UpdateOptions& o);
// Prints events (stats, oom) as JSON lines until the container stops; with --stats once.
Result<int> events(const GlobalOptions& g, const EventsOptions& o);
// "512m", "1g", "1024", "-1" -> bytes (docker's RAMInBytes: binary multiples).
Result<int64_t> parse_size(std::string_view s);
std::string features_json();
std::string version_text();

}  // namespace husk::runtime
