// ladle/neighbors/detail/knn_kernel.hpp: the register-blocked filter kernel of the exact kNN.
//
// The filter value of query i and reference j is a_j + sum_f q''_if r'_jf, with q'' = -2 q' (the
// centred query scaled by -2, exact) and a_j = (1 - c) |r'_j|^2 (see knn_impl.hpp). This file
// computes it for MR queries x NR references at a time, in MR x NV vector accumulators that never
// leave the registers, and compares the result against each query's threshold in the same pass:
// only a row with a survivor is stored (NR values) and handed to the candidate scan.
//
// Layouts (both zero-padded, so the kernel has no tails):
//  * reference panel p: NR consecutive references, feature-major: panel[f * NR + l] = r'_{p NR + l, f};
//    its a values in a separate array, +inf for the padding columns (inf never passes a compare,
//    not even against an infinite threshold);
//  * query group g: MR consecutive queries, feature-major: group[f * MR + i] = q''_{g MR + i, f}.
// The references are packed once per search (shared by all threads); each query tile is packed
// once by the thread that owns it.
//
// Rounding: each accumulator is a d-term dot product summed in T in feature order, by fused or
// unfused multiply-adds (whatever the target and the compiler's contraction choose); every such
// order has the same gamma_d error bound the filter's threshold allows for, and the filter never
// decides a result, only which references get re-measured exactly. So results are the same on
// every path even though the filter values themselves may differ in the last bits.
//
// Register budget: MR * NV accumulators + NV reference vectors + 1 broadcast must fit the vector
// register file: 32 registers on AVX-512 (8 x 3: 24 + 4), 16 on AVX2 and SSE (6 x 2: 12 + 3).
// The scalar reference path (LADLE_DISABLE_SIMD, or no xsimd architecture) uses 4 x 2 scalars.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/simd.hpp"

#include <cstddef>
#include <type_traits>

namespace ladle {
namespace detail {
namespace knn {

/// Kernel shape for element type T on this build: MR query rows x NV vectors of `lanes` values.
template <class T>
struct kernel_shape {
#if LADLE_HAS_SIMD
  using vec = simd::batch<T>;
  static constexpr index_t lanes = static_cast<index_t>(simd::lanes<T>);
  static constexpr bool wide = sizeof(T) * simd::lanes<T> >= 64;  // 32 vector registers
  // (Measured on Zen 5 AVX-512, float, d = 16..256: 8 x 3 beat 6 x 4, 4 x 4 and 12 x 2.)
  static constexpr index_t mr = wide ? 8 : 6;
  static constexpr index_t nv = wide ? 3 : 2;
#else
  using vec = T;
  static constexpr index_t lanes = 1;
  static constexpr index_t mr = 4;
  static constexpr index_t nv = 2;
#endif
  static constexpr index_t nr = nv * lanes;  ///< references per panel
};

template <class V, class T>
LADLE_FORCE_INLINE V kernel_load(const T* p) noexcept {
  if constexpr (std::is_same<V, T>::value) {
    return *p;
  } else {
    return V::load_aligned(p);  // panels are 64-byte aligned and NR * sizeof(T) is a vector multiple
  }
}

template <class V>
LADLE_FORCE_INLINE V kernel_fma(const V& a, const V& b, const V& c) noexcept {
#if LADLE_HAS_SIMD
  if constexpr (!std::is_floating_point<V>::value) return xsimd::fma(a, b, c);
#endif
  return a * b + c;  // fused or not: both within the filter's bound
}

template <class V>
LADLE_FORCE_INLINE bool kernel_any(const V& below) noexcept {
#if LADLE_HAS_SIMD
  if constexpr (!std::is_same<V, bool>::value) {
    return xsimd::any(below);
  } else {
    return below;
  }
#else
  return below;
#endif
}

/// Filter values of one query group against one reference panel, screened in place.
///
/// qg: the group (d x MR, feature-major), rp: the panel (d x NR), ap: the panel's a values (NR),
/// th: the thresholds of the group's rows, rows: how many of the MR rows are real (the rest are
/// padding and never screened). For every real row i with some a_l + dot_l < th[i], stores the NR
/// dot products (without a) into `lane` (NR values) and calls on_row(i), which rescans them with
/// scan_row (the same IEEE sums a_l + dot_l, in ascending column order) and may lower th[i].
template <class T, class OnRow>
LADLE_FORCE_INLINE void filter_panel(const T* LADLE_RESTRICT qg, const T* LADLE_RESTRICT rp,
                                     const T* LADLE_RESTRICT ap, index_t d, const T* th,
                                     index_t rows, T* LADLE_RESTRICT lane, OnRow&& on_row) {
  using shape = kernel_shape<T>;
  using V = typename shape::vec;
  constexpr index_t MR = shape::mr, NV = shape::nv, L = shape::lanes, NR = shape::nr;
  V acc[MR][NV];
#if defined(__GNUC__)
#  pragma GCC unroll 8
#endif
  for (index_t i = 0; i < MR; ++i)
#if defined(__GNUC__)
#  pragma GCC unroll 4
#endif
    for (index_t v = 0; v < NV; ++v) acc[i][v] = V(T(0));
  for (index_t f = 0; f < d; ++f) {
    V b[NV];
#if defined(__GNUC__)
#  pragma GCC unroll 4
#endif
    for (index_t v = 0; v < NV; ++v) b[v] = kernel_load<V>(rp + f * NR + v * L);
#if defined(__GNUC__)
#  pragma GCC unroll 8
#endif
    for (index_t i = 0; i < MR; ++i) {
      const V q(qg[f * MR + i]);
#if defined(__GNUC__)
#  pragma GCC unroll 4
#endif
      for (index_t v = 0; v < NV; ++v) acc[i][v] = kernel_fma(q, b[v], acc[i][v]);
    }
  }
  V a[NV];
#if defined(__GNUC__)
#  pragma GCC unroll 4
#endif
  for (index_t v = 0; v < NV; ++v) a[v] = kernel_load<V>(ap + v * L);
#if defined(__GNUC__)
#  pragma GCC unroll 8
#endif
  for (index_t i = 0; i < MR; ++i) {
    if (i >= rows) break;
    const V t(th[i]);
    auto below = (acc[i][0] + a[0]) < t;
#if defined(__GNUC__)
#  pragma GCC unroll 4
#endif
    for (index_t v = 1; v < NV; ++v) below = below | ((acc[i][v] + a[v]) < t);
    if (!kernel_any(below)) continue;  // the common case once the lists are full
#if defined(__GNUC__)
#  pragma GCC unroll 4
#endif
    for (index_t v = 0; v < NV; ++v) {
      if constexpr (std::is_same<V, T>::value) {
        lane[v] = acc[i][v];
      } else {
        acc[i][v].store_unaligned(lane + v * L);
      }
    }
    on_row(i);
  }
}

}  // namespace knn
}  // namespace detail
}  // namespace ladle
