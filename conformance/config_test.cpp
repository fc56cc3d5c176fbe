// runtime-spec config.md and config-linux.md: one MUST per test.
#include <sys/sysmacros.h>

#include <sstream>

#include "support.hpp"

using namespace conf;

static Out run_in(Bundle& b, std::vector<std::string> args) {
  b.args(std::move(args));
  return b.run();
}

// ---- config.md -----------------------------------------------------------------------

TEST_CASE("config root: \"A directory MUST exist at the path declared by the field\"", "[conformance][config]") {
  Bundle b("cf-root-missing");
  b.config["root"]["path"] = b.dir + "/nope";
  create_fails(b, "root");
}

TEST_CASE("config root: \"If true then the root filesystem MUST be read-only inside the container\"",
          "[conformance][config]") {
  Bundle b("cf-root-ro");
  b.config["root"]["readonly"] = true;
  Out o = run_in(b, {"/bin/test_init", "write", "/x", "y"});
  CHECK(o.out == "write /x: Read-only file system\n");
}

TEST_CASE("config mounts: \"The runtime MUST mount entries in the listed order\"", "[conformance][config]") {
  // The same destination twice: the later entry is on top.
  Bundle b("cf-mount-order");
  b.config["mounts"].push_back(
      {{"destination", "/m"}, {"type", "tmpfs"}, {"source", "first"}, {"options", {"size=1m"}}});
  b.config["mounts"].push_back(
      {{"destination", "/m"}, {"type", "tmpfs"}, {"source", "second"}, {"options", {"size=2m"}}});
  b.config["mounts"].push_back({{"destination", "/m/inner"}, {"type", "tmpfs"}, {"source", "third"}});
  Out o = run_in(b, {"/bin/test_init", "cat", "/proc/self/mountinfo"});
  REQUIRE(o.code == 0);
  auto first = o.out.find(" /m rw"), second = o.out.find(" /m rw", first + 1), inner = o.out.find(" /m/inner ");
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  REQUIRE(inner != std::string::npos);
  CHECK(o.out.find("first", first) < o.out.find("second", first));
  CHECK(second < inner);
}

