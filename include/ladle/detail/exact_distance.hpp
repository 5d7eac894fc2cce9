// ladle/detail/exact_distance.hpp (detail): the exact squared Euclidean distance in one fixed
// summation order, shared by k-center, facility location, k-means and herding.
//
// Features are widened to double; feature j goes to partial sum j % 8 through one std::fma each;
// the partials are combined as ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)): the formula of
// neighbors/'s exact re-ranking. The AVX2+FMA kernels give the scalar path's bits (a hardware
// fused multiply-add is correctly rounded like std::fma), so every caller is bit-identical on
// every instruction set and thread count.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/simd.hpp"

#include <cmath>
#include <type_traits>

#if defined(__AVX2__) && defined(__FMA__)
#  include <immintrin.h>
#endif

namespace ladle {
namespace detail {

/// Exact squared distance in one fixed order (see the file comment): the formula of
/// neighbors/'s knn::exact_sq_distance, reading float or double rows. Scalar reference path.
template <class T>
inline double exact_sq_distance_scalar(const T* LADLE_RESTRICT a, const T* LADLE_RESTRICT b,
                                       index_t d) noexcept {
  double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  index_t j = 0;
  for (; j + 8 <= d; j += 8)
    for (index_t l = 0; l < 8; ++l) {
      const double e = static_cast<double>(a[j + l]) - static_cast<double>(b[j + l]);
      s[l] = std::fma(e, e, s[l]);
    }
  for (; j < d; ++j) {
    const double e = static_cast<double>(a[j]) - static_cast<double>(b[j]);
    s[j % 8] = std::fma(e, e, s[j % 8]);
  }
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

#if LADLE_HAS_SIMD && defined(__AVX2__) && defined(__FMA__)
#  define LADLE_EXACT_DISTANCE_FMA_KERNEL 1
/// The same sums with the eight partial sums in two 4-lane registers and the hardware fused
/// multiply-add (correctly rounded, like std::fma), so it returns the scalar path's bits.
/// Intrinsics rather than xsimd::fma, which xsimd 8 emulates with two roundings on AVX-512.
template <class T>
inline double exact_sq_distance_fma(const T* LADLE_RESTRICT a, const T* LADLE_RESTRICT b,
                                    index_t d) noexcept {
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  index_t j = 0;
  for (; j + 8 <= d; j += 8) {
    __m256d a0, a1, b0, b1;
    if constexpr (std::is_same<T, float>::value) {
      const __m256 av = _mm256_loadu_ps(a + j), bv = _mm256_loadu_ps(b + j);
      a0 = _mm256_cvtps_pd(_mm256_castps256_ps128(av));
      a1 = _mm256_cvtps_pd(_mm256_extractf128_ps(av, 1));
      b0 = _mm256_cvtps_pd(_mm256_castps256_ps128(bv));
      b1 = _mm256_cvtps_pd(_mm256_extractf128_ps(bv, 1));
    } else {
      a0 = _mm256_loadu_pd(a + j);
      a1 = _mm256_loadu_pd(a + j + 4);
      b0 = _mm256_loadu_pd(b + j);
      b1 = _mm256_loadu_pd(b + j + 4);
    }
    const __m256d e0 = _mm256_sub_pd(a0, b0), e1 = _mm256_sub_pd(a1, b1);
    s0 = _mm256_fmadd_pd(e0, e0, s0);
    s1 = _mm256_fmadd_pd(e1, e1, s1);
  }
  alignas(32) double s[8];
  _mm256_store_pd(s, s0);
  _mm256_store_pd(s + 4, s1);
  for (; j < d; ++j) {
    const double e = static_cast<double>(a[j]) - static_cast<double>(b[j]);
    s[j % 8] = std::fma(e, e, s[j % 8]);
  }
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/// Four rows at once: the same arithmetic per row as exact_sq_distance_fma, with eight
/// independent fma chains in flight instead of two (one row is latency-bound).
template <class T>
inline void exact_sq_distance_fma4(const T* const* rows, const T* LADLE_RESTRICT c, index_t d,
                                   double* out) noexcept {
  __m256d s[4][2];
  for (int r = 0; r < 4; ++r) s[r][0] = s[r][1] = _mm256_setzero_pd();
  index_t j = 0;
  for (; j + 8 <= d; j += 8) {
    __m256d c0, c1;
    if constexpr (std::is_same<T, float>::value) {
      const __m256 cv = _mm256_loadu_ps(c + j);
      c0 = _mm256_cvtps_pd(_mm256_castps256_ps128(cv));
      c1 = _mm256_cvtps_pd(_mm256_extractf128_ps(cv, 1));
    } else {
      c0 = _mm256_loadu_pd(c + j);
      c1 = _mm256_loadu_pd(c + j + 4);
    }
    for (int r = 0; r < 4; ++r) {
      __m256d a0, a1;
      if constexpr (std::is_same<T, float>::value) {
        const __m256 av = _mm256_loadu_ps(rows[r] + j);
        a0 = _mm256_cvtps_pd(_mm256_castps256_ps128(av));
        a1 = _mm256_cvtps_pd(_mm256_extractf128_ps(av, 1));
      } else {
        a0 = _mm256_loadu_pd(rows[r] + j);
        a1 = _mm256_loadu_pd(rows[r] + j + 4);
      }
      const __m256d e0 = _mm256_sub_pd(a0, c0), e1 = _mm256_sub_pd(a1, c1);
      s[r][0] = _mm256_fmadd_pd(e0, e0, s[r][0]);
      s[r][1] = _mm256_fmadd_pd(e1, e1, s[r][1]);
    }
  }
  for (int r = 0; r < 4; ++r) {
    alignas(32) double t[8];
    _mm256_store_pd(t, s[r][0]);
    _mm256_store_pd(t + 4, s[r][1]);
    for (index_t q = j; q < d; ++q) {
      const double e = static_cast<double>(rows[r][q]) - static_cast<double>(c[q]);
      t[q % 8] = std::fma(e, e, t[q % 8]);
    }
    out[r] = ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
  }
}
#else
#  define LADLE_EXACT_DISTANCE_FMA_KERNEL 0
#endif

/// Distances of four rows to c (the single-row formula, four times).
template <class T>
inline void exact_sq_distance_rows4(const T* const* rows, const T* c, index_t d,
                                    double* out) noexcept {
#if LADLE_EXACT_DISTANCE_FMA_KERNEL
  exact_sq_distance_fma4(rows, c, d, out);
#else
  for (int r = 0; r < 4; ++r) out[r] = exact_sq_distance_scalar(rows[r], c, d);
#endif
}

template <class T>
inline double exact_sq_distance_rows(const T* LADLE_RESTRICT a, const T* LADLE_RESTRICT b,
                                     index_t d) noexcept {
#if LADLE_EXACT_DISTANCE_FMA_KERNEL
  return exact_sq_distance_fma(a, b, d);
#else
  return exact_sq_distance_scalar(a, b, d);
#endif
}

}  // namespace detail
}  // namespace ladle
