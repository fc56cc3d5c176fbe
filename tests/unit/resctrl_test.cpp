#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "husk/core/fd.hpp"
#include "husk/os/resctrl.hpp"

using namespace husk;
using namespace husk::os::resctrl;
namespace fs = std::filesystem;

namespace {

// A resctrl-like tree: info/, the root group's schemata and tasks, mon_groups/, and a
// pre-made group "guaranteed".
struct Fixture {
  std::string root;
  Fixture() {
    char dir[] = "/tmp/husk-resctrl-XXXXXX";
    REQUIRE(mkdtemp(dir));
    root = dir;
    fs::create_directories(root + "/info/L3");
    fs::create_directories(root + "/info/MB");
    fs::create_directories(root + "/info/L3_MON");
    fs::create_directories(root + "/mon_groups");
    put("info/last_cmd_status", "ok\n");
    put("schemata", "    L3:0=7ff;1=7ff\n    MB:0=100;1=100\n");
    put("tasks", "");
    fs::create_directories(root + "/guaranteed/mon_groups");
    put("guaranteed/schemata", "    L3:0=7f0;1=01f\n    MB:0=20;1=70\n");
    put("guaranteed/tasks", "");
  }
  ~Fixture() { fs::remove_all(root); }
  void put(const std::string& rel, const std::string& text) { std::ofstream(root + "/" + rel) << text; }
  std::string get(const std::string& rel) { return read_file(root + "/" + rel).value(); }
  bool exists(const std::string& rel) { return fs::exists(root + "/" + rel); }
  // kernfs removes a group's files with the group; a plain directory needs it done.
  void clear_files(const std::string& rel) {
    for (auto& e : fs::directory_iterator(root + "/" + rel))
      if (e.is_regular_file()) fs::remove(e.path());
  }
};

}  // namespace

TEST_CASE("resctrl: the mount is found in mountinfo, or create gets a clear error") {
  CHECK(find_root("22 1 0:20 / /proc rw - proc proc rw\n"
                  "40 22 0:36 / /sys/fs/resctrl rw,relatime - resctrl resctrl rw,mba_MBps\n") == "/sys/fs/resctrl");
  CHECK(find_root("40 22 0:36 / /mnt/my\\040rdt rw - resctrl resctrl rw\n") == "/mnt/my rdt");
  CHECK_FALSE(find_root("22 1 0:20 / /proc rw - proc proc rw\n"));
  char f[] = "/tmp/husk-mi-XXXXXX";
  int fd = mkstemp(f);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(f) << "22 1 0:20 / /proc rw - proc proc rw\n";
  auto r = host_root(f);
  ::unlink(f);
  REQUIRE_FALSE(r);
  CHECK(r.error().message().rfind("config.json: /linux/intelRdt: resctrl is not mounted", 0) == 0);
  // This host has no resctrl (if it does, the root is where mountinfo says).
  auto host = host_root();
  if (!host) CHECK(host.error().message().find("/linux/intelRdt: resctrl is not mounted") != std::string::npos);
}

TEST_CASE("resctrl: value rules") {
  CHECK(validate({"/", {}, {}, {}, false}));
  CHECK(validate({"guaranteed", "L3:0=f", "MB:0=20", {"L2:0=f"}, true}));
  CHECK(validate({"..", {}, {}, {}, false}).error().message() ==
        "config.json: /linux/intelRdt/closID: invalid CLOS name \"..\"");
  CHECK_FALSE(validate({"a/b", {}, {}, {}, false}));
  CHECK(validate({{}, {}, "L3:0=f", {}, false}).error().message() ==
        "config.json: /linux/intelRdt/memBwSchema: must start with \"MB:\"");
  CHECK_FALSE(validate({{}, {}, "MB:0=1\nL3:0=f", {}, false}));
  CHECK(validate({{}, {}, {}, {"L3:0=f", "MB:0=1\n"}, false}).error().message() ==
        "config.json: /linux/intelRdt/schemata/1: must not contain a newline");
}

TEST_CASE("resctrl: schemata text order: l3CacheSchema, memBwSchema, then schemata") {
  CHECK(schemata_text({{}, "L3:0=f", "MB:0=20", {"L2:0=3", "MB:0=30"}, false}) == "L3:0=f\nMB:0=20\nL2:0=3\nMB:0=30\n");
  CHECK(schemata_text({{}, {}, {}, {}, false}).empty());
  CHECK(schemata_match("    L3:0=7f0;1=01f\n    MB:0=20;1=70\n", "L3:0=7F0;1=1f\nMB:1=70\n"));
  CHECK_FALSE(schemata_match("    L3:0=7f0;1=01f\n", "L3:0=7f0;1=3f\n"));
  CHECK_FALSE(schemata_match("    L3:0=7f0\n", "MB:0=20\n"));
  CHECK_FALSE(schemata_match("    L3:0=7f0\n", "L3:0=zz\n"));
}

