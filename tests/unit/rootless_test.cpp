#include <catch2/catch.hpp>

#include "husk/os/cgroups/driver.hpp"
#include "husk/os/cgroups/rootless.hpp"
#include "husk/os/idmap_writer.hpp"
#include "husk/os/rootless.hpp"

using namespace husk::os;

TEST_CASE("rootless: --rootless values as runc parses them") {
  CHECK(*rootless::parse_mode("auto") == rootless::Mode::automatic);
  CHECK(*rootless::parse_mode("") == rootless::Mode::automatic);
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) CHECK(*rootless::parse_mode(t) == rootless::Mode::on);
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"})
    CHECK(*rootless::parse_mode(f) == rootless::Mode::off);
  auto bad = rootless::parse_mode("yes");
  REQUIRE(!bad);
  CHECK(bad.error().describe().find("--rootless") != std::string::npos);
}

TEST_CASE("rootless: the initial user namespace's uid_map") {
  CHECK(rootless::is_initial_uid_map("         0          0 4294967295\n"));
  CHECK(rootless::is_initial_uid_map("0 0 4294967295"));
  CHECK_FALSE(rootless::is_initial_uid_map("         0       1000          1\n"));
  CHECK_FALSE(rootless::is_initial_uid_map("0 0 4294967294\n"));
  CHECK_FALSE(rootless::is_initial_uid_map("0 0 1\n1 100000 65536\n"));
  CHECK_FALSE(rootless::is_initial_uid_map("0 0 4294967295\n1 1 1\n"));
  CHECK_FALSE(rootless::is_initial_uid_map(""));
}

TEST_CASE("rootless: auto is rootless for a non-root euid or inside a user namespace") {
  using rootless::Mode;
  CHECK_FALSE(rootless::decide(Mode::automatic, 0, false));
  CHECK(rootless::decide(Mode::automatic, 1000, false));
  CHECK(rootless::decide(Mode::automatic, 0, true));
  CHECK(rootless::decide(Mode::on, 0, false));
  CHECK_FALSE(rootless::decide(Mode::off, 1000, true));
}

TEST_CASE("rootless: state root follows runc's XDG_RUNTIME_DIR rule") {
  using S = std::optional<std::string>;
  CHECK(rootless::default_state_root(S("/run/user/1000"), 1000, false, S("alice")) == "/run/user/1000/husk");
  CHECK(rootless::default_state_root(std::nullopt, 1000, false, S("alice")) == "/run/husk");
  CHECK(rootless::default_state_root(S(""), 1000, false, S("alice")) == "/run/husk");
  // The real root ignores /run/user/0.
  CHECK(rootless::default_state_root(S("/run/user/0"), 0, false, S("root")) == "/run/husk");
  // Root inside a user namespace (podman unshare): XDG unless USER is root.
  CHECK(rootless::default_state_root(S("/run/user/1000"), 0, true, S("alice")) == "/run/user/1000/husk");
  CHECK(rootless::default_state_root(S("/run/user/1000"), 0, true, std::nullopt) == "/run/user/1000/husk");
  CHECK(rootless::default_state_root(S("/run/user/1000"), 0, true, S("root")) == "/run/husk");
}

TEST_CASE("idmap: parse /proc map text") {
  auto m = idmap::parse_map("0 1000 1\n1 100000 65536\n");
  REQUIRE(m);
  REQUIRE(m->size() == 2);
  CHECK((*m)[1].inside == 1);
  CHECK((*m)[1].outside == 100000);
  CHECK((*m)[1].count == 65536);
  CHECK(idmap::parse_map("")->empty());
  CHECK_FALSE(idmap::parse_map("0 1000\n"));
  CHECK_FALSE(idmap::parse_map("0 x 1\n"));
}

TEST_CASE("idmap: subordinate ranges by name or uid") {
  const char* f = "alice:100000:65536\n# c\n1001:200000:10\nbob:300000:65536\nalice:500000:5\nbroken\n";
  auto a = idmap::subids_for(f, "alice", 1000);
  REQUIRE(a.size() == 2);
  CHECK(a[0].start == 100000);
  CHECK(a[1].start == 500000);
  auto u = idmap::subids_for(f, "carol", 1001);
  REQUIRE(u.size() == 1);
  CHECK(u[0].count == 10);
  CHECK(idmap::subids_for(f, "", 4242).empty());
}

