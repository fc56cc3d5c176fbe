// spec::validate: a list of small checks. Strict checks fail with an error naming the
// field; warn-only checks return their messages.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "husk/core/error.hpp"
#include "husk/spec/model.hpp"

namespace husk::spec {

Result<void> check_container_id(std::string_view id);
Result<void> check_root(const Spec& s);
Result<void> check_process(const Spec& s, std::vector<std::string>* warnings = nullptr);
// A process object (config.json's, or exec's --process file); `where` is the JSON path
// prefix of its fields ("config.json: /process", "p.json: ").
// Unknown capability names are appended to `warnings` (when given), never an error.
Result<void> check_process_object(const Process& p, std::string_view where,
                                  std::vector<std::string>* warnings = nullptr);
Result<void> check_namespaces(const Spec& s);
Result<void> check_userns_maps(const Spec& s);
Result<void> check_mounts(const Spec& s);
Result<void> check_sysctl(const Spec& s);
Result<void> check_devices(const Spec& s);
Result<void> check_cgroups_path(const Spec& s);
Result<void> check_hooks(const Spec& s);
Result<void> check_unsupported(const Spec& s);

// Runs every check; returns warnings on success.
Result<std::vector<std::string>> validate(const Spec& s);
// linux.resources on its own (create and `update`); `where` prefixes the field path.
Result<void> check_resources(const Resources& r, const std::string& where);

// Namespace type name -> CLONE_NEW* flag (0 if unknown).
int namespace_flag(std::string_view type);
// CLONE_NEW* flag -> /proc/<pid>/ns/<name>
std::string_view namespace_proc_name(int flag);

}  // namespace husk::spec
