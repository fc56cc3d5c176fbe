#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include "husk/os/sync.hpp"

using namespace husk;
using namespace husk::os::sync;

static std::pair<Channel, Channel> pair() {
  auto p = make_seqpacket_pair();
  REQUIRE(p);
  return {Channel(std::move(p->first)), Channel(std::move(p->second))};
}

TEST_CASE("sync: header + payload round trip over a real socketpair") {
  auto [a, b] = pair();
  REQUIRE(a.send_init_pid(4242));
  auto m = b.recv();
  REQUIRE(m);
  REQUIRE(m->has_value());
  CHECK((*m)->type == MsgType::init_pid);
  int pid;
  std::memcpy(&pid, (*m)->payload.data(), sizeof pid);
  CHECK(pid == 4242);
}

TEST_CASE("sync: fds travel with the message") {
  auto [a, b] = pair();
  UniqueFd f(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  int fds[1] = {f.get()};
  REQUIRE(a.send(MsgType::seccomp_listener_fd, "x", fds));
  auto m = b.recv();
  REQUIRE(m);
  REQUIRE((*m)->fds.size() == 1);
  struct stat s1, s2;
  ::fstat(f.get(), &s1);
  ::fstat((*m)->fds[0].get(), &s2);
  CHECK(s1.st_ino == s2.st_ino);
  CHECK((::fcntl((*m)->fds[0].get(), F_GETFD) & FD_CLOEXEC) != 0);
}

TEST_CASE("sync: errors carry errno and message; logs carry level") {
  auto [a, b] = pair();
  errno = EPERM;
  a.send_error(Error::sys("mount proc on /proc"));
  a.send_log(log::Level::warning, "careful");
  auto e = b.recv();
  CHECK((*e)->type == MsgType::error);
  CHECK((*e)->err == EPERM);
  CHECK(Error::from_wire((*e)->err, (*e)->payload).describe() == "mount proc on /proc: Operation not permitted");
  auto l = b.recv();
  CHECK((*l)->type == MsgType::log);
  CHECK(static_cast<log::Level>((*l)->payload[0]) == log::Level::warning);
}

TEST_CASE("sync: EOF and truncation") {
  auto [a, b] = pair();
  std::string big(kMaxPayload + 100, 'x');
  REQUIRE(a.send(MsgType::log, big));  // payloads are bounded: cut, not overflowed
  auto m = b.recv();
  CHECK((*m)->payload.size() == kMaxPayload);
  a.close();
  auto eof = b.recv();
  REQUIRE(eof);
  CHECK_FALSE(eof->has_value());
}

TEST_CASE("sync: wait_for rejects the wrong message") {
  auto [a, b] = pair();
  REQUIRE(a.send(MsgType::ready));
  auto r = b.wait_for(MsgType::continue_);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "sync: expected continue, got ready");
}

TEST_CASE("sync: ExpectedSequence enforces order and optional steps") {
  ExpectedSequence s({{MsgType::hooks_request, true}, {MsgType::ready, false}});
  CHECK_FALSE(s.done());
  CHECK(s.accept(MsgType::ready));
  CHECK(s.done());
  CHECK_FALSE(s.accept(MsgType::hooks_request));

  ExpectedSequence t({{MsgType::hooks_request, true}, {MsgType::ready, false}});
  CHECK(t.accept(MsgType::hooks_request));
  CHECK_FALSE(t.accept(MsgType::init_pid));
  CHECK(t.accept(MsgType::ready));
}
