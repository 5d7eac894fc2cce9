// ladle/weighting/loss_reweighting.hpp: per-sample weights from per-sample losses.
//
//   loss_based_weights   Dynamic Loss-Based Sample Reweighting (Sow et al., ICLR 2025): the global
//                        batch's losses are mapped to h in [-delta, delta], a strategy f(h) is
//                        applied, and w = softmax(f(h) / r);
//   kl_dro_weights       KL-regularised DRO weights w = softmax(loss / r), the maximiser of
//                        sum w_i l_i - r KL(w || uniform) over the simplex (same kernel, f = identity);
//   data_parallel_loss_scale   the factor each rank multiplies its slice's weights by so that
//                        data-parallel gradient averaging reproduces sum_i w_i l_i.
//
// Contract:
//  * losses: float or double view (any stride, length B >= 1), finite, never modified; pass the
//    losses of the GLOBAL batch (all-gathered) so every rank computes the same weights.
//  * Mapping: h_i = delta (2 l_i - l_max - l_min) / max(l_max - l_min, 1e-6). Strategies:
//      uniform    f = 0 (w = 1/B);
//      lin_upper  f = min(h + delta, delta)   (the paper's recommended default);
//      quadratic  f = 1 - h^2 / delta^2        ("mid" in the reference code);
//      extremes   f = |h|;
//      upper      f = h / 2 + delta / 2.
//    w_i = exp((f_i - max f) / r) / sum_j exp((f_j - max f) / r): w >= 0, sum w = 1. All losses
//    equal, or B = 1, gives uniform weights; r -> inf tends to uniform (r = +inf is allowed).
//  * Warm-up: while step < warmup_steps the weights are uniform (the reference's burnout_steps,
//    1000 there; 0 here so the default is plain reweighting). The reference also defaults to
//    delta = 1, r = 1 (0.4 for its larger models).
//  * Out: float or double view of length B, disjoint from losses; written only after every check.
//  * Precision: computed in double, except float losses into float weights, which are computed
//    in float (twice the SIMD lanes; the losses carry float precision anyway): there the map, the
//    shift by max f and the product with 1/r round in float, the exp is within 0.9 ulp of the
//    correctly rounded exp (a degree-7 polynomial), and the sums are in double. A weight's
//    relative error is then a few float ulps times (1 + |f_i - max f| / r + 2 delta (|l_i| +
//    |l_max| + |l_min|) / ((l_max - l_min) r)), the same order as the effect of rounding the
//    losses to float; against the float64 reference the test suite sees <= 2e-6. Parameters or
//    losses beyond 1e30 (or r, delta below 1e-30) fall back to double.
//  * Determinism: one exp written once for scalar and SIMD lanes (every step an explicit fma or a
//    single rounding), chunks of 2^14 losses whose eight-way partial sums of the stored weights
//    are added in a fixed tree and then in chunk order, so seq and par(n) give the same bits for
//    every n, and AVX-512, AVX2, SSE2 and scalar builds the same bits.
//  * Errors (ladle::error, nothing written): empty losses, NaN/Inf losses (first index named),
//    r <= 0 or NaN, delta <= 0 or non-finite, out of the wrong length or overlapping losses.
//
// Complexity O(B) in three passes over the data (range and finiteness; exponentials, stored and
// summed in the same pass; scaling), plus one more for the quadratic's max f; extra memory
// O(B / 2^14) partial results.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/view.hpp"

#include <cstdint>
#include <limits>
#include <vector>

namespace ladle {

enum class loss_strategy { uniform, lin_upper, quadratic, extremes, upper };

struct loss_reweighting_options {
  loss_strategy strategy = loss_strategy::lin_upper;
  double delta = 1.0;              ///< half-width of the range losses are mapped to
  double r = 1.0;                  ///< softmax temperature (the reference's "kl_reg")
  std::int64_t warmup_steps = 0;   ///< uniform weights while step < warmup_steps
};

/// Loss-based weights of the global batch at training step `step` (default: past any warm-up).
template <class Policy, class T, class U>
void loss_based_weights_into(const Policy& policy, vector_view<T> losses, vector_view<U> out,
                             const loss_reweighting_options& opts = {},
                             std::int64_t step = std::numeric_limits<std::int64_t>::max());
template <class T, class U>
void loss_based_weights_into(vector_view<T> losses, vector_view<U> out,
                             const loss_reweighting_options& opts = {},
                             std::int64_t step = std::numeric_limits<std::int64_t>::max()) {
  loss_based_weights_into(seq, losses, out, opts, step);
}
template <class T>
std::vector<std::remove_const_t<T>> loss_based_weights(
    vector_view<T> losses, const loss_reweighting_options& opts = {},
    std::int64_t step = std::numeric_limits<std::int64_t>::max());

/// KL-DRO weights softmax(losses / r).
template <class Policy, class T, class U>
void kl_dro_weights_into(const Policy& policy, vector_view<T> losses, vector_view<U> out, double r);
template <class T, class U>
void kl_dro_weights_into(vector_view<T> losses, vector_view<U> out, double r) {
  kl_dro_weights_into(seq, losses, out, r);
}
template <class T>
std::vector<std::remove_const_t<T>> kl_dro_weights(vector_view<T> losses, double r);

/// How a rank reduces its local weighted losses before the data-parallel gradient average.
enum class loss_reduction { sum, mean };

/// The factor s such that, when each of `world_size` ranks computes reduce_i(s w_i l_i) over its
/// slice of `local_batch_size` samples (w = the global weights) and the gradients are averaged
/// over ranks, the result is the gradient of sum_i w_i l_i: s = world_size (sum) or
/// world_size * local_batch_size (mean). Both sizes must be >= 1.
double data_parallel_loss_scale(index_t world_size, index_t local_batch_size,
                                loss_reduction reduction);

}  // namespace ladle

#include "ladle/weighting/detail/loss_reweighting_impl.hpp"
