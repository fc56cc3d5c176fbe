// exec: a new process in a running container joins all of it and gets the init's
// confinement (plus what the exec asks for); exit codes, terminals, detaching, signals,
// errors and leftovers, each checked from inside the container.
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "harness.hpp"
#include "helpers.hpp"
#include "husk/core/fd.hpp"

using namespace it;
namespace fs = std::filesystem;

namespace {

// husk exec FLAGS ID CMD...: everything after the id is the command.
Out exec_in(const Bundle& b, std::vector<std::string> flags, const std::vector<std::string>& cmd) {
  flags.insert(flags.begin(), "exec");
  flags.push_back(b.id);
  flags.insert(flags.end(), cmd.begin(), cmd.end());
  return it::husk(flags);
}
Out exec_in(const Bundle& b, const std::vector<std::string>& cmd) { return exec_in(b, {}, cmd); }

// A running container whose init waits for a signal.
void start_paused_init(Bundle& b) {
  b.args({"/bin/test_init", "pause"});
  Out o = b.run({"--detach"});
  INFO(o.err);
  REQUIRE(o.code == 0);
  REQUIRE(b.state()["status"] == "running");
}

std::vector<int> cgroup_pids(const Bundle& b) {
  std::string dir = cgroup_dir(b, "pids");
  std::vector<int> out;
  std::istringstream in(slurp(dir + "/cgroup.procs"));
  int p;
  while (in >> p) out.push_back(p);
  return out;
}

// A seccomp agent for several filters (the init's, then each exec's): every connection
// brings a listener fd and a state message; every notification is answered with -err.
struct Agents {
  std::string path;
  int sock = -1, err;
  std::vector<std::string> messages;
  std::vector<std::thread> serving;
  std::thread acceptor;
  std::atomic<bool> stop{false};
  Agents(const std::string& p, int e) : path(p), err(e) {
    sock = unix_listener(path, 4);
    acceptor = std::thread([this] {
      for (;;) {
        int c = ::accept4(sock, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        auto got = husk::recv_with_fd(c);
        ::close(c);
        if (!got || !got->fd) continue;
        messages.push_back(got->payload);
        int fd = got->fd.release();
        serving.emplace_back([this, fd] { answer_notifications(fd, this->err, &stop, -1); });
      }
    });
  }
  ~Agents() {
    stop = true;
    ::shutdown(sock, SHUT_RDWR);
    acceptor.join();
    for (auto& t : serving) t.join();
    ::close(sock);
    ::unlink(path.c_str());
  }
};

}  // namespace

TEST_CASE("exec: joins the container's namespaces, cgroups, root and pid 1", "[exec]") {
  Bundle b("exec-join");
  b.busybox();
  b.config["hostname"] = "exechost";
  b.save();
  start_paused_init(b);

  Out h = exec_in(b, {"/bin/test_init", "hostname"});
  INFO(h.err);
  CHECK(h.code == 0);
  CHECK(h.out == "exechost (none)\n");
  // PID 1 is the container's init, and we are in its pid namespace.
  Out one = exec_in(b, {"/bin/test_init", "cat", "/proc/1/cmdline"});
  CHECK(one.out == std::string("/bin/test_init\0pause\0", 21));
  Out pid = exec_in(b, {"/bin/sh", "-c", "echo $$"});
  CHECK(std::stoi(pid.out) > 1);
  CHECK(std::stoi(pid.out) < 100);
  // Every namespace is the init's; same cgroups and same mounts as the init sees them.
  Out ns = exec_in(
      b,
      {"/bin/sh", "-c",
       "for n in cgroup ipc mnt net pid time user uts; do "
       "[ \"$(busybox readlink /proc/1/ns/$n)\" = \"$(busybox readlink /proc/self/ns/$n)\" ] || echo differ $n; done; "
       "echo checked"});
  CHECK(ns.out == "checked\n");
  Out cg = exec_in(b, {"/bin/sh", "-c", "busybox cmp /proc/1/cgroup /proc/self/cgroup && echo same"});
  CHECK(cg.out == "same\n");
  Out mi = exec_in(b, {"/bin/sh", "-c", "busybox cmp /proc/1/mountinfo /proc/self/mountinfo && echo same"});
  CHECK(mi.out == "same\n");
  // The process is counted in the container's cgroup, seen from the host.
  Out host = exec_in(b, {"/bin/test_init", "ls", "/"});
  CHECK(host.out.find("bin\n") != std::string::npos);
  CHECK(host.out.find("home\n") == std::string::npos);  // the container's root, not ours
  Out ts = exec_in(b, {"/bin/sh", "-c", "busybox sleep 0.3 & echo started"});
  CHECK(ts.code == 0);
}

TEST_CASE("exec: exit codes propagate; a signal gives 128+N; failures give 255", "[exec]") {
  Bundle b("exec-codes");
  b.busybox();
  b.save();
  start_paused_init(b);
  CHECK(exec_in(b, {"/bin/sh", "-c", "exit 7"}).code == 7);
  CHECK(exec_in(b, {"/bin/sh", "-c", "exit 0"}).code == 0);
  CHECK(exec_in(b, {"/bin/sh", "-c", "kill -9 $$"}).code == 137);
  Out missing = exec_in(b, {"/bin/nonexistent"});
  CHECK(missing.code == 255);
  CHECK(missing.err.find("\\\"/bin/nonexistent\\\": no such executable file") != std::string::npos);
  Out nopath = exec_in(b, {"nonexistent"});
  CHECK(nopath.code == 255);
  CHECK(nopath.err.find("executable file not found in $PATH") != std::string::npos);
  // A runc-style "--" before the command is accepted.
  Out dash = it::husk({"exec", b.id, "--", "/bin/sh", "-c", "exit 3"});
  CHECK(dash.code == 3);
  CHECK(cgroup_pids(b).size() == 1);  // only the init is left
}

TEST_CASE("exec: --env, --cwd, --user, --additional-gids, --cap, --no-new-privs", "[exec]") {
  Bundle b("exec-flags");
  b.busybox();
  b.config["process"]["env"] = {"PATH=/bin", "A=from-config", "B=kept"};
  b.save();
  start_paused_init(b);

  Out env = exec_in(b, {"-e", "A=from-flag", "--env", "C=new"}, {"/bin/test_init", "env"});
  CHECK(env.out.find("A=from-flag\n") != std::string::npos);
  CHECK(env.out.find("A=from-config") == std::string::npos);  // duplicates: the last wins
  CHECK(env.out.find("B=kept\n") != std::string::npos);
  CHECK(env.out.find("C=new\n") != std::string::npos);
  CHECK(env.out.find("HOME=/root\n") != std::string::npos);  // from the container's passwd

  ::mkdir((b.rootfs + "/tmp/work").c_str(), 0755);
  CHECK(exec_in(b, {"--cwd", "/tmp/work"}, {"/bin/test_init", "cwd"}).out == "/tmp/work\n");

  Out id = exec_in(b, {"--user", "1000:1000", "-g", "20"}, {"/bin/test_init", "id"});
  INFO(id.out);
  // -g 20 only: alice is in wheel (10) in /etc/group, but with a gid given runc reads no groups.
  CHECK(id.out.rfind("uid=1000 gid=1000 groups=20 ", 0) == 0);
  Out home = exec_in(b, {"-u", "1000"}, {"/bin/test_init", "env"});
  CHECK(home.out.find("HOME=/home/alice\n") != std::string::npos);
  Out bad = exec_in(b, {"-u", "1000:x"}, {"/bin/test_init", "exit", "0"});
  CHECK(bad.code != 0);
  CHECK(bad.err.find("--user \\\"1000:x\\\"") != std::string::npos);

  // The runtime-spec default caps are 0x20000420 (CAP_AUDIT_WRITE, CAP_KILL,
  // CAP_NET_BIND_SERVICE); --cap adds CAP_NET_ADMIN (12) to bounding/effective/permitted.
  std::string st = exec_in(b, {"--cap", "CAP_NET_ADMIN"}, {"/bin/test_init", "cat", "/proc/self/status"}).out;
  CHECK(status_field(st, "CapEff") == "0000000020001420");
  CHECK(status_field(st, "CapBnd") == "0000000020001420");
  CHECK(status_field(st, "CapPrm") == "0000000020001420");
  CHECK(status_field(st, "CapInh") == "0000000000000000");
  CHECK(status_field(st, "CapAmb") == "0000000000000000");
  Out badcap = exec_in(b, {"--cap", "CAP_BOGUS"}, {"/bin/test_init", "exit", "0"});
  CHECK(badcap.code == 0);  // warned and skipped (runtime-spec 1.1+, runc)
  CHECK(badcap.err.find("ignoring unknown or unavailable capabilities: [CAP_BOGUS]") != std::string::npos);

  b.config["process"]["noNewPrivileges"] = false;  // the saved config is what counts, not this
  b.save();
  std::string plain = exec_in(b, {"/bin/test_init", "cat", "/proc/self/status"}).out;
  std::string nnp = exec_in(b, {"--no-new-privs"}, {"/bin/test_init", "cat", "/proc/self/status"}).out;
  CHECK(status_field(nnp, "NoNewPrivs") == "1");
  CHECK(status_field(plain, "NoNewPrivs") == "1");  // the container's process has it
}

TEST_CASE("exec: --process FILE is used as it is; bad ones are named", "[exec]") {
  Bundle b("exec-process");
  b.busybox();
  start_paused_init(b);
  std::string pf = b.dir + "/process.json";
  nlohmann::json p = {
      {"args",
       {"/bin/sh", "-c", "echo $X $(busybox id -u):$(busybox id -g) $(pwd); busybox grep CapBnd /proc/self/status"}},
      {"env", {"PATH=/bin", "X=from-file"}},
      {"cwd", "/tmp"},
      {"user", {{"uid", 1000}, {"gid", 1000}}},
      {"capabilities", {{"bounding", {"CAP_KILL"}}, {"effective", {"CAP_KILL"}}, {"permitted", {"CAP_KILL"}}}}};
  std::ofstream(pf) << p.dump();
  Out o = it::husk({"exec", "--process", pf, b.id});
  INFO(o.err);
  CHECK(o.code == 0);
  // A non-root user keeps no effective capability across execve without ambient ones.
  CHECK(o.out == "from-file 1000:1000 /tmp\nCapBnd:\t0000000000000020\n");
  // The flags that change the config's process are ignored with --process (as runc).
  Out ign = it::husk({"exec", "-p", pf, "--cwd", "/", "-e", "X=flag", b.id});
  CHECK(ign.out.rfind("from-file 1000:1000 /tmp\n", 0) == 0);

  std::ofstream(pf) << R"({"args":["/bin/test_init"],"cwd":"relative"})";
  Out rel = it::husk({"exec", "-p", pf, b.id});
  CHECK(rel.code == 255);
  CHECK(rel.err.find(pf + ": /cwd: \\\"relative\\\" must be an absolute path") != std::string::npos);
  std::ofstream(pf) << R"({"args":["/bin/test_init"],"cwd":"/","rlimits":[{"type":"RLIMIT_BOGUS","hard":1,"soft":1}]})";
  Out rl = it::husk({"exec", "-p", pf, b.id});
  CHECK(rl.err.find(pf + ": /rlimits/0/type: unknown rlimit") != std::string::npos);
  std::ofstream(pf) << R"({"args":["/bin/test_init"],"cwd":"/","env":"x"})";
  Out ty = it::husk({"exec", "-p", pf, b.id});
  CHECK(ty.err.find(pf + ": /env: must be an array") != std::string::npos);
  std::ofstream(pf) << "{";
  CHECK(it::husk({"exec", "-p", pf, b.id}).err.find("invalid JSON") != std::string::npos);
  CHECK(cgroup_pids(b).size() == 1);
}

TEST_CASE("exec: -d --pid-file writes the pid of a live process in the container", "[exec]") {
  Bundle b("exec-detach");
  b.busybox();
  start_paused_init(b);
  std::string pf = b.dir + "/exec.pid";
  // Not `pause`: its "ready" line goes to our stdout pipe, which exec_in closes once husk has
  // returned; a process slower than that (a loaded machine) died of SIGPIPE (1 run in ~70).
  Out o = exec_in(b, {"-d", "--pid-file", pf}, {"/bin/test_init", "sleep", "600"});
  INFO(o.err);
  REQUIRE(o.code == 0);
  int pid = std::stoi(slurp(pf));
  REQUIRE(pid > 0);
  // -d returns once execve succeeded: the process may still be on its way into sleep().
  std::string stat;
  for (int i = 0; i < 200; ++i) {
    stat = slurp("/proc/" + std::to_string(pid) + "/stat");
    if (stat.find("(test_init) S") != std::string::npos) break;
    ::usleep(10000);
  }
  INFO(stat);
  CHECK(stat.find("(test_init) S") != std::string::npos);
  auto pids = cgroup_pids(b);
  CHECK(std::find(pids.begin(), pids.end(), pid) != pids.end());
  CHECK(pids.size() == 2);
  ::kill(pid, SIGTERM);
  // Reparented to us (the test is not its parent: waitpid fails) or to init: it goes away.
  for (int i = 0; i < 200 && exists("/proc/" + std::to_string(pid)) &&
                  slurp("/proc/" + std::to_string(pid) + "/stat").find(") Z") == std::string::npos;
       ++i)
    ::usleep(10000);
  ::waitpid(pid, nullptr, WNOHANG);
  // --pidfd-socket: a pidfd of the exec'd process, by SCM_RIGHTS.
  std::string ps = b.dir + "/pidfd.sock";
  int ls = unix_listener(ps);
  REQUIRE(ls >= 0);
  std::string link;
  std::thread t([&] {
    int c = ::accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
    auto got = husk::recv_with_fd(c);
    ::close(c);
    if (got && got->fd) {
      char l[64] = {};
      (void)!::readlink(("/proc/self/fd/" + std::to_string(got->fd.get())).c_str(), l, sizeof l - 1);
      link = l;
    }
  });
  Out pfd = exec_in(b, {"-d", "--pidfd-socket", ps}, {"/bin/test_init", "exit", "0"});
  t.join();
  ::close(ls);
  CHECK(pfd.code == 0);
  CHECK(link == "anon_inode:[pidfd]");
  // A tty without a console socket cannot be detached.
  Out bad = exec_in(b, {"-d", "-t"}, {"/bin/test_init", "exit", "0"});
  CHECK(bad.code != 0);
  CHECK(bad.err.find("--console-socket") != std::string::npos);
}

TEST_CASE("exec: -t --console-socket gives the process a pty; the shim's --process form too", "[exec]") {
  Bundle b("exec-tty");
  b.busybox();
  start_paused_init(b);
  {
    ConsoleSocket cs(b.dir + "/c1.sock");
    Out o = exec_in(b, {"-t", "--console-socket", cs.path, "-d"}, {"/bin/sh", "-c", "busybox tty; busybox stty size"});
    INFO(o.err);
    CHECK(o.code == 0);
    cs.join();
    CHECK(cs.name.rfind("/dev/pts/", 0) == 0);
    CHECK(cs.text.find("/dev/pts/") != std::string::npos);
  }
  {
    // containerd's shim: terminal in the process file, --console-socket without --tty.
    ConsoleSocket cs(b.dir + "/c2.sock");
    std::string pf = b.dir + "/p.json";
    std::ofstream(pf)
        << R"({"terminal":true,"consoleSize":{"height":33,"width":111},"args":["/bin/sh","-c","busybox tty; busybox stty size"],"cwd":"/","env":["PATH=/bin"]})";
    Out o = it::husk({"exec", "--process", pf, "--console-socket", cs.path, "--detach", b.id});
    INFO(o.err);
    CHECK(o.code == 0);
    cs.join();
    CHECK(cs.text.find("/dev/pts/") != std::string::npos);
    CHECK(cs.text.find("33 111") != std::string::npos);
  }
  // Foreground without a socket: husk holds the master and copies it to our stdout.
  Out fg = exec_in(b, {"-t"}, {"/bin/sh", "-c", "busybox tty"});
  CHECK(fg.code == 0);
  CHECK(fg.out.rfind("/dev/pts/", 0) == 0);
  // A socket without a terminal is a mistake.
  Out bad = exec_in(b, {"--console-socket", b.dir + "/none.sock"}, {"/bin/test_init", "exit", "0"});
  CHECK(bad.code != 0);
}

TEST_CASE("exec: same capabilities, seccomp filter and limits as the init", "[exec][security]") {
  Bundle b("exec-confine");
  b.busybox();
  b.config["process"]["capabilities"] = {{"bounding", {"CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID"}},
                                         {"effective", {"CAP_CHOWN", "CAP_KILL"}},
                                         {"permitted", {"CAP_CHOWN", "CAP_KILL"}}};
  b.config["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"hard", 333}, {"soft", 222}}};
  b.config["process"]["user"]["umask"] = 027;
  b.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 18}}}}};
  b.save();
  start_paused_init(b);
  std::string init = exec_in(b, {"/bin/test_init", "cat", "/proc/1/status"}).out;
  std::string mine = exec_in(b, {"/bin/test_init", "cat", "/proc/self/status"}).out;
  for (auto k : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters"}) {
    INFO(k);
    CHECK(status_field(mine, k) == status_field(init, k));
  }
  CHECK(status_field(mine, "Seccomp") == "2");
  CHECK(status_field(mine, "CapEff") == "0000000000000021");
  Out mk = exec_in(b, {"/bin/sh", "-c", "busybox mkdir /tmp/x; echo $?"});
  CHECK(mk.err.find("Invalid cross-device link") != std::string::npos);  // errnoRet 18 = EXDEV
  CHECK(exec_in(b, {"/bin/sh", "-c", "ulimit -n; ulimit -Hn"}).out == "222\n333\n");
  CHECK(exec_in(b, {"/bin/sh", "-c", "umask"}).out == "0027\n");
  CHECK(!exists(state_root() + "/" + b.id + "/ptrace"));  // no CAP_SYS_PTRACE: no sealing needed
}

