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
//   evaluations      marginal gains computed (naive: 1, then every unchosen row per step;
//                    lazy usually far fewer).
//
// How gains are computed. With m_i = min_{j in S} D(i, j) (M for the empty set), the gain of c
// is  g(c | S) = sum_i max(0, m_i - D(i, c)),  the same number as sum_i max(0, sim(i, c) -
// max_S sim(i, .)), but M enters only through the starting m_i, so later gains carry no
// rounding from M. Rows are summed in fixed chunks of 1024 (in row order inside a chunk, chunk
// partials in chunk order), so a gain has the same bits whatever the thread count, instruction
// set or greedy variant. D is, for float X, the float32 sequential-fma sum (e = a_j - b_j,
// s = fma(e, e, s) in feature order; detail/facility_float_kernel.hpp) and, for double X, the
// exact fixed-order double distance of k_center.hpp; M is the largest such D. These gains
// never increase as S grows (each term is monotone, and so is a fixed-order sum of non-negative
// terms), which is what makes lazy greedy exact here and not just up to rounding.
//
// The first pick (naive and lazy) is the row nearest the mean: argmin_c sum_j (n x_cj - s_j)^2
// with s_j = sum_i x_ij (double, fixed order), ties to the smallest row. sum_i D(i, c) =
// n |x_c - mean|^2 + const, so in exact arithmetic it is the row of largest first gain; its
// gain is then summed like any other. After it m_i = D(i, c1) whatever M is, so the second
// step's pass over all pairs also yields M for float X. Any M' >= max D gives the same order and
// shifts f and the first gain by n * (M' - M); ladle uses the true maximum so objectives match
// apricot's and submodlib's.
//
// Variants (all pick the largest gain, ties to the smallest row index):
//   naive       evaluates every unchosen row at every step after the first;
//   lazy        a max-heap of (stale gain, row) ordered by gain descending then row ascending;
//               the top is re-evaluated (with up to 15 more stale entries, one panel) until it
//               is fresh for this step; returns exactly the naive order and gains
//               (submodularity makes stale gains upper bounds);
//   stochastic  each step draws ceil(n / budget * ln(1 / epsilon)) unchosen rows uniformly
//               without replacement (all of them when fewer remain) from the Philox stream of
//               the seed and evaluates only those (the first step too). With epsilon so small
//               that the sample covers every unchosen row it returns the naive result, unless
//               the first step's computed gains single out another row than the mean's nearest
//               (a rounding-level near tie).
//
// Errors (ladle::error, nothing written): empty X, non-finite values (naming row and column),
// squared distances that overflow (float X: the float32 D, so |x| beyond about 1e18),
// budget outside [1, n], epsilon outside (0, 1), options.neighbors outside [0, n - 1].
// Complexity (flops are O(d) distance evaluations): naive n * n * budget; lazy n^2 for the
// second step plus n per re-evaluation; stochastic n * budget * sample size (+ an M pass of
// n^2 / 2), about n^2 ln(1 / epsilon). Float X: 16 candidates per panel (rows packed
// feature-major), eight rows per register block; a lazy re-evaluation first screens each row
// with int8 dot products (AVX-512 VNNI builds; detail/facility_screen.hpp) and computes D only
// for rows the screen cannot prove add +0, which changes no bit. Panels run in parallel, or,
// for a lazy re-evaluation, the row chunks do. Extra memory: facility_location_workspace_bytes,
// O(n d) for float X (its rows in panels, one byte per feature for the screen), O(n) for
// double X (+ a packed copy of X when its rows are not contiguous).
//
// Over a kNN graph (options.neighbors = k >= 1). N(i) = {i} + the k nearest other rows of i
// (knn_self: exact, ties by index), D(i, j) its squared distance (rounded to X's type), and
//     sim(i, j) = M_k - D(i, j) for j in N(i), 0 otherwise,   M_k = max D over the graph's edges,
// so sims are >= 0 and sim(i, i) = M_k; M_k is not the dense M (only edges are measured, and with
// the kNN engine's distance), and is what max_sq_distance reports. f(S) = sum_i max_{j in S and
// N(i)} sim(i, j) (0 when S misses N(i)). The gain of c is sum_{i in R(c)} max(0, sim(i, c) -
// cur_i), R(c) = {i : c in N(i)} (the reverse graph, built once), cur_i row i's current best
// sim, summed in increasing i in double: the same bits for any thread count and variant, and
// never increasing as S grows (lazy greedy is exact). Every row's gain is computed at step 1 (no
// mean shortcut), so naive counts n evaluations there; stochastic greedy samples exactly as
// above, and with a sample covering every unchosen row it returns the naive result. Time: the
// kNN (O(n^2 d)) plus O(n k) per naive step, O(k) per lazy re-evaluation; memory O(n k) (the
// kNN result, then the reverse graph: 16 bytes per edge), never n x n.
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
  /// 0 (default): the dense kernel above. k >= 1 (at most n - 1): the sparse kNN graph (see
  /// "Over a kNN graph" above). An option, not a separate function, because it changes only
  /// which similarities f sums: methods, result, tie rules and errors are the same.
  index_t neighbors = 0;
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
/// With options.neighbors > 0, a bound that counts the kNN workspace of one thread
/// (knn_workspace_bytes; add one per further thread).
std::size_t facility_location_workspace_bytes(index_t n, index_t d, std::size_t element_size,
                                              bool rows_contiguous,
                                              const facility_location_options& options = {},
                                              index_t budget = 1);

}  // namespace ladle

#include "ladle/selection/detail/facility_location_impl.hpp"
