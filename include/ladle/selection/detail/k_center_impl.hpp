// Definitions for ladle/selection/k_center.hpp.
#pragma once

#include "ladle/core/simd.hpp"
#include "ladle/core/simd_memory.hpp"
#include "ladle/detail/exact_distance.hpp"
#include "ladle/selection/detail/common.hpp"
#include "ladle/selection/detail/quantised_screen.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <type_traits>

namespace ladle {
namespace detail {

struct farthest {
  double value = -1;
  index_t pos = -1;
};

/// A cheap float32 estimate of the squared distance of two float rows: differences and their
/// squares summed in float, lanes in any order. Whatever the order, it exceeds the true squared
/// distance D by at most screen_shrink's relative factor plus d * 2^-149 (subnormal squares), or
/// is +inf on overflow, so it can prove that the exact distance is not below a threshold
/// (k-center: the row's minimum cannot change) without the exact double-precision pass.
inline float screen_sq_distance(const float* a, const float* b, index_t d) noexcept {
  index_t j = 0;
  float s = 0;
#if LADLE_HAS_SIMD
  using fb = simd::batch<float>;
  constexpr index_t lanes = static_cast<index_t>(fb::size);
  fb s0(0.0f), s1(0.0f);
  for (; j + 2 * lanes <= d; j += 2 * lanes) {
    simd::prefetch(a + j);  // rows are read in order: keep the stream ahead of the loads
    simd::prefetch(a + j + lanes);
    const fb e0 = fb::load_unaligned(a + j) - fb::load_unaligned(b + j);
    const fb e1 = fb::load_unaligned(a + j + lanes) - fb::load_unaligned(b + j + lanes);
    s0 = simd::fma(e0, e0, s0);
    s1 = simd::fma(e1, e1, s1);
  }
  s = simd::reduce_add(s0 + s1);
#endif
  for (; j < d; ++j) {
    const float e = a[j] - b[j];
    s = std::fma(e, e, s);
  }
  return s;
}

/// 1 - 2 gamma_{d+3} (gamma_n = n u / (1 - n u), u = 2^-24): screen_sq_distance times this, less
/// d * 2^-149, is below the true squared distance, and the exact double-precision value (relative
/// error far below gamma) is not below it either. Zero (no screening) for d >= 2^20.
inline double screen_shrink(index_t d) noexcept {
  if (d >= (index_t(1) << 20)) return 0;
  const double nu = static_cast<double>(d + 3) * 0x1p-24;
  return 1.0 - 2.0 * (nu / (1.0 - nu)) - 0x1p-40;
}

/// The proof screen_sq_distance and screen_shrink make: clears(c, r, d, v) is true only when
/// the exact squared distance of rows c and r is not below v (so a minimum v stays, and a
/// facility gain max(0, v - D) is +0). An infinite v, an overflowing estimate, double data and
/// d >= 2^20 are never cleared. Shared by k-center and facility location.
struct sq_distance_screen {
  double shrink, tiny;
  explicit sq_distance_screen(index_t d) noexcept
      : shrink(screen_shrink(d)), tiny(static_cast<double>(d) * 0x1p-149) {}
  bool clears(const float* c, const float* r, index_t d, double v) const noexcept {
    if (!(shrink > 0) || v == std::numeric_limits<double>::infinity()) return false;
    const double est = static_cast<double>(screen_sq_distance(c, r, d));
    return est <= std::numeric_limits<double>::max() && est * shrink - tiny >= v;
  }
  bool clears(const double*, const double*, index_t, double) const noexcept { return false; }
  /// All of the first `count` rows of c.
  template <class V>
  bool clears(const V* const* c, index_t count, const V* r, index_t d, double v) const noexcept {
    for (index_t q = 0; q < count; ++q)
      if (!clears(c[q], r, d, v)) return false;
    return true;
  }
};

/// Read hints for the cache lines of [p, p + bytes) (rows the exact pass will read soon).
inline void prefetch_bytes(const void* p, index_t bytes) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  const auto* c = static_cast<const char*>(p);
  for (index_t o = 0; o < bytes; o += 64) __builtin_prefetch(c + o, 0, 3);
  __builtin_prefetch(c + bytes - 1, 0, 3);
#else
  (void)p;
  (void)bytes;
#endif
}

/// The first maximum of v[q0, q1) when it exceeds best.value (the scalar loop's answer: the
/// lowest position of the block's largest value), the block maximum found with SIMD.
inline void block_farthest(const double* v, index_t q0, index_t q1, farthest& best) noexcept {
  index_t q = q0;
  double top = -std::numeric_limits<double>::infinity();
#if LADLE_HAS_SIMD
  using db = simd::batch<double>;
  constexpr index_t lanes = static_cast<index_t>(db::size);
  if (q1 - q0 >= lanes) {
    db mx = db::load_unaligned(v + q);
    for (q += lanes; q + lanes <= q1; q += lanes) mx = xsimd::max(mx, db::load_unaligned(v + q));
    alignas(64) double lane[db::size];
    mx.store_aligned(lane);
    for (index_t l = 0; l < lanes; ++l) top = std::max(top, lane[l]);
  }
#endif
  for (; q < q1; ++q) top = std::max(top, v[q]);
  if (!(top > best.value)) return;
  for (q = q0; v[q] != top; ++q) {
  }
  best = {top, q};
}

template <class Policy, class T>
k_center_result k_center_impl(const Policy& policy, matrix_view<T> X, const index_t* cand,
                              index_t m, index_t budget, seed s,
                              const std::vector<index_t>& initial, const char* fn,
                              index_t quantised_min_d = quantised_screen_min_d) {
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

  // Float rows with quantised_min_d <= d <= 65536 also get a one-byte-per-feature copy and its
  // proven screen (quantised_screen.hpp): per candidate position the codes, s, a = s^2 N, the
  // error bound e and the threshold t >= sqrt(min (1 + eta)) + e (+inf while the min is).
  constexpr bool is_float = std::is_same<value_t, float>::value;
  const bool quantised =
      is_float && d >= std::max<index_t>(1, quantised_min_d) && d <= quantised_screen_max_d;
  const index_t qstride = quantised ? quantised_stride(d) : 0;
  aligned_ptr<std::uint8_t> qcodes;
  std::vector<double> qs, qa, qe, qt;
  std::unique_ptr<quantised_centre> qc;
  if constexpr (is_float) {
    if (quantised) {
      qcodes = allocate_aligned<std::uint8_t>(m * qstride, fn, "X");
      qs = make_buffer<double>(m, fn, "X");
      qa = make_buffer<double>(m, fn, "X");
      qe = make_buffer<double>(m, fn, "X");
      qt = make_buffer<double>(m, fn, "X", unchosen);
      qc = std::make_unique<quantised_centre>(d);
      parallel_for(policy, m, 2048, [&](index_t begin, index_t end) {
        for (index_t p = begin; p < end; ++p)
          quantise_row(row(row_of(p)), d, qcodes.get() + p * qstride, qs[std::size_t(p)],
                       qa[std::size_t(p)], qe[std::size_t(p)]);
      });
    }
  }

  // One fused pass for a new centre: distances, min-update, argmax (ties to the lowest
  // position; chunks are folded in order, so the answer is the same for every policy). A row
  // is updated only when the exact distance is below its minimum, so skipping the rows a
  // screen proves are not leaves every bit as it was: the quantised screen when it is on,
  // else the float screen (float X); the rest get the exact distance.
  const sq_distance_screen screen(d);
  auto add_centre = [&](index_t r) {
    const index_t p = pos(r);
    if (p >= 0) mins[std::size_t(p)] = -1;  // chosen: never the farthest again
    const value_t* c = row(r);
    if constexpr (is_float) {
      if (quantised) {
        qc->set(c, d);
        if (p >= 0) qt[std::size_t(p)] = 0;  // its minimum is -1: skipped whatever the screen says
      }
    }
    double* mn = mins.data();
    return parallel_reduce(
        policy, m, 2048, farthest{},
        [&](index_t begin, index_t end) {
          farthest best;
          // Blocks of 256 positions: the screens list the rows they cannot clear, whose float
          // rows are then prefetched while the next block is screened; after that the listed
          // rows get the exact distance (four at a time) and the block's maximum is taken.
          index_t need[2][256], nn[2] = {0, 0};
          auto lower = [&](index_t q, double dist) {
            if (dist < mn[q]) {
              mn[q] = dist;
              if (quantised) qt[std::size_t(q)] = quantised_threshold(dist, qe[std::size_t(q)], d);
            }
          };
          auto finish = [&](const index_t* nd, index_t count, index_t q0, index_t q1) {
            index_t t = 0;
            for (; t + 4 <= count; t += 4) {
              const value_t* rows4[4] = {row(row_of(nd[t])), row(row_of(nd[t + 1])),
                                         row(row_of(nd[t + 2])), row(row_of(nd[t + 3]))};
              double dist[4];
              exact_sq_distance_rows4(rows4, c, d, dist);
              for (index_t u = 0; u < 4; ++u) lower(nd[t + u], dist[u]);
            }
            for (; t < count; ++t) lower(nd[t], exact_sq_distance_rows(row(row_of(nd[t])), c, d));
            block_farthest(mn, q0, q1, best);
          };
          int cur = 0;
          for (index_t q0 = begin; q0 < end; q0 += 256, cur ^= 1) {
            const index_t q1 = std::min<index_t>(end, q0 + 256);
            index_t* nd = need[cur];
            index_t count = 0;
            if (quantised) {
              const quantised_centre& cq = *qc;
              const std::uint8_t* codes = qcodes.get();
              index_t q = q0;
              for (; q + 8 <= q1; q += 8) {
                unsigned open = quantised_screen8(codes + q * qstride, qs.data() + q,
                                                  qa.data() + q, qt.data() + q, cq);
                for (index_t b = 0; open != 0; ++b, open >>= 1)
                  if ((open & 1u) != 0 && mn[q + b] >= 0) nd[count++] = q + b;
              }
              for (; q < q1; ++q) {
                const std::size_t uq = std::size_t(q);
                if (mn[q] >= 0 &&
                    !quantised_clears(quantised_biased_dot(codes + q * qstride, cq), qs[uq],
                                      qa[uq], qt[uq], cq))
                  nd[count++] = q;
              }
              for (index_t t = 0; t < count; ++t)
                prefetch_bytes(row(row_of(nd[t])), d * index_t(sizeof(value_t)));
            } else {
              for (index_t q = q0; q < q1; ++q) {
                const double v = mn[q];
                if (v < 0 || screen.clears(row(row_of(q)), c, d, v)) continue;
                nd[count++] = q;
              }
            }
            nn[cur] = count;
            if (q0 > begin) finish(need[cur ^ 1], nn[cur ^ 1], q0 - 256, q0);
          }
          if (end > begin) {
            const index_t last = begin + (end - begin - 1) / 256 * 256;
            finish(need[cur ^ 1], nn[cur ^ 1], last, end);
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
  if (element_size == sizeof(float) && d >= detail::quantised_screen_min_d &&
      d <= detail::quantised_screen_max_d) {  // codes, four doubles per candidate, the centre
    const auto stride = static_cast<std::size_t>(detail::quantised_stride(d));
    bytes += um * (stride + 4 * sizeof(double)) + 3 * stride;
  }
  return bytes;
}

}  // namespace ladle
