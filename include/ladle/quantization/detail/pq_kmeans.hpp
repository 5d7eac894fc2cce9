// ladle/quantization/detail/pq_kmeans.hpp (detail): the distance kernels and the k-means used
// to train product-quantizer codebooks.
//
// Centroids are kept transposed (d x k) so one query slice is compared with all k centroids by
// streaming over k: the SIMD kernel runs across centroids, which is what pays for the small
// slice dimensions (4..32) PQ uses.
#pragma once

#include "ladle/core/parallel.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/simd.hpp"
#include "ladle/detail/mass_draw.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace ladle {
namespace detail {

/// out[c] = ||x - centroid_c||^2 (l2) or <x, centroid_c> (dot) for c < k; ct is d x k.
inline void pq_sub_scores_scalar(const float* x, const float* ct, index_t d, index_t k, bool dot,
                                 float* out) noexcept {
  for (index_t c = 0; c < k; ++c) out[c] = 0.0f;
  for (index_t j = 0; j < d; ++j) {
    const float xj = x[j];
    const float* row = ct + j * k;
    if (dot) {
      for (index_t c = 0; c < k; ++c) out[c] = std::fma(xj, row[c], out[c]);
    } else {
      for (index_t c = 0; c < k; ++c) {
        const float diff = xj - row[c];
        out[c] = std::fma(diff, diff, out[c]);
      }
    }
  }
}

inline void pq_sub_scores(const float* x, const float* ct, index_t d, index_t k, bool dot,
                          float* out) noexcept {
#if LADLE_HAS_SIMD
  using fb = simd::batch<float>;
  constexpr index_t w = static_cast<index_t>(fb::size);
  const index_t body = k - k % w;
  index_t c = 0;
  // Two batches of centroids at a time keep two accumulator chains in flight.
  for (; c + 2 * w <= body; c += 2 * w) {
    fb a0(0.0f), a1(0.0f);
    for (index_t j = 0; j < d; ++j) {
      const fb xj(x[j]);
      const fb r0 = fb::load_unaligned(ct + j * k + c), r1 = fb::load_unaligned(ct + j * k + c + w);
      if (dot) {
        a0 = simd::fma(xj, r0, a0);
        a1 = simd::fma(xj, r1, a1);
      } else {
        const fb d0 = xj - r0, d1 = xj - r1;
        a0 = simd::fma(d0, d0, a0);
        a1 = simd::fma(d1, d1, a1);
      }
    }
    a0.store_unaligned(out + c);
    a1.store_unaligned(out + c + w);
  }
  for (; c < body; c += w) {
    fb a0(0.0f);
    for (index_t j = 0; j < d; ++j) {
      const fb xj(x[j]);
      const fb r0 = fb::load_unaligned(ct + j * k + c);
      if (dot) {
        a0 = simd::fma(xj, r0, a0);
      } else {
        const fb d0 = xj - r0;
        a0 = simd::fma(d0, d0, a0);
      }
    }
    a0.store_unaligned(out + c);
  }
  for (; c < k; ++c) {
    float acc = 0.0f;
    for (index_t j = 0; j < d; ++j) {
      const float v = ct[j * k + c];
      const float t = dot ? x[j] : x[j] - v;
      acc = std::fma(t, dot ? v : t, acc);
    }
    out[c] = acc;
  }
#else
  pq_sub_scores_scalar(x, ct, d, k, dot, out);
#endif
}

/// Index of the smallest entry (ties: lower index); scalar reference.
inline index_t pq_argmin_scalar(const float* v, index_t k) noexcept {
  index_t best = 0;
  for (index_t c = 1; c < k; ++c)
    if (v[c] < v[best]) best = c;
  return best;
}

/// Same result as pq_argmin_scalar: the minimum by a SIMD reduction, then its first position
/// (a serial compare-and-keep chain is the slow part of encoding otherwise).
inline index_t pq_argmin(const float* v, index_t k) noexcept {
#if LADLE_HAS_SIMD
  using fb = simd::batch<float>;
  constexpr index_t w = static_cast<index_t>(fb::size);
  if (k >= 2 * w) {
    const index_t body = k - k % w;
    fb m = fb::load_unaligned(v);
    for (index_t c = w; c < body; c += w) m = xsimd::min(m, fb::load_unaligned(v + c));
    float best = simd::reduce_min(m);
    for (index_t c = body; c < k; ++c) best = std::min(best, v[c]);
    const fb vb(best);
    for (index_t c = 0; c < body; c += w) {
      const std::uint64_t bits = simd::mask_bits(fb::load_unaligned(v + c) == vb);
      if (bits != 0) {
        index_t lane = 0;
        while (((bits >> lane) & 1u) == 0) ++lane;
        return c + lane;
      }
    }
    for (index_t c = body; c < k; ++c)
      if (v[c] == best) return c;
  }
#endif
  return pq_argmin_scalar(v, k);
}

inline double pq_sqdist(const float* a, const float* b, index_t d) noexcept {
  double s = 0;
  for (index_t j = 0; j < d; ++j) {
    const double t = static_cast<double>(a[j]) - static_cast<double>(b[j]);
    s = std::fma(t, t, s);
  }
  return s;
}

inline void pq_transpose(const float* c, index_t k, index_t d, float* ct) noexcept {
  for (index_t i = 0; i < k; ++i)
    for (index_t j = 0; j < d; ++j) ct[j * k + i] = c[i * d + j];
}

/// k-means on n x d contiguous floats. Writes k x d centroids and appends the objective after
/// every assignment step to `history`. Deterministic for a given (g) and any policy.
template <class Policy>
void pq_kmeans(const Policy& policy, const float* x, index_t n, index_t d, index_t k, int iterations,
               int trials, philox g, float* centroids, std::vector<double>& history) {
  const index_t grain = 1024;
  const auto un = static_cast<std::size_t>(n);
  // ---- greedy k-means++ seeding --------------------------------------------------------------
  std::vector<double> dist(un), cand_dist(un), best_dist(un), prefix(un);
  index_t first = uniform_index(g, n);
  std::copy(x + first * d, x + (first + 1) * d, centroids);
  parallel_for(policy, n, grain, [&](index_t b, index_t e) {
    for (index_t i = b; i < e; ++i) dist[static_cast<std::size_t>(i)] = pq_sqdist(x + i * d, centroids, d);
  });
  auto sum_of = [&](const std::vector<double>& v) {
    return parallel_reduce(
        policy, n, grain, 0.0,
        [&](index_t b, index_t e) {
          double s = 0;
          for (index_t i = b; i < e; ++i) s += v[static_cast<std::size_t>(i)];
          return s;
        },
        [](double a, double b) { return a + b; });
  };
  for (index_t c = 1; c < k; ++c) {
    const double total = running_sums(dist, prefix);
    double best_pot = std::numeric_limits<double>::infinity();
    index_t best_idx = -1;
    for (int t = 0; t < trials; ++t) {
      const index_t idx = draw_by_mass(g, dist, prefix, total);
      const float* cand = x + idx * d;
      parallel_for(policy, n, grain, [&](index_t b, index_t e) {
        for (index_t i = b; i < e; ++i) {
          const auto ui = static_cast<std::size_t>(i);
          cand_dist[ui] = std::min(dist[ui], pq_sqdist(x + i * d, cand, d));
        }
      });
      const double pot = sum_of(cand_dist);
      if (pot < best_pot) {
        best_pot = pot;
        best_idx = idx;
        best_dist.swap(cand_dist);
      }
    }
    std::copy(x + best_idx * d, x + (best_idx + 1) * d, centroids + c * d);
    dist.swap(best_dist);
  }
  // ---- Lloyd iterations ----------------------------------------------------------------------
  std::vector<float> ct(static_cast<std::size_t>(k * d));
  std::vector<std::int32_t> assign(un, -1);
  std::vector<double> sums(static_cast<std::size_t>(k * d));
  std::vector<index_t> counts(static_cast<std::size_t>(k));
  auto assign_step = [&]() -> index_t {  // returns how many assignments changed
    pq_transpose(centroids, k, d, ct.data());
    return parallel_reduce(
        policy, n, grain, index_t(0),
        [&](index_t b, index_t e) {
          std::vector<float> scores(static_cast<std::size_t>(k));
          index_t changed = 0;
          for (index_t i = b; i < e; ++i) {
            pq_sub_scores(x + i * d, ct.data(), d, k, false, scores.data());
            const auto best = static_cast<std::int32_t>(pq_argmin(scores.data(), k));
            const auto ui = static_cast<std::size_t>(i);
            changed += assign[ui] != best ? 1 : 0;
            assign[ui] = best;
            dist[ui] = pq_sqdist(x + i * d, centroids + best * d, d);
          }
          return changed;
        },
        [](index_t a, index_t b) { return a + b; });
  };
  for (int it = 0;; ++it) {
    const index_t changed = assign_step();
    // Re-seed empty clusters with the farthest points (taken out of their clusters).
    std::fill(counts.begin(), counts.end(), 0);
    for (std::size_t i = 0; i < un; ++i) ++counts[static_cast<std::size_t>(assign[i])];
    bool reseeded = false;
    for (index_t c = 0; c < k; ++c) {
      if (counts[static_cast<std::size_t>(c)] != 0) continue;
      std::size_t far = 0;
      for (std::size_t i = 1; i < un; ++i)
        if (dist[i] > dist[far]) far = i;
      if (dist[far] == 0) break;  // fewer distinct points than clusters: nothing to gain
      --counts[static_cast<std::size_t>(assign[far])];
      assign[far] = static_cast<std::int32_t>(c);
      counts[static_cast<std::size_t>(c)] = 1;
      dist[far] = 0;
      std::copy(x + static_cast<index_t>(far) * d, x + (static_cast<index_t>(far) + 1) * d, centroids + c * d);
      reseeded = true;
    }
    history.push_back(sum_of(dist));
    if ((changed == 0 && !reseeded && it > 0) || it >= iterations) break;
    // Update: means in double, sequential (cheap next to the assignment).
    std::fill(sums.begin(), sums.end(), 0.0);
    for (index_t i = 0; i < n; ++i) {
      double* s = sums.data() + assign[static_cast<std::size_t>(i)] * d;
      for (index_t j = 0; j < d; ++j) s[j] += static_cast<double>(x[i * d + j]);
    }
    for (index_t c = 0; c < k; ++c) {
      const index_t cnt = counts[static_cast<std::size_t>(c)];
      if (cnt == 0) continue;  // (only when points are exhausted: keep the centroid)
      for (index_t j = 0; j < d; ++j)
        centroids[c * d + j] = static_cast<float>(sums[static_cast<std::size_t>(c * d + j)] / static_cast<double>(cnt));
    }
  }
}

}  // namespace detail
}  // namespace ladle
