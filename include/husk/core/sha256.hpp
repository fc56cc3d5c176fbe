// SHA-256 (FIPS 180-4), incremental. Used to key and check the compiled-seccomp cache;
// no crypto library is linked for one hash.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace husk {

class Sha256 {
 public:
  using Digest = std::array<uint8_t, 32>;
  Sha256();
  Sha256& update(const void* data, size_t len);
  Sha256& update(std::string_view s) { return update(s.data(), s.size()); }
  // A length-prefixed field: distinct field lists never hash the same.
  Sha256& field(std::string_view s);
  Sha256& field(uint64_t v);
  Digest finish();
  static std::string hex(const Digest& d);

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t used_ = 0;
  uint64_t total_ = 0;
};

}  // namespace husk
