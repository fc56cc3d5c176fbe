#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <thread>

#include "harness.hpp"
#include "helpers.hpp"
#include "husk/core/fd.hpp"

using namespace it;

TEST_CASE("process: args, env, cwd", "[process]") {
  Bundle b("env");
  b.config["process"]["env"] = {"PATH=/bin", "FOO=bar baz"};
  b.config["process"]["cwd"] = "/tmp";
  b.args({"test_init", "env"});  // found through PATH
  Out o = b.run();
  INFO(o.err);
  CHECK(o.out.find("FOO=bar baz\n") != std::string::npos);
  CHECK(o.out.find("HOME=/root\n") != std::string::npos);  // from the container's /etc/passwd
  b.args({"test_init", "cwd"});
  CHECK(b.run().out == "/tmp\n");
  // A missing cwd is made, 0755, as runc does (issue 22 class 16).
  b.config["process"]["cwd"] = "/srv/a/b";
  b.args({"test_init", "cwd"});
  Out m = b.run();
  INFO(m.err);
  CHECK(m.code == 0);
  CHECK(m.out == "/srv/a/b\n");
  struct stat st {};
  CHECK(::stat((b.rootfs + "/srv/a/b").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0755);
}

TEST_CASE("process: user, additionalGids (and no groups from /etc/group), umask", "[process]") {
  Bundle b("user");
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}, {"additionalGids", {5, 6}}, {"umask", 077}};
  b.args({"/bin/test_init", "id"});
  Out o = b.run();
  INFO(o.err);
  // alice is in wheel (10) in the image's /etc/group: as runc, only additionalGids count.
  CHECK(o.out == "uid=1000 gid=1000 groups=5,6 umask=0077\n");
}

TEST_CASE("process: capabilities, noNewPrivileges, rlimits, oomScoreAdj", "[process]") {
  Bundle b("caps");
  b.config["process"]["capabilities"] = {{"bounding", {"CAP_KILL", "CAP_CHOWN"}},
                                         {"effective", {"CAP_KILL"}},
                                         {"permitted", {"CAP_KILL"}},
                                         {"ambient", nlohmann::json::array()}};
  b.config["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"hard", 2048}, {"soft", 512}}};
  b.config["process"]["oomScoreAdj"] = 123;
  b.config["process"]["noNewPrivileges"] = true;
  b.args({"/bin/test_init", "cat", "/proc/self/status", "/proc/self/limits", "/proc/self/oom_score_adj"});
  Out o = b.run();
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find("CapInh:\t0000000000000000") != std::string::npos);
  CHECK(o.out.find("CapPrm:\t0000000000000020") != std::string::npos);
  CHECK(o.out.find("CapEff:\t0000000000000020") != std::string::npos);
  CHECK(o.out.find("CapBnd:\t0000000000000021") != std::string::npos);
  CHECK(o.out.find("NoNewPrivs:\t1") != std::string::npos);
  CHECK(o.out.find("Max open files            512                  2048") != std::string::npos);
  CHECK(o.out.find("\n123\n") != std::string::npos);
}

TEST_CASE("process: an unknown capability is a warning and skipped (runtime-spec 1.1+, runc)", "[process]") {
  Bundle b("badcap");
  b.config["process"]["capabilities"]["bounding"].push_back("CAP_NOPE");
  b.args({"/bin/test_init", "cat", "/proc/self/status"});
  Out o = b.run();
  INFO(o.err);
  CHECK(o.code == 0);
  CHECK(o.err.find("level=warning") != std::string::npos);
  CHECK(o.err.find("/process/capabilities/bounding/") != std::string::npos);
  CHECK(o.out.find("CapBnd:\t0000000020000420\n") != std::string::npos);  // the spec's default set
}

TEST_CASE("process: an executable that does not exist fails create", "[process]") {
  Bundle b("noexe");
  b.args({"/bin/nope"});
  Out o = b.create();
  CHECK(o.code != 0);
  CHECK(o.err.find("/bin/nope") != std::string::npos);
  CHECK_FALSE(exists(state_root() + "/" + b.id));
  CHECK(leftover_cgroups() == std::vector<std::string>{});
}

TEST_CASE("process: with no PATH in env a bare name is not found (no default PATH, as runc)", "[process]") {
  Bundle b("nopath");
  b.config["process"]["env"] = nlohmann::json::array({"A=1"});
  b.args({"test_init", "cwd"});
  Out o = b.create();
  INFO(o.err);
  CHECK(o.code != 0);
  CHECK(o.err.find("\\\"test_init\\\": executable file not found in $PATH") != std::string::npos);
  CHECK_FALSE(exists(state_root() + "/" + b.id));
  CHECK(leftover_cgroups() == std::vector<std::string>{});
  // The same name with PATH set runs.
  b.config["process"]["env"] = nlohmann::json::array({"PATH=/bin"});
  b.args({"test_init", "cwd"});
  Out r = b.run();
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(r.out == "/\n");
}

