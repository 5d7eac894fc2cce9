// ladle/core/random_simd.hpp (detail): many Philox-4x32-10 blocks at once.
//
// philox_blocks(g, first, count, out) writes the blocks first, first + 1, ... of g's stream
// exactly as g.block_at would: out[4 b + w] == g.block_at(first + b)[w], on every ISA. The
// vector paths run one block per 32-bit lane (16 on AVX-512, 8 on AVX2, 4 on SSE2); the
// 32x32 -> 64 products come from two even-lane multiplies (_mm*_mul_epu32), which every x86
// vector ISA has. Lanes are given counters in the order that makes the in-register 4x4
// transpose store the blocks consecutively. Counters whose low word would wrap inside one
// vector are done by the scalar block instead, so the carry into the high word is the scalar's.
#pragma once

#include "ladle/core/random.hpp"
#include "ladle/core/simd.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ladle {
namespace detail {

inline void philox_blocks_scalar(const philox& g, std::uint64_t first, std::size_t count,
                                 std::uint32_t* out) noexcept {
  for (std::size_t b = 0; b < count; ++b) {
    const auto blk = g.block_at(first + b);
    std::memcpy(out + 4 * b, blk.data(), sizeof blk);
  }
}

#if LADLE_HAS_SIMD && (defined(__AVX512F__) || defined(__AVX2__) || defined(__SSE2__))

// The few integer operations the rounds need, per register width.
#  if defined(__AVX512F__)
struct philox_isa {
  using reg = __m512i;
  static constexpr int lanes = 16;
  static reg set1(std::uint32_t x) noexcept { return _mm512_set1_epi32(static_cast<int>(x)); }
  static reg load(const std::uint32_t* p) noexcept { return _mm512_loadu_si512(p); }
  static void store(std::uint32_t* p, reg x) noexcept { _mm512_storeu_si512(p, x); }
  static reg add(reg a, reg b) noexcept { return _mm512_add_epi32(a, b); }
  static reg bxor(reg a, reg b) noexcept { return _mm512_xor_si512(a, b); }
  static reg xor3(reg a, reg b, reg c) noexcept { return _mm512_ternarylogic_epi32(a, b, c, 0x96); }
  /// hi:lo = x * m per 32-bit lane.
  static void mul(reg x, reg m, reg& hi, reg& lo) noexcept {
    const reg even = _mm512_mul_epu32(x, m);
    const reg odd = _mm512_mul_epu32(_mm512_srli_epi64(x, 32), m);
    hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
    lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  }
  static reg unpacklo32(reg a, reg b) noexcept { return _mm512_unpacklo_epi32(a, b); }
  static reg unpackhi32(reg a, reg b) noexcept { return _mm512_unpackhi_epi32(a, b); }
  static reg unpacklo64(reg a, reg b) noexcept { return _mm512_unpacklo_epi64(a, b); }
  static reg unpackhi64(reg a, reg b) noexcept { return _mm512_unpackhi_epi64(a, b); }
};
#  elif defined(__AVX2__)
struct philox_isa {
  using reg = __m256i;
  static constexpr int lanes = 8;
  static reg set1(std::uint32_t x) noexcept { return _mm256_set1_epi32(static_cast<int>(x)); }
  static reg load(const std::uint32_t* p) noexcept {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static void store(std::uint32_t* p, reg x) noexcept {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), x);
  }
  static reg add(reg a, reg b) noexcept { return _mm256_add_epi32(a, b); }
  static reg bxor(reg a, reg b) noexcept { return _mm256_xor_si256(a, b); }
  static reg xor3(reg a, reg b, reg c) noexcept { return bxor(bxor(a, b), c); }
  static void mul(reg x, reg m, reg& hi, reg& lo) noexcept {
    const reg even = _mm256_mul_epu32(x, m);
    const reg odd = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), m);
    hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  }
  static reg unpacklo32(reg a, reg b) noexcept { return _mm256_unpacklo_epi32(a, b); }
  static reg unpackhi32(reg a, reg b) noexcept { return _mm256_unpackhi_epi32(a, b); }
  static reg unpacklo64(reg a, reg b) noexcept { return _mm256_unpacklo_epi64(a, b); }
  static reg unpackhi64(reg a, reg b) noexcept { return _mm256_unpackhi_epi64(a, b); }
};
#  else
struct philox_isa {
  using reg = __m128i;
  static constexpr int lanes = 4;
  static reg set1(std::uint32_t x) noexcept { return _mm_set1_epi32(static_cast<int>(x)); }
  static reg load(const std::uint32_t* p) noexcept {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  }
  static void store(std::uint32_t* p, reg x) noexcept {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), x);
  }
  static reg add(reg a, reg b) noexcept { return _mm_add_epi32(a, b); }
  static reg bxor(reg a, reg b) noexcept { return _mm_xor_si128(a, b); }
  static reg xor3(reg a, reg b, reg c) noexcept { return bxor(bxor(a, b), c); }
  static void mul(reg x, reg m, reg& hi, reg& lo) noexcept {
    const reg even = _mm_mul_epu32(x, m);
    const reg odd = _mm_mul_epu32(_mm_srli_epi64(x, 32), m);
    const reg low_half = _mm_set_epi32(0, -1, 0, -1);
    hi = _mm_or_si128(_mm_srli_epi64(even, 32), _mm_andnot_si128(low_half, odd));
    lo = _mm_or_si128(_mm_and_si128(even, low_half), _mm_slli_epi64(odd, 32));
  }
  static reg unpacklo32(reg a, reg b) noexcept { return _mm_unpacklo_epi32(a, b); }
  static reg unpackhi32(reg a, reg b) noexcept { return _mm_unpackhi_epi32(a, b); }
  static reg unpacklo64(reg a, reg b) noexcept { return _mm_unpacklo_epi64(a, b); }
  static reg unpackhi64(reg a, reg b) noexcept { return _mm_unpackhi_epi64(a, b); }
};
#  endif

