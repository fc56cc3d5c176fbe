// os::idmap::write_maps as an unprivileged writer: a process running as nobody forks a
// child that unshares its user namespace and writes that child's maps, as husk's parent
// does for a rootless caller. Root is needed only to become nobody.
#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <string>

#include "husk/core/fd.hpp"
#include "husk/os/idmap_writer.hpp"

namespace {

constexpr uid_t kNobody = 65534;

struct Seen {
  int code = -1;
  std::string writer;  // "ok" or the error of write_maps
  std::string child;   // uid_map|gid_map|setgroups as the child read them
};

std::string read_all(int fd) {
  std::string s;
  char b[1024];
  ssize_t n;
  while ((n = ::read(fd, b, sizeof b)) > 0) s.append(b, n);
  return s;
}

// Everything after fork runs in a child that only makes syscalls and _exits.
Seen write_as_nobody(const std::string& uid_map, const std::string& gid_map) {
  int wr[2], ch[2];
  REQUIRE(::pipe(wr) == 0);
  REQUIRE(::pipe(ch) == 0);
  pid_t w = ::fork();
  REQUIRE(w >= 0);
  if (w == 0) {
    ::close(wr[0]);
    ::close(ch[0]);
    if (::setgroups(0, nullptr) < 0 || ::setresgid(kNobody, kNobody, kNobody) < 0 ||
        ::setresuid(kNobody, kNobody, kNobody) < 0)
      ::_exit(10);
    int go[2], ready[2];
    if (::pipe(go) < 0 || ::pipe(ready) < 0) ::_exit(11);
    pid_t c = ::fork();
    if (c < 0) ::_exit(12);
    if (c == 0) {
      ::close(wr[1]);
      if (::unshare(CLONE_NEWUSER) < 0) ::_exit(20);
      // The uid change made us non-dumpable: /proc/<pid> would be root's.
      ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
      char b = 'u';
      if (::write(ready[1], &b, 1) != 1 || ::read(go[0], &b, 1) != 1) ::_exit(21);
      auto u = husk::read_file("/proc/self/uid_map");
      auto g = husk::read_file("/proc/self/gid_map");
      auto s = husk::read_file("/proc/self/setgroups");
      std::string out = (u ? *u : "?") + "|" + (g ? *g : "?") + "|" + (s ? *s : "?");
      (void)!::write(ch[1], out.data(), out.size());
      ::_exit(0);
    }
    char b;
    if (::read(ready[0], &b, 1) != 1) ::_exit(13);
    auto r = husk::os::idmap::write_maps(c, uid_map, gid_map);
    std::string msg = r ? "ok" : r.error().describe();
    (void)!::write(wr[1], msg.data(), msg.size());
    (void)!::write(go[1], "g", 1);
    int st = 0;
    ::waitpid(c, &st, 0);
    ::_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 99);
  }
  ::close(wr[1]);
  ::close(ch[1]);
  Seen s;
  s.writer = read_all(wr[0]);
  s.child = read_all(ch[0]);
  ::close(wr[0]);
  ::close(ch[0]);
  int st = 0;
  ::waitpid(w, &st, 0);
  s.code = WIFEXITED(st) ? WEXITSTATUS(st) : 100;
  return s;
}

std::string squeeze(std::string s) {
  std::string o;
  for (char c : s) {
    if (c == ' ' && (o.empty() || o.back() == ' ' || o.back() == '\n' || o.back() == '|')) continue;
    if ((c == '\n' || c == '|') && !o.empty() && o.back() == ' ') o.pop_back();
    o += c;
  }
  return o;
}

}  // namespace

TEST_CASE("idmap: an unprivileged caller maps its own uid and gid, setgroups denied first", "[rootless]") {
  Seen s = write_as_nobody("0 65534 1\n", "0 65534 1\n");
  INFO(s.writer << " / " << s.child);
  CHECK(s.code == 0);
  CHECK(s.writer == "ok");
  CHECK(squeeze(s.child) == "0 65534 1\n|0 65534 1\n|deny\n");
}

TEST_CASE("idmap: an unprivileged caller asking for a host id it does not own gets the field named", "[rootless]") {
  Seen s = write_as_nobody("0 0 1\n", "0 65534 1\n");
  CHECK(s.writer.find("/linux/uidMappings/0/hostID") != std::string::npos);
  CHECK(s.writer.find("host id 0 ") != std::string::npos);
  CHECK(s.child == "||allow\n");  // nothing written: an unmapped namespace, setgroups untouched
}
