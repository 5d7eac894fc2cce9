// ladle/quantile/repair.hpp: making each row of quantile predictions non-decreasing.
//
// q is a [N, K] host view (float or double, any strides), row i holding the K quantiles of
// sample i at increasing levels. Every function works row by row, in place; an `_into` form
// copies into out first (out may be q itself; partial overlap is refused).
//
//  * sort_quantiles: sorts each row ascending (rows of K <= 32: Batcher's network, 16 rows per
//    block; a comparator swaps only values strictly out of order, so -0.0/+0.0 and ties come
//    out the same bits on every ISA and at every row position; K > 32: std::sort).
//  * isotonic_repair: replaces each row by its least-squares non-decreasing fit (PAVA), with
//    optional per-level weights [K] (> 0).
//  * sort_then_isotonic_repair: sort_quantiles followed by isotonic_repair, as one call with the
//    same result bits. A sorted row is its own isotonic fit (for any level weights), so the
//    isotonic step never changes a value: the call validates q and level_weight, then sorts,
//    reading q twice and writing it once (the two calls read it three times).
//  * fix_crossing: the reference code's running-extremes fixes (see crossing_fix).
//
// Sorting and the unweighted isotonic fit never increase the pinball-loss sum (hence WIS) of a
// row, for any target (Fakoor et al.; checked by the property tests). The running-extremes fixes
// and the weighted isotonic fit come with no such guarantee.
//
// Errors (ladle::error, nothing written): NaN/Inf in q, shape mismatch, bad level weights.
// (sort_then_isotonic_repair checks level_weight before sorting; the two separate calls would
// sort first and then throw.)
// Complexity: sort O(N K log^2 K) (the network) or O(N K log K), isotonic O(N K) (one read
// when every row is already sorted), fix O(N K).
// Extra memory: O(K) per thread. A leading ladle::par splits rows over threads; the result
// is the same for every policy (rows are independent).
#pragma once

#include "ladle/core/parallel.hpp"
#include "ladle/core/view.hpp"
#include "ladle/quantile/detail/checks.hpp"

namespace ladle {

template <class Policy, class T>
void sort_quantiles(const Policy& policy, matrix_view<T> q);
template <class T>
void sort_quantiles(matrix_view<T> q);
template <class T, class U>
void sort_quantiles_into(matrix_view<T> out, matrix_view<U> q);

template <class Policy, class T>
void isotonic_repair(const Policy& policy, matrix_view<T> q,
                     vector_view<const double> level_weight = {});
template <class T>
void isotonic_repair(matrix_view<T> q, vector_view<const double> level_weight = {});
template <class T, class U>
void isotonic_repair_into(matrix_view<T> out, matrix_view<U> q,
                          vector_view<const double> level_weight = {});

template <class Policy, class T>
void sort_then_isotonic_repair(const Policy& policy, matrix_view<T> q,
                               vector_view<const double> level_weight = {});
template <class T>
void sort_then_isotonic_repair(matrix_view<T> q, vector_view<const double> level_weight = {});

/// The running-extremes fixes of the reference code's fix_crossing (m = K / 2, the middle
/// column, which is the median for symmetric odd K):
///   from_median: columns m..K-1 become their running maximum from m upward, columns m..0
///                their running minimum from m downward (type 0);
///   cummax:      the running maximum from column 0 (type 1);
///   average:     (running max from column 0 + running min from column K-1) / 2 (type 2).
/// Not covered by the never-worse theorem: they can increase the pinball loss.
enum class crossing_fix { from_median = 0, cummax = 1, average = 2 };

template <class T>
void fix_crossing(matrix_view<T> q, crossing_fix type = crossing_fix::from_median);

/// Number of rows of q with at least one strictly decreasing neighbour pair.
template <class T>
index_t count_crossing_rows(matrix_view<T> q);

}  // namespace ladle

#include "ladle/quantile/detail/repair_impl.hpp"
