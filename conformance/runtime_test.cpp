// runtime-spec runtime.md: State, Lifecycle, Errors and Operations, one MUST per test.
#include <fstream>

#include "support.hpp"

using namespace conf;

// ---- State ---------------------------------------------------------------------------

TEST_CASE("state: \"This operation MUST return the state of a container as specified in the State section\"",
          "[conformance][state]") {
  Bundle b("cf-state");
  b.config["annotations"] = {{"org.example.key", "value"}};
  b.args({"/bin/test_init", "pause"});
  std::string pidfile = b.dir + "/pid";
  REQUIRE(b.create({"--pid-file", pidfile}).code == 0);
  auto s = b.state();
  // ociVersion, id, status, pid (created/running on Linux), bundle (absolute), annotations.
  CHECK(s["ociVersion"] == b.config["ociVersion"]);
  CHECK(s["id"] == b.id);
  CHECK(s["status"] == "created");
  CHECK(std::to_string(s["pid"].get<int>()) == it::slurp(pidfile));
  CHECK(it::exists("/proc/" + std::to_string(s["pid"].get<int>())));
  CHECK(s["bundle"] == b.dir);
  CHECK(s["annotations"]["org.example.key"] == "value");
  // "pid ... REQUIRED when status is created or running on Linux": the host's view of the
  // container process, which lives in its own pid namespace.
  CHECK(ns_of(pid_of(b), "pid") != ns_of("self", "pid"));
}

TEST_CASE("state: status MUST move created -> running -> stopped, the only values it takes here",
          "[conformance][state]") {
  Bundle b("cf-status");
  b.args({"/bin/test_init", "pause"});
  REQUIRE(b.create().code == 0);
  CHECK(b.state()["status"] == "created");
  REQUIRE(b.start().code == 0);
  CHECK(b.state()["status"] == "running");
  REQUIRE(it::husk({"kill", b.id, "TERM"}).code == 0);
  CHECK(wait_status(b, "stopped") == "stopped");
  CHECK(b.state()["pid"] == 0);  // runc: pid 0 once stopped
}

TEST_CASE("state: \"This operation MUST generate an error if it is not provided the ID of a container\"",
          "[conformance][state]") {
  Out o = it::husk({"state"});
  CHECK(o.code != 0);
  CHECK_FALSE(o.err.empty());
}

TEST_CASE("state: \"Attempting to query a container that does not exist MUST generate an error\"",
          "[conformance][state]") {
  Out o = it::husk({"state", "cf-no-such-container"});
  CHECK(o.code != 0);
  CHECK(o.err.find("does not exist") != std::string::npos);
  CHECK(o.out.empty());
}

// ---- create --------------------------------------------------------------------------

TEST_CASE("create: \"MUST generate an error if it is not provided a path to the bundle and the container ID\"",
          "[conformance][create]") {
  Bundle b("cf-create-args");
  Out noid = it::husk({"create", "--bundle", b.dir});
  CHECK(noid.code != 0);
  Out nobundle = it::husk({"create", "--bundle", b.dir + "/missing", b.id});
  CHECK(nobundle.code != 0);
  CHECK(nobundle.err.find(b.dir + "/missing") != std::string::npos);
  check_no_trace(b);
}

TEST_CASE(
    "create: \"If the ID provided is not unique ... MUST generate an error and a new container MUST NOT be created\"",
    "[conformance][create]") {
  Bundle b("cf-unique");
  b.args({"/bin/test_init", "pause"});
  REQUIRE(b.create().code == 0);
  auto before = b.state();
  Out again = b.create();
  CHECK(again.code != 0);
  CHECK(again.err.find("already exists") != std::string::npos);
  auto after = b.state();
  CHECK(after["pid"] == before["pid"]);
  CHECK(after["status"] == "created");
  CHECK(after["created"] == before["created"]);
}

TEST_CASE("create: an ID that \"is not valid in any other way\" MUST generate an error, no container is created",
          "[conformance][create]") {
  Bundle b("cf-badid");
  for (std::string bad : {"../escape", "a/b", ".", "", "x y"}) {
    Out o = it::husk({"create", "--bundle", b.dir, bad});
    CHECK(o.code != 0);
  }
  CHECK_FALSE(it::exists(it::state_root() + "/../escape"));
  CHECK(it::leftover_cgroups().empty());
}

