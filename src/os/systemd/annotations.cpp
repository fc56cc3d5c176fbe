// org.systemd.property.<Name> annotations -> unit properties. runc parses the value as a
// GVariant text literal (godbus ParseVariant); husk reads the common forms of that syntax:
// strings, booleans, numbers with or without a type, arrays of strings or numbers.
#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

#include "husk/os/systemd/props.hpp"

namespace husk::os::systemd {
namespace {

struct Parser {
  std::string_view s;
  size_t i = 0;
  std::string err;

  void skip() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
  }
  bool eat(char c) {
    skip();
    if (i < s.size() && s[i] == c) return ++i, true;
    return false;
  }
  bool fail(std::string m) {
    if (err.empty()) err = std::move(m);
    return false;
  }
  std::string_view word() {
    skip();
    size_t b = i;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '@' || s[i] == '(' ||
                            s[i] == ')' || s[i] == '-' || s[i] == '+' || s[i] == '.'))
      ++i;
    return s.substr(b, i - b);
  }

  // A type annotation: "uint64", "@t", ... -> a one-letter D-Bus type or "as"-like, or "".
  std::string type_prefix() {
    static const std::pair<std::string_view, std::string_view> names[] = {
        {"boolean", "b"}, {"byte", "y"},   {"int16", "n"},  {"uint16", "q"}, {"int32", "i"},      {"uint32", "u"},
        {"int64", "x"},   {"uint64", "t"}, {"double", "d"}, {"string", "s"}, {"objectpath", "o"}, {"signature", "g"}};
    skip();
    size_t save = i;
    auto w = word();
    if (w.starts_with("@")) return std::string(w.substr(1));
    for (auto& [n, t] : names)
      if (w == n) return std::string(t);
    i = save;
    return "";
  }

  bool string_lit(std::string& out) {
    skip();
    if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) return false;
    char q = s[i++];
    while (i < s.size() && s[i] != q) {
      char c = s[i++];
      if (c == '\\' && i < s.size()) {
        char e = s[i++];
        c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
      }
      out += c;
    }
    if (i >= s.size()) return fail("unterminated string");
    ++i;
    return true;
  }

  // A number as type t ("" = untyped: int32, or double with '.'/'e').
  bool number(std::string_view t, Value& out) {
    auto w = word();
    if (w.empty()) return fail("expected a value");
    if (t.empty()) t = w.find_first_of(".eE") != std::string_view::npos ? "d" : "i";
    if (t == "d") {
      std::string tmp(w);
      char* end = nullptr;
      double d = std::strtod(tmp.c_str(), &end);
      if (*end != 0) return fail(fmt::format("bad number {:?}", w));
      return out = d, true;
    }
    if (w.starts_with('+')) w.remove_prefix(1);
    auto parse = [&]<class T>(T) {
      T v{};
      auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
      if (ec != std::errc() || p != w.data() + w.size()) return fail(fmt::format("{:?} is not a valid {}", w, t));
      out = v;
      return true;
    };
    if (t == "y") return parse(uint8_t{});
    if (t == "n") return parse(int16_t{});
    if (t == "q") return parse(uint16_t{});
    if (t == "i") return parse(int32_t{});
    if (t == "u") return parse(uint32_t{});
    if (t == "x") return parse(int64_t{});
    if (t == "t") return parse(uint64_t{});
    return fail(fmt::format("type {:?} is not supported", t));
  }

  template <class T>
  static bool push_as(std::vector<Value>& items, Value& out) {
    std::vector<T> v;
    for (auto& x : items) {
      if (!std::holds_alternative<T>(x)) return false;
      v.push_back(std::get<T>(x));
    }
    out = std::move(v);
    return true;
  }

  // [a, b, ...] with element type `elem` ("" = inferred from the first element).
  bool array(std::string elem, Value& out) {
    std::vector<Value> items;
    if (!eat(']')) {
      do {
        Value v;
        if (!scalar(elem, v)) return false;
        if (elem.empty()) elem = signature(v);  // the first element types the rest
        items.push_back(std::move(v));
      } while (eat(','));
      if (!eat(']')) return fail("expected ']'");
    }
    if (elem.empty()) return fail("an empty array needs a type (@as [])");
    bool done = elem == "s"   ? push_as<std::string>(items, out)
                : elem == "y" ? push_as<uint8_t>(items, out)
                : elem == "u" ? push_as<uint32_t>(items, out)
                : elem == "i" ? push_as<int32_t>(items, out)
                : elem == "t" ? push_as<uint64_t>(items, out)
                              : fail(fmt::format("arrays of {:?} are not supported", elem));
    return done || fail("array elements of different types");
  }

  bool scalar(std::string t, Value& out) {
    if (t.empty()) t = type_prefix();
    skip();
    if (i >= s.size()) return fail("expected a value");
    if (t.starts_with("a")) {
      if (!eat('[')) return fail("expected '['");
      return array(t.substr(1), out);
    }
    if (s[i] == '[') {
      if (!t.empty()) return fail(fmt::format("an array is not a {:?}", t));
      ++i;
      return array("", out);
    }
    if (s[i] == '\'' || s[i] == '"') {
      if (!t.empty() && t != "s") return fail(fmt::format("a string is not a {:?}", t));
      std::string str;
      if (!string_lit(str)) return false;
      return out = std::move(str), true;
    }
    size_t save = i;
    auto w = word();
    if (w == "true" || w == "false") {
      if (!t.empty() && t != "b") return fail(fmt::format("a boolean is not a {:?}", t));
      return out = (w == "true"), true;
    }
    i = save;
    if (t == "b" || t == "s") return fail(fmt::format("expected a {}", t == "b" ? "boolean" : "string"));
    return number(t, out);
  }
};