TEST_CASE("idmap: which maps the caller may ask for") {
  std::vector<idmap::SubRange> sub{{100000, 65536}};
  auto ok = [&](std::vector<idmap::Range> m) {
    return bool(idmap::check_allowed(m, 1000, sub, "uidMappings", "/etc/subuid"));
  };
  CHECK(ok({{0, 1000, 1}}));
  CHECK(ok({{0, 1000, 1}, {1, 100000, 65536}}));
  CHECK(ok({{0, 100000, 65536}}));
  CHECK_FALSE(ok({{0, 0, 1}}));
  CHECK_FALSE(ok({{0, 1000, 2}}));        // 1001 is not ours
  CHECK_FALSE(ok({{0, 100000, 65537}}));  // one past the range
  auto e = idmap::check_allowed({{0, 1000, 1}, {1, 0, 1}}, 1000, sub, "uidMappings", "/etc/subuid");
  REQUIRE(!e);
  std::string d = e.error().describe();
  CHECK(d.find("/linux/uidMappings/1/hostID") != std::string::npos);
  CHECK(d.find("host id 0 ") != std::string::npos);
  CHECK(d.find("100000-165535") != std::string::npos);
}

TEST_CASE("idmap: newuidmap argv and the write plan") {
  auto a = idmap::helper_argv("/usr/bin/newuidmap", 42, {{0, 1000, 1}, {1, 100000, 65536}});
  CHECK(a == std::vector<std::string>{"/usr/bin/newuidmap", "42", "0", "1000", "1", "1", "100000", "65536"});

  std::vector<idmap::Range> self{{0, 1000, 1}}, multi{{0, 1000, 1}, {1, 100000, 65536}};
  auto p = idmap::plan_write(self, self, 1000, 1000);
  CHECK_FALSE(p.uid_helper);
  CHECK_FALSE(p.gid_helper);
  CHECK(p.deny_setgroups);
  p = idmap::plan_write(multi, multi, 1000, 1000);
  CHECK(p.uid_helper);
  CHECK(p.gid_helper);
  CHECK_FALSE(p.deny_setgroups);  // newgidmap allows setgroups: the container may setgroups
  p = idmap::plan_write(self, std::vector<idmap::Range>{{0, 1000, 1}}, 1000, 1001);
  CHECK(p.gid_helper);  // gid 1000 is not the caller's egid
  p = idmap::plan_write(multi, multi, 0, 0);
  CHECK_FALSE(p.uid_helper);
  CHECK_FALSE(p.gid_helper);
  CHECK_FALSE(p.deny_setgroups);
}

TEST_CASE("idmap: find a binary on PATH") {
  CHECK(idmap::find_on_path("sh", "/nonexistent:/bin:/usr/bin") == "/bin/sh");
  CHECK(idmap::find_on_path("husk-no-such-binary", "/bin:/usr/bin").empty());
  CHECK(idmap::find_on_path("passwd", "/etc").empty());  // not executable
}

namespace {

husk::os::cgroups::Layout hybrid_layout() {
  using husk::os::cgroups::Hierarchy;
  husk::os::cgroups::Layout l;
  l.mode = husk::os::cgroups::Layout::Mode::hybrid;
  l.hierarchies.push_back(Hierarchy{"memory", "/sys/fs/cgroup/memory", "/", {"memory"}, false});
  l.hierarchies.push_back(Hierarchy{"devices", "/sys/fs/cgroup/devices", "/", {"devices"}, false});
  l.hierarchies.push_back(Hierarchy{"pids", "/sys/fs/cgroup/pids", "/", {"pids"}, false});
  l.hierarchies.push_back(Hierarchy{"unified", "/sys/fs/cgroup/unified", "/", {}, true});
  return l;
}

husk::state::CgroupPaths dirs_of(const husk::os::cgroups::Layout& l, const std::string& p) {
  return husk::os::cgroups::resolve_paths(l, p, {});
}

std::vector<std::string> names(const husk::os::cgroups::Layout& l) {
  std::vector<std::string> out;
  for (auto& h : l.hierarchies) out.push_back(h.name);
  return out;
}

}  // namespace

