// Definitions for ladle/selection/facility_location.hpp.
#pragma once

#include "ladle/core/checks.hpp"
#include "ladle/core/size.hpp"
#include "ladle/selection/detail/common.hpp"
#include "ladle/selection/detail/k_center_impl.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace ladle {
namespace detail {

/// Rows summed per chunk of a gain: fixed, so a gain has the same bits for every policy.
constexpr index_t facility_chunk = 1024;

template <class V>
struct facility_rows {
  const V* base;
  index_t ld, n, d;
  const V* row(index_t r) const noexcept { return base + r * ld; }
};

/// Candidates evaluated together: each row of X is read once per batch, not once per candidate.
constexpr index_t facility_batch = 8;

/// For candidates c[0..m) (m <= facility_batch, padded to a multiple of four by repeating the
/// last), s[q] = sum over rows i in [b, e) of max(0, mind[i] - D(i, c[q])), in row order. Rows
/// already at distance 0 (chosen rows, duplicates of them) add +0 and are skipped, which changes
/// no bit. D(i, c) is computed as D(c, i): the same bits ((a - b)^2 == (b - a)^2).
template <class V>
void facility_chunk_gains(const facility_rows<V>& X, const double* mind, const V* const* c,
                          index_t m, index_t b, index_t e, double* s) noexcept {
  const V* cp[facility_batch];
  const index_t padded = (m + 3) / 4 * 4;
  for (index_t q = 0; q < padded; ++q) cp[q] = c[std::min(q, m - 1)];
  double acc[facility_batch] = {};
  const sq_distance_screen screen(X.d);
  for (index_t i = b; i < e; ++i) {
    const double mi = mind[i];
    if (mi == 0) continue;
    const V* ri = X.row(i);
    double dist[facility_batch];
    for (index_t q = 0; q < padded; q += 4) {
      // Four candidates the float screen proves no nearer than mi add nothing: skip their
      // exact distances (dist = mi gives the same +0 the exact values would).
      if (screen.clears(cp + q, std::min<index_t>(4, m - q), ri, X.d, mi)) {
        for (index_t r = 0; r < 4; ++r) dist[q + r] = mi;
        continue;
      }
      exact_sq_distance_rows4(cp + q, ri, X.d, dist + q);
    }
    for (index_t q = 0; q < m; ++q) {
      const double t = mi - dist[q];
      if (t > 0) acc[q] += t;
    }
  }
  for (index_t q = 0; q < m; ++q) s[q] = acc[q];
}

/// Gains of candidates c[0..m) (m <= facility_batch) into out: chunk partials folded in order.
template <class V>
void facility_batch_gains(const facility_rows<V>& X, const double* mind, const V* const* c,
                          index_t m, double* out) noexcept {
  for (index_t q = 0; q < m; ++q) out[q] = 0;
  for (index_t b = 0; b < X.n; b += facility_chunk) {
    double part[facility_batch];
    facility_chunk_gains(X, mind, c, m, b, std::min(X.n, b + facility_chunk), part);
    for (index_t q = 0; q < m; ++q) out[q] += part[q];
  }
}

/// The same numbers, the row chunks spread over the policy's threads (a lazy re-evaluation).
template <class Policy, class V>
void facility_batch_gains_parallel(const Policy& policy, const facility_rows<V>& X,
                                   const double* mind, const V* const* c, index_t m,
                                   double* out) {
  struct sums {
    double v[facility_batch];
  };
  const sums total = parallel_reduce(
      policy, X.n, facility_chunk, sums{},
      [&](index_t b, index_t e) {
        sums p;
        facility_chunk_gains(X, mind, c, m, b, e, p.v);
        return p;
      },
      [m](sums a, const sums& p) {
        for (index_t q = 0; q < m; ++q) a.v[q] += p.v[q];
        return a;
      });
  for (index_t q = 0; q < m; ++q) out[q] = total.v[q];
}

/// Gains of the rows cand[0..m) into out[0..m), batches of candidates spread over threads.
template <class Policy, class V>
void facility_gains(const Policy& policy, const facility_rows<V>& X, const double* mind,
                    const index_t* cand, index_t m, double* out) {
  const index_t batches = (m + facility_batch - 1) / facility_batch;
  const index_t grain = std::max<index_t>(1, 8192 / std::max<index_t>(1, X.n));
  parallel_for(policy, batches, grain, [&](index_t b, index_t e) {
    for (index_t g = b; g < e; ++g) {
      const index_t first = g * facility_batch;
      const index_t count = std::min(facility_batch, m - first);
      const V* c[facility_batch];
      for (index_t q = 0; q < count; ++q) c[q] = X.row(cand[first + q]);
      facility_batch_gains(X, mind, c, count, out + first);
    }
  });
}

/// M = max over pairs of D(a, b), over the pairs a < b (max is exact, so any order gives it).
template <class Policy, class V>
double facility_max_sq_distance(const Policy& policy, const facility_rows<V>& X) {
  return parallel_reduce(
      policy, X.n, 16, 0.0,
      [&](index_t b, index_t e) {
        double mx = 0;
        for (index_t a = b; a < e; ++a) {
          const V* ra = X.row(a);
          index_t j = a + 1;
          for (; j + 4 <= X.n; j += 4) {
            const V* rows4[4] = {X.row(j), X.row(j + 1), X.row(j + 2), X.row(j + 3)};
            double dist[4];
            exact_sq_distance_rows4(rows4, ra, X.d, dist);
            mx = std::max(mx, std::max(std::max(dist[0], dist[1]), std::max(dist[2], dist[3])));
          }
          for (; j < X.n; ++j) mx = std::max(mx, exact_sq_distance_rows(X.row(j), ra, X.d));
        }
        return mx;
      },
      [](double a, double p) { return std::max(a, p); });
}

/// mind[i] = min(mind[i], D(i, c)) for every row.
template <class Policy, class V>
void facility_add(const Policy& policy, const facility_rows<V>& X, double* mind, index_t c) {
  const V* rc = X.row(c);
  const sq_distance_screen screen(X.d);
  parallel_for(policy, X.n, facility_chunk, [&](index_t b, index_t e) {
    // Rows whose minimum provably stays are left out; the rest get the exact distance, four
    // at a time.
    index_t need[4];
    index_t nn = 0;
    auto flush = [&] {
      if (nn == 4) {
        const V* rows4[4] = {X.row(need[0]), X.row(need[1]), X.row(need[2]), X.row(need[3])};
        double dist[4];
        exact_sq_distance_rows4(rows4, rc, X.d, dist);
        for (index_t r = 0; r < 4; ++r) mind[need[r]] = std::min(mind[need[r]], dist[r]);
      } else {
        for (index_t r = 0; r < nn; ++r)
          mind[need[r]] = std::min(mind[need[r]], exact_sq_distance_rows(X.row(need[r]), rc, X.d));
      }
      nn = 0;
    };
    for (index_t i = b; i < e; ++i) {
      if (mind[i] == 0 || screen.clears(X.row(i), rc, X.d, mind[i])) continue;
      need[nn++] = i;
      if (nn == 4) flush();
    }
    flush();
  });
  mind[c] = 0;  // D(c, c) is 0 already; explicit for clarity
}

/// Stale-gain heap entry; the heap's top is the largest gain, then the smallest row.
struct facility_entry {
  double gain;
  index_t row;
  index_t step;  // the step whose S the gain was computed for
};
struct facility_entry_below {
  bool operator()(const facility_entry& a, const facility_entry& b) const noexcept {
    return a.gain < b.gain || (a.gain == b.gain && a.row > b.row);
  }
};

/// Number of rows stochastic greedy evaluates per step, at most `remaining`.
inline index_t facility_sample_size(index_t n, index_t budget, double epsilon,
                                    index_t remaining) {
  const double want = std::ceil(double(n) / double(budget) * std::log(1.0 / epsilon));
  if (!(want < double(remaining))) return remaining;
  return std::max<index_t>(1, static_cast<index_t>(want));
}

template <class Policy, class T>
facility_location_result facility_location_impl(const Policy& policy, matrix_view<T> X,
                                                index_t budget,
                                                const facility_location_options& opt) {
  using value_t = std::remove_const_t<T>;
  static_assert(std::is_same<value_t, float>::value || std::is_same<value_t, double>::value,
                "ladle::facility_location: X must be float or double");
  static_assert(is_execution_policy_v<Policy>, "ladle::facility_location: not a policy");
  const char* fn = "facility_location";
  require_host(X, fn, "X");
  require_nonempty(X, fn, "X");
  const index_t n = X.extent(0), d = X.extent(1);
  if (budget < 1 || budget > n)
    throw_invalid_argument(fn, "budget", "is ", budget, " but must be in [1, ", n,
                           "] (the number of rows of X)");
  if (opt.method != facility_greedy::naive && opt.method != facility_greedy::lazy &&
      opt.method != facility_greedy::stochastic)
    throw_invalid_argument(fn, "options.method", "is not a facility_greedy value (",
                           static_cast<int>(opt.method), ")");
  if (opt.method == facility_greedy::stochastic && !(opt.epsilon > 0 && opt.epsilon < 1))
    throw_domain_error(fn, "options.epsilon", "is ", opt.epsilon, " but must be in (0, 1)");
  require_finite(X, fn, "X");

  // Rows as contiguous vectors: X itself when its rows are, else a packed copy.
  std::vector<value_t> packed;
  const value_t* base = X.data();
  index_t ld = X.stride(0);
  if (X.stride(1) != 1 && d > 1) {
    packed.resize(static_cast<std::size_t>(checked_mul(n, d, fn, "X")));
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < d; ++j) packed[std::size_t(i * d + j)] = X(i, j);
    base = packed.data();
    ld = d;
  }
  const facility_rows<value_t> rows{base, ld, n, d};

