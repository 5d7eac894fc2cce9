// ladle/selection/herding.hpp: herding exemplar selection (Welling 2009; the exemplar step of
// iCaRL, Rebuffi et al., CVPR 2017; DeepCore's Herding).
//
// Greedily picks rows whose running mean stays closest to the mean of all rows: with mu the
// mean of the candidate rows and S_{t-1} the sum of the t - 1 rows picked so far, pick t is
//     argmin over unpicked rows i of |t mu - S_{t-1} - x_i|^2      (= t^2 |mu - (S_{t-1} + x_i) / t|^2)
// ties to the lowest row index. iCaRL runs it on L2-normalised features; normalise the rows
// first if you want that (herding itself does not).
//
// Input: X, n x d float or double host matrix (any strides), finite; a budget in [0, n]; or
// per-class: labels (int32 / int64, any values, length n) and a per-class budget no larger than
// the smallest class; then every class is herded on its own rows against its own mean.
// Output (herding_result):
//   order      the picked rows in selection order; per class, the classes' blocks one after the
//              other in increasing label, each block in its selection order;
//   distances  for each pick, |mu - S_t / t| (Euclidean) after it, with mu its class's mean:
//              how far the picked set's mean still is from the target.
// Arithmetic (double): mu sums the rows in increasing row order, then divides by m; the target
// is r = mul_rounded(t, mu) - S (no contraction); distances use the exact fixed-order formula of
// ladle/detail/exact_distance.hpp; S adds picks in pick order. The argmin folds fixed chunks of
// rows in order, so the result is the same for every thread count and instruction set.
// Deterministic: no randomness.
// Errors (ladle::error, nothing written): empty X, non-finite values (naming row and column),
// budget < 0 or > n, per-class budget larger than a class (naming the class), labels not of
// length n.
// Complexity: O(budget * m * d) for a class of m rows (O(budget * n * d) without labels), each
// step one pass over the unpicked rows (parallel over row chunks). Extra memory:
// herding_workspace_bytes: O(n + d) (picked flags, one distance per row, mu, S, target), plus a
// double copy of X (n * d * 8 bytes) when X is float or its rows are not contiguous.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/view.hpp"

#include <cstddef>
#include <type_traits>
#include <vector>

namespace ladle {

struct herding_result {
  std::vector<index_t> order;
  std::vector<double> distances;
};

template <class Policy, class T, class = std::enable_if_t<is_execution_policy_v<Policy>>>
herding_result herding(const Policy& policy, matrix_view<T> X, index_t budget);
template <class T>
herding_result herding(matrix_view<T> X, index_t budget);

/// Per class: `per_class` rows of every class, herded towards the class mean.
template <class Policy, class T, class L, class = std::enable_if_t<is_execution_policy_v<Policy>>>
herding_result herding(const Policy& policy, matrix_view<T> X, vector_view<L> labels,
                       index_t per_class);
template <class T, class L>
herding_result herding(matrix_view<T> X, vector_view<L> labels, index_t per_class);

/// Peak extra bytes of herding for an n x d matrix.
std::size_t herding_workspace_bytes(index_t n, index_t d, std::size_t element_size,
                                    bool rows_contiguous);

}  // namespace ladle

#include "ladle/selection/detail/herding_impl.hpp"
