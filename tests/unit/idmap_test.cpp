#include <catch2/catch.hpp>

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <cerrno>
#include <filesystem>
#include <string>

#include "husk/os/idmap.hpp"

using namespace husk;
using namespace husk::os::idmap;
namespace fs = std::filesystem;

TEST_CASE("idmap: mapping text for /proc/<pid>/{uid,gid}_map") {
  CHECK(map_text({{0, 100000, 65536}, {65536, 1000, 1}}) == "0 100000 65536\n65536 1000 1\n");
  CHECK(map_text({}).empty());
}

TEST_CASE("idmap: a user namespace fd for given mappings, no process left", "[root]") {
  if (geteuid() != 0) {
    WARN("SKIPPED: needs root");
    return;
  }
  auto ns = make_userns({{0, 1000, 10}}, {{0, 2000, 5}});
  INFO((ns ? std::string() : ns.error().describe()));
  REQUIRE(ns);
  CHECK(ns->get() >= 0);
  errno = 0;
  CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);  // the holder child was reaped
  CHECK(errno == ECHILD);
  CHECK_FALSE(make_userns({}, {{0, 0, 1}}));
}

namespace {

// Runs `body` in a child in a private mount namespace (its mounts vanish with it);
// returns the child's exit status (0: every check in it held, else the failed check's number).
template <class F>
int in_private_mntns(F body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(100);
    _exit(body());
  }
  int st = 0;
  if (pid < 0 || ::waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 200;
}

uid_t owner(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? st.st_uid : static_cast<uid_t>(-1);
}
gid_t group(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? st.st_gid : static_cast<gid_t>(-1);
}

}  // namespace

TEST_CASE("idmap: an idmapped bind shows uid 1000 as 0; a file made through it is 1000 on the host", "[root]") {
  if (geteuid() != 0) {
    WARN("SKIPPED: needs root");
    return;
  }
  char d[] = "/tmp/husk-idmap-XXXXXX";
  REQUIRE(mkdtemp(d));
  const std::string base = d, src = base + "/src", t1 = base + "/t1", t2 = base + "/t2";
  struct Cleanup {
    std::string base;
    ~Cleanup() { fs::remove_all(base); }
  } cleanup{base};
  fs::create_directories(src + "/sub");
  fs::create_directories(t1);
  fs::create_directories(t2);
  REQUIRE(::chown(src.c_str(), 1000, 1000) == 0);

  // On-disk 1000 appears as 0 through the mount (containerID 1000 -> hostID 0).
  const std::vector<spec::IdMapping> m{{1000, 0, 1}};
  int rc = in_private_mntns([&]() -> int {
    auto ns = make_userns(m, m);
    if (!ns) return 1;
    auto tree = idmapped_tree({src, false, false}, ns->get(), "mounts[0]");
    if (!tree) return 2;
    if (!attach(tree->get(), t1, "mounts[0]")) return 3;
    if (owner(t1) != 0 || group(t1) != 0) return 4;
    int fd = ::open((t1 + "/made").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) return 5;
    ::close(fd);
    if (owner(t1 + "/made") != 0) return 6;
    if (owner(src + "/made") != 1000 || group(src + "/made") != 1000) return 7;
    return 0;
  });
  CHECK(rc == 0);
  CHECK(owner(src + "/made") == 1000);  // on the host, after the mount namespace is gone
  CHECK(group(src + "/made") == 1000);

  // rbind + idmap: only the top mount is idmapped; rbind + ridmap: the submount too.
  rc = in_private_mntns([&]() -> int {
    if (::mount("tmpfs", (src + "/sub").c_str(), "tmpfs", 0, "mode=0755") != 0) return 10;
    if (::chown((src + "/sub").c_str(), 1000, 1000) != 0) return 11;
    auto ns = make_userns(m, m);
    if (!ns) return 12;
    auto top = idmapped_tree({src, true, false}, ns->get(), "mounts[1]");
    if (!top || !attach(top->get(), t1, "mounts[1]")) return 13;
    if (owner(t1) != 0 || owner(t1 + "/sub") != 1000) return 14;
    auto rec = idmapped_tree({src, true, true}, ns->get(), "mounts[2]");
    if (!rec || !attach(rec->get(), t2, "mounts[2]")) return 15;
    if (owner(t2) != 0 || owner(t2 + "/sub") != 0) return 16;
    return 0;
  });
  CHECK(rc == 0);
}

TEST_CASE("idmap: features probes on this kernel", "[root]") {
  if (geteuid() != 0) {
    WARN("SKIPPED: needs root");
    return;
  }
  // Linux 5.12+ idmaps ext4 binds, 6.3+ tmpfs; /proc never.
  CHECK(probe_bind("/tmp"));
  CHECK(probe_tmpfs());
  CHECK_FALSE(probe_bind("/proc"));
  CHECK_FALSE(probe_bind("/nonexistent-husk"));
}
