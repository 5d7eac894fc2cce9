// ladle/weighting/fairness.hpp: FairSeg's fair error-bound scaling (FEBS) group weights and the
// equity-scaled metric (Tian et al., ICLR 2024).
//
// Contract:
//  * fair_error_bound_weights: per-group losses L_a (float or double, finite, >= 0; G >= 1) ->
//    w_a = tanh((min_b L_b / L_a)^gamma), the minimum taken over PRESENT groups only. With
//    group_counts (any integer or float view, >= 0), a group is present when its count is > 0;
//    absent groups get weight 1 (they are unused). Without counts every group is present. A present
//    group with L_a = 0 is the best group: ratio 1, weight tanh(1). (The reference code takes the
//    minimum over all groups, absent ones at 0, which zeroes every weight and gives NaN for absent
//    groups; that is not reproduced.) Weights of present groups lie in (0, tanh(1) ~ 0.7616]
//    for gamma >= 0 (a ratio of 0, from a zero minimum, gives 0). gamma default 1 (the reference).
//  * equity_scaled_metric: M / (1 + alpha * D) with D = sum_a |M_a - M| (equity_dispersion::
//    sum_abs_deviation, the reference) or the population std of the M_a (std_deviation).
//    alpha default 1.
//  * Errors (ladle::error, nothing written): empty or NaN/Inf/negative losses, negative or
//    non-finite counts, no group present, gamma < 0 or non-finite, alpha < 0 or non-finite,
//    NaN/Inf metrics, length mismatches, out overlapping an input.
//
// Complexity O(G); no extra memory.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/view.hpp"

namespace ladle {

template <class L, class T>
void fair_error_bound_weights_into(vector_view<L> group_losses, vector_view<T> out,
                                   double gamma = 1.0);
template <class L, class C, class T>
void fair_error_bound_weights_into(vector_view<L> group_losses, vector_view<C> group_counts,
                                   vector_view<T> out, double gamma = 1.0);

enum class equity_dispersion { sum_abs_deviation, std_deviation };

template <class M>
double equity_scaled_metric(double overall, vector_view<M> group_metrics, double alpha = 1.0,
                            equity_dispersion dispersion = equity_dispersion::sum_abs_deviation);

}  // namespace ladle

#include "ladle/weighting/detail/fairness_impl.hpp"
