#include "husk/os/sync.hpp"

#include <fmt/format.h>
#include <sys/socket.h>

#include <cstring>

namespace husk::os::sync {

std::string_view to_string(MsgType t) {
  switch (t) {
    case MsgType::map_ids_request:
      return "map_ids_request";
    case MsgType::map_ids_done:
      return "map_ids_done";
    case MsgType::init_pid:
      return "init_pid";
    case MsgType::continue_:
      return "continue";
    case MsgType::hooks_request:
      return "hooks_request";
    case MsgType::hooks_done:
      return "hooks_done";
    case MsgType::seccomp_listener_fd:
      return "seccomp_listener_fd";
    case MsgType::ready:
      return "ready";
    case MsgType::run:
      return "run";
    case MsgType::log:
      return "log";
    case MsgType::error:
      return "error";
    case MsgType::seccomp_listener_done:
      return "seccomp_listener_done";
  }
  return "unknown";
}

Result<void> Channel::send(MsgType t, std::string_view payload, std::span<const int> fds, int32_t err) {
  if (payload.size() > kMaxPayload) payload = payload.substr(0, kMaxPayload);
  char buf[sizeof(MsgHeader) + kMaxPayload];
  MsgHeader h{t, err, static_cast<uint32_t>(payload.size())};
  std::memcpy(buf, &h, sizeof h);
  if (!payload.empty()) std::memcpy(buf + sizeof h, payload.data(), payload.size());  // data() may be null
  return send_with_fds(fd_.get(), std::span<const char>(buf, sizeof h + payload.size()), fds)
      .context(fmt::format("sync: send {}", to_string(t)));
}

Result<std::optional<Msg>> Channel::recv() {
  char buf[sizeof(MsgHeader) + kMaxPayload];
  TRY_ASSIGN(auto r, recv_fds(fd_.get(), buf).context("sync"));
  size_t n = r.len;
  Msg m;
  m.fds = std::move(r.fds);
  if (n == 0) return std::optional<Msg>{};
  if (r.truncated) return Error::make(Errc::protocol, "sync: message truncated");
  if (n < sizeof(MsgHeader)) return Error::make(Errc::protocol, "sync: short message");
  MsgHeader h;
  std::memcpy(&h, buf, sizeof h);
  if (h.len != n - sizeof h) return Error::make(Errc::protocol, "sync: bad payload length");
  if (h.type < MsgType::map_ids_request || h.type > MsgType::seccomp_listener_done)
    return Error::make(Errc::protocol, fmt::format("sync: unknown message type {}", static_cast<uint32_t>(h.type)));
  m.type = h.type;
  m.err = h.err;
  m.payload.assign(buf + sizeof h, h.len);
  return std::optional<Msg>(std::move(m));
}

Result<void> Channel::send_init_pid(int pid) {
  return send(MsgType::init_pid, std::string_view(reinterpret_cast<const char*>(&pid), sizeof pid));
}

void Channel::send_error(const Error& e) { (void)send(MsgType::error, e.message(), {}, e.sys_errno()); }

void Channel::send_log(log::Level l, std::string_view msg) {
  std::string p(1, static_cast<char>(l));
  p += msg;
  (void)send(MsgType::log, p);
}

Result<Msg> Channel::wait_msg(MsgType want) {
  TRY_ASSIGN(auto m, recv());
  if (!m)
    return Error::make(Errc::protocol,
                       fmt::format("sync: parent closed the channel while we waited for {}", to_string(want)));
  if (m->type != want)
    return Error::make(Errc::protocol, fmt::format("sync: expected {}, got {}", to_string(want), to_string(m->type)));
  return std::move(*m);
}

Result<void> Channel::wait_for(MsgType want) {
  TRY(wait_msg(want));
  return {};
}

Result<void> ExpectedSequence::accept(MsgType t) {
  size_t i = pos_;
  while (i < steps_.size()) {
    if (steps_[i].type == t) {
      pos_ = i + 1;
      return {};
    }
    if (!steps_[i].optional) break;
    ++i;
  }
  std::string want = pos_ < steps_.size() ? std::string(to_string(steps_[pos_].type)) : "end of stream";
  return Error::make(Errc::protocol, fmt::format("sync: unexpected message {} (expected {})", to_string(t), want));
}

bool ExpectedSequence::done() const {
  for (size_t i = pos_; i < steps_.size(); ++i)
    if (!steps_[i].optional) return false;
  return true;
}

}  // namespace husk::os::sync
