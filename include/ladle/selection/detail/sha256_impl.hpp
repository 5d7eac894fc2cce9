// Definitions for ladle/selection/sha256.hpp.
#pragma once

#include <cstring>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(LADLE_DISABLE_SHA_NI)
#  define LADLE_SHA_NI_AVAILABLE 1
#  include <cpuid.h>
#  include <immintrin.h>
#else
#  define LADLE_SHA_NI_AVAILABLE 0
#endif

namespace ladle {
namespace detail {

inline std::uint32_t rotr32(std::uint32_t x, int r) noexcept { return (x >> r) | (x << (32 - r)); }

/// Portable compression of `blocks` 64-byte blocks into state.
inline void sha256_blocks_portable(std::uint32_t* state, const std::uint8_t* p,
                                   std::size_t blocks) noexcept {
  for (std::size_t b = 0; b < blocks; ++b, p += 64) {
    std::uint32_t w[64];
    for (int t = 0; t < 16; ++t)
      w[t] = (std::uint32_t(p[4 * t]) << 24) | (std::uint32_t(p[4 * t + 1]) << 16) |
             (std::uint32_t(p[4 * t + 2]) << 8) | std::uint32_t(p[4 * t + 3]);
    for (int t = 16; t < 64; ++t) {
      const std::uint32_t s0 = rotr32(w[t - 15], 7) ^ rotr32(w[t - 15], 18) ^ (w[t - 15] >> 3);
      const std::uint32_t s1 = rotr32(w[t - 2], 17) ^ rotr32(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    std::uint32_t a = state[0], bb = state[1], c = state[2], d = state[3], e = state[4],
                  f = state[5], g = state[6], h = state[7];
    for (int t = 0; t < 64; ++t) {
      const std::uint32_t S1 = rotr32(e, 6) ^ rotr32(e, 11) ^ rotr32(e, 25);
      const std::uint32_t ch = (e & f) ^ (~e & g);
      const std::uint32_t t1 = h + S1 + ch + sha256_k[t] + w[t];
      const std::uint32_t S0 = rotr32(a, 2) ^ rotr32(a, 13) ^ rotr32(a, 22);
      const std::uint32_t maj = (a & bb) ^ (a & c) ^ (bb & c);
      const std::uint32_t t2 = S0 + maj;
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = bb;
      bb = a;
      a = t1 + t2;
    }
    state[0] += a;
    state[1] += bb;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
  }
}

#if LADLE_SHA_NI_AVAILABLE
/// The same compression with the SHA extensions (the register layout of Intel's reference:
/// state as ABEF / CDGH, four rounds per message group, the schedule by sha256msg1/msg2).
__attribute__((target("sha,sse4.1,ssse3"))) inline void sha256_blocks_shani(
    std::uint32_t* state, const std::uint8_t* p, std::size_t blocks) noexcept {
  const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
  __m128i tmp = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state));        // DCBA
  __m128i st1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4));    // HGFE
  tmp = _mm_shuffle_epi32(tmp, 0xB1);                                            // CDAB
  st1 = _mm_shuffle_epi32(st1, 0x1B);                                            // EFGH
  __m128i st0 = _mm_alignr_epi8(tmp, st1, 8);                                    // ABEF
  st1 = _mm_blend_epi16(st1, tmp, 0xF0);                                         // CDGH
  for (std::size_t b = 0; b < blocks; ++b, p += 64) {
    const __m128i abef = st0, cdgh = st1;
    __m128i m[4];
    for (int i = 0; i < 16; ++i) {
      __m128i& cur = m[i % 4];
      if (i < 4)
        cur = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i)), mask);
      const __m128i k = _mm_set_epi32(static_cast<int>(sha256_k[4 * i + 3]),
                                      static_cast<int>(sha256_k[4 * i + 2]),
                                      static_cast<int>(sha256_k[4 * i + 1]),
                                      static_cast<int>(sha256_k[4 * i]));
      __m128i msg = _mm_add_epi32(cur, k);
      st1 = _mm_sha256rnds2_epu32(st1, st0, msg);
      if (i >= 3 && i <= 14) {  // the next group's words
        __m128i& next = m[(i + 1) % 4];
        next = _mm_add_epi32(next, _mm_alignr_epi8(cur, m[(i + 3) % 4], 4));
        next = _mm_sha256msg2_epu32(next, cur);
      }
      msg = _mm_shuffle_epi32(msg, 0x0E);
      st0 = _mm_sha256rnds2_epu32(st0, st1, msg);
      if (i >= 1 && i <= 12) m[(i + 3) % 4] = _mm_sha256msg1_epu32(m[(i + 3) % 4], cur);
    }
    st0 = _mm_add_epi32(st0, abef);
    st1 = _mm_add_epi32(st1, cdgh);
  }
  tmp = _mm_shuffle_epi32(st0, 0x1B);       // FEBA
  st1 = _mm_shuffle_epi32(st1, 0xB1);       // DCHG
  st0 = _mm_blend_epi16(tmp, st1, 0xF0);    // DCBA
  st1 = _mm_alignr_epi8(st1, tmp, 8);       // ABEF -> HGFE order in memory
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), st0);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4), st1);
}

