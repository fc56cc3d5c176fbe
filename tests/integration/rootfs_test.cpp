#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "harness.hpp"

using namespace it;

TEST_CASE("rootfs: pivot_root hides the host; nothing stays mounted on the host", "[rootfs]") {
  Bundle b("pivot");
  b.args({"/bin/test_init", "cat", "/proc/self/mountinfo"});
  Out o = b.run();
  REQUIRE(o.code == 0);
  // No mount point of the container is a host path (field 5 of mountinfo).
  std::istringstream in(o.out);
  std::string line;
  int roots = 0;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, dev, root, mp;
    f >> id >> parent >> dev >> root >> mp;
    CHECK(mp.find(b.dir) == std::string::npos);
    roots += mp == "/";
  }
  CHECK(roots == 1);
  CHECK(o.out.find(" /proc proc ") == std::string::npos);
  CHECK(o.out.find(" - proc proc ") != std::string::npos);
  CHECK(host_mounts_with(b.dir).empty());
}

TEST_CASE("rootfs: --no-pivot uses MS_MOVE + chroot", "[rootfs]") {
  Bundle b("nopivot");
  b.args({"/bin/test_init", "ls", "/bin"});
  Out o = b.run({"--no-pivot"});
  INFO(o.err);
  CHECK(o.out == "test_init\n");
}

TEST_CASE("rootfs: readonly root, bind mounts, tmpfs with tmpcopyup", "[rootfs]") {
  Bundle b("mounts");
  b.config["root"]["readonly"] = true;
  ::mkdir((b.dir + "/data").c_str(), 0755);
  std::ofstream(b.dir + "/data/hello") << "from host";
  ::mkdir((b.rootfs + "/seed").c_str(), 0755);
  std::ofstream(b.rootfs + "/seed/file") << "seeded";
  b.config["mounts"].push_back(
      {{"destination", "/data"}, {"type", "bind"}, {"source", "data"}, {"options", {"rbind", "ro"}}});
  b.config["mounts"].push_back(
      {{"destination", "/seed"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"tmpcopyup", "mode=755"}}});
  b.config["mounts"].push_back(
      {{"destination", "/rw"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"nosuid", "rnodev"}}});
  b.args({"/bin/test_init", "cat", "/data/hello", "/seed/file"});
  Out o = b.run();
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out == "from hostseeded");
  b.args({"/bin/test_init", "write", "/x", "y"});
  CHECK(b.run().out.find("Read-only file system") != std::string::npos);
  b.args({"/bin/test_init", "write", "/data/x", "y"});
  CHECK(b.run().out.find("Read-only file system") != std::string::npos);
  b.args({"/bin/test_init", "write", "/rw/x", "y"});
  CHECK(b.run().out == "wrote\n");
  b.args({"/bin/test_init", "cat", "/proc/self/mountinfo"});
  Out mi = b.run();
  CHECK(mi.out.find(" /rw rw,nosuid,nodev") != std::string::npos);
  CHECK_FALSE(exists(b.dir + "/data/x"));
}

TEST_CASE("rootfs: overlay and any other filesystem type", "[rootfs]") {
  Bundle b("overlay");
  for (auto d : {"/lower", "/upper", "/work"}) ::mkdir((b.dir + d).c_str(), 0755);
  std::ofstream(b.dir + "/lower/file") << "lower";
  b.config["mounts"].push_back(
      {{"destination", "/ov"},
       {"type", "overlay"},
       {"source", "overlay"},
       {"options", {"lowerdir=" + b.dir + "/lower", "upperdir=" + b.dir + "/upper", "workdir=" + b.dir + "/work"}}});
  b.args({"/bin/test_init", "write", "/ov/new", "x"});
  Out o = b.run();
  INFO(o.err);
  CHECK(o.out == "wrote\n");
  CHECK(slurp(b.dir + "/upper/new") == "x");  // written through to the upper layer
  b.args({"/bin/test_init", "cat", "/ov/file"});
  CHECK(b.run().out == "lower");
  CHECK(host_mounts_with(b.dir).empty());
}

TEST_CASE("rootfs: a symlink in the image cannot redirect a mount onto the host", "[rootfs]") {
  Bundle b("symlink");
  std::string victim = b.dir + "/victim";
  ::mkdir(victim.c_str(), 0755);
  // /evil -> <absolute host path>: must resolve inside the rootfs.
  ::symlink(victim.c_str(), (b.rootfs + "/evil").c_str());
  b.config["mounts"].push_back(
      {{"destination", "/evil"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"mode=755"}}});
  b.args({"/bin/test_init", "write", "/evil/marker", "x"});
  Out o = b.run();
  INFO(o.err);
  CHECK(o.code == 0);
  CHECK(o.out == "wrote\n");
  CHECK_FALSE(exists(victim + "/marker"));
  CHECK(host_mounts_with(victim).empty());
}