TEST_CASE("create: \"All of the properties configured in config.json except for process MUST be applied\"",
          "[conformance][create]") {
  Bundle b("cf-applied");
  b.config["hostname"] = "cf-applied-host";
  b.config["linux"]["resources"] = {{"memory", {{"limit", 64 * 1024 * 1024}}}, {"pids", {{"limit", 32}}}};
  b.config["mounts"].push_back(
      {{"destination", "/cfmnt"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"size=1m"}}});
  b.args({"/bin/test_init", "pause"});
  REQUIRE(b.create().code == 0);
  std::string pid = pid_of(b);
  // Before start: the hostname, the cgroup and its limits, the mounts.
  Out h = it::run_cmd({"/usr/bin/nsenter", "-t", pid, "-u", "/bin/hostname"});
  CHECK(h.out == "cf-applied-host\n");
  std::string cg = it::slurp("/proc/" + pid + "/cgroup");
  CHECK(cg.find(b.cgroup) != std::string::npos);
  if (it::cgroup_v1_host()) {
    CHECK(it::slurp("/sys/fs/cgroup/memory" + b.cgroup + "/memory.limit_in_bytes") == "67108864\n");
    CHECK(it::slurp("/sys/fs/cgroup/pids" + b.cgroup + "/pids.max") == "32\n");
  } else {
    CHECK(it::slurp("/sys/fs/cgroup" + b.cgroup + "/memory.max") == "67108864\n");
  }
  CHECK(it::slurp("/proc/" + pid + "/mountinfo").find(" /cfmnt ") != std::string::npos);
}

TEST_CASE("create: \"process.args MUST NOT be applied until triggered by the start operation\"",
          "[conformance][create]") {
  Bundle b("cf-args-later");
  b.args({"/bin/test_init", "write", "/ran", "yes"});
  REQUIRE(b.create().code == 0);
  ::usleep(200000);
  CHECK_FALSE(it::exists(b.rootfs + "/ran"));
  REQUIRE(b.start().code == 0);
  CHECK(wait_status(b, "stopped") == "stopped");
  CHECK(it::slurp(b.rootfs + "/ran") == "yes");
}

TEST_CASE(
    "create: \"If the runtime cannot apply a property ... MUST generate an error and a new container MUST NOT be "
    "created\"",
    "[conformance][create][errors]") {
  // "Unless otherwise stated, generating an error MUST leave the state of the environment
  // as if the operation were never attempted".
  SECTION("a sysctl the kernel does not have") {
    Bundle b("cf-noapply-sysctl");
    b.config["linux"]["sysctl"] = {{"net.ipv4.no_such_knob", "1"}};
    create_fails(b, "net.ipv4.no_such_knob");
  }
  SECTION("a mount that cannot be made") {
    Bundle b("cf-noapply-mount");
    b.config["mounts"].push_back({{"destination", "/x"}, {"type", "nosuchfs"}, {"source", "none"}});
    create_fails(b, "/x");
  }
  SECTION("an unknown capability: \"otherwise stated\", a warning") {
    // config.md (1.1+) "capabilities": "Any value which cannot be mapped to a relevant kernel
    // interface, or cannot be granted otherwise MUST be logged as a warning by the runtime.
    // Runtimes SHOULD NOT fail if the container configuration requests capabilities that
    // cannot be granted".
    Bundle b("cf-noapply-cap");
    b.config["process"]["capabilities"]["bounding"].push_back("CAP_TEST");
    Out o = b.create();
    INFO(o.err);
    CHECK(o.code == 0);
    CHECK(o.err.find("level=warning") != std::string::npos);
    CHECK(o.err.find("CAP_TEST") != std::string::npos);
  }
  SECTION("a resource whose controller the host lacks") {
    if (!it::cgroup_v1_host() || it::exists("/sys/fs/cgroup/net_cls")) {
      WARN("this host has net_cls or is pure v2: nothing to check");
      return;
    }
    Bundle b("cf-noapply-netcls");
    b.config["linux"]["resources"] = {{"network", {{"classID", 1048577}}}};
    create_fails(b, "net_cls");
  }
}

TEST_CASE("lifecycle: \"Any updates to config.json after this step MUST NOT affect the container\"",
          "[conformance][lifecycle]") {
  Bundle b("cf-config-frozen");
  b.config["hostname"] = "before";
  b.args({"/bin/test_init", "write", "/out", "original"});
  REQUIRE(b.create().code == 0);
  b.config["hostname"] = "after";
  b.args({"/bin/test_init", "write", "/out", "changed"});
  REQUIRE(b.start().code == 0);
  CHECK(wait_status(b, "stopped") == "stopped");
  CHECK(it::slurp(b.rootfs + "/out") == "original");
}

