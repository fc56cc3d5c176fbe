#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "harness.hpp"

using namespace it;

TEST_CASE("lifecycle: create, state, start, kill, delete", "[lifecycle]") {
  Bundle b("life");
  b.args({"/bin/test_init", "pause"});
  std::string pidfile = b.dir + "/init.pid";
  Out c = b.create({"--pid-file", pidfile});
  INFO(c.err);
  REQUIRE(c.code == 0);
  auto st = b.state();
  REQUIRE(st["status"] == "created");
  CHECK(st["id"] == b.id);
  CHECK(st["bundle"] == b.dir);
  CHECK(std::to_string(st["pid"].get<int>()) == slurp(pidfile));
  CHECK(exists("/proc/" + slurp(pidfile)));
  // The init waits on exec.fifo until start.
  CHECK(exists(state_root() + "/" + b.id + "/exec.fifo"));

  REQUIRE(b.start().code == 0);
  CHECK(b.state()["status"] == "running");
  CHECK_FALSE(exists(state_root() + "/" + b.id + "/exec.fifo"));
  CHECK(b.start().code != 0);  // not twice

  Out del = husk({"delete", b.id});
  CHECK(del.code != 0);  // running: refused, nothing changed
  CHECK(del.err.find("not stopped") != std::string::npos);
  CHECK(b.state()["status"] == "running");

  REQUIRE(husk({"kill", b.id, "TERM"}).code == 0);
  for (int i = 0; i < 200 && b.state()["status"] != "stopped"; ++i) usleep(10000);
  CHECK(b.state()["status"] == "stopped");
  CHECK(b.state()["pid"] == 0);
  REQUIRE(husk({"delete", b.id}).code == 0);
  CHECK(husk({"state", b.id}).code != 0);
  CHECK_FALSE(exists(state_root() + "/" + b.id));
  CHECK_FALSE(exists("/sys/fs/cgroup/memory" + b.cgroup));
}

TEST_CASE("lifecycle: run exits with the container's code or 128+signal", "[lifecycle]") {
  Bundle b("run");
  b.args({"/bin/test_init", "exit", "7"});
  CHECK(b.run().code == 7);
  CHECK_FALSE(exists(state_root() + "/" + b.id));  // deleted without --keep
  b.args({"/bin/test_init", "hostname"});
  Out o = b.run();
  CHECK(o.code == 0);
  CHECK(o.out == "husk (none)\n");
}

TEST_CASE("lifecycle: run forwards signals", "[lifecycle]") {
  Bundle b("sig");
  b.args({"/bin/test_init", "pause"});
  Out o;
  std::thread t([&] { o = b.run(); });
  nlohmann::json st;
  for (int i = 0; i < 300; ++i, usleep(10000))
    if ((st = b.state()).is_object() && st["status"] == "running") break;
  REQUIRE(st.is_object());
  // Signal the husk run process itself (found through the container's parent pid).
  int init = st["pid"];
  std::string stat = slurp("/proc/" + std::to_string(init) + "/stat");
  int ppid = std::stoi(stat.substr(stat.rfind(')') + 4));
  ::kill(ppid, SIGTERM);
  t.join();
  CHECK(o.code == 143);  // test_init exits 143 on TERM
}

TEST_CASE("lifecycle: run --keep and --detach", "[lifecycle]") {
  Bundle b("keep");
  b.args({"/bin/test_init", "exit", "3"});
  CHECK(b.run({"--keep"}).code == 3);
  CHECK(b.state()["status"] == "stopped");
  CHECK(husk({"delete", b.id}).code == 0);
  b.args({"/bin/test_init", "pause"});
  CHECK(b.run({"--detach"}).code == 0);
  CHECK(b.state()["status"] == "running");
  CHECK(husk({"delete", "--force", b.id}).code == 0);
  CHECK_FALSE(exists(state_root() + "/" + b.id));
}

TEST_CASE("lifecycle: list in table and json", "[lifecycle]") {
  Bundle b("list");
  b.args({"/bin/test_init", "pause"});
  REQUIRE(b.create().code == 0);
  Out j = husk({"list", "--format", "json"});
  REQUIRE(j.code == 0);
  auto arr = nlohmann::json::parse(j.out);
  bool found = false;
  for (auto& c : arr)
    if (c["id"] == b.id) found = c["status"] == "created";
  CHECK(found);
  Out t = husk({"list"});
  CHECK(t.out.rfind("ID ", 0) == 0);
  CHECK(t.out.find(b.id) != std::string::npos);
  CHECK(husk({"list", "-q"}).out.find(b.id + "\n") != std::string::npos);
}

TEST_CASE("lifecycle: kill by name, SIG name and number; --all", "[lifecycle]") {
  Bundle b("kill");
  b.args({"/bin/test_init", "pause"});
  REQUIRE(b.run({"-d"}).code == 0);
  CHECK(husk({"kill", b.id, "SIGCONT"}).code == 0);
  CHECK(husk({"kill", b.id, "18"}).code == 0);
  CHECK(husk({"kill", b.id, "NOPE"}).code != 0);
  CHECK(husk({"kill", "--all", b.id, "KILL"}).code == 0);
  for (int i = 0; i < 200 && b.state()["status"] != "stopped"; ++i) usleep(10000);
  CHECK(b.state()["status"] == "stopped");
  // Stopped: a plain kill is an error; --all signals what is left (nothing) and succeeds,
  // as runc (containerd's `ctr task rm -f` relies on it).
  Out plain = husk({"kill", b.id, "KILL"});
  CHECK(plain.code == 1);
  CHECK(plain.err.find("container not running") != std::string::npos);
  CHECK(husk({"kill", "--all", b.id, "KILL"}).code == 0);
}

TEST_CASE("lifecycle: commands on one id are serialised", "[lifecycle]") {
  Bundle b("lock");
  b.args({"/bin/test_init", "pause"});
  // Two creates of the same id at once: exactly one wins.
  Out o1, o2;
  // (not b.create(): it rewrites config.json, which the other create may be reading)
  std::thread t1([&] { o1 = husk({"create", "--bundle", b.dir, b.id}); });
  std::thread t2([&] { o2 = husk({"create", "--bundle", b.dir, b.id}); });
  t1.join();
  t2.join();
  INFO("first: " << o1.code << " " << o1.err << "second: " << o2.code << " " << o2.err);
  CHECK((o1.code == 0) != (o2.code == 0));
  CHECK((o1.err + o2.err).find("already exists") != std::string::npos);
}
