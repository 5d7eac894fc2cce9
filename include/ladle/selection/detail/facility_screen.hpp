// ladle/selection/detail/facility_screen.hpp (detail): the int8 screen of a lazy re-evaluation.
//
// After the first steps few rows are nearer to a candidate than to the chosen set, so most of a
// gain's terms are +0. Rows carry the one-byte codes of quantised_screen.hpp (s, a, e) and a
// threshold t_i; a panel of 16 candidates carries its codes feature-major in groups of four
// bytes, so one AVX-512 VNNI vpdpbusd takes four features of one row against all 16 candidates.
// The proof is quantised_screen.hpp's (exact integer dot products, then double formulas with
// their rounding accounted for), with eta for the float32 sequential-fma D of
// facility_float_kernel.hpp: computed D >= D_true (1 - u)^(d + 2) - d 2^-150 (u = 2^-24; each
// difference and each fma one rounding, underflow at most half a subnormal ulp per fma), so
//     D_true >= (m + d 2^-149) (1 + (d + 16) 2^-23)   =>   computed D >= m,
// and a row cleared for every candidate of the panel adds +0 to each gain: skipping it changes
// no bit. Built only for AVX-512 VNNI; elsewhere every row takes the exact pass (same bits).
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/size.hpp"
#include "ladle/selection/detail/facility_float_kernel.hpp"
#include "ladle/selection/detail/quantised_screen.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>

#if LADLE_HAS_SIMD && defined(__AVX512VNNI__) && defined(__AVX512BW__)
#  define LADLE_FACILITY_SCREEN 1
#else
#  define LADLE_FACILITY_SCREEN 0
#endif

namespace ladle {
namespace detail {

/// Smallest d that screens (below, the exact pass is about as cheap).
inline constexpr index_t facility_screen_min_d = 16;

inline constexpr bool facility_screen_built = LADLE_FACILITY_SCREEN != 0;

/// t >= sqrt((m + d 2^-149) (1 + (d + 16) 2^-23)) + e, rounded up (+inf stays +inf).
inline double facility_screen_threshold(double m, double e, index_t d) noexcept {
  const double eta1 = 1.0 + static_cast<double>(d + 16) * 0x1p-23;
  const double v = m + static_cast<double>(d) * 0x1p-149;
  return (std::sqrt(v * eta1) * quantised_up + e) * quantised_up;
}

/// The candidate side: codes of 16 candidates, feature quad k at q[64 k ..): candidate l's
/// four signed codes at bytes 4 l .. 4 l + 3; per candidate 128 sum q (the rows' bias), s, a, e.
struct facility_qpanel {
  index_t quads = 0;
  aligned_ptr<std::int8_t> q;
  alignas(64) std::int32_t bias[facility_panel];
  alignas(64) float s[facility_panel], a[facility_panel], e[facility_panel];

  explicit facility_qpanel(index_t d)
      : quads((d + 3) / 4), q(allocate_aligned<std::int8_t>(((d + 3) / 4) * 64)) {}

  /// From the row codes (biased, stride bytes) and scalars of rows r[0..m), padded with r[m-1].
  void set(const std::uint8_t* codes, index_t stride, const double* rs, const double* ra,
           const double* re, const index_t* r, index_t m) noexcept {
    for (index_t l = 0; l < facility_panel; ++l) {
      const index_t row = r[std::min(l, m - 1)];
      const std::uint8_t* c = codes + row * stride;
      std::int32_t sum = 0;
      for (index_t k = 0; k < quads; ++k)
        for (index_t b = 0; b < 4; ++b) {
          const int v = int(c[4 * k + b]) - 128;  // padding codes are 128: v = 0
          q.get()[k * 64 + 4 * l + b] = static_cast<std::int8_t>(v);
          sum += v;
        }
      bias[l] = 128 * sum;
      s[l] = static_cast<float>(rs[row]);
      a[l] = static_cast<float>(ra[row]);
      e[l] = static_cast<float>(re[row]);
    }
  }
};

#if LADLE_FACILITY_SCREEN
/// Whether row i (dot products acc, biased) is cleared for all 16 candidates: quantised_clears
/// in float32, 16 lanes at once. Every quantity is positive but B; A (three roundings from the
/// double a's), B (five: s_i, s_c, P to float, two products) and A - 2B (one) carry at most
/// 2^-21 (A + 2|B|) of rounding, and underflow at most 2^-146 in all, so
///   dlo = (A - 2B) - (2^-19 (A + 2|B|) + 2^-140) <= ||x~ - c~||^2,
/// while rr = fl(fl(r r) (1 + 2^-19)) + 2^-140 >= (t_i + e_c)^2 (r = t_i + e_c: t_i, e_c to
/// float and the sum, three roundings; r r and the product two more: (1 - 2^-24)^-8 < 1 + 2^-19).
/// Overflow gives inf or nan on the left, and a comparison with nan or +inf clears nothing.
LADLE_FORCE_INLINE bool facility_screen_clears(__m512i acc, const facility_qpanel& p, float si,
                                               float ai, float ti) noexcept {
  const __m512i dots = _mm512_sub_epi32(acc, _mm512_load_si512(p.bias));
  const __m512 pf = _mm512_cvtepi32_ps(dots);
  const __m512 A = _mm512_add_ps(_mm512_set1_ps(ai), _mm512_load_ps(p.a));
  const __m512 B = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(si), _mm512_load_ps(p.s)), pf);
  const __m512 two_b = _mm512_add_ps(B, B);
  const __m512 tiny = _mm512_set1_ps(0x1p-140f);
  const __m512 slack = _mm512_add_ps(
      _mm512_mul_ps(_mm512_set1_ps(0x1p-19f), _mm512_add_ps(A, _mm512_abs_ps(two_b))), tiny);
  const __m512 dlo = _mm512_sub_ps(_mm512_sub_ps(A, two_b), slack);
  const __m512 r = _mm512_add_ps(_mm512_set1_ps(ti), _mm512_load_ps(p.e));
  const __m512 rr = _mm512_add_ps(
      _mm512_mul_ps(_mm512_mul_ps(r, r), _mm512_set1_ps(1.0f + 0x1p-19f)), tiny);
  return _mm512_cmp_ps_mask(dlo, rr, _CMP_GE_OQ) == 0xFFFF;
}

