// exp(x) for x <= 0, one operation sequence for a scalar double and for a SIMD batch of doubles,
// so a loop's vector body and its scalar tail give the same bits on every instruction set.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/fp_contract.hpp"
#include "ladle/core/simd.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace ladle {
namespace detail {

// The lane operations the exp and the loss maps are written in. Each has exactly one rounding
// (or none), the same in the scalar and the batch spelling.
LADLE_FORCE_INLINE double lane_fma(double a, double b, double c) noexcept { return std::fma(a, b, c); }
LADLE_FORCE_INLINE double lane_mul(double a, double b) noexcept { return mul_rounded(a, b); }
LADLE_FORCE_INLINE double lane_select(bool m, double a, double b) noexcept { return m ? a : b; }
LADLE_FORCE_INLINE double lane_min(double a, double b) noexcept { return a < b ? a : b; }
LADLE_FORCE_INLINE double lane_abs(double a) noexcept { return std::abs(a); }
LADLE_FORCE_INLINE float lane_fma(float a, float b, float c) noexcept { return std::fma(a, b, c); }
LADLE_FORCE_INLINE float lane_mul(float a, float b) noexcept { return mul_rounded(a, b); }
LADLE_FORCE_INLINE float lane_select(bool m, float a, float b) noexcept { return m ? a : b; }
LADLE_FORCE_INLINE float lane_min(float a, float b) noexcept { return a < b ? a : b; }
LADLE_FORCE_INLINE float lane_abs(float a) noexcept { return std::abs(a); }
// 2^k from t = shifter + k, shifter = 1.5 * 2^52 (2^23 for float): the low bits of t's encoding
// hold k, and the shifter's low 12 (9) bits are zero, so (bits(t) + bias) << mantissa_bits is
// the encoding of 2^k while k + bias stays in [1, 2 bias].
LADLE_FORCE_INLINE double lane_pow2_of_shifted(double t) noexcept {
  std::uint64_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  bits = (bits + 1023) << 52;
  double s;
  std::memcpy(&s, &bits, sizeof s);
  return s;
}
LADLE_FORCE_INLINE float lane_pow2_of_shifted(float t) noexcept {
  std::uint32_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  bits = (bits + 127) << 23;
  float s;
  std::memcpy(&s, &bits, sizeof s);
  return s;
}

#if LADLE_HAS_SIMD
using double_lanes = simd::batch<double>;
using float_lanes = simd::batch<float>;
template <class T>
LADLE_FORCE_INLINE simd::batch<T> lane_fma(const simd::batch<T>& a, const simd::batch<T>& b,
                                           const simd::batch<T>& c) noexcept {
  return simd::fma(a, b, c);
}
template <class T>
LADLE_FORCE_INLINE simd::batch<T> lane_mul(const simd::batch<T>& a, const simd::batch<T>& b) noexcept {
  return simd::mul_rounded(a, b);
}
template <class T>
LADLE_FORCE_INLINE simd::batch<T> lane_select(const simd::batch_bool<T>& m, const simd::batch<T>& a,
                                              const simd::batch<T>& b) noexcept {
  return simd::select(m, a, b);
}
template <class T>
LADLE_FORCE_INLINE simd::batch<T> lane_min(const simd::batch<T>& a, const simd::batch<T>& b) noexcept {
  return simd::select(a < b, a, b);
}
template <class T>
LADLE_FORCE_INLINE simd::batch<T> lane_abs(const simd::batch<T>& a) noexcept { return xsimd::abs(a); }
LADLE_FORCE_INLINE double_lanes lane_pow2_of_shifted(const double_lanes& t) noexcept {
  using ilanes = simd::batch<std::int64_t>;
  return simd::bitwise_cast<double>((simd::bitwise_cast<std::int64_t>(t) + ilanes(1023)) << 52);
}
LADLE_FORCE_INLINE float_lanes lane_pow2_of_shifted(const float_lanes& t) noexcept {
  using ilanes = simd::batch<std::int32_t>;
  return simd::bitwise_cast<float>((simd::bitwise_cast<std::int32_t>(t) + ilanes(127)) << 23);
}
// Loads / stores `lanes` consecutive values of float or double memory as a batch of doubles
// (exact widening; narrowing rounds to nearest like static_cast). xsimd 8.1's converting loads
// go through a stack buffer, so the x86 widenings are spelt out.
LADLE_FORCE_INLINE double_lanes load_double_lanes(const double* p) noexcept {
  return double_lanes::load_unaligned(p);
}
// (Templates, so the branches for other register widths are discarded unchecked.)
template <class B = double_lanes>
LADLE_FORCE_INLINE B load_double_lanes(const float* p) noexcept {
  constexpr std::size_t bytes = sizeof(typename B::register_type);
#  if defined(__AVX512F__)
  if constexpr (bytes == 64) return B(_mm512_cvtps_pd(_mm256_loadu_ps(p)));
#  endif
#  if defined(__AVX__)
  if constexpr (bytes == 32) return B(_mm256_cvtps_pd(_mm_loadu_ps(p)));
#  endif
#  if defined(__SSE2__)
  if constexpr (bytes == 16) {
    double lo2;
    std::memcpy(&lo2, p, sizeof lo2);
    return B(_mm_cvtps_pd(_mm_castpd_ps(_mm_set_sd(lo2))));
  }
#  endif
  (void)bytes;
  return B::load_unaligned(p);
}
LADLE_FORCE_INLINE void store_double_lanes(const double_lanes& v, double* p) noexcept {
  v.store_unaligned(p);
}
template <class B = double_lanes>
LADLE_FORCE_INLINE void store_double_lanes(const B& v, float* p) noexcept {
  constexpr std::size_t bytes = sizeof(typename B::register_type);
#  if defined(__AVX512F__)
  if constexpr (bytes == 64) return _mm256_storeu_ps(p, _mm512_cvtpd_ps(v));
#  endif
#  if defined(__AVX__)
  if constexpr (bytes == 32) return _mm_storeu_ps(p, _mm256_cvtpd_ps(v));
#  endif
#  if defined(__SSE2__)
  if constexpr (bytes == 16) {
    const double two = _mm_cvtsd_f64(_mm_castps_pd(_mm_cvtpd_ps(v)));
    std::memcpy(p, &two, sizeof two);
    return;
  }
#  endif
  (void)bytes;
  v.store_unaligned(p);
}
LADLE_FORCE_INLINE float_lanes load_float_lanes(const float* p) noexcept {
  return float_lanes::load_unaligned(p);
}
LADLE_FORCE_INLINE void store_lanes(const float_lanes& v, float* p) noexcept { v.store_unaligned(p); }
template <class U>
LADLE_FORCE_INLINE void store_lanes(const double_lanes& v, U* p) noexcept {
  store_double_lanes(v, p);
}
#endif

// exp(x) for x <= 0 (no NaN; -inf gives 0), for V = double, float or a batch of either, with one
// operation sequence per precision, so the bits do not depend on the instruction set or on
// whether a value went through a SIMD body or a scalar tail. Cody-Waite reduction x = k ln2 + r,
// |r| <= ln2 / 2, and the Taylor polynomial of e^r in Horner form, every step an explicit fma
// or a single rounding; then 2^k from the encoding. Results below e^-708 (double) or e^-87
// (float) flush to 0, which also keeps 2^k a normal number.
//  * double: degree 13 (truncation 3e-19 relative), within 2 ulp of exp;
//  * float: degree 7 (truncation 8e-9 relative), within 2 ulp of the correctly rounded exp
//    (checked over every 16th float of [-87, 0] in tests/weighting/exp_lanes_test.cpp).
template <class V, bool = std::is_floating_point<V>::value>
struct lane_scalar {
  using type = V;
};
template <class V>
struct lane_scalar<V, false> {
  using type = typename V::value_type;
};

template <class V>
LADLE_FORCE_INLINE V exp_nonpositive(V x) noexcept {
  using S = typename lane_scalar<V>::type;
  if constexpr (std::is_same<S, double>::value) {
    const V log2e(1.4426950408889634), ln2_hi(6.93147180369123816490e-01),
        ln2_lo(1.90821492927058770002e-10), shifter(0x1.8p52), floor_x(-708.0);
    const auto tiny = x < floor_x;
    x = lane_select(tiny, floor_x, x);
    const V t = lane_fma(x, log2e, shifter);
    const V k = t - shifter;  // k = round-to-nearest(x log2 e), exactly
    V r = lane_fma(-k, ln2_hi, x);
    r = lane_fma(-k, ln2_lo, r);
    V p(1.0 / 6227020800.0);
    p = lane_fma(p, r, V(1.0 / 479001600.0));
    p = lane_fma(p, r, V(1.0 / 39916800.0));
    p = lane_fma(p, r, V(1.0 / 3628800.0));
    p = lane_fma(p, r, V(1.0 / 362880.0));
    p = lane_fma(p, r, V(1.0 / 40320.0));
    p = lane_fma(p, r, V(1.0 / 5040.0));
    p = lane_fma(p, r, V(1.0 / 720.0));
    p = lane_fma(p, r, V(1.0 / 120.0));
    p = lane_fma(p, r, V(1.0 / 24.0));
    p = lane_fma(p, r, V(1.0 / 6.0));
    p = lane_fma(p, r, V(0.5));
    p = lane_fma(p, r, V(1.0));
    p = lane_fma(p, r, V(1.0));
    return lane_select(tiny, V(0.0), lane_mul(p, lane_pow2_of_shifted(t)));
  } else {
    static_assert(std::is_same<S, float>::value, "exp_nonpositive: float or double lanes");
    // ln2_hi has 9 trailing zero bits, so k ln2_hi is exact for |k| <= 2^9.
    const V log2e(1.44269504088896341f), ln2_hi(0.693145751953125f),
        ln2_lo(1.428606820309417232e-6f), shifter(0x1.8p23f), floor_x(-87.0f);
    const auto tiny = x < floor_x;
    x = lane_select(tiny, floor_x, x);
    const V t = lane_fma(x, log2e, shifter);
    const V k = t - shifter;
    V r = lane_fma(-k, ln2_hi, x);
    r = lane_fma(-k, ln2_lo, r);
    V p(1.0f / 5040.0f);
    p = lane_fma(p, r, V(1.0f / 720.0f));
    p = lane_fma(p, r, V(1.0f / 120.0f));
    p = lane_fma(p, r, V(1.0f / 24.0f));
    p = lane_fma(p, r, V(1.0f / 6.0f));
    p = lane_fma(p, r, V(0.5f));
    p = lane_fma(p, r, V(1.0f));
    p = lane_fma(p, r, V(1.0f));
    return lane_select(tiny, V(0.0f), lane_mul(p, lane_pow2_of_shifted(t)));
  }
}

}  // namespace detail
}  // namespace ladle
