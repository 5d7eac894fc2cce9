// ladle/weighting/advantages.hpp: group-normalised advantages (GRPO, Advantage Weighted Matching).
//
// Contract:
//  * rewards: float or double view (length n >= 1, any stride), finite; groups: integer keys of
//    any integer type (the prompt id), same length. Neither is modified.
//  * A_i = (R_i - mean_g) / (std_g + epsilon) with the group's mean and POPULATION std (ddof 0);
//    with global_std the denominator is the population std of the whole batch instead.
//    Then, when clip is finite, A_i is clipped to [-clip, clip], and when rescale_max > 0 it is
//    multiplied by rescale_max / clip (AWM maps [-5, 5] to [-1, 1] this way).
//    Defaults follow AWM's code: epsilon 1e-4, per-group std, clip 5, no rescale.
//  * The weights are signed and are never put on the simplex. A group of one sample, or a group
//    whose rewards are all equal, gets exactly 0 (its mean is computed as R_first +
//    sum (R_i - R_first) / n_g, which is exact for equal rewards).
//  * Stateless: no history across calls (the reference's per-prompt tracker is the caller's).
//  * Determinism: group statistics are summed in sample order; par only splits the final map, so
//    every policy gives the same bits.
//  * Errors (ladle::error, nothing written): empty input, length mismatch, NaN/Inf rewards,
//    epsilon < 0 or non-finite, clip <= 0 or NaN, rescale_max < 0 or non-finite or > 0 with an
//    infinite clip, out of the wrong length or overlapping an input.
//
// Complexity O(n + G log G) for G groups (a dense key lookup when the key range is small, else
// a binary search, O(n log G)); extra memory O(G) plus the key lookup.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/view.hpp"

#include <limits>
#include <vector>

namespace ladle {

struct advantage_options {
  double epsilon = 1e-4;     ///< added to the std before dividing
  bool global_std = false;   ///< divide by the batch's std instead of the group's
  double clip = 5.0;         ///< |A| <= clip; +inf for no clipping
  double rescale_max = 0.0;  ///< > 0: multiply by rescale_max / clip after clipping
};

template <class Policy, class R, class G, class T>
void group_advantages_into(const Policy& policy, vector_view<R> rewards, vector_view<G> groups,
                           vector_view<T> out, const advantage_options& opts = {});
template <class R, class G, class T>
void group_advantages_into(vector_view<R> rewards, vector_view<G> groups, vector_view<T> out,
                           const advantage_options& opts = {}) {
  group_advantages_into(seq, rewards, groups, out, opts);
}
template <class R, class G>
std::vector<std::remove_const_t<R>> group_advantages(vector_view<R> rewards, vector_view<G> groups,
                                                     const advantage_options& opts = {});

}  // namespace ladle

#include "ladle/weighting/detail/advantages_impl.hpp"
