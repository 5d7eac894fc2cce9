// ladle/core/kmeans.hpp: k-means (Lloyd) with greedy k-means++ seeding and restarts: the one
// k-means of the library (cluster-balanced selection uses it; see docs/selection.md).
//
// Input: X, n x d float or double host matrix (any strides; rows that are not contiguous are
// packed once), finite; k in [1, n]; a seed (or explicit initial centroids, k x d, float or
// double, finite); kmeans_options.
// Seeding (kmeans_plusplus; the greedy k-means++ of scikit-learn, Arthur & Vassilvitskii 2007
// with local trials): the first centre is a uniform random row; every next one draws
// `local_trials` rows (default 2 + floor(ln k)) with probability proportional to D(x)^2, the
// squared distance to the nearest centre so far, and keeps the one giving the smallest
// potential sum_x min(D(x)^2, |x - candidate|^2) (ties: the earlier draw). A draw is u * total
// with u uniform in [0, 1), mapped to the first row whose running sum of D^2 exceeds it, so a
// row with D = 0 is never drawn; when every D is 0 (fewer distinct rows than k) the draw is a
// uniform row. Centres are rows of X. Restart r uses Philox stream derive_stream(KMNS, r).
// Lloyd (scikit-learn's algorithm='lloyd' step for step): assign every row to its nearest
// centroid (ties: lowest centroid index); move each centroid to the mean of its rows; stop when
// no label changed (strict convergence), or when the sum over centroids of the squared shift
// is <= tol * mean_j var(X[:, j]) (population variance), or after max_iterations; in the last
// two cases the rows are assigned once more to the final centroids. iterations counts
// assignment + update steps (scikit-learn's n_iter_).
// Empty clusters (after an assignment, a centroid with no row): each one, in increasing index,
// takes the row farthest from its assigned centroid (ties: lowest row) among rows not taken yet
// whose cluster keeps at least one other row; the row moves there for the update (its label is
// rewritten by the next assignment), as scikit-learn relocates.
// Output (kmeans_result): centroids k x d (double), labels (n), inertia = sum_x |x - c(x)|^2,
// iterations of the kept restart, restart (which restart was kept). Of `restarts` runs the one
// with the lowest inertia is kept (ties: the earliest).
// Determinism: distances are the exact fixed-order formula of ladle/detail/exact_distance.hpp;
// centroid sums add rows in increasing row order in double; inertia and potentials add rows in
// fixed chunks of 1024 folded in order. Same bits for every thread count and instruction set.
// Errors (ladle::error, nothing written): empty X, k outside [1, n], non-finite values in X or
// the initial centroids (domain_error naming row and column), initial centroids not k x d,
// values so large that squared distances could overflow double, max_iterations < 1,
// tolerance negative or NaN, restarts < 1, local_trials < 0.
// Complexity: seeding O(n * d * k * local_trials) exact distances (four rows per kernel call);
// each Lloyd iteration O(n * k * d): the assignment is neighbors/' exact kNN with k = 1 over the
// centroids (a GEMM filter with a proven error bound, then the exact formula for the
// candidates, so the labels are those of the exact formula), parallel over chunks of 1024 rows;
// the update is O(n * d).
// Extra memory: kmeans_workspace_bytes: O(n + k * d) (labels, distances, two centroid sets,
// four O(n) seeding buffers) plus a packed copy of X when its rows are not contiguous, plus per
// running thread the kNN workspace of a 1024-row chunk (knn_workspace_bytes; float rows of the
// chunk widened to double).
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/tensor.hpp"
#include "ladle/core/view.hpp"

#include <cstddef>
#include <type_traits>
#include <vector>

namespace ladle {

struct kmeans_options {
  /// Lloyd iterations per restart (scikit-learn's max_iter).
  index_t max_iterations = 300;
  /// Relative centre-shift tolerance (scikit-learn's tol); 0 stops only on strict convergence.
  double tolerance = 1e-4;
  /// Independent seedings (scikit-learn's n_init); ignored with explicit initial centroids.
  index_t restarts = 1;
  /// Candidates per k-means++ step; 0 means 2 + floor(ln k); 1 is plain k-means++.
  index_t local_trials = 0;
};

struct kmeans_result {
  tensor<double, 2> centroids;  ///< (k, d)
  std::vector<index_t> labels;  ///< (n) cluster of every row
  double inertia = 0;           ///< sum of squared distances to the assigned centroid
  index_t iterations = 0;       ///< Lloyd iterations of the kept run
  index_t restart = 0;          ///< which restart was kept
};

/// k-means++ seeding alone: the k chosen rows of X in choice order (the seeding of kmeans'
/// restart 0 with the same seed and local_trials).
template <class Policy, class T, class = std::enable_if_t<is_execution_policy_v<Policy>>>
std::vector<index_t> kmeans_plusplus(const Policy& policy, matrix_view<T> X, index_t k, seed s,
                                     index_t local_trials = 0);
template <class T>
std::vector<index_t> kmeans_plusplus(matrix_view<T> X, index_t k, seed s,
                                     index_t local_trials = 0);

/// k-means from k-means++ seedings, keeping the best of opts.restarts.
template <class Policy, class T, class = std::enable_if_t<is_execution_policy_v<Policy>>>
kmeans_result kmeans(const Policy& policy, matrix_view<T> X, index_t k, seed s,
                     const kmeans_options& opts = {});
template <class T>
kmeans_result kmeans(matrix_view<T> X, index_t k, seed s, const kmeans_options& opts = {});

/// Lloyd from the caller's initial centroids (k x d; scikit-learn's init=array, n_init=1).
template <class Policy, class T, class C, class = std::enable_if_t<is_execution_policy_v<Policy>>>
kmeans_result kmeans(const Policy& policy, matrix_view<T> X, matrix_view<C> initial_centroids,
                     const kmeans_options& opts = {});
template <class T, class C>
kmeans_result kmeans(matrix_view<T> X, matrix_view<C> initial_centroids,
                     const kmeans_options& opts = {});

/// Peak extra bytes of kmeans for an n x d matrix of elements of element_size bytes.
std::size_t kmeans_workspace_bytes(index_t n, index_t d, index_t k, std::size_t element_size,
                                   bool rows_contiguous);

}  // namespace ladle

#include "ladle/detail/kmeans_impl.hpp"
