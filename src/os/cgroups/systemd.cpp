// The systemd cgroup driver (--systemd-cgroup): each container is a transient unit that
// systemd makes (StartTransientUnit with the init's pid, Delegate=yes) and removes
// (StopUnit); what systemd cannot express, and everything read from the cgroup (freeze,
// pids, stats, events), goes through a cgroupfs driver over the unit's directories, as
// runc's systemd managers wrap its fs managers. D-Bus round trips per command: create 1
// (StartTransientUnit, then its JobRemoved on the same connection), update 1
// (SetUnitProperties), delete 1 (StopUnit + JobRemoved); none for the others.
// Rootless (euid != 0), as runc: the user's own systemd (Bus::connect_user), the default
// slice "user.slice" below the user manager's cgroup (its ControlGroup property, one more
// round trip at create), pure cgroup v2 only; the unit's cgroup is the user's (systemd
// made it below user@UID.service), so the files are written as for root, but no device
// program (it needs privileges) and no controller is enabled above the unit (systemd
// enables what user@.service delegates).
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <optional>

#include "husk/core/log.hpp"
#include "husk/core/path.hpp"
#include "husk/os/cgroups/driver.hpp"
#include "husk/os/systemd/dbus.hpp"
#include "husk/os/systemd/path.hpp"
#include "husk/os/systemd/unit_plan.hpp"

namespace husk::os::cgroups {
namespace {

namespace sd = husk::os::systemd;

constexpr std::chrono::milliseconds kStopTimeout{10000};

long us(std::chrono::steady_clock::duration d) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

// runc's check (IsRunningSystemd) and message.
Result<void> check_systemd_running() {
  struct stat st;
  if (::stat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode)) return {};
  return Error::make(Errc::unsupported,
                     "--systemd-cgroup: systemd not running on this host (no /run/systemd/system), cannot use "
                     "systemd cgroups manager");
}

// Whether the caller may move a process from its own cgroup into `dir`: the kernel wants
// write access to cgroup.procs of their common ancestor. Unknown: yes (the move reports).
bool may_migrate_into(const std::string& dir) {
  auto layout = detect_layout();
  auto* u = layout ? layout->unified() : nullptr;
  auto own = read_file("/proc/self/cgroup");
  if (!u || !own) return true;
  auto cg = parse_proc_cgroup(*own);
  auto it = cg.find("unified");  // parse_proc_cgroup's key of the "0::" line
  if (it == cg.end()) return true;
  std::string common = sd::common_ancestor(path::join(u->mountpoint, it->second), dir);
  return ::faccessat(AT_FDCWD, (common + "/cgroup.procs").c_str(), W_OK, AT_EACCESS) == 0;
}

// Rootless: the user manager's cgroup ("/user.slice/user-1000.slice/user@1000.service"),
// over the connection the driver keeps.
Result<std::string> user_manager_cgroup(sd::Bus& bus) {
  TRY_ASSIGN(std::string cg,
             bus.manager_string("ControlGroup").context("--systemd-cgroup (rootless): the user's systemd"));
  if (cg.empty() || cg[0] != '/')
    return Error::make(Errc::unsupported,
                       fmt::format("--systemd-cgroup (rootless): the user's systemd has no cgroup of its own "
                                   "(ControlGroup {:?})",
                                   cg));
  return cg;
}

class Systemd final : public Driver {
 public:
  // `plan`: a new container (create); without one the unit is taken from the paths
  // (a reopened container: started).
  // `user`: the caller's own systemd (rootless); `bus`: a connection made already.
  Systemd(std::string unit, std::unique_ptr<Driver> fs, bool v2, std::optional<sd::UnitPlan> plan, bool user,
          std::optional<sd::Bus> bus = std::nullopt)
      : unit_(std::move(unit)),
        fs_(std::move(fs)),
        v2_(v2),
        plan_(std::move(plan)),
        started_(!plan_),
        user_(user),
        bus_(std::move(bus)) {}

