#include <catch2/catch.hpp>

#include "husk/os/rootfs.hpp"

using husk::os::rootfs::revealing_mounts;

TEST_CASE("--no-pivot: the full procfs and sysfs mounts outside the rootfs are hidden (runc's msMoveRoot)") {
  const char* mi =
      "22 1 0:5 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
      "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
      "24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"
      "25 24 0:26 / /sys/fs/cgroup/memory rw shared:9 - cgroup cgroup rw,memory\n"
      "26 23 0:40 / /proc/sys/fs/binfmt_misc rw shared:30 - binfmt_misc binfmt_misc rw\n"
      "27 22 0:21 /sys /mnt/procsys rw shared:12 - proc proc rw\n"
      "28 22 0:50 / /srv/my\\040dir/proc rw - proc proc rw\n"
      "29 22 0:5 /b/rootfs /b/rootfs rw - ext4 /dev/vda1 rw\n"
      "30 29 0:60 / /b/rootfs/proc rw - proc proc rw\n"
      "31 29 0:61 / /b/rootfs/sys rw - sysfs sysfs rw\n"
      "32 22 0:62 / /b/rootfs2/proc rw master:3 - proc proc rw\n"
      "garbage\n";
  auto got = revealing_mounts(mi, "/b/rootfs");
  // a proc mount of a subtree (root /sys) is not a full one; cgroup and binfmt_misc are other types;
  // the container's own /proc and /sys stay; a sibling directory with the same prefix does not.
  CHECK(got == std::vector<std::string>{"/proc", "/sys", "/srv/my dir/proc", "/b/rootfs2/proc"});
  CHECK(revealing_mounts("", "/b/rootfs").empty());
}
