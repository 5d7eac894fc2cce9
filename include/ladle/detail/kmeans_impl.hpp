// Definitions for ladle/core/kmeans.hpp.
#pragma once

#include "ladle/core/checks.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/size.hpp"
#include "ladle/detail/exact_distance.hpp"
#include "ladle/detail/mass_draw.hpp"
#include "ladle/neighbors/knn.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

namespace ladle {
namespace detail {

enum : std::uint64_t { stream_kmeans_core = 0x4b4d4e53ull };  // "KMNS"

constexpr index_t kmeans_grain = 1024;

/// The rows of X as contiguous vectors: X itself when its rows are, else a packed copy.
template <class T>
struct kmeans_rows {
  std::vector<T> packed;
  const T* base = nullptr;
  index_t ld = 0, n = 0, d = 0;
  const T* row(index_t i) const noexcept { return base + i * ld; }
};

template <class T>
kmeans_rows<std::remove_const_t<T>> kmeans_pack(matrix_view<T> X, const char* fn) {
  kmeans_rows<std::remove_const_t<T>> r;
  r.n = X.extent(0);
  r.d = X.extent(1);
  r.base = X.data();
  r.ld = X.stride(0);
  if (X.stride(1) != 1 && r.d > 1) {
    r.packed = make_buffer<std::remove_const_t<T>>(checked_mul(r.n, r.d, fn, "X"), fn, "X");
    for (index_t i = 0; i < r.n; ++i)
      for (index_t j = 0; j < r.d; ++j) r.packed[std::size_t(i * r.d + j)] = X(i, j);
    r.base = r.packed.data();
    r.ld = r.d;
  }
  return r;
}

template <class T>
double kmeans_max_abs(matrix_view<T> v) {
  double m = 0;
  for (index_t i = 0; i < v.extent(0); ++i)
    for (index_t j = 0; j < v.extent(1); ++j) m = std::max(m, std::fabs(double(v(i, j))));
  return m;
}

/// Checks X, k and the options; rejects magnitudes whose squared distances could overflow.
template <class T>
void kmeans_check(matrix_view<T> X, index_t k, const kmeans_options& opts, double extra_abs,
                  const char* fn, const char* k_arg = "k") {
  using value_t = std::remove_const_t<T>;
  static_assert(std::is_same<value_t, float>::value || std::is_same<value_t, double>::value,
                "ladle::kmeans: X must be float or double");
  require_host(X, fn, "X");
  require_nonempty(X, fn, "X");
  const index_t n = X.extent(0), d = X.extent(1);
  if (k < 1 || k > n) throw_invalid_argument(fn, k_arg, "must be in [1, ", n, "], got ", k);
  if (opts.max_iterations < 1)
    throw_invalid_argument(fn, "max_iterations", "must be at least 1, got ", opts.max_iterations);
  if (!(opts.tolerance >= 0) || !std::isfinite(opts.tolerance))
    throw_invalid_argument(fn, "tolerance", "must be finite and >= 0, got ", opts.tolerance);
  if (opts.restarts < 1)
    throw_invalid_argument(fn, "restarts", "must be at least 1, got ", opts.restarts);
  if (opts.local_trials < 0)
    throw_invalid_argument(fn, "local_trials", "must not be negative, got ", opts.local_trials);
  require_finite(X, fn, "X");
  // Any squared distance is at most d * (2 max|v|)^2; n of them must add up finitely.
  const double m = std::max(kmeans_max_abs(X), extra_abs);
  const double limit = 0.5 * std::sqrt(std::numeric_limits<double>::max() / (double(n) * double(d)));
  if (m > limit)
    throw_domain_error(fn, "X", "has values up to ", m, " (limit ", limit,
                       " for this shape): squared distances could overflow double");
}

/// out[i] = |row i - c|^2 for rows [b, e), four rows per kernel call.
template <class T>
void kmeans_distances_to(const kmeans_rows<T>& R, const T* c, index_t b, index_t e, double* out) {
  index_t i = b;
  for (; i + 4 <= e; i += 4) {
    const T* rows4[4] = {R.row(i), R.row(i + 1), R.row(i + 2), R.row(i + 3)};
    exact_sq_distance_rows4(rows4, c, R.d, out + i);
  }
  for (; i < e; ++i) out[i] = exact_sq_distance_rows(R.row(i), c, R.d);
}

template <class Policy>
double kmeans_sum(const Policy& policy, const std::vector<double>& v) {
  return parallel_reduce(
      policy, static_cast<index_t>(v.size()), kmeans_grain, 0.0,
      [&](index_t b, index_t e) {
        double s = 0;
        for (index_t i = b; i < e; ++i) s += v[std::size_t(i)];
        return s;
      },
      [](double a, double b) { return a + b; });
}

inline index_t kmeans_default_trials(index_t k) {
  return 2 + static_cast<index_t>(std::log(static_cast<double>(k)));
}

/// Greedy k-means++ (see kmeans.hpp): the chosen rows, in order.
template <class Policy, class T>
std::vector<index_t> kmeans_seed(const Policy& policy, const kmeans_rows<T>& R, index_t k,
                                 index_t trials, philox& g) {
  const index_t n = R.n;
  const auto un = static_cast<std::size_t>(n);
  if (trials == 0) trials = kmeans_default_trials(k);
  std::vector<index_t> chosen;
  chosen.reserve(static_cast<std::size_t>(k));
  std::vector<double> dist(un), cand(un), best(un), prefix(un);
  chosen.push_back(uniform_index(g, n));
  parallel_for(policy, n, kmeans_grain, [&](index_t b, index_t e) {
    kmeans_distances_to(R, R.row(chosen[0]), b, e, dist.data());
  });
  for (index_t c = 1; c < k; ++c) {
    const double total = running_sums(dist, prefix);
    double best_pot = std::numeric_limits<double>::infinity();
    index_t best_idx = -1;
    for (index_t t = 0; t < trials; ++t) {
      const index_t idx = draw_by_mass(g, dist, prefix, total);
      const T* cr = R.row(idx);
      parallel_for(policy, n, kmeans_grain, [&](index_t b, index_t e) {
        kmeans_distances_to(R, cr, b, e, cand.data());
        for (index_t i = b; i < e; ++i)
          cand[std::size_t(i)] = std::min(cand[std::size_t(i)], dist[std::size_t(i)]);
      });
      const double pot = kmeans_sum(policy, cand);
      if (pot < best_pot) {
        best_pot = pot;
        best_idx = idx;
        best.swap(cand);
      }
    }
    chosen.push_back(best_idx);
    dist.swap(best);
  }
  return chosen;
}

struct kmeans_run {
  std::vector<double> centres;  // k x d
  std::vector<index_t> labels;
  double inertia = 0;
  index_t iterations = 0;
};

/// Lloyd from `centres` (k x d doubles), scikit-learn's loop (see kmeans.hpp).
template <class Policy, class T>
kmeans_run kmeans_lloyd(const Policy& policy, const kmeans_rows<T>& R, std::vector<double> centres,
                        index_t k, index_t max_iterations, double tol_abs) {
  const index_t n = R.n, d = R.d;
  const auto un = static_cast<std::size_t>(n), uk = static_cast<std::size_t>(k);
  kmeans_run run;
  std::vector<index_t> labels(un, -1), labels_old(un, -1);
  std::vector<double> mind(un), next(centres.size()), sums(centres.size());
  std::vector<index_t> counts(uk);
  std::vector<char> taken;

  // Assignment: the nearest centroid of every row by (exact distance, centroid index), which is
  // what neighbors/'s exact kNN with k = 1 returns; its GEMM filter skips most exact
  // measurements. Rows go in chunks (float rows widened to double first).
  auto assign = [&](const std::vector<double>& C) {
    const auto Cv = make_view(C.data(), {k, d});
    knn_options ko;
    ko.k = 1;
    parallel_for(policy, n, 1024, [&](index_t b, index_t e) {
      const index_t m = e - b;
      std::vector<double> xd;
      const double* q;
      index_t ld;
      if constexpr (std::is_same<T, double>::value) {
        q = R.row(b);
        ld = R.ld;
      } else {
        xd.resize(static_cast<std::size_t>(m * d));
        for (index_t i = 0; i < m; ++i)
          for (index_t j = 0; j < d; ++j) xd[std::size_t(i * d + j)] = double(R.row(b + i)[j]);
        q = xd.data();
        ld = d;
      }
      const auto Q = make_view(q, {m, d}, {ld, index_t(1)});
      const auto L = make_view(labels.data() + b, {m, index_t(1)});
      const auto D = make_view(mind.data() + b, {m, index_t(1)});
      knn_into(seq, Q, Cv, L, D, ko);
    });
  };

  bool strict = false;
  for (index_t it = 0; it < max_iterations; ++it) {
    assign(centres);
    // Update: sums in increasing row order.
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    for (index_t i = 0; i < n; ++i) {
      const index_t c = labels[std::size_t(i)];
      ++counts[std::size_t(c)];
      double* s = sums.data() + c * d;
      const T* x = R.row(i);
      for (index_t j = 0; j < d; ++j) s[j] += double(x[j]);
    }
    // Empty clusters take the farthest rows (see kmeans.hpp).
    for (index_t c = 0; c < k; ++c) {
      if (counts[std::size_t(c)] != 0) continue;
      if (taken.empty()) taken.assign(un, 0);
      index_t far = -1;
      for (index_t i = 0; i < n; ++i)
        if (!taken[std::size_t(i)] && counts[std::size_t(labels[std::size_t(i)])] > 1 &&
            (far < 0 || mind[std::size_t(i)] > mind[std::size_t(far)]))
          far = i;
      if (far < 0) break;  // cannot happen with k <= n; kept as a guard
      taken[std::size_t(far)] = 1;
      const index_t old = labels[std::size_t(far)];
      const T* x = R.row(far);
      for (index_t j = 0; j < d; ++j) {
        sums[std::size_t(old * d + j)] -= double(x[j]);
        sums[std::size_t(c * d + j)] = double(x[j]);
      }
      --counts[std::size_t(old)];
      counts[std::size_t(c)] = 1;
    }
    if (!taken.empty()) std::fill(taken.begin(), taken.end(), 0);
    double shift = 0;
    for (index_t c = 0; c < k; ++c) {
      const index_t cnt = counts[std::size_t(c)];
      for (index_t j = 0; j < d; ++j) {
        const std::size_t q = std::size_t(c * d + j);
        next[q] = cnt > 0 ? sums[q] / double(cnt) : centres[q];
      }
      shift += exact_sq_distance_rows(next.data() + c * d, centres.data() + c * d, d);
    }
    centres.swap(next);
    run.iterations = it + 1;
    if (labels == labels_old) {
      strict = true;
      break;
    }
    if (shift <= tol_abs) break;
    labels_old = labels;
  }
  if (!strict) assign(centres);
  parallel_for(policy, n, kmeans_grain, [&](index_t b, index_t e) {
    std::vector<double> xd(std::is_same<T, double>::value ? 0 : std::size_t(d));
    for (index_t i = b; i < e; ++i) {
      const double* centre = centres.data() + labels[std::size_t(i)] * d;
      if constexpr (std::is_same<T, double>::value) {
        mind[std::size_t(i)] = exact_sq_distance_rows(R.row(i), centre, d);
      } else {  // float row against a double centre: widen the row (the same formula)
        for (index_t j = 0; j < d; ++j) xd[std::size_t(j)] = double(R.row(i)[j]);
        mind[std::size_t(i)] = exact_sq_distance_rows(xd.data(), centre, d);
      }
    }
  });
  run.inertia = kmeans_sum(policy, mind);
  run.centres = std::move(centres);
  run.labels = std::move(labels);
  return run;
}

/// tol * mean over features of the population variance (scikit-learn's _tolerance).
template <class T>
double kmeans_abs_tolerance(const kmeans_rows<T>& R, double tol) {
  if (tol == 0) return 0;
  const index_t n = R.n, d = R.d;
  std::vector<double> mean(std::size_t(d), 0.0), var(std::size_t(d), 0.0);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < d; ++j) mean[std::size_t(j)] += double(R.row(i)[j]);
  for (auto& m : mean) m /= double(n);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < d; ++j) {
      const double e = double(R.row(i)[j]) - mean[std::size_t(j)];
      var[std::size_t(j)] = std::fma(e, e, var[std::size_t(j)]);
    }
  double total = 0;
  for (const double v : var) total += v / double(n);
  return total / double(d) * tol;
}

