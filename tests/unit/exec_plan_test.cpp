// exec's plan (pure): runc's getProcess rules for the CLI form, the --process form used
// as it is, the container-wide fallbacks, env rules, and the new process fields.
#include <catch2/catch.hpp>

#include "husk/spec/defaults.hpp"
#include "husk/spec/json.hpp"
#include "husk/spec/plan.hpp"
#include "husk/spec/validate.hpp"

using namespace husk;

namespace {
spec::Spec container() {
  auto s = spec::parse(R"({"ociVersion":"1.2.0","root":{"path":"r"},
    "process":{"args":["init"],"cwd":"/","env":["PATH=/bin","A=1"],"user":{"uid":0,"gid":0,"umask":18},
      "capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]},
      "rlimits":[{"type":"RLIMIT_NOFILE","soft":10,"hard":20}],"oomScoreAdj":300,"noNewPrivileges":true,
      "scheduler":{"policy":"SCHED_BATCH","nice":5},"execCPUAffinity":{"final":"0-1"}},
    "linux":{"personality":{"domain":"LINUX32"},"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"}}})");
  REQUIRE(s);
  return *s;
}
spec::ExecOverrides args(std::vector<std::string> a) {
  spec::ExecOverrides o;
  o.args = std::move(a);
  return o;
}
}  // namespace

TEST_CASE("exec plan: the CLI form changes the container's process") {
  auto o = args({"sh", "-c", "x"});
  o.cwd = "/tmp";
  o.env = {"A=2", "B=3"};
  o.user = "1000:1001";
  o.additional_gids = {20, 30};
  o.caps = {"CAP_NET_ADMIN"};
  auto p = spec::make_exec_plan(container(), std::nullopt, "", o);
  REQUIRE(p);
  auto& pp = p->process;
  CHECK(pp.args == std::vector<std::string>{"sh", "-c", "x"});
  CHECK(pp.cwd == "/tmp");
  CHECK(pp.env == std::vector<std::string>{"PATH=/bin", "A=2", "B=3"});  // last wins
  CHECK_FALSE(pp.home_set);
  CHECK(pp.uid == 1000);
  CHECK(pp.gid == 1001);
  CHECK(pp.additional_gids == std::vector<uint32_t>{20, 30});
  REQUIRE(pp.caps);
  CHECK(pp.caps->bounding == ((1u << 5) | (1u << 12)));
  CHECK(pp.caps->effective == ((1u << 5) | (1u << 12)));
  CHECK(pp.caps->inheritable == 0);  // never added by --cap (CVE-2022-29162)
  CHECK(pp.caps->ambient == 0);
  CHECK(pp.no_new_privileges);  // the container's
  CHECK_FALSE(pp.terminal);     // only with --tty
  CHECK(pp.umask == 18u);
  CHECK(pp.rlimits.size() == 1);
  REQUIRE(pp.scheduler);
  CHECK(pp.scheduler->policy == 3);
  CHECK(pp.cpus_final == std::vector<unsigned>{0, 1});
  CHECK(p->oom_score_adj == 300);
  CHECK(p->personality == 0x0008UL);
  CHECK(p->seccomp);
}

TEST_CASE("exec plan: --process is used as it is, with container-wide fallbacks") {
  auto proc = spec::parse_process(
      R"({"args":["top"],"cwd":"/","terminal":true,"env":["HOME=","X=1"],"user":{"uid":5,"gid":6}})", "p.json");
  REQUIRE(proc);
  auto o = args({"ignored"});
  o.cwd = "/ignored";
  auto p = spec::make_exec_plan(container(), *proc, "p.json", o);
  REQUIRE(p);
  auto& pp = p->process;
  CHECK(pp.args == std::vector<std::string>{"top"});
  CHECK(pp.cwd == "/");
  CHECK(pp.terminal);
  CHECK(pp.env == std::vector<std::string>{"X=1"});  // an empty HOME is dropped
  CHECK_FALSE(pp.no_new_privileges);                 // the file's (absent = false), as runc
  REQUIRE(pp.caps);                                  // none in the file: the container's
  CHECK(pp.caps->bounding == (1u << 5));
  CHECK(pp.rlimits.size() == 1);
  CHECK(pp.umask == 18u);
}

