// ladle/selection/cluster_balanced.hpp: cluster-balanced diversity selection (the kMQ idea of
// "Diversify and Conquer", Yu et al. 2024, without quality scores): cluster the features with
// k-means, then take a share of the budget from every cluster.
//
// Input: X, n x d float or double host matrix (any strides), finite; a budget in [0, n]; the
// number of clusters in [1, n]; a seed; options.
// Steps:
//   1. ladle::kmeans(X, clusters, seed, opts.kmeans) (core/kmeans.hpp: greedy k-means++,
//      Lloyd, restarts);
//   2. per-cluster quotas by stratified_quotas over the cluster sizes (sampling.hpp):
//      balanced (default) = equal shares with water-filling, so small clusters give their
//      unused share to the others and the quotas always sum to the budget (the reference kMQ
//      takes floor(m / K) per cluster and can fall short); proportional = budget * size / n,
//      floors plus largest remainders;
//   3. inside each cluster: nearest (default) takes the quota rows closest to the centroid
//      (exact fixed-order squared distance, ties to the lowest row); random draws them
//      uniformly without replacement (partial Fisher-Yates over the cluster's rows in
//      increasing order, Philox stream of (seed, cluster)).
// Output (cluster_balanced_result): order = the chosen rows, cluster 0's block first, each block
// nearest-first (nearest) or in draw order (random); quotas = rows taken from each cluster;
// clustering = the k-means result (centroids, labels, inertia, iterations).
// Deterministic: same seed => same bits for every thread count and instruction set.
// Errors (ladle::error, nothing written): those of kmeans under this function's name (clusters
// outside [1, n], non-finite X, ...), budget < 0 or > n.
// Complexity: the k-means (O(restarts * iterations * n * clusters * d)) plus O(n d) for the
// distances to centroids and O(n log n) for the per-cluster sort. Extra memory: the k-means's
// (kmeans_workspace_bytes) plus O(n).
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/kmeans.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/view.hpp"
#include "ladle/selection/sampling.hpp"

#include <type_traits>
#include <vector>

namespace ladle {

enum class cluster_pick { nearest, random };

struct cluster_balanced_options {
  /// How the budget is split over clusters.
  stratify quota = stratify::balanced;
  /// Which rows of a cluster are taken.
  cluster_pick pick = cluster_pick::nearest;
  /// Options of the k-means step.
  kmeans_options kmeans{};
};

struct cluster_balanced_result {
  std::vector<index_t> order;
  std::vector<index_t> quotas;
  kmeans_result clustering;
};

template <class Policy, class T, class = std::enable_if_t<is_execution_policy_v<Policy>>>
cluster_balanced_result cluster_balanced_selection(const Policy& policy, matrix_view<T> X,
                                                   index_t budget, index_t clusters, seed s,
                                                   const cluster_balanced_options& opts = {});
template <class T>
cluster_balanced_result cluster_balanced_selection(matrix_view<T> X, index_t budget,
                                                   index_t clusters, seed s,
                                                   const cluster_balanced_options& opts = {});

}  // namespace ladle

#include "ladle/selection/detail/cluster_balanced_impl.hpp"
