// `husk features` tells the truth: each runtime-spec 1.3 key is tied here to the code
// that implements it (a key set to true whose code is gone fails one of these).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "husk/os/cgroups/writes.hpp"
#include "husk/os/mempolicy.hpp"
#include "husk/runtime/runtime.hpp"
#include "husk/spec/defaults.hpp"
#include "husk/spec/json.hpp"
#include "husk/spec/mount_options.hpp"
#include "husk/spec/plan.hpp"

using namespace husk;
using json = nlohmann::json;

namespace {
json features() { return json::parse(runtime::features_json()); }

spec::ContainerPlan plan_of(const std::string& config) {
  auto s = spec::parse(config, "config.json");
  REQUIRE(s);
  auto p = spec::make_plan(*s, spec::PlanInputs{"id", "/b"});
  REQUIRE(p);
  return *p;
}
}  // namespace

TEST_CASE("features: ociVersionMax is the version husk spec writes, 1.3.0") {
  CHECK(features().at("ociVersionMax") == "1.3.0");
  CHECK(std::string(spec::kOciVersion) == "1.3.0");
}

TEST_CASE("features: memoryPolicy modes and flags are exactly those prepare() accepts") {
  auto mp = features().at("linux").at("memoryPolicy");
  CHECK(mp.at("modes").size() == 7);
  CHECK(mp.at("flags").size() == 3);
  for (auto& m : mp.at("modes")) {
    INFO(m);
    bool nodes = m != "MPOL_DEFAULT" && m != "MPOL_LOCAL";
    os::mempolicy::Config c{m.get<std::string>(), nodes ? std::optional<std::string>("0") : std::nullopt, {}};
    CHECK(os::mempolicy::prepare(c, {0}));
  }
  for (auto& f : mp.at("flags")) {
    INFO(f);
    CHECK(os::mempolicy::prepare({"MPOL_BIND", "0", {f.get<std::string>()}}, {0}));
  }
  CHECK_FALSE(os::mempolicy::prepare({"MPOL_NOPE", "0", {}}, {0}));
}

TEST_CASE("features: idmap mounts, netDevices and intelRdt reach the plan") {
  auto lin = features().at("linux");
  CHECK(lin.at("mountExtensions").at("idmap").at("enabled") == true);
  auto opts = features().at("mountOptions");
  CHECK(std::find(opts.begin(), opts.end(), "idmap") != opts.end());
  CHECK(std::find(opts.begin(), opts.end(), "ridmap") != opts.end());
  auto p = plan_of(R"({"ociVersion":"1.3.0","root":{"path":"r"},
      "mounts":[{"destination":"/d","type":"bind","source":"/s","options":["rbind","ridmap"]},
                {"destination":"/e","type":"bind","source":"/s","options":["bind"],
                 "uidMappings":[{"containerID":0,"hostID":1000,"size":1}],
                 "gidMappings":[{"containerID":0,"hostID":1000,"size":1}]}],
      "linux":{"namespaces":[{"type":"user"},{"type":"network"}],
               "uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],
               "gidMappings":[{"containerID":0,"hostID":100000,"size":65536}],
               "netDevices":{"veth1":{"name":"eth9"}},
               "intelRdt":{"closID":"c","schemata":["L3:0=f"],"enableMonitoring":true}}})");
  REQUIRE(p.mounts.size() == 2);
  CHECK(p.mounts[0].idmap);
  CHECK(p.mounts[0].opts.idmap_recursive);
  CHECK(p.mounts[0].idmap_uid.at(0).host_id == 100000);  // the container's mappings
  CHECK(p.mounts[1].idmap);
  CHECK_FALSE(p.mounts[1].opts.idmap_recursive);
  CHECK(p.mounts[1].idmap_uid.at(0).host_id == 1000);  // its own
  CHECK(lin.at("netDevices").at("enabled") == true);
  CHECK(p.net_devices == std::vector<std::pair<std::string, std::string>>{{"veth1", "eth9"}});
  CHECK(p.own_netns);
  CHECK(lin.at("intelRdt").at("enabled") == true);
  CHECK(lin.at("intelRdt").at("schemata") == true);
  CHECK(lin.at("intelRdt").at("monitoring") == true);
  REQUIRE(p.intel_rdt);
  CHECK(p.intel_rdt->enable_monitoring);
  CHECK(p.intel_rdt->schemata == std::vector<std::string>{"L3:0=f"});
}

TEST_CASE("features: rdma is written, and husk honours no config annotation") {
  auto f = features();
  CHECK(f.at("linux").at("cgroup").at("rdma") == true);
  spec::Resources r;
  r.rdma["mlx5_1"] = spec::Rdma{3, 4};
  CHECK(os::cgroups::v2_writes(r).at(0) ==
        std::pair<std::string, std::string>{"rdma.max", "mlx5_1 hca_handle=3 hca_object=4"});
  CHECK(f.at("potentiallyUnsafeConfigAnnotations") == json::array());
}
