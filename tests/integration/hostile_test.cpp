// Hostile input and damaged state through the real binary (issue 24): a one-line error and a
// non-zero exit, never an abort; nothing left behind.
#include <sys/stat.h>
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

static bool one_error_line(const Out& o) {
  // exit 1, or 255 for exec (runc's "exec failed" code)
  return (o.code == 1 || o.code == 255) && std::count(o.err.begin(), o.err.end(), '\n') == 1;
}

TEST_CASE("hostile: numbers that overflow a double and deep nesting are one-line errors", "[hostile]") {
  Bundle b("overflow");
  b.save();
  std::string text = slurp(b.dir + "/config.json");
  std::ofstream(b.dir + "/config.json") << "{\"x\": 1e400, " << text.substr(text.find('{') + 1);
  Out o = husk({"create", "--bundle", b.dir, b.id});
  CHECK(one_error_line(o));
  CHECK(o.err.find("1e400") != std::string::npos);
  clean(b);
  std::ofstream(b.dir + "/config.json") << "{\"process\": {\"x\": " << std::string(100000, '[')
                                        << std::string(100000, ']') << "}, " << text.substr(text.find('{') + 1);
  o = husk({"create", "--bundle", b.dir, b.id});
  CHECK(one_error_line(o));
  CHECK(o.err.find("exceeded max depth") != std::string::npos);
  clean(b);
}