  facility_location_result res;
  const double M = facility_max_sq_distance(policy, rows);
  if (!std::isfinite(M))
    throw_domain_error(fn, "X", "has squared distances that overflow a double");
  res.max_sq_distance = M;
  res.order.reserve(static_cast<std::size_t>(budget));
  res.gains.reserve(static_cast<std::size_t>(budget));

  // mind[i]: squared distance of row i to the chosen set (M for the empty set, sim = 0).
  std::vector<double> mind(static_cast<std::size_t>(n), M);
  std::vector<char> chosen(static_cast<std::size_t>(n), 0);
  auto pick = [&](index_t c, double gain) {
    res.order.push_back(c);
    res.gains.push_back(gain);
    chosen[std::size_t(c)] = 1;
    facility_add(policy, rows, mind.data(), c);
  };

  if (opt.method == facility_greedy::naive) {
    std::vector<index_t> cand(static_cast<std::size_t>(n));
    std::vector<double> gains(static_cast<std::size_t>(n));
    for (index_t t = 0; t < budget; ++t) {
      index_t m = 0;
      for (index_t i = 0; i < n; ++i)
        if (!chosen[std::size_t(i)]) cand[std::size_t(m++)] = i;
      facility_gains(policy, rows, mind.data(), cand.data(), m, gains.data());
      res.evaluations += m;
      index_t best = 0;  // ascending rows: the first maximum is the smallest row
      for (index_t q = 1; q < m; ++q)
        if (gains[std::size_t(q)] > gains[std::size_t(best)]) best = q;
      pick(cand[std::size_t(best)], gains[std::size_t(best)]);
    }
  } else if (opt.method == facility_greedy::lazy) {
    std::vector<index_t> all(static_cast<std::size_t>(n));
    std::vector<double> gains(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) all[std::size_t(i)] = i;
    facility_gains(policy, rows, mind.data(), all.data(), n, gains.data());
    res.evaluations += n;
    std::vector<facility_entry> heap(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) heap[std::size_t(i)] = {gains[std::size_t(i)], i, 0};
    std::vector<double>().swap(gains);
    std::vector<index_t>().swap(all);
    const facility_entry_below below;
    std::make_heap(heap.begin(), heap.end(), below);
    for (index_t t = 0; t < budget; ++t) {
      for (;;) {
        std::pop_heap(heap.begin(), heap.end(), below);
        if (heap.back().step == t) break;  // fresh: at least every other entry's upper bound
        // Re-evaluate the stale top together with the next stale entries (up to a batch):
        // extra fresh gains are still upper bounds, so the choice is unchanged.
        index_t m = 0;
        index_t batch_rows[facility_batch];
        batch_rows[m++] = heap.back().row;
        heap.pop_back();
        while (m < facility_batch && !heap.empty() && heap.front().step != t) {
          std::pop_heap(heap.begin(), heap.end(), below);
          batch_rows[m++] = heap.back().row;
          heap.pop_back();
        }
        const value_t* c[facility_batch];
        for (index_t q = 0; q < m; ++q) c[q] = rows.row(batch_rows[q]);
        double fresh[facility_batch];
        facility_batch_gains_parallel(policy, rows, mind.data(), c, m, fresh);
        res.evaluations += m;
        for (index_t q = 0; q < m; ++q) {
          heap.push_back({fresh[q], batch_rows[q], t});
          std::push_heap(heap.begin(), heap.end(), below);
        }
      }
      const facility_entry top = heap.back();
      heap.pop_back();
      pick(top.row, top.gain);
    }
  } else {
    philox g(opt.seed, stream_facility_location);
    std::vector<index_t> rem(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) rem[std::size_t(i)] = i;
    std::vector<double> gains;
    for (index_t t = 0; t < budget; ++t) {
      const index_t m = n - t;
      const index_t s = facility_sample_size(n, budget, opt.epsilon, m);
      for (index_t j = 0; j < s; ++j)  // partial Fisher-Yates: rem[0..s) is the sample
        std::swap(rem[std::size_t(j)], rem[std::size_t(j + uniform_index(g, m - j))]);
      gains.resize(static_cast<std::size_t>(s));
      facility_gains(policy, rows, mind.data(), rem.data(), s, gains.data());
      res.evaluations += s;
      index_t best = 0;
      for (index_t q = 1; q < s; ++q) {
        const double gq = gains[std::size_t(q)], gb = gains[std::size_t(best)];
        if (gq > gb || (gq == gb && rem[std::size_t(q)] < rem[std::size_t(best)])) best = q;
      }
      const index_t c = rem[std::size_t(best)];
      std::swap(rem[std::size_t(best)], rem[std::size_t(m - 1)]);
      pick(c, gains[std::size_t(best)]);
    }
  }

