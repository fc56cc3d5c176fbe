#include <catch2/catch.hpp>

#include "husk/spec/json.hpp"
#include "husk/spec/validate.hpp"

using namespace husk;

static spec::Spec base() {
  return *spec::parse(R"({"ociVersion":"1.2.0","root":{"path":"rootfs"},
    "process":{"args":["sh"],"cwd":"/"},
    "linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"ipc"},{"type":"network"}]}})");
}

TEST_CASE("check_container_id") {
  CHECK(spec::check_container_id("abc-1_2+3.x"));
  CHECK_FALSE(spec::check_container_id(""));
  CHECK_FALSE(spec::check_container_id("../x"));
  CHECK_FALSE(spec::check_container_id("a/b"));
  CHECK_FALSE(spec::check_container_id(".hidden"));
}

TEST_CASE("check_root and check_process") {
  auto s = base();
  CHECK(spec::validate(s));
  s.root.reset();
  CHECK_FALSE(spec::check_root(s));
  s = base();
  s.process->cwd = "relative";
  CHECK(spec::check_process(s).error().message().find("/process/cwd") != std::string::npos);
  s = base();
  s.process->args.clear();
  CHECK_FALSE(spec::check_process(s));
}

TEST_CASE("check_namespaces") {
  auto s = base();
  s.linux_->namespaces.push_back({"pid", std::nullopt});
  CHECK(spec::check_namespaces(s).error().message().find("duplicate") != std::string::npos);
  s = base();
  s.linux_->namespaces.push_back({"bogus", std::nullopt});
  CHECK_FALSE(spec::check_namespaces(s));
  s = base();
  s.linux_->namespaces.erase(s.linux_->namespaces.begin() + 2);  // no uts
  s.hostname = "x";
  CHECK(spec::check_namespaces(s).error().message() ==
        "config.json: /hostname: setting a hostname needs a uts namespace");
}

TEST_CASE("check_userns_maps") {
  auto s = base();
  s.linux_->namespaces.push_back({"user", std::nullopt});
  CHECK_FALSE(spec::check_userns_maps(s));
  s.linux_->uid_mappings.push_back({0, 1000, 1});
  s.linux_->gid_mappings.push_back({0, 1000, 1});
  CHECK(spec::check_userns_maps(s));
  s = base();
  s.linux_->uid_mappings.push_back({0, 1000, 1});
  CHECK_FALSE(spec::check_userns_maps(s));
}

TEST_CASE("check_sysctl needs the matching namespace") {
  auto s = base();
  s.linux_->sysctl["net.ipv4.ip_forward"] = "1";
  s.linux_->sysctl["kernel.shmmax"] = "1";
  CHECK(spec::check_sysctl(s));
  s.linux_->sysctl["vm.swappiness"] = "1";
  CHECK(spec::check_sysctl(s).error().message().find("/linux/sysctl/vm.swappiness") != std::string::npos);
}

TEST_CASE("check_capabilities rejects unknown names") {
  auto s = base();
  s.process->capabilities = spec::Capabilities{};
  s.process->capabilities->bounding = std::vector<std::string>{"CAP_KILL", "CAP_BOGUS"};
  CHECK(spec::check_process(s).error().message() ==
        "config.json: /process/capabilities/bounding/1: unknown capability \"CAP_BOGUS\"");
}

TEST_CASE("validate: an unknown capability in config.json is a warning (runtime-spec 1.1+, runc)") {
  auto s = base();
  s.process->capabilities = spec::Capabilities{};
  s.process->capabilities->bounding = std::vector<std::string>{"CAP_KILL", "CAP_BOGUS"};
  std::vector<std::string> w;
  REQUIRE(spec::check_process(s, &w));
  REQUIRE(w.size() == 1);
  CHECK(w[0] == "config.json: /process/capabilities/bounding/1: unknown capability \"CAP_BOGUS\" ignored");
}

TEST_CASE("check_sysctl: kernel.hostname conflicts with the hostname field (runc)") {
  auto s = base();
  s.linux_->sysctl["kernel.hostname"] = "x";
  REQUIRE_FALSE(spec::check_sysctl(s));
  CHECK(spec::check_sysctl(s).error().message().find("conflicts with the OCI \"hostname\" field") != std::string::npos);
  s.linux_->sysctl.erase("kernel.hostname");
  s.linux_->sysctl["kernel.domainname"] = "x";
  CHECK(spec::check_sysctl(s));
}

