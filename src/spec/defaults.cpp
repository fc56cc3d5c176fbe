#include "husk/spec/defaults.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace husk::spec {
namespace {
constexpr std::array<std::string_view, kCapMaxKnown + 1> kCaps = {"CAP_CHOWN",
                                                                  "CAP_DAC_OVERRIDE",
                                                                  "CAP_DAC_READ_SEARCH",
                                                                  "CAP_FOWNER",
                                                                  "CAP_FSETID",
                                                                  "CAP_KILL",
                                                                  "CAP_SETGID",
                                                                  "CAP_SETUID",
                                                                  "CAP_SETPCAP",
                                                                  "CAP_LINUX_IMMUTABLE",
                                                                  "CAP_NET_BIND_SERVICE",
                                                                  "CAP_NET_BROADCAST",
                                                                  "CAP_NET_ADMIN",
                                                                  "CAP_NET_RAW",
                                                                  "CAP_IPC_LOCK",
                                                                  "CAP_IPC_OWNER",
                                                                  "CAP_SYS_MODULE",
                                                                  "CAP_SYS_RAWIO",
                                                                  "CAP_SYS_CHROOT",
                                                                  "CAP_SYS_PTRACE",
                                                                  "CAP_SYS_PACCT",
                                                                  "CAP_SYS_ADMIN",
                                                                  "CAP_SYS_BOOT",
                                                                  "CAP_SYS_NICE",
                                                                  "CAP_SYS_RESOURCE",
                                                                  "CAP_SYS_TIME",
                                                                  "CAP_SYS_TTY_CONFIG",
                                                                  "CAP_MKNOD",
                                                                  "CAP_LEASE",
                                                                  "CAP_AUDIT_WRITE",
                                                                  "CAP_AUDIT_CONTROL",
                                                                  "CAP_SETFCAP",
                                                                  "CAP_MAC_OVERRIDE",
                                                                  "CAP_MAC_ADMIN",
                                                                  "CAP_SYSLOG",
                                                                  "CAP_WAKE_ALARM",
                                                                  "CAP_BLOCK_SUSPEND",
                                                                  "CAP_AUDIT_READ",
                                                                  "CAP_PERFMON",
                                                                  "CAP_BPF",
                                                                  "CAP_CHECKPOINT_RESTORE"};

constexpr std::array<std::string_view, 16> kRlimits = {
    "RLIMIT_CPU",      "RLIMIT_FSIZE",  "RLIMIT_DATA",    "RLIMIT_STACK", "RLIMIT_CORE",  "RLIMIT_RSS",
    "RLIMIT_NPROC",    "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",    "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE", "RLIMIT_NICE",   "RLIMIT_RTPRIO",  "RLIMIT_RTTIME"};
}  // namespace

std::optional<int> capability_number(std::string_view name) {
  for (size_t i = 0; i < kCaps.size(); ++i)
    if (kCaps[i] == name) return static_cast<int>(i);
  return std::nullopt;
}

std::string_view capability_name(int n) {
  if (n < 0 || n > kCapMaxKnown) return "";
  return kCaps[static_cast<size_t>(n)];
}

std::optional<int> rlimit_number(std::string_view name) {
  for (size_t i = 0; i < kRlimits.size(); ++i)
    if (kRlimits[i] == name) return static_cast<int>(i);
  return std::nullopt;
}

std::string_view rlimit_name(int n) {
  if (n < 0 || static_cast<size_t>(n) >= kRlimits.size()) return "";
  return kRlimits[static_cast<size_t>(n)];
}

std::optional<int> scheduler_policy(std::string_view n) {
  // SCHED_ISO is reserved by the kernel (4) and refused by sched_setattr, as in runc.
  static const std::pair<std::string_view, int> k[] = {{"SCHED_OTHER", 0},   {"SCHED_FIFO", 1}, {"SCHED_RR", 2},
                                                       {"SCHED_BATCH", 3},   {"SCHED_ISO", 4},  {"SCHED_IDLE", 5},
                                                       {"SCHED_DEADLINE", 6}};
  for (auto& [name, v] : k)
    if (name == n) return v;
  return std::nullopt;
}

