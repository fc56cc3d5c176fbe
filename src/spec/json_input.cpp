#include "husk/spec/json_input.hpp"

#include <charconv>
#include <cstdint>

#include <fmt/format.h>

namespace husk::spec {

size_t json_depth(std::string_view bytes, size_t limit) {
  size_t depth = 0, max = 0;
  bool in_str = false, esc = false;
  for (char c : bytes) {
    if (in_str) {
      if (esc)
        esc = false;
      else if (c == '\\')
        esc = true;
      else if (c == '"')
        in_str = false;
      continue;
    }
    switch (c) {
      case '"':
        in_str = true;
        break;
      case '[':
      case '{':
        if (++depth > max) {
          max = depth;
          if (max > limit) return max;
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return max;
}

Result<nlohmann::json> parse_json(std::string_view bytes, std::string_view source) {
  if (json_depth(bytes) > kMaxJsonDepth)
    return Error::make(Errc::invalid_spec,
                       fmt::format("{}: invalid JSON: exceeded max depth {}", source, kMaxJsonDepth));
  try {
    return nlohmann::json::parse(bytes.begin(), bytes.end());
  } catch (const nlohmann::json::parse_error& e) {
    return Error::make(Errc::invalid_spec, fmt::format("{}: invalid JSON at byte {}", source, e.byte));
  } catch (const nlohmann::json::exception& e) {
    // out_of_range.406 "number overflow parsing '1e400'" and the like: keep the reason.
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
    return Error::make(Errc::invalid_spec, fmt::format("{}: invalid JSON: {}", source, what));
  } catch (const std::bad_alloc&) {
    return Error::make(Errc::invalid_spec, fmt::format("{}: too large", source));
  }
}

bool plain_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  return true;
}

namespace {

// The compact form, byte for byte what nlohmann's dump(-1) writes, for the records husk
// writes on every create (state, recovery, exec): nlohmann decodes every byte of every
// string as UTF-8; here a plain_ascii string is copied, and anything else (an escape,
// non-ASCII, a float, binary) is nlohmann's own dump.

template <class J>
std::string nlohmann_dump(const J& j, int indent) {
  return j.dump(indent, ' ', false, J::error_handler_t::replace);
}

template <class J>
void put_string(std::string& out, const std::string& s) {
  if (plain_ascii(s)) {
    out += '"';
    out += s;
    out += '"';
  } else {
    out += nlohmann_dump(J(s), -1);
  }
}

void put_number(std::string& out, auto v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

template <class J>
void put_compact(std::string& out, const J& j) {
  using T = typename J::value_t;
  switch (j.type()) {
    case T::object: {
      out += '{';
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out += ',';
        first = false;
        put_string<J>(out, it.key());
        out += ':';
        put_compact(out, it.value());
      }
      out += '}';
      return;
    }
    case T::array: {
      out += '[';
      bool first = true;
      for (const auto& e : j) {
        if (!first) out += ',';
        first = false;
        put_compact(out, e);
      }
      out += ']';
      return;
    }
    case T::string:
      return put_string<J>(out, j.template get_ref<const std::string&>());
    case T::boolean:
      out += j.template get<bool>() ? "true" : "false";
      return;
    case T::null:
      out += "null";
      return;
    case T::number_integer:
      return put_number(out, j.template get<int64_t>());
    case T::number_unsigned:
      return put_number(out, j.template get<uint64_t>());
    default:  // float, binary, discarded: nlohmann's own form
      out += nlohmann_dump(j, -1);
      return;
  }
}

template <class J>
std::string dump_any(const J& j, int indent) {
  if (indent >= 0) return nlohmann_dump(j, indent);
  std::string out;
  out.reserve(1024);
  put_compact(out, j);
  return out;
}

}  // namespace

std::string dump_json(const nlohmann::json& j, int indent) { return dump_any(j, indent); }

std::string dump_json(const nlohmann::ordered_json& j, int indent) { return dump_any(j, indent); }

bool valid_utf8(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else
      return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

std::string hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

std::optional<std::string> unhex(std::string_view h) {
  if (h.size() % 2) return std::nullopt;
  auto v = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < h.size(); i += 2) {
    int a = v(h[i]), b = v(h[i + 1]);
    if (a < 0 || b < 0) return std::nullopt;
    out += static_cast<char>(a * 16 + b);
  }
  return out;
}

void put_bytes(nlohmann::ordered_json& j, const std::string& key, const std::string& v) {
  j[key] = v;
  if (!valid_utf8(v)) j[key + "Hex"] = hex(v);
}

}  // namespace husk::spec
