// Definitions for ladle/resampling/kmeans_smote.hpp.
#pragma once

#include "ladle/resampling/detail/over_sampling_impl.hpp"
#include "ladle/resampling/kmeans_smote.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

namespace ladle {

namespace detail {

/// k-means under the caller's function name (kmeans_smote reports its own errors).
template <class Policy, class TX>
std::vector<index_t> kmeans_assign_impl(const Policy& policy, matrix_view<TX> X, index_t clusters,
                                        index_t max_iterations, seed s, const char* fn) {
  const index_t n = X.extent(0), d = X.extent(1);
  if (clusters < 1 || clusters > n)
    throw_invalid_argument(fn, "clusters", "must be in [1, ", n, "], got ", clusters);
  if (max_iterations < 1)
    throw_invalid_argument(fn, "max_iterations", "must be at least 1, got ", max_iterations);
  auto dist2 = [&](index_t i, const std::vector<double>& c, index_t q) {
    double acc = 0;
    for (index_t j = 0; j < d; ++j) {
      const double v = double(X(i, j)) - c[std::size_t(q * d + j)];
      acc += detail::mul_rounded(v, v);
    }
    return acc;
  };
  // k-means++ seeding: first centre uniform, then proportional to squared distance.
  std::vector<double> centre =
      make_buffer<double>(checked_mul(clusters, d, fn, "clusters"), fn, "clusters");
  philox g(s, derive_stream(detail::stream_kmeans, 0));
  auto set_centre = [&](index_t q, index_t row) {
    for (index_t j = 0; j < d; ++j) centre[std::size_t(q * d + j)] = double(X(row, j));
  };
  set_centre(0, uniform_index(g, n));
  std::vector<double> closest =
      make_buffer<double>(n, fn, "X", std::numeric_limits<double>::infinity());
  for (index_t q = 1; q < clusters; ++q) {
    double total = 0;
    for (index_t i = 0; i < n; ++i) {
      closest[std::size_t(i)] = std::min(closest[std::size_t(i)], dist2(i, centre, q - 1));
      total += closest[std::size_t(i)];
    }
    index_t pick = n - 1;
    if (total > 0) {
      double u = uniform_double(g) * total;
      for (index_t i = 0; i < n; ++i) {
        u -= closest[std::size_t(i)];
        if (u < 0) {
          pick = i;
          break;
        }
      }
    } else {
      pick = uniform_index(g, n);
    }
    set_centre(q, pick);
  }
  std::vector<index_t> assign(std::size_t(n), -1);
  for (index_t it = 0; it < max_iterations; ++it) {
    std::atomic<bool> changed{false};
    parallel_for(policy, n, 1024, [&](index_t b, index_t e) {
      for (index_t i = b; i < e; ++i) {
        index_t best = 0;
        double bd = dist2(i, centre, 0);
        for (index_t q = 1; q < clusters; ++q) {
          const double dq = dist2(i, centre, q);
          if (dq < bd) {
            bd = dq;
            best = q;
          }
        }
        if (assign[std::size_t(i)] != best) {
          assign[std::size_t(i)] = best;
          changed.store(true, std::memory_order_relaxed);
        }
      }
    });
    if (!changed.load()) break;
    // Centre update in row order (deterministic); an empty cluster keeps its centre.
    std::vector<double> sum(centre.size(), 0.0);
    std::vector<index_t> count = make_buffer<index_t>(clusters, fn, "clusters");
    for (index_t i = 0; i < n; ++i) {
      const index_t q = assign[std::size_t(i)];
      ++count[std::size_t(q)];
      for (index_t j = 0; j < d; ++j) sum[std::size_t(q * d + j)] += double(X(i, j));
    }
    for (index_t q = 0; q < clusters; ++q)
      if (count[std::size_t(q)] > 0)
        for (index_t j = 0; j < d; ++j)
          centre[std::size_t(q * d + j)] = sum[std::size_t(q * d + j)] / double(count[std::size_t(q)]);
  }
  return assign;
}

}  // namespace detail

template <class Policy, class TX>
std::vector<index_t> kmeans_assign(const Policy& policy, matrix_view<TX> X, index_t clusters,
                                   index_t max_iterations, seed s) {
  const char* fn = "kmeans_assign";
  detail::require_host(X, fn, "X");
  detail::require_finite(X, fn, "X");
  return detail::kmeans_assign_impl(policy, X, clusters, max_iterations, s, fn);
}

template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> kmeans_smote(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const kmeans_smote_options& opts,
    seed s) {
  using T = std::remove_const_t<TX>;
  const char* fn = "kmeans_smote";
  detail::check_inputs(fn, X, y);
  detail::require_k(fn, "k", opts.k);
  const auto targets =
      resolve_sampling_strategy(opts.strategy, count_classes(y), sampling_type::over_sampling, fn);
  const auto by_class = detail::rows_by_class(y);
  detail::require_class_sizes(fn, "k", opts.k, targets, by_class);
  const index_t d = X.extent(1);
  if (std::isnan(opts.density_exponent) || std::isinf(opts.density_exponent))
    throw_domain_error(fn, "density_exponent", "must be finite (< 0 for auto), got ",
                       opts.density_exponent);
  if (std::isnan(opts.cluster_balance_threshold) || std::isinf(opts.cluster_balance_threshold))
    throw_domain_error(fn, "cluster_balance_threshold", "must be finite (< 0 for auto), got ",
                       opts.cluster_balance_threshold);
  const std::vector<index_t> assign =
      detail::kmeans_assign_impl(policy, X, opts.clusters, opts.max_iterations, s, fn);
  index_t total_requested = 0;
  for (const auto& t : targets) total_requested += t.second;
  const double exponent =
      opts.density_exponent >= 0
          ? opts.density_exponent
          : std::pow(std::log(double(std::max<index_t>(d, 2))) / std::log(1.6), 1.8) * 0.16;
  detail::resample_plan<T> plan;
  plan.keep_all(X.extent(0));
  for (const auto& t : targets) {
    if (t.second == 0) continue;
    const double threshold = opts.cluster_balance_threshold >= 0
                                 ? opts.cluster_balance_threshold
                                 : double(t.second) / double(total_requested) / 2.0;
    std::vector<std::vector<index_t>> members(std::size_t(opts.clusters));
    std::vector<index_t> size(std::size_t(opts.clusters), 0);
    for (index_t i = 0; i < X.extent(0); ++i) {
      ++size[std::size_t(assign[std::size_t(i)])];
      if (static_cast<std::int64_t>(y(i)) == t.first)
        members[std::size_t(assign[std::size_t(i)])].push_back(i);
    }
    std::vector<index_t> valid;
    std::vector<double> sparsity, log_sparsity;
    for (index_t q = 0; q < opts.clusters; ++q) {
      const auto& m = members[std::size_t(q)];
      if (size[std::size_t(q)] == 0) continue;
      if (double(m.size()) / double(size[std::size_t(q)]) < threshold) continue;
      if (index_t(m.size()) <= opts.k) continue;
      double sum = 0;
      for (std::size_t a = 0; a < m.size(); ++a)
        for (std::size_t b = a + 1; b < m.size(); ++b) {
          double acc = 0;
          for (index_t j = 0; j < d; ++j) {
            const double v = double(X(m[a], j)) - double(X(m[b], j));
            acc += detail::mul_rounded(v, v);
          }
          sum += 2 * std::sqrt(acc);
        }
      const double mean = sum / (double(m.size()) * double(m.size()) - double(m.size()));
      valid.push_back(q);
      sparsity.push_back(std::pow(mean, exponent) / double(m.size()));
      log_sparsity.push_back(std::log(mean));
    }
    if (valid.empty())
      throw_runtime_error(fn, "clusters", "no cluster holds enough samples of class ", t.first,
                          "; lower cluster_balance_threshold or change the number of clusters");
    double wsum = 0;
    for (double v : sparsity) wsum += v;
    if (!std::isfinite(wsum)) {
      // mean^exponent overflowed (a large density_exponent): the same proportions in log space,
      // scaled so the largest weight is 1.
      std::vector<double> logs(sparsity.size());
      double top = -std::numeric_limits<double>::infinity();
      for (std::size_t v = 0; v < valid.size(); ++v) {
        const auto& m = members[std::size_t(valid[v])];
        const double scaled = exponent == 0 ? 0.0 : log_sparsity[v] * exponent;
        logs[v] = scaled - std::log(double(m.size()));
        top = std::max(top, logs[v]);
      }
      wsum = 0;
      for (std::size_t v = 0; v < valid.size(); ++v) {
        // An infinite top (distances beyond double's range) shares among the clusters at it.
        sparsity[v] = std::isfinite(top) ? std::exp(logs[v] - top) : (logs[v] == top ? 1.0 : 0.0);
        wsum += sparsity[v];
      }
    }
    // Largest-remainder apportionment of G rows (ties to the lower cluster).
    std::vector<index_t> share(valid.size());
    std::vector<std::pair<double, std::size_t>> rest;
    index_t given = 0;
    for (std::size_t v = 0; v < valid.size(); ++v) {
      const double exact = wsum > 0 ? double(t.second) * sparsity[v] / wsum
                                    : double(t.second) / double(valid.size());
      share[v] = static_cast<index_t>(std::floor(exact));
      given += share[v];
      rest.emplace_back(-(exact - std::floor(exact)), v);
    }
    std::sort(rest.begin(), rest.end());
    for (std::size_t r = 0; given < t.second; ++r, ++given) ++share[rest[r % rest.size()].second];
    const index_t off = plan.append(t.second, t.first);
    index_t start = 0;
    for (std::size_t v = 0; v < valid.size(); ++v) {
      const auto& rows = members[std::size_t(valid[v])];
      const tensor<T, 2> Xc = detail::gather_rows(X, rows, fn);
      const tensor<index_t, 2> nn = detail::self_knn(policy, Xc.cview(), opts.k, fn, rows.data());
      const index_t first = start;
      // Synthetic rows [first, first + share) of this class come from cluster v; their streams
      // are keyed by the class-wide synthetic index, like every other over-sampler.
      parallel_for(policy, share[v], detail::synthetic_grain, [&](index_t b, index_t e) {
        for (index_t j = b; j < e; ++j) {
          philox g(s, detail::synthetic_stream(detail::stream_kmeans, t.first, first + j));
          const index_t pair = uniform_index(g, index_t(rows.size()) * opts.k);
          const index_t r = pair / opts.k, c = pair % opts.k;
          const auto at = std::size_t(off + first + j);
          plan.base[at] = rows[std::size_t(r)];
          plan.neighbor[at] = rows[std::size_t(nn(r, c))];
          plan.gap[at] = detail::draw_gap<T>(g);
        }
      });
      start += share[v];
    }
  }
  auto result = detail::allocate_result<T, std::remove_const_t<L>>(plan.shape(), d, fn);
  detail::write_interpolated(policy, X, y, plan, detail::output_of(result));
  return result;
}

}  // namespace ladle
