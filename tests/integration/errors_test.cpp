#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "harness.hpp"

using namespace it;

static void clean(const Bundle& b) {
  CHECK_FALSE(exists(state_root() + "/" + b.id));
  CHECK(leftover_cgroups() == std::vector<std::string>{});
  CHECK(host_mounts_with(b.dir).empty());
}

TEST_CASE("errors: invalid JSON names the pointer of the bad field", "[errors]") {
  Bundle b("badjson");
  b.config["process"]["user"]["uid"] = "root";
  b.save();
  Out o = husk({"create", "--bundle", b.dir, b.id});
  CHECK(o.code == 1);
  CHECK(o.err.find("/process/user/uid: must be a number") != std::string::npos);
  CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
  clean(b);
  std::ofstream(b.dir + "/config.json") << "{ not json";
  CHECK(husk({"create", "--bundle", b.dir, b.id}).err.find("invalid JSON") != std::string::npos);
  clean(b);
}

TEST_CASE("errors: missing rootfs, missing bundle, bad id", "[errors]") {
  Bundle b("norootfs");
  b.config["root"]["path"] = "/nonexistent-rootfs";
  Out o = b.create();
  CHECK(o.code == 1);
  CHECK(o.err.find("/root/path") != std::string::npos);
  clean(b);
  CHECK(husk({"create", "--bundle", "/nonexistent-bundle", "x"}).err.find("/nonexistent-bundle") != std::string::npos);
  CHECK(husk({"create", "--bundle", b.dir, "../evil"}).err.find("invalid container id") != std::string::npos);
}

TEST_CASE("errors: a mount that fails undoes everything", "[errors]") {
  Bundle b("badmount");
  b.config["mounts"].push_back({{"destination", "/x"}, {"type", "bogusfs"}, {"source", "none"}});
  Out o = b.create();
  CHECK(o.code == 1);
  CHECK(o.err.find("mount bogusfs on /x") != std::string::npos);
  clean(b);
}

TEST_CASE("errors: unknown flag, unknown id, taken id", "[errors]") {
  CHECK(husk({"create", "--nope", "x"}).code != 0);
  Out s = husk({"state", "no-such-container"});
  CHECK(s.code == 1);
  CHECK(s.err.find("does not exist") != std::string::npos);
  CHECK(husk({"kill", "no-such-container"}).code == 1);
  CHECK(husk({"delete", "no-such-container"}).code == 1);
  CHECK(husk({"delete", "--force", "no-such-container"}).code == 0);
  Bundle b("taken");
  b.args({"/bin/test_init", "pause"});
  REQUIRE(b.create().code == 0);
  Out again = b.create();
  CHECK(again.code == 1);
  CHECK(again.err.find("already exists") != std::string::npos);
  CHECK(b.state()["status"] == "created");  // the first one is untouched
}

TEST_CASE("errors: --log json puts the final error last, also on stderr", "[errors]") {
  Bundle b("logjson");
  b.args({"/bin/nope"});
  std::string log = b.dir + "/log.json";
  b.save();
  Out o = husk({"--log", log, "--log-format", "json", "create", "--bundle", b.dir, b.id});
  CHECK(o.code == 1);
  std::string text = slurp(log);
  auto last = text.substr(text.rfind('\n', text.size() - 2) + 1);
  auto j = nlohmann::json::parse(last);
  CHECK(j["level"] == "error");
  CHECK(j["msg"].get<std::string>().find("/bin/nope") != std::string::npos);
  CHECK(j.contains("time"));
  CHECK(o.err.find("/bin/nope") != std::string::npos);
  CHECK(husk({"--log-format", "xml", "list"}).code != 0);
}

// Without systemd as PID 1 (this host): runc's reason, one line, nothing left. With systemd:
// tests/systemd/driver.sh in the tests/vm/run.sh --systemd guest.
TEST_CASE("errors: --systemd-cgroup without systemd fails clearly", "[errors]") {
  Bundle b("systemd");
  if (::access("/run/systemd/system", F_OK) == 0) {
    WARN("SKIP: systemd is PID 1 here (tests/systemd/driver.sh covers the driver)");
    return;
  }
  Out o = husk({"--systemd-cgroup", "create", "--bundle", b.dir, b.id});
  CHECK(o.code == 1);
  CHECK(o.err.find("--systemd-cgroup: systemd not running on this host") != std::string::npos);
  CHECK(o.err.find("cannot use systemd cgroups manager") != std::string::npos);
  CHECK(o.err.find("\n") == o.err.size() - 1);                      // one line
  CHECK_FALSE(std::filesystem::exists(state_root() + "/" + b.id));  // nothing left
  clean(b);
}

TEST_CASE("cli: version, features, spec", "[cli]") {
  Out v = husk({"--version"});
  CHECK(v.out.rfind("husk version ", 0) == 0);
  CHECK(v.out.find("\nspec: 1.3.0") != std::string::npos);
  auto f = nlohmann::json::parse(husk({"features"}).out);
  CHECK(f["ociVersionMax"] == "1.3.0");
  CHECK(f["linux"]["namespaces"].size() == 8);
  Bundle b("speccmd");
  CHECK(husk({"spec", "--bundle", b.dir}).code != 0);  // config.json exists already
}
