#include <catch2/catch.hpp>

#include "husk/core/fd.hpp"
#include "husk/spec/json.hpp"

using namespace husk;

static std::string fixture(const char* name) { return *read_file(std::string(HUSK_TEST_DATA) + "/" + name); }

TEST_CASE("parse: a full config") {
  auto s = spec::parse(fixture("minimal.json"));
  REQUIRE(s);
  CHECK(s->oci_version == "1.2.0");
  CHECK(s->process->args == std::vector<std::string>{"/bin/true"});
  CHECK(s->process->user.uid == 1000);
  CHECK(s->process->user.additional_gids == std::vector<uint32_t>{5, 6});
  CHECK(s->root->readonly);
  CHECK(s->mounts.size() == 3);
  CHECK(s->mounts[1].options == std::vector<std::string>{"rbind", "ro", "rprivate"});
  CHECK(s->hooks.prestart.at(0).timeout == 5);
  CHECK(s->linux_->namespaces.at(4).path == "/var/run/netns/x");
  CHECK(s->linux_->devices.at(0).file_mode == 438u);
  CHECK(s->annotations.at("a") == "b");
}

TEST_CASE("parse: errors name the JSON pointer of the bad field") {
  auto bad = [](const char* text) {
    auto r = spec::parse(text);
    REQUIRE_FALSE(r);
    return r.error().message();
  };
  CHECK(bad(R"({"ociVersion":"1.2.0","process":{"args":["a",1],"cwd":"/"}})") ==
        "config.json: /process/args/1: must be a string");
  CHECK(bad(R"({"ociVersion":"1.2.0","linux":{"resources":{"memory":{"limit":"1g"}}}})") ==
        "config.json: /linux/resources/memory/limit: must be a number");
  CHECK(bad(R"({"ociVersion":"1.2.0","process":{"user":{"uid":-1}}})") ==
        "config.json: /process/user/uid: must be a non-negative integer");
  CHECK(bad(R"({"ociVersion":"1.2.0","mounts":[{"type":"tmpfs"}]})") ==
        "config.json: /mounts/0/destination: is required");
  CHECK(bad(R"({"ociVersion":)").find("invalid JSON") != std::string::npos);
  CHECK(bad("[]") == "config.json: must be a JSON object");
}

TEST_CASE("parse: unknown fields are ignored") {
  auto r = spec::parse(R"({"ociVersion":"1.2.0","whatever":{"x":1},"process":{"args":["a"],"cwd":"/","future":true}})");
  REQUIRE(r);
}

TEST_CASE("parse: process.json (exec --process)") {
  auto r = spec::parse_process(R"({"args":["sh"],"cwd":"/","terminal":true,"consoleSize":{"height":24,"width":80}})",
                               "process.json");
  REQUIRE(r);
  CHECK(r->terminal);
  CHECK(r->console_size->width == 80);
}
