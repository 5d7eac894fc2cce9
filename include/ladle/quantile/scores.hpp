// ladle/quantile/scores.hpp: pinball loss, interval score, weighted interval score, calibration
// metrics and the Huber-smoothed pinball loss of quantile predictions.
//
// Inputs (host views, any strides; T and U are float or double, arithmetic is double):
//   q      [N, K]  predictions, column k is the quantile at level levels[k];
//   y      [N]     observed targets;
//   levels [K]     quantile levels, strictly increasing inside (0, 1);
//   sample_weight [N] optional (empty view = every sample weighs 1), finite, >= 0, positive sum.
// Every mean over samples is the weighted mean sum_i w_i f_i / sum_i w_i, summed in index order
// (same bits for every build). Residuals are e = y - q, pinball rho_tau(e) = max(tau e, (tau-1) e).
//
// Errors (ladle::error, nothing written, inputs untouched): N or K of 0, shape mismatches, levels
// not strictly increasing or outside (0, 1), NaN/Inf in q or y, negative / non-finite weights or
// a zero weight sum, alpha outside (0, 1), levels not symmetric where WIS needs them.
// Complexity O(N K) time; extra memory O(K).
#pragma once

#include "ladle/core/view.hpp"
#include "ladle/quantile/detail/checks.hpp"

#include <vector>

namespace ladle {

// ---- pinball loss ------------------------------------------------------------------------------

/// out[k] = weighted mean over samples of rho_{levels[k]}(y_i - q[i, k]). out has length K.
template <class T, class U>
void pinball_loss_per_level_into(vector_view<double> out, matrix_view<T> q, vector_view<U> y,
                                 vector_view<const double> levels,
                                 vector_view<const double> sample_weight = {});
template <class T, class U>
std::vector<double> pinball_loss_per_level(matrix_view<T> q, vector_view<U> y,
                                           vector_view<const double> levels,
                                           vector_view<const double> sample_weight = {});

/// Mean over levels of the per-level losses (the reference code's convention), or, with
/// level_weight [K] (>= 0, positive sum), sum_k lw_k L_k / sum_k lw_k.
template <class T, class U>
double pinball_loss(matrix_view<T> q, vector_view<U> y, vector_view<const double> levels,
                    vector_view<const double> sample_weight = {},
                    vector_view<const double> level_weight = {});

// ---- interval scores -------------------------------------------------------------------------

/// Weighted mean of IS_alpha = (u - l) + (2/alpha)(l - y) 1{y < l} + (2/alpha)(y - u) 1{y > u}
/// for the central (1 - alpha) interval [lower, upper].
template <class T, class U>
double interval_score(vector_view<T> lower, vector_view<T> upper, vector_view<U> y, double alpha,
                      vector_view<const double> sample_weight = {});

/// Weighted interval score (Bracher et al. 2021) of symmetric levels (tau_k + tau_{K-1-k} = 1 to
/// 1e-9; a middle level, when K is odd, is the median): with the pairs' IS_alpha weighted by
/// alpha/2 and the median's absolute error by 1/2, normalised by (pairs + 1/2) (or by pairs when
/// there is no median). Computed through the identity
///     alpha/2 IS_alpha(l, u, y) = rho_{alpha/2}(y - l) + rho_{1-alpha/2}(y - u),
/// which makes WIS = 2 * pinball_loss(q, y, levels, sample_weight) -- one code path.
template <class T, class U>
double weighted_interval_score(matrix_view<T> q, vector_view<U> y,
                               vector_view<const double> levels,
                               vector_view<const double> sample_weight = {});

// ---- calibration -------------------------------------------------------------------------------

/// Calibration of K quantiles; pair p (p < K/2) is the interval [q_p, q_{K-1-p}] with nominal
/// coverage levels[K-1-p] - levels[p] (the reference code's pairing, symmetry not required).
struct calibration_report {
  std::vector<double> coverage;    ///< [K] weighted fraction of samples with y <= q_k
  double mace = 0.0;               ///< mean_k |coverage_k - tau_k|
  double rmsce = 0.0;              ///< sqrt(mean_k (coverage_k - tau_k)^2)
  std::vector<double> picp;        ///< [K/2] weighted fraction with l <= y <= u (inclusive)
  std::vector<double> picp_error;  ///< [K/2] |picp_p - nominal_p|
  std::vector<double> mpiw;        ///< [K/2] weighted mean (u - l) / (max y - min y)
};

/// Per-level coverage, MACE, RMSCE, PICP and MPIW. MPIW divides by the range of y over samples of
/// positive weight; when that range is 0 the widths are reported unnormalised.
template <class T, class U>
calibration_report calibration(matrix_view<T> q, vector_view<U> y,
                               vector_view<const double> levels,
                               vector_view<const double> sample_weight = {});

// ---- Huber-pinball ---------------------------------------------------------------------------

/// Smoothed pinball for training: with e = y - q and h(e) = e^2 / (2 delta) for |e| <= delta,
/// |e| - delta / 2 otherwise, the loss is tau h(e) for e >= 0 and (1 - tau) h(e) for e < 0;
/// it lies within [rho - delta/2 max(tau, 1-tau), rho]. delta = 0 gives the pinball loss
/// exactly. Averaged like pinball_loss (weighted mean over samples, mean over levels).
/// delta must be finite and >= 0.
template <class T, class U>
double huber_pinball_loss(matrix_view<T> q, vector_view<U> y, vector_view<const double> levels,
                          double delta, vector_view<const double> sample_weight = {});

/// The same per level, into out [K].
template <class T, class U>
void huber_pinball_loss_per_level_into(vector_view<double> out, matrix_view<T> q,
                                       vector_view<U> y, vector_view<const double> levels,
                                       double delta,
                                       vector_view<const double> sample_weight = {});

}  // namespace ladle

#include "ladle/quantile/detail/scores_impl.hpp"
