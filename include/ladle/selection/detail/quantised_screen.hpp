// ladle/selection/detail/quantised_screen.hpp (detail): one byte per feature of float rows and
// a proven screen on it, k-center's first test of whether a new centre can lower a row's minimum.
//
// Each row x becomes x~ = s q with s = max_j |x_j| / 127 and integers q_j = round(x_j / s) in
// [-127, 127], stored biased (q_j + 128, one byte; rows padded with 128 to a multiple of 64
// bytes). Kept per row: s, a = fl(s^2 N) with N = sum q_j^2, and e >= ||x - x~|| (an upper
// bound computed once with its rounding accounted for, see quantise_row).
//
// The bound. For a row x with minimum v and a centre c:
//   ||x - c|| >= ||x~ - c~|| - e_x - e_c                        (triangle inequality)
//   ||x~ - c~||^2 = s_x^2 N_x + s_c^2 N_c - 2 s_x s_c P,  P = <q_x, q_c>, an exact integer
// (P is summed in int32 on every ISA: |sum of w q_c| <= d 255 127 < 2^31 for d <= 65536).
// In double, A = a_x + a_c, B = (s_x s_c) P, D~ = A - 2B carries at most 6u (A + 2|B|) of
// rounding (u = 2^-53; every operation is one rounding, a contracted fma only fewer), so
//   Dlo = D~ - 2^-46 (A + 2|B|) <= ||x~ - c~||^2     (2^-46 = 128u; Dlo's own rounding included).
// Each row keeps t_x >= sqrt(v (1 + eta)) + e_x (rounded up by factors 1 + 2^-50), with
// eta = (d + 16) 2^-52 at least the relative error of the exact fixed-order double distance
// (differences, squares and ceil(d/8) + 3 additions of non-negative terms, one rounding each;
// float data cannot underflow or overflow in double). Then
//   Dlo >= (t_x + e_c)^2 (1 + 2^-50)  =>  ||x - c||^2 >= v (1 + eta)  =>  exact distance >= v,
// so the row's minimum cannot change and the exact pass may skip it: outputs keep every bit.
// The test is exact integer arithmetic plus the double formulas above on every ISA; the integer
// dot product has per-ISA code (AVX-512 VNNI / AVX-512BW / AVX2 / SSE2 / scalar) and gives the
// same integer everywhere. The double formulas may be contracted into fmas on FMA targets (the
// bound holds either way), so a borderline skip decision may differ between ISAs; the outputs
// cannot, since a skipped row is one whose minimum provably stays.
//
// Cost: the screen reads one byte per feature instead of four (6.4 MB for 50k x 128, which stays
// in a Zen 4/5 L3), plus 24 bytes of per-row scalars.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/simd.hpp"
#include "ladle/core/size.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#if LADLE_HAS_SIMD && (defined(__AVX512BW__) || defined(__AVX2__) || defined(__SSE2__))
#  include <immintrin.h>
#endif

namespace ladle {
namespace detail {

/// Largest d the screen handles (int32 dot products cannot overflow).
inline constexpr index_t quantised_screen_max_d = 65536;
/// Smallest d for which k-center uses it by default: below, the per-row scalars and the padding
/// to 64 bytes read about as much as the float screen.
inline constexpr index_t quantised_screen_min_d = 32;

/// Bytes of one padded code row.
inline index_t quantised_stride(index_t d) noexcept { return (d + 63) / 64 * 64; }

/// 1 + 2^-50: the rounding-up factor of the bounds (8u per use, several roundings each).
inline constexpr double quantised_up = 1.0 + 0x1p-50;

/// Quantises one float row into `codes` (quantised_stride(d) bytes, biased, padding 128) and
/// returns s, a = fl(s^2 N) and e >= ||x - s q||: |x_j - s q_j| <= |fl(x_j - fl(s q_j))| / (1 - u)
/// + u s |q_j|, so ||x - s q|| <= F (1 + (d + 3) u) + u s sqrt(N) with F the computed norm of the
/// computed residuals (a serial sum of d squares and a square root); the factors below round it
/// up with room to spare.
inline void quantise_row(const float* x, index_t d, std::uint8_t* codes, double& s, double& a,
                         double& e) noexcept {
  float m = 0;
  for (index_t j = 0; j < d; ++j) m = std::max(m, std::fabs(x[j]));
  const index_t stride = quantised_stride(d);
  std::memset(codes, 128, static_cast<std::size_t>(stride));
  if (m == 0) {
    s = a = e = 0;
    return;
  }
  s = static_cast<double>(m) / 127.0;
  const double inv = 127.0 / static_cast<double>(m);
  double n2 = 0, r2 = 0;
  for (index_t j = 0; j < d; ++j) {
    double q = std::nearbyint(static_cast<double>(x[j]) * inv);
    q = std::min(127.0, std::max(-127.0, q));
    codes[j] = static_cast<std::uint8_t>(static_cast<int>(q) + 128);
    n2 += q * q;  // exact: an integer below 2^53
    const double r = static_cast<double>(x[j]) - s * q;
    r2 += r * r;
  }
  a = s * s * n2;
  e = (std::sqrt(r2) + s * std::sqrt(n2) * 0x1p-50) *
      (1.0 + static_cast<double>(d + 16) * 0x1p-52) * quantised_up;
}

/// Upper bound of sqrt(v (1 + eta)) + e for a row with minimum v (+inf stays +inf).
inline double quantised_threshold(double v, double e, index_t d) noexcept {
  const double eta1 = 1.0 + static_cast<double>(d + 16) * 0x1p-52;
  return (std::sqrt(v * eta1) * quantised_up + e) * quantised_up;
}

/// The centre side of one screening pass: its codes unbiased (int8 for VNNI, int16 otherwise,
/// zero padding), 128 * sum q_c (what the biased row codes add to every dot product), s_c, a_c, e_c.
struct quantised_centre {
  index_t stride = 0;
  aligned_ptr<std::int8_t> q8;
  aligned_ptr<std::int16_t> q16;
  std::int32_t bias = 0;
  double s = 0, a = 0, e = 0;