inline kmeans_result kmeans_finish(kmeans_run&& run, index_t k, index_t d, index_t restart) {
  kmeans_result res;
  res.centroids = tensor<double, 2>({k, d}, uninitialized);
  std::copy(run.centres.begin(), run.centres.end(), res.centroids.data());
  res.labels = std::move(run.labels);
  res.inertia = run.inertia;
  res.iterations = run.iterations;
  res.restart = restart;
  return res;
}

}  // namespace detail

template <class Policy, class T, class>
std::vector<index_t> kmeans_plusplus(const Policy& policy, matrix_view<T> X, index_t k, seed s,
                                     index_t local_trials) {
  const char* fn = "kmeans_plusplus";
  kmeans_options opts;
  opts.local_trials = local_trials;
  detail::kmeans_check(X, k, opts, 0.0, fn);
  const auto R = detail::kmeans_pack(X, fn);
  philox g(s, derive_stream(detail::stream_kmeans_core, 0));
  return detail::kmeans_seed(policy, R, k, local_trials, g);
}

template <class T>
std::vector<index_t> kmeans_plusplus(matrix_view<T> X, index_t k, seed s, index_t local_trials) {
  return kmeans_plusplus(seq, X, k, s, local_trials);
}

namespace detail {
/// kmeans under the caller's function name.
template <class Policy, class T>
kmeans_result kmeans_impl(const Policy& policy, matrix_view<T> X, index_t k, seed s,
                          const kmeans_options& opts, const char* fn, const char* k_arg = "k") {
  kmeans_check(X, k, opts, 0.0, fn, k_arg);
  const auto R = kmeans_pack(X, fn);
  const index_t d = R.d;
  const double tol_abs = kmeans_abs_tolerance(R, opts.tolerance);
  kmeans_run best;
  index_t best_restart = -1;
  for (index_t r = 0; r < opts.restarts; ++r) {
    philox g(s, derive_stream(stream_kmeans_core, static_cast<std::uint64_t>(r)));
    const auto rows = kmeans_seed(policy, R, k, opts.local_trials, g);
    std::vector<double> centres(static_cast<std::size_t>(k * d));
    for (index_t c = 0; c < k; ++c)
      for (index_t j = 0; j < d; ++j)
        centres[std::size_t(c * d + j)] = double(R.row(rows[std::size_t(c)])[j]);
    auto run = kmeans_lloyd(policy, R, std::move(centres), k, opts.max_iterations, tol_abs);
    if (best_restart < 0 || run.inertia < best.inertia) {
      best = std::move(run);
      best_restart = r;
    }
  }
  return kmeans_finish(std::move(best), k, d, best_restart);
}
}  // namespace detail