TEST_CASE("config mounts: a relative destination \"MUST be interpreted as relative to /\"", "[conformance][config]") {
  Bundle b("cf-mount-rel");
  b.config["mounts"].push_back({{"destination", "relmnt"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  Out o = run_in(b, {"/bin/test_init", "cat", "/proc/self/mountinfo"});
  CHECK(o.code == 0);
  CHECK(o.out.find(" /relmnt ") != std::string::npos);
}

TEST_CASE("config mounts: the Linux option strings marked MUST take effect", "[conformance][config]") {
  Bundle b("cf-mount-opts");
  b.config["mounts"].push_back({{"destination", "/o"},
                                {"type", "tmpfs"},
                                {"source", "tmpfs"},
                                {"options", {"ro", "nosuid", "nodev", "noexec", "noatime"}}});
  b.config["mounts"].push_back(
      {{"destination", "/b"}, {"type", "bind"}, {"source", b.dir}, {"options", {"rbind", "ro", "rprivate"}}});
  Out o = run_in(b, {"/bin/test_init", "cat", "/proc/self/mountinfo"});
  REQUIRE(o.code == 0);
  std::istringstream in(o.out);
  std::string line, opt_o, opt_b;
  while (std::getline(in, line)) {
    if (line.find(" /o ") != std::string::npos) opt_o = line;
    if (line.find(" /b ") != std::string::npos) opt_b = line;
  }
  INFO(opt_o);
  CHECK(opt_o.find(" ro,nosuid,nodev,noexec,noatime") != std::string::npos);
  INFO(opt_b);
  CHECK(opt_b.find(" ro,") != std::string::npos);
  CHECK(opt_b.find("shared:") == std::string::npos);  // rprivate
}

TEST_CASE("config process: \"cwd ... This value MUST be an absolute path\"", "[conformance][config]") {
  Bundle b("cf-cwd-rel");
  b.config["process"]["cwd"] = "tmp";
  create_fails(b, "/process/cwd");
}

TEST_CASE("config process: \"Runtimes MUST ignore consoleSize if terminal is false or unset\"",
          "[conformance][config]") {
  Bundle b("cf-consolesize");
  b.config["process"]["consoleSize"] = {{"height", 10}, {"width", 20}};
  Out o = run_in(b, {"/bin/test_init", "isatty"});
  CHECK(o.code == 0);
  CHECK(o.out == "notty\n");
}

TEST_CASE(
    "config rlimits: \"rlim.rlim_cur MUST match the configured value\", \"rlim.rlim_max MUST match the configured "
    "value\"",
    "[conformance][config]") {
  Bundle b("cf-rlimits");
  b.config["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 300}, {"hard", 400}},
                                    {{"type", "RLIMIT_NPROC"}, {"soft", 50}, {"hard", 60}}};
  Out o = run_in(b, {"/bin/test_init", "cat", "/proc/self/limits"});
  CHECK(o.out.find("Max open files            300                  400") != std::string::npos);
  CHECK(o.out.find("Max processes             50                   60") != std::string::npos);
}

TEST_CASE(
    "config rlimits: \"If rlimits contains duplicated entries with same type, the runtime MUST generate an error\"",
    "[conformance][config]") {
  Bundle b("cf-rlimits-dup");
  b.config["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 300}, {"hard", 400}},
                                    {{"type", "RLIMIT_NOFILE"}, {"soft", 30}, {"hard", 40}}};
  create_fails(b, "RLIMIT_NOFILE");
}

TEST_CASE(
    "config rlimits: \"The runtime MUST generate an error for any values which cannot be mapped to a relevant kernel "
    "interface\"",
    "[conformance][config]") {
  Bundle b("cf-rlimits-unknown");
  b.config["process"]["rlimits"] = {{{"type", "RLIMIT_NOSUCH"}, {"soft", 1}, {"hard", 1}}};
  create_fails(b, "RLIMIT_NOSUCH");
}

TEST_CASE("config process: \"If oomScoreAdj is set, the runtime MUST set oom_score_adj to the given value\"",
          "[conformance][config]") {
  Bundle b("cf-oom-set");
  b.config["process"]["oomScoreAdj"] = 567;
  Out o = run_in(b, {"/bin/test_init", "cat", "/proc/self/oom_score_adj"});
  CHECK(o.out == "567\n");
}

TEST_CASE("config process: \"If oomScoreAdj is not set, the runtime MUST NOT change the value of oom_score_adj\"",
          "[conformance][config]") {
  Bundle b("cf-oom-unset");
  b.args({"/bin/test_init", "cat", "/proc/self/oom_score_adj"});
  // husk started with oom_score_adj 321: the container inherits exactly that.
  Out o = it::run_cmd({"/bin/sh", "-c", "echo 321 > /proc/self/oom_score_adj && exec \"$0\" \"$@\"", HUSK_BIN, "--root",
                       it::state_root(), "run", "--bundle", b.dir, b.id});
  CHECK(o.code == 0);
  CHECK(o.out == "321\n");
}

TEST_CASE("config hooks: \"path MUST be absolute\" and \"If set, timeout MUST be greater than zero\"",
          "[conformance][config]") {
  Bundle b("cf-hook-path");
  b.config["hooks"]["prestart"] = {{{"path", "bin/true"}}};
  Out rel = b.create();
  CHECK(rel.code != 0);
  CHECK(rel.err.find("/hooks/prestart/0/path") != std::string::npos);
  b.config["hooks"]["prestart"] = {{{"path", "/bin/true"}, {"timeout", 0}}};
  create_fails(b, "/hooks/prestart/0/timeout");
}

// ---- config-linux.md: namespaces -----------------------------------------------------

TEST_CASE(
    "linux namespaces: \"If path is not specified, the runtime MUST create a new container namespace of type type\"",
    "[conformance][linux]") {
  Bundle b("cf-ns-new");
  b.add_namespace("cgroup");  // `husk spec` has none on a v1 host (as runc)
  b.args({"/bin/test_init", "pause"});
  REQUIRE(b.create().code == 0);
  std::string pid = pid_of(b);
  for (auto t : {"pid", "net", "ipc", "uts", "mnt", "cgroup"}) {
    INFO(t);
    CHECK(ns_of(pid, t) != ns_of("self", t));
  }
}

TEST_CASE(
    "linux namespaces: \"If a namespace type is not specified ... the container MUST inherit the runtime namespace of "
    "that type\"",
    "[conformance][linux]") {
  Bundle b("cf-ns-inherit");
  auto& ns = b.config["linux"]["namespaces"];
  nlohmann::json keep = nlohmann::json::array();
  for (auto& n : ns)
    if (n["type"] != "ipc" && n["type"] != "uts" && n["type"] != "network") keep.push_back(n);
  ns = keep;
  b.config.erase("hostname");
  b.args({"/bin/test_init", "pause"});
  REQUIRE(b.create().code == 0);
  std::string pid = pid_of(b);
  for (auto t : {"net", "ipc", "uts"}) {
    INFO(t);
    CHECK(ns_of(pid, t) == ns_of("self", t));
  }
  CHECK(ns_of(pid, "mnt") != ns_of("self", "mnt"));
}

TEST_CASE(
    "linux namespaces: \"The runtime MUST place the container process in the namespace associated with that path\"",
    "[conformance][linux]") {
  Bundle a("cf-ns-owner");
  a.args({"/bin/test_init", "pause"});
  REQUIRE(a.create().code == 0);
  Bundle b("cf-ns-joiner");
  for (auto& n : b.config["linux"]["namespaces"])
    if (n["type"] == "uts" || n["type"] == "ipc" || n["type"] == "network")
      n["path"] =
          "/proc/" + pid_of(a) + "/ns/" + (n["type"] == "network" ? std::string("net") : n["type"].get<std::string>());
  b.config.erase("hostname");
  b.args({"/bin/test_init", "pause"});
  REQUIRE(b.create().code == 0);
  for (auto t : {"net", "ipc", "uts"}) {
    INFO(t);
    CHECK(ns_of(pid_of(b), t) == ns_of(pid_of(a), t));
  }
}

TEST_CASE(
    "linux namespaces: \"The runtime MUST generate an error if path is not associated with a namespace of type type\"",
    "[conformance][linux]") {
  Bundle b("cf-ns-wrongtype");
  for (auto& n : b.config["linux"]["namespaces"])
    if (n["type"] == "uts") n["path"] = "/proc/self/ns/ipc";
  create_fails(b, "uts");
}

TEST_CASE(
    "linux namespaces: \"If a namespaces field contains duplicated namespaces with same type, the runtime MUST "
    "generate an error\"",
    "[conformance][linux]") {
  Bundle b("cf-ns-dup");
  b.config["linux"]["namespaces"].push_back({{"type", "uts"}});
  create_fails(b, "uts");
}

// ---- config-linux.md: devices, cgroups, sysctl, masked/readonly paths, seccomp --------

TEST_CASE("linux devices: \"the runtime MUST also supply\" /dev/null, zero, full, random, urandom, tty, ptmx",
          "[conformance][linux]") {
  Bundle b("cf-devices");
  Out o = run_in(b, {"/bin/test_init", "stat", "/dev/null"});
  CHECK(o.out.rfind("c 1:3 ", 0) == 0);
  struct Dev {
    const char* path;
    const char* want;
  };
  for (auto d : {Dev{"/dev/zero", "c 1:5 "}, Dev{"/dev/full", "c 1:7 "}, Dev{"/dev/random", "c 1:8 "},
                 Dev{"/dev/urandom", "c 1:9 "}, Dev{"/dev/tty", "c 5:0 "}}) {
    Out s = run_in(b, {"/bin/test_init", "stat", d.path});
    INFO(d.path << ": " << s.out);
    CHECK(s.out.rfind(d.want, 0) == 0);
  }
  // /dev/ptmx: "bind-mount or symlink of /dev/pts/ptmx"
  Out p = run_in(b, {"/bin/test_init", "stat", "/dev/ptmx"});
  Out pts = run_in(b, {"/bin/test_init", "stat", "/dev/pts/ptmx"});
  CHECK((p.out.rfind("l ", 0) == 0 || p.out == pts.out));
}

TEST_CASE("linux devices: a device in config \"MUST be available in the container\"", "[conformance][linux]") {
  Bundle b("cf-devices-cfg");
  b.config["linux"]["devices"] = {
      {{"path", "/dev/cfnull"}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"fileMode", 0620}, {"uid", 7}, {"gid", 8}}};
  Out o = run_in(b, {"/bin/test_init", "stat", "/dev/cfnull"});
  CHECK(o.out == "c 1:3 0620 7:8\n");
}

TEST_CASE(
    "linux cgroupsPath: \"In the case of an absolute path ... the runtime MUST take the path to be relative to the "
    "cgroups mount point\"",
    "[conformance][linux]") {
  Bundle b("cf-cgpath");
  b.args({"/bin/test_init", "pause"});
  REQUIRE(b.create().code == 0);
  std::string cg = it::slurp("/proc/" + pid_of(b) + "/cgroup");
  if (it::cgroup_v1_host()) {
    CHECK(cg.find(":memory:" + b.cgroup + "\n") != std::string::npos);
    CHECK(cg.find(":pids:" + b.cgroup + "\n") != std::string::npos);
  } else {
    CHECK(cg == "0::" + b.cgroup + "\n");
  }
  CHECK(it::slurp(cgroup_dir(b) + "/cgroup.procs") == pid_of(b) + "\n");
}

TEST_CASE(
    "linux cgroupsPath: \"the runtime MUST consistently attach to the same place in the cgroups hierarchy given the "
    "same value\"",
    "[conformance][linux]") {
  Bundle b("cf-cgsame");
  b.add_namespace("cgroup");  // so the path is the cgroup namespace's root
  b.args({"/bin/test_init", "cat", "/proc/self/cgroup"});
  Out first = b.run();
  Out second = b.run();
  REQUIRE(first.code == 0);
  CHECK(first.out == second.out);
  CHECK(first.out.find(it::cgroup_v1_host() ? ":memory:/\n" : "0::/\n") !=
        std::string::npos);  // cgroupns root = the path
}

TEST_CASE("linux sysctl: the configured kernel parameters are set in the container", "[conformance][linux]") {
  Bundle b("cf-sysctl");
  b.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}, {"kernel.shm_rmid_forced", "1"}};
  Out o = run_in(b, {"/bin/test_init", "cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/shm_rmid_forced"});
  CHECK(o.out == "1\n1\n");
}

