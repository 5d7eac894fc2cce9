// ladle/neighbors/knn.hpp: exact k-nearest neighbours by blocked brute force.
//
// Squared Euclidean distance, every query against every reference, in tiles: ladle's own
// register-blocked kernel forms query x reference dot products in vector registers and screens
// them against each query's running top-k in the same pass (detail/knn_kernel.hpp); only the rare
// survivors leave the registers. No n x n matrix is ever built; extra memory is a fixed
// per-thread workspace plus one packed copy of the references, shared by all threads.
//
// Exactness. The expansion |q|^2 + |r|^2 - 2 q.r is only used as a *filter*: with a proven
// rounding-error bound it says which references cannot beat the current k-th neighbour. Every
// reference that passes is re-measured directly, in double:
//     e_j = double(q_j) - double(r_j);   s_l = fma(e_j, e_j, s_l) for j = l, l + 8, l + 16, ...
//     dist(q, r) = T( ((s_0 + s_1) + (s_2 + s_3)) + ((s_4 + s_5) + (s_6 + s_7)) )
// (eight fused multiply-add chains, features in order within each, rounded once to T), and the
// ranking uses these values. So the result is exactly what a naive O(nq * nr * d) loop computing
// that formula and sorting each row by (distance, reference index) returns: duplicate points and
// tied distances come out in ascending index order, and results do not depend on tile sizes,
// thread counts or the SIMD path.
//
// Complexity: O(nq * nr * d) flops (2 nq nr d in the kernel). References that pass the filter
// (about k * ln(nr / k) per query on generic data) are recorded in a bounded per-query buffer at
// O(k) each, and an exact O(d) re-measure is spent only on those that upper and lower bounds
// cannot rule out (about k plus near-ties per query); below d = 96 the automatic mode re-measures
// each passing reference at once instead. On data with many points tied at the k-th distance,
// every tied reference is re-measured.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/tensor.hpp"
#include "ladle/core/view.hpp"

#include <cstddef>
#include <type_traits>