Error bad_annotation(std::string_view key, std::string_view why) {
  return Error::make(Errc::invalid_spec, fmt::format("annotation {}: {}", key, why));
}

// runc's Sec -> USec: TimeoutStopSec=5 means TimeoutStopUSec=5000000.
std::optional<uint64_t> seconds_to_usec(const Value& v) {
  constexpr uint64_t M = 1000000;
  return std::visit(
      [&](auto&& x) -> std::optional<uint64_t> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, double>)
          return static_cast<uint64_t>(x * M);
        else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
          return static_cast<uint64_t>(x) * M;
        else
          return std::nullopt;
      },
      v);
}

}  // namespace

Result<Value> parse_gvariant(std::string_view text) {
  Parser p{text};
  Value v;
  if (!p.scalar("", v)) return Error::make(Errc::invalid_spec, p.err.empty() ? "invalid value" : p.err);
  p.skip();
  if (p.i != text.size()) return Error::make(Errc::invalid_spec, fmt::format("unexpected {:?}", text.substr(p.i)));
  return v;
}

Result<Properties> annotation_properties(const std::map<std::string, std::string>& annotations) {
  constexpr std::string_view prefix = "org.systemd.property.";
  Properties ps;
  for (auto& [key, text] : annotations) {
    if (!key.starts_with(prefix)) continue;
    std::string name = key.substr(prefix.size());
    if (name.size() < 3) return bad_annotation(key, "property name too short");
    for (char c : name)
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
        return bad_annotation(key, "property name contains a non-alphabetic character");
    auto v = parse_gvariant(text);
    if (!v) return bad_annotation(key, fmt::format("value {:?}: {}", text, v.error().message()));
    if (name.size() > 3 && name.ends_with("Sec") && name[name.size() - 4] >= 'a' && name[name.size() - 4] <= 'z') {
      auto us = seconds_to_usec(*v);
      if (!us) return bad_annotation(key, fmt::format("value {:?}: not a number", text));
      name = name.substr(0, name.size() - 3) + "USec";
      *v = *us;
    }
    ps.push_back({name, std::move(*v)});
  }
  return ps;
}

}  // namespace husk::os::systemd
