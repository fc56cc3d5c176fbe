// Hostile input at every JSON boundary and flag parser: a one-line error, never an
// exception, an abort or unbounded memory (issue 24).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <csignal>

#include "husk/core/fd.hpp"
#include "husk/runtime/runtime.hpp"
#include "husk/spec/defaults.hpp"
#include "husk/spec/json.hpp"
#include "husk/spec/json_input.hpp"
#include "husk/spec/oci_state.hpp"
#include "husk/spec/validate.hpp"
#include "husk/state/store.hpp"

using namespace husk;

static std::string minimal() { return *read_file(std::string(HUSK_TEST_DATA) + "/minimal.json"); }

// `extra` spliced in as the first members of the top-level object.
static std::string with(const std::string& extra) {
  std::string s = minimal();
  return "{" + extra + "," + s.substr(s.find('{') + 1);
}

static bool one_line(const std::string& m) { return !m.empty() && m.find('\n') == std::string::npos; }

TEST_CASE("hostile: a number that overflows a double is a one-line error, anywhere") {
  for (auto doc : {with(R"("x": 1e400)"), with(R"("x": [-1e400])")}) {
    auto r = spec::parse(doc);
    REQUIRE_FALSE(r);
    CHECK(one_line(r.error().message()));
    CHECK(r.error().message().find("config.json") == 0);
    CHECK(r.error().message().find("1e400") != std::string::npos);
  }
  auto p = spec::parse_process(R"({"args":["a"],"x":1E999})", "process.json");
  REQUIRE_FALSE(p);
  CHECK(p.error().message().find("process.json") == 0);
  auto res = spec::parse_resources(R"({"memory":{"limit":1e400}})", "--resources r.json");
  REQUIRE_FALSE(res);
  CHECK(res.error().message().find("--resources r.json") == 0);
}