// ---- start ---------------------------------------------------------------------------

TEST_CASE("start: \"This operation MUST generate an error if it is not provided the container ID\"",
          "[conformance][start]") {
  Out o = it::husk({"start"});
  CHECK(o.code != 0);
}

TEST_CASE(
    "start: \"Attempting to start a container that is not created MUST have no effect on the container and MUST "
    "generate an error\"",
    "[conformance][start]") {
  Bundle b("cf-start-twice");
  b.busybox();
  b.args({"/bin/sh", "-c", "echo run >> /count; exec /bin/test_init pause"});
  CHECK(it::husk({"start", b.id}).code != 0);  // does not exist
  REQUIRE(b.create().code == 0);
  REQUIRE(b.start().code == 0);
  for (int i = 0; i < 200 && it::slurp(b.rootfs + "/count").empty(); ++i) ::usleep(10000);
  auto running = b.state();
  Out again = b.start();
  CHECK(again.code != 0);
  CHECK(again.err.find("running") != std::string::npos);
  CHECK(b.state()["pid"] == running["pid"]);
  CHECK(b.state()["status"] == "running");
  REQUIRE(it::husk({"kill", b.id, "KILL"}).code == 0);
  REQUIRE(wait_status(b, "stopped") == "stopped");
  Out stopped = b.start();
  CHECK(stopped.code != 0);
  CHECK(b.state()["status"] == "stopped");
  CHECK(it::slurp(b.rootfs + "/count") == "run\n");  // the program ran once
}

TEST_CASE("start: \"This operation MUST run the user-specified program as specified by process\"",
          "[conformance][start]") {
  Bundle b("cf-start-runs");
  b.config["process"]["env"] = {"PATH=/bin", "CF=1"};
  b.config["process"]["cwd"] = "/tmp";
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  b.config["root"]["readonly"] = false;
  ::chmod((b.rootfs + "/tmp").c_str(), 01777);
  b.args({"/bin/test_init", "write", "/tmp/out", "x"});
  REQUIRE(b.create().code == 0);
  REQUIRE(b.start().code == 0);
  REQUIRE(wait_status(b, "stopped") == "stopped");
  struct stat st {};
  REQUIRE(::stat((b.rootfs + "/tmp/out").c_str(), &st) == 0);
  CHECK(st.st_uid == 1000);  // written by the configured user
  CHECK(it::slurp(b.rootfs + "/tmp/out") == "x");
}

TEST_CASE("start: \"This operation MUST generate an error if process was not set\"", "[conformance][start]") {
  // config.md: process is OPTIONAL, "REQUIRED when start is called": create accepts the
  // config, start refuses and changes nothing; kill and delete still work.
  Bundle b("cf-noprocess");
  b.config.erase("process");
  b.save();
  Out c = b.create();
  INFO(c.err);
  REQUIRE(c.code == 0);
  CHECK(b.state()["status"] == "created");
  Out s = b.start();
  CHECK(s.code != 0);
  CHECK(s.err.find("no process") != std::string::npos);
  CHECK(b.state()["status"] == "created");
  REQUIRE(it::husk({"kill", b.id, "KILL"}).code == 0);
  REQUIRE(wait_status(b, "stopped") == "stopped");
  CHECK(it::husk({"delete", b.id}).code == 0);
  CHECK_FALSE(state_dir_exists(b));
  // `run` cannot start it either: refused before anything exists.
  Out r = b.run();
  CHECK(r.code != 0);
  CHECK(r.err.find("/process") != std::string::npos);
  check_no_trace(b);
}

// ---- kill ----------------------------------------------------------------------------

TEST_CASE("kill: \"This operation MUST generate an error if it is not provided the container ID\"",
          "[conformance][kill]") {
  CHECK(it::husk({"kill"}).code != 0);
}