inline __m512i facility_bcast4(const std::uint8_t* p) noexcept {
  std::int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}
#endif

/// Rows of [b, e) not cleared for every candidate of the panel, ascending, into out; their
/// count. Without the screen: all of them.
inline index_t facility_screen_rows(const facility_qpanel& p, const std::uint8_t* codes,
                                    index_t stride, const float* s, const float* a,
                                    const float* t, index_t b, index_t e,
                                    index_t* out) noexcept {
  index_t m = 0;
#if LADLE_FACILITY_SCREEN
  const index_t quads = p.quads;
  const std::int8_t* q = p.q.get();
  index_t i = b;
  // Rows are kept without branches (out[m] written always, m advanced when it stays): about a
  // third of them stay early on, which a branch would mispredict.
  for (; i + 8 <= e; i += 8) {  // eight rows: eight independent vpdpbusd chains
    const std::uint8_t* c0 = codes + i * stride;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
            a7 = a0;
    for (index_t k = 0; k < quads; ++k) {
      const __m512i qk = _mm512_load_si512(reinterpret_cast<const void*>(q + 64 * k));
      const std::uint8_t* ck = c0 + 4 * k;
      a0 = _mm512_dpbusd_epi32(a0, facility_bcast4(ck), qk);
      a1 = _mm512_dpbusd_epi32(a1, facility_bcast4(ck + stride), qk);
      a2 = _mm512_dpbusd_epi32(a2, facility_bcast4(ck + 2 * stride), qk);
      a3 = _mm512_dpbusd_epi32(a3, facility_bcast4(ck + 3 * stride), qk);
      a4 = _mm512_dpbusd_epi32(a4, facility_bcast4(ck + 4 * stride), qk);
      a5 = _mm512_dpbusd_epi32(a5, facility_bcast4(ck + 5 * stride), qk);
      a6 = _mm512_dpbusd_epi32(a6, facility_bcast4(ck + 6 * stride), qk);
      a7 = _mm512_dpbusd_epi32(a7, facility_bcast4(ck + 7 * stride), qk);
    }
    out[m] = i;
    m += !facility_screen_clears(a0, p, s[i], a[i], t[i]);
    out[m] = i + 1;
    m += !facility_screen_clears(a1, p, s[i + 1], a[i + 1], t[i + 1]);
    out[m] = i + 2;
    m += !facility_screen_clears(a2, p, s[i + 2], a[i + 2], t[i + 2]);
    out[m] = i + 3;
    m += !facility_screen_clears(a3, p, s[i + 3], a[i + 3], t[i + 3]);
    out[m] = i + 4;
    m += !facility_screen_clears(a4, p, s[i + 4], a[i + 4], t[i + 4]);
    out[m] = i + 5;
    m += !facility_screen_clears(a5, p, s[i + 5], a[i + 5], t[i + 5]);
    out[m] = i + 6;
    m += !facility_screen_clears(a6, p, s[i + 6], a[i + 6], t[i + 6]);
    out[m] = i + 7;
    m += !facility_screen_clears(a7, p, s[i + 7], a[i + 7], t[i + 7]);
  }
  for (; i < e; ++i) {
    const std::uint8_t* c0 = codes + i * stride;
    __m512i a0 = _mm512_setzero_si512();
    for (index_t k = 0; k < quads; ++k)
      a0 = _mm512_dpbusd_epi32(a0, facility_bcast4(c0 + 4 * k),
                               _mm512_load_si512(reinterpret_cast<const void*>(q + 64 * k)));
    out[m] = i;
    m += !facility_screen_clears(a0, p, s[i], a[i], t[i]);
  }
#else
  (void)p, (void)codes, (void)stride, (void)s, (void)a, (void)t;
  for (index_t i = b; i < e; ++i) out[m++] = i;
#endif
  return m;
}

}  // namespace detail
}  // namespace ladle
