// Definitions for ladle/selection/k_center.hpp.
#pragma once

#include "ladle/core/simd.hpp"
#include "ladle/selection/detail/common.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#if defined(__AVX2__) && defined(__FMA__)
#  include <immintrin.h>
#endif

namespace ladle {
namespace detail {

/// Exact squared distance in one fixed order (see k_center.hpp): the formula of
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
#  define LADLE_K_CENTER_FMA_KERNEL 1
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
#  define LADLE_K_CENTER_FMA_KERNEL 0
#endif

/// Distances of four rows to c (the single-row formula, four times).
template <class T>
inline void exact_sq_distance_rows4(const T* const* rows, const T* c, index_t d,
                                    double* out) noexcept {
#if LADLE_K_CENTER_FMA_KERNEL
  exact_sq_distance_fma4(rows, c, d, out);
#else
  for (int r = 0; r < 4; ++r) out[r] = exact_sq_distance_scalar(rows[r], c, d);
#endif
}

template <class T>
inline double exact_sq_distance_rows(const T* LADLE_RESTRICT a, const T* LADLE_RESTRICT b,
                                     index_t d) noexcept {
#if LADLE_K_CENTER_FMA_KERNEL
  return exact_sq_distance_fma(a, b, d);
#else
  return exact_sq_distance_scalar(a, b, d);
#endif
}

struct farthest {
  double value = -1;
  index_t pos = -1;
};

template <class Policy, class T>
k_center_result k_center_impl(const Policy& policy, matrix_view<T> X, const index_t* cand,
                              index_t m, index_t budget, seed s,
                              const std::vector<index_t>& initial, const char* fn) {
  using value_t = std::remove_const_t<T>;
  static_assert(std::is_same<value_t, float>::value || std::is_same<value_t, double>::value,
                "ladle::k_center_greedy: X must be float or double");
  require_host(X, fn, "X");
  require_nonempty(X, fn, "X");
  const index_t n = X.extent(0), d = X.extent(1);
  require_finite(X, fn, "X");
  // Candidate position of each row (-1: not a candidate).
  std::vector<index_t> pos_of;
  if (cand != nullptr) {
    pos_of.assign(static_cast<std::size_t>(n), -1);
    for (index_t p = 0; p < m; ++p) {
      if (cand[p] < 0 || cand[p] >= n)
        throw_invalid_argument(fn, "candidates", "has ", cand[p], " at position ", p,
                               ", outside [0, ", n, ")");
      if (pos_of[std::size_t(cand[p])] != -1)
        throw_invalid_argument(fn, "candidates", "repeats row ", cand[p]);
      pos_of[std::size_t(cand[p])] = p;
    }
  }
  auto row_of = [&](index_t p) { return cand != nullptr ? cand[p] : p; };
  auto pos = [&](index_t row) { return cand != nullptr ? pos_of[std::size_t(row)] : row; };
  std::vector<bool> seen(static_cast<std::size_t>(n), false);
  index_t taken = 0;
  for (std::size_t t = 0; t < initial.size(); ++t) {
    const index_t r = initial[t];
    if (r < 0 || r >= n)
      throw_invalid_argument(fn, "initial", "has ", r, " at position ", t, ", outside [0, ", n,
                             ")");
    if (seen[std::size_t(r)]) throw_invalid_argument(fn, "initial", "repeats row ", r);
    seen[std::size_t(r)] = true;
    taken += pos(r) >= 0;
  }
  if (budget < 0) throw_invalid_argument(fn, "budget", "must not be negative, got ", budget);
  if (budget > m - taken)
    throw_invalid_argument(fn, "budget", "is ", budget, " but only ", m - taken,
                           " rows are not chosen yet");

  // Rows as contiguous vectors: X itself when its rows are, else a packed copy.
  std::vector<value_t> packed;
  const value_t* base = X.data();
  index_t ld = X.stride(0);
  if (X.stride(1) != 1 && d > 1) {
    packed.resize(static_cast<std::size_t>(n * d));
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < d; ++j) packed[std::size_t(i * d + j)] = X(i, j);
    base = packed.data();
    ld = d;
  }
  auto row = [&](index_t r) { return base + r * ld; };

