// ladle/quantile/isotonic.hpp: weighted isotonic regression (pool adjacent violators).
//
// isotonic_fit_into: the least-squares monotone fit of a sequence y (in its given order) with
// optional positive weights, then clipped to [y_min, y_max] (clipping the unbounded fit gives the
// bounded optimum). Equal neighbours are pooled (a block closes only at a strict increase), as
// in scikit-learn's isotonic_regression(); decreasing fits run on the reversed sequence.
//
// isotonic_regression: scikit-learn's IsotonicRegression (1.2) as a small class: fit(x, y, w)
// drops zero-weight samples, sorts by (x, y), pools samples whose x differ by less than 1e-15
// (np.finfo(float64).resolution) into one point with the weighted mean of their y and the SUM
// of their weights, fits, keeps the thresholds where the fit changes, and predict(x) interpolates
// linearly between thresholds; outside [x_min, x_max] it gives NaN, clips, or throws.
// (increasing="auto" is not offered: pass the direction.)
//
// Inputs: host views of float or double, any strides; weights double, finite, >= 0 (the
// sequence form needs them > 0). Errors (ladle::error, nothing written): empty input, length
// mismatches, NaN/Inf, bad weights, y_min > y_max, prediction outside the fitted range with
// out_of_bounds = raise, predict before fit.
// Complexity: sequence fit O(n) time; fit O(n) (an LSD radix sort of x; a run of r equal x
// adds O(r log r)); predict O(log t) per point (t thresholds). Extra memory: sequence fit 24
// bytes a point, fit 40 bytes a point (freed on return), none for predict.
#pragma once

#include "ladle/core/view.hpp"
#include "ladle/quantile/detail/checks.hpp"

#include <limits>
#include <vector>

namespace ladle {

/// out = argmin sum_i w_i (out_i - y_i)^2 over monotone sequences, clipped to [y_min, y_max].
/// out may be y itself (exact aliasing); partial overlap is refused. w empty = all ones.
template <class T>
void isotonic_fit_into(vector_view<double> out, vector_view<T> y,
                       vector_view<const double> sample_weight = {}, bool increasing = true,
                       double y_min = -std::numeric_limits<double>::infinity(),
                       double y_max = std::numeric_limits<double>::infinity());

/// Owning form.
template <class T>
std::vector<double> isotonic_fit(vector_view<T> y, vector_view<const double> sample_weight = {},
                                 bool increasing = true,
                                 double y_min = -std::numeric_limits<double>::infinity(),
                                 double y_max = std::numeric_limits<double>::infinity());

/// What predict does with x outside [x_min, x_max] of the fitted data.
enum class out_of_bounds_mode { nan, clip, raise };

struct isotonic_options {
  bool increasing = true;
  double y_min = -std::numeric_limits<double>::infinity();
  double y_max = std::numeric_limits<double>::infinity();
  out_of_bounds_mode out_of_bounds = out_of_bounds_mode::nan;
};

class isotonic_regression {
 public:
  explicit isotonic_regression(isotonic_options opts = {}) : opts_(opts) {}

  /// Fits on (x, y) with optional sample weights; returns *this.
  template <class TX, class TY>
  isotonic_regression& fit(vector_view<TX> x, vector_view<TY> y,
                           vector_view<const double> sample_weight = {});

  /// out[i] = the fitted function at x[i] (linear between thresholds).
  template <class TX>
  void predict_into(vector_view<double> out, vector_view<TX> x) const;
  template <class TX>
  std::vector<double> predict(vector_view<TX> x) const;

  bool fitted() const noexcept { return !x_.empty(); }
  const std::vector<double>& x_thresholds() const noexcept { return x_; }
  const std::vector<double>& y_thresholds() const noexcept { return y_; }
  double x_min() const noexcept { return x_min_; }
  double x_max() const noexcept { return x_max_; }
  const isotonic_options& options() const noexcept { return opts_; }

 private:
  isotonic_options opts_;
  std::vector<double> x_, y_;
  double x_min_ = 0.0, x_max_ = 0.0;
};

}  // namespace ladle

#include "ladle/quantile/detail/isotonic_impl.hpp"
