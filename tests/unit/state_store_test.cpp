#include <stdlib.h>
#include <sys/stat.h>
#include <catch2/catch.hpp>

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
  CHECK(store.load("c2").error().code() == Errc::bad_state);
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
