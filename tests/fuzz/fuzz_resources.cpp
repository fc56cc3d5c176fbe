// update --resources: an OCI linux.resources object, parsed and checked.
#include <cstddef>
#include <cstdint>
#include <string>

#include "husk/spec/json.hpp"
#include "husk/spec/validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace husk;
  auto r = spec::parse_resources(std::string_view(reinterpret_cast<const char*>(data), size), "--resources");
  if (r) (void)spec::check_resources(*r, "--resources");
  return 0;
}
