// config.json <-> spec::Spec. nlohmann exceptions are caught here only; errors name the
// JSON pointer of the bad field: "config.json: /process/args/0: must be a string".
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "husk/core/error.hpp"
#include "husk/spec/model.hpp"

namespace husk::spec {

Result<Spec> parse(std::string_view bytes, std::string_view source = "config.json");
// An OCI linux.resources object on its own (`update --resources`).
Result<Resources> parse_resources(std::string_view bytes, std::string_view source);
Result<Process> parse_process(std::string_view bytes, std::string_view source);
Result<Hooks> parse_hooks(const nlohmann::json& j);
nlohmann::json hooks_to_json(const Hooks& h);

}  // namespace husk::spec
