#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "harness.hpp"
#include "helpers.hpp"

using namespace it;

// Appends "<name> <status>" to `log` (tests/support).
static nlohmann::json hook(const std::string& log, const std::string& name) { return status_hook(log, name); }

TEST_CASE("hooks: every hook runs, in order, with the state on stdin", "[hooks]") {
  Bundle b("hooks");
  std::string log = b.dir + "/hooks.log";
  for (auto n : {"prestart", "createRuntime", "createContainer", "poststart", "poststop"})
    b.config["hooks"][n] = {hook(log, n)};
  // startContainer runs inside the container, after pivot_root: a container path.
  b.config["hooks"]["startContainer"] = {
      {{"path", "/bin/test_init"}, {"args", {"test_init", "write", "/started", "x"}}}};
  b.args({"/bin/test_init", "cat", "/started"});
  Out o = b.run();
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out == "wrote\nx");  // the hook's stdout is the container's
  CHECK(slurp(log) ==
        "prestart created\ncreateRuntime created\ncreateContainer created\npoststart running\npoststop stopped\n");
}

TEST_CASE("hooks: the init's hooks leave no ignored signal to the user's process", "[hooks]") {
  Bundle b("hooksig");
  b.config["hooks"]["createContainer"] = {{{"path", "/bin/true"}}};
  b.config["hooks"]["startContainer"] = {{{"path", "/bin/test_init"}, {"args", {"test_init", "exit", "0"}}}};
  b.args({"/bin/test_init", "cat", "/proc/self/status"});
  Out o = b.run();
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find("SigIgn:\t0000000000000000") != std::string::npos);  // SIGPIPE restored
  CHECK(o.out.find("SigBlk:\t0000000000000000") != std::string::npos);
}

TEST_CASE("hooks: a failing createRuntime hook fails create and leaves nothing", "[hooks]") {
  Bundle b("hookfail");
  b.config["hooks"]["createRuntime"] = {{{"path", "/bin/false"}}};
  Out o = b.create();
  CHECK(o.code != 0);
  CHECK(o.err.find("createRuntime hook #0") != std::string::npos);
  CHECK_FALSE(exists(state_root() + "/" + b.id));
  CHECK(leftover_cgroups() == std::vector<std::string>{});
  CHECK(host_mounts_with(b.dir).empty());
}

TEST_CASE("hooks: timeout kills a hung hook", "[hooks]") {
  Bundle b("hooktimeout");
  b.config["hooks"]["prestart"] = {{{"path", "/bin/sleep"}, {"args", {"sleep", "30"}}, {"timeout", 1}}};
  Out o = b.create();
  CHECK(o.code != 0);
  CHECK(o.err.find("timed out") != std::string::npos);
}

TEST_CASE("hooks: a failing poststop hook only warns", "[hooks]") {
  Bundle b("poststop");
  b.config["hooks"]["poststop"] = {{{"path", "/bin/false"}}};
  b.args({"/bin/test_init", "exit", "0"});
  CHECK(b.run().code == 0);
  CHECK_FALSE(exists(state_root() + "/" + b.id));
}