template <class Policy, class T, class>
kmeans_result kmeans(const Policy& policy, matrix_view<T> X, index_t k, seed s,
                     const kmeans_options& opts) {
  return detail::kmeans_impl(policy, X, k, s, opts, "kmeans");
}

template <class T>
kmeans_result kmeans(matrix_view<T> X, index_t k, seed s, const kmeans_options& opts) {
  return kmeans(seq, X, k, s, opts);
}

template <class Policy, class T, class C, class>
kmeans_result kmeans(const Policy& policy, matrix_view<T> X, matrix_view<C> initial_centroids,
                     const kmeans_options& opts) {
  const char* fn = "kmeans";
  using cvalue_t = std::remove_const_t<C>;
  static_assert(std::is_same<cvalue_t, float>::value || std::is_same<cvalue_t, double>::value,
                "ladle::kmeans: initial_centroids must be float or double");
  detail::require_host(X, fn, "X");
  detail::require_nonempty(X, fn, "X");
  detail::require_host(initial_centroids, fn, "initial_centroids");
  const index_t k = initial_centroids.extent(0);
  if (k < 1 || k > X.extent(0))
    throw_invalid_argument(fn, "initial_centroids", "has ", k, " rows; k must be in [1, ",
                           X.extent(0), "]");
  if (initial_centroids.extent(1) != X.extent(1))
    throw_invalid_argument(fn, "initial_centroids", "has ", initial_centroids.extent(1),
                           " columns but X has ", X.extent(1));
  detail::require_finite(initial_centroids, fn, "initial_centroids");
  detail::kmeans_check(X, k, opts, detail::kmeans_max_abs(initial_centroids), fn);
  const auto R = detail::kmeans_pack(X, fn);
  const index_t d = R.d;
  std::vector<double> centres(static_cast<std::size_t>(k * d));
  for (index_t c = 0; c < k; ++c)
    for (index_t j = 0; j < d; ++j)
      centres[std::size_t(c * d + j)] = double(initial_centroids(c, j));
  auto run = detail::kmeans_lloyd(policy, R, std::move(centres), k, opts.max_iterations,
                                  detail::kmeans_abs_tolerance(R, opts.tolerance));
  return detail::kmeans_finish(std::move(run), k, d, 0);
}

