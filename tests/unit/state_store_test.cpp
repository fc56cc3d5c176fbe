#include <stdlib.h>
#include <sys/stat.h>
#include <catch2/catch.hpp>
#include <fstream>

#include "husk/core/fd.hpp"
#include "husk/spec/json_input.hpp"
#include "husk/spec/oci_state.hpp"
#include "husk/state/store.hpp"

using namespace husk;

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/husk-unit-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempDir() { std::system(("rm -rf " + path).c_str()); }
};

TEST_CASE("state store: create, save atomically, load, list, remove") {
  TempDir t;
  state::StateStore store(t.path + "/root");
  {
    auto l = store.create("c1");
    REQUIRE(l);
    state::State s;
    s.id = "c1";
    s.pid = 42;
    s.start_time = 7;
    s.bundle = "/b";
    s.annotations["k"] = "v";
    s.cgroup_paths.v1["memory"] = "/sys/fs/cgroup/memory/x";
    s.cgroup_paths.v2 = "/sys/fs/cgroup/unified/x";
    s.hooks.poststop.push_back({"/bin/true", {}, {}, 3});
    REQUIRE(store.save(s));
    struct stat st;
    CHECK(::stat((t.path + "/root/c1/state.json.tmp").c_str(), &st) < 0);  // renamed into place
  }
  auto second = store.create("c1");
  REQUIRE_FALSE(second);
  CHECK(second.error().code() == Errc::exists);
  auto s = store.load("c1");
  REQUIRE(s);
  CHECK(s->pid == 42);
  CHECK(s->start_time == 7);
  CHECK(s->annotations.at("k") == "v");
  CHECK(s->hooks.poststop.at(0).timeout == 3);
  CHECK(s->cgroup_paths.v1.at("memory") == "/sys/fs/cgroup/memory/x");
  CHECK(s->cgroup_paths.v2 == "/sys/fs/cgroup/unified/x");
  CHECK(s->cgroup_driver == "cgroupfs");
  CHECK(*store.list() == std::vector<std::string>{"c1"});
  REQUIRE(store.remove("c1"));
  CHECK(store.load("c1").error().code() == Errc::not_found);
  CHECK(store.lock("c1").error().code() == Errc::not_found);
}

TEST_CASE("state store: a directory without state.json is a create in progress") {
  TempDir t;
  state::StateStore store(t.path);
  auto l = store.create("c2");
  REQUIRE(l);
  auto s = store.load("c2");  // a bare `creating` record: list shows it, delete removes it
  REQUIRE(s);
  CHECK(s->id == "c2");
  CHECK(s->creating);
  CHECK(s->pid == 0);
  CHECK(s->cgroup_paths.all().empty());
  CHECK(store.busy("c2"));  // its create holds the lock
  l->release();
  CHECK_FALSE(store.busy("c2"));
}

TEST_CASE("state store: a creating record round-trips; create refuses a directory that has a record") {
  TempDir t;
  state::StateStore store(t.path);
  state::State s;
  s.id = "c3";
  s.creating = true;
  s.pid = 9;
  s.created_cgroup = true;
  {
    auto l = store.create("c3");
    REQUIRE(l);
    REQUIRE(store.save(s));
  }
  auto back = store.load("c3");
  REQUIRE(back);
  CHECK(back->creating);
  CHECK(back->created_cgroup);
  CHECK(back->pid == 9);
  s.creating = false;
  REQUIRE(store.save(s));
  CHECK_FALSE(store.load("c3")->creating);
  CHECK(state::to_json(s).find("creating") == std::string::npos);
  // A create whose mkdir raced with a delete and another create must not adopt the
  // directory the other one made: EEXIST from mkdir in any case here.
  CHECK(store.create("c3").error().code() == Errc::exists);
}

TEST_CASE("state store: a creating state.json without a pid loads as recovery.json; a stale temp file is replaced") {
  TempDir t;
  state::StateStore store(t.path);
  state::State s;
  s.id = "c4";
  s.creating = true;
  s.cgroup_paths.v1["pids"] = "/sys/fs/cgroup/pids/c4";
  auto l = store.create("c4");
  REQUIRE(l);
  // A husk killed mid-write left state.json.tmp: the next write replaces it.
  { std::ofstream(t.path + "/c4/state.json.tmp") << "stale"; }
  REQUIRE(store.save(s));  // the first record: no pid
  CHECK(store.load("c4")->pid == 0);
  s.pid = 77;
  s.start_time = 5;
  REQUIRE(store.save_recovery(s));  // the init's pid is known: recovery.json only
  CHECK(husk::read_file(t.path + "/c4/state.json")->find("\"pid\":0") != std::string::npos);
  auto mid = store.load("c4");
  REQUIRE(mid);
  CHECK(mid->creating);
  CHECK(mid->pid == 77);
  CHECK(mid->start_time == 5);
  CHECK(mid->cgroup_paths.v1.at("pids") == "/sys/fs/cgroup/pids/c4");
  // The final record is state.json's own; recovery.json stays as it was (still `creating`).
  s.creating = false;
  REQUIRE(store.save(s));
  CHECK_FALSE(store.load("c4")->creating);
  auto rec = store.load_recovery("c4");
  REQUIRE(rec);
  CHECK(rec->creating);
  CHECK(rec->pid == 77);
  // A garbled recovery.json does not hide a creating state.json.
  s.creating = true;
  s.pid = 0;
  REQUIRE(store.save(s));
  { std::ofstream(t.path + "/c4/recovery.json", std::ios::trunc) << "garbage"; }
  auto bare = store.load("c4");
  REQUIRE(bare);
  CHECK(bare->creating);
  CHECK(bare->pid == 0);
}