TEST_CASE("resctrl: no closID: the container's own group, made, written, removed on delete") {
  Fixture fx;
  auto g = apply(fx.root, "c1", {{}, "L3:0=f0;1=f", "MB:0=20;1=70", {"L2:0=3"}, false}, 4242);
  INFO((g ? std::string() : g.error().describe()));
  REQUIRE(g);
  CHECK(g->created);
  CHECK(g->clos_path == fx.root + "/c1");
  CHECK(fx.get("c1/schemata") == "L3:0=f0;1=f\nMB:0=20;1=70\nL2:0=3\n");
  CHECK(fx.get("c1/tasks") == "4242");
  CHECK(g->mon_path.empty());
  fx.clear_files("c1");
  REQUIRE(remove(*g));
  CHECK_FALSE(fx.exists("c1"));
}

TEST_CASE("resctrl: no closID and no schemata: the group is made, schemata untouched") {
  Fixture fx;
  auto g = apply(fx.root, "c2", {{}, {}, {}, {}, false}, 7);
  REQUIRE(g);
  CHECK(g->created);
  CHECK_FALSE(fx.exists("c2/schemata"));
  CHECK(fx.get("c2/tasks") == "7");
  fx.clear_files("c2");
  REQUIRE(remove(*g));
  CHECK_FALSE(fx.exists("c2"));
}

TEST_CASE("resctrl: a pre-made closID without schemata is joined and never removed") {
  Fixture fx;
  auto g = apply(fx.root, "c3", {"guaranteed", {}, {}, {}, false}, 99);
  REQUIRE(g);
  CHECK_FALSE(g->created);
  CHECK(fx.get("guaranteed/tasks") == "99");
  CHECK(fx.get("guaranteed/schemata") == "    L3:0=7f0;1=01f\n    MB:0=20;1=70\n");
  REQUIRE(remove(*g));
  CHECK(fx.exists("guaranteed"));
  // ... and a closID that does not exist is an error, with nothing made.
  auto e = apply(fx.root, "c3", {"missing", {}, {}, {}, false}, 99);
  REQUIRE_FALSE(e);
  CHECK(e.error().message().rfind("config.json: /linux/intelRdt/closID: resctrl group \"missing\" does not exist", 0) ==
        0);
  CHECK_FALSE(fx.exists("missing"));
}

TEST_CASE("resctrl: an existing closID's schemata must match the config's") {
  Fixture fx;
  auto g = apply(fx.root, "c4", {"guaranteed", "L3:0=7f0;1=1f", "MB:0=20", {}, false}, 5);
  INFO((g ? std::string() : g.error().describe()));
  REQUIRE(g);
  CHECK_FALSE(g->created);
  CHECK(fx.get("guaranteed/schemata") == "    L3:0=7f0;1=01f\n    MB:0=20;1=70\n");  // not rewritten
  auto e = apply(fx.root, "c4", {"guaranteed", "L3:0=ff", {}, {}, false}, 5);
  REQUIRE_FALSE(e);
  CHECK(e.error().message().find("resctrl group \"guaranteed\" exists and its schemata do not match") !=
        std::string::npos);
  // A new closID with schemata is made (and, closID being set, not removed on delete).
  g = apply(fx.root, "c4", {"newclos", {}, {}, {"L3:0=3"}, false}, 5);
  REQUIRE(g);
  CHECK(fx.get("newclos/schemata") == "L3:0=3\n");
}

TEST_CASE("resctrl: closID \"/\" is the root group") {
  Fixture fx;
  auto g = apply(fx.root, "c5", {"/", {}, {}, {}, false}, 11);
  REQUIRE(g);
  CHECK(g->clos_path == fx.root);
  CHECK_FALSE(g->created);
  CHECK(fx.get("tasks") == "11");
  REQUIRE(remove(*g));
  CHECK(fs::exists(fx.root));
}

TEST_CASE("resctrl: enableMonitoring: mon_groups/<container-id>, removed on delete") {
  Fixture fx;
  auto g = apply(fx.root, "c6", {"guaranteed", {}, {}, {}, true}, 12);
  REQUIRE(g);
  CHECK(g->mon_path == fx.root + "/guaranteed/mon_groups/c6");
  CHECK(fx.get("guaranteed/tasks") == "12");
  CHECK(fx.get("guaranteed/mon_groups/c6/tasks") == "12");
  // exec: the new process joins both.
  REQUIRE(add_task(*g, 34));
  CHECK(fx.get("guaranteed/tasks") == "34");
  CHECK(fx.get("guaranteed/mon_groups/c6/tasks") == "34");
  fx.clear_files("guaranteed/mon_groups/c6");
  REQUIRE(remove(*g));
  CHECK_FALSE(fx.exists("guaranteed/mon_groups/c6"));
  CHECK(fx.exists("guaranteed"));
  // A MON group that cannot be made is an error, and the CLOS group made for it is undone.
  auto e = apply(fx.root, "c7", {{}, {}, {}, {}, true}, 13);  // no mon_groups dir in the new group
  REQUIRE_FALSE(e);
  CHECK(e.error().message().find("enableMonitoring: mkdir") != std::string::npos);
  CHECK(e.error().message().find("resctrl last_cmd_status: ok") != std::string::npos);
  CHECK_FALSE(fx.exists("c7"));
}