/// ABEF / CDGH registers back to the words A..H.
__attribute__((target("sha,sse4.1,ssse3"))) inline void sha256_store_words(
    __m128i st0, __m128i st1, std::uint32_t* out) noexcept {
  const __m128i tmp = _mm_shuffle_epi32(st0, 0x1B);    // FEBA
  st1 = _mm_shuffle_epi32(st1, 0xB1);                  // DCHG
  const __m128i lo = _mm_blend_epi16(tmp, st1, 0xF0);  // DCBA
  const __m128i hi = _mm_alignr_epi8(st1, tmp, 8);     // HGFE
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), lo);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 4), hi);
}

/// Two independent single-block compressions from the initial state, interleaved so each hides
/// the other's sha256rnds2 latency (DSIR hashes millions of short n-grams). Writes the eight
/// state words (the big-endian digest words) of each.
#  define LADLE_SHA_QROUND(I, ST0, ST1, CUR, NEXT, PREV)                                     \
    {                                                                                        \
      __m128i msg_ = _mm_add_epi32(                                                          \
          CUR, _mm_loadu_si128(reinterpret_cast<const __m128i*>(sha256_k + 4 * (I))));       \
      ST1 = _mm_sha256rnds2_epu32(ST1, ST0, msg_);                                           \
      if ((I) >= 3 && (I) <= 14) {                                                           \
        NEXT = _mm_add_epi32(NEXT, _mm_alignr_epi8(CUR, PREV, 4));                           \
        NEXT = _mm_sha256msg2_epu32(NEXT, CUR);                                              \
      }                                                                                      \
      msg_ = _mm_shuffle_epi32(msg_, 0x0E);                                                  \
      ST0 = _mm_sha256rnds2_epu32(ST0, ST1, msg_);                                           \
      if ((I) >= 1 && (I) <= 12) PREV = _mm_sha256msg1_epu32(PREV, CUR);                     \
    }
#  define LADLE_SHA_QROUND2(I, C, N, P)             \
    LADLE_SHA_QROUND(I, a0, a1, am##C, am##N, am##P) \
    LADLE_SHA_QROUND(I, b0, b1, bm##C, bm##N, bm##P)

__attribute__((target("sha,sse4.1,ssse3"))) inline void sha256_one_block_x2_shani(
    const std::uint8_t* pa, const std::uint8_t* pb, std::uint32_t* out_a,
    std::uint32_t* out_b) noexcept {
  const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
  // The initial state as ABEF / CDGH.
  const __m128i abef0 = _mm_set_epi32(static_cast<int>(sha256_h0[0]), static_cast<int>(sha256_h0[1]),
                                      static_cast<int>(sha256_h0[4]), static_cast<int>(sha256_h0[5]));
  const __m128i cdgh0 = _mm_set_epi32(static_cast<int>(sha256_h0[2]), static_cast<int>(sha256_h0[3]),
                                      static_cast<int>(sha256_h0[6]), static_cast<int>(sha256_h0[7]));
  __m128i a0 = abef0, a1 = cdgh0, b0 = abef0, b1 = cdgh0;
  __m128i am0 = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pa)), mask);
  __m128i am1 = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pa + 16)), mask);
  __m128i am2 = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pa + 32)), mask);
  __m128i am3 = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pa + 48)), mask);
  __m128i bm0 = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pb)), mask);
  __m128i bm1 = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pb + 16)), mask);
  __m128i bm2 = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pb + 32)), mask);
  __m128i bm3 = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(pb + 48)), mask);
  LADLE_SHA_QROUND2(0, 0, 1, 3)
  LADLE_SHA_QROUND2(1, 1, 2, 0)
  LADLE_SHA_QROUND2(2, 2, 3, 1)
  LADLE_SHA_QROUND2(3, 3, 0, 2)
  LADLE_SHA_QROUND2(4, 0, 1, 3)
  LADLE_SHA_QROUND2(5, 1, 2, 0)
  LADLE_SHA_QROUND2(6, 2, 3, 1)
  LADLE_SHA_QROUND2(7, 3, 0, 2)
  LADLE_SHA_QROUND2(8, 0, 1, 3)
  LADLE_SHA_QROUND2(9, 1, 2, 0)
  LADLE_SHA_QROUND2(10, 2, 3, 1)
  LADLE_SHA_QROUND2(11, 3, 0, 2)
  LADLE_SHA_QROUND2(12, 0, 1, 3)
  LADLE_SHA_QROUND2(13, 1, 2, 0)
  LADLE_SHA_QROUND2(14, 2, 3, 1)
  LADLE_SHA_QROUND2(15, 3, 0, 2)
  a0 = _mm_add_epi32(a0, abef0);
  a1 = _mm_add_epi32(a1, cdgh0);
  b0 = _mm_add_epi32(b0, abef0);
  b1 = _mm_add_epi32(b1, cdgh0);
  sha256_store_words(a0, a1, out_a);
  sha256_store_words(b0, b1, out_b);
}
#  undef LADLE_SHA_QROUND2
#  undef LADLE_SHA_QROUND

