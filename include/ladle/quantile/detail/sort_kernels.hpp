// ladle/quantile/detail/sort_kernels.hpp: the sorting pieces behind row repair and 1-D isotonic
// regression: a blocked sorting network for short rows and an LSD radix sort of double keys.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/error.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace ladle {
namespace detail {
namespace quantile {

/// Batcher's odd-even merge sort network for n inputs (built for the next power of two; a
/// comparator touching a padding position is dropped, since padding would hold +infinity).
inline std::vector<std::pair<int, int>> batcher_network(int n) {
  int p2 = 1;
  while (p2 < n) p2 <<= 1;
  std::vector<std::pair<int, int>> out;
  for (int p = 1; p < p2; p <<= 1)
    for (int k = p; k >= 1; k >>= 1)
      for (int j = k % p; j + k < p2; j += 2 * k)
        for (int i = 0; i < std::min(k, p2 - j - k); ++i)
          if ((i + j) / (2 * p) == (i + j + k) / (2 * p) && i + j + k < n)
            out.emplace_back(i + j, i + j + k);
  return out;
}

constexpr int network_max = 32;  ///< rows up to this long go through the network
constexpr int network_lanes = 16;  ///< rows sorted together (one lane each)

/// Sorts `rows` packed rows of length k (k <= network_max) starting at q, row stride ld.
/// Rows are transposed into lanes so each comparator is a vector min/max over 16 rows.
template <class T>
void sort_rows_network(T* q, index_t rows, index_t k, index_t ld,
                       const std::vector<std::pair<int, int>>& net) {
  T t[network_max][network_lanes];
  index_t i = 0;
  for (; i + network_lanes <= rows; i += network_lanes) {
    for (int l = 0; l < network_lanes; ++l)
      for (index_t c = 0; c < k; ++c) t[c][l] = q[(i + l) * ld + c];
    for (const auto& cmp : net) {
      T* a = t[cmp.first];
      T* b = t[cmp.second];
      for (int l = 0; l < network_lanes; ++l) {
        const T lo = a[l] < b[l] ? a[l] : b[l];
        const T hi = a[l] < b[l] ? b[l] : a[l];
        a[l] = lo;
        b[l] = hi;
      }
    }
    for (int l = 0; l < network_lanes; ++l)
      for (index_t c = 0; c < k; ++c) q[(i + l) * ld + c] = t[c][l];
  }
  for (; i < rows; ++i) {  // tail rows: insertion sort
    T* r = q + i * ld;
    for (index_t j = 1; j < k; ++j) {
      const T v = r[j];
      index_t s = j;
      for (; s > 0 && v < r[s - 1]; --s) r[s] = r[s - 1];
      r[s] = v;
    }
  }
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
