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
  std::string pidfd_socket;  // receives a pidfd of the init (runc 1.2)
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
  bool starts = false;  // `run`: a config without a process is refused before anything exists
};

struct RunOptions : CreateOptions {
  bool detach = false;
  bool keep = false;
};

// `exec`: runc's flags. Without --process the command and the flags below it change the
// container's own process (see spec::ExecOverrides).
struct ExecOptions {
  std::string id;
  std::string process_file;
  std::string console_socket, pid_file, pidfd_socket;
  bool detach = false;
  bool ignore_paused = false;
  int preserve_fds = 0;
  std::vector<std::string> cgroups;  // --cgroup [CONTROLLER[,CONTROLLER]:]PATH
  // Without --process:
  std::vector<std::string> args;
  std::string cwd, user, apparmor, process_label;
  std::vector<std::string> env, caps;
  std::vector<int64_t> additional_gids;
  bool tty = false;
  bool no_new_privs = false;
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