inline bool cpu_has_sha_ni() noexcept {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool sse41 = (c >> 19) & 1u, ssse3 = (c >> 9) & 1u;
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 0, a, b, c, d);
  return sse41 && ssse3 && ((b >> 29) & 1u);
}
#endif

using sha256_blocks_fn = void (*)(std::uint32_t*, const std::uint8_t*, std::size_t) noexcept;

inline sha256_blocks_fn sha256_blocks_best() noexcept {
#if LADLE_SHA_NI_AVAILABLE
  static const sha256_blocks_fn fn =
      cpu_has_sha_ni() ? &sha256_blocks_shani : &sha256_blocks_portable;
  return fn;
#else
  return &sha256_blocks_portable;
#endif
}

using sha256_one_block_x2_fn = void (*)(const std::uint8_t*, const std::uint8_t*, std::uint32_t*,
                                        std::uint32_t*) noexcept;

inline void sha256_one_block_x2_portable(const std::uint8_t* pa, const std::uint8_t* pb,
                                         std::uint32_t* out_a, std::uint32_t* out_b) noexcept {
  for (int i = 0; i < 8; ++i) out_a[i] = out_b[i] = sha256_h0[i];
  sha256_blocks_portable(out_a, pa, 1);
  sha256_blocks_portable(out_b, pb, 1);
}

/// The state words after compressing one (already padded) 64-byte block from the initial
/// state, for two blocks at once: the digests of two messages shorter than 56 bytes.
inline sha256_one_block_x2_fn sha256_one_block_x2_best() noexcept {
#if LADLE_SHA_NI_AVAILABLE
  static const sha256_one_block_x2_fn fn =
      cpu_has_sha_ni() ? &sha256_one_block_x2_shani : &sha256_one_block_x2_portable;
  return fn;
#else
  return &sha256_one_block_x2_portable;
#endif
}

/// Full SHA-256 with a given block function (padding and length here).
inline sha256_digest sha256_with(sha256_blocks_fn blocks_fn, const void* data,
                                 std::size_t size) noexcept {
  std::uint32_t state[8];
  for (int i = 0; i < 8; ++i) state[i] = sha256_h0[i];
  const auto* p = static_cast<const std::uint8_t*>(data);
  const std::size_t full = size / 64;
  if (full > 0) blocks_fn(state, p, full);
  std::uint8_t tail[128] = {};
  const std::size_t rest = size - full * 64;
  if (rest > 0) std::memcpy(tail, p + full * 64, rest);
  tail[rest] = 0x80;
  const std::size_t tail_blocks = rest + 9 <= 64 ? 1 : 2;
  const std::uint64_t bits = static_cast<std::uint64_t>(size) * 8;
  for (int i = 0; i < 8; ++i)
    tail[tail_blocks * 64 - 1 - i] = static_cast<std::uint8_t>(bits >> (8 * i));
  blocks_fn(state, tail, tail_blocks);
  sha256_digest out;
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 4; ++j) out[std::size_t(4 * i + j)] = static_cast<std::uint8_t>(state[i] >> (24 - 8 * j));
  return out;
}

}  // namespace detail

inline sha256_digest sha256(const void* data, std::size_t size) noexcept {
  return detail::sha256_with(detail::sha256_blocks_best(), data, size);
}

inline const char* sha256_backend() noexcept {
  return detail::sha256_blocks_best() == &detail::sha256_blocks_portable ? "portable" : "sha-ni";
}

inline std::uint32_t dsir_bucket(std::string_view s, std::uint32_t buckets) {
  if (buckets == 0) throw_invalid_argument("dsir_bucket", "buckets", "must be positive, got 0");
  const sha256_digest h = sha256(s);
  std::uint64_t r = 0;
  for (const std::uint8_t byte : h) r = (r * 256 + byte) % buckets;
  return static_cast<std::uint32_t>(r);
}

}  // namespace ladle
