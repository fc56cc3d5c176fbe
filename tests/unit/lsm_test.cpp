#include <catch2/catch.hpp>

#include "husk/os/lsm.hpp"

using namespace husk;

// linux.mountLabel on an SELinux host, as runc: context="<label>" on filesystem mounts but
// proc, sysfs, cgroup and mqueue; binds keep their own labels.
TEST_CASE("lsm: mountLabel joins the data of the mounts runc labels") {
  auto mount = [](const char* type, const char* data, bool bind = false) {
    spec::MountOp m;
    m.type = type;
    m.opts.data = data;
    m.bind = bind;
    return m;
  };
  std::vector<spec::MountOp> ms = {mount("tmpfs", "mode=755,size=65536k"),
                                   mount("devpts", ""),
                                   mount("proc", ""),
                                   mount("sysfs", ""),
                                   mount("cgroup", ""),
                                   mount("mqueue", ""),
                                   mount("", "", true),
                                   mount("overlay", "lowerdir=/l")};
  os::lsm::label_mounts(ms, "system_u:object_r:container_file_t:s0:c1,c2");
  CHECK(ms[0].opts.data == R"(mode=755,size=65536k,context="system_u:object_r:container_file_t:s0:c1,c2")");
  CHECK(ms[1].opts.data == R"(context="system_u:object_r:container_file_t:s0:c1,c2")");
  for (size_t i = 2; i < 7; ++i) CHECK(ms[i].opts.data.empty());
  CHECK(ms[7].opts.data == R"(lowerdir=/l,context="system_u:object_r:container_file_t:s0:c1,c2")");
}
