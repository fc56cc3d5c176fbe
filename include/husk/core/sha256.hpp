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
  void blocks(const uint8_t* p, size_t n);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t used_ = 0;
  uint64_t total_ = 0;
};

// The compression function over n 64-byte blocks, in both forms (the unit test checks one
// against the other). compress_shani uses the CPU's SHA extensions and returns false,
// having done nothing, on a CPU without them; Sha256 picks it when it can.
namespace sha256_detail {
void compress_portable(uint32_t h[8], const uint8_t* p, size_t n);
bool compress_shani(uint32_t h[8], const uint8_t* p, size_t n);
bool accelerated();
}  // namespace sha256_detail

}  // namespace husk