  explicit quantised_centre(index_t d)
      : stride(quantised_stride(d)),
        q8(allocate_aligned<std::int8_t>(quantised_stride(d))),
        q16(allocate_aligned<std::int16_t>(quantised_stride(d))) {}

  void set(const float* c, index_t d) {
    std::vector<std::uint8_t> codes(static_cast<std::size_t>(stride));
    quantise_row(c, d, codes.data(), s, a, e);
    std::int32_t sum = 0;
    for (index_t j = 0; j < stride; ++j) {
      const int q = j < d ? int(codes[std::size_t(j)]) - 128 : 0;
      q8.get()[j] = static_cast<std::int8_t>(q);
      q16.get()[j] = static_cast<std::int16_t>(q);
      sum += q;
    }
    bias = 128 * sum;
  }
};

/// sum_j w_j q_j over one padded row (w biased codes, 64-byte aligned; q the centre's): an exact
/// integer, the same on every ISA.
inline std::int32_t quantised_biased_dot(const std::uint8_t* w, const quantised_centre& c) noexcept {
  const index_t stride = c.stride;
#if LADLE_HAS_SIMD && defined(__AVX512BW__)
  __m512i acc = _mm512_setzero_si512();
  for (index_t j = 0; j < stride; j += 64) {
    const __m512i wv = _mm512_load_si512(reinterpret_cast<const void*>(w + j));
#  if defined(__AVX512VNNI__)
    acc = _mm512_dpbusd_epi32(acc, wv, _mm512_load_si512(reinterpret_cast<const void*>(c.q8.get() + j)));
#  else
    const __m512i lo = _mm512_cvtepu8_epi16(_mm512_castsi512_si256(wv));
    const __m512i hi = _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(wv, 1));
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(lo, _mm512_load_si512(c.q16.get() + j)));
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(hi, _mm512_load_si512(c.q16.get() + j + 32)));
#  endif
  }
  return _mm512_reduce_add_epi32(acc);
#elif LADLE_HAS_SIMD && defined(__AVX2__)
  __m256i acc = _mm256_setzero_si256();
  for (index_t j = 0; j < stride; j += 32) {
    const __m256i wv = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + j));
    const __m256i lo = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(wv));
    const __m256i hi = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(wv, 1));
    const auto* q = reinterpret_cast<const __m256i*>(c.q16.get() + j);
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(lo, _mm256_load_si256(q)));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(hi, _mm256_load_si256(q + 1)));
  }
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
#elif LADLE_HAS_SIMD && defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  __m128i acc = zero;
  for (index_t j = 0; j < stride; j += 16) {
    const __m128i wv = _mm_load_si128(reinterpret_cast<const __m128i*>(w + j));
    const auto* q = reinterpret_cast<const __m128i*>(c.q16.get() + j);
    acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_unpacklo_epi8(wv, zero), _mm_load_si128(q)));
    acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_unpackhi_epi8(wv, zero), _mm_load_si128(q + 1)));
  }
  acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0x4E));
  acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0xB1));
  return _mm_cvtsi128_si32(acc);
#else
  std::int32_t acc = 0;
  for (index_t j = 0; j < stride; ++j) acc += std::int32_t(w[j]) * std::int32_t(c.q16.get()[j]);
  return acc;
#endif
}

/// The test of the file comment for one row: true when its exact distance to the centre is
/// proven not below the minimum its threshold t was made from.
inline bool quantised_clears(std::int32_t biased_dot, double s, double a, double t,
                             const quantised_centre& c) noexcept {
  const double p = static_cast<double>(biased_dot - c.bias);
  const double A = a + c.a, B = (s * c.s) * p;
  const double dlo = (A - (B + B)) - 0x1p-46 * (A + 2 * std::fabs(B));
  const double r = t + c.e;
  return dlo >= (r * r) * quantised_up;
}