template <class T, class C>
kmeans_result kmeans(matrix_view<T> X, matrix_view<C> initial_centroids,
                     const kmeans_options& opts) {
  return kmeans(seq, X, initial_centroids, opts);
}

inline std::size_t kmeans_workspace_bytes(index_t n, index_t d, index_t k,
                                          std::size_t element_size, bool rows_contiguous) {
  const auto un = static_cast<std::size_t>(n), ukd = static_cast<std::size_t>(k * d);
  std::size_t bytes = 4 * un * sizeof(double);        // seeding: distances, candidates, prefix
  bytes += 3 * un * sizeof(index_t) + un;             // labels (run, old, best), flags
  bytes += 4 * ukd * sizeof(double);                  // centres, next, sums, best centres
  bytes += static_cast<std::size_t>(k) * sizeof(index_t);
  if (!rows_contiguous) bytes += un * static_cast<std::size_t>(d) * element_size;
  // One assignment chunk (the calling thread's; each extra thread holds the same again).
  knn_options ko;
  ko.k = 1;
  const index_t chunk = std::min<index_t>(n, 1024);
  if (chunk > 0 && k > 0) {
    bytes += knn_workspace_bytes(chunk, k, d, ko, sizeof(double));
    if (element_size != sizeof(double)) bytes += static_cast<std::size_t>(chunk * d) * sizeof(double);
  }
  return bytes;
}

}  // namespace ladle
