// LSM labels (AppArmor, SELinux) and the session keyring.
#include "husk/os/lsm.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/keyctl.h>

#include <cstring>

#include "husk/core/log.hpp"

namespace husk::os::lsm {

bool apparmor_enabled() {
  auto v = read_file("/sys/module/apparmor/parameters/enabled");
  return v && !v->empty() && (*v)[0] == 'Y';
}
bool selinux_enabled() {
  struct stat st;
  return ::stat("/sys/fs/selinux/enforce", &st) == 0;
}
Result<void> apply_exec_labels(const procfs::Handle& proc, const std::optional<std::string>& apparmor,
                               const std::optional<std::string>& selinux) {
  if (apparmor && !apparmor->empty()) {
    if (!apparmor_enabled())
      return Error::make(
          Errc::unsupported,
          fmt::format("apparmorProfile {:?} requested, but AppArmor is not enabled on this host", *apparmor));
    auto r = proc.write("thread-self/attr/apparmor/exec", "exec " + *apparmor);
    if (!r) TRY(proc.write("thread-self/attr/exec", "exec " + *apparmor).context("set AppArmor profile"));
  }
  if (selinux && !selinux->empty()) {
    if (!selinux_enabled()) {
      log::debug("selinuxLabel {:?} ignored: SELinux is not enabled", *selinux);
    } else {
      TRY(proc.write("thread-self/attr/exec", *selinux).context("set SELinux label"));
    }
  }
  return {};
}
void label_mounts(std::vector<spec::MountOp>& mounts, const std::string& label) {
  for (auto& m : mounts) {
    if (m.bind || m.type == "proc" || m.type == "sysfs" || m.type == "cgroup" || m.type == "cgroup2" ||
        m.type == "mqueue")
      continue;
    std::string opt = fmt::format("context=\"{}\"", label);
    m.opts.data = m.opts.data.empty() ? opt : m.opts.data + "," + opt;
  }
}

Result<void> join_session_keyring(const std::string& id) {
  std::string name = "_ses." + id;
  if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.c_str()) < 0) {
    if (errno == ENOSYS || errno == EACCES) {
      log::debug("session keyring not created: {}", std::strerror(errno));
      return {};
    }
    return Error::sys("join session keyring");
  }
  return {};
}

}  // namespace husk::os::lsm
