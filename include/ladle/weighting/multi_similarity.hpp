// ladle/weighting/multi_similarity.hpp: Multi-Similarity pair weights and loss (Wang et al.,
// CVPR 2019) for a batch of L2-normalised embeddings.
//
// Contract:
//  * X: (B, d) float or double embeddings (any strides), rows of unit L2 norm (|norm^2 - 1| <=
//    1e-3, else an error); y: B integer labels of any integer type. Neither is modified.
//  * S_ij = x_i . x_j, computed in double as eight fused multiply-add chains over the features
//    (feature f in chain f % 8, combined ((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7))), so every S_ij has
//    the same bits on every instruction set and S_ij == S_ji exactly.
//  * Mining per anchor i (as the authors' code): positives P0 = {j != i : y_j = y_i,
//    S_ij < 1 - 1e-5} (duplicates of the anchor are dropped), negatives N0 = {j : y_j != y_i};
//    keep negative j if S_ij + margin > min_{P0} S, positive j if S_ij - margin < max_{N0} S.
//    An anchor with an empty P0, N0, or kept set is skipped.
//  * Loss: (1/B) sum_i [ log(1 + sum_{P} exp(-alpha (S_ij - lambda))) / alpha
//                       + log(1 + sum_{N} exp(beta (S_ij - lambda))) / beta ]  (B, not the number
//    of valid anchors, as the reference). All anchors skipped: 0.
//  * Pair weights (the general pair weighting view): w+_ij = exp(-alpha (S_ij - lambda)) /
//    (1 + sum_P ...) and w-_ij = exp(beta (S_ij - lambda)) / (1 + sum_N ...); these are the
//    magnitudes of d(anchor i's loss)/dS_ij, so dLoss/dS_ij = (-w+_ij or +w-_ij) / B.
//  * Defaults: the authors' config: alpha 2, beta 40, lambda 0.5, margin 0.1.
//  * Memory: S is never formed. Work runs over tiles of `tile_rows` anchors x all B columns, one
//    tile (tile_rows * B doubles) per thread, plus a double copy of X (B d) and O(B) per-anchor
//    statistics. The gradient makes a second pass that recomputes the tiles.
//  * Determinism: sums run in column order within an anchor and in anchor order across anchors;
//    identical bits for every policy and thread count. pair weights are visited in (anchor,
//    column) order on the calling thread.
//  * Errors (ladle::error, nothing written): B < 1 or d < 1, label length mismatch, NaN/Inf or
//    non-unit rows, alpha / beta <= 0, non-finite lambda / margin, tile_rows < 1, grad of the wrong
//    shape or overlapping X or y.
//
// Complexity: O(B^2 d) flops for the loss and the pair weights (one pass), about 3 B^2 d with
// the gradient.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/view.hpp"

namespace ladle {

struct multi_similarity_options {
  double alpha = 2.0;    ///< positive scale (SCALE_POS)
  double beta = 40.0;    ///< negative scale (SCALE_NEG)
  double lambda = 0.5;   ///< similarity threshold
  double margin = 0.1;   ///< mining margin (epsilon)
  index_t tile_rows = 32;
};

/// One mined pair of an anchor: its weight and whether it is a positive pair.
struct multi_similarity_pair {
  index_t anchor, other;
  double similarity;
  double weight;  ///< w+ (positive) or w- (negative), >= 0
  bool positive;
};

template <class Policy, class TX, class L>
double multi_similarity_loss(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                             const multi_similarity_options& opts = {});

/// The loss, with dLoss/dX written into grad (B, d), float or double.
template <class Policy, class TX, class L, class G>
double multi_similarity_loss_and_grad_into(const Policy& policy, matrix_view<TX> X,
                                           vector_view<L> y, matrix_view<G> grad,
                                           const multi_similarity_options& opts = {});

/// Calls visit(const multi_similarity_pair&) for every mined pair, anchors ascending, columns
/// ascending within an anchor. Returns the loss.
template <class Policy, class TX, class L, class Visit>
double multi_similarity_pair_weights(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                                     Visit&& visit, const multi_similarity_options& opts = {});

}  // namespace ladle

#include "ladle/weighting/detail/multi_similarity_impl.hpp"