TEST_CASE("exec: a user-namespaced container; the ptrace marker seals later execs", "[exec][security]") {
  Bundle b("exec-userns");
  b.busybox();
  b.config["linux"]["namespaces"].push_back({{"type", "user"}});
  b.config["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  b.config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  b.config["process"]["capabilities"] = all_capabilities();  // CAP_SYS_PTRACE too
  b.save();
  start_paused_init(b);
  Out m = exec_in(b, {"/bin/test_init", "cat", "/proc/self/uid_map"});
  INFO(m.err);
  CHECK(m.out.find("0     100000      65536") != std::string::npos);
  CHECK(exec_in(b, {"/bin/test_init", "id"}).out.rfind("uid=0 gid=0", 0) == 0);
  // All of its capabilities are in its own user namespace: they reach nothing of ours.
  CHECK(!exists(state_root() + "/" + b.id + "/ptrace"));
  // Without a user namespace, CAP_SYS_PTRACE given by --cap marks the container.
  Bundle c("exec-ptrace");
  c.busybox();
  start_paused_init(c);
  CHECK(!exists(state_root() + "/" + c.id + "/ptrace"));
  CHECK(exec_in(c, {"--cap", "CAP_SYS_PTRACE"}, {"/bin/test_init", "exit", "0"}).code == 0);
  CHECK(exists(state_root() + "/" + c.id + "/ptrace"));
  // The next exec runs from the read-only view of husk; the process still works.
  Out again = it::husk({"--debug", "exec", c.id, "/bin/test_init", "exit", "0"});
  CHECK(again.code == 0);
  CHECK(again.err.find("re-executing from a read-only view of our binary") != std::string::npos);
}

TEST_CASE("exec: refused for a missing, stopped or paused container; a created one runs it (runc)", "[exec]") {
  Bundle b("exec-refused");
  b.busybox();
  Out none = it::husk({"exec", b.id, "/bin/test_init", "exit", "0"});
  CHECK(none.code == 255);
  CHECK(none.err.find("does not exist") != std::string::npos);

  b.config["hostname"] = "createdhost";
  b.args({"/bin/test_init", "pause"});
  REQUIRE(b.create().code == 0);
  // created: the init waits on exec.fifo; the process runs in the container (its hostname).
  Out created = it::husk({"exec", b.id, "/bin/sh", "-c", "hostname; exit 3"});
  INFO(created.err);
  CHECK(created.code == 3);
  CHECK(created.out == "createdhost\n");
  REQUIRE(b.start().code == 0);

  REQUIRE(it::husk({"pause", b.id}).code == 0);
  Out paused = it::husk({"exec", b.id, "/bin/test_init", "exit", "0"});
  CHECK(paused.code == 255);
  CHECK(paused.err.find("--ignore-paused") != std::string::npos);
  // With --ignore-paused the process starts frozen and runs once resumed.
  Out ip;
  std::atomic<bool> returned{false};
  std::thread t([&] {
    ip = it::husk({"exec", "--ignore-paused", b.id, "/bin/sh", "-c", "echo ran"});
    returned = true;
  });
  ::usleep(300000);
  CHECK_FALSE(returned);  // frozen with the container
  REQUIRE(it::husk({"resume", b.id}).code == 0);
  t.join();
  CHECK(ip.code == 0);
  CHECK(ip.out == "ran\n");

  REQUIRE(it::husk({"kill", b.id, "KILL"}).code == 0);
  for (int i = 0; i < 200 && b.state()["status"] != "stopped"; ++i) ::usleep(10000);
  Out stopped = it::husk({"exec", b.id, "/bin/test_init", "exit", "0"});
  CHECK(stopped.code == 255);
  CHECK(stopped.err.find("cannot exec in a stopped container") != std::string::npos);
  CHECK(b.state()["status"] == "stopped");
}

TEST_CASE("exec: forwards signals to the process and reaps it", "[exec]") {
  Bundle b("exec-signals");
  b.busybox();
  start_paused_init(b);
  std::string pf = b.dir + "/fg.pid";
  // The foreground husk exec runs in a child we can signal.
  pid_t p = ::fork();
  if (p == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(HUSK_BIN, HUSK_BIN, "--root", state_root().c_str(), "exec", "--pid-file", pf.c_str(), b.id.c_str(),
            "/bin/test_init", "pause", nullptr);
    _exit(127);
  }
  for (int i = 0; i < 300 && !exists(pf); ++i) ::usleep(10000);
  REQUIRE(exists(pf));
  int target = std::stoi(slurp(pf));
  ::usleep(50000);
  ::kill(p, SIGTERM);  // to husk: forwarded; test_init exits 143 on TERM
  int st = 0;
  REQUIRE(::waitpid(p, &st, 0) == p);
  CHECK(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 143);
  CHECK_FALSE(exists("/proc/" + std::to_string(target)));  // reaped, not a zombie
  CHECK(cgroup_pids(b).size() == 1);
}

TEST_CASE("exec: --preserve-fds passes fds; nothing of husk leaks", "[exec][security]") {
  Bundle b("exec-fds");
  b.busybox();
  start_paused_init(b);
  Out o = run_cmd({"/bin/sh", "-c",
                   std::string("exec 3</etc/hostname; exec ") + HUSK_BIN + " --root " + state_root() +
                       " exec --preserve-fds 1 " + b.id + " /bin/test_init fds"});
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find("\n3 /etc/hostname") != std::string::npos);
  CHECK(o.out.find("\n4 ") == std::string::npos);
  Out none = exec_in(b, {"/bin/test_init", "fds"});
  CHECK(none.out.find("\n3 ") == std::string::npos);
  CHECK(none.out.rfind("0 ", 0) == 0);
}

