#include "spec13.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <map>

#include <nlohmann/json.hpp>

#include "husk/core/log.hpp"
#include "husk/os/idmap.hpp"
#include "husk/os/netdev.hpp"
#include "husk/os/rootfs.hpp"
#include "husk/os/syscall.hpp"

namespace husk::runtime {

Result<std::optional<os::mempolicy::Prepared>> prepare_mempolicy(const std::optional<spec::MemoryPolicy>& mp) {
  std::optional<os::mempolicy::Prepared> out;
  if (!mp) return out;
  TRY_ASSIGN(auto online, os::mempolicy::online_nodes());
  TRY_ASSIGN(out, os::mempolicy::prepare(os::mempolicy::Config{mp->mode, mp->nodes, mp->flags}, online));
  return out;
}

Result<void> check_net_devices(const spec::ContainerPlan& plan) {
  std::map<std::string, std::string> m(plan.net_devices.begin(), plan.net_devices.end());
  return os::netdev::validate(m, plan.own_netns);
}

Result<void> move_net_devices(const spec::ContainerPlan& plan, pid_t pid) {
  if (plan.net_devices.empty()) return {};
  UniqueFd ns(::open(fmt::format("/proc/{}/ns/net", pid).c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) return Error::sys("linux.netDevices: open the container's network namespace");
  struct stat mine {
  }, theirs{};
  if (::stat("/proc/self/ns/net", &mine) < 0 || ::fstat(ns.get(), &theirs) < 0)
    return Error::sys("linux.netDevices: stat the network namespaces");
  if (mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev)
    return Error::make(Errc::internal, "linux.netDevices: the container has no network namespace of its own yet");
  for (auto& [host, name] : plan.net_devices)
    TRY(os::netdev::move_into(ns.get(), os::netdev::Move{host, name})
            .context(fmt::format("config.json: /linux/netDevices/{}", host)));
  return {};
}

os::resctrl::Config rdt_config(const spec::IntelRdt& r) {
  return os::resctrl::Config{r.clos_id, r.l3_cache_schema, r.mem_bw_schema, r.schemata, r.enable_monitoring};
}

Result<std::string> prepare_intel_rdt(const spec::ContainerPlan& plan) {
  if (!plan.intel_rdt) return std::string();
  TRY(os::resctrl::validate(rdt_config(*plan.intel_rdt)));
  return os::resctrl::host_root();
}

namespace {
constexpr const char* kRdtFile = "intel_rdt.json";
}  // namespace

Result<void> save_rdt_group(int state_dir_fd, const os::resctrl::Group& g) {
  nlohmann::json j = {{"closPath", g.clos_path}, {"created", g.created}, {"monPath", g.mon_path}};
  UniqueFd f(::openat(state_dir_fd, kRdtFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!f) return Error::sys("save intel_rdt.json");
  return write_all(f.get(), j.dump()).context("save intel_rdt.json");
}

Result<std::optional<os::resctrl::Group>> load_rdt_group(const std::string& state_dir) {
  std::optional<os::resctrl::Group> out;
  auto text = read_file(state_dir + "/" + kRdtFile);
  if (!text) {
    if (text.error().code() == Errc::not_found || text.error().sys_errno() == ENOENT) return out;
    return std::move(text).error();
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.value("closPath", nlohmann::json()).is_string())
    return Error::make(Errc::bad_state, fmt::format("{}/{}: unreadable", state_dir, kRdtFile));
  out = os::resctrl::Group{j.value("closPath", ""), j.value("created", false), j.value("monPath", "")};
  return out;
}

Result<void> rdt_add_task(const std::string& state_dir, pid_t pid) {
  TRY_ASSIGN(auto g, load_rdt_group(state_dir));
  if (!g) return {};
  return os::resctrl::add_task(*g, pid).context("linux.intelRdt");
}

Result<void> rdt_remove(const std::string& state_dir) {
  TRY_ASSIGN(auto g, load_rdt_group(state_dir));
  if (!g) return {};
  return os::resctrl::remove(*g).context("linux.intelRdt");
}

namespace {

Result<UniqueFd> userns_for(const spec::MountOp& m,
                            std::vector<std::pair<std::pair<std::string, std::string>, UniqueFd>>& cache) {
  if (!m.idmap_userns_path.empty()) {
    UniqueFd fd(::open(m.idmap_userns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
      return Error::sys(fmt::format("idmapped mount {}: open user namespace {}", m.destination, m.idmap_userns_path));
    return fd;
  }
  auto key = std::pair{os::idmap::map_text(m.idmap_uid), os::idmap::map_text(m.idmap_gid)};
  for (auto& [k, fd] : cache)
    if (k == key) {
      UniqueFd d(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3));
      if (!d) return Error::sys("dup a user namespace fd");
      return d;
    }
  TRY_ASSIGN(auto fd,
             os::idmap::make_userns(m.idmap_uid, m.idmap_gid).context(fmt::format("idmapped mount {}", m.destination)));
  UniqueFd d(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3));
  if (!d) return Error::sys("dup a user namespace fd");
  cache.emplace_back(key, std::move(fd));
  return d;
}

}  // namespace

Result<std::vector<UniqueFd>> make_idmapped_trees(const spec::ContainerPlan& plan) {
  std::vector<UniqueFd> out;
  std::vector<std::pair<std::pair<std::string, std::string>, UniqueFd>> cache;
  // With a new user namespace every bind source is cloned here, from the runtime's view
  // (issue 22 class 14); C sets its flags and attaches it.
  bool clone_binds = plan.ns.new_user;
  auto userns_bind = [&](const spec::MountOp& m) { return clone_binds && m.bind && m.type != "cgroup"; };
  bool any = false;
  for (auto& m : plan.mounts) any = any || m.idmap || userns_bind(m);
  if (!any) return out;
  out.resize(plan.mounts.size());
  for (size_t i = 0; i < plan.mounts.size(); ++i) {
    auto& m = plan.mounts[i];
    if (!m.idmap) {
      if (!userns_bind(m)) continue;
      auto tree = os::rootfs::bind_source_tree(m);
      if (!tree && tree.error().sys_errno() == EPERM) {
        // An unprivileged caller (rootless) may not clone mounts: C binds its sources, which
        // are the caller's own, as before.
        log::debug("{}; the container's init binds the sources", tree.error().describe());
        clone_binds = false;
        continue;
      }
      TRY_ASSIGN(out[i], std::move(tree));
      continue;
    }
    std::string what = fmt::format("config.json: /mounts/{} ({})", i, m.destination);
    TRY_ASSIGN(auto ns, userns_for(m, cache));
    UniqueFd tree;
    if (m.bind) {
      TRY_ASSIGN(tree, os::idmap::idmapped_tree({m.source, (m.opts.flags & MS_REC) != 0, m.opts.idmap_recursive},
                                                ns.get(), what));
    } else {
      TRY_ASSIGN(tree, os::idmap::idmapped_fs(m.type, m.opts.data, ns.get(), what));
    }
    // ro, nosuid, ... on the top mount, as for any bind; C sets propagation and rro, ...
    uint64_t set = 0, clr = 0;
    os::ms_to_attr(m.opts.flags & spec::kBindRemountMask, m.opts.clear, set, clr);
    TRY(os::set_mount_attrs(tree.get(), set, clr, false, what));
    out[i] = std::move(tree);
  }
  return out;
}

}  // namespace husk::runtime
