// ladle/quantile/conformal.hpp: split conformal intervals and conformalized quantile regression.
//
// The conformal quantile of n calibration scores at miscoverage alpha is their r-th smallest
// value with r = ceil((1 - alpha)(n + 1)) (computed as ceil((1-alpha)(n+1) - 1e-9) so that a
// product like 0.9 * 10 rounding to 9.000000000000002 does not add a rank); when r > n the
// calibration set is too small for that alpha and the quantile is +infinity (an unbounded
// interval). Under exchangeability of calibration and test points the intervals cover with
// probability >= 1 - alpha, and <= 1 - alpha + 1/(n+1) when scores have no ties.
//
//  * split_conformal: scores |y - yhat| of a point model; interval [yhat - Q, yhat + Q].
//  * cqr (Romano et al. 2019), per pair p of levels (p, K-1-p), p < K/2, nominal coverage
//    tau_{K-1-p} - tau_p, alpha_p = 1 - (tau_{K-1-p} - tau_p):
//      symmetric:  E_i = max(l_i - y_i, y_i - u_i), Q_p at alpha_p, [l - Q_p, u + Q_p];
//      asymmetric: lower and upper ends separately, E^lo = l - y at miscoverage tau_p and
//                  E^hi = y - u at miscoverage 1 - tau_{K-1-p}: [l - Q^lo_p, u + Q^hi_p].
//    A middle column (K odd) is left as is. Each adjusted row is sorted afterwards, since pairs
//    adjusted independently can cross again (sorting never increases the pinball loss).
//
// Inputs: host views (float or double, any strides). Errors (ladle::error, nothing written):
// empty calibration set, shape mismatches, NaN/Inf, alpha outside (0, 1), bad levels, apply
// before fit. Complexity: fit O(n log n) worst case (selection, O(n) average) per pair; extra
// memory O(n). Apply O(N K).
#pragma once

#include "ladle/core/view.hpp"
#include "ladle/quantile/detail/checks.hpp"

#include <vector>

namespace ladle {

/// The ceil((1-alpha)(n+1))-th smallest score (+infinity when that rank exceeds n).
template <class T>
double conformal_quantile(vector_view<T> scores, double alpha);

/// Split conformal around a point model.
class split_conformal {
 public:
  /// Calibrates on point predictions and targets of the calibration set.
  template <class T, class U>
  split_conformal& fit(vector_view<T> prediction, vector_view<U> y, double alpha);
  /// lower = prediction - radius, upper = prediction + radius.
  template <class T, class L>
  void predict_into(vector_view<L> lower, vector_view<L> upper, vector_view<T> prediction) const;
  double radius() const noexcept { return radius_; }
  bool fitted() const noexcept { return fitted_; }

 private:
  double radius_ = 0.0;
  bool fitted_ = false;
};

struct cqr_options {
  bool asymmetric = false;  ///< calibrate the two ends of each pair separately
  bool sort = true;         ///< sort each row after the adjustment
};

/// Conformalized quantile regression over the symmetric pairs of K levels.
class cqr {
 public:
  explicit cqr(cqr_options opts = {}) : opts_(opts) {}
  /// Calibrates on predictions q_cal [n, K] and targets y_cal [n] at levels [K].
  template <class T, class U>
  cqr& fit(matrix_view<T> q_cal, vector_view<U> y_cal, vector_view<const double> levels);
  /// Adjusts q [N, K] in place (and sorts rows when opts.sort).
  template <class T>
  void apply(matrix_view<T> q) const;
  /// Per pair p: the amount subtracted from column p and added to column K-1-p.
  const std::vector<double>& lower_shift() const noexcept { return lo_; }
  const std::vector<double>& upper_shift() const noexcept { return hi_; }
  bool fitted() const noexcept { return k_ > 0; }

 private:
  cqr_options opts_;
  std::vector<double> lo_, hi_;
  index_t k_ = 0;
};

}  // namespace ladle

#include "ladle/quantile/detail/conformal_impl.hpp"