/// philox_isa::lanes blocks from counter words (c0 + offset[lane], c1, c2, c3), stored in
/// block order at out (lanes * 4 words).
LADLE_FORCE_INLINE void philox_lanes(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2,
                                     std::uint32_t c3, philox4x32::key_type key,
                                     std::uint32_t* out) noexcept {
  using V = philox_isa;
  using reg = V::reg;
  // Lane l = 4 g + j (g: 128-bit group, j: place in it) takes block groups * j + g: after the
  // per-group 4x4 transpose, register j holds blocks groups * j .. groups * j + groups - 1.
  constexpr int groups = V::lanes / 4;
  alignas(64) std::uint32_t offset[V::lanes];
  for (int l = 0; l < V::lanes; ++l) offset[l] = static_cast<std::uint32_t>(groups * (l % 4) + l / 4);
  reg x0 = V::add(V::set1(c0), V::load(offset)), x1 = V::set1(c1), x2 = V::set1(c2),
      x3 = V::set1(c3);
  const reg m0 = V::set1(0xD2511F53u), m1 = V::set1(0xCD9E8D57u);
  for (int round = 0; round < 10; ++round) {
    reg hi0, lo0, hi1, lo1;
    V::mul(x0, m0, hi0, lo0);
    V::mul(x2, m1, hi1, lo1);
    x0 = V::xor3(hi1, x1, V::set1(key[0]));
    x1 = lo1;
    x2 = V::xor3(hi0, x3, V::set1(key[1]));
    x3 = lo0;
    key[0] += 0x9E3779B9u;
    key[1] += 0xBB67AE85u;
  }
  const reg a = V::unpacklo32(x0, x1), b = V::unpacklo32(x2, x3);
  const reg c = V::unpackhi32(x0, x1), d = V::unpackhi32(x2, x3);
  V::store(out, V::unpacklo64(a, b));
  V::store(out + V::lanes, V::unpackhi64(a, b));
  V::store(out + 2 * V::lanes, V::unpacklo64(c, d));
  V::store(out + 3 * V::lanes, V::unpackhi64(c, d));
}

/// Blocks first .. first + count - 1 of g's stream: out[4 b + w] == g.block_at(first + b)[w].
inline void philox_blocks(const philox& g, std::uint64_t first, std::size_t count,
                          std::uint32_t* out) noexcept {
  constexpr std::size_t lanes = philox_isa::lanes;
  const auto key = g.key();
  const auto c2 = static_cast<std::uint32_t>(g.stream()), c3 = static_cast<std::uint32_t>(g.stream() >> 32);
  std::size_t b = 0;
  for (; b + lanes <= count; b += lanes) {
    const std::uint64_t pos = first + b;
    const auto lo = static_cast<std::uint32_t>(pos);
    if (lo > 0xffffffffu - (lanes - 1)) {  // the low word wraps inside this vector
      philox_blocks_scalar(g, pos, lanes, out + 4 * b);
      continue;
    }
    philox_lanes(lo, static_cast<std::uint32_t>(pos >> 32), c2, c3, key, out + 4 * b);
  }
  philox_blocks_scalar(g, first + b, count - b, out + 4 * b);
}

#else

inline void philox_blocks(const philox& g, std::uint64_t first, std::size_t count,
                          std::uint32_t* out) noexcept {
  philox_blocks_scalar(g, first, count, out);
}

#endif

/// A philox stream read word by word, like philox::operator(), but generated 64 blocks at a
/// time by philox_blocks: the same words in the same order. It starts at g.position(), so g
/// must be at a block boundary (fresh, or just after discard_blocks).
class philox_words {
 public:
  using result_type = std::uint32_t;
  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return 0xffffffffu; }

  explicit philox_words(const philox& g) noexcept : gen_(g), next_(g.position()) {}
  result_type operator()() noexcept {
    if (used_ == words) refill();
    return buf_[used_++];
  }
  std::uint64_t next_u64() noexcept {
    const std::uint64_t lo = (*this)();
    return lo | (std::uint64_t((*this)()) << 32);
  }

 private:
  static constexpr std::size_t blocks = 64, words = 4 * blocks;
  void refill() noexcept {
    philox_blocks(gen_, next_, blocks, buf_);
    next_ += blocks;
    used_ = 0;
  }
  philox gen_;
  std::uint64_t next_;
  std::size_t used_ = words;
  alignas(64) std::uint32_t buf_[words];
};

}  // namespace detail
}  // namespace ladle
