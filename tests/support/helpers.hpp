// Helpers shared by the integration and conformance tests (beside tests/integration/harness.hpp):
// /proc status fields, cgroup directories, UNIX-socket listeners, a seccomp agent's answer
// loop and a hook that logs the state it receives.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness.hpp"

namespace it {

// The value of `key` in a /proc/<pid>/status text ("Uid" -> "0\t0\t0\t0"), "" if absent.
std::string status_field(const std::string& status, const std::string& key);

// The bundle's cgroup directory: in the v1 hierarchy `v1_controller` on a host with v1
// controllers, the unified one on pure v2.
std::string cgroup_dir(const Bundle& b, const std::string& v1_controller);

// A UNIX stream socket bound at `path` and listening (close-on-exec); -1 on failure.
int unix_listener(const std::string& path, int backlog = 1);

// A --console-socket that records the pty name and everything read from the master until
// the container closes it; join() waits for that.
struct ConsoleSocket {
  std::string path, name, text;
  int ls = -1;
  std::thread t;
  explicit ConsoleSocket(const std::string& p);
  ~ConsoleSocket();
  void join() {
    if (t.joinable()) t.join();
  }
};

// A seccomp agent's loop on a listener fd: answers every notification with -err until the
// filter goes away, `stop` turns true, or `idle_ms` pass without one (-1: no idle limit).
// Counts the answers sent in `answered`; closes `fd`.
void answer_notifications(int fd, int err, const std::atomic<bool>* stop, int idle_ms,
                          std::atomic<int>* answered = nullptr);

// A hook that appends "<name> <status><tail>" to `log` (/bin/sh on the host; `tail` is
// more shell words for the line, `after` more shell after the redirection).
nlohmann::json status_hook(const std::string& log, const std::string& name, const std::string& tail = "",
                           const std::string& after = "");

}  // namespace it
