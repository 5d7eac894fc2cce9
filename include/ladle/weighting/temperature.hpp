// ladle/weighting/temperature.hpp: temperature sampling over groups, the equivalent
// scalarization (loss) weights, and temperature schedules.
//
// Contract:
//  * Input: group sizes n_k (K >= 1 groups; any integer or float view; finite, >= 0, not all 0),
//    never modified. q_k = n_k / sum n.
//  * temperature_probabilities: p_k = q_k^(1/tau) / sum_j q_j^(1/tau) (tau > 0; tau = +inf is
//    allowed and gives uniform over non-empty groups). The _alpha spelling takes the exponent
//    alpha = 1/tau directly (alpha >= 0; 0 is uniform, 1 proportional). Computed in log space
//    (alpha log n_k - logsumexp), so tiny groups and huge alphas neither underflow to 0/0 nor
//    overflow. Empty groups (n_k = 0) get p_k = 0.
//  * scalarization_weights: w_k = p_k / q_k, so sampling proportionally (q) and weighting group k's
//    loss by w_k has the same expected gradient as sampling from p (Li et al., NAACL 2025).
//    Empty groups get w_k = 0. sum_k q_k w_k = 1.
//  * Schedules: constant, step, linear, cosine and cooldown (hold a high tau, then lower it with a
//    step, linear or cosine shape) are small value types; schedule(step) returns tau at `step`.
//    Their values must be finite and > 0 (constructors throw otherwise), so they always give a
//    valid tau. The cooldown shape of the paper ("start by heavily upsampling, then reduce") is
//    not pinned down by its abstract; the defaults here are placeholders for the caller's own.
//  * Errors (ladle::error, nothing written): empty sizes, negative / NaN / Inf sizes, all sizes 0,
//    tau <= 0 or NaN, alpha < 0 or non-finite, out of the wrong length or overlapping sizes.
//
// Complexity O(K); extra memory O(1) beyond the output (the _into forms), O(K) for the owning forms.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/view.hpp"

#include <cstdint>
#include <vector>

namespace ladle {

/// p_k proportional to q_k^(1/tau).
template <class S, class T>
void temperature_probabilities_into(vector_view<S> sizes, double tau, vector_view<T> out);
template <class T = double, class S>
std::vector<T> temperature_probabilities(vector_view<S> sizes, double tau);

/// p_k proportional to q_k^alpha (alpha = 1/tau).
template <class S, class T>
void temperature_probabilities_alpha_into(vector_view<S> sizes, double alpha, vector_view<T> out);
template <class T = double, class S>
std::vector<T> temperature_probabilities_alpha(vector_view<S> sizes, double alpha);

/// w_k = p_k(tau) / q_k: loss weights for proportional sampling with the expected gradient of
/// temperature sampling at tau.
template <class S, class T>
void scalarization_weights_into(vector_view<S> sizes, double tau, vector_view<T> out);
template <class T = double, class S>
std::vector<T> scalarization_weights(vector_view<S> sizes, double tau);

/// The same value at every step.
struct constant_schedule {
  double value;
  explicit constant_schedule(double value);
  double operator()(std::int64_t step) const noexcept;
};

/// `before` for steps < switch_step, then `after`.
struct step_schedule {
  double before, after;
  std::int64_t switch_step;
  step_schedule(double before, double after, std::int64_t switch_step);
  double operator()(std::int64_t step) const noexcept;
};

/// `start` up to begin_step, linear to `end` at end_step, `end` afterwards.
struct linear_schedule {
  double start, end;
  std::int64_t begin_step, end_step;
  linear_schedule(double start, double end, std::int64_t begin_step, std::int64_t end_step);
  double operator()(std::int64_t step) const noexcept;
};

/// Half-cosine from `start` (at begin_step) to `end` (at end_step): end + (start - end)(1 + cos(pi t))/2.
struct cosine_schedule {
  double start, end;
  std::int64_t begin_step, end_step;
  cosine_schedule(double start, double end, std::int64_t begin_step, std::int64_t end_step);
  double operator()(std::int64_t step) const noexcept;
};

enum class cooldown_shape { step, linear, cosine };

/// Cooldown: hold `high` for hold_steps (heavy upsampling), then go down to `low` over
/// decay_steps with the given shape (decay_steps = 0 or shape step: an immediate switch).
struct cooldown_schedule {
  double high, low;
  std::int64_t hold_steps, decay_steps;
  cooldown_shape shape;
  cooldown_schedule(double high, double low, std::int64_t hold_steps, std::int64_t decay_steps,
                    cooldown_shape shape = cooldown_shape::linear);
  double operator()(std::int64_t step) const noexcept;
};

}  // namespace ladle

#include "ladle/weighting/detail/temperature_impl.hpp"
