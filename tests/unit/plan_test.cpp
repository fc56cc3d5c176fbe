#include <sched.h>
#include <sys/mount.h>
#include <catch2/catch.hpp>

#include "husk/core/fd.hpp"
#include "husk/spec/json.hpp"
#include "husk/spec/plan.hpp"

using namespace husk;

static spec::ContainerPlan plan_of(const char* file) {
  auto s = spec::parse(*read_file(std::string(HUSK_TEST_DATA) + "/" + file));
  REQUIRE(s);
  auto p = spec::make_plan(*s, spec::PlanInputs{"c1", "/bundles/b", false, false, 0, 0});
  REQUIRE(p);
  return *p;
}

TEST_CASE("plan: paths, namespaces and id maps") {
  auto p = plan_of("minimal.json");
  CHECK(p.rootfs == "/bundles/b/rootfs");
  CHECK(p.ns.new_user);
  CHECK((p.ns.unshare_flags & (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS)) ==
        (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS));
  CHECK((p.ns.unshare_flags & CLONE_NEWUSER) == 0);  // S unshares the user namespace first, alone
  REQUIRE(p.ns.joins.size() == 1);
  CHECK(p.ns.joins[0].flag == CLONE_NEWNET);
  CHECK(p.uid_map == "0 100000 65536\n");
  CHECK(p.sysctl.at(0) == std::pair<std::string, std::string>{"net/ipv4/ip_forward", "1"});
}

TEST_CASE("plan: mounts are resolved and typed") {
  auto p = plan_of("minimal.json");
  REQUIRE(p.mounts.size() == 3);
  auto& bind = p.mounts[1];
  CHECK(bind.bind);
  CHECK(bind.source == "/bundles/b/data");  // relative bind sources are relative to the bundle
  CHECK((bind.opts.flags & (MS_BIND | MS_REC | MS_RDONLY)) == (MS_BIND | MS_REC | MS_RDONLY));
  CHECK(bind.opts.propagation == std::vector<unsigned long>{MS_PRIVATE | MS_REC});
  CHECK(p.mounts[2].destination == "/tmp");  // relative destinations are relative to /
  CHECK(p.mounts[2].opts.tmpcopyup);
  CHECK(p.mounts[2].opts.data == "size=1m");
}

// init populates /dev unless it is a bind (the caller's), and links /dev/ptmx to
// pts/ptmx when a devpts is mounted: the plan decides both, once.
TEST_CASE("plan: /dev bound or not, devpts mounted or not") {
  auto plan = [](const char* mounts) {
    auto s = spec::parse(std::string(R"({"ociVersion":"1.2.0","root":{"path":"r"},"mounts":)") + mounts + "}");
    REQUIRE(s);
    auto p = spec::make_plan(*s, spec::PlanInputs{"c1", "/b", false, false, 0, 0});
    REQUIRE(p);
    return std::pair{p->dev_is_bind_mounted, p->devpts_is_mounted};
  };
  CHECK(plan("[]") == std::pair{false, false});
  CHECK(plan(R"([{"destination":"/dev","type":"tmpfs","source":"tmpfs"},
                 {"destination":"/dev/pts","type":"devpts","source":"devpts"}])") == std::pair{false, true});
  CHECK(plan(R"([{"destination":"/dev","type":"bind","source":"/dev","options":["rbind"]},
                 {"destination":"/dev/pts","type":"bind","source":"/dev/pts","options":["bind"]}])") ==
        std::pair{true, false});
  CHECK(plan(R"([{"destination":"dev/","source":"/dev","options":["rbind"]}])") == std::pair{true, false});
}

TEST_CASE("plan: devices, caps, rlimits, user") {
  auto p = plan_of("minimal.json");
  CHECK(p.devices.size() == 7);  // six defaults + /dev/fuse
  CHECK(p.devices.back().path == "/dev/fuse");
  CHECK(p.devices.back().mode == 0666);
  REQUIRE(p.process.caps);
  CHECK(p.process.caps->bounding == (uint64_t{1} << 5));
  CHECK(p.process.caps->permitted == ((uint64_t{1} << 5) | 1));
  CHECK(p.process.caps->inheritable == 0);  // never implied (CVE-2022-29162)
  CHECK(p.process.rlimits.at(0).resource == 7);
  CHECK(p.process.uid == 1000);
  CHECK(p.hooks.prestart.size() == 1);
}

TEST_CASE("plan: LISTEN_FDS is passed on") {
  auto env = spec::process_env({"A=1"}, 2);
  CHECK(env == std::vector<std::string>{"A=1", "LISTEN_FDS=2", "LISTEN_PID=1"});
}