TEST_CASE("kill: \"This operation MUST send the specified signal to the container process\"", "[conformance][kill]") {
  Bundle b("cf-kill-sig");
  b.busybox();
  b.args({"/bin/sh", "-c",
          "trap 'echo usr1 > /got; exit 3' USR1; echo ready > /ready; while :; do busybox sleep 0.05; done"});
  REQUIRE(b.create().code == 0);
  SECTION("to a running container") {
    REQUIRE(b.start().code == 0);
    for (int i = 0; i < 300 && !it::exists(b.rootfs + "/ready"); ++i) ::usleep(10000);
    REQUIRE(it::husk({"kill", b.id, "USR1"}).code == 0);
    CHECK(wait_status(b, "stopped") == "stopped");
    CHECK(it::slurp(b.rootfs + "/got") == "usr1\n");
  }
  SECTION("to a created container (created is a valid state for kill)") {
    REQUIRE(it::husk({"kill", b.id, "9"}).code == 0);
    CHECK(wait_status(b, "stopped") == "stopped");
  }
}

TEST_CASE(
    "kill: \"Attempting to send a signal to a container that is neither created nor running MUST have no effect on the "
    "container and MUST generate an error\"",
    "[conformance][kill]") {
  Bundle b("cf-kill-stopped");
  CHECK(it::husk({"kill", b.id, "KILL"}).code != 0);  // does not exist
  b.args({"/bin/test_init", "exit", "0"});
  REQUIRE(b.create().code == 0);
  REQUIRE(b.start().code == 0);
  REQUIRE(wait_status(b, "stopped") == "stopped");
  auto before = b.state();
  Out o = it::husk({"kill", b.id, "KILL"});
  CHECK(o.code != 0);
  CHECK(o.err.find("container not running") != std::string::npos);  // runc's text
  CHECK(b.state() == before);
  CHECK(it::husk({"delete", b.id}).code == 0);
}

// ---- delete --------------------------------------------------------------------------

TEST_CASE("delete: \"This operation MUST generate an error if it is not provided the container ID\"",
          "[conformance][delete]") {
  CHECK(it::husk({"delete"}).code != 0);
  CHECK(it::husk({"delete", "cf-no-such-container"}).code != 0);
}

TEST_CASE(
    "delete: \"Attempting to delete a container that is not stopped MUST have no effect on the container and MUST "
    "generate an error\"",
    "[conformance][delete]") {
  Bundle b("cf-delete-live");
  b.args({"/bin/test_init", "pause"});
  REQUIRE(b.create().code == 0);
  for (std::string status : {"created", "running"}) {
    if (status == "running") REQUIRE(b.start().code == 0);
    auto before = b.state();
    REQUIRE(before["status"] == status);
    Out o = it::husk({"delete", b.id});
    CHECK(o.code != 0);
    CHECK(o.err.find("not stopped") != std::string::npos);
    CHECK(b.state() == before);
    CHECK(it::exists("/proc/" + std::to_string(before["pid"].get<int>())));
    CHECK(it::exists(cgroup_dir(b)));
  }
}

TEST_CASE("delete: \"Deleting a container MUST delete the resources that were created during the create step\"",
          "[conformance][delete]") {
  Bundle b("cf-delete-res");
  b.args({"/bin/test_init", "exit", "0"});
  REQUIRE(b.create().code == 0);
  REQUIRE(it::exists(cgroup_dir(b)));
  REQUIRE(b.start().code == 0);
  REQUIRE(wait_status(b, "stopped") == "stopped");
  REQUIRE(it::husk({"delete", b.id}).code == 0);
  check_no_trace(b);
  CHECK_FALSE(it::exists(cgroup_dir(b)));
  // "Once a container is deleted its ID MAY be used by a subsequent container."
  REQUIRE(b.create().code == 0);
}

TEST_CASE("delete: \"resources associated with the container, but not created by this container, MUST NOT be deleted\"",
          "[conformance][delete]") {
  Bundle a("cf-owner");
  a.args({"/bin/test_init", "pause"});
  REQUIRE(a.create().code == 0);
  // b joins a's cgroup and network namespace: it created neither.
  Bundle b("cf-guest");
  b.config["linux"]["cgroupsPath"] = a.cgroup;
  for (auto& ns : b.config["linux"]["namespaces"])
    if (ns["type"] == "network") ns["path"] = "/proc/" + pid_of(a) + "/ns/net";
  b.args({"/bin/test_init", "exit", "0"});
  REQUIRE(b.create().code == 0);
  REQUIRE(b.start().code == 0);
  REQUIRE(wait_status(b, "stopped") == "stopped");
  REQUIRE(it::husk({"delete", b.id}).code == 0);
  CHECK(it::exists(cgroup_dir(a)));
  CHECK(a.state()["status"] == "created");
  CHECK(it::exists("/proc/" + pid_of(a) + "/ns/net"));
}