TEST_CASE("exec: our binary is never executed in the container", "[exec][security][escape]") {
  Bundle b("exec-self");
  b.busybox();
  b.config["mounts"].push_back(
      {{"destination", "/husk"}, {"type", "bind"}, {"source", HUSK_BIN}, {"options", {"bind", "ro"}}});
  b.save();
  std::ofstream(b.rootfs + "/husk") << "";
  start_paused_init(b);
  Out o = exec_in(b, {}, {"/husk", "--version"});
  CHECK(o.code == 255);
  CHECK(o.err.find("refusing to execute the runtime binary") != std::string::npos);
  std::ofstream(b.rootfs + "/script") << "#!/husk\n";
  ::chmod((b.rootfs + "/script").c_str(), 0755);
  Out s = exec_in(b, {"/script"});
  CHECK(s.code == 255);
  CHECK(s.err.find("its interpreter is the runtime binary") != std::string::npos);
}

TEST_CASE("exec: 100 execs in a row leave no zombie, process or file behind", "[exec]") {
  Bundle b("exec-loop");
  b.busybox();
  start_paused_init(b);
  auto before = fs::directory_iterator(state_root() + "/" + b.id);
  size_t files = std::distance(before, fs::directory_iterator{});
  int failures = 0;
  for (int i = 0; i < 100; ++i)
    if (exec_in(b, {"/bin/test_init", "exit", "0"}).code != 0) ++failures;
  CHECK(failures == 0);
  auto pids = cgroup_pids(b);
  CHECK(pids.size() == 1);
  CHECK(pids.at(0) == b.state()["pid"].get<int>());
  // No zombie anywhere in the container (the init would have to reap strays).
  Out z =
      exec_in(b, {"/bin/sh", "-c",
                  "for s in /proc/[0-9]*/stat; do busybox cut -d' ' -f3 $s; done | busybox sort | busybox uniq -c"});
  CHECK(z.out.find(" Z") == std::string::npos);
  auto after = fs::directory_iterator(state_root() + "/" + b.id);
  CHECK(static_cast<size_t>(std::distance(after, fs::directory_iterator{})) == files);
}

