// config.json -> parse (-> exec record and back) -> validate -> plan, as create runs them before touching the host.
#include <cstddef>
#include <cstdint>
#include <string>

#include "husk/spec/exec_record.hpp"
#include "husk/spec/json.hpp"
#include "husk/spec/plan.hpp"
#include "husk/spec/validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace husk;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto s = spec::parse(bytes, "config.json");
  if (!s) return 0;
  // The exec record create saves must load back.
  (void)spec::parse_exec_record(spec::exec_record_json(spec::exec_record(*s)), "exec.json");
  if (!spec::validate(*s)) return 0;
  spec::PlanInputs in;
  in.id = "fuzz";
  in.bundle = "/bundle";
  (void)spec::make_plan(*s, in);
  return 0;
}