TEST_CASE("exec plan: bad input names the flag or the field") {
  auto msg = [](const spec::ExecOverrides& o) {
    auto p = spec::make_exec_plan(container(), std::nullopt, "", o);
    REQUIRE_FALSE(p);
    return p.error().message();
  };
  CHECK(msg(args({})) == "exec: a command is required (or --process FILE)");
  auto o = args({"x"});
  o.env = {"NOEQUALS"};
  CHECK(msg(o) == "--env \"NOEQUALS\": must be NAME=VALUE");
  o = args({"x"});
  o.additional_gids = {-1};
  CHECK(msg(o).find("--additional-gids -1") == 0);
  o = args({"x"});
  o.cwd = "rel";
  CHECK(msg(o) == "exec: config.json: /process/cwd: \"rel\" must be an absolute path");
  auto proc = spec::parse_process(R"({"args":["x"],"cwd":"/","capabilities":{"bounding":["CAP_X"]}})", "p.json");
  REQUIRE(proc);
  // Unknown capabilities: warned and skipped (runtime-spec 1.1+, runc), in --cap and in
  // process.json alike.
  auto p = spec::make_exec_plan(container(), *proc, "p.json", args({}));
  REQUIRE(p);
  CHECK(p->warnings ==
        std::vector<std::string>{"p.json: /capabilities/bounding/0: unknown capability \"CAP_X\" ignored"});
  REQUIRE(p->process.caps);
  CHECK(p->process.caps->bounding == 0);
  o = args({"x"});
  o.caps = {"CAP_NOPE", "CAP_KILL", "CAP_NOPE"};
  p = spec::make_exec_plan(container(), std::nullopt, "", o);
  REQUIRE(p);
  CHECK(p->warnings == std::vector<std::string>{"ignoring unknown or unavailable capabilities: [CAP_NOPE]"});
  REQUIRE(p->process.caps);
  CHECK(p->process.caps->bounding & (uint64_t{1} << 5));  // CAP_KILL
}

TEST_CASE("exec plan: --user is strict") {
  CHECK(spec::parse_user("1000")->first == 1000);
  CHECK_FALSE(spec::parse_user("1000")->second);
  CHECK(spec::parse_user("0:5")->second == 5u);
  for (auto bad : {"", "x", "-1", "+1", "1:", ":1", "1:2:3", "1 ", "4294967295", "99999999999"}) {
    INFO(bad);
    CHECK_FALSE(spec::parse_user(bad));
  }
}

TEST_CASE("exec plan: the ptrace rule") {
  spec::CapSets none{}, ptrace{};
  ptrace.bounding = 1ull << 19;
  CHECK(spec::may_ptrace_host(std::nullopt, false));  // no capabilities object: all of ours
  CHECK(spec::may_ptrace_host(ptrace, false));
  CHECK_FALSE(spec::may_ptrace_host(none, false));
  CHECK_FALSE(spec::may_ptrace_host(ptrace, true));  // its own user namespace
}

TEST_CASE("env: duplicates keep the last value; an empty HOME is dropped") {
  bool home = false;
  CHECK(spec::dedupe_env({"A=1", "B=2", "A=3"}, home) == std::vector<std::string>{"B=2", "A=3"});
  CHECK_FALSE(home);
  CHECK(spec::dedupe_env({"HOME=/x", "HOME="}, home).empty());
  CHECK_FALSE(home);
  CHECK(spec::dedupe_env({"HOME=", "HOME=/y"}, home) == std::vector<std::string>{"HOME=/y"});
  CHECK(home);
}