TEST_CASE("hostile: a NUL in a mount destination is refused, naming the field", "[hostile]") {
  Bundle b("nul");
  b.config["mounts"].push_back({{"destination", std::string("/mnt\0junk", 9)}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  Out o = b.create();
  CHECK(one_error_line(o));
  CHECK(o.err.find("destination: must not contain a NUL byte") != std::string::npos);
  clean(b);
}

TEST_CASE("hostile: a rootfs that is a symlink is refused, as runc does", "[hostile]") {
  Bundle b("rootlink");
  REQUIRE(::symlink(b.rootfs.c_str(), (b.dir + "/rlink").c_str()) == 0);
  b.config["root"]["path"] = b.dir + "/rlink";
  Out o = b.create();
  CHECK(one_error_line(o));
  CHECK(o.err.find("not an absolute path, or a symlink") != std::string::npos);
  clean(b);
}

TEST_CASE("hostile: maskedPaths without a mount namespace are refused", "[hostile]") {
  Bundle b("nomntns");
  auto& ns = b.config["linux"]["namespaces"];
  for (size_t i = ns.size(); i-- > 0;)
    if (ns[i]["type"] == "mount") ns.erase(i);
  b.config["mounts"] = nlohmann::json::array();
  b.config["linux"]["maskedPaths"] = {"/proc/kcore"};
  Out o = b.create();
  CHECK(one_error_line(o));
  CHECK(o.err.find("without a private MNT namespace") != std::string::npos);
  clean(b);
}

TEST_CASE("hostile: --pid-file does not write through a symlink planted at its temp name", "[hostile]") {
  Bundle b("pidlink");
  b.args({"/bin/test_init", "pause"});
  std::string victim = b.dir + "/victim", pid = b.dir + "/pid";
  std::ofstream(victim) << "keep";
  REQUIRE(::symlink(victim.c_str(), (pid + ".tmp").c_str()) == 0);
  Out o = b.create({"--pid-file", pid});
  CHECK(o.code == 1);
  CHECK(o.err.find("File exists") != std::string::npos);
  CHECK(slurp(victim) == "keep");
  clean(b);
}

TEST_CASE("hostile: a bundle path that is not UTF-8 runs, and state/list print it", "[hostile]") {
  Bundle b("utf8");
  b.args({"/bin/test_init", "pause"});
  b.config["root"]["path"] = b.rootfs;
  std::string odd = b.dir + "/b\xff\xfe";
  REQUIRE(::mkdir(odd.c_str(), 0755) == 0);
  std::ofstream(odd + "/config.json") << b.config.dump();
  Out o = husk({"create", "--bundle", odd, b.id});
  REQUIRE(o.code == 0);
  Out s = husk({"state", b.id});
  CHECK(s.code == 0);
  CHECK(nlohmann::json::parse(s.out)["status"] == "created");
  Out l = husk({"list", "--format", "json"});
  CHECK(l.code == 0);
  CHECK(l.err.empty());
  CHECK(husk({"delete", "--force", b.id}).code == 0);
  clean(b);
}

TEST_CASE("hostile: kill, update and exec refuse overflowing values with one line", "[hostile]") {
  Bundle b("flags");
  b.args({"/bin/test_init", "pause"});
  REQUIRE(b.create().code == 0);
  Out k = husk({"kill", b.id, "RTMIN+99999999999"});
  CHECK(one_error_line(k));
  Out u = husk({"update", "--memory", "99999999999999999999999g", b.id});
  CHECK(one_error_line(u));
  CHECK(u.err.find("too large") != std::string::npos);
  Out r = husk({"update", "--resources", "-", b.id}, R"({"memory":{"limit":1e400}})");
  CHECK(one_error_line(r));
  REQUIRE(b.start().code == 0);
  std::ofstream(b.dir + "/process.json") << R"({"args":["/bin/test_init","pid"],"cwd":"/","x":1e400})";
  Out e = husk({"exec", "--process", b.dir + "/process.json", b.id});
  CHECK(one_error_line(e));
  CHECK(e.err.find("1e400") != std::string::npos);
  CHECK(b.state()["status"] == "running");
}

TEST_CASE("hostile: a garbled state.json is a one-line error naming the file; list says so", "[hostile]") {
  Bundle b("garbled");
  b.args({"/bin/test_init", "pause"});
  REQUIRE(b.create().code == 0);
  std::string file = state_root() + "/" + b.id + "/state.json";
  std::string good = slurp(file);
  for (std::string bad : {std::string("garbage"), good.substr(0, good.size() / 2), std::string("[]"),
                          std::string(R"({"id":"x","pid":1e300})")}) {
    std::ofstream(file, std::ios::trunc) << bad;
    INFO(bad);
    for (auto cmd :
         {std::vector<std::string>{"state", b.id}, {"kill", b.id, "KILL"}, {"exec", b.id, "/bin/test_init", "pid"}}) {
      Out o = husk(cmd);
      CHECK(one_error_line(o));
      CHECK(o.err.find(file) != std::string::npos);
    }
    Out l = husk({"list"});
    CHECK(l.code == 0);
    CHECK(l.err.find("load container " + b.id + ": ") == 0);
    CHECK(l.out.find(b.id) == std::string::npos);
  }
  std::ofstream(file, std::ios::trunc) << good;
  CHECK(b.state()["status"] == "created");
}

TEST_CASE("hostile: delete --force of a container whose state.json is garbled or gone still removes it all",
          "[hostile]") {
  for (std::string bad : {std::string("garbage"), std::string(""), std::string("[]"), std::string("(deleted)")}) {
    INFO(bad);
    Bundle b("lost");
    b.args({"/bin/test_init", "pause"});
    REQUIRE(b.create().code == 0);
    REQUIRE(b.start().code == 0);
    int pid = b.state()["pid"].get<int>();
    REQUIRE(pid > 0);
    std::string file = state_root() + "/" + b.id + "/state.json";
    // The container's cgroup directories (every hierarchy; on pure v2 the one), from the
    // record before it is damaged.
    std::vector<std::string> dirs;
    auto record = nlohmann::json::parse(slurp(file));
    for (auto& [k, v] : record.at("cgroupPaths").items()) dirs.push_back(v.get<std::string>());
    REQUIRE_FALSE(dirs.empty());
    for (auto& dir : dirs) REQUIRE(exists(dir));
    if (bad == "(deleted)")
      REQUIRE(::unlink(file.c_str()) == 0);
    else
      std::ofstream(file, std::ios::trunc) << bad;
    Out d = husk({"delete", "--force", b.id});
    CHECK(d.code == 0);
    // The init (it was running), its cgroups in every hierarchy and the directory are gone.
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i) {
      std::string st = slurp("/proc/" + std::to_string(pid) + "/stat");
      gone = st.empty() || st.find(") Z ") != std::string::npos;
      if (!gone) ::usleep(10000);
    }
    CHECK(gone);
    for (auto& dir : dirs) CHECK_FALSE(exists(dir));
    CHECK(leftover_cgroups() == std::vector<std::string>{});
    CHECK_FALSE(exists(state_root() + "/" + b.id));
    CHECK(husk({"delete", "--force", b.id}).code == 0);
  }
}