  constexpr double unchosen = std::numeric_limits<double>::infinity();
  std::vector<double> mins(static_cast<std::size_t>(m), unchosen);
  // One fused pass for a new centre: distances, min-update, argmax (ties to the lowest
  // position; chunks are folded in order, so the answer is the same for every policy).
  auto add_centre = [&](index_t r) {
    const index_t p = pos(r);
    if (p >= 0) mins[std::size_t(p)] = -1;  // chosen: never the farthest again
    const value_t* c = row(r);
    double* mn = mins.data();
    return parallel_reduce(
        policy, m, 2048, farthest{},
        [&](index_t begin, index_t end) {
          farthest best;
          index_t q = begin;
          for (; q + 4 <= end; q += 4) {
            if (mn[q] < 0 && mn[q + 1] < 0 && mn[q + 2] < 0 && mn[q + 3] < 0) continue;
            const value_t* rows4[4] = {row(row_of(q)), row(row_of(q + 1)), row(row_of(q + 2)),
                                       row(row_of(q + 3))};
            double dist[4];
            exact_sq_distance_rows4(rows4, c, d, dist);
            for (index_t r = 0; r < 4; ++r) {
              double v = mn[q + r];
              if (v < 0) continue;
              if (dist[r] < v) mn[q + r] = v = dist[r];
              if (v > best.value) best = {v, q + r};
            }
          }
          for (; q < end; ++q) {
            double v = mn[q];
            if (v < 0) continue;
            const double dist = exact_sq_distance_rows(row(row_of(q)), c, d);
            if (dist < v) mn[q] = v = dist;
            if (v > best.value) best = {v, q};
          }
          return best;
        },
        [](farthest a, farthest b) { return b.value > a.value ? b : a; });
  };

  k_center_result res;
  res.order.reserve(static_cast<std::size_t>(budget));
  res.gains.reserve(static_cast<std::size_t>(budget));
  farthest next;
  for (const index_t r : initial) next = add_centre(r);
  if (initial.empty() && budget > 0) {
    philox g(s, stream_k_center);
    const index_t r = row_of(uniform_index(g, m));
    res.order.push_back(r);
    res.gains.push_back(std::numeric_limits<double>::infinity());
    next = add_centre(r);
  }
  while (static_cast<index_t>(res.order.size()) < budget) {
    const index_t r = row_of(next.pos);
    res.order.push_back(r);
    res.gains.push_back(std::sqrt(next.value));
    next = add_centre(r);
  }
  if (initial.empty() && budget == 0)
    res.radius = std::numeric_limits<double>::infinity();  // no centre at all
  else
    res.radius = next.pos < 0 ? 0.0 : std::sqrt(next.value);
  return res;
}

}  // namespace detail

template <class Policy, class T>
k_center_result k_center_greedy(const Policy& policy, matrix_view<T> X, index_t budget, seed s,
                                const std::vector<index_t>& initial) {
  return detail::k_center_impl(policy, X, nullptr, X.extent(0), budget, s, initial,
                               "k_center_greedy");
}

template <class T>
k_center_result k_center_greedy(matrix_view<T> X, index_t budget, seed s,
                                const std::vector<index_t>& initial) {
  return k_center_greedy(seq, X, budget, s, initial);
}

template <class Policy, class T>
k_center_result k_center_greedy(const Policy& policy, matrix_view<T> X,
                                const std::vector<index_t>& candidates, index_t budget, seed s,
                                const std::vector<index_t>& initial) {
  if (candidates.empty())
    throw_invalid_argument("k_center_greedy", "candidates", "is empty");
  return detail::k_center_impl(policy, X, candidates.data(),
                               static_cast<index_t>(candidates.size()), budget, s, initial,
                               "k_center_greedy");
}

inline std::size_t k_center_workspace_bytes(index_t m, index_t n, index_t d,
                                            std::size_t element_size, bool rows_contiguous) {
  const auto um = static_cast<std::size_t>(m), un = static_cast<std::size_t>(n);
  std::size_t bytes = um * sizeof(double) + un / 8 + 1;  // mins + chosen flags
  if (m != n) bytes += un * sizeof(index_t);               // candidate positions
  if (!rows_contiguous) bytes += un * static_cast<std::size_t>(d) * element_size;
  return bytes;
}

}  // namespace ladle