TEST_CASE("rootless cgroups: hierarchies not delegated to the caller are dropped") {
  auto l = hybrid_layout();
  auto none = [](const std::string&) { return false; };
  auto r = cgroups::rootless_layout(l, dirs_of(l, "/c1"), nullptr, false, none);
  REQUIRE(r);
  CHECK(r->hierarchies.empty());
  CHECK(r->mode == cgroups::Layout::Mode::none);

  // Only the cgroup2 directory delegated (a user's systemd slice): kept, v1 dropped.
  auto v2_only = [](const std::string& d) { return d.rfind("/sys/fs/cgroup/unified/", 0) == 0; };
  r = cgroups::rootless_layout(l, dirs_of(l, "/c1"), nullptr, false, v2_only);
  REQUIRE(r);
  CHECK(names(*r) == std::vector<std::string>{"unified"});
  CHECK(r->mode == cgroups::Layout::Mode::hybrid);
}

TEST_CASE("rootless cgroups: a limit on a dropped hierarchy is an error naming it") {
  auto l = hybrid_layout();
  auto none = [](const std::string&) { return false; };
  husk::spec::Resources res;
  res.memory = husk::spec::Memory{};
  res.memory->limit = 1 << 20;
  auto r = cgroups::rootless_layout(l, dirs_of(l, "/c1"), &res, false, none);
  REQUIRE(!r);
  CHECK(r.error().describe().find("linux.resources: cannot set memory limit (memory.limit_in_bytes)") !=
        std::string::npos);

  // Device rules alone are not limits (runc ignores the devices controller rootless).
  husk::spec::Resources devs;
  devs.devices.push_back(husk::spec::DeviceRule{});
  CHECK(cgroups::rootless_layout(l, dirs_of(l, "/c1"), &devs, false, none));
  // A pids object without a limit asks for nothing; 0 is a real limit (runtime-spec 1.3).
  husk::spec::Resources unset;
  unset.pids = husk::spec::Pids{};
  CHECK(cgroups::rootless_layout(l, dirs_of(l, "/c1"), &unset, false, none));
  husk::spec::Resources pids;
  pids.pids = husk::spec::Pids{0};
  auto p = cgroups::rootless_layout(l, dirs_of(l, "/c1"), &pids, false, none);
  REQUIRE(!p);
  CHECK(p.error().describe().find("cannot set pids limit") != std::string::npos);
}

TEST_CASE("rootless cgroups: an explicit cgroupsPath the caller may not use is an error") {
  auto l = hybrid_layout();
  auto none = [](const std::string&) { return false; };
  auto r = cgroups::rootless_layout(l, dirs_of(l, "/c1"), nullptr, true, none);
  REQUIRE(!r);
  CHECK(r.error().describe().find("linux.cgroupsPath") != std::string::npos);
  auto all = [](const std::string&) { return true; };
  r = cgroups::rootless_layout(l, dirs_of(l, "/c1"), nullptr, true, all);
  REQUIRE(r);
  // Everything delegated but the v1 devices hierarchy, dropped always.
  CHECK(names(*r) == std::vector<std::string>{"memory", "pids", "unified"});
}

TEST_CASE("rootless: a hard rlimit above the caller's is refused naming the field") {
  auto cur = [](int res) -> std::optional<uint64_t> {
    if (res == 7) return 1024;
    return std::nullopt;
  };
  CHECK(rootless::check_rlimits({{7, 512, 1024}}, cur));
  CHECK(rootless::check_rlimits({{7, 100, 100}, {6, 1, 1 << 30}}, cur));  // unknown current: the kernel decides
  auto r = rootless::check_rlimits({{6, 1, 1}, {7, 1024, 4096}}, cur);
  REQUIRE(!r);
  CHECK(r.error().describe() ==
        "config.json: /process/rlimits/1: RLIMIT_NOFILE hard limit 4096 is above the caller's 1024 (rootless: "
        "raising it needs CAP_SYS_RESOURCE)");
}