  std::string_view name() const override { return kSystemd; }
  const Paths& paths() const override { return fs_->paths(); }

  // The unit's cgroup exists once systemd made it, and a scope needs a pid to be made:
  // the init is cloned in husk's cgroup and systemd moves it (place_init).
  Result<InitPlacement> plan_init(bool, size_t) override { return InitPlacement{}; }

  // Connects (the authentication's round trips) while the children set up.
  Result<void> create(const spec::Resources* r) override {
    resources_ = r;
    creating_ = true;
    return connect();
  }

  Result<std::vector<UniqueFd>> place_init(pid_t pid, const InitPlacement&, bool) override {
    auto t0 = std::chrono::steady_clock::now();
    TRY(connect());
    auto t1 = std::chrono::steady_clock::now();
    TRY(bus_->start_transient_unit(unit_, sd::start_properties(*plan_, pid)));
    started_ = true;
    log::debug("systemd: connected in {}us, {} started in {}us ({} round trips)", us(t1 - t0), unit_,
               us(std::chrono::steady_clock::now() - t1), bus_->round_trips());
    // What systemd does not do: the v1 hierarchies it does not manage (mkdir + join), the
    // v2 controllers it did not enable in the ancestors (hugetlb, rdma, misc).
    if (!user_) TRY(fs_->create(resources_));
    if (!paths().v1.empty()) {
      InitPlacement by_pid;
      TRY(fs_->place_init(pid, by_pid, /*cloned_into=*/true));
    }
    return std::vector<UniqueFd>{};
  }

  // Rootless, as runc: a process husk may not move into the container's cgroup (its own
  // cgroup is not below one the user may move processes in) stays where it is, warned.
  Result<ProcessPlacement> place_process(const std::vector<std::string>& sub) const override {
    TRY_ASSIGN(auto p, fs_->place_process(sub));
    if (user_ && !p.v2_dir.empty() && !may_migrate_into(p.v2_dir)) {
      log::warning(
          "rootless: the process stays in husk's own cgroup, not {}: the kernel lets the user move it only "
          "from a cgroup of the user's systemd (run husk in one: systemd-run --user --scope)",
          p.v2_dir);
      p.v2_dir.clear();
      p.clone_into.reset();
    }
    return p;
  }

  // create: the properties went with StartTransientUnit, the files follow; update: the
  // properties first (systemd would rewrite the files on its next reload otherwise).
  Result<void> set(const spec::Resources& r, bool creating) const override {
    if (!creating) {
      TRY_ASSIGN(auto props, sd::resource_properties(r, sd::read_host(v2_)));
      if (!props.empty()) {
        TRY(connect());
        // v1: systemd rewrites the devices cgroup's files (a deny-all first) when the device
        // properties change; as runc, the container is frozen meanwhile (unless it is
        // already) so that it sees no spurious EPERM.
        bool thaw = !v2_ && sd::find(props, "DevicePolicy") && !paths().v1_dir("freezer").empty() && !fs_->frozen() &&
                    fs_->freeze(true);
        auto sent = bus_->set_unit_properties(unit_, props);
        if (thaw) (void)fs_->freeze(false);
        TRY(std::move(sent));
      }
    }
    if (user_ && !r.devices.empty()) {
      // runc ignores device errors rootless: no program is loaded, the rules are not applied.
      spec::Resources without = r;
      without.devices.clear();
      return fs_->set(without, false);
    }
    return fs_->set(r, creating && !user_);
  }

  Result<void> freeze(bool f) const override { return fs_->freeze(f); }
  bool frozen() const override { return fs_->frozen(); }
  Result<std::vector<pid_t>> pids() const override { return fs_->pids(); }
  Stats stats() const override { return fs_->stats(); }
  uint64_t oom_kills() const override { return fs_->oom_kills(); }
  Result<OomWatch> watch_oom() const override { return fs_->watch_oom(); }
  // The state's createdCgroup (read after create, before place_init): the unit is the
  // container's from create on; the rollback asks again after place_init.
  bool created_any() const override { return creating_ || started_; }

