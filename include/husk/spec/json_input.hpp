// The JSON boundary for every document husk reads (config.json, an exec --process file,
// update --resources, state.json) and writes: bounded nesting, every nlohmann exception
// turned into a one-line error naming the source, and output that never throws on a string
// that is not UTF-8 (a bundle path is bytes).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "husk/core/error.hpp"

namespace husk::spec {

// Go's encoding/json (runc) refuses documents nested deeper than this.
inline constexpr size_t kMaxJsonDepth = 10000;

// The deepest nesting of arrays and objects in `bytes` (strings skipped), stopping early
// once it passes `limit`. Linear, no recursion.
size_t json_depth(std::string_view bytes, size_t limit = kMaxJsonDepth);

// Parses `bytes`; errors: "<source>: invalid JSON at byte N", "<source>: exceeded max depth
// 10000", "<source>: number overflow parsing '1e400'" (Errc::invalid_spec).
Result<nlohmann::json> parse_json(std::string_view bytes, std::string_view source);

// j.dump() with invalid UTF-8 replaced by U+FFFD (as Go's encoding/json does), never throws.
std::string dump_json(const nlohmann::json& j, int indent = -1);
std::string dump_json(const nlohmann::ordered_json& j, int indent = -1);

// True if `s` is printable ASCII without quote or backslash: nlohmann's compact dump writes
// it as it is, between quotes (the direct writers of dump_json and the state records rely
// on this).
bool plain_ascii(std::string_view s);

// True if `s` is valid UTF-8.
bool valid_utf8(std::string_view s);

// Paths are bytes: one that is not UTF-8 (runc runs such a bundle) is kept exactly in
// "<key>Hex" beside its U+FFFD-replaced display form (the state file does this).
void put_bytes(nlohmann::ordered_json& j, const std::string& key, const std::string& v);
std::string hex(std::string_view s);
std::optional<std::string> unhex(std::string_view h);

}  // namespace husk::spec