// ---- lifecycle hooks -----------------------------------------------------------------

static nlohmann::json log_hook(const std::string& log, const std::string& name, const std::string& extra = "") {
  // "<name> <status> <mnt ns>" appended by /bin/sh on the host, state read from stdin.
  return it::status_hook(log, name, " $(readlink /proc/self/ns/mnt)", extra);
}

TEST_CASE("lifecycle: hooks MUST be invoked in order, with the state on stdin, in their namespaces",
          "[conformance][hooks]") {
  // config.md: createRuntime "called in the runtime namespace", createContainer "in the
  // container namespace"; runtime.md steps 3-13.
  Bundle b("cf-hooks");
  std::string log = b.dir + "/hooks.log";
  for (auto n : {"prestart", "createRuntime", "createContainer", "poststart", "poststop"})
    b.config["hooks"][n] = {log_hook(log, n)};
  b.args({"/bin/test_init", "pause"});
  REQUIRE(b.create().code == 0);
  std::string host_mnt = ns_of("self", "mnt"), ctr_mnt = ns_of(pid_of(b), "mnt");
  REQUIRE(b.start().code == 0);
  REQUIRE(it::husk({"kill", b.id, "TERM"}).code == 0);
  REQUIRE(wait_status(b, "stopped") == "stopped");
  REQUIRE(it::husk({"delete", b.id}).code == 0);
  CHECK(it::slurp(log) == "prestart created " + host_mnt + "\ncreateRuntime created " + host_mnt +
                              "\ncreateContainer created " + ctr_mnt + "\npoststart running " + host_mnt +
                              "\npoststop stopped " + host_mnt + "\n");
}

TEST_CASE(
    "lifecycle: \"If any prestart hook fails, the runtime MUST generate an error, stop the container, and continue the "
    "lifecycle at step 12\"",
    "[conformance][hooks]") {
  for (std::string failing : {"prestart", "createRuntime", "createContainer"}) {
    Bundle b("cf-hookfail-" + std::string(failing == "prestart" ? "pre" : failing == "createRuntime" ? "rt" : "ctr"));
    std::string log = b.dir + "/hooks.log";
    b.config["hooks"][failing] = {{{"path", "/bin/false"}}};
    b.config["hooks"]["poststop"] = {log_hook(log, "poststop")};
    b.args({"/bin/test_init", "write", "/ran", "x"});
    Out o = b.create();
    INFO(failing);
    CHECK(o.code != 0);
    CHECK(o.err.find(failing) != std::string::npos);
    check_no_trace(b);                                        // step 12: destroyed
    CHECK(it::slurp(log).rfind("poststop stopped", 0) == 0);  // step 13: poststop ran
    CHECK_FALSE(it::exists(b.rootfs + "/ran"));               // the program never ran
  }
}

TEST_CASE("lifecycle: a failing poststart hook MUST generate an error and stop the container (runtime-spec 1.3, runc)",
          "[conformance][hooks]") {
  Bundle b("cf-poststart-fail");
  b.config["hooks"]["poststart"] = {{{"path", "/bin/false"}}};
  b.args({"/bin/test_init", "pause"});
  REQUIRE(b.create().code == 0);
  Out s = b.start();
  CHECK(s.code != 0);
  CHECK(s.err.find("poststart") != std::string::npos);
  CHECK(wait_status(b, "stopped") == "stopped");
  CHECK(it::husk({"delete", b.id}).code == 0);
}

TEST_CASE(
    "lifecycle: \"If any poststop hook fails, the runtime MUST log a warning, but the remaining hooks and lifecycle "
    "continue\"",
    "[conformance][hooks]") {
  Bundle b("cf-poststop-fail");
  std::string log = b.dir + "/hooks.log";
  b.config["hooks"]["poststop"] = {{{"path", "/bin/false"}}, log_hook(log, "poststop2")};
  b.args({"/bin/test_init", "exit", "0"});
  REQUIRE(b.create().code == 0);
  REQUIRE(b.start().code == 0);
  REQUIRE(wait_status(b, "stopped") == "stopped");
  Out d = it::husk({"delete", b.id});
  CHECK(d.code == 0);
  CHECK(d.err.find("warning") != std::string::npos);
  CHECK(it::slurp(log).rfind("poststop2 stopped", 0) == 0);
  check_no_trace(b);
}
