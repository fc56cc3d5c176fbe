#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "husk/core/fd.hpp"
#include "husk/os/cgroups/driver.hpp"
#include "husk/os/cgroups/writes.hpp"
#include "husk/spec/validate.hpp"

using namespace husk;
using namespace husk::os::cgroups;

TEST_CASE("cgroups: the hybrid layout is detected from mountinfo") {
  auto l = parse_layout(*read_file(std::string(HUSK_TEST_DATA) + "/mountinfo-hybrid.txt"));
  CHECK(l.mode == Layout::Mode::hybrid);
  REQUIRE(l.hierarchies.size() == 6);
  CHECK(l.find("memory")->mountpoint == "/sys/fs/cgroup/memory");
  CHECK(l.find("name=systemd")->mountpoint == "/sys/fs/cgroup/systemd");
  CHECK(l.find("net_prio")->name == "net_cls,net_prio");
  CHECK(l.unified()->mountpoint == "/sys/fs/cgroup/unified");
}

TEST_CASE("cgroups: pure v2 and pure v1") {
  CHECK(parse_layout("35 30 0:31 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n").mode == Layout::Mode::v2);
  CHECK(parse_layout("31 30 0:27 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n").mode == Layout::Mode::v1);
}

TEST_CASE("cgroups: absolute and relative cgroupsPath") {
  auto l = parse_layout(*read_file(std::string(HUSK_TEST_DATA) + "/mountinfo-hybrid.txt"));
  auto abs = resolve_paths(l, "/husk-test/a", {});
  CHECK(abs.v1.at("memory") == "/sys/fs/cgroup/memory/husk-test/a");
  CHECK(abs.v2 == "/sys/fs/cgroup/unified/husk-test/a");
  auto own = parse_proc_cgroup("4:memory:/process_api/x\n1:cpu:/\n0::/\n");
  auto rel = resolve_paths(l, "c1", own);
  CHECK(rel.v1.at("memory") == "/sys/fs/cgroup/memory/process_api/x/c1");
  CHECK(rel.v1.at("cpu") == "/sys/fs/cgroup/cpu/c1");
}

TEST_CASE("cgroups: v1 resource writes, zero means unchanged") {
  spec::Resources r;
  r.memory = spec::Memory{};
  r.memory->limit = 268435456;
  r.memory->reservation = 0;
  r.pids = spec::Pids{1024};
  r.cpu = spec::Cpu{};
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.devices.push_back({false, std::nullopt, std::nullopt, std::nullopt, std::string("rwm")});
  auto mem = v1_writes("memory", r);
  REQUIRE(mem.size() == 1);
  CHECK(mem[0] == std::pair<std::string, std::string>{"memory.limit_in_bytes", "268435456"});
  CHECK(v1_writes("pids", r).at(0).second == "1024");
  auto cpu = v1_writes("cpu", r);
  CHECK(cpu.size() == 3);
  auto dev = v1_writes("devices", r);
  CHECK(dev.at(0) == std::pair<std::string, std::string>{"devices.deny", "a"});
  CHECK(dev.size() == 1 + default_allowed_devices().size());
}

TEST_CASE("cgroups: v2 conversions") {
  spec::Resources r;
  r.cpu = spec::Cpu{};
  r.cpu->shares = 1024;
  r.cpu->quota = 25000;
  r.cpu->period = 100000;
  auto w = v2_writes(r);
  CHECK(w.at(0) == std::pair<std::string, std::string>{"cpu.weight", "100"});  // default shares -> default weight
  CHECK(w.at(1) == std::pair<std::string, std::string>{"cpu.max", "25000 100000"});
}

TEST_CASE("cgroups: device rule text") {
  CHECK(device_rule({true, std::string("c"), 1, 3, std::string("rwm")}) == "c 1:3 rwm");
  CHECK(device_rule({true, std::string("c"), 136, std::nullopt, std::string("rw")}) == "c 136:* rw");
}

