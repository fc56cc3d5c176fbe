// pause, resume, ps, update, events.
#include "commands.hpp"
#include "husk/runtime/runtime.hpp"

namespace husk::cli {

void add_pause(Registry r) {
  add_id_command(r, "pause", "suspend every process of the container (cgroup freezer)", runtime::pause);
}

void add_resume(Registry r) {
  add_id_command(r, "resume", "resume every process of a paused container", runtime::resume);
}

void add_ps(Registry r) {
  static runtime::PsOptions o;
  auto* sub = r.app.add_subcommand("ps", "list the processes of a container; ps(1) options may follow the id");
  sub->add_option("--format,-f", o.format, "table or json")->check(CLI::IsMember({"table", "json"}));
  sub->add_option("container-id", o.id, "id of the container")->required();
  // Everything after the id goes to ps(1) ("husk ps ID -o pid,comm").
  sub->prefix_command();
  sub->callback([r, sub] {
    o.ps_args = sub->remaining();
    r.action = [g = &r.global]() -> Result<int> {
      TRY_ASSIGN(auto out, named(runtime::ps(*g, o), "ps"));
      print(out);
      return 0;
    };
  });
}

void add_update(Registry r) {
  static runtime::UpdateOptions o;
  auto* sub = r.app.add_subcommand(
      "update", "change the resource limits of a container; zero or absent values are left unchanged");
  sub->add_option("container-id", o.id, "id of the container")->required();
  sub->add_option("--resources,-r", o.resources, "OCI linux.resources JSON file, or - for stdin");
  sub->add_option("--memory", o.memory, "memory limit (bytes, or 512m, 1g; -1 unlimited)");
  sub->add_option("--memory-swap", o.memory_swap, "memory+swap limit (bytes or size; -1 unlimited)");
  sub->add_option("--memory-reservation", o.memory_reservation, "memory soft limit (bytes or size)");
  sub->add_option("--kernel-memory", o.kernel_memory, "kernel memory limit (ignored by kernels without it)");
  sub->add_option("--kernel-memory-tcp", o.kernel_memory_tcp,
                  "kernel TCP buffer limit (ignored by kernels without it)");
  sub->add_option("--cpu-share", o.cpu_shares, "CPU shares (relative weight)");
  sub->add_option("--cpu-period", o.cpu_period, "CFS period (microseconds)");
  sub->add_option("--cpu-quota", o.cpu_quota, "CFS quota (microseconds; -1 unlimited)");
  sub->add_option("--cpu-burst", o.cpu_burst, "CFS burst (microseconds)");
  sub->add_option("--cpu-rt-period", o.cpu_rt_period, "realtime period (microseconds)");
  sub->add_option("--cpu-rt-runtime", o.cpu_rt_runtime, "realtime runtime (microseconds)");
  sub->add_option("--cpuset-cpus", o.cpuset_cpus, "CPUs allowed (0-3, 0,1)");
  sub->add_option("--cpuset-mems", o.cpuset_mems, "memory nodes allowed (0-3, 0,1)");
  sub->add_option("--pids-limit", o.pids_limit, "maximum number of tasks (-1 unlimited)");
  sub->add_option("--blkio-weight", o.blkio_weight, "block IO weight, 10 to 1000");
  sub->callback([r] {
    r.action = [g = &r.global]() -> Result<int> {
      TRY(named(runtime::update(*g, o), "update"));
      return 0;
    };
  });
}

void add_events(Registry r) {
  static runtime::EventsOptions o;
  auto* sub = r.app.add_subcommand("events", "print the container's resource statistics and OOM events as JSON");
  sub->add_option("container-id", o.id, "id of the container")->required();
  sub->add_flag("--stats", o.stats, "print the statistics once and exit");
  sub->add_option("--interval", o.interval, "interval between statistics (default 5s)");
  sub->callback(
      [r] { r.action = [g = &r.global]() -> Result<int> { return named(runtime::events(*g, o), "events"); }; });
}

}  // namespace husk::cli