TEST_CASE("rootfs: default devices, linux.devices and /dev symlinks", "[rootfs]") {
  Bundle b("devices");
  b.config["linux"]["devices"] = {{{"type", "c"},
                                   {"path", "/dev/fuse"},
                                   {"major", 10},
                                   {"minor", 229},
                                   {"fileMode", 0640},
                                   {"uid", 7},
                                   {"gid", 8}}};
  b.config["linux"]["resources"]["devices"].push_back(
      {{"allow", true}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"access", "rwm"}});
  b.args({"/bin/test_init", "stat", "/dev/null"});
  CHECK(b.run().out == "c 1:3 0666 0:0\n");
  b.args({"/bin/test_init", "stat", "/dev/fuse"});
  CHECK(b.run().out == "c 10:229 0640 7:8\n");
  b.args({"/bin/test_init", "stat", "/dev/ptmx"});
  CHECK(b.run().out.rfind("l ", 0) == 0);
  b.args({"/bin/test_init", "ls", "/dev"});
  Out o = b.run();
  for (auto n : {"fd", "stdin", "stdout", "stderr", "ptmx", "null", "zero", "full", "random", "urandom", "tty", "pts",
                 "shm", "mqueue"})
    CHECK(o.out.find(std::string(n) + "\n") != std::string::npos);
}

TEST_CASE("rootfs: masked and readonly paths", "[rootfs]") {
  Bundle b("masked");
  b.config["linux"]["maskedPaths"] = {"/proc/keys", "/proc/acpi", "/sys/firmware", "/does/not/exist"};
  b.config["linux"]["readonlyPaths"] = {"/proc/sys"};
  b.args({"/bin/test_init", "stat", "/proc/keys"});
  Out k = b.run();
  INFO(k.err);
  CHECK(k.out == "c 1:3 0666 0:0\n");
  b.args({"/bin/test_init", "ls", "/sys/firmware"});
  CHECK(b.run().out == "");
  b.args({"/bin/test_init", "write", "/proc/sys/kernel/hostname", "x"});
  CHECK(b.run().out.find("Read-only file system") != std::string::npos);
}

// runc ignores linux.mountLabel without SELinux; so does husk, saying so in its debug log
// (with SELinux it joins the mounts' data as context="...", tests/unit/lsm_test.cpp).
TEST_CASE("rootfs: linux.mountLabel is ignored when SELinux is off", "[rootfs]") {
  struct stat st;
  if (::stat("/sys/fs/selinux/enforce", &st) == 0) return it::skip("SELinux is enabled on this host");
  Bundle b("mountlabel");
  b.config["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0:c1,c2";
  b.config["mounts"].push_back(
      {{"destination", "/lab"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"size=1m"}}});
  b.args({"/bin/test_init", "cat", "/proc/self/mountinfo"});
  b.save();
  Out o = it::husk({"--debug", "run", "--bundle", b.dir, b.id});
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find(" /lab ") != std::string::npos);
  CHECK(o.err.find("linux.mountLabel") != std::string::npos);
  CHECK(o.err.find("ignored: SELinux is not enabled") != std::string::npos);
}

TEST_CASE("rootfs: sysctl and rootfsPropagation", "[rootfs]") {
  Bundle b("sysctl");
  b.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmni", "1234"}};
  b.args({"/bin/test_init", "cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/shmmni"});
  Out o = b.run();
  INFO(o.err);
  CHECK(o.out == "1\n1234\n");
  CHECK(slurp("/proc/sys/kernel/shmmni") != "1234\n");
  for (auto prop : {"shared", "private", "unbindable"}) {
    b.config["linux"]["rootfsPropagation"] = prop;
    b.args({"/bin/test_init", "cat", "/proc/self/mountinfo"});
    Out m = b.run();
    INFO(prop << m.err);
    REQUIRE(m.code == 0);
    auto line = m.out.substr(0, m.out.find('\n'));
    if (std::string(prop) == "shared") CHECK(line.find("shared:") != std::string::npos);
    if (std::string(prop) == "unbindable") CHECK(line.find("unbindable") != std::string::npos);
    if (std::string(prop) == "private") CHECK(line.find("shared:") == std::string::npos);
  }
}

TEST_CASE("rootfs: cgroup mount shows the container's own cgroups read-only", "[rootfs]") {
  Bundle b("cgmount");
  b.config["linux"]["resources"]["pids"] = {{"limit", 77}};
  std::string f = cgroup_v1_host() ? "/sys/fs/cgroup/pids/pids.max" : "/sys/fs/cgroup/pids.max";
  b.args({"/bin/test_init", "cat", f});
  Out o = b.run();
  INFO(o.err);
  CHECK(o.out == "77\n");
  b.args({"/bin/test_init", "write", f, "5"});
  CHECK(b.run().out.find("Read-only file system") != std::string::npos);
}

TEST_CASE("rootfs: a read-only /dev tmpfs is made read-only after what is nested under it (runc)", "[rootfs]") {
  Bundle b("dev-ro");
  b.busybox();
  for (auto& m : b.config["mounts"])
    if (m["destination"] == "/dev") m["options"].push_back("ro");
  b.args({"/bin/sh", "-c",
          "grep -E ' /dev(/pts)? ' /proc/self/mountinfo | cut -d' ' -f5,6; touch /dev/x 2>/dev/null || echo ro"});
  Out o = b.run();
  INFO(o.err);
  CHECK(o.code == 0);
  CHECK(o.out.find("/dev ro,") != std::string::npos);
  CHECK(o.out.find("/dev/pts rw,") != std::string::npos);
  CHECK(o.out.find("ro\n") != std::string::npos);
}