TEST_CASE("check_rlimits, check_devices, check_cgroups_path, check_mounts") {
  auto s = base();
  s.process->rlimits.push_back({"RLIMIT_BOGUS", 1, 1});
  CHECK_FALSE(spec::check_process(s));
  s = base();
  s.process->rlimits.push_back({"RLIMIT_NOFILE", 1, 2});
  s.process->rlimits.push_back({"RLIMIT_NOFILE", 1, 2});
  CHECK_FALSE(spec::check_process(s));
  s = base();
  s.linux_->devices.push_back({"x", "/dev/x", 1, 1, {}, {}, {}});
  CHECK_FALSE(spec::check_devices(s));
  s = base();
  // runtime-spec 1.2: a device path MAY be anywhere in the container (runc agrees).
  s.linux_->devices.push_back({"c", "/etc/x", 1, 1, {}, {}, {}});
  CHECK(spec::check_devices(s));
  s = base();
  s.linux_->devices.push_back({"c", "relative", 1, 1, {}, {}, {}});
  CHECK_FALSE(spec::check_devices(s));
  s = base();
  s.linux_->devices.push_back({"c", "/", 1, 1, {}, {}, {}});
  CHECK_FALSE(spec::check_devices(s));
  s = base();
  s.linux_->cgroups_path = "/a/../../b";
  CHECK_FALSE(spec::check_cgroups_path(s));
  s = base();
  s.mounts.push_back({"/x", std::string("bind"), std::nullopt, {}});
  CHECK_FALSE(spec::check_mounts(s));
  s = base();
  // runtime-spec 1.3 idmapped mounts: idmap without mappings needs a user namespace ...
  s.mounts.push_back({"/x", std::string("bind"), std::string("/y"), {"idmap"}, {}, {}});
  CHECK(spec::check_mounts(s).error().message().find("/mounts/0/options: idmap needs") != std::string::npos);
  s.linux_->namespaces.push_back({"user", std::nullopt});
  CHECK(spec::check_mounts(s));
  // ... uidMappings and gidMappings come together ...
  s = base();
  s.mounts.push_back({"/x", std::string("bind"), std::string("/y"), {"bind"}, {{0, 1000, 1}}, {}});
  CHECK(spec::check_mounts(s).error().message() ==
        "config.json: /mounts/0/gidMappings: must be given together with uidMappings");
  s.mounts.back().gid_mappings = {{0, 1000, 1}};
  CHECK(spec::check_mounts(s));
  // ... on a bind or a tmpfs.
  s.mounts.push_back({"/p", std::string("proc"), std::string("proc"), {}, {{0, 1000, 1}}, {{0, 1000, 1}}});
  CHECK(spec::check_mounts(s).error().code() == Errc::unsupported);
}

TEST_CASE("validate: pids.limit 0 and intelRdt are accepted (runtime-spec 1.3)") {
  auto s = spec::parse(
      R"({"ociVersion":"1.3.0","root":{"path":"r"},"linux":{"resources":{"pids":{"limit":0}},
          "intelRdt":{"closID":"x","enableMonitoring":true},"netDevices":{"eth0":{"name":"e9"}},
          "memoryPolicy":{"mode":"MPOL_BIND","nodes":"0"}}})",
      "config.json");
  REQUIRE(s);
  CHECK(spec::validate(*s));
  REQUIRE(s->linux_->resources->pids->limit);
  CHECK(*s->linux_->resources->pids->limit == 0);
  CHECK(s->linux_->intel_rdt->enable_monitoring);
  CHECK(s->linux_->net_devices.at("eth0").name == "e9");
  CHECK(s->linux_->memory_policy->nodes == "0");
  auto absent = spec::parse(R"({"ociVersion":"1.3.0","linux":{"resources":{"pids":{}}}})", "config.json");
  REQUIRE(absent);
  CHECK_FALSE(absent->linux_->resources->pids->limit);
}