  // Nothing when the unit was never started: a unit that existed already is another's.
  // When the container's processes are gone systemd stops the scope itself and removes its
  // cgroup: no D-Bus call then (delete after the container exited, docker run --rm).
  // Otherwise StopUnit and its job; if systemd does not answer in time but the cgroup is
  // gone by then, the unit is stopped all the same (a warning, not a failed delete).
  Result<void> destroy() const override {
    if (!started_) return {};
    std::string dir = !paths().v2.empty() ? paths().v2 : paths().v1_dir("name=systemd");
    auto gone = [&] { return !dir.empty() && ::access(dir.c_str(), F_OK) != 0; };
    if (!gone()) {
      auto t0 = std::chrono::steady_clock::now();
      TRY(connect());
      if (auto r = bus_->stop_unit(unit_, kStopTimeout); !r) {
        if (!gone()) return r;
        log::warning("{} (its cgroup is gone: stopped)", r.error().describe());
      }
      log::debug("systemd: {} stopped in {}us ({} round trips)", unit_, us(std::chrono::steady_clock::now() - t0),
                 bus_->round_trips());
    }
    // The directories husk made (v1 hierarchies systemd does not manage) and sub-cgroups.
    return fs_->destroy();
  }

 private:
  Result<void> connect() const {
    if (bus_) return {};
    TRY_ASSIGN(auto b, user_ ? sd::Bus::connect_user() : sd::Bus::connect_system());
    bus_.emplace(std::move(b));
    return {};
  }

  std::string unit_;
  std::unique_ptr<Driver> fs_;
  bool v2_;
  std::optional<sd::UnitPlan> plan_;
  bool started_;
  bool user_;
  bool creating_ = false;
  const spec::Resources* resources_ = nullptr;
  mutable std::optional<sd::Bus> bus_;
};

}  // namespace

Result<std::unique_ptr<Driver>> make_systemd_driver(const DriverRequest& rq, const Layout& layout) {
  TRY(check_systemd_running());
  bool v2 = layout.mode == Layout::Mode::v2;
  bool user = ::geteuid() != 0;
  sd::UnitInputs in{rq.cgroups_path.value_or(""), rq.id, user, "", rq.resources, rq.annotations};
  std::map<std::string, std::string> pid1;
  std::optional<sd::Bus> bus;
  if (user && v2) {
    // The manager's ControlGroup is absolute (no PID 1 prefix), as runc joins it.
    TRY_ASSIGN(auto b, sd::Bus::connect_user());
    bus.emplace(std::move(b));
    TRY_ASSIGN(in.manager_cgroup, user_manager_cgroup(*bus));
  } else if (auto t = read_file("/proc/1/cgroup")) {
    pid1 = parse_proc_cgroup(*t);
  }
  TRY_ASSIGN(auto plan, sd::plan_unit(in, layout, pid1, sd::read_host(v2)));
  auto* u = layout.unified();
  // Rootless: nothing is enabled above the unit (those cgroups are not the user's).
  auto fs = cgroupfs_driver(Paths::from_map(plan.dirs), u && !user ? u->mountpoint : "");
  std::string unit = plan.unit.unit;
  return std::unique_ptr<Driver>(
      new Systemd(std::move(unit), std::move(fs), v2, std::move(plan), user, std::move(bus)));
}

Result<std::unique_ptr<Driver>> open_systemd_driver(const Paths& paths) {
  std::string dir = !paths.v2.empty() ? paths.v2 : paths.v1_dir("name=systemd");
  std::string unit = path::basename(dir);
  if (!sd::valid_unit_name(unit))
    return Error::make(Errc::bad_state,
                       fmt::format("state: the systemd driver's cgroup {:?} does not name a unit", dir));
  return std::unique_ptr<Driver>(
      new Systemd(std::move(unit), cgroupfs_driver(paths, ""), paths.pure_v2(), std::nullopt, ::geteuid() != 0));
}

}  // namespace husk::os::cgroups
