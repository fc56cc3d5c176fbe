// CLI input, kept apart from the plan and from the fds the roles own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace husk::runtime {

struct GlobalOptions {
  std::string root = "/run/husk";
  std::string log_file;
  std::string log_format = "text";
  bool debug = false;
  bool systemd_cgroup = false;
  std::string rootless = "auto";
};

struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string console_socket;
  std::string pid_file;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
};

struct RunOptions : CreateOptions {
  bool detach = false;
  bool keep = false;
};

struct KillOptions {
  std::string id;
  std::string signal = "TERM";
  bool all = false;
};

struct DeleteOptions {
  std::string id;
  bool force = false;
};

struct ListOptions {
  std::string format = "table";
  bool quiet = false;
};

struct PsOptions {
  std::string id;
  std::string format = "table";
  std::vector<std::string> ps_args;  // passed to ps(1) for the table form (default -ef)
};

// `update`: each flag is optional; `resources` is a file or "-" (stdin).
struct UpdateOptions {
  std::string id;
  std::string resources;
  std::optional<std::string> memory, memory_swap, memory_reservation, kernel_memory, kernel_memory_tcp;
  std::optional<uint64_t> cpu_shares, cpu_period, cpu_rt_period, cpu_burst;
  std::optional<int64_t> cpu_quota, cpu_rt_runtime, pids_limit;
  std::optional<std::string> cpuset_cpus, cpuset_mems;
  std::optional<uint16_t> blkio_weight;
};

struct EventsOptions {
  std::string id;
  bool stats = false;
  std::string interval = "5s";
};

struct SpecOptions {
  std::string bundle = ".";
  bool rootless = false;
};

}  // namespace husk::runtime
