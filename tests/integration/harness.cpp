#include "harness.hpp"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "husk/spec/defaults.hpp"

namespace it {

std::string state_root() {
  static std::string r = "/tmp/husk-it-" + std::to_string(::getpid()) + "/state";
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

Out run_cmd(const std::vector<std::string>& argv, const std::string& stdin_data) {
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) < 0 || ::pipe2(out, O_CLOEXEC) < 0 || ::pipe2(err, O_CLOEXEC) < 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execv(a[0], a.data());
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (!stdin_data.empty()) (void)!::write(in[1], stdin_data.data(), stdin_data.size());
  ::close(in[1]);
  Out o;
  // `create` passes its stdio to the container, so the pipes stay open after husk exits:
  // read until husk itself has exited, then drain what is there without waiting.
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  char buf[4096];
  int st = 0;
  bool done = false;
  for (int spins = 0; !done && spins < 12000; ++spins) {
    if (::waitpid(pid, &st, WNOHANG) == pid) done = true;
    if (::poll(fds, 2, done ? 0 : 10) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0)
        fds[i].fd = -1;
      else
        (i ? o.err : o.out).append(buf, static_cast<size_t>(n));
    }
  }
  for (int i = 0; i < 2; ++i) {
    int fd = i ? err[0] : out[0];
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) (i ? o.err : o.out).append(buf, static_cast<size_t>(n));
    ::close(fd);
  }
  if (!done) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &st, 0);
  }
  o.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return o;
}

Out husk(const std::vector<std::string>& args, const std::string& stdin_data) {
  std::vector<std::string> a = {HUSK_BIN, "--root", state_root()};
  a.insert(a.end(), args.begin(), args.end());
  return run_cmd(a, stdin_data);
}

std::vector<std::string> host_mounts_with(const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(slurp("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) out.push_back(line);
  return out;
}

std::vector<std::string> leftover_cgroups() {
  // Our bundles use /husk-test/<pid>-<name>: list what is left in every hierarchy, the pure
  // v2 one (mounted at /sys/fs/cgroup itself) included.
  std::vector<std::string> out;
  const std::string prefix = std::to_string(::getpid()) + "-";
  for (const char* c : {"", "/cpu", "/cpuacct", "/cpuset", "/memory", "/devices", "/freezer", "/blkio", "/pids",
                        "/systemd", "/unified"}) {
    std::string top = std::string("/sys/fs/cgroup") + c + "/husk-test";
    if (auto* d = ::opendir(top.c_str())) {
      while (auto* e = ::readdir(d))
        if (std::strncmp(e->d_name, prefix.c_str(), prefix.size()) == 0) out.push_back(top + "/" + e->d_name);
      ::closedir(d);
    }
  }
  return out;
}

Bundle::Bundle(const std::string& name) {
  char t[] = "/tmp/husk-bundle-XXXXXX";
  dir = ::mkdtemp(t);
  ::chmod(dir.c_str(), 0755);
  rootfs = dir + "/rootfs";
  id = "it-" + std::to_string(::getpid()) + "-" + name;
  cgroup = "/husk-test/" + std::to_string(::getpid()) + "-" + name;
  for (auto d : {"", "/bin", "/etc", "/tmp", "/proc", "/dev", "/sys"}) ::mkdir((rootfs + d).c_str(), 0755);
  run_cmd({"/bin/cp", HUSK_TEST_INIT, rootfs + "/bin/test_init"});
  std::ofstream(rootfs + "/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";
  std::ofstream(rootfs + "/etc/group") << "root:x:0:\nwheel:x:10:alice\nalice:x:1000:\n";
  Out s = run_cmd({HUSK_BIN, "spec", "--bundle", dir});
  config = nlohmann::json::parse(slurp(dir + "/config.json"));
  config["process"]["terminal"] = false;
  config["process"]["args"] = {"/bin/test_init", "hostname"};
  config["root"]["path"] = rootfs;
  config["root"]["readonly"] = false;
  config["linux"]["cgroupsPath"] = cgroup;
  save();
}

Bundle::~Bundle() {
  husk({"delete", "--force", id});
  run_cmd({"/bin/rm", "-rf", dir});
  // What a test made itself and husk does not own (a cgroup that existed before create is
  // left by delete): in every hierarchy, the pure-v2 one at /sys/fs/cgroup included.
  for (const char* c : {"", "/cpu", "/cpuacct", "/cpuset", "/memory", "/devices", "/freezer", "/blkio", "/pids",
                        "/systemd", "/unified"})
    ::rmdir((std::string("/sys/fs/cgroup") + c + cgroup).c_str());
}

void Bundle::busybox() {
  run_cmd({"/bin/cp", "/bin/busybox", rootfs + "/bin/busybox"});
  ::symlink("busybox", (rootfs + "/bin/sh").c_str());
}

nlohmann::json all_capabilities() {
  std::istringstream st(slurp("/proc/self/status"));
  std::string line;
  uint64_t bnd = 0;
  while (std::getline(st, line))
    if (line.rfind("CapBnd:", 0) == 0) bnd = std::stoull(line.substr(7), nullptr, 16);
  nlohmann::json names = nlohmann::json::array();
  // husk's own table of names by number (capabilities the runtime does not know are left out).
  for (int i = 0; i < 64; ++i)
    if (auto n = husk::spec::capability_name(i); (bnd >> i & 1) && !n.empty()) names.push_back(std::string(n));
  return {{"bounding", names}, {"effective", names}, {"permitted", names}};
}

bool cgroup_v1_host() { return exists("/sys/fs/cgroup/memory/cgroup.procs"); }

namespace {
int skip_count = 0;
}
void skip(const std::string& why) {
  ++skip_count;
  WARN("SKIP: " << why);
}
int skipped() { return skip_count; }

std::string sha256_of(const std::string& path) {
  Out o = run_cmd({"/usr/bin/sha256sum", path});
  return o.code == 0 ? o.out.substr(0, 64) : "";
}

void Bundle::args(std::vector<std::string> a) {
  config["process"]["args"] = a;
  save();
}

void Bundle::add_namespace(const std::string& type) {
  auto& nss = config["linux"]["namespaces"];
  for (auto& n : nss)
    if (n["type"] == type) return;
  nss.push_back({{"type", type}});
  save();
}

void Bundle::save() const { std::ofstream(dir + "/config.json") << config.dump(1); }

// husk VERB --bundle dir EXTRA... id
static Out with_bundle(const Bundle& b, const char* verb, const std::vector<std::string>& extra) {
  b.save();
  std::vector<std::string> a = {verb, "--bundle", b.dir};
  a.insert(a.end(), extra.begin(), extra.end());
  a.push_back(b.id);
  return husk(a);
}

Out Bundle::run(const std::vector<std::string>& extra) { return with_bundle(*this, "run", extra); }

Out Bundle::create(const std::vector<std::string>& extra) { return with_bundle(*this, "create", extra); }

Out Bundle::start() { return husk({"start", id}); }

nlohmann::json Bundle::state() {
  Out o = husk({"state", id});
  if (o.code != 0) return nlohmann::json::object();
  return nlohmann::json::parse(o.out);
}

}  // namespace it