/// Bit i clear when row `first + i` (i < 8) is cleared: the same answers as quantised_clears
/// row by row, eight rows at a time (AVX-512: one accumulator per row, reduced in a tree).
LADLE_FORCE_INLINE unsigned quantised_screen8(const std::uint8_t* codes, const double* s, const double* a,
                                  const double* t, const quantised_centre& c) noexcept {
#if LADLE_HAS_SIMD && defined(__AVX512BW__)
  const index_t st = c.stride;
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
          a7 = a0;
  for (index_t j = 0; j < st; j += 64) {
#  if defined(__AVX512VNNI__)
    const __m512i cj = _mm512_load_si512(reinterpret_cast<const void*>(c.q8.get() + j));
#    define LADLE_QS_ROW(acc, r) \
      acc = _mm512_dpbusd_epi32(acc, _mm512_load_si512(reinterpret_cast<const void*>(codes + (r) * st + j)), cj)
#  else
    const __m512i c0 = _mm512_load_si512(c.q16.get() + j), c1 = _mm512_load_si512(c.q16.get() + j + 32);
#    define LADLE_QS_ROW(acc, r)                                                             \
      do {                                                                                   \
        const __m512i wv = _mm512_load_si512(reinterpret_cast<const void*>(codes + (r) * st + j)); \
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_cvtepu8_epi16(_mm512_castsi512_si256(wv)), c0)); \
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(wv, 1)), c1)); \
      } while (0)
#  endif
    LADLE_QS_ROW(a0, 0);
    LADLE_QS_ROW(a1, 1);
    LADLE_QS_ROW(a2, 2);
    LADLE_QS_ROW(a3, 3);
    LADLE_QS_ROW(a4, 4);
    LADLE_QS_ROW(a5, 5);
    LADLE_QS_ROW(a6, 6);
    LADLE_QS_ROW(a7, 7);
#  undef LADLE_QS_ROW
  }
  // Tree: pairs interleaved, then quadruples per 128-bit lane, then the four lanes summed.
  const __m512i t01 = _mm512_add_epi32(_mm512_unpacklo_epi32(a0, a1), _mm512_unpackhi_epi32(a0, a1));
  const __m512i t23 = _mm512_add_epi32(_mm512_unpacklo_epi32(a2, a3), _mm512_unpackhi_epi32(a2, a3));
  const __m512i t45 = _mm512_add_epi32(_mm512_unpacklo_epi32(a4, a5), _mm512_unpackhi_epi32(a4, a5));
  const __m512i t67 = _mm512_add_epi32(_mm512_unpacklo_epi32(a6, a7), _mm512_unpackhi_epi32(a6, a7));
  const __m512i u03 = _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));
  const __m512i u47 = _mm512_add_epi32(_mm512_unpacklo_epi64(t45, t67), _mm512_unpackhi_epi64(t45, t67));
  const __m512i v = _mm512_add_epi32(_mm512_shuffle_i32x4(u03, u47, _MM_SHUFFLE(1, 0, 1, 0)),
                                     _mm512_shuffle_i32x4(u03, u47, _MM_SHUFFLE(3, 2, 3, 2)));
  const __m512i w = _mm512_add_epi32(_mm512_shuffle_i32x4(v, v, _MM_SHUFFLE(2, 0, 2, 0)),
                                     _mm512_shuffle_i32x4(v, v, _MM_SHUFFLE(3, 1, 3, 1)));
  const __m256i dots = _mm256_sub_epi32(_mm512_castsi512_si256(w), _mm256_set1_epi32(c.bias));
  const __m512d p = _mm512_cvtepi32_pd(dots);
  const __m512d A = _mm512_add_pd(_mm512_loadu_pd(a), _mm512_set1_pd(c.a));
  const __m512d B = _mm512_mul_pd(_mm512_mul_pd(_mm512_loadu_pd(s), _mm512_set1_pd(c.s)), p);
  const __m512d two_b = _mm512_add_pd(B, B);
  const __m512d dlo = _mm512_sub_pd(
      _mm512_sub_pd(A, two_b),
      _mm512_mul_pd(_mm512_set1_pd(0x1p-46), _mm512_add_pd(A, _mm512_abs_pd(two_b))));
  const __m512d r = _mm512_add_pd(_mm512_loadu_pd(t), _mm512_set1_pd(c.e));
  const __m512d rr = _mm512_mul_pd(_mm512_mul_pd(r, r), _mm512_set1_pd(quantised_up));
  return static_cast<unsigned>(~_mm512_cmp_pd_mask(dlo, rr, _CMP_GE_OQ)) & 0xFFu;
#else
  unsigned open = 0;
  for (int i = 0; i < 8; ++i)
    if (!quantised_clears(quantised_biased_dot(codes + i * c.stride, c), s[i], a[i], t[i], c))
      open |= 1u << i;
  return open;
#endif
}

}  // namespace detail
}  // namespace ladle
