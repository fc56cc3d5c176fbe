// The foreground of `run` and `exec`: signals forwarded to the process, a terminal
// proxied when we hold its master, the process reaped and its exit code returned.
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "husk/core/fd.hpp"
#include "husk/core/log.hpp"
#include "lifecycle.hpp"

namespace husk::runtime {

// Signals a foreground run forwards to the container (everything but the ones that
// cannot be caught or that concern us).
sigset_t forwarded_signals() {
  sigset_t s;
  sigfillset(&s);
  for (int x : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS}) sigdelset(&s, x);
  return s;
}

void clear_onlcr(int master) {
  termios t{};
  if (master < 0 || ::tcgetattr(master, &t) < 0) return;
  t.c_oflag &= ~static_cast<tcflag_t>(ONLCR);
  ::tcsetattr(master, TCSANOW, &t);
}

int wait_foreground(pid_t init, int master) {
  // As runc: the user's terminal is raw, so the container's pty must not turn "\n" into
  // "\r\n" itself (else the output has CRLF line ends when captured).
  clear_onlcr(master);
  sigset_t set = forwarded_signals();
  int sfd = ::signalfd(-1, &set, SFD_CLOEXEC);
  termios saved{};
  bool raw = master >= 0 && ::isatty(0) && ::tcgetattr(0, &saved) == 0;
  if (raw) {
    termios t = saved;
    ::cfmakeraw(&t);
    // Output processing of the user's terminal stays as it was (runc 1.1.5 observed: its
    // raw mode leaves "\n" -> "\r\n" to the user's terminal, the container's pty has
    // ONLCR cleared, so a pipe gets "\n" and a terminal "\r\n"; tests/compat tty-onlcr*).
    t.c_oflag = saved.c_oflag;
    ::tcsetattr(0, TCSANOW, &t);
    winsize ws{};
    if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
  }
  int code = -1;
  bool in_open = master >= 0;
  char buf[8192];
  while (code < 0) {
    pollfd fds[3] = {{sfd, POLLIN, 0}, {master, POLLIN, 0}, {in_open ? 0 : -1, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      log::error("wait for pid {}: poll: {}", init, std::strerror(errno));  // else 255 and no word
      break;
    }
    if (fds[1].revents & POLLIN) {
      ssize_t n = ::read(master, buf, sizeof buf);
      if (n > 0) (void)write_all(1, std::string_view(buf, static_cast<size_t>(n)));
    }
    if (fds[1].revents & (POLLHUP | POLLERR) && !(fds[1].revents & POLLIN)) fds[1].fd = -1, master = -1;
    if (fds[2].revents & (POLLIN | POLLHUP)) {
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n <= 0) {
        in_open = false;  // as runc: stop copying; nothing is injected into the pty
      } else if (master >= 0) {
        (void)write_all(master, std::string_view(buf, static_cast<size_t>(n)));
      }
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si;
      if (::read(sfd, &si, sizeof si) != sizeof si) continue;
      int sig = static_cast<int>(si.ssi_signo);
      if (sig == SIGCHLD) {
        int st;
        pid_t p;
        while ((p = ::waitpid(-1, &st, WNOHANG)) > 0 || (p < 0 && errno == EINTR))
          if (p == init) code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      } else if (sig == SIGWINCH && master >= 0) {
        winsize ws{};
        if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
      } else {
        ::kill(init, sig);
      }
    }
  }
  // Drain what the terminal still holds.
  if (master >= 0) {
    pollfd f{master, POLLIN, 0};
    while (::poll(&f, 1, 0) > 0 && (f.revents & POLLIN)) {
      ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) break;
      (void)write_all(1, std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  if (raw) ::tcsetattr(0, TCSANOW, &saved);
  ::close(sfd);
  return code < 0 ? 255 : code;
}

}  // namespace husk::runtime
