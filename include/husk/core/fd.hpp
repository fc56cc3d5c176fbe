// UniqueFd and fd passing over unix sockets.
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "husk/core/error.hpp"

namespace husk {

// Owns one fd; the destructor only closes it, so it is safe in a child (docs/design.md §4).
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct FdPair {
  UniqueFd first, second;
};

// socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC)
Result<FdPair> make_seqpacket_pair();

// One message: payload bytes plus at most kMaxFdsPerMessage fds as SCM_RIGHTS.
inline constexpr size_t kMaxFdsPerMessage = 16;
Result<void> send_with_fds(int sock, std::span<const char> payload, std::span<const int> fds);
// One recvmsg into `buf` (EINTR retried) and the fds it carries (SCM_RIGHTS, received
// close-on-exec; at most kMaxFdsPerMessage). `truncated`: the payload or the fds did not
// fit. len 0 is EOF on a SOCK_SEQPACKET socket.
struct RecvFds {
  size_t len = 0;
  std::vector<UniqueFd> fds;
  bool truncated = false;
};
Result<RecvFds> recv_fds(int sock, std::span<char> buf);
// One message and the first fd it carries (SCM_RIGHTS, received close-on-exec).
struct Received {
  std::string payload;
  UniqueFd fd;
};
Result<Received> recv_with_fd(int sock, size_t max_payload = 65536);

Result<std::string> read_file(const std::string& path);
Result<std::string> read_file_at(int dirfd, const std::string& path);
// Writes the whole buffer to an existing file (no O_CREAT): cgroup, proc and sys files.
Result<void> write_file(const std::string& path, std::string_view data);
Result<void> write_file_at(int dirfd, const std::string& path, std::string_view data);
// <path>.tmp (O_EXCL|O_NOFOLLOW: fails "file exists" if anything is there) + fsync + rename.
// `sync`: fsync before the rename (a machine crash leaves the old or the new file); without
// it the rename is still atomic for every reader and for a killed writer.
Result<void> write_file_atomic(const std::string& path, std::string_view data, unsigned mode, bool sync = true);
Result<void> write_all(int fd, std::string_view data);

}  // namespace husk
