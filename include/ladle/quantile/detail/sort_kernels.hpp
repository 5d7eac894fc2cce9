// ladle/quantile/detail/sort_kernels.hpp: the sorting pieces behind row repair and 1-D isotonic
// regression: a blocked sorting network for short rows and an LSD radix sort of double keys.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/simd.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace ladle {
namespace detail {
namespace quantile {

// Fully unrolls a loop over the row length (a compile-time constant <= network_max): GCC then
// vectorises the block transposes at -O2, which it otherwise does only at -O3.
#if defined(__clang__)
#  define LADLE_QUANTILE_UNROLL_ROW _Pragma("unroll")
#elif defined(__GNUC__)
#  define LADLE_QUANTILE_UNROLL_ROW _Pragma("GCC unroll 32")
#else
#  define LADLE_QUANTILE_UNROLL_ROW
#endif

constexpr int network_max = 32;    ///< rows up to this long go through the network
constexpr int network_lanes = 16;  ///< rows sorted together (one lane each)

/// Batcher's odd-even merge sort network for n inputs as a constant comparator list (a[i],
/// b[i]), so a kernel can unroll it over registers. Built for the next power of two; a
/// comparator touching a padding position is dropped, since padding would hold +infinity.
struct fixed_network {
  int size = 0;
  int a[256] = {};
  int b[256] = {};
};

constexpr fixed_network make_fixed_network(int n) {
  fixed_network out{};
  int p2 = 1;
  while (p2 < n) p2 <<= 1;
  for (int p = 1; p < p2; p <<= 1)
    for (int k = p; k >= 1; k >>= 1)
      for (int j = k % p; j + k < p2; j += 2 * k)
        for (int i = 0; i < (k < p2 - j - k ? k : p2 - j - k); ++i)
          if ((i + j) / (2 * p) == (i + j + k) / (2 * p) && i + j + k < n) {
            out.a[out.size] = i + j;
            out.b[out.size] = i + j + k;
            ++out.size;
          }
  return out;
}

template <int K>
struct network_of {
  static constexpr fixed_network value = make_fixed_network(K);
  static_assert(value.size <= 256, "network table too small");
};

/// One comparator: x and y are swapped where y < x (strictly), so equal values, -0.0 and +0.0
/// included, stay where they are. A compare and two selects are exact on every ISA, so the
/// bits are the same for SSE2, AVX2, AVX-512 and the scalar build.
template <class V>
LADLE_FORCE_INLINE void compare_exchange(V& x, V& y) noexcept {
#if LADLE_HAS_SIMD
  const auto swap = y < x;
  const V lo = simd::select(swap, y, x);
  y = simd::select(swap, x, y);
  x = lo;
#else
  const bool swap = y < x;
  const V lo = swap ? y : x;
  y = swap ? x : y;
  x = lo;
#endif
}

template <int K, class V, std::size_t... Is>
LADLE_FORCE_INLINE void run_network(V* r, std::index_sequence<Is...>) noexcept {
  (compare_exchange(r[network_of<K>::value.a[Is]], r[network_of<K>::value.b[Is]]), ...);
}

/// Sorts `rows` rows of length K (<= network_max) at q (row stride ld, unit column stride), 16
/// at a time: transposed into lanes (column c of the block is t[c]), loaded into K registers
/// (per batch of lanes), run through the unrolled network, transposed back. A last partial
/// block is padded with copies of its first row, so every row goes through the same
/// comparators whatever its position.
template <class T, int K>
void sort_rows_network_k(T* q, index_t rows, index_t ld) {
#if LADLE_HAS_SIMD
  using V = simd::batch<T>;
  constexpr int width = static_cast<int>(V::size);
#else
  using V = T;
  constexpr int width = 1;
#endif
  static_assert(network_lanes % width == 0, "lanes must fill whole batches");
  constexpr auto comparators = std::make_index_sequence<network_of<K>::value.size>{};
  alignas(64) T t[K][network_lanes];
  for (index_t i = 0; i < rows; i += network_lanes) {
    const int live = static_cast<int>(std::min<index_t>(network_lanes, rows - i));
    T* blk = q + i * ld;
    if (live == network_lanes) {
      for (int l = 0; l < network_lanes; ++l)
        LADLE_QUANTILE_UNROLL_ROW
        for (int c = 0; c < K; ++c) t[c][l] = blk[l * ld + c];
    } else {
      for (int l = 0; l < network_lanes; ++l)
        for (int c = 0; c < K; ++c) t[c][l] = blk[(l < live ? l : 0) * ld + c];
    }
    for (int l = 0; l < network_lanes; l += width) {
      V r[K];
#if LADLE_HAS_SIMD
      for (int c = 0; c < K; ++c) r[c] = V::load_aligned(t[c] + l);
      run_network<K>(r, comparators);
      for (int c = 0; c < K; ++c) r[c].store_aligned(t[c] + l);
#else
      for (int c = 0; c < K; ++c) r[c] = t[c][l];
      run_network<K>(r, comparators);
      for (int c = 0; c < K; ++c) t[c][l] = r[c];
#endif
    }
    if (live == network_lanes) {
      for (int l = 0; l < network_lanes; ++l)
        LADLE_QUANTILE_UNROLL_ROW
        for (int c = 0; c < K; ++c) blk[l * ld + c] = t[c][l];
    } else {
      for (int l = 0; l < live; ++l)
        for (int c = 0; c < K; ++c) blk[l * ld + c] = t[c][l];
    }
  }
}

template <class T, int... Ks>
void sort_rows_network_dispatch(T* q, index_t rows, index_t k, index_t ld,
                                std::integer_sequence<int, Ks...>) {
  using kernel = void (*)(T*, index_t, index_t);
  static constexpr kernel table[] = {&sort_rows_network_k<T, Ks + 2>...};
  table[k - 2](q, rows, ld);
}

/// Sorts `rows` packed rows of length k (2 <= k <= network_max) at q, row stride ld, by
/// Batcher's network; the row length is a compile-time constant inside.
template <class T>
void sort_rows_network(T* q, index_t rows, index_t k, index_t ld) {
  sort_rows_network_dispatch(q, rows, k, ld, std::make_integer_sequence<int, network_max - 1>{});
}

/// Whether p[0, n) holds no NaN or infinity, in explicit vector code (the scalar loop of
/// core's check vectorises only at -O3): v - v is +0.0 for a finite v and NaN otherwise, and
/// the sums of those stay +0.0 exactly when every element is finite (the same IEEE reasoning as
/// simd::nonfinite). Reads p once, no early exit (the error path rescans to name the offender).
template <class T>
bool all_finite_simd(const T* p, index_t n) noexcept {
  index_t i = 0;
#if LADLE_HAS_SIMD
  using V = simd::batch<T>;
  constexpr index_t w = static_cast<index_t>(V::size);
  V a0(T(0)), a1(T(0)), a2(T(0)), a3(T(0));
  for (; i + 4 * w <= n; i += 4 * w) {
    const V v0 = V::load_unaligned(p + i), v1 = V::load_unaligned(p + i + w);
    const V v2 = V::load_unaligned(p + i + 2 * w), v3 = V::load_unaligned(p + i + 3 * w);
    a0 += v0 - v0;
    a1 += v1 - v1;
    a2 += v2 - v2;
    a3 += v3 - v3;
  }
  for (; i + w <= n; i += w) {
    const V v = V::load_unaligned(p + i);
    a0 += v - v;
  }
  if (xsimd::any(xsimd::isnan((a0 + a1) + (a2 + a3)))) return false;
#endif
  for (; i < n; ++i)
    if (!std::isfinite(p[i])) return false;
  return true;
}

/// Order-preserving map of a double (not NaN) to an unsigned key; -0.0 and +0.0 map alike.
inline std::uint64_t double_key(double v) noexcept {
  v += 0.0;  // -0.0 -> +0.0
  std::uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return (b >> 63) ? ~b : (b | (std::uint64_t(1) << 63));
}

/// The double a key came from (+0.0 for either zero).
inline double key_double(std::uint64_t k) noexcept {
  const std::uint64_t b = (k >> 63) ? (k ^ (std::uint64_t(1) << 63)) : ~k;
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

/// Sorts keys[0..n) with their payload idx by key, stably (equal keys keep their order). LSD
/// radix sort, six passes of 11/11/11/11/10/10-bit digits (a 2048-entry histogram stays in L1);
/// all histograms come from one read of the keys, and passes whose digit is the same for every
/// key are skipped. ktmp and itmp are scratch of n elements; on return keys and idx point at
/// the sorted arrays (the inputs or the scratch) and ktmp, itmp at the other pair.
/// O(n) time, no allocation beyond 48 KiB of histograms.
inline void radix_sort_pairs(std::uint64_t*& keys, std::uint32_t*& idx, std::uint64_t*& ktmp,
                             std::uint32_t*& itmp, std::size_t n) {
  if (n == 0) return;
  constexpr int passes = 6;
  constexpr int shift[passes] = {0, 11, 22, 33, 44, 54};
  constexpr std::uint64_t mask[passes] = {2047, 2047, 2047, 2047, 1023, 1023};
  std::vector<std::uint32_t> count(static_cast<std::size_t>(passes) * 2048, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t k = keys[i];
    for (int p = 0; p < passes; ++p) ++count[p * 2048 + ((k >> shift[p]) & mask[p])];
  }
  for (int p = 0; p < passes; ++p) {
    std::uint32_t* c = count.data() + p * 2048;
    if (c[(keys[0] >> shift[p]) & mask[p]] == n) continue;  // one digit value: order unchanged
    std::uint32_t sum = 0;
    for (int d = 0; d < 2048; ++d) {
      const std::uint32_t v = c[d];
      c[d] = sum;
      sum += v;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t k = keys[i];
      const std::uint32_t d = c[(k >> shift[p]) & mask[p]]++;
      ktmp[d] = k;
      itmp[d] = idx[i];
    }
    std::swap(keys, ktmp);
    std::swap(idx, itmp);
  }
}

}  // namespace quantile
}  // namespace detail
}  // namespace ladle

#undef LADLE_QUANTILE_UNROLL_ROW