TEST_CASE("exec: --cgroup runs the process in an existing sub-cgroup", "[exec][cgroups]") {
  Bundle b("exec-subcg");
  b.add_namespace("cgroup");
  b.busybox();
  start_paused_init(b);
  bool v1 = cgroup_v1_host();
  std::string base = cgroup_dir(b, "pids");
  REQUIRE(::mkdir((base + "/sub").c_str(), 0755) == 0);
  struct Rmdir {
    std::string d;
    ~Rmdir() {
      for (int i = 0; i < 100 && ::rmdir(d.c_str()) < 0 && errno == EBUSY; ++i) ::usleep(10000);
    }
  } rm{base + "/sub"};
  Out o = exec_in(b, {"--cgroup", v1 ? "pids:sub" : "sub"}, {"/bin/test_init", "cat", "/proc/self/cgroup"});
  INFO(o.err);
  CHECK(o.code == 0);
  CHECK(o.out.find(v1 ? "pids:/sub\n" : "0::/sub\n") != std::string::npos);
  if (v1) CHECK(o.out.find("memory:/\n") != std::string::npos);  // the others: the container's
  // `/`: the container's own cgroup (runc). runc's messages for the errors.
  Out own = exec_in(b, {"--cgroup", "/"}, {"/bin/test_init", "cat", "/proc/self/cgroup"});
  INFO(own.err);
  CHECK(own.code == 0);
  CHECK(own.out.find(v1 ? "pids:/\n" : "0::/\n") != std::string::npos);
  Out missing = exec_in(b, {"--cgroup", "nosuch"}, {"/bin/test_init", "exit", "0"});
  CHECK(missing.code == 255);
  CHECK(missing.err.find("nosuch/cgroup.procs: no such file or directory") != std::string::npos);
  Out dots = exec_in(b, {"--cgroup", "../x"}, {"/bin/test_init", "exit", "0"});
  CHECK(dots.code == 255);
  CHECK(dots.err.find("../x is not a sub cgroup path") != std::string::npos);
  Out ctrl = exec_in(b, {"--cgroup", "bogus:/"}, {"/bin/test_init", "exit", "0"});
  CHECK(ctrl.code == 255);
  CHECK(ctrl.err.find("unknown controller bogus in SubCgroupPaths") != std::string::npos);
}

