// ladle/selection/k_center.hpp: k-center greedy (Gonzalez 1985; the core-set of Sener &
// Savarese, ICLR 2018), with streaming merge-and-reduce.
//
// Input: X, n x d float or double host matrix (any strides; rows that are not contiguous are
// packed once), finite. A budget of new centres, an optional initial set (already selected
// rows, distinct), a seed.
// Steps: with no initial set, the first centre is a uniform random row (Philox stream of the
// seed); it counts toward the budget. Then repeatedly the row farthest from its nearest centre
// is added (ties to the smallest row index); rows already chosen are never chosen again.
// Output (k_center_result):
//   order   the new centres in selection order (row indices of X);
//   gains   for each new centre its Euclidean distance to the nearest earlier centre: the
//           covering radius just before it was added (+inf for a random first centre);
//   radius  max over rows of the distance to the nearest centre after the last pick (0 when
//           every row is a centre).
// The greedy radius is at most twice the optimal k-center radius (Gonzalez).
//
// Distances: exact squared Euclidean distances with one fixed summation order (features
// widened to double, eight partial sums with feature j in sum j % 8, one std::fma each, combined
// as ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)), the formula of neighbors/'s exact
// re-ranking), so the selection is bit-identical on every instruction set and thread count.
// Each pass is fused: distance to the newest centre, min-update, argmax, one read of X; never
// an n x n matrix. The compiler vectorises the fma chains (std::fma, not xsimd::fma, which
// xsimd 8 emulates with two roundings on some targets).
//
// Merge-and-reduce (k_center_greedy over `candidates`): run k-center on each shard, pool the
// shards' centres, and run it again over the pooled rows. With shard radii r_s and reduce
// radius r, every row lies within max_s r_s + r of a final centre (triangle inequality).
//
// Screens (they only skip work; every output bit is the exact pass's): for float X with
// 32 <= d <= 65536, a copy of the candidate rows at one byte per feature (per-row scale) is made
// once, and each pass first tests every row on it with exact integer dot products and a proven
// error bound (selection/detail/quantised_screen.hpp): a row is skipped only when its exact
// distance to the new centre provably cannot lower its minimum. Other float X gets a float32
// screen instead; double X is not screened. Rows a screen cannot clear get the exact distance.
//
// Errors (ladle::error, nothing written): empty X, non-finite values, budget < 0 or larger than
// the rows not yet chosen, initial indices out of range or repeated, candidates out of range.
// Complexity: O(budget * m * d) for m candidate rows (all n by default), parallel over rows
// with a deterministic argmax; the int8 screen reads about d + 32 bytes per row and centre
// instead of 4d. Extra memory: k_center_workspace_bytes (one double per candidate, plus a packed
// copy of X when its rows are not contiguous, plus for the int8 screen m * (ceil(d/64) * 64 + 32)
// bytes: 8.0 MB for 50k x 128).
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/view.hpp"

#include <cstddef>
#include <vector>

namespace ladle {

struct k_center_result {
  std::vector<index_t> order;
  std::vector<double> gains;
  double radius = 0;
};

template <class Policy, class T>
k_center_result k_center_greedy(const Policy& policy, matrix_view<T> X, index_t budget, seed s,
                                const std::vector<index_t>& initial = {});
template <class T>
k_center_result k_center_greedy(matrix_view<T> X, index_t budget, seed s,
                                const std::vector<index_t>& initial = {});

/// Over the rows `candidates` of X only (the reduce step of merge-and-reduce); `initial` lists
/// rows of X too, and may be outside candidates (they then only shape the distances).
template <class Policy, class T>
k_center_result k_center_greedy(const Policy& policy, matrix_view<T> X,
                                const std::vector<index_t>& candidates, index_t budget, seed s,
                                const std::vector<index_t>& initial = {});

/// Peak extra bytes of k_center_greedy for m candidate rows of an n x d matrix.
std::size_t k_center_workspace_bytes(index_t m, index_t n, index_t d, std::size_t element_size,
                                     bool rows_contiguous);

}  // namespace ladle

#include "ladle/selection/detail/k_center_impl.hpp"
