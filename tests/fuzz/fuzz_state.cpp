// The state.json loader (what state/kill/exec/delete/list read back).
#include <cstddef>
#include <cstdint>
#include <string>

#include "husk/state/store.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace husk;
  auto s = state::state_from_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (s) (void)state::to_json(*s);  // what loads must save again
  return 0;
}
