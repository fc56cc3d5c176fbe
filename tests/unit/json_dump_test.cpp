// spec::dump_json's compact form is byte for byte nlohmann's dump(-1) with invalid UTF-8
// replaced: the records it writes are read by older husks and compared by tests.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "husk/core/fd.hpp"
#include "husk/spec/json_input.hpp"

using husk::spec::dump_json;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

template <class J>
std::string reference(const J& j) {
  return j.dump(-1, ' ', false, J::error_handler_t::replace);
}

// A string from bytes that hit every escaping path: quote, backslash, controls, DEL,
// UTF-8 sequences and bytes that are not UTF-8.
std::string random_string(std::mt19937& rng) {
  static const std::string pieces[] = {"a",    "Z", "/", " ", "\"",   "\\",   "\n",   "\t",  "\x01", "\x1f",
                                       "\x7f", "é", "€", "😀", "\xff", "\xc3", "\x80", "key", "0"};
  std::string s;
  for (int n = std::uniform_int_distribution<int>(0, 6)(rng); n > 0; --n)
    s += pieces[std::uniform_int_distribution<size_t>(0, std::size(pieces) - 1)(rng)];
  return s;
}

template <class J>
J random_value(std::mt19937& rng, int depth) {
  switch (std::uniform_int_distribution<int>(0, depth > 3 ? 6 : 8)(rng)) {
    case 0:
      return nullptr;
    case 1:
      return std::uniform_int_distribution<int>(0, 1)(rng) == 1;
    case 2:
      return std::uniform_int_distribution<int64_t>(std::numeric_limits<int64_t>::min())(rng);
    case 3:
      return std::uniform_int_distribution<uint64_t>()(rng);
    case 4:
      return std::uniform_real_distribution<double>(-1e6, 1e6)(rng);
    case 5:
    case 6:
      return random_string(rng);
    case 7: {
      J a = J::array();
      for (int n = std::uniform_int_distribution<int>(0, 4)(rng); n > 0; --n)
        a.push_back(random_value<J>(rng, depth + 1));
      return a;
    }
    default: {
      J o = J::object();
      for (int n = std::uniform_int_distribution<int>(0, 4)(rng); n > 0; --n)
        o[random_string(rng)] = random_value<J>(rng, depth + 1);
      return o;
    }
  }
}

}  // namespace

TEST_CASE("dump_json: the compact form is nlohmann's, byte for byte") {
  json fixed = {{"id", "c1"},
                {"pid", 0},
                {"neg", -42},
                {"max", std::numeric_limits<uint64_t>::max()},
                {"min", std::numeric_limits<int64_t>::min()},
                {"f", 1.5},
                {"tiny", 1e-300},
                {"negzero", -0.0},
                {"empty", json::object()},
                {"none", json::array()},
                {"t", true},
                {"n", nullptr},
                {"esc", "a\"b\\c\n\x01\x7f é \xff"},
                {"nested", {{"a", {1, 2, {{"b", "c"}}}}}}};
  CHECK(dump_json(fixed) == reference(fixed));
  ordered_json ordered = {{"z", 1}, {"a", {{"y", "x"}, {"b", nullptr}}}};
  CHECK(dump_json(ordered) == reference(ordered));
  CHECK(dump_json(ordered) == R"({"z":1,"a":{"y":"x","b":null}})");
  // An indented dump is nlohmann's own.
  CHECK(dump_json(fixed, 2) == fixed.dump(2, ' ', false, json::error_handler_t::replace));
  // The maximal config, read and written back.
  json config = json::parse(*husk::read_file(std::string(HUSK_TEST_DATA) + "/config-maximal.json"));
  CHECK(dump_json(config) == reference(config));

  std::mt19937 rng(20261201);
  int differ = 0;
  for (int i = 0; i < 3000; ++i) {
    json j = random_value<json>(rng, 0);
    ordered_json o = random_value<ordered_json>(rng, 0);
    if (dump_json(j) != reference(j) || dump_json(o) != reference(o)) {
      ++differ;
      UNSCOPED_INFO("differs: " << reference(j) << " / " << reference(o));
    }
  }
  CHECK(differ == 0);
}
