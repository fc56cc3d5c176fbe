#include "husk/core/fd.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace husk {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<FdPair> make_seqpacket_pair() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return Error::sys("socketpair");
  return FdPair{UniqueFd(sv[0]), UniqueFd(sv[1])};
}

Result<void> send_with_fds(int sock, std::span<const char> payload, std::span<const int> fds) {
  iovec iov{const_cast<char*>(payload.data()), payload.size()};
  char dummy = 0;
  if (payload.empty()) iov = {&dummy, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char buf[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  if (fds.size() > kMaxFdsPerMessage) return Error::make(Errc::internal, "too many fds in one message");
  if (!fds.empty()) {
    msg.msg_control = buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  while (::sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return Error::sys("sendmsg");
  }
  return {};
}

Result<RecvFds> recv_fds(int sock, std::span<char> buf) {
  iovec iov{buf.data(), buf.size()};
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = cbuf;
  mh.msg_controllen = sizeof cbuf;
  ssize_t n;
  // A peer that exits with messages of ours unread makes the next recvmsg on a
  // SOCK_SEQPACKET socket fail once with ECONNRESET (the datagram path reports the socket
  // error before its queue), while what the peer sent (a child's last error) is still
  // queued: read on once.
  bool reset_seen = false;
  while ((n = ::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno == ECONNRESET && !reset_seen) {
      reset_seen = true;
      continue;
    }
    if (errno != EINTR) return Error::sys("recvmsg");
  }
  RecvFds r;
  r.len = static_cast<size_t>(n);
  r.truncated = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < cnt; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      r.fds.emplace_back(fd);
    }
  }
  return r;
}

Result<Received> recv_with_fd(int sock, size_t max_payload) {
  std::string buf(max_payload, '\0');
  TRY_ASSIGN(auto m, recv_fds(sock, buf));
  Received r;
  buf.resize(m.len);
  r.payload = std::move(buf);
  if (!m.fds.empty()) r.fd = std::move(m.fds.front());
  return r;
}

Result<void> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::sys("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

static Result<std::string> read_fd_all(int fd) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::sys("read");
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> read_file_at(int dirfd, const std::string& path) {
  UniqueFd fd(::openat(dirfd, path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::sys("open " + path);
  return read_fd_all(fd.get()).context(path);
}

Result<std::string> read_file(const std::string& path) { return read_file_at(AT_FDCWD, path); }

Result<void> write_file_at(int dirfd, const std::string& path, std::string_view data) {
  UniqueFd fd(::openat(dirfd, path.c_str(), O_WRONLY | O_CLOEXEC | O_TRUNC));
  if (!fd) return Error::sys("open " + path);
  // cgroup and proc files take one write(2); report the kernel's errno for it.
  ssize_t n = ::write(fd.get(), data.data(), data.size());
  if (n < 0) return Error::sys("write " + path);
  return {};
}

Result<void> write_file(const std::string& path, std::string_view data) { return write_file_at(AT_FDCWD, path, data); }

Result<void> write_file_atomic(const std::string& path, std::string_view data, unsigned mode, bool sync) {
  std::string tmp = path + ".tmp";
  // O_EXCL|O_NOFOLLOW: never write through something planted at the temp name (runc:
  // "file exists"); fsync before the rename so a crash leaves the old or the new file.
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd) return Error::sys("create " + tmp);
  if (auto r = write_all(fd.get(), data); !r) {
    ::unlink(tmp.c_str());
    return std::move(r).error().context(tmp);
  }
  if (sync && ::fsync(fd.get()) < 0) {
    auto e = Error::sys("fsync " + tmp);
    ::unlink(tmp.c_str());
    return e;
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    auto e = Error::sys("rename " + tmp + " to " + path);
    ::unlink(tmp.c_str());
    return e;
  }
  return {};
}

}  // namespace husk