std::optional<uint64_t> scheduler_flag(std::string_view n) {
  static const std::pair<std::string_view, uint64_t> k[] = {
      {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},     {"SCHED_FLAG_DL_OVERRUN", 0x04},
      {"SCHED_FLAG_KEEP_POLICY", 0x08},   {"SCHED_FLAG_KEEP_PARAMS", 0x10}, {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
      {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40}};
  for (auto& [name, v] : k)
    if (name == n) return v;
  return std::nullopt;
}

std::optional<int> io_priority_class(std::string_view n) {
  if (n == "IOPRIO_CLASS_RT") return 1;
  if (n == "IOPRIO_CLASS_BE") return 2;
  if (n == "IOPRIO_CLASS_IDLE") return 3;
  return std::nullopt;
}

Result<std::vector<unsigned>> cpu_list(std::string_view s) {
  // Ranges first, merged, then expanded: the result has at most 8192 CPUs however long and
  // overlapping the list ("0-8191,0-8191,..." must not grow with the input).
  std::vector<std::pair<unsigned, unsigned>> ranges;
  auto bad = [&](std::string_view why) {
    return Error::make(Errc::invalid_spec, fmt::format("{:?} is not a cpu list like \"0-3,7\" ({})", s, why));
  };
  size_t i = 0;
  while (i < s.size()) {
    auto num = [&](unsigned& v) {
      size_t b = i;
      v = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - b < 6) v = v * 10 + static_cast<unsigned>(s[i++] - '0');
      return i > b;
    };
    unsigned a = 0, c = 0;
    if (!num(a)) return bad("expected a number");
    c = a;
    if (i < s.size() && s[i] == '-') {
      ++i;
      if (!num(c)) return bad("expected a number after '-'");
      if (c < a) return bad("descending range");
    }
    if (c >= 8192) return bad("cpu number too large");
    ranges.emplace_back(a, c);
    if (i < s.size()) {
      if (s[i] != ',' || i + 1 == s.size()) return bad("expected ','");
      ++i;
    }
  }
  std::sort(ranges.begin(), ranges.end());
  std::vector<unsigned> out;
  unsigned next = 0;  // first CPU not yet in `out`
  for (auto [a, c] : ranges)
    for (unsigned x = std::max(a, next); x <= c; ++x) out.push_back(x), next = x + 1;
  return out;
}

const std::vector<DefaultDevice>& default_devices() {
  static const std::vector<DefaultDevice> d = {{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
                                               {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
  return d;
}

nlohmann::ordered_json default_config(bool rootless, bool cgroup_ns) {
  using oj = nlohmann::ordered_json;
  oj caps = oj::array({"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
  oj c;
  c["ociVersion"] = kOciVersion;
  c["process"] = {
      {"terminal", true},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", oj::array({"sh"})},
      {"env", oj::array({"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"})},
      {"cwd", "/"},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
      {"rlimits", oj::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
      {"noNewPrivileges", true}};
  c["root"] = {{"path", "rootfs"}, {"readonly", true}};
  c["hostname"] = "husk";
  oj mounts = oj::array();
  mounts.push_back({{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}});
  mounts.push_back({{"destination", "/dev"},
                    {"type", "tmpfs"},
                    {"source", "tmpfs"},
                    {"options", oj::array({"nosuid", "strictatime", "mode=755", "size=65536k"})}});
  oj pts_opts = oj::array({"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"});
  if (!rootless) pts_opts.push_back("gid=5");
  mounts.push_back({{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"}, {"options", pts_opts}});
  mounts.push_back({{"destination", "/dev/shm"},
                    {"type", "tmpfs"},
                    {"source", "shm"},
                    {"options", oj::array({"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"})}});
  mounts.push_back({{"destination", "/dev/mqueue"},
                    {"type", "mqueue"},
                    {"source", "mqueue"},
                    {"options", oj::array({"nosuid", "noexec", "nodev"})}});
  if (rootless) {
    mounts.push_back({{"destination", "/sys"},
                      {"type", "none"},
                      {"source", "/sys"},
                      {"options", oj::array({"rbind", "nosuid", "noexec", "nodev", "ro"})}});
  } else {
    mounts.push_back({{"destination", "/sys"},
                      {"type", "sysfs"},
                      {"source", "sysfs"},
                      {"options", oj::array({"nosuid", "noexec", "nodev", "ro"})}});
  }
  // runc's default (rootless too) mounts the container's cgroups read-only.
  mounts.push_back({{"destination", "/sys/fs/cgroup"},
                    {"type", "cgroup"},
                    {"source", "cgroup"},
                    {"options", oj::array({"nosuid", "noexec", "nodev", "relatime", "ro"})}});
  c["mounts"] = mounts;
  oj lin;
  if (rootless) {
    lin["uidMappings"] = oj::array({{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}});
    lin["gidMappings"] = oj::array({{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}});
  } else {
    lin["resources"] = {{"devices", oj::array({{{"allow", false}, {"access", "rwm"}}})}};
  }
  // runc's rootless spec drops the network namespace (no way to configure one unprivileged).
  oj ns =
      rootless
          ? oj::array({{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}})
          : oj::array(
                {{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}});
  // As runc: a cgroup namespace only on a pure cgroup v2 host (with v1 controllers the
  // container would see its own v1 paths differently from what engines expect).
  if (cgroup_ns) ns.push_back({{"type", "cgroup"}});
  if (rootless) ns.push_back({{"type", "user"}});
  lin["namespaces"] = ns;
  lin["maskedPaths"] =
      oj::array({"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                 "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"});
  lin["readonlyPaths"] = oj::array({"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"});
  c["linux"] = lin;
  return c;
}

}  // namespace husk::spec
