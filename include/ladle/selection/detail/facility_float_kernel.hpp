// ladle/selection/detail/facility_float_kernel.hpp (detail): facility location's float32 kernels.
//
// For float X the squared distance is the float32 sequential-fma sum
//     D(a, b):  s = 0;  for j = 0 .. d-1:  e = a_j - b_j;  s = fma(e, e, s)
// (one rounding per subtraction and per fma, features in order), so D(a, b) == D(b, a) and every
// instruction set, scalar std::fma included, gives the same bits. Lanes never mix features: a
// SIMD lane is one (row, candidate) pair, so the lane width changes nothing.
//
// Rows are packed once into panels of facility_panel = 16 rows, feature-major (panel g holds
// rows 16g .. 16g + 15, feature j of them at 16 j .. 16 j + 15; the last panel is padded with
// copies of the last row, so a padded lane is a real distance). The panels serve as the lanes
// of every kernel: candidates for gains (rows of X broadcast), rows for the M pass and for the
// update of the minima (a candidate broadcast).
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/simd.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#if LADLE_HAS_SIMD && (defined(__AVX512F__) || defined(__AVX__) || defined(__SSE2__))
#  include <immintrin.h>
#endif

namespace ladle {
namespace detail {

/// Rows (candidates) per panel: also the candidates of one lazy re-evaluation.
constexpr index_t facility_panel = 16;

/// The scalar definition of D (tests and tails compare against it).
inline float facility_sq_distance(const float* a, const float* b, index_t d) noexcept {
  float s = 0;
  for (index_t j = 0; j < d; ++j) {
    const float e = a[j] - b[j];
    s = std::fma(e, e, s);
  }
  return s;
}

/// Packs rows r[0..m) (m <= facility_panel; padded with r[m - 1]) into one feature-major panel.
inline void facility_pack_panel(const float* const* r, index_t m, index_t d, float* panel) noexcept {
  for (index_t q = 0; q < facility_panel; ++q) {
    const float* src = r[std::min(q, m - 1)];
    for (index_t j = 0; j < d; ++j) panel[j * facility_panel + q] = src[j];
  }
}

#if LADLE_HAS_SIMD
using facility_fb = simd::batch<float>;
using facility_db = simd::batch<double>;
constexpr index_t facility_lanes = static_cast<index_t>(facility_fb::size);
static_assert(facility_panel % facility_lanes == 0, "facility panels hold whole float batches");

/// The two halves of a float batch as double batches (exact).
template <class A>
LADLE_FORCE_INLINE void facility_widen(const xsimd::batch<float, A>& x, xsimd::batch<double, A>& lo,
                                       xsimd::batch<double, A>& hi) noexcept {
  using facility_fb = xsimd::batch<float, A>;
  using facility_db = xsimd::batch<double, A>;
#  if defined(__AVX512F__)
  if constexpr (facility_fb::size == 16) {
    const __m512 v = x;
    lo = facility_db(_mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    hi = facility_db(_mm512_cvtps_pd(
        _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
    return;
  }
#  endif
#  if defined(__AVX__)
  if constexpr (facility_fb::size == 8) {
    const __m256 v = x;
    lo = facility_db(_mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    hi = facility_db(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    return;
  }
#  endif
#  if defined(__SSE2__)
  if constexpr (facility_fb::size == 4) {
    const __m128 v = x;
    lo = facility_db(_mm_cvtps_pd(v));
    hi = facility_db(_mm_cvtps_pd(_mm_movehl_ps(v, v)));
    return;
  }
#  endif
  alignas(64) float f[facility_fb::size];
  alignas(64) double w[facility_fb::size];
  x.store_aligned(f);
  for (std::size_t l = 0; l < facility_fb::size; ++l) w[l] = static_cast<double>(f[l]);
  lo = facility_db::load_aligned(w);
  hi = facility_db::load_aligned(w + facility_db::size);
}

/// D for the lanes of one panel batch p (stride facility_panel per feature) against R broadcast
/// rows r[0..R): epi(k, D_k) for k = 0 .. R-1 in order. Eight named accumulators (R <= 8).
template <int R, class Epi>
LADLE_FORCE_INLINE void facility_block(const float* p, const float* const* r, index_t d,
                                       Epi&& epi) noexcept {
  static_assert(R >= 1 && R <= 8, "facility_block: 1 to 8 rows");
  const facility_fb z(0.0f);
  facility_fb a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
  const float* r0 = r[0];
  const float* r1 = r[R > 1 ? 1 : 0];
  const float* r2 = r[R > 2 ? 2 : 0];
  const float* r3 = r[R > 3 ? 3 : 0];
  const float* r4 = r[R > 4 ? 4 : 0];
  const float* r5 = r[R > 5 ? 5 : 0];
  const float* r6 = r[R > 6 ? 6 : 0];
  const float* r7 = r[R > 7 ? 7 : 0];
  for (index_t j = 0; j < d; ++j) {
    const facility_fb pj = facility_fb::load_aligned(p + j * facility_panel);
#  define LADLE_FL_STEP(k)                           \
    if constexpr (R > k) {                           \
      const facility_fb t = pj - facility_fb(r##k[j]); \
      a##k = simd::fma(t, t, a##k);                  \
    }
    LADLE_FL_STEP(0)
    LADLE_FL_STEP(1)
    LADLE_FL_STEP(2)
    LADLE_FL_STEP(3)
    LADLE_FL_STEP(4)
    LADLE_FL_STEP(5)
    LADLE_FL_STEP(6)
    LADLE_FL_STEP(7)
#  undef LADLE_FL_STEP
  }
  epi(0, a0);
  if constexpr (R > 1) epi(1, a1);
  if constexpr (R > 2) epi(2, a2);
  if constexpr (R > 3) epi(3, a3);
  if constexpr (R > 4) epi(4, a4);
  if constexpr (R > 5) epi(5, a5);
  if constexpr (R > 6) epi(6, a6);
  if constexpr (R > 7) epi(7, a7);
}
#endif

/// s[q] = sum over rows i in [b, e), in row order, of max(0, mind[i] - double(D(i, c_q))) for
/// the 16 candidates of `panel` (rows of X at base + i * ld). With a list, the rows are
/// list[b .. e) instead (ascending: the rows a screen left, the others adding +0). With mx,
/// *mx = max(*mx, every D computed) too (the M pass fused into a pass over all pairs).
inline void facility_panel_gains(const float* panel, index_t d, const float* base, index_t ld,
                                 const double* mind, const index_t* list, index_t b, index_t e,
                                 double* s, float* mx = nullptr) noexcept {
  auto row_at = [list](index_t k) { return list != nullptr ? list[k] : k; };
#if LADLE_HAS_SIMD
  for (index_t k = 0; k < facility_panel; k += facility_lanes) {
    const float* p = panel + k;
    facility_db lo(0.0), hi(0.0);
    const facility_db zero(0.0);
    index_t i = b;
    const float* r[8];
    index_t at[8];
    facility_fb top(mx != nullptr ? *mx : 0.0f);
    // Row q of the block, in row order: max(0, m - D) is +0 where the scalar path adds nothing.
    auto epi = [&](int q, const facility_fb& D) {
      if (mx != nullptr) top = xsimd::max(top, D);
      facility_db dl, dh;
      facility_widen(D, dl, dh);
      const facility_db m(mind[at[q]]);
      lo += xsimd::max(m - dl, zero);
      hi += xsimd::max(m - dh, zero);
    };
    for (; i + 8 <= e; i += 8) {
      for (int q = 0; q < 8; ++q) {
        at[q] = row_at(i + q);
        r[q] = base + at[q] * ld;
      }
      facility_block<8>(p, r, d, epi);
    }
    for (; i < e; ++i) {
      at[0] = row_at(i);
      r[0] = base + at[0] * ld;
      facility_block<1>(p, r, d, epi);
    }
    lo.store_unaligned(s + k);
    hi.store_unaligned(s + k + facility_db::size);
    if (mx != nullptr) *mx = std::max(*mx, simd::reduce_max(top));
  }
#else
  for (index_t q = 0; q < facility_panel; ++q) s[q] = 0;
  float c[facility_panel];
  for (index_t k = b; k < e; ++k) {
    const index_t i = row_at(k);
    const float* x = base + i * ld;
    for (index_t q = 0; q < facility_panel; ++q) {
      float acc = 0;
      for (index_t j = 0; j < d; ++j) {
        const float t = panel[j * facility_panel + q] - x[j];
        acc = std::fma(t, t, acc);
      }
      c[q] = acc;
      if (mx != nullptr) *mx = std::max(*mx, acc);
    }
    for (index_t q = 0; q < facility_panel; ++q) {
      const double t = mind[i] - static_cast<double>(c[q]);
      if (t > 0) s[q] += t;
    }
  }
#endif
}

/// max over the 16 panel lanes and the rows i in [b, e) of D(lane, i), as a float.
inline float facility_panel_max(const float* panel, index_t d, const float* base, index_t ld,
                                index_t b, index_t e) noexcept {
#if LADLE_HAS_SIMD
  facility_fb mx(0.0f);
  const float* r[8];
  auto epi = [&](int, const facility_fb& D) { mx = xsimd::max(mx, D); };
  for (index_t k = 0; k < facility_panel; k += facility_lanes) {
    const float* p = panel + k;
    index_t i = b;
    for (; i + 8 <= e; i += 8) {
      for (int q = 0; q < 8; ++q) r[q] = base + (i + q) * ld;
      facility_block<8>(p, r, d, epi);
    }
    for (; i < e; ++i) {
      r[0] = base + i * ld;
      facility_block<1>(p, r, d, epi);
    }
  }
  return simd::reduce_max(mx);
#else
  float mx = 0;
  for (index_t i = b; i < e; ++i)
    for (index_t q = 0; q < facility_panel; ++q) {
      float acc = 0;
      for (index_t j = 0; j < d; ++j) {
        const float t = panel[j * facility_panel + q] - base[i * ld + j];
        acc = std::fma(t, t, acc);
      }
      mx = std::max(mx, acc);
    }
  return mx;
#endif
}

/// out[16 k + l] = D(lane l of panel k, c) for the 16 lanes of `count` consecutive panels
/// (four batches at a time: four independent fma chains).
inline void facility_panels_to(const float* panels, index_t count, index_t d, const float* c,
                               float* out) noexcept {
#if LADLE_HAS_SIMD
  const index_t units = count * facility_panel / facility_lanes;  // batches
  auto at = [&](index_t u) {
    return panels + (u * facility_lanes / facility_panel) * facility_panel * d +
           (u * facility_lanes) % facility_panel;
  };
  index_t u = 0;
  for (; u + 4 <= units; u += 4) {
    const float* p0 = at(u);
    const float* p1 = at(u + 1);
    const float* p2 = at(u + 2);
    const float* p3 = at(u + 3);
    facility_fb a0(0.0f), a1(0.0f), a2(0.0f), a3(0.0f);
    for (index_t j = 0; j < d; ++j) {
      const facility_fb cj(c[j]);
      const index_t o = j * facility_panel;
      const facility_fb t0 = facility_fb::load_aligned(p0 + o) - cj;
      const facility_fb t1 = facility_fb::load_aligned(p1 + o) - cj;
      const facility_fb t2 = facility_fb::load_aligned(p2 + o) - cj;
      const facility_fb t3 = facility_fb::load_aligned(p3 + o) - cj;
      a0 = simd::fma(t0, t0, a0);
      a1 = simd::fma(t1, t1, a1);
      a2 = simd::fma(t2, t2, a2);
      a3 = simd::fma(t3, t3, a3);
    }
    a0.store_unaligned(out + u * facility_lanes);
    a1.store_unaligned(out + (u + 1) * facility_lanes);
    a2.store_unaligned(out + (u + 2) * facility_lanes);
    a3.store_unaligned(out + (u + 3) * facility_lanes);
  }
  for (; u < units; ++u) {
    const float* p0 = at(u);
    facility_fb a0(0.0f);
    for (index_t j = 0; j < d; ++j) {
      const facility_fb t0 = facility_fb::load_aligned(p0 + j * facility_panel) - facility_fb(c[j]);
      a0 = simd::fma(t0, t0, a0);
    }
    a0.store_unaligned(out + u * facility_lanes);
  }
#else
  for (index_t k = 0; k < count; ++k)
    for (index_t q = 0; q < facility_panel; ++q) {
      float acc = 0;
      for (index_t j = 0; j < d; ++j) {
        const float t = panels[k * facility_panel * d + j * facility_panel + q] - c[j];
        acc = std::fma(t, t, acc);
      }
      out[k * facility_panel + q] = acc;
    }
#endif
}

}  // namespace detail
}  // namespace ladle
