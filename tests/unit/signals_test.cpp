#include <catch2/catch.hpp>
#include <csignal>

#include "husk/spec/oci_state.hpp"

using husk::spec::parse_signal;

TEST_CASE("signals: names with and without SIG, any case, and numbers") {
  CHECK(*parse_signal("KILL") == SIGKILL);
  CHECK(*parse_signal("SIGTERM") == SIGTERM);
  CHECK(*parse_signal("hup") == SIGHUP);
  CHECK(*parse_signal("9") == 9);
  CHECK(*parse_signal("RTMIN+2") == SIGRTMIN + 2);
  CHECK_FALSE(parse_signal("NOPE"));
  CHECK(*parse_signal("0") == 0);  // kill ID 0: "is it alive?", accepted by runc
  CHECK_FALSE(parse_signal("99999"));
}

TEST_CASE("oci state JSON has the spec's keys") {
  husk::spec::OciState s{"1.2.0", "c1", "created", "/b", 42, {{"a", "b"}}};
  CHECK(husk::spec::oci_state_json(s) ==
        R"({"ociVersion":"1.2.0","id":"c1","status":"created","pid":42,"bundle":"/b","annotations":{"a":"b"}})");
}
