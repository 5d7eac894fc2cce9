// ladle/selection/facility_location.hpp: facility-location coresets by naive, lazy (Minoux)
// and stochastic (Mirzasoleiman et al., AAAI 2015) greedy, over dense features, never n x n.
//
// Objective: f(S) = sum_{i < n} max_{j in S} sim(i, j), f({}) = 0, with the Euclidean kernel of
// apricot and submodlib:
//     sim(i, j) = M - D(i, j),   D(i, j) = |x_i - x_j|^2,   M = max_{a, b} D(a, b),
// so 0 <= sim <= M and sim(i, i) = M. f is monotone submodular; greedy is within (1 - 1/e) of the
// best set of its size, stochastic greedy within (1 - 1/e - epsilon) in expectation.
//
// Input: X, n x d float or double host matrix (any strides; rows that are not contiguous are
// packed once), finite; a budget in [1, n]; options (method, epsilon, seed).
// Output (facility_location_result):
//   order            the chosen rows in selection order;
//   gains            f(S_t + {order[t]}) - f(S_t) for each pick, as computed for the decision;
//   objective        f(order), summed directly over rows (not the sum of the gains);
//   max_sq_distance  M;
//   evaluations      marginal gains computed (n * budget for naive; lazy usually far fewer).
//
// How gains are computed. With m_i = min_{j in S} D(i, j) (M for the empty set), the gain of c
// is  g(c | S) = sum_i max(0, m_i - D(i, c)),  the same number as sum_i max(0, sim(i, c) -
// max_S sim(i, .)), but M enters only through the starting m_i, so later gains carry no
// rounding from M. Rows are summed in fixed chunks of 1024 (in row order inside a chunk, chunk
// partials in chunk order), and D is the exact fixed-order distance of k_center.hpp, so a gain
// has the same bits whatever the thread count, instruction set or greedy variant. These float
// gains never increase as S grows (each term is monotone, and so is a fixed-order float sum),
// which is what makes lazy greedy exact here and not just up to rounding.
//
// The greedy choice depends on M only through the first pick (argmin of sum_i D(i, c)); any
// M >= max D gives the same order in exact arithmetic and shifts f and the first gain by
// n * (M' - M). ladle computes M exactly (one pass over the n (n - 1) / 2 pairs, O(n) memory)
// so objectives match apricot's and submodlib's.
//
// Variants (all pick the largest gain, ties to the smallest row index):
//   naive       evaluates every unchosen row at every step;
//   lazy        a max-heap of (stale gain, row) ordered by gain descending then row ascending;
//               the top is re-evaluated until it is fresh for this step; returns exactly the
//               naive order and gains (submodularity makes stale gains upper bounds);
//   stochastic  each step draws ceil(n / budget * ln(1 / epsilon)) unchosen rows uniformly
//               without replacement (all of them when fewer remain) from the Philox stream of
//               the seed and evaluates only those. With epsilon so small that the sample covers
//               every unchosen row it returns the naive result.
//
// Errors (ladle::error, nothing written): empty X, non-finite values (naming row and column),
// squared distances that overflow, budget outside [1, n], epsilon outside (0, 1).
// Complexity (flops are O(d) distance evaluations): M pass n^2 / 2; naive n * n * budget; lazy
// n^2 for the first step plus n per re-evaluation; stochastic n * budget * sample size, about
// n^2 ln(1 / epsilon). Candidates are evaluated eight at a time (one read of each row of X per
// batch); batches run in parallel, or, for a lazy re-evaluation of the stale top entries, the
// row chunks do. Extra memory: facility_location_workspace_bytes, O(n) (+ a packed copy of X
// when its rows are not contiguous).
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/view.hpp"

#include <cstddef>
#include <vector>

namespace ladle {

enum class facility_greedy { naive, lazy, stochastic };

struct facility_location_options {
  facility_greedy method = facility_greedy::lazy;
  /// Stochastic greedy only: the sample size per step is ceil(n / budget * ln(1 / epsilon)).
  double epsilon = 0.01;
  /// Stochastic greedy only.
  ladle::seed seed{0};
};

struct facility_location_result {
  std::vector<index_t> order;
  std::vector<double> gains;
  double objective = 0;
  double max_sq_distance = 0;
  index_t evaluations = 0;
};

template <class Policy, class T>
facility_location_result facility_location(const Policy& policy, matrix_view<T> X,
                                           index_t budget,
                                           const facility_location_options& options = {});
template <class T>
facility_location_result facility_location(matrix_view<T> X, index_t budget,
                                           const facility_location_options& options = {});

/// Peak extra bytes of facility_location on an n x d matrix with the given method and budget.
std::size_t facility_location_workspace_bytes(index_t n, index_t d, std::size_t element_size,
                                              bool rows_contiguous,
                                              const facility_location_options& options = {},
                                              index_t budget = 1);

}  // namespace ladle

#include "ladle/selection/detail/facility_location_impl.hpp"