TEST_CASE("exec: execCPUAffinity, scheduler and ioPriority of the exec'd process", "[exec]") {
  Bundle b("exec-sched");
  b.busybox();
  b.config["process"]["scheduler"] = {{"policy", "SCHED_BATCH"}, {"nice", 3}};
  b.save();
  start_paused_init(b);
  std::string pf = b.dir + "/p.json";
  std::ofstream(pf)
      << R"({"args":["/bin/sh","-c","busybox grep Cpus_allowed_list /proc/self/status; busybox cut -d' ' -f19,41 /proc/self/stat; busybox ionice"],
    "cwd":"/","env":["PATH=/bin"],"execCPUAffinity":{"initial":"0","final":"0"},"ioPriority":{"class":"IOPRIO_CLASS_IDLE","priority":0}})";
  Out o = it::husk({"exec", "-p", pf, b.id});
  INFO(o.err);
  CHECK(o.code == 0);
  // The container's scheduler (none in the file), the file's affinity and I/O class.
  CHECK(o.out == "Cpus_allowed_list:\t0\n3 3\nidle\n");
  std::ofstream(pf) << R"({"args":["/bin/sh"],"cwd":"/","execCPUAffinity":{"final":"0-"}})";
  Out bad = it::husk({"exec", "-p", pf, b.id});
  CHECK(bad.code == 255);
  CHECK(bad.err.find("/execCPUAffinity/final") != std::string::npos);
}

TEST_CASE("exec: SCMP_ACT_NOTIFY: each exec'd process's listener goes to listenerPath", "[exec][security]") {
  Bundle b("exec-notify");
  b.busybox();
  std::string sock = b.dir + "/agent.sock";
  Agents agents(sock, 18);
  b.config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                  {"listenerPath", sock},
                                  {"listenerMetadata", "m"},
                                  {"syscalls", {{{"names", {"getcwd"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
  b.save();
  start_paused_init(b);
  Out o = exec_in(b, {"/bin/test_init", "cwd"});
  INFO(o.err);
  CHECK(o.code == 0);
  CHECK(o.out == "getcwd: Invalid cross-device link\n");
  REQUIRE(agents.messages.size() == 2);
  auto m = nlohmann::json::parse(agents.messages[1]);
  CHECK(m["state"]["status"] == "running");
  CHECK(m["state"]["pid"] == b.state()["pid"]);
  CHECK(m["pid"] != m["state"]["pid"]);  // the exec'd process, not the init
  CHECK(m["metadata"] == "m");
  it::husk({"kill", b.id, "KILL"});
}