TEST_CASE("state store: a state file without cgroupDriver was made by cgroupfs") {
  auto s = state::state_from_json(
      R"({"id":"old","pid":1,"cgroupPaths":{"memory":"/sys/fs/cgroup/memory/o","unified":"/sys/fs/cgroup/unified/o"}})");
  REQUIRE(s);
  CHECK(s->cgroup_driver == "cgroupfs");
  CHECK(s->cgroup_paths.v1.at("memory") == "/sys/fs/cgroup/memory/o");
  CHECK(s->cgroup_paths.v2 == "/sys/fs/cgroup/unified/o");
  CHECK(s->cgroup_paths.v1_dir("memory") == "/sys/fs/cgroup/memory/o");
  CHECK(s->cgroup_paths.to_map().at("unified") == "/sys/fs/cgroup/unified/o");
  CHECK(state::to_json(*s).find(R"("cgroupDriver":"cgroupfs")") != std::string::npos);
}

// One builder (spec::state_object) makes the three state objects; their bytes are those
// husk wrote before it (the record shape is the head of state.json).
TEST_CASE("state JSON: the hook, command and record shapes") {
  state::State s;
  s.id = "c1";
  s.oci_version = "1.2.0";
  s.pid = 42;
  s.start_time = 7;
  s.bundle = "/b\xff";  // not UTF-8: shown with U+FFFD, kept exactly in bundleHex by the record
  s.rootfs = "/b/rootfs";
  s.created = "2026-11-30T00:00:00Z";
  std::string bundle = "/b\xef\xbf\xbd";
  auto dump = [](const nlohmann::ordered_json& j) { return spec::dump_json(j); };
  CHECK(spec::oci_state_json(state::oci_state(s, "created", 42)) ==
        R"({"ociVersion":"1.2.0","id":"c1","status":"created","pid":42,"bundle":")" + bundle + R"("})");
  CHECK(dump(spec::state_object(state::oci_state(s, "stopped", 0), spec::StateShape::command)) ==
        R"({"ociVersion":"1.2.0","id":"c1","pid":0,"status":"stopped","bundle":")" + bundle +
            R"(","rootfs":"/b/rootfs","created":"2026-11-30T00:00:00Z","owner":""})");
  CHECK(state::to_json(s).rfind(R"({"id":"c1","ociVersion":"1.2.0","pid":42,"startTime":7,"bundle":")" + bundle +
                                    R"(","bundleHex":"2f62ff","rootfs":"/b/rootfs","created":"2026-11-30T00:00:00Z",)"
                                    R"("owner":"","annotations":{},"cgroupPaths":{},"cgroupDriver":"cgroupfs",)"
                                    R"("createdCgroup":false,"sharedPidNs":false,"hooks":)",
                                0) == 0);
  s.annotations["a"] = "b";
  s.owner = "u";
  CHECK(dump(spec::state_object(state::oci_state(s, "running", 42), spec::StateShape::command)) ==
        R"({"ociVersion":"1.2.0","id":"c1","pid":42,"status":"running","bundle":")" + bundle +
            R"(","rootfs":"/b/rootfs","created":"2026-11-30T00:00:00Z","owner":"u","annotations":{"a":"b"}})");
  auto back = state::state_from_json(state::to_json(s));
  REQUIRE(back);
  CHECK(back->bundle == s.bundle);
}

TEST_CASE("state JSON: the direct record writer gives nlohmann's bytes, and steps aside when it cannot") {
  uint64_t seed = 0x2545f4914f6cdd1dULL;
  auto next = [&] {
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    return seed;
  };
  auto word = [&] {
    std::string w;
    for (size_t n = next() % 12; n > 0; --n) w += static_cast<char>(0x20 + next() % 95);
    // quote and backslash are not plain: keep them for the fallback rounds below
    for (auto& c : w)
      if (c == '"' || c == '\\') c = '_';
    return w;
  };
  int direct = 0, fallback = 0;
  for (int round = 0; round < 3000; ++round) {
    state::State s;
    s.id = word(), s.oci_version = word(), s.bundle = "/" + word(), s.rootfs = "/" + word();
    s.created = word(), s.owner = word(), s.cgroup_driver = word();
    s.pid = static_cast<int>(next() % 100000) - (round % 7 == 0 ? 100 : 0);
    s.start_time = next() >> (next() % 64);
    for (size_t n = next() % 4; n > 0; --n) s.annotations[word()] = word();
    for (size_t n = next() % 4; n > 0; --n) s.cgroup_paths.v1[word()] = "/" + word();
    if (next() % 2) s.cgroup_paths.v2 = "/" + word();
    s.created_cgroup = next() % 2, s.shared_pid_ns = next() % 2, s.no_new_keyring = next() % 2;
    s.no_process = next() % 2, s.creating = next() % 2;
    switch (round % 5) {  // what only the object can write
      case 1:
        s.hooks.poststop.push_back({"/bin/hook", {"hook", "x"}, {"A=1"}, 5});
        break;
      case 2:
        s.annotations["k"] = "quote \" and \\ backslash";
        break;
      case 3:
        s.bundle += "\xff\xfe";  // not UTF-8: bundleHex
        break;
      default:
        break;
    }
    auto fast = state::to_json_plain(s);
    INFO("round " << round);
    CHECK(fast.has_value() == (round % 5 == 0 || round % 5 == 4));
    if (fast) {
      ++direct;
      REQUIRE(*fast == state::to_json_object(s));
    } else {
      ++fallback;
    }
    CHECK(state::to_json(s) == state::to_json_object(s));
  }
  CHECK(direct > 1000);
  CHECK(fallback > 1000);
}
