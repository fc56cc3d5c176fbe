// config.json -> parse -> validate -> plan, as create runs them before touching the host.
#include <cstddef>
#include <cstdint>
#include <string>

#include "husk/spec/json.hpp"
#include "husk/spec/plan.hpp"
#include "husk/spec/validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace husk;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string exec_subset;
  auto s = spec::parse(bytes, "config.json", &exec_subset);
  if (!s) return 0;
  if (!spec::validate(*s)) return 0;
  spec::PlanInputs in;
  in.id = "fuzz";
  in.bundle = "/bundle";
  (void)spec::make_plan(*s, in);
  return 0;
}
