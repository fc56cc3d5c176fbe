#include <catch2/catch.hpp>

#include "husk/core/fd.hpp"
#include "husk/os/cgroups/manager.hpp"

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
  CHECK(abs.at("memory") == "/sys/fs/cgroup/memory/husk-test/a");
  CHECK(abs.at("unified") == "/sys/fs/cgroup/unified/husk-test/a");
  auto own = parse_proc_cgroup("4:memory:/process_api/x\n1:cpu:/\n0::/\n");
  auto rel = resolve_paths(l, "c1", own);
  CHECK(rel.at("memory") == "/sys/fs/cgroup/memory/process_api/x/c1");
  CHECK(rel.at("cpu") == "/sys/fs/cgroup/cpu/c1");
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
  CHECK(w.at(0) == std::pair<std::string, std::string>{"cpu.weight", "39"});
  CHECK(w.at(1) == std::pair<std::string, std::string>{"cpu.max", "25000 100000"});
}

TEST_CASE("cgroups: device rule text") {
  CHECK(device_rule({true, std::string("c"), 1, 3, std::string("rwm")}) == "c 1:3 rwm");
  CHECK(device_rule({true, std::string("c"), 136, std::nullopt, std::string("rw")}) == "c 136:* rw");
}