TEST_CASE("cgroups: blockIO, hugetlb, network, rdma and unified writes") {
  spec::Resources r;
  r.block_io = spec::BlockIO{};
  r.block_io->weight = 500;
  r.block_io->throttle_read_bps.push_back({254, 0, 1048576});
  r.block_io->throttle_write_iops.push_back({254, 0, 0});
  r.hugepage_limits.push_back({"2MB", 4194304});
  r.network = spec::Network{};
  r.network->class_id = 0x100001;
  r.network->priorities.push_back({"eth0", 5});
  r.rdma["mlx5_1"] = spec::Rdma{3, std::nullopt};
  r.unified["memory.high"] = "max";
  auto blk = v1_writes("blkio", r);
  CHECK(blk.at(0) == std::pair<std::string, std::string>{"blkio.weight", "500"});
  CHECK(blk.at(1) == std::pair<std::string, std::string>{"blkio.throttle.read_bps_device", "254:0 1048576"});
  CHECK(v1_writes("hugetlb", r).at(0) == std::pair<std::string, std::string>{"hugetlb.2MB.limit_in_bytes", "4194304"});
  CHECK(v1_writes("net_cls,net_prio", r).size() == 2);
  CHECK(v1_writes("rdma", r).at(0).second == "mlx5_1 hca_handle=3");
  auto v2 = v2_writes(r);
  auto has = [&](const std::string& f, const std::string& v) {
    return std::find(v2.begin(), v2.end(), std::pair<std::string, std::string>{f, v}) != v2.end();
  };
  CHECK(has("io.weight", "default 4950"));  // 1 + (500-10)*9999/990
  CHECK(has("io.max", "254:0 rbps=1048576"));
  CHECK(has("io.max", "254:0 wiops=max"));
  CHECK(has("hugetlb.2MB.max", "4194304"));
  CHECK(has("rdma.max", "mlx5_1 hca_handle=3"));
  CHECK(has("memory.high", "max"));
  CHECK(shares_to_weight(2) == 1);
  CHECK(shares_to_weight(262144) == 10000);
  CHECK(blkio_to_io_weight(10) == 1);
  CHECK(blkio_to_io_weight(1000) == 10000);
  // Needed v2 controllers: everything on pure v2, only hugetlb/rdma/unified on hybrid.
  auto need = v2_controllers_needed(r, false);
  CHECK(need == std::vector<std::string>{"hugetlb", "rdma", "memory"});
  CHECK(v2_controllers_needed(spec::Resources{}, true).size() == 8);
}

TEST_CASE("cgroups: resources validation names the field") {
  auto bad = [](spec::Resources r) {
    auto e = spec::check_resources(r, "X");
    return e ? std::string() : e.error().describe();
  };
  spec::Resources r;
  r.cpu = spec::Cpu{};
  for (auto ok : {"0", "0-3", "0,2-3,7", ""}) {
    r.cpu->cpus = ok;
    CHECK(bad(r).empty());
  }
  for (auto no : {"3-1", "a", "0,", "-1", "0--2"}) {
    r.cpu->cpus = no;
    CHECK(bad(r).find("X/cpu/cpus") != std::string::npos);
  }
  spec::Resources u;
  u.unified["io.max"] = "8:0 rbps=1\n8:0 wbps=2";
  CHECK(bad(u).find("single line") != std::string::npos);
  u.unified.clear();
  u.unified["cgroup.subtree_control"] = "+memory";
  CHECK(bad(u).find("managed by the runtime") != std::string::npos);
}

TEST_CASE("cgroups: the subtree's pids and its depth-first removal (runc GetAllPids, RemovePath)") {
  char tmpl[] = "/tmp/husk-unit-subtree-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string top = tmpl;
  // A directory tree stands in for a cgroup: the pids come from each level's cgroup.procs.
  REQUIRE(::mkdir((top + "/a").c_str(), 0755) == 0);
  REQUIRE(::mkdir((top + "/a/b").c_str(), 0755) == 0);
  REQUIRE(::mkdir((top + "/c").c_str(), 0755) == 0);
  std::ofstream(top + "/cgroup.procs") << "10\n11\n";
  std::ofstream(top + "/a/cgroup.procs") << "20\n";
  std::ofstream(top + "/a/b/cgroup.procs") << "30\n";
  auto pids = subtree_pids(top);
  REQUIRE(pids);
  std::sort(pids->begin(), pids->end());
  CHECK(*pids == std::vector<pid_t>{10, 11, 20, 30});
  // c has no cgroup.procs: a sub-cgroup removed meanwhile has no pids.
  // The files are not cgroupfs ones (rmdir of a real cgroup ignores them): remove them here.
  for (auto f : {"/cgroup.procs", "/a/cgroup.procs", "/a/b/cgroup.procs"}) ::unlink((top + f).c_str());
  REQUIRE(remove_subtree(top));
  CHECK(::access(top.c_str(), F_OK) != 0);
  CHECK(remove_subtree(top));  // gone: nothing to do
  CHECK_FALSE(subtree_pids(top));
}