namespace ladle {

/// Options of knn / knn_self.
struct knn_options {
  /// Neighbours per query (1 <= k <= number of references; <= n - 1 for a self query).
  index_t k = 5;
  /// Query rows per tile (0 = auto). Also the unit of parallel work.
  index_t query_block = 0;
  /// Reference rows per tile (0 = auto), rounded up to whole kernel panels (2 to 48 rows,
  /// depending on the instruction set and T).
  index_t reference_block = 0;
  /// References per query that passed the filter and wait for their exact re-measure (0 = auto:
  /// 2 k + 16 from d = 96 features up, and no buffer below, where each passing reference is
  /// re-measured at once; capped at the number of references). Only speed and workspace depend
  /// on it, never the result: a full buffer drops the entries its bounds rule out and
  /// re-measures the rest early when more than half would stay.
  index_t candidate_buffer = 0;
};

/// An owning kNN result: row i lists query i's neighbours, nearest first.
template <class T>
struct knn_result {
  tensor<index_t, 2> indices;   ///< (n_queries, k) reference row indices
  tensor<T, 2> sq_distances;    ///< (n_queries, k) squared Euclidean distances, ascending
};

/// k nearest references of every query row.
///
/// queries (nq, d) and references (nr, d): float or double (the same type), any strides, host
/// memory, finite values. indices (nq, k): an integer type wide enough for nr - 1;
/// sq_distances (nq, k): float or double. Outputs may be strided and must not overlap the inputs
/// or each other. Row i of the outputs is query i's k nearest references by (distance, index),
/// ascending; distances are defined in the file comment (rounded to the input type T).
///
/// Memory: writes only into the outputs, plus a per-thread workspace of at most
/// knn_workspace_bytes(nq, nr, d, opts, sizeof(T)) bytes (the packed query tile, the queries
/// widened to double, the per-query candidate lists and pending-candidate buffers), held by at most
/// min(threads, ceil(nq / query_block)) threads, plus one shared packed copy of the references,
/// (nr + NR) (d + 1) sizeof(T) + 8 nr bytes at most (NR <= 48 the kernel's panel width; the
/// last term their scaled norms for the upper bounds), plus O(d) for the centring mean.
///
/// Throws ladle::invalid_argument for k out of range, shape mismatches, device memory, overlapping
/// outputs, an index type too narrow; ladle::domain_error for NaN/Inf in the inputs or points so
/// far apart that squared distances overflow T.
template <class Policy, class TQ, class TR, class TI, class TD,
          class = std::enable_if_t<is_execution_policy_v<Policy>>>
void knn_into(const Policy& policy, matrix_view<TQ> queries, matrix_view<TR> references,
              matrix_view<TI> indices, matrix_view<TD> sq_distances,
              const knn_options& opts = {});

/// knn_into with the sequential policy.
template <class TQ, class TR, class TI, class TD>
void knn_into(matrix_view<TQ> queries, matrix_view<TR> references, matrix_view<TI> indices,
              matrix_view<TD> sq_distances, const knn_options& opts = {});

/// Self query: the k nearest other rows of every row of `points`. Row i never lists i itself;
/// the exclusion is by index, so exact duplicates of row i at other indices are returned (at
/// distance 0). Requires 1 <= k <= n - 1. Same contract as knn_into otherwise.
template <class Policy, class TX, class TI, class TD,
          class = std::enable_if_t<is_execution_policy_v<Policy>>>
void knn_self_into(const Policy& policy, matrix_view<TX> points, matrix_view<TI> indices,
                   matrix_view<TD> sq_distances, const knn_options& opts = {});

/// knn_self_into with the sequential policy.
template <class TX, class TI, class TD>
void knn_self_into(matrix_view<TX> points, matrix_view<TI> indices, matrix_view<TD> sq_distances,
                   const knn_options& opts = {});

/// Owning form of knn_into.
template <class Policy, class TQ, class TR,
          class = std::enable_if_t<is_execution_policy_v<Policy>>>
knn_result<std::remove_const_t<TQ>> knn(const Policy& policy, matrix_view<TQ> queries,
                                        matrix_view<TR> references, const knn_options& opts = {});

/// Owning form of knn_into, sequential.
template <class TQ, class TR>
knn_result<std::remove_const_t<TQ>> knn(matrix_view<TQ> queries, matrix_view<TR> references,
                                        const knn_options& opts = {});

/// Owning form of knn_self_into.
template <class Policy, class TX, class = std::enable_if_t<is_execution_policy_v<Policy>>>
knn_result<std::remove_const_t<TX>> knn_self(const Policy& policy, matrix_view<TX> points,
                                             const knn_options& opts = {});

/// Owning form of knn_self_into, sequential.
template <class TX>
knn_result<std::remove_const_t<TX>> knn_self(matrix_view<TX> points, const knn_options& opts = {});

/// Upper bound on the workspace ONE thread of knn_into / knn_self_into allocates for these sizes
/// and options (elem_size = sizeof(T), 4 or 8): the packed query tile (centred, for the kernel),
/// the same queries widened to double (for the exact re-measure), the per-query candidate lists,
/// the pending-candidate buffers (knn_options::candidate_buffer entries of 16 bytes plus k bounds
/// of 8 bytes per query row, rounded up to 64-byte lines) and small per-row arrays; about
/// qb d (sizeof(T) + 8) + qb k (sizeof(T) + 16) + 16 qb cap bytes for tiles of qb query rows and
/// cap = candidate_buffer (when automatic: 2 k + 16 for d >= 96, none below), independent of n. Multiply by the number of threads that run at once, and add
/// the shared packed references (see knn_into), for the total. Throws ladle::invalid_argument
/// for negative sizes or a bad elem_size.
inline std::size_t knn_workspace_bytes(index_t n_queries, index_t n_references, index_t dim,
                                       const knn_options& opts, std::size_t elem_size);

/// The tile sizes knn would use for these sizes and options (auto sizes resolved, the reference
/// tile rounded up to whole kernel panels). Auto sizes come from documented cache sizes (32 KiB
/// L1, 1 MiB L2; see detail/knn_impl.hpp): half of L1 for the reference tile, a quarter of L2
/// for the packed query tile.
struct knn_tiles {
  index_t query_block;
  index_t reference_block;
};
inline knn_tiles knn_tile_sizes(index_t n_queries, index_t n_references, index_t dim,
                                const knn_options& opts, std::size_t elem_size);

}  // namespace ladle

#include "ladle/neighbors/detail/knn_impl.hpp"
