// The exec record carries every process-affecting field of config.json: a field the
// parser reads but the record drops would work for create and be silently lost by exec.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "husk/core/fd.hpp"
#include "husk/spec/exec_record.hpp"
#include "husk/spec/json.hpp"
#include "husk/spec/plan.hpp"

using namespace husk;
using json = nlohmann::json;

namespace {

json maximal() { return json::parse(*read_file(std::string(HUSK_TEST_DATA) + "/config-maximal.json")); }

json round_trip(const json& config) {
  auto s = spec::parse(config.dump(), "config.json");
  REQUIRE(s);
  auto back = spec::parse_exec_record(spec::exec_record_json(spec::exec_record(*s)), "exec.json");
  REQUIRE(back);
  return json::parse(spec::exec_record_json(*back));
}

// Every member of `want` (recursively through objects) is in `got` with the same value.
void check_carried(const json& want, const json& got, const std::string& where) {
  for (auto& [k, v] : want.items()) {
    std::string at = where + "/" + k;
    INFO(at);
    REQUIRE(got.contains(k));
    if (v.is_object())
      check_carried(v, got.at(k), at);
    else
      CHECK(got.at(k) == v);
  }
}

}  // namespace

TEST_CASE("exec record: the maximal config's process names every runtime-spec process field") {
  // runtime-spec 1.2 config.md "process" (commandLine is Windows only). A field added
  // here and to the model must be added to config-maximal.json, and the test below then
  // fails until the record carries it.
  auto p = maximal().at("process");
  for (const char* k :
       {"terminal", "consoleSize", "user", "args", "env", "cwd", "capabilities", "rlimits", "noNewPrivileges",
        "apparmorProfile", "oomScoreAdj", "selinuxLabel", "scheduler", "ioPriority", "execCPUAffinity"}) {
    INFO(k);
    CHECK(p.contains(k));
  }
}

TEST_CASE("exec record: every process field and the process-affecting linux fields round-trip") {
  auto config = maximal();
  auto rec = round_trip(config);
  check_carried(config.at("process"), rec.at("process"), "/process");
  check_carried(config.at("linux").at("personality"), rec.at("linux").at("personality"), "/linux/personality");
  // runtime-spec 1.3: the memory policy applies to every process of the container.
  check_carried(config.at("linux").at("memoryPolicy"), rec.at("linux").at("memoryPolicy"), "/linux/memoryPolicy");
  for (const char* k : {"defaultAction", "listenerPath", "listenerMetadata"}) {
    INFO(k);
    CHECK(rec.at("linux").at("seccomp").at(k) == config.at("linux").at("seccomp").at(k));
  }
}

TEST_CASE("exec record: the process-affecting linux fields of the maximal config are all carried") {
  // Every linux field that acts on a process rather than on the container as a whole
  // (runtime-spec 1.3 config-linux.md). A new one must join this list and the record.
  auto lin = maximal().at("linux");
  for (const char* k : {"personality", "seccomp", "memoryPolicy"}) {
    INFO(k);
    CHECK(lin.contains(k));
    CHECK(round_trip(maximal()).at("linux").contains(k));
  }
}

TEST_CASE("exec record: memoryPolicy reaches the exec plan") {
  auto s = spec::parse(maximal().dump(), "config.json");
  REQUIRE(s);
  auto rec = spec::parse_exec_record(spec::exec_record_json(spec::exec_record(*s)), "exec.json");
  REQUIRE(rec);
  spec::ExecOverrides o;
  o.args = {"/bin/true"};
  auto plan = spec::make_exec_plan(*rec, std::nullopt, "", o);
  REQUIRE(plan);
  REQUIRE(plan->memory_policy);
  CHECK(plan->memory_policy->mode == "MPOL_INTERLEAVE");
  CHECK(plan->memory_policy->nodes == "0");
  CHECK(plan->memory_policy->flags == std::vector<std::string>{"MPOL_F_STATIC_NODES"});
}

TEST_CASE("exec record: nothing else of the config, and no seccomp rules") {
  auto rec = round_trip(maximal());
  CHECK_FALSE(rec.contains("root"));
  CHECK_FALSE(rec.contains("hostname"));
  CHECK_FALSE(rec.at("linux").contains("namespaces"));
  CHECK_FALSE(rec.at("linux").at("seccomp").contains("syscalls"));
}

TEST_CASE("exec record: deeply nested unknown members are not copied") {
  // The old exec.json subset copied `process` as JSON, recursively: a deep enough value
  // overflowed the stack. (Deeper than 10000 levels the parser refuses the document, as runc
  // does: hostile_input_test.cpp.)
  std::string deep = std::string(9000, '[') + std::string(9000, ']');
  std::string config = R"({"ociVersion":"1.2.0","process":{"args":["a"],"cwd":"/","x-deep":)" + deep + "}}";
  auto s = spec::parse(config, "config.json");
  REQUIRE(s);
  auto rec = json::parse(spec::exec_record_json(spec::exec_record(*s)));
  CHECK_FALSE(rec.at("process").contains("x-deep"));
}

TEST_CASE("exec record: an older exec.json (the config's own shape) loads") {
  auto r = spec::parse_exec_record(
      R"({"ociVersion":"1.0.2","process":{"args":["a"],"cwd":"/"},"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/l"}}})",
      "exec.json");
  REQUIRE(r);
  CHECK(r->process->args.at(0) == "a");
  CHECK(r->seccomp->listener_path == "/l");
  CHECK_FALSE(r->personality);
}
