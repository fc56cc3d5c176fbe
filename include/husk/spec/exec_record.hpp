// The exec record: what `husk exec` needs of the container's config.json, typed. create
// saves it in the state directory (exec.json); exec loads it, so the bundle may change or
// go away. It carries every field that shapes a process: the whole process object and,
// of `linux`, what applies to every process (personality, memoryPolicy; seccomp's defaultAction and
// listener: the rules travel compiled, in seccomp.bpf). tests/unit/exec_record_test.cpp
// fails when a process field is not carried.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "husk/core/error.hpp"
#include "husk/spec/model.hpp"

namespace husk::spec {

struct ExecRecord {
  std::string oci_version;
  std::optional<Process> process;
  std::optional<Personality> personality;
  std::optional<Seccomp> seccomp;  // without syscalls, architectures and flags
  std::optional<MemoryPolicy> memory_policy;
};

// The record of a parsed config (copies typed fields only: unknown keys, however deeply
// nested, are not carried).
ExecRecord exec_record(const Spec& s);
// Saved in config.json's own shape, so the config parser reads it back (older state
// directories hold the same shape).
std::string exec_record_json(const ExecRecord& r);
Result<ExecRecord> parse_exec_record(std::string_view bytes, std::string_view source);
// The process object as config.json spells it (every field of spec::Process).
nlohmann::json process_to_json(const Process& p);

}  // namespace husk::spec
