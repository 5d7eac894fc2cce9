// Definitions for ladle/selection/cluster_balanced.hpp.
#pragma once

#include "ladle/detail/exact_distance.hpp"
#include "ladle/selection/detail/common.hpp"

#include <algorithm>
#include <utility>

namespace ladle {
namespace detail {
enum : std::uint64_t { stream_cluster_balanced = 0x434c4241ull };  // "CLBA"
}  // namespace detail

template <class Policy, class T, class>
cluster_balanced_result cluster_balanced_selection(const Policy& policy, matrix_view<T> X,
                                                   index_t budget, index_t clusters, seed s,
                                                   const cluster_balanced_options& opts) {
  const char* fn = "cluster_balanced_selection";
  if (budget < 0) throw_invalid_argument(fn, "budget", "must not be negative, got ", budget);
  if (X.extent(0) > 0 && budget > X.extent(0))
    throw_invalid_argument(fn, "budget", "is ", budget, " but only ", X.extent(0),
                           " rows are available");
  cluster_balanced_result res;
  res.clustering = detail::kmeans_impl(policy, X, clusters, s, opts.kmeans, fn, "clusters");
  const index_t n = X.extent(0), d = X.extent(1), k = clusters;
  const auto& labels = res.clustering.labels;
  // Rows of every cluster, increasing.
  std::vector<index_t> sizes(static_cast<std::size_t>(k), 0), start(static_cast<std::size_t>(k) + 1, 0);
  for (const index_t c : labels) ++sizes[std::size_t(c)];
  for (index_t c = 0; c < k; ++c) start[std::size_t(c + 1)] = start[std::size_t(c)] + sizes[std::size_t(c)];
  std::vector<index_t> members(static_cast<std::size_t>(n)), fill(start.begin(), start.end() - 1);
  for (index_t i = 0; i < n; ++i) members[std::size_t(fill[std::size_t(labels[std::size_t(i)])]++)] = i;
  res.quotas = stratified_quotas(sizes, budget, opts.quota);
  res.order.reserve(static_cast<std::size_t>(budget));
  if (opts.pick == cluster_pick::nearest) {
    std::vector<double> dist(static_cast<std::size_t>(n));
    const double* C = res.clustering.centroids.data();
    parallel_for(policy, n, 1024, [&](index_t b, index_t e) {
      std::vector<double> xd(static_cast<std::size_t>(d));
      for (index_t i = b; i < e; ++i) {
        for (index_t j = 0; j < d; ++j) xd[std::size_t(j)] = double(X(i, j));
        dist[std::size_t(i)] =
            detail::exact_sq_distance_rows(xd.data(), C + labels[std::size_t(i)] * d, d);
      }
    });
    for (index_t c = 0; c < k; ++c) {
      auto first = members.begin() + start[std::size_t(c)];
      auto last = members.begin() + start[std::size_t(c + 1)];
      const auto q = res.quotas[std::size_t(c)];
      std::partial_sort(first, first + q, last, [&](index_t a, index_t b) {
        return dist[std::size_t(a)] < dist[std::size_t(b)] ||
               (dist[std::size_t(a)] == dist[std::size_t(b)] && a < b);
      });
      res.order.insert(res.order.end(), first, first + q);
    }
  } else {
    for (index_t c = 0; c < k; ++c) {
      philox g(s, derive_stream(detail::stream_cluster_balanced, static_cast<std::uint64_t>(c)));
      index_t* m = members.data() + start[std::size_t(c)];
      const index_t size = sizes[std::size_t(c)], q = res.quotas[std::size_t(c)];
      for (index_t t = 0; t < q; ++t) {  // partial Fisher-Yates: position t gets a uniform rest
        const index_t j = t + uniform_index(g, size - t);
        std::swap(m[t], m[j]);
        res.order.push_back(m[t]);
      }
    }
  }
  return res;
}

template <class T>
cluster_balanced_result cluster_balanced_selection(matrix_view<T> X, index_t budget,
                                                   index_t clusters, seed s,
                                                   const cluster_balanced_options& opts) {
  return cluster_balanced_selection(seq, X, budget, clusters, s, opts);
}

}  // namespace ladle
