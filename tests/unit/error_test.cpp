#include <catch2/catch.hpp>

#include "husk/core/error.hpp"
#include "husk/core/path.hpp"

using namespace husk;

static Result<int> half(int x) {
  if (x % 2) return Error::make(Errc::invalid_argument, "odd");
  return x / 2;
}
static Result<int> quarter(int x) {
  TRY_ASSIGN(int h, half(x));
  TRY_ASSIGN(int q, half(h).context("second half"));
  return q;
}

TEST_CASE("Result propagates values and errors with context") {
  REQUIRE(*quarter(8) == 2);
  auto r = quarter(6);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "second half: odd");
  CHECK(r.error().code() == Errc::invalid_argument);
}

TEST_CASE("Error::sys captures errno and describes it") {
  errno = ENOENT;
  auto e = Error::sys("open /x");
  errno = 0;
  CHECK(e.sys_errno() == ENOENT);
  CHECK(e.describe() == "open /x: No such file or directory");
  CHECK(std::move(e).context("mount").message() == "mount: open /x");
}

TEST_CASE("path helpers") {
  CHECK(path::clean("/a//b/./c/../d") == "/a/b/d");
  CHECK(path::clean("/../../etc") == "/etc");
  CHECK(path::join("/a/", "/b") == "/a/b");
  CHECK(path::is_within("/sys/fs/cgroup", "/sys/fs/cgroup/memory"));
  CHECK_FALSE(path::is_within("/sys/fs/cgroup", "/sys/fs/cgroupx"));
  CHECK(path::dirname("/dev/net/tun") == "/dev/net");
  CHECK(path::basename("/dev/net/tun") == "tun");
}
