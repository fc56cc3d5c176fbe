#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "husk/core/log.hpp"

using namespace husk::log;

TEST_CASE("log: JSON lines with logrus keys in order") {
  auto line = format_record(Format::json, Level::error, "create: bad \"x\"", "2026-05-01T12:00:00.123456789Z");
  CHECK(line == "{\"level\":\"error\",\"msg\":\"create: bad \\\"x\\\"\",\"time\":\"2026-05-01T12:00:00.123456789Z\"}\n");
  auto j = nlohmann::json::parse(line);
  CHECK(j["msg"] == "create: bad \"x\"");
}

TEST_CASE("log: text is logrus style") {
  CHECK(format_record(Format::text, Level::warning, "a \"b\"", "T") == "time=\"T\" level=warning msg=\"a \\\"b\\\"\"\n");
}

TEST_CASE("log: level names and RFC 3339 time") {
  CHECK(level_name(Level::debug) == "debug");
  CHECK(level_name(Level::warning) == "warning");
  auto t = now_rfc3339();
  CHECK(t.size() == 30);
  CHECK(t.back() == 'Z');
}