TEST_CASE("hostile: nesting deeper than 10000 is refused before any recursion") {
  auto nest = [](size_t n) { return std::string(n, '[') + std::string(n, ']'); };
  auto deep = spec::parse(with(R"("process": {"x": )" + nest(100000) + "}"));
  REQUIRE_FALSE(deep);
  CHECK(deep.error().message() == "config.json: invalid JSON: exceeded max depth 10000");
  // 1 (the document) + 9999 = 10000 levels: accepted, as Go's encoding/json does; 10001 not.
  CHECK(spec::parse(with(R"("x": )" + nest(9999)), "config.json"));
  CHECK_FALSE(spec::parse(with(R"("x": )" + nest(10000)), "config.json"));
  // Brackets inside strings do not count.
  CHECK(spec::json_depth(R"({"a":"[[[[[[\"[[["})") == 1);
  CHECK_FALSE(state::state_from_json(nest(20000)));
}

TEST_CASE("hostile: NUL bytes in strings handed to syscalls are refused, naming the field") {
  using J = nlohmann::json;
  auto bad = [](auto edit) {
    J j = J::parse(minimal());
    edit(j);
    auto r = spec::parse(j.dump());
    REQUIRE_FALSE(r);
    return r.error().message();
  };
  std::string nul("a\0b", 3);
  CHECK(bad([&](J& j) { j["hostname"] = nul; }) == "config.json: /hostname: must not contain a NUL byte");
  CHECK(bad([&](J& j) { j["root"]["path"] = nul; }) == "config.json: /root/path: must not contain a NUL byte");
  CHECK(bad([&](J& j) { j["mounts"][0]["destination"] = "/mnt" + nul; }) ==
        "config.json: /mounts/0/destination: must not contain a NUL byte");
  CHECK(bad([&](J& j) { j["process"]["args"][0] = nul; }) ==
        "config.json: /process/args/0: must not contain a NUL byte");
  CHECK(bad([&](J& j) {
          j["linux"]["sysctl"] = {{"net.ipv4.ip_forward", nul}};
        }) == "config.json: /linux/sysctl/net.ipv4.ip_forward: must not contain a NUL byte");
  // Annotations are data, never passed to a syscall.
  J j = J::parse(minimal());
  j["annotations"] = {{"a", nul}};
  CHECK(spec::parse(j.dump()));
}

TEST_CASE("hostile: signal numbers out of range are errors, not exceptions") {
  for (auto s : {"RTMIN+99999999999", "RTMAX-99999999999", "SIGRTMIN+2147483648", "99999999999999999999"}) {
    auto r = spec::parse_signal(s);
    REQUIRE_FALSE(r);
    CHECK(one_line(r.error().message()));
  }
  CHECK(spec::parse_signal("RTMIN+2").value() == SIGRTMIN + 2);
}

TEST_CASE("hostile: update sizes that overflow int64 are errors") {
  auto r = runtime::parse_size("99999999999999999999999g");
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("too large") != std::string::npos);
  CHECK_FALSE(runtime::parse_size("1e400"));
  CHECK_FALSE(runtime::parse_size("9223372036854775808"));
  CHECK(runtime::parse_size("1g").value() == 1073741824);
}

TEST_CASE("hostile: execCPUAffinity stays bounded however long the list") {
  std::string s = "0-8191";
  for (int i = 0; i < 20000; ++i) s += ",0-8191";
  auto r = spec::cpu_list(s);
  REQUIRE(r);
  CHECK(r->size() == 8192);
  CHECK(spec::cpu_list("7,0-2,1-3").value() == std::vector<unsigned>{0, 1, 2, 3, 7});
}

TEST_CASE("hostile: maskedPaths/readonlyPaths without a mount namespace are refused") {
  auto spec = spec::parse(minimal());
  REQUIRE(spec);
  auto& ns = spec->linux_->namespaces;
  ns.erase(std::remove_if(ns.begin(), ns.end(), [](auto& n) { return n.type == "mount"; }), ns.end());
  spec->mounts.clear();
  spec->linux_->masked_paths = {"/proc/kcore"};
  auto r = spec::validate(*spec);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() ==
        "config.json: /linux/maskedPaths: unable to restrict sys entries without a private MNT namespace");
  spec->linux_->masked_paths.clear();
  spec->linux_->readonly_paths = {"/proc/sys"};
  REQUIRE_FALSE(spec::validate(*spec));
}

TEST_CASE("hostile: a bundle path that is not UTF-8 is written and read back exactly") {
  state::State s;
  s.id = "x";
  s.pid = 1;
  s.bundle = "/tmp/b\xff\xfe/x";
  s.rootfs = s.bundle + "/rootfs";
  std::string text;
  REQUIRE_NOTHROW(text = state::to_json(s));
  auto back = state::state_from_json(text);
  REQUIRE(back);
  CHECK(back->bundle == s.bundle);
  CHECK(back->rootfs == s.rootfs);
  spec::OciState o;
  o.id = "x";
  o.bundle = s.bundle;
  REQUIRE_NOTHROW(spec::oci_state_json(o));
}

TEST_CASE("hostile: garbled state files are one-line errors, huge numbers included") {
  for (const char* t :
       {"", "{", "garbage", "[]", "{}", R"({"id":"x"})", R"({"id":"x","pid":1e300})", R"({"id":"x","pid":-5})",
        R"({"id":"x","pid":1,"startTime":1e400})", R"({"id":"x","pid":1,"startTime":-1})",
        R"({"id":"x","pid":1,"hooks":[1]})", R"({"id":7,"pid":1})", R"({"id":"x","pid":1,"bundle":3})"}) {
    auto r = state::state_from_json(t, "/run/husk/x/state.json");
    INFO(t);
    REQUIRE_FALSE(r);
    CHECK(one_line(r.error().message()));
    CHECK(r.error().message().find("/run/husk/x/state.json") != std::string::npos);
  }
}

TEST_CASE("hostile: atomic writes refuse anything planted at the temp name") {
  char dir[] = "/tmp/husk-unit-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  std::string d = dir, target = d + "/victim", pid = d + "/pid";
  REQUIRE(write_file_atomic(target, "keep", 0644));
  REQUIRE(::symlink(target.c_str(), (pid + ".tmp").c_str()) == 0);
  auto r = write_file_atomic(pid, "123", 0644);
  REQUIRE_FALSE(r);
  CHECK(r.error().sys_errno() == EEXIST);
  CHECK(*read_file(target) == "keep");
  ::unlink((pid + ".tmp").c_str());
  REQUIRE(write_file_atomic(pid, "123", 0644));
  CHECK(*read_file(pid) == "123");
  ::unlink(pid.c_str());
  ::unlink(target.c_str());
  ::rmdir(dir);
}

TEST_CASE("hostile: a stale state.json.tmp left by a killed husk does not block saving") {
  char dir[] = "/tmp/husk-unit-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  state::StateStore store(dir);
  auto l = store.create("c1");
  REQUIRE(l);
  int fd = ::open((store.dir("c1") + "/state.json.tmp").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, "half", 4) == 4);
  ::close(fd);
  state::State s;
  s.id = "c1";
  s.pid = 1;
  REQUIRE(store.save(s));
  CHECK(store.load("c1").value().pid == 1);
  REQUIRE(store.remove("c1"));
  ::rmdir(dir);
}
