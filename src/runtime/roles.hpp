// The P/S/C/T roles (docs/design.md §4). Internal to the runtime library.
//
// Child-safety rules for S and C:
//  1. P stays single-threaded until the last clone, so allocation in the child is safe.
//  2. stage1_main and init_main are [[noreturn]] noexcept and end in _exit(): P's
//     destructors, atexit handlers and RAII guards never run in a child's copy.
//  3. Everything possible is opened in P before the clone (namespace fds, the fifo as
//     O_PATH, the console socket, the BPF); the child runs syscalls on fds.
//  4. PR_SET_PDEATHSIG(SIGKILL) in S and C while P is driving them.
//  5. No NSS: the container's /etc/passwd is parsed by hand after pivot_root.
//  6. Every fd is O_CLOEXEC; close_range(3 + preserve_fds, ~0, CLOEXEC) before exec.
//  7. Our own binary: S and C are non-dumpable, and C refuses to exec our own inode.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "husk/core/fd.hpp"
#include "husk/os/mempolicy.hpp"
#include "husk/os/namespaces.hpp"
#include "husk/os/rootfs.hpp"
#include "husk/os/seccomp.hpp"
#include "husk/os/sync.hpp"
#include "husk/spec/plan.hpp"

namespace husk::runtime {

// Everything S and C need, prepared by P before clone. C gets it as S's copy.
struct ChildContext {
  const spec::ContainerPlan* plan = nullptr;
  std::optional<os::seccomp::Bpf> bpf;
  std::vector<os::ns::OpenedNs> joins;
  os::sync::Channel to_parent_s;             // S's end of the P<->S pair
  os::sync::Channel to_parent_c;             // C's end of the P<->C pair
  int fifo_fd = -1;                          // exec.fifo, O_PATH
  int console_fd = -1;                       // connected --console-socket, or -1
  int parent_fds_c = -1, parent_fds_s = -1;  // P's ends, closed in the children
  int lock_fd = -1;                          // P's flock on the state dir: a child's copy would keep it held
  bool parent_fds_closed = false;            // set by the first child that closed P's fds
  os::rootfs::Context rootfs;
  dev_t self_dev = 0;
  ino_t self_ino = 0;
  std::string hook_state_json;  // state passed to createContainer/startContainer hooks
  bool in_cgroup = false;       // C: P has joined us to the container's cgroup
  // C joins the v1 hierarchies itself on `continue_`: by path without S, through fds P
  // sends with `continue_` after S (in a user namespace). The v2 one: CLONE_INTO_CGROUP
  // without S, P by pid after S. Empty: P joins C by pid everywhere.
  std::vector<std::string> self_join_v1;
  // Namespaces C creates itself, first thing (no S): a network namespace costs about half
  // a millisecond, which then overlaps P's cgroup work instead of delaying the clone.
  int unshare_in_init = 0;
  // S is dumpable while P writes its id maps: an unprivileged P (or newuidmap acting for
  // it) may open /proc/<S>/uid_map only then. Decided in P: after unshare(CLONE_NEWUSER)
  // S's own getuid() is the overflow id for every caller.
  bool dumpable_for_maps = false;
  std::optional<os::mempolicy::Prepared> mempolicy;  // linux.memoryPolicy, checked against the host's nodes
  // Idmapped mounts, and with a new user namespace the bind mounts: per plan.mounts index,
  // a detached tree P made before the clone (-1: none); C attaches it at that mount's turn.
  std::vector<int> idmapped_trees;
  // netDevices: C asks P (the sync-6 round trip) once its network namespace exists.
  bool netns_request = false;
};

[[noreturn]] void stage1_main(ChildContext& ctx) noexcept;

// T, exec's tenant process (runtime/exec.cpp): what P prepared for it.
struct TenantContext {
  const spec::ExecPlan* plan = nullptr;
  std::optional<os::seccomp::Bpf> bpf;
  os::sync::Channel to_parent;
  int parent_fd = -1, lock_fd = -1;  // P's end and P's lock: closed in T
  int pidfd = -1;                    // the container's init
  pid_t init_pid = 0;
  int ns_flags = 0;                  // namespaces of the init that differ from ours (not pid)
  bool user_ns_joined = false;       // P joined the user namespace (rootless, with the pid one)
  bool oom_inherited = false;        // P set its own oom_score_adj before the clone (rootless)
  int root_fd = -1;                  // the init's root, when its mount namespace is ours
  std::vector<std::string> v1_dirs;  // cgroup directories T moves itself into
  std::string v2_dir;                // only without CLONE_INTO_CGROUP
  int console_fd = -1;
  dev_t self_dev = 0;
  ino_t self_ino = 0;
  std::string id;
  bool no_new_keyring = false;
  int preserve_fds = 0;
  std::optional<os::mempolicy::Prepared> mempolicy;  // the container's linux.memoryPolicy
};
[[noreturn]] void tenant_main(TenantContext& t) noexcept;
// Closes P's ends and lock in a child (once: C may be S's copy).
void close_parent_fds(ChildContext& ctx) noexcept;
// S is needed only to join namespaces, create a user namespace or set time offsets
// before C exists; otherwise P clones C directly with the namespace flags.
bool needs_stage1(const spec::ContainerPlan& p);
[[noreturn]] void init_main(ChildContext& ctx) noexcept;

// cwd (as root first, again after the uid change on EACCES, as runc), then the privilege
// drop: `early_seccomp` (the filter, when it must go in while CAP_SYS_ADMIN is still
// there), bounding set, uid/gid/groups keeping capabilities, then the capability sets.
Result<void> enter_cwd_and_drop_privileges(const spec::ProcessPlan& pp,
                                           const std::function<Result<void>()>& early_seccomp);
// The shared process tail (runtime/process_tail.cpp), in this order for C and T:
// drop_privileges -> [T: the executable looked up as the user] -> arm_for_exec ->
// [C: the sync socket closed] -> exec_process. A SCMP_ACT_NOTIFY filter's listener fd
// goes to P over `to_parent`, and P hands it on to listenerPath.
Result<void> install_seccomp(const os::seccomp::Bpf& bpf, os::sync::Channel& to_parent);
// `mempolicy`: linux.memoryPolicy, set first, for the init and every exec'd process.
Result<void> drop_privileges(const spec::ProcessPlan& pp, const std::optional<os::seccomp::Bpf>& bpf,
                             os::sync::Channel& to_parent, const std::optional<os::mempolicy::Prepared>& mempolicy);
Result<void> arm_for_exec(const spec::ProcessPlan& pp, const std::optional<os::seccomp::Bpf>& bpf,
                          os::sync::Channel& to_parent);
// Returns only on failure; `last_step` runs after the fds are settled, then the late
// (no_new_privileges) seccomp filter and execve. `filter_first` (C, as runc's init): the
// filter goes in before `last_step`, so the startContainer hooks run under it.
Result<void> exec_process(const spec::ProcessPlan& pp, const std::optional<os::seccomp::Bpf>& bpf, int preserve_fds,
                          const std::string& exe, const std::vector<std::string>& env,
                          const std::function<Result<void>()>& last_step, bool filter_first = false);

}  // namespace husk::runtime
