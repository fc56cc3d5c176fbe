// P's side of the sync protocol with its children (os/sync.hpp), shared by create and
// exec, and the other messages P sends out: --pid-file, --pidfd-socket, the seccomp
// listener, the OCI state hooks receive.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include <nlohmann/json.hpp>

#include "husk/core/path.hpp"
#include "husk/os/console.hpp"
#include "husk/os/syscall.hpp"
#include "husk/spec/defaults.hpp"
#include "husk/spec/oci_state.hpp"
#include "lifecycle.hpp"

namespace husk::runtime {

using os::sync::Channel;
using os::sync::ExpectedSequence;
using os::sync::Msg;
using os::sync::MsgType;

Result<void> write_pid_file(const std::string& file, pid_t pid) {
  std::string abs = file;
  if (file[0] != '/') {
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof cwd)) return Error::sys("getcwd");
    abs = path::join(cwd, file);
  }
  // Atomic for its readers (the engine reads it as soon as create returns), not synced:
  // the pid it names does not outlive a machine crash, and on a disk (podman keeps it in
  // its storage) an fsync costs create a millisecond (crun does not sync it either).
  return write_file_atomic(abs, std::to_string(pid), 0644, /*sync=*/false).context("pid file");
}

Result<void> send_pidfd(const std::string& socket, pid_t pid) {
  UniqueFd fd(os::sys_pidfd_open(pid, 0));
  if (!fd) return Error::sys("pidfd_open");
  TRY_ASSIGN(auto sock, os::console::connect_socket(socket).context("--pidfd-socket"));
  int fds[1] = {fd.get()};
  return send_with_fds(sock.get(), std::string_view("pidfd"), fds).context("send a pidfd to --pidfd-socket");
}

std::string hook_state(const state::State& st, std::string_view status, int pid) {
  return spec::oci_state_json(state::oci_state(st, status, pid));
}

// The next protocol message from a child, re-emitting its logs; `error` becomes our error.
Result<std::optional<Msg>> next_msg(Channel& ch, ExpectedSequence& seq, std::string_view who) {
  for (;;) {
    TRY_ASSIGN(auto m, ch.recv());
    if (!m) {
      if (!seq.done()) return Error::make(Errc::protocol, fmt::format("{} exited before it was ready", who));
      return std::optional<Msg>{};
    }
    if (m->type == MsgType::log) {
      if (!m->payload.empty()) {
        auto level = static_cast<log::Level>(m->payload[0]);
        if (log::enabled(level)) log::emit(level, m->payload.substr(1));
      }
      continue;
    }
    if (m->type == MsgType::error) return Error::from_wire(m->err, m->payload);
    TRY(seq.accept(m->type));
    return m;
  }
}

// A send fails when the child has already died (EPIPE and kin); its `error` message is
// then waiting in the socket and is the one worth reporting. Any other failure (ENOMEM,
// ENOBUFS...) leaves a live child waiting for this very message: reading would block.
Result<void> send_to(Channel& ch, std::string_view who, MsgType t, std::string_view payload, std::span<const int> fds) {
  auto r = ch.send(t, payload, fds);
  if (r) return {};
  const int e = r.error().sys_errno();
  if (e != EPIPE && e != ECONNRESET && e != ECONNREFUSED && e != ENOTCONN) return std::move(r).error().context(who);
  for (;;) {
    auto m = ch.recv();
    if (!m || !*m) break;
    if ((*m)->type == MsgType::error) return Error::from_wire((*m)->err, (*m)->payload);
  }
  return std::move(r).error().context(who);
}

// SCMP_ACT_NOTIFY: the listener fd and the container's process state go to listenerPath
// in one message, as runc sends them (runtime-spec "containerProcessState").
Result<void> send_seccomp_listener(const spec::Seccomp& sc, const state::State& st, std::string_view status, pid_t init,
                                   pid_t pid, int fd) {
  TRY_ASSIGN(auto sock, os::console::connect_socket(*sc.listener_path).context("seccomp listenerPath"));
  nlohmann::json state = nlohmann::json::parse(hook_state(st, status, init));
  nlohmann::json msg = {{"ociVersion", spec::kOciVersion}, {"fds", {"seccompFd"}}, {"pid", pid}, {"state", state}};
  if (sc.listener_metadata && !sc.listener_metadata->empty()) msg["metadata"] = *sc.listener_metadata;
  std::string text = msg.dump();
  int fds[1] = {fd};
  return send_with_fds(sock.get(), text, fds).context("send the seccomp listener fd to " + *sc.listener_path);
}

}  // namespace husk::runtime
