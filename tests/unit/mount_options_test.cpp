#include <sys/mount.h>
#include <catch2/catch.hpp>

#include "husk/spec/mount_options.hpp"

using husk::spec::parse_mount_options;

TEST_CASE("mount options: flags set and cleared") {
  auto m = parse_mount_options({"ro", "nosuid", "nodev", "noexec", "relatime"});
  CHECK(m.flags == (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME));
  m = parse_mount_options({"ro", "rw"});
  CHECK((m.flags & MS_RDONLY) == 0);
  CHECK((m.clear & MS_RDONLY) != 0);
  m = parse_mount_options({"rbind"});
  CHECK(m.flags == (MS_BIND | MS_REC));
}

TEST_CASE("mount options: propagation, in order") {
  auto m = parse_mount_options({"rshared", "private", "runbindable"});
  CHECK(m.propagation == std::vector<unsigned long>{MS_SHARED | MS_REC, MS_PRIVATE, MS_UNBINDABLE | MS_REC});
}

TEST_CASE("mount options: recursive attributes for mount_setattr") {
  auto m = parse_mount_options({"rro", "rnosuid", "rnoatime"});
  CHECK(m.recursive_attrs);
  CHECK(m.attr_set == (0x1 | 0x2 | 0x10));
  CHECK((m.attr_clr & 0x70) == 0x70);
  m = parse_mount_options({"rro", "rrw"});
  CHECK((m.attr_set & 0x1) == 0);
  CHECK((m.attr_clr & 0x1) == 0x1);
}

TEST_CASE("mount options: data, tmpcopyup, idmap") {
  auto m = parse_mount_options({"mode=755", "size=65536k", "nosuid", "tmpcopyup"});
  CHECK(m.data == "mode=755,size=65536k");
  CHECK(m.tmpcopyup);
  CHECK(parse_mount_options({"idmap"}).idmap);
}