TEST_CASE("process: scheduler, ioPriority and execCPUAffinity are parsed and checked") {
  auto ok = spec::parse_process(R"({"args":["x"],"cwd":"/","scheduler":{"policy":"SCHED_FIFO","priority":10,
      "flags":["SCHED_FLAG_RESET_ON_FORK"]},"ioPriority":{"class":"IOPRIO_CLASS_IDLE","priority":7},
      "execCPUAffinity":{"initial":"0,2-3","final":""}})",
                                "p.json");
  REQUIRE(ok);
  CHECK(spec::check_process_object(*ok, "p.json: "));
  auto pp = spec::process_plan(*ok, 0, "p.json: ");
  REQUIRE(pp);
  CHECK(pp->scheduler->policy == 1);
  CHECK(pp->scheduler->flags == 1);
  CHECK(pp->scheduler->priority == 10);
  CHECK(pp->io_priority == ((3 << 13) | 7));
  CHECK(pp->cpus_initial == std::vector<unsigned>{0, 2, 3});
  CHECK(pp->cpus_final.empty());

  auto err = [](const char* process) {
    auto p = spec::parse_process(process, "p.json");
    if (!p) return p.error().message();
    auto c = spec::check_process_object(*p, "p.json: ");
    return c ? std::string("ok") : c.error().message();
  };
  CHECK(err(R"({"args":["x"],"cwd":"/","scheduler":{"policy":"SCHED_X"}})") ==
        "p.json: /scheduler/policy: unknown policy \"SCHED_X\"");
  CHECK(err(R"({"args":["x"],"cwd":"/","scheduler":{}})") == "p.json: /scheduler/policy: is required");
  CHECK(err(R"({"args":["x"],"cwd":"/","scheduler":{"policy":"SCHED_OTHER","flags":["NOPE"]}})") ==
        "p.json: /scheduler/flags/0: unknown flag \"NOPE\"");
  CHECK(err(R"({"args":["x"],"cwd":"/","scheduler":{"policy":"SCHED_RR","priority":0}})") ==
        "p.json: /scheduler/priority: 0 is outside [1, 99] for SCHED_RR");
  CHECK(err(R"({"args":["x"],"cwd":"/","scheduler":{"policy":"SCHED_OTHER","nice":20}})") ==
        "p.json: /scheduler/nice: 20 is outside [-20, 19]");
  CHECK(err(R"({"args":["x"],"cwd":"/","scheduler":{"policy":"SCHED_DEADLINE","runtime":10,"deadline":5}})") ==
        "p.json: /scheduler: SCHED_DEADLINE needs 0 < runtime <= deadline <= period");
  CHECK(err(R"({"args":["x"],"cwd":"/","ioPriority":{"class":"IOPRIO_CLASS_BE","priority":8}})") ==
        "p.json: /ioPriority/priority: 8 is outside [0, 7]");
  CHECK(err(R"({"args":["x"],"cwd":"/","ioPriority":{"class":"RT","priority":1}})") ==
        "p.json: /ioPriority/class: unknown class \"RT\"");
  CHECK(err(R"({"args":["x"],"cwd":"/","execCPUAffinity":{"final":"3-1"}})").find("p.json: /execCPUAffinity/final:") ==
        0);
  CHECK(err(R"({"args":["x"],"cwd":"/","env":["=x"]})") == "p.json: /env/0: \"=x\" is not KEY=VALUE");
}

TEST_CASE("cpu lists") {
  CHECK(*spec::cpu_list("") == std::vector<unsigned>{});
  CHECK(*spec::cpu_list("3") == std::vector<unsigned>{3});
  CHECK(*spec::cpu_list("0-2,5") == std::vector<unsigned>{0, 1, 2, 5});
  for (auto bad : {"a", "1-", "-1", "1,", ",1", "2-1", "1;2", "9999999"}) {
    INFO(bad);
    CHECK_FALSE(spec::cpu_list(bad));
  }
}
