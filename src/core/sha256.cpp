#include "husk/core/sha256.hpp"

#include <cpuid.h>
#include <immintrin.h>

#include <cstring>

namespace husk {
namespace {
constexpr uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

// The CPU's SHA extensions (and the SSSE3/SSE4.1 shuffles the SHA-NI form uses). Asked on
// the first hash, not at start-up: a cpuid is a VM exit under a hypervisor (3.6 us here), and
// only seccomp's cache hashes. (glibc's own start-up answer, <sys/platform/x86.h>, is C and
// does not compile as C++ with clang.)
bool have_sha_ni() {
  static const bool yes = [] {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1)) return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return (b & bit_SHA) != 0;
  }();
  return yes;
}

// Four rounds: the schedule words w (already big-endian lanes) plus K[k..k+3], two rounds per
// sha256rnds2 on the (ABEF, CDGH) state.
__attribute__((target("sha,sse4.1,ssse3"))) inline void rounds4(__m128i& abef, __m128i& cdgh, __m128i w, int k) {
  __m128i wk = _mm_add_epi32(w, _mm_loadu_si128(reinterpret_cast<const __m128i*>(&K[k])));
  cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
  abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
}
}  // namespace

namespace sha256_detail {

void compress_portable(uint32_t h_[8], const uint8_t* p, size_t n) {
  for (; n > 0; --n, p += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i)
      w[i] = uint32_t(p[4 * i]) << 24 | uint32_t(p[4 * i + 1]) << 16 | uint32_t(p[4 * i + 2]) << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; ++i) {
      uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
    for (int i = 0; i < 64; ++i) {
      uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
      uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h_[0] += a, h_[1] += b, h_[2] += c, h_[3] += d, h_[4] += e, h_[5] += f, h_[6] += g, h_[7] += h;
  }
}

// The same compression with the SHA extensions (sha256rnds2/msg1/msg2): the state lives in
// two registers as (A,B,E,F) and (C,D,G,H); the schedule in four, w[g % 4] holding words
// 4g..4g+3 of the group being run.
__attribute__((target("sha,sse4.1,ssse3"))) bool compress_shani(uint32_t h[8], const uint8_t* p, size_t n) {
  if (!have_sha_ni()) return false;
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i dcba = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&h[0]));  // lanes A B C D
  __m128i hgfe = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&h[4]));  // lanes E F G H
  __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);                             // B A D C
  __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);                             // H G F E
  __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);                            // F E B A
  __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);                         // H G D C
  for (; n > 0; --n, p += 64) {
    const __m128i abef0 = abef, cdgh0 = cdgh;
    __m128i w[4];
    for (int g = 0; g < 16; ++g) {
      __m128i& x = w[g % 4];
      if (g < 4) {
        x = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * g)), bswap);
      } else {
        // W[t] = W[t-16] + s0(W[t-15]) + W[t-7] + s1(W[t-2]) for t = 4g..4g+3.
        const __m128i& x1 = w[(g + 1) % 4];
        const __m128i& x2 = w[(g + 2) % 4];
        const __m128i& x3 = w[(g + 3) % 4];
        x = _mm_sha256msg1_epu32(x, x1);
        x = _mm_add_epi32(x, _mm_alignr_epi8(x3, x2, 4));
        x = _mm_sha256msg2_epu32(x, x3);
      }
      rounds4(abef, cdgh, x, 4 * g);
    }
    abef = _mm_add_epi32(abef, abef0);
    cdgh = _mm_add_epi32(cdgh, cdgh0);
  }
  __m128i feba = _mm_shuffle_epi32(abef, 0x1B);  // lanes A B E F
  __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);  // lanes G H C D
  dcba = _mm_blend_epi16(feba, dchg, 0xF0);      // A B C D
  hgfe = _mm_alignr_epi8(dchg, feba, 8);         // E F G H
  _mm_storeu_si128(reinterpret_cast<__m128i*>(&h[0]), dcba);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(&h[4]), hgfe);
  return true;
}

bool accelerated() { return have_sha_ni(); }

}  // namespace sha256_detail

Sha256::Sha256() : h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {}

void Sha256::blocks(const uint8_t* p, size_t n) {
  if (!sha256_detail::compress_shani(h_, p, n)) sha256_detail::compress_portable(h_, p, n);
}

Sha256& Sha256::update(const void* data, size_t len) {
  auto* p = static_cast<const uint8_t*>(data);
  total_ += len;
  if (used_ > 0) {
    size_t n = std::min(len, sizeof buf_ - used_);
    std::memcpy(buf_ + used_, p, n);
    used_ += n;
    p += n;
    len -= n;
    if (used_ < sizeof buf_) return *this;
    blocks(buf_, 1);
    used_ = 0;
  }
  if (size_t whole = len / sizeof buf_; whole > 0) {  // straight from the input, no copy
    blocks(p, whole);
    p += whole * sizeof buf_;
    len -= whole * sizeof buf_;
  }
  std::memcpy(buf_, p, len);
  used_ = len;
  return *this;
}

Sha256& Sha256::field(std::string_view s) {
  field(static_cast<uint64_t>(s.size()));
  return update(s);
}

Sha256& Sha256::field(uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
  return update(b, sizeof b);
}

Sha256::Digest Sha256::finish() {
  uint64_t bits = total_ * 8;
  uint8_t pad = 0x80;
  update(&pad, 1);
  uint8_t zero = 0;
  while (used_ != 56) update(&zero, 1);
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
  update(len, 8);
  Digest d;
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 4; ++j) d[4 * i + j] = static_cast<uint8_t>(h_[i] >> (24 - 8 * j));
  return d;
}

std::string Sha256::hex(const Digest& d) {
  static const char* x = "0123456789abcdef";
  std::string s;
  for (auto b : d) {
    s += x[b >> 4];
    s += x[b & 15];
  }
  return s;
}

}  // namespace husk
