#include <catch2/catch.hpp>

#include <unistd.h>

#include "husk/os/cgroups/driver.hpp"
#include "husk/os/systemd/dbus.hpp"
#include "husk/os/systemd/path.hpp"
#include "husk/os/systemd/props.hpp"
#include "husk/os/systemd/unit_plan.hpp"

using namespace husk;
using namespace husk::os::systemd;
namespace cgroups = husk::os::cgroups;

namespace {
template <class T>
T get(const Properties& ps, std::string_view name) {
  auto* p = find(ps, name);
  INFO(name);
  REQUIRE(p != nullptr);
  REQUIRE(std::holds_alternative<T>(p->value));
  return std::get<T>(p->value);
}
}  // namespace

TEST_CASE("systemd: cgroupsPath slice:prefix:name") {
  auto u = *parse_cgroups_path("system.slice:docker:abc", "id", false);
  CHECK(u.slice == "system.slice");
  CHECK(u.unit == "docker-abc.scope");
  CHECK(u.name == "abc");
  CHECK_FALSE(u.is_slice());
  CHECK(*unit_cgroup(u) == "/system.slice/docker-abc.scope");

  auto k = *parse_cgroups_path("kubepods-burstable-pod12.slice:cri-containerd:c1", "id", false);
  CHECK(k.unit == "cri-containerd-c1.scope");
  CHECK(*unit_cgroup(k) ==
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12.slice/cri-containerd-c1.scope");
}

TEST_CASE("systemd: empty cgroupsPath and empty slice take runc's defaults") {
  auto u = *parse_cgroups_path("", "c1", false);
  CHECK(u.slice == "system.slice");
  CHECK(u.unit == "husk-c1.scope");
  CHECK(parse_cgroups_path("", "c1", true)->slice == "user.slice");
  auto e = *parse_cgroups_path(":p:n", "c1", false);
  CHECK(e.slice == "system.slice");
  CHECK(e.unit == "p-n.scope");
  CHECK(parse_cgroups_path(":p:n", "c1", true)->slice == "user.slice");
  // runc joins an empty prefix with '-' too
  CHECK(parse_cgroups_path("a.slice::n", "c1", false)->unit == "-n.scope");
  CHECK(*unit_cgroup(*parse_cgroups_path("", "c1", true), "/user.slice/user-1000.slice/user@1000.service") ==
        "/user.slice/user-1000.slice/user@1000.service/user.slice/husk-c1.scope");
}

TEST_CASE("systemd: a name ending in .slice makes a slice unit") {
  auto u = *parse_cgroups_path("a.slice:x:a-b.slice", "c1", false);
  CHECK(u.is_slice());
  CHECK(u.unit == "a-b.slice");
  CHECK(*unit_cgroup(u) == "/a.slice/a-b.slice");
  auto props = unit_properties(u, 42, true);
  CHECK(get<std::vector<std::string>>(props, "Wants") == std::vector<std::string>{"a.slice"});
  CHECK(find(props, "Slice") == nullptr);
  CHECK(find(props, "Delegate") == nullptr);
}

TEST_CASE("systemd: bad cgroupsPath syntax is one line naming cgroupsPath") {
  for (auto bad : {"onlyone", "a:b", "a:b:c:d", "notaslice:p:n", "a--b.slice:p:n", "-a.slice:p:n",
                   "a.slice:p:", "a.slice:p:x/y", "a.slice:p:bad-.slice"}) {
    auto r = parse_cgroups_path(bad, "c1", false);
    INFO(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("cgroupsPath") != std::string::npos);
    CHECK(r.error().message().find('\n') == std::string::npos);
  }
}

TEST_CASE("systemd: slice expansion with systemd's rules") {
  CHECK(*expand_slice("a-b-c.slice") == "/a.slice/a-b.slice/a-b-c.slice");
  CHECK(*expand_slice("system.slice") == "/system.slice");
  CHECK(*expand_slice("-.slice") == "/");
  for (auto bad : {".slice", "a.scope", "-a.slice", "a-.slice", "a--b.slice", "a/b.slice", "slice"}) {
    INFO(bad);
    CHECK_FALSE(expand_slice(bad));
  }
}

TEST_CASE("systemd: the unit's directories on v2, hybrid and in a container") {
  cgroups::Layout v2 = cgroups::parse_layout("35 30 0:31 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  auto d = unit_dirs(v2, "/system.slice/husk-c1.scope", {});
  REQUIRE(d.size() == 1);
  CHECK(d.at("unified") == "/sys/fs/cgroup/system.slice/husk-c1.scope");
  // systemd in a container: PID 1 is in /docker/x/init.scope
  // (the map as parse_proc_cgroup makes it: the "0::" line is "unified")
  auto pid1 = cgroups::parse_proc_cgroup("0::/docker/x/init.scope\n");
  d = unit_dirs(v2, "/system.slice/husk-c1.scope", pid1);
  CHECK(d.at("unified") == "/sys/fs/cgroup/docker/x/system.slice/husk-c1.scope");
  auto hy = cgroups::parse_layout(
      "33 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
      "34 30 0:30 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
      "35 30 0:31 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
  d = unit_dirs(hy, "/system.slice/husk-c1.scope",
                cgroups::parse_proc_cgroup("10:memory:/init.scope\n1:name=systemd:/init.scope\n0::/init.scope\n"));
  CHECK(d.at("memory") == "/sys/fs/cgroup/memory/system.slice/husk-c1.scope");
  CHECK(d.at("name=systemd") == "/sys/fs/cgroup/systemd/system.slice/husk-c1.scope");
  CHECK(d.at("unified") == "/sys/fs/cgroup/unified/system.slice/husk-c1.scope");
  // a hybrid systemd in a container: every hierarchy below PID 1's own cgroup
  d = unit_dirs(
      hy, "/system.slice/husk-c1.scope",
      cgroups::parse_proc_cgroup("10:memory:/c/init.scope\n1:name=systemd:/c/init.scope\n0::/c/init.scope\n"));
  CHECK(d.at("memory") == "/sys/fs/cgroup/memory/c/system.slice/husk-c1.scope");
  CHECK(d.at("unified") == "/sys/fs/cgroup/unified/c/system.slice/husk-c1.scope");
}

TEST_CASE("systemd: base properties of a scope") {
  auto u = *parse_cgroups_path("system.slice:docker:abc", "id", false);
  auto ps = unit_properties(u, 1234, true);
  CHECK(get<std::string>(ps, "Slice") == "system.slice");
  CHECK(get<std::string>(ps, "Description") == "husk container abc");
  CHECK(get<bool>(ps, "Delegate"));
  CHECK(get<std::vector<uint32_t>>(ps, "PIDs") == std::vector<uint32_t>{1234});
  CHECK(get<bool>(ps, "IOAccounting"));
  CHECK_FALSE(get<bool>(ps, "DefaultDependencies"));
  auto v1 = unit_properties(u, 1234, false);
  CHECK(get<bool>(v1, "BlockIOAccounting"));
  CHECK(find(v1, "IOAccounting") == nullptr);
}

TEST_CASE("systemd: v2 resources as docker -m 64m --cpus 0.5 --pids-limit 50 sends them") {
  spec::Resources r;
  r.memory = spec::Memory{};
  r.memory->limit = 64 << 20;
  r.memory->swap = 128 << 20;
  r.memory->reservation = 32 << 20;
  r.cpu = spec::Cpu{};
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->shares = 1024;
  r.cpu->cpus = "0-1,3";
  r.pids = spec::Pids{50};
  r.block_io = spec::BlockIO{};
  r.block_io->weight = 500;
  Host h;
  auto ps = *resource_properties(r, h);
  CHECK(get<uint64_t>(ps, "MemoryMax") == 64u << 20);
  CHECK(get<uint64_t>(ps, "MemoryLow") == 32u << 20);
  CHECK(get<uint64_t>(ps, "MemorySwapMax") == 64u << 20);  // memory.swap - memory
  CHECK(get<uint64_t>(ps, "CPUWeight") == 100);            // current runc/crun: default shares -> default weight
  CHECK(get<uint64_t>(ps, "CPUQuotaPerSecUSec") == 500000);
  CHECK(get<uint64_t>(ps, "CPUQuotaPeriodUSec") == 100000);
  CHECK(get<uint64_t>(ps, "TasksMax") == 50);
  CHECK(get<uint64_t>(ps, "IOWeight") == 1 + (500 - 10) * 9999 / 990);
  CHECK(get<std::vector<uint8_t>>(ps, "AllowedCPUs") == std::vector<uint8_t>{0x0b});
  CHECK(find(ps, "CPUShares") == nullptr);
  // old systemd: no period, no Allowed*
  h.version = 241;
  auto old = *resource_properties(r, h);
  CHECK(find(old, "CPUQuotaPeriodUSec") == nullptr);
  CHECK(find(old, "AllowedCPUs") == nullptr);
}

TEST_CASE("systemd: v1 resources, unlimited values, zeros unchanged") {
  spec::Resources r;
  r.memory = spec::Memory{};
  r.memory->limit = -1;
  r.cpu = spec::Cpu{};
  r.cpu->shares = 512;
  r.cpu->quota = 0;
  r.pids = spec::Pids{-1};
  r.block_io = spec::BlockIO{};
  r.block_io->weight = 300;
  Host h;
  h.v2 = false;
  auto ps = *resource_properties(r, h);
  CHECK(get<uint64_t>(ps, "MemoryLimit") == kInfinity);
  CHECK(get<uint64_t>(ps, "CPUShares") == 512);
  CHECK(get<uint64_t>(ps, "TasksMax") == kInfinity);
  CHECK(get<uint64_t>(ps, "BlockIOWeight") == 300);
  CHECK(find(ps, "CPUQuotaPerSecUSec") == nullptr);
  CHECK(find(ps, "MemoryMax") == nullptr);
  // zeros: nothing but the device policy
  spec::Resources z;
  z.memory = spec::Memory{};
  z.memory->limit = 0;
  z.pids = spec::Pids{};  // runtime-spec 1.3: no limit given
  auto zp = *resource_properties(z, Host{});
  CHECK(find(zp, "MemoryMax") == nullptr);
  CHECK(find(zp, "TasksMax") == nullptr);
  z.pids = spec::Pids{0};  // ... and 0 is a limit
  CHECK(get<uint64_t>(*resource_properties(z, Host{}), "TasksMax") == 0);
}

TEST_CASE("systemd: CPU quota rounds up to 10 ms per second") {
  Properties ps;
  add_cpu_quota(ps, 12345, 100000, 0);  // 123450 us/s -> 130000
  CHECK(get<uint64_t>(ps, "CPUQuotaPerSecUSec") == 130000);
  ps.clear();
  add_cpu_quota(ps, 20000, 0, 0);  // default period
  CHECK(get<uint64_t>(ps, "CPUQuotaPerSecUSec") == 200000);
  CHECK(find(ps, "CPUQuotaPeriodUSec") == nullptr);
  ps.clear();
  add_cpu_quota(ps, -1, 50000, 0);  // unlimited with a period
  CHECK(get<uint64_t>(ps, "CPUQuotaPerSecUSec") == kInfinity);
  CHECK(get<uint64_t>(ps, "CPUQuotaPeriodUSec") == 50000);
}

TEST_CASE("systemd: swap conversion and cpu masks") {
  CHECK(*v2_swap(0, -1) == -1);
  CHECK(*v2_swap(-1, 100) == -1);
  CHECK(*v2_swap(300, 100) == 200);
  CHECK_FALSE(v2_swap(50, 100));
  CHECK_FALSE(v2_swap(100, 0));
  CHECK(*range_to_bits("0") == std::vector<uint8_t>{0x01});
  CHECK(*range_to_bits("1,3-5") == std::vector<uint8_t>{0x3a});
  CHECK(*range_to_bits("8") == std::vector<uint8_t>{0x00, 0x01});  // byte 0 = CPUs 0-7
  CHECK(*range_to_bits(" 0 , ,2") == std::vector<uint8_t>{0x05});
  CHECK_FALSE(range_to_bits(""));
  CHECK_FALSE(range_to_bits("3-1"));
  CHECK_FALSE(range_to_bits("x"));
}

TEST_CASE("systemd: unified keys systemd knows") {
  spec::Resources r;
  r.unified = {{"memory.high", "1000"},  {"memory.max", "max"}, {"pids.max", "7"},
               {"cpu.max", "max 20000"}, {"cpu.weight", "50"},  {"io.max", "8:0 rbps=1"}};
  auto ps = *resource_properties(r, Host{});
  CHECK(get<uint64_t>(ps, "MemoryHigh") == 1000);
  CHECK(get<uint64_t>(ps, "MemoryMax") == kInfinity);
  CHECK(get<uint64_t>(ps, "TasksMax") == 7);
  CHECK(get<uint64_t>(ps, "CPUQuotaPerSecUSec") == kInfinity);
  CHECK(get<uint64_t>(ps, "CPUQuotaPeriodUSec") == 20000);
  CHECK(get<uint64_t>(ps, "CPUWeight") == 50);
  r.unified = {{"memory.max", "lots"}};
  auto bad = resource_properties(r, Host{});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("memory.max") != std::string::npos);
}

TEST_CASE("systemd: device rules become DevicePolicy/DeviceAllow") {
  auto rule = [](bool allow, std::optional<std::string> t, std::optional<int64_t> ma, std::optional<int64_t> mi,
                 std::string acc) {
    spec::DeviceRule d;
    d.allow = allow;
    d.type = t;
    d.major = ma;
    d.minor = mi;
    d.access = acc;
    return d;
  };
  Host h;
  h.proc_devices = "Character devices:\n  1 mem\n136 pts\n\nBlock devices:\n  8 sd\n";
  h.device_exists = [](const std::string& p) { return p != "/dev/char/99:99"; };
  std::vector<spec::DeviceRule> rules = {rule(false, "a", {}, {}, "rwm"), rule(true, "c", 1, 3, "rw"),
                                         rule(true, "c", 1, 3, "m"),      rule(true, "c", 136, {}, "rwm"),
                                         rule(true, "b", {}, {}, "m"),    rule(true, "c", {}, 5, "r"),
                                         rule(true, "c", 99, 99, "r"),    rule(true, "b", 8, {}, "r"),
                                         rule(true, "c", 1, 5, "rwm"),    rule(false, "c", 1, 5, "w")};
  auto ps = *device_properties(rules, h);
  CHECK(get<std::string>(ps, "DevicePolicy") == "strict");
  CHECK(ps[1].name == "DeviceAllow");  // emptied first, as runc does
  CHECK(std::get<DeviceAllowList>(ps[1].value).empty());
  DeviceAllowList want = {
      {"/dev/char/1:3", "rwm"}, {"char-pts", "rwm"}, {"block-*", "m"}, {"block-sd", "r"}, {"/dev/char/1:5", "rm"}};
  CHECK(get<DeviceAllowList>(ps, "DeviceAllow") == want);
  // allow-all
  auto all = *device_properties({rule(true, "a", {}, {}, "rwm")}, h);
  CHECK(get<std::string>(all, "DevicePolicy") == "auto");
  CHECK(get<DeviceAllowList>(all, "DeviceAllow").empty());
  // a deny list: systemd cannot say it, strict and nothing allowed
  auto deny = *device_properties({rule(true, "a", {}, {}, "rwm"), rule(false, "c", 1, 3, "rwm")}, h);
  CHECK(get<std::string>(deny, "DevicePolicy") == "strict");
  CHECK(get<DeviceAllowList>(deny, "DeviceAllow").empty());
}

// runc sends its rules followed by its default allow list; an update without rules leaves
// the unit's policy alone (systemd would otherwise deny every device: strict, nothing allowed).
TEST_CASE("systemd: the device properties of create and update") {
  Host h;
  h.v2 = false;
  h.proc_devices = "Character devices:\n  1 mem\n  5 /dev/tty\n136 pts\n";
  h.device_exists = [](const std::string& p) { return p != "/dev/char/10:200"; };
  spec::DeviceRule deny_all;
  deny_all.allow = false;
  deny_all.access = "rwm";
  spec::Resources r;
  r.devices = {deny_all};
  r.memory = spec::Memory{};
  r.memory->limit = 1 << 20;
  auto ps = *resource_properties(r, h);
  CHECK(get<std::string>(ps, "DevicePolicy") == "strict");
  auto allow = get<DeviceAllowList>(ps, "DeviceAllow");
  auto has = [&](const DeviceAllowList& l, const char* p, const char* m) {
    return std::find(l.begin(), l.end(), std::pair<std::string, std::string>{p, m}) != l.end();
  };
  CHECK(has(allow, "/dev/char/1:3", "rwm"));
  CHECK(has(allow, "char-pts", "rwm"));
  CHECK(has(allow, "char-*", "m"));
  CHECK(has(allow, "block-*", "m"));
  CHECK_FALSE(has(allow, "/dev/char/10:200", "rwm"));  // no such device here: skipped, as runc
  // update: no rules, no device property
  r.devices.clear();
  auto up = *resource_properties(r, h);
  CHECK(find(up, "DevicePolicy") == nullptr);
  CHECK(find(up, "DeviceAllow") == nullptr);
  CHECK(get<uint64_t>(up, "MemoryLimit") == 1u << 20);
  // create without rules (or without resources): the default allow list alone
  auto layout = cgroups::parse_layout("33 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
  UnitInputs in{"", "c1", false, "", &r, nullptr};
  for (auto* res : {&r, static_cast<spec::Resources*>(nullptr)}) {
    in.resources = res;
    auto p = *plan_unit(in, layout, {}, h);
    CHECK(get<std::string>(p.props, "DevicePolicy") == "strict");
    CHECK(has(get<DeviceAllowList>(p.props, "DeviceAllow"), "/dev/char/1:3", "rwm"));
  }
}

TEST_CASE("systemd: GVariant text values") {
  CHECK(std::get<std::string>(*parse_gvariant("'hello world'")) == "hello world");
  CHECK(std::get<std::string>(*parse_gvariant("\"it's\"")) == "it's");
  CHECK(std::get<bool>(*parse_gvariant("true")));
  CHECK_FALSE(std::get<bool>(*parse_gvariant(" false ")));
  CHECK(std::get<int32_t>(*parse_gvariant("123")) == 123);  // untyped integer: int32, as GVariant
  CHECK(std::get<double>(*parse_gvariant("1.5")) == 1.5);
  CHECK(std::get<uint64_t>(*parse_gvariant("uint64 123")) == 123);
  CHECK(std::get<uint64_t>(*parse_gvariant("@t 18446744073709551615")) == UINT64_MAX);
  CHECK(std::get<int64_t>(*parse_gvariant("int64 -5")) == -5);
  CHECK(std::get<uint32_t>(*parse_gvariant("uint32 7")) == 7);
  CHECK(std::get<std::string>(*parse_gvariant("@s 'x'")) == "x");
  CHECK(std::get<std::vector<std::string>>(*parse_gvariant("['a', 'b']")) == std::vector<std::string>{"a", "b"});
  CHECK(std::get<std::vector<std::string>>(*parse_gvariant("@as []")).empty());
  CHECK(std::get<std::vector<uint64_t>>(*parse_gvariant("[uint64 1, 2]")) == std::vector<uint64_t>{1, 2});
  CHECK(std::get<std::vector<uint32_t>>(*parse_gvariant("@au [1, 2]")) == std::vector<uint32_t>{1, 2});
  for (auto bad : {"", "'open", "[]", "uint64 -1", "uint64 'x'", "true false", "{'a': 1}", "<1>", "['a', 1]",
                   "int32 99999999999", "@a{sv} []", "yes"}) {
    INFO(bad);
    CHECK_FALSE(parse_gvariant(bad));
  }
}

TEST_CASE("systemd: org.systemd.property annotations") {
  std::map<std::string, std::string> a = {{"org.systemd.property.CollectMode", "'inactive-or-failed'"},
                                          {"org.systemd.property.TimeoutStopSec", "uint64 5"},
                                          {"org.systemd.property.RuntimeMaxUSec", "@t 100"},
                                          {"org.systemd.property.TasksMax", "uint64 10"},
                                          {"other", "x"}};
  auto ps = *annotation_properties(a);
  REQUIRE(ps.size() == 4);
  CHECK(get<std::string>(ps, "CollectMode") == "inactive-or-failed");
  CHECK(get<uint64_t>(ps, "TimeoutStopUSec") == 5000000);
  CHECK(get<uint64_t>(ps, "RuntimeMaxUSec") == 100);
  CHECK(get<uint64_t>(ps, "TasksMax") == 10);
  CHECK(get<uint64_t>(*annotation_properties({{"org.systemd.property.TimeoutStopSec", "1.5"}}), "TimeoutStopUSec") ==
        1500000);
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{{"org.systemd.property.Ab", "1"},
                                                                      {"org.systemd.property.Foo1", "1"},
                                                                      {"org.systemd.property.Foo", "{1}"},
                                                                      {"org.systemd.property.TimeoutSec", "'x'"}}) {
    auto r = annotation_properties({{k, v}});
    INFO(k << "=" << v);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find(k) != std::string::npos);
    CHECK(r.error().message().find('\n') == std::string::npos);
  }
}

TEST_CASE("systemd: D-Bus signatures") {
  CHECK(signature(Value{uint64_t{1}}) == "t");
  CHECK(signature(Value{std::vector<uint32_t>{}}) == "au");
  CHECK(signature(Value{DeviceAllowList{}}) == "a(ss)");
  CHECK(signature(Value{std::vector<uint8_t>{}}) == "ay");
  CHECK(to_text(Value{uint64_t{5}}) == "uint64 5");
}

TEST_CASE("systemd: unit object paths and versions") {
  CHECK(unit_object_path("husk-probe-d.scope") == "/org/freedesktop/systemd1/unit/husk_2dprobe_2dd_2escope");
  CHECK(unit_object_path("1a.slice") == "/org/freedesktop/systemd1/unit/_31a_2eslice");
  CHECK(unit_object_path("a_b@c.scope") == "/org/freedesktop/systemd1/unit/a_5fb_40c_2escope");
  CHECK(parse_version("252.39-1~deb12u2") == 252);
  CHECK(parse_version("v245.4-1.fc32") == 245);
  CHECK(parse_version("unknown") == 0);
}

TEST_CASE("systemd: this host's device facts") {
  auto h = read_host(true);
  CHECK(h.proc_devices.find("Character devices:") != std::string::npos);
  CHECK(h.device_exists("/dev/char/1:3"));  // /dev/null, through /sys/dev when udev made no link
  CHECK_FALSE(h.device_exists("/dev/char/4095:4095"));
}

TEST_CASE("systemd: the unit plan of a docker container on pure v2") {
  auto layout = cgroups::parse_layout("35 30 0:31 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  spec::Resources r;
  r.memory = spec::Memory{};
  r.memory->limit = 64 << 20;
  r.pids = spec::Pids{50};
  std::map<std::string, std::string> ann = {{"org.systemd.property.TasksMax", "uint64 7"}};
  UnitInputs in;
  in.cgroups_path = "system.slice:docker:abc";
  in.id = "abc";
  in.resources = &r;
  in.annotations = &ann;
  auto p = *plan_unit(in, layout, {{"", "/init.scope"}}, Host{});
  CHECK(p.unit.unit == "docker-abc.scope");
  CHECK(p.cgroup == "/system.slice/docker-abc.scope");
  CHECK(p.dirs.at("unified") == "/sys/fs/cgroup/system.slice/docker-abc.scope");
  CHECK(get<uint64_t>(p.props, "MemoryMax") == 64u << 20);
  CHECK(get<uint64_t>(p.props, "TasksMax") == 7);  // the annotation comes last and wins
  CHECK(find(p.props, "PIDs") == nullptr);
  auto sp = start_properties(p, 4321);
  CHECK(get<std::vector<uint32_t>>(sp, "PIDs") == std::vector<uint32_t>{4321});
  CHECK(sp.size() == p.props.size() + 1);

  in.rootless = true;
  in.manager_cgroup = "/user.slice/user-1000.slice/user@1000.service";
  in.cgroups_path = "";
  auto rl = *plan_unit(in, layout, {}, Host{});
  CHECK(rl.unit.unit == "husk-abc.scope");
  CHECK(rl.dirs.at("unified") ==
        "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/user.slice/husk-abc.scope");
  auto hybrid = cgroups::parse_layout(
      "33 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
      "35 30 0:31 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
  CHECK_FALSE(plan_unit(in, hybrid, {}, Host{}));
  in.rootless = false;
  auto v1 = *plan_unit(in, hybrid, {}, Host{});
  CHECK(get<uint64_t>(v1.props, "MemoryLimit") == 64u << 20);
  CHECK(v1.dirs.at("memory") == "/sys/fs/cgroup/memory/system.slice/husk-abc.scope");
  in.cgroups_path = "bad";
  auto bad = plan_unit(in, layout, {}, Host{});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("cgroupsPath") != std::string::npos);
}

// The driver selection (os/cgroups/select.cpp) and the systemd driver reopened from a state
// file's paths: no D-Bus call is made for either.
TEST_CASE("systemd driver: reopened from the state's paths, the unit is the cgroup's name") {
  cgroups::Paths p;
  p.v2 = "/sys/fs/cgroup/system.slice/docker-abc.scope";
  auto d = cgroups::open_driver("systemd", p);
  REQUIRE(d);
  CHECK((*d)->name() == "systemd");
  CHECK((*d)->paths().v2 == p.v2);
  CHECK((*d)->created_any());  // delete stops the unit
  cgroups::Paths v1;
  v1.v1["name=systemd"] = "/sys/fs/cgroup/systemd/machine.slice/x-y.scope";
  v1.v1["memory"] = "/sys/fs/cgroup/memory/machine.slice/x-y.scope";
  REQUIRE(cgroups::open_driver("systemd", v1));
  cgroups::Paths odd;
  odd.v2 = "/sys/fs/cgroup/not/a-unit";
  auto e = cgroups::open_driver("systemd", odd);
  REQUIRE(!e);
  CHECK(e.error().message().find("does not name a unit") != std::string::npos);
  auto other = cgroups::open_driver("nosuch", p);
  REQUIRE(!other);
  CHECK(other.error().message().find("\"nosuch\"") != std::string::npos);
}

TEST_CASE("driver selection: slice:prefix:name needs --systemd-cgroup; no systemd is runc's one line") {
  auto layout = cgroups::parse_layout("35 30 0:31 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  cgroups::DriverRequest rq;
  rq.id = "c1";
  rq.cgroups_path = "system.slice:docker:c1";
  auto d = cgroups::make_driver(rq, layout);
  REQUIRE(!d);
  CHECK(d.error().message() == "config.json: /linux/cgroupsPath: \"slice:prefix:name\" paths need --systemd-cgroup");
  rq.cgroups_path = "/husk-test/c1";
  auto fs = cgroups::make_driver(rq, layout);
  REQUIRE(fs);
  CHECK((*fs)->name() == "cgroupfs");
  CHECK((*fs)->paths().v2 == "/sys/fs/cgroup/husk-test/c1");
  if (::access("/run/systemd/system", F_OK) != 0) {
    rq.systemd = true;
    auto sd = cgroups::make_driver(rq, layout);
    REQUIRE(!sd);
    CHECK(sd.error().message().find("--systemd-cgroup: systemd not running on this host") == 0);
    CHECK(sd.error().message().find('\n') == std::string::npos);
  }
}
