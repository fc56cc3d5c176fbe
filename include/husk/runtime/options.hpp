// CLI input, kept apart from the plan and from the fds the roles own.
#pragma once

#include <optional>
#include <string>

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

struct SpecOptions {
  std::string bundle = ".";
  bool rootless = false;
};

}  // namespace husk::runtime
