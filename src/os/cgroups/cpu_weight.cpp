#include "husk/os/cgroups/cpu_weight.hpp"

#include <cmath>

namespace husk::os::cgroups {

uint64_t cpu_shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  double l = std::log2(static_cast<double>(shares));
  // weight = 10^((l^2 + 125 l) / 612 - 7/34): 1 at l = 1, 100 at l = 10, 10000 at l = 18.
  double exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
  return static_cast<uint64_t>(std::ceil(std::pow(10.0, exponent)));
}

}  // namespace husk::os::cgroups