TEST_CASE("linux maskedPaths: \"The runtime MUST mask these paths so that they cannot be read\"",
          "[conformance][linux]") {
  Bundle b("cf-masked");
  // (this kernel has no /proc/kcore: /proc/keys and /proc/timer_list are readable here)
  b.config["linux"]["maskedPaths"] = {"/proc/keys", "/proc/timer_list", "/sys/firmware"};
  Out o = run_in(b, {"/bin/test_init", "cat", "/proc/keys", "/proc/timer_list"});
  INFO(o.out << o.err);
  CHECK(o.code == 0);
  CHECK(o.out.empty());
  Out l = run_in(b, {"/bin/test_init", "ls", "/sys/firmware"});
  CHECK(l.out.empty());
}

TEST_CASE("linux readonlyPaths: \"The runtime MUST set these paths as read-only\"", "[conformance][linux]") {
  Bundle b("cf-readonly");
  b.config["linux"]["readonlyPaths"] = {"/proc/sys"};
  Out o = run_in(b, {"/bin/test_init", "write", "/proc/sys/kernel/hostname", "x"});
  CHECK(o.out == "write /proc/sys/kernel/hostname: Read-only file system\n");
}

TEST_CASE("linux seccomp: the filter applies the configured errnoRet; \"names MUST contain at least one entry\"",
          "[conformance][linux]") {
  Bundle b("cf-seccomp");
  b.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls", {{{"names", {"getcwd"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 38}}}}};
  Out o = run_in(b, {"/bin/test_init", "cwd"});
  CHECK(o.out == "getcwd: Function not implemented\n");
  b.config["linux"]["seccomp"]["syscalls"][0]["names"] = nlohmann::json::array();
  create_fails(b, "/linux/seccomp/syscalls/0/names");
}

TEST_CASE("linux seccomp: \"listenerMetadata ... MUST NOT be set if listenerPath is not set\"",
          "[conformance][linux]") {
  Bundle b("cf-seccomp-meta");
  b.config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"listenerMetadata", "x"}};
  create_fails(b, "listenerMetadata");
}

TEST_CASE("linux seccomp: \"When the action doesn't support an errno, the runtime MUST print and error and fail\"",
          "[conformance][linux]") {
  Bundle b("cf-seccomp-errno");
  b.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls", {{{"names", {"getcwd"}}, {"action", "SCMP_ACT_KILL"}, {"errnoRet", 1}}}}};
  create_fails(b, "errnoRet");
}