  // f(S) = sum_i (M - mind[i]), chunks of rows folded in order.
  res.objective = 0;
  for (index_t b = 0; b < n; b += facility_chunk) {
    double s = 0;
    for (index_t i = b; i < std::min(n, b + facility_chunk); ++i) s += M - mind[std::size_t(i)];
    res.objective += s;
  }
  return res;
}

}  // namespace detail

template <class Policy, class T>
facility_location_result facility_location(const Policy& policy, matrix_view<T> X,
                                           index_t budget,
                                           const facility_location_options& options) {
  return detail::facility_location_impl(policy, X, budget, options);
}

template <class T>
facility_location_result facility_location(matrix_view<T> X, index_t budget,
                                           const facility_location_options& options) {
  return detail::facility_location_impl(seq, X, budget, options);
}

inline std::size_t facility_location_workspace_bytes(index_t n, index_t d,
                                                     std::size_t element_size,
                                                     bool rows_contiguous,
                                                     const facility_location_options& options,
                                                     index_t budget) {
  const auto un = static_cast<std::size_t>(n);
  const std::size_t chunks = static_cast<std::size_t>(chunk_count(n, 16));
  std::size_t bytes = un * sizeof(double) + un;  // mind + chosen flags
  bytes += chunks * sizeof(double);               // partials of the M pass (the largest reduce)
  switch (options.method) {
    case facility_greedy::naive:
      bytes += un * (sizeof(index_t) + sizeof(double));  // candidates + their gains
      break;
    case facility_greedy::lazy:
      // the first step's candidates + gains, then the heap (both alive while it is built)
      bytes += un * (sizeof(index_t) + sizeof(double) + sizeof(detail::facility_entry));
      break;
    case facility_greedy::stochastic: {
      const index_t s = budget >= 1 && budget <= n
                            ? detail::facility_sample_size(n, budget, options.epsilon, n)
                            : n;
      bytes += un * sizeof(index_t) + static_cast<std::size_t>(s) * sizeof(double);
      break;
    }
  }
  if (!rows_contiguous) bytes += un * static_cast<std::size_t>(d) * element_size;
  return bytes;
}

}  // namespace ladle
