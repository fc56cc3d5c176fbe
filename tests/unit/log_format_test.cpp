#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "husk/core/log.hpp"

using namespace husk::log;

TEST_CASE("log: JSON lines with logrus keys in order") {
  auto line = format_record(Format::json, Level::error, "create: bad \"x\"", "2026-05-01T12:00:00.123456789Z");
  CHECK(line ==
        "{\"level\":\"error\",\"msg\":\"create: bad \\\"x\\\"\",\"time\":\"2026-05-01T12:00:00.123456789Z\"}\n");
  auto j = nlohmann::json::parse(line);
  CHECK(j["msg"] == "create: bad \"x\"");
}

TEST_CASE("log: text is logrus style") {
  CHECK(format_record(Format::text, Level::warning, "a \"b\"", "T") ==
        "time=\"T\" level=warning msg=\"a \\\"b\\\"\"\n");
}

TEST_CASE("log: level names and RFC 3339 time") {
  CHECK(level_name(Level::debug) == "debug");
  CHECK(level_name(Level::warning) == "warning");
  auto t = now_rfc3339();
  CHECK(t.size() == 30);
  CHECK(t.back() == 'Z');
  // Fixed instants, including a leap day and the last nanosecond of a year.
  CHECK(rfc3339({0, 0}) == "1970-01-01T00:00:00.000000000Z");
  CHECK(rfc3339({951782400, 5}) == "2000-02-29T00:00:00.000000005Z");
  CHECK(rfc3339({1700000000, 500000000}) == "2023-11-14T22:13:20.500000000Z");
  CHECK(rfc3339({1798761599, 999999999}) == "2026-12-31T23:59:59.999999999Z");
}
