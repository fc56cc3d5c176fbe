// Security: capabilities bit for bit, seccomp (errno, allow-lists, the notify listener,
// the compiled cache), privileges, and the escape classes of features.md "CVE defences",
// each attempted for real.
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/syscall.h>

#include "harness.hpp"
#include "helpers.hpp"
#include "husk/core/fd.hpp"

using namespace it;
namespace fs = std::filesystem;

namespace {

// A seccomp agent: takes the listener fd and the state from husk, then answers every
// notification with errno `err`, until the container's filter goes away.
struct Agent {
  std::string path;
  int sock = -1;
  int err;
  std::string message;
  std::atomic<int> answered{0};
  std::thread t;
  Agent(const std::string& p, int e) : path(p), err(e) {
    sock = unix_listener(path, 1);
    t = std::thread([this] { serve(); });
  }
  ~Agent() {
    ::shutdown(sock, SHUT_RDWR);
    t.join();
    ::close(sock);
    ::unlink(path.c_str());
  }
  void serve() {
    pollfd p{sock, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0 || !(p.revents & POLLIN)) return;
    int c = ::accept4(sock, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    auto got = husk::recv_with_fd(c);
    ::close(c);
    if (!got || !got->fd) return;
    message = got->payload;
    answer_notifications(got->fd.release(), err, nullptr, 10000, &answered);
  }
};

}  // namespace

TEST_CASE("security: all five capability sets, bit for bit, across the uid change", "[security]") {
  Bundle b("capsets");
  // CAP_CHOWN=0, CAP_KILL=5, CAP_NET_BIND_SERVICE=10
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  b.config["process"]["capabilities"] = {{"bounding", {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"}},
                                         {"effective", {"CAP_KILL", "CAP_NET_BIND_SERVICE"}},
                                         {"permitted", {"CAP_KILL", "CAP_NET_BIND_SERVICE"}},
                                         {"inheritable", {"CAP_KILL"}},
                                         {"ambient", {"CAP_KILL"}}};
  b.args({"/bin/test_init", "cat", "/proc/self/status"});
  Out o = b.run();
  INFO(o.err);
  REQUIRE(o.code == 0);
  // A non-root exec keeps only the ambient set (in permitted and effective).
  CHECK(status_field(o.out, "CapInh") == "0000000000000020");
  CHECK(status_field(o.out, "CapPrm") == "0000000000000020");
  CHECK(status_field(o.out, "CapEff") == "0000000000000020");
  CHECK(status_field(o.out, "CapBnd") == "0000000000000421");
  CHECK(status_field(o.out, "CapAmb") == "0000000000000020");
  CHECK(status_field(o.out, "Uid") == "1000\t1000\t1000\t1000");

  // As root, every set exactly as configured; inheritable stays empty when not asked.
  b.config["process"]["user"] = {{"uid", 0}, {"gid", 0}};
  b.config["process"]["capabilities"].erase("inheritable");
  b.config["process"]["capabilities"].erase("ambient");
  Out r = b.run();
  REQUIRE(r.code == 0);
  CHECK(status_field(r.out, "CapInh") == "0000000000000000");
  CHECK(status_field(r.out, "CapPrm") == "0000000000000420");
  CHECK(status_field(r.out, "CapEff") == "0000000000000420");
  CHECK(status_field(r.out, "CapBnd") == "0000000000000421");
  CHECK(status_field(r.out, "CapAmb") == "0000000000000000");
}

TEST_CASE("security: a capability missing from the host's bounding set is named at create", "[security]") {
  auto status = slurp("/proc/self/status");
  uint64_t bnd = std::stoull(status_field(status, "CapBnd"), nullptr, 16);
  if (bnd & (uint64_t{1} << 24)) return it::skip("this host has CAP_SYS_RESOURCE in its bounding set");
  Bundle b("nosysres");
  b.config["process"]["capabilities"]["bounding"].push_back("CAP_SYS_RESOURCE");
  Out o = b.create();
  CHECK(o.code == 1);
  CHECK(o.err.find("CAP_SYS_RESOURCE is not in the host's capability bounding set") != std::string::npos);
  CHECK(o.err.find("/process/capabilities") != std::string::npos);
  CHECK_FALSE(exists(state_root() + "/" + b.id));
  CHECK(leftover_cgroups() == std::vector<std::string>{});
}

TEST_CASE("security: an allow-list profile runs a shell; NNP, id, ulimit inside it", "[security]") {
  Bundle b("allowlist");
  b.busybox();
  b.config["linux"]["seccomp"] =
      nlohmann::json::parse(slurp(std::string(HUSK_TEST_DATA) + "/docker-like-seccomp.json"));
  REQUIRE(b.config["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO");
  b.config["linux"]["seccomp"]["defaultErrnoRet"] = 38;  // ENOSYS: not to be confused with EPERM
  b.config["process"]["noNewPrivileges"] = true;
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}, {"additionalGids", {10, 20}}};
  b.config["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"hard", 4096}, {"soft", 321}}};
  b.args({"/bin/sh", "-c",
          "busybox id; ulimit -n; busybox grep NoNewPrivs /proc/self/status; busybox chroot / /bin/busybox true 2>&1; "
          "echo chroot=$?"});
  Out o = b.run();
  INFO(o.out << o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find("uid=1000(alice) gid=1000(alice) groups=10(wheel),20\n") != std::string::npos);
  CHECK(o.out.find("\n321\n") != std::string::npos);
  CHECK(o.out.find("NoNewPrivs:\t1") != std::string::npos);
  // chroot is not in the profile: defaultErrnoRet.
  CHECK(o.out.find("Function not implemented") != std::string::npos);
  CHECK(o.out.find("chroot=1") != std::string::npos);
}

TEST_CASE("security: seccomp ENOSYS for syscalls newer than the profile's (issue 22 class 17)", "[security]") {
  // As runc: with a denying default, a syscall numbered above every syscall the profile names
  // gets ENOSYS (glibc falls back on it), one the profile merely omits the default errno.
  Bundle b("enosys");
  b.config["linux"]["seccomp"] =
      nlohmann::json::parse(slurp(std::string(HUSK_TEST_DATA) + "/docker-like-seccomp.json"));
  REQUIRE(b.config["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO");
  b.config["linux"]["seccomp"].erase("defaultErrnoRet");
  b.args({"/bin/test_init", "syscall", "1000"});
  Out o = b.run();
  INFO(o.err);
  CHECK(o.code == 0);
  CHECK(o.out == "syscall 1000: Function not implemented\n");
  b.args({"/bin/test_init", "syscall", std::to_string(SYS_chroot)});  // omitted by the profile
  Out c = b.run();
  INFO(c.err);
  CHECK(c.out == "syscall " + std::to_string(SYS_chroot) + ": Operation not permitted\n");
  // A permissive default gets no stub: the kernel itself answers an unknown number.
  b.config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                  {"architectures", {"SCMP_ARCH_X86_64"}},
                                  {"syscalls", {{{"names", {"chroot"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
  b.args({"/bin/test_init", "syscall", "1000"});
  CHECK(b.run().out == "syscall 1000: Function not implemented\n");
  // A profile naming no syscall for its architectures: runc's warning, and no stub.
  b.config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ERRNO"},
                                  {"architectures", {"SCMP_ARCH_X86_64"}},
                                  {"syscalls", {{{"names", {"no_such_syscall"}}, {"action", "SCMP_ACT_ALLOW"}}}}};
  b.args({"/bin/test_init", "exit", "0"});
  Out w = b.run();
  CHECK(w.code != 0);
  CHECK(w.err.find("could not find any syscalls for arch amd64") != std::string::npos);
  CHECK(w.err.find("container process is already dead") != std::string::npos);
}

TEST_CASE("security: seccomp actions, args operators and errnoRet", "[security]") {
  Bundle b("scactions");
  b.busybox();
  // chmod/fchmodat with mode&0777 == 0700 -> EXDEV (MASKED_EQ on the mode argument);
  // sync kills the process; sethostname is TRACEd (no tracer: ENOSYS); getpid is LOGged.
  b.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
      {"flags", {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"}},
      {"syscalls",
       {{{"names", {"chmod"}},
         {"action", "SCMP_ACT_ERRNO"},
         {"errnoRet", 18},
         {"args", {{{"index", 1}, {"value", 0777}, {"valueTwo", 0700}, {"op", "SCMP_CMP_MASKED_EQ"}}}}},
        {{"names", {"fchmodat"}},
         {"action", "SCMP_ACT_ERRNO"},
         {"errnoRet", 18},
         {"args", {{{"index", 2}, {"value", 0777}, {"valueTwo", 0700}, {"op", "SCMP_CMP_MASKED_EQ"}}}}},
        {{"names", {"sync"}}, {"action", "SCMP_ACT_KILL_PROCESS"}},
        {{"names", {"sethostname"}}, {"action", "SCMP_ACT_TRACE"}},
        {{"names", {"getpid"}}, {"action", "SCMP_ACT_LOG"}},
        {{"names", {"no_such_syscall_at_all"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
  b.args({"/bin/sh", "-c",
          "busybox touch /tmp/f; busybox chmod 700 /tmp/f 2>&1; echo chmod700=$?; busybox chmod 644 /tmp/f; echo "
          "chmod644=$?; "
          "busybox hostname x 2>&1; echo hostname=$?; echo pid=$$"});
  Out o = b.run();
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find("Invalid cross-device link") != std::string::npos);  // EXDEV = 18
  CHECK(o.out.find("chmod700=1") != std::string::npos);
  CHECK(o.out.find("chmod644=0") != std::string::npos);
  CHECK(o.out.find("hostname=1") != std::string::npos);
  CHECK(o.out.find("pid=1") != std::string::npos);
  b.args({"/bin/busybox", "sync"});
  Out k = b.run();
  CHECK(k.code == 128 + 31);  // SIGSYS: KILL_PROCESS
  CHECK(k.out.find("survived") == std::string::npos);
}

TEST_CASE("security: SCMP_ACT_NOTIFY hands the listener fd and the state to listenerPath", "[security]") {
  for (bool nnp : {true, false}) {
    Bundle b(nnp ? "notify-nnp" : "notify");
    std::string sock = b.dir + "/agent.sock";
    Agent agent(sock, 18);
    b.config["process"]["noNewPrivileges"] = nnp;
    b.config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                    {"listenerPath", sock},
                                    {"listenerMetadata", "meta-42"},
                                    {"flags", {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}},
                                    {"syscalls", {{{"names", {"getcwd"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
    b.args({"/bin/test_init", "cwd"});
    Out o = b.run();
    INFO(o.err);
    CHECK(o.code == 0);
    CHECK(o.out == "getcwd: Invalid cross-device link\n");
    CHECK(agent.answered >= 1);
    REQUIRE_FALSE(agent.message.empty());
    auto m = nlohmann::json::parse(agent.message);
    CHECK(m["fds"] == nlohmann::json::array({"seccompFd"}));
    CHECK(m["metadata"] == "meta-42");
    CHECK(m["pid"].get<int>() > 0);
    CHECK(m["state"]["id"] == b.id);
    CHECK(m["state"]["status"] == "creating");
    CHECK(m["state"]["bundle"] == b.dir);
  }
  // Without a listener path, or with nobody listening: a clean create error.
  Bundle n("notify-bad");
  n.config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                  {"syscalls", {{{"names", {"getcwd"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
  Out o = n.create();
  CHECK(o.code == 1);
  CHECK(o.err.find("/linux/seccomp/listenerPath") != std::string::npos);
  n.config["linux"]["seccomp"]["listenerPath"] = n.dir + "/nobody.sock";
  o = n.create();
  CHECK(o.code == 1);
  CHECK(o.err.find("nobody.sock") != std::string::npos);
  CHECK_FALSE(exists(state_root() + "/" + n.id));
  CHECK(leftover_cgroups() == std::vector<std::string>{});
}

TEST_CASE("security: the compiled seccomp cache is used, and a tampered entry is not", "[security]") {
  Bundle b("sccache");
  b.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls", {{{"names", {"getcwd"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 38}}}}};
  b.args({"/bin/test_init", "cwd"});
  std::string dir = state_root() + "/.seccomp";
  fs::remove_all(dir);
  REQUIRE(b.run().out == "getcwd: Function not implemented\n");
  struct stat st;
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  std::vector<std::string> entries;
  for (auto& e : fs::directory_iterator(dir)) entries.push_back(e.path());
  REQUIRE(entries.size() >= 1);
  // `list` does not mistake the cache for a container.
  CHECK(it::husk({"list", "-q"}).out.find(".seccomp") == std::string::npos);
  for (auto& f : entries) {
    // Replace the program by "allow everything" with a consistent length: the checksum fails.
    std::string bytes = slurp(f);
    for (size_t i = 52; i + 32 < bytes.size(); i += 8) {
      bytes[i] = 0x06;  // BPF_RET|BPF_K
      bytes[i + 1] = 0;
      bytes[i + 4] = 0;
      bytes[i + 5] = 0;
      bytes[i + 6] = static_cast<char>(0xff);
      bytes[i + 7] = 0x7f;  // SECCOMP_RET_ALLOW
    }
    std::ofstream(f, std::ios::binary | std::ios::trunc) << bytes;
  }
  Out o = b.run({});
  CHECK(o.out == "getcwd: Function not implemented\n");
  // A group-writable entry is ignored too, and rewritten as a private one.
  for (auto& f : entries) ::chmod(f.c_str(), 0666);
  CHECK(b.run().out == "getcwd: Function not implemented\n");
  for (auto& f : entries) {
    REQUIRE(::stat(f.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
}

TEST_CASE("security: bad seccomp, rlimit and capability input fails create, naming the field", "[security]") {
  struct Case {
    const char* name;
    std::function<void(nlohmann::json&)> edit;
    const char* want;
  };
  std::vector<Case> cases = {
      {"action",
       [](nlohmann::json& c) {
         c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_NOPE"}};
       },
       "/linux/seccomp/defaultAction: unknown seccomp action"},
      {"arch",
       [](nlohmann::json& c) {
         c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"architectures", {"SCMP_ARCH_VAX"}}};
       },
       "/linux/seccomp/architectures/0: unknown architecture"},
      {"op",
       [](nlohmann::json& c) {
         c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                  {"syscalls",
                                   {{{"names", {"read"}},
                                     {"action", "SCMP_ACT_ERRNO"},
                                     {"args", {{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_ALMOST"}}}}}}}};
       },
       "/linux/seccomp/syscalls/0/args/0/op: unknown seccomp operator"},
      {"flag",
       [](nlohmann::json& c) {
         c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"flags", {"SECCOMP_FILTER_FLAG_NOPE"}}};
       },
       "/linux/seccomp/flags/0: unknown flag"},
      {"rlneg",
       [](nlohmann::json& c) {
         c["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"hard", -1}, {"soft", 10}}};
       },
       "/process/rlimits/0/hard"},
      {"rltype",
       [](nlohmann::json& c) {
         c["process"]["rlimits"] = {{{"type", "RLIMIT_NOPE"}, {"hard", 1}, {"soft", 1}}};
       },
       "/process/rlimits/0/type: unknown rlimit"},
      {"cgpath", [](nlohmann::json& c) { c["linux"]["cgroupsPath"] = "/husk-test/../../evil"; },
       "/linux/cgroupsPath: must not contain"},
  };
  for (auto& c : cases) {
    Bundle b(std::string("bad-") + c.name);
    c.edit(b.config);
    Out o = b.create();
    INFO(c.name << ": " << o.err);
    CHECK(o.code == 1);
    CHECK(o.err.find(c.want) != std::string::npos);
    CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
    CHECK_FALSE(exists(state_root() + "/" + b.id));
  }
  CHECK(leftover_cgroups() == std::vector<std::string>{});
}

// CVE-2019-5736: the husk binary must never be writable from a container.
TEST_CASE("security: /proc/self/exe as the entrypoint is refused; the binary is unchanged", "[security][escape]") {
  std::string before = sha256_of(HUSK_BIN);
  Bundle b("selfexe");
  b.args({"/proc/self/exe", "--help"});
  Out o = b.run();
  CHECK(o.code == 1);
  CHECK(o.err.find("refusing to execute the runtime binary") != std::string::npos);
  b.busybox();
  // The same through a #! interpreter.
  std::ofstream(b.rootfs + "/bin/evil") << "#!/proc/self/exe\n";
  ::chmod((b.rootfs + "/bin/evil").c_str(), 0755);
  b.args({"/bin/evil"});
  o = b.run();
  CHECK(o.code == 1);
  CHECK(o.err.find("interpreter is the runtime binary") != std::string::npos);
  CHECK(sha256_of(HUSK_BIN) == before);
  CHECK_FALSE(exists(state_root() + "/" + b.id));
}

TEST_CASE("security: processes entering a container run from a read-only view of husk", "[security][escape]") {
  // A private copy of husk: if the defence failed, only the copy would be damaged.
  std::string work = fs::path(state_root()).parent_path().string();
  std::string bin = work + "/husk-copy";
  fs::create_directories(work);
  fs::copy_file(HUSK_BIN, bin, fs::copy_options::overwrite_existing);
  std::string before = sha256_of(bin);
  auto h = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {bin, "--root", state_root()});
    return run_cmd(args);
  };

  // The attacker: root with every capability (CAP_SYS_PTRACE included), no user
  // namespace. It opens every /proc/*/exe it sees, holds it, and keeps trying to write
  // both directly and through the held fd (the CVE's two-step).
  Bundle a("attacker");
  a.busybox();
  a.config["process"]["capabilities"] = all_capabilities();  // CAP_SYS_PTRACE too
  a.config["linux"].erase("maskedPaths");
  a.config["linux"].erase("readonlyPaths");
  a.config["linux"].erase("seccomp");
  a.args({"/bin/sh", "-c",
          "while [ ! -e /stop ]; do for e in /proc/[0-9]*/exe; do [ $e = /proc/1/exe ] && continue; "
          "command exec 7<$e 2>/dev/null || continue; echo seen >> /tmp/seen; "
          "echo -n X >> $e 2>/dev/null && echo \"direct $(busybox readlink $e)\" >> /tmp/wrote; done; "
          "echo -n X >> /proc/self/fd/7 2>/dev/null && echo \"held $(busybox readlink /proc/self/fd/7)\" >> "
          "/tmp/wrote; done"});
  a.save();
  REQUIRE(h({"run", "--detach", "--bundle", a.dir, a.id}).code == 0);
  int apid = a.state()["pid"];

  // Victims join the attacker's pid namespace; a createContainer hook (a copy of
  // busybox, so that a write to it harms nothing) keeps each init there for a while.
  Bundle v("victim");
  v.config["linux"]["namespaces"] = {{{"type", "pid"}, {"path", "/proc/" + std::to_string(apid) + "/ns/pid"}},
                                     {{"type", "mount"}},
                                     {{"type", "uts"}},
                                     {{"type", "ipc"}}};
  std::string hookbin = v.dir + "/hook-busybox";
  fs::copy_file("/bin/busybox", hookbin);
  v.config["hooks"]["createContainer"] = {{{"path", hookbin}, {"args", {"sleep", "0.3"}}}};
  v.save();
  for (int i = 0; i < 4; ++i) {
    Out c = h({"create", "--bundle", v.dir, v.id});
    INFO(c.err);
    CHECK(c.code == 0);
    // While the init is alive, its exe cannot be opened for writing, even by host root;
    // held open, it cannot be written through once husk is gone (EROFS).
    int vpid = v.state()["pid"];
    int held = ::open(("/proc/" + std::to_string(vpid) + "/exe").c_str(), O_RDONLY | O_CLOEXEC);
    CHECK(held >= 0);
    h({"delete", "--force", v.id});
    int w = ::open(("/proc/self/fd/" + std::to_string(held)).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    int e = errno;
    CHECK(w < 0);
    CHECK(e == EROFS);
    if (w >= 0) ::close(w);
    ::close(held);
  }
  // exec into the attacker's own container: it holds CAP_SYS_PTRACE without a user
  // namespace, so create left the marker and every exec runs sealed.
  CHECK(exists(state_root() + "/" + a.id + "/ptrace"));
  for (int i = 0; i < 6; ++i) {
    Out e = h({"exec", a.id, "/bin/busybox", "true"});
    INFO(e.err);
    CHECK(e.code == 0);
  }
  std::ofstream(a.rootfs + "/stop") << "";
  for (int i = 0; i < 100 && a.state()["status"] == "running"; ++i) ::usleep(20000);
  h({"delete", "--force", a.id});
  INFO("attacker wrote: " << slurp(a.rootfs + "/tmp/wrote"));
  CHECK(slurp(a.rootfs + "/tmp/wrote").find("husk-copy") == std::string::npos);
  CHECK(slurp(a.rootfs + "/tmp/seen").size() > 0);  // the attack did reach our processes
  CHECK(sha256_of(bin) == before);
  fs::remove(bin);
}

// CVE-2024-21626: a cwd through a leaked fd would land outside the root.
TEST_CASE("security: cwd /proc/self/fd/N never lands outside the container", "[security][escape]") {
  Bundle b("cwdfd");
  for (int n = 3; n <= 10; ++n) {
    b.config["process"]["cwd"] = "/proc/self/fd/" + std::to_string(n);
    b.args({"/bin/test_init", "cwd"});
    Out o = b.run();
    INFO("fd " << n << ": " << o.out << o.err);
    if (o.code == 0) {
      CHECK(o.out.rfind("/", 0) == 0);
      CHECK(o.out.find("unreachable") == std::string::npos);
    } else {
      CHECK(o.code == 1);
    }
    CHECK_FALSE(exists(state_root() + "/" + b.id));
  }
  // And the process starts with exactly fds 0-2.
  b.config["process"]["cwd"] = "/";
  b.args({"/bin/test_init", "fds"});
  Out f = b.run();
  CHECK(f.out.find("\n3 ") == std::string::npos);
  CHECK(f.out.rfind("0 ", 0) == 0);
}

// CVE-2019-19921 / CVE-2023-27561 / CVE-2025-52881: sysctl writes cannot be redirected by
// a mount over /proc/sys.
TEST_CASE("security: sysctl writes go to the real procfs, not to what is mounted over it", "[security][escape]") {
  Bundle b("procredirect");
  std::string host = b.dir + "/fake-net";
  fs::create_directories(host + "/ipv4");
  std::ofstream(host + "/ipv4/ip_forward") << "host-marker\n";
  b.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
  b.config["linux"]["readonlyPaths"] = nlohmann::json::array();
  b.config["mounts"].push_back(
      {{"destination", "/proc/sys/net"}, {"type", "bind"}, {"source", host}, {"options", {"rbind"}}});
  b.args({"/bin/test_init", "cat", "/proc/self/status"});
  Out o = b.run();
  INFO(o.err);
  CHECK(slurp(host + "/ipv4/ip_forward") == "host-marker\n");
  CHECK(o.code == 0);
}

// CVE-2025-31133: masked paths are masked with a verified /dev/null only.
TEST_CASE("security: a /dev/null that is not the null device is never used to mask", "[security][escape]") {
  // The image's own /dev (bound from the bundle) holds a regular file called "null".
  Bundle b("fakenull");
  std::string dev = b.dir + "/imagedev";
  fs::create_directories(dev);
  std::ofstream(dev + "/null") << "host-marker\n";
  b.config["mounts"] =
      nlohmann::json::array({{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
                             {{"destination", "/dev"}, {"type", "bind"}, {"source", dev}, {"options", {"rbind"}}}});
  b.config["linux"]["maskedPaths"] = {"/proc/keys"};
  b.config["linux"]["readonlyPaths"] = nlohmann::json::array();
  Out o = b.create();
  CHECK(o.code == 1);
  CHECK(o.err.find("/dev/null in the container is not the 1:3 character device") != std::string::npos);
  CHECK(slurp(dev + "/null") == "host-marker\n");
  CHECK_FALSE(exists(state_root() + "/" + b.id));
  CHECK(leftover_cgroups() == std::vector<std::string>{});
}

TEST_CASE("security: personality LINUX32; an unknown domain or any flag is refused", "[security]") {
  Bundle b("personality");
  b.busybox();
  b.config["linux"]["personality"] = {{"domain", "LINUX32"}};
  b.args({"/bin/busybox", "uname", "-m"});
  Out o = b.run();
  INFO(o.err);
  CHECK(o.out == "i686\n");
  b.config["linux"]["personality"] = {{"domain", "LINUX"}};
  CHECK(b.run().out == "x86_64\n");
  b.config["linux"]["personality"] = {{"domain", "LINUX16"}};
  Out bad = b.create();
  CHECK(bad.code == 1);
  CHECK(bad.err.find("/linux/personality/domain") != std::string::npos);
  b.config["linux"]["personality"] = {{"domain", "LINUX"}, {"flags", {"FOO"}}};
  bad = b.create();
  CHECK(bad.code == 1);
  CHECK(bad.err.find("/linux/personality/flags/0") != std::string::npos);
  CHECK_FALSE(exists(state_root() + "/" + b.id));
}
