// The parent/child sync protocol: one SOCK_SEQPACKET socketpair per child, every message
// a fixed binary header plus a bounded payload; fds ride on the same message (SCM_RIGHTS).
//
//   P (husk create)                     S (stage 1)                    C (container init)
//   ---------------                     -----------                    ------------------
//   clone3 S ------------------------->
//                                       setns, unshare(user)
//                      <--------------- map_ids_request   (only with a new user namespace)
//   write uid_map/gid_map
//   map_ids_done --------------------->
//   mkdir the cgroups                   unshare the rest, clone C ---> mounts start
//                      <--------------- init_pid {pid}
//   reap S; join C, set limits
//   continue_ {state JSON} -------------------------------------------> (before a cgroup
//                                                                      mount or the end of
//                                                                      the mounts): cgroupns
//                                                                      remaining mounts, devices
//                      <-------------------------------------------- hooks_request (if hooks)
//   prestart + createRuntime hooks
//   hooks_done -------------------------------------------------------->
//                                                                      pivot_root ... resolve exe
//                      <-------------------------------------------- ready
//   rlimits, state.json, pid-file
//   run --------------------------------------------------------------->
//                                                                      seccomp (NNP false), user,
//                                                                      caps, cwd, NNP
//                      <-------------------------------------------- seccomp_listener_fd {fd}
//                                                                      (SCMP_ACT_NOTIFY only)
//   send the fd + state to listenerPath
//   seccomp_listener_done --------------------------------------------->
//                                                                      close
//                      <-------------------------------------------- EOF = success
//
//   The "sync N" comments in runtime/create.cpp, stage1.cpp and init.cpp number these
//   points: 1 clone; 2 id maps; 3 namespaces, init_pid; 4 continue_ (C in its cgroups);
//   5 mounts and devices; 6 hooks; 7 pivot_root and /proc writes; 8 ready (P: rlimits,
//   state.json); 9 run: privileges and seccomp; 10 EOF.
//
//   Any child may send `log` (re-emitted by P) at any time and `error` instead of the next
//   message; P turns `error` into its own Error and fails the create.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/core/fd.hpp"
#include "husk/core/log.hpp"

namespace husk::os::sync {

enum class MsgType : uint32_t {
  map_ids_request = 1,
  map_ids_done,
  init_pid,
  continue_,
  hooks_request,
  hooks_done,
  seccomp_listener_fd,
  ready,
  run,
  log,
  error,
  seccomp_listener_done,
};
std::string_view to_string(MsgType t);

struct MsgHeader {
  MsgType type;
  int32_t err;
  uint32_t len;
};
inline constexpr size_t kMaxPayload = 4096;

struct Msg {
  MsgType type{};
  int32_t err = 0;
  std::string payload;
  std::vector<UniqueFd> fds;
};

class Channel {
 public:
  Channel() = default;
  explicit Channel(UniqueFd fd) : fd_(std::move(fd)) {}
  int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }

  Result<void> send(MsgType t, std::string_view payload = {}, std::span<const int> fds = {}, int32_t err = 0);
  // nullopt on EOF.
  Result<std::optional<Msg>> recv();

  // Child side, intent-named.
  Result<void> request_id_maps() { return send(MsgType::map_ids_request); }
  Result<void> send_init_pid(int pid);
  Result<void> request_hooks() { return send(MsgType::hooks_request); }
  Result<void> ready() { return send(MsgType::ready); }
  // Sends `error` with errno and message chain (best effort).
  void send_error(const Error& e);
  void send_log(log::Level l, std::string_view msg);
  // Waits for `want`; forwards nothing (children receive no logs).
  Result<void> wait_for(MsgType want);
  Result<Msg> wait_msg(MsgType want);

 private:
  UniqueFd fd_;
};

// Order checker for P's receive loop: each message must be one of the types allowed at
// its position; optional steps may be skipped.
class ExpectedSequence {
 public:
  struct Step {
    MsgType type;
    bool optional;
  };
  explicit ExpectedSequence(std::vector<Step> steps) : steps_(std::move(steps)) {}
  // Accepts `t` if it is the next step (skipping optional ones before it).
  Result<void> accept(MsgType t);
  bool done() const;  // every required step seen

 private:
  std::vector<Step> steps_;
  size_t pos_ = 0;
};

// Logs sent from a child through the channel, so they reach P in order.
class ChannelSink final : public log::Sink {
 public:
  explicit ChannelSink(Channel& ch) : ch_(ch) {}
  void write(log::Level level, std::string_view msg) override { ch_.send_log(level, msg); }

 private:
  Channel& ch_;
};

}  // namespace husk::os::sync
