#include "husk/os/console.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "husk/os/rootfs.hpp"
#include "husk/os/syscall.hpp"

namespace husk::os::console {

Result<UniqueFd> connect_socket(const std::string& path) {
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return Error::sys("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return Error::make(Errc::invalid_argument, "--console-socket: path too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return Error::sys(fmt::format("connect to console socket {}", path));
  return s;
}

Result<void> apply_console(int sock, const std::optional<spec::ConsoleSize>& size, bool mount_console) {
  UniqueFd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) return Error::sys("open /dev/ptmx");
  int unlock = 0;
  if (::ioctl(master.get(), TIOCSPTLCK, &unlock) < 0) return Error::sys("unlock pty");
  int n = 0;
  if (::ioctl(master.get(), TIOCGPTN, &n) < 0) return Error::sys("get pty number");
  UniqueFd slave(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) return Error::sys("open pty peer");
  if (size && size->height && size->width) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    if (::ioctl(slave.get(), TIOCSWINSZ, &ws) < 0) return Error::sys("set console size");
  }
  if (mount_console) {
    // Bound from the peer fd itself, never by path (CVE-2025-52565).
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    // /dev/console itself is never followed: a symlink or a directory there is refused.
    TRY_ASSIGN(auto dev, rootfs::ensure_in_root(root.get(), "/dev", true));
    TRY_ASSIGN(auto target, rootfs::ensure_file_at(dev.get(), "console", "/dev/console"));
    TRY_ASSIGN(auto tree, clone_tree(slave.get(), "", false));
    TRY(attach_tree(tree.get(), target.get(), "/dev/console"));
  }
  std::string name = fmt::format("/dev/pts/{}", n);
  int fds[1] = {master.get()};
  TRY(send_with_fds(sock, name, fds).context("send pty master to the console socket"));
  master.reset();
  if (::ioctl(slave.get(), TIOCSCTTY, 0) < 0) return Error::sys("set controlling terminal");
  for (int i = 0; i < 3; ++i)
    if (::dup3(slave.get(), i, 0) < 0) return Error::sys("dup pty to stdio");
  return {};
}

Result<UniqueFd> recv_master(int sock) {
  TRY_ASSIGN(auto m, recv_with_fd(sock, 256).context("receive pty master"));
  if (!m.fd) return Error::make(Errc::protocol, "console: no pty master received");
  return std::move(m.fd);
}

Result<Ends> open_ends(bool terminal, const std::string& console_socket) {
  Ends e;
  if (!terminal) return e;
  if (!console_socket.empty()) {
    TRY_ASSIGN(e.console, connect_socket(console_socket));
    return e;
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return Error::sys("socketpair");
  e.console.reset(sv[0]);
  e.peer.reset(sv[1]);
  return e;
}

}  // namespace husk::os::console