TEST_CASE("process: terminal through --console-socket", "[process]") {
  Bundle b("tty");
  b.config["process"]["terminal"] = true;
  b.config["process"]["consoleSize"] = {{"height", 30}, {"width", 100}};
  b.args({"/bin/test_init", "isatty"});
  ConsoleSocket cs(b.dir + "/console.sock");
  Out o = b.run({"--detach", "--console-socket", cs.path});
  INFO(o.err);
  CHECK(o.code == 0);
  cs.join();
  CHECK(cs.name.rfind("/dev/pts/", 0) == 0);
  CHECK(cs.text.find("/dev/pts/0") != std::string::npos);
  // A terminal without a socket cannot be detached.
  Out bad = b.create();
  CHECK(bad.code != 0);
  CHECK(bad.err.find("--console-socket") != std::string::npos);
}

TEST_CASE("process: --preserve-fds passes fds; nothing else leaks", "[process]") {
  Bundle b("fds");
  b.args({"/bin/test_init", "fds"});
  Out o = run_cmd({"/bin/sh", "-c",
                   std::string("exec 3</etc/hostname; exec ") + HUSK_BIN + " --root " + state_root() +
                       " run --preserve-fds 1 --bundle " + b.dir + " " + b.id});
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find("\n3 /etc/hostname") != std::string::npos);
  CHECK(o.out.find("\n4 ") == std::string::npos);
  Out none = b.run();
  CHECK(none.out.find("\n3 ") == std::string::npos);
  CHECK(none.out.rfind("0 ", 0) == 0);
}

TEST_CASE("process: seccomp errno and the Docker-like profile", "[process]") {
  Bundle b("seccomp");
  b.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", {"SCMP_ARCH_X86_64"}},
      {"syscalls", {{{"names", {"getcwd"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 38}}}}};
  b.args({"/bin/test_init", "cwd"});
  Out o = b.run();
  INFO(o.err);
  CHECK(o.code == 0);
  CHECK(o.out == "getcwd: Function not implemented\n");  // errnoRet 38 = ENOSYS
  b.args({"/bin/test_init", "cat", "/proc/self/status"});
  CHECK(b.run().out.find("Seccomp:\t2") != std::string::npos);
  // ~130 rules, default ERRNO, three architectures, an unknown syscall name skipped.
  b.config["linux"]["seccomp"] =
      nlohmann::json::parse(slurp(std::string(HUSK_TEST_DATA) + "/docker-like-seccomp.json"));
  b.args({"/bin/test_init", "hostname"});
  Out d = b.run();
  INFO(d.err);
  CHECK(d.out == "husk (none)\n");
  b.args({"/bin/test_init", "write", "/tmp/x", "y"});  // mkdirat is not allowed, openat is
  CHECK(b.run().out == "wrote\n");
  b.config["linux"]["seccomp"]["defaultAction"] = "SCMP_ACT_BOGUS";
  Out bad = b.run();
  CHECK(bad.code == 1);
  CHECK(bad.err.find("unknown seccomp action") != std::string::npos);
}

TEST_CASE("process: LISTEN_FDS passes socket-activation fds and sets the env", "[process]") {
  Bundle b("listenfds");
  b.args({"/bin/test_init", "env"});
  Out o = run_cmd({"/bin/sh", "-c",
                   std::string("exec 3</etc/hostname; LISTEN_FDS=1 exec ") + HUSK_BIN + " --root " + state_root() +
                       " run --bundle " + b.dir + " " + b.id});
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find("LISTEN_FDS=1\n") != std::string::npos);
  CHECK(o.out.find("LISTEN_PID=1\n") != std::string::npos);
  b.args({"/bin/test_init", "fds"});
  Out f = run_cmd({"/bin/sh", "-c",
                   std::string("exec 3</etc/hostname; LISTEN_FDS=1 exec ") + HUSK_BIN + " --root " + state_root() +
                       " run --bundle " + b.dir + " " + b.id});
  CHECK(f.out.find("\n3 /etc/hostname") != std::string::npos);
}

TEST_CASE("process: scheduler and ioPriority apply to the init", "[process]") {
  Bundle b("sched");
  b.busybox();
  b.config["process"]["scheduler"] = {{"policy", "SCHED_BATCH"}, {"nice", 7}};
  b.config["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_BE"}, {"priority", 6}};
  // field 19 of /proc/self/stat is the nice value, field 41 the policy (SCHED_BATCH = 3)
  b.args({"/bin/sh", "-c", "busybox cut -d' ' -f19,41 /proc/self/stat; busybox ionice"});
  Out o = b.run();
  INFO(o.err);
  CHECK(o.code == 0);
  CHECK(o.out == "7 3\nbest-effort: prio 6\n");
  b.config["process"]["scheduler"] = {{"policy", "SCHED_NOPE"}};
  b.save();
  Out bad = b.run();
  CHECK(bad.code != 0);
  CHECK(bad.err.find("/process/scheduler/policy: unknown policy") != std::string::npos);
  CHECK_FALSE(exists(state_root() + "/" + b.id));
}

TEST_CASE("process: stdio belongs to the process's user, as runc (issue 22 class 20)", "[process]") {
  Bundle b("stdio-owner");
  b.busybox();
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  b.args({"/bin/sh", "-c", "/bin/busybox stat -c %u /proc/self/fd/1; echo x > /dev/stdout && echo wrote"});
  Out o = b.run();  // stdout and stderr are the harness's pipes, made by root
  INFO(o.err);
  CHECK(o.code == 0);
  CHECK(o.out == "1000\nx\nwrote\n");
}
