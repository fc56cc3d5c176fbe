#include <unistd.h>
#include <catch2/catch.hpp>

#include "husk/os/process.hpp"
#include "husk/state/status.hpp"

using namespace husk::state;

TEST_CASE("status is derived from facts") {
  CHECK(derive_status({false, true, false, true}) == Status::stopped);  // dead init, fifo left over
  CHECK(derive_status({true, true, false, true}) == Status::created);
  CHECK(derive_status({true, false, false, true}) == Status::running);
  CHECK(derive_status({true, false, true, true}) == Status::paused);
  CHECK(derive_status({true, true, true, true}) == Status::paused);
  // An unfinished record: creating while its create runs (holds the lock), else stopped,
  // whether or not its init still lives.
  CHECK(derive_status({true, false, false, false, true}) == Status::creating);
  CHECK(derive_status({false, false, false, false, true}) == Status::creating);
  CHECK(derive_status({true, true, false, false, false}) == Status::stopped);
  CHECK(derive_status({false, false, false, false, false}) == Status::stopped);
  CHECK(to_string(Status::running) == "running");
}

TEST_CASE("status predicates") {
  CHECK(can_start(Status::created));
  CHECK_FALSE(can_start(Status::running));
  CHECK(can_kill(Status::running));
  CHECK_FALSE(can_kill(Status::stopped));
  CHECK(can_delete(Status::stopped));
  CHECK_FALSE(can_delete(Status::running));
}

TEST_CASE("liveness uses pid and start time") {
  auto st = husk::os::process::proc_stat(::getpid());
  REQUIRE(st);
  CHECK(husk::os::process::is_alive(::getpid(), st->start_time));
  CHECK_FALSE(husk::os::process::is_alive(::getpid(), st->start_time + 1));  // pid reused
  CHECK_FALSE(husk::os::process::is_alive(0, 0));
}
