#include "helpers.hpp"

#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "husk/core/fd.hpp"

namespace it {

std::string status_field(const std::string& status, const std::string& key) {
  auto p = status.find("\n" + key + ":\t");
  if (p == std::string::npos) return "";
  p += key.size() + 3;
  return status.substr(p, status.find('\n', p) - p);
}

std::string cgroup_dir(const Bundle& b, const std::string& v1_controller) {
  return cgroup_v1_host() ? "/sys/fs/cgroup/" + v1_controller + b.cgroup : "/sys/fs/cgroup" + b.cgroup;
}

int unix_listener(const std::string& path, int backlog) {
  int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(s, backlog) < 0) {
    ::close(s);
    return -1;
  }
  return s;
}

ConsoleSocket::ConsoleSocket(const std::string& p) : path(p) {
  ls = unix_listener(path, 1);
  t = std::thread([this] {
    int c = ::accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    auto got = husk::recv_with_fd(c, 255);
    ::close(c);
    if (!got || !got->fd) return;
    name = got->payload;
    int master = got->fd.release();
    char buf[512];
    ssize_t n;
    while ((n = ::read(master, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    ::close(master);
  });
}

ConsoleSocket::~ConsoleSocket() {
  ::shutdown(ls, SHUT_RDWR);
  join();
  ::close(ls);
  ::unlink(path.c_str());
}

void answer_notifications(int fd, int err, const std::atomic<bool>* stop, int idle_ms, std::atomic<int>* answered) {
  constexpr int kTickMs = 100;
  int idle = 0;
  while (!(stop && *stop)) {
    pollfd q{fd, POLLIN, 0};
    int n = ::poll(&q, 1, kTickMs);
    if (n < 0 || (q.revents & (POLLHUP | POLLERR))) break;
    if (n == 0) {
      idle += kTickMs;
      if (idle_ms >= 0 && idle >= idle_ms) break;
      continue;
    }
    idle = 0;
    seccomp_notif req{};
    if (::ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) continue;
    seccomp_notif_resp resp{};
    resp.id = req.id;
    resp.error = -err;
    if (::ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0 && answered) ++*answered;
  }
  ::close(fd);
}

nlohmann::json status_hook(const std::string& log, const std::string& name, const std::string& tail,
                           const std::string& after) {
  return {{"path", "/bin/sh"},
          {"args",
           {"sh", "-c",
            "read -r s; st=$(echo \"$s\" | sed 's/.*\"status\":\"\\([a-z]*\\)\".*/\\1/'); echo " + name + " $st" +
                tail + " >> " + log + after}}};
}

}  // namespace it
