// ladle/quantile/detail/checks.hpp: argument checks shared by the quantile family.
//
// Every check names the PUBLIC function and the caller's argument, and runs before anything is
// written. Views may have any strides; they must be host memory.
#pragma once

#include "ladle/core/error.hpp"
#include "ladle/core/view.hpp"

#include <cmath>
#include <cstddef>

namespace ladle {
namespace detail {
namespace quantile {

/// Quantile levels: non-empty, each in the open interval (0, 1), strictly increasing.
inline void check_levels(vector_view<const double> levels, const char* fn,
                         const char* arg = "levels") {
  require_host(levels, fn, arg);
  if (levels.extent(0) == 0) throw_invalid_argument(fn, arg, "is empty");
  for (index_t k = 0; k < levels.extent(0); ++k) {
    const double t = levels(k);
    if (!(t > 0.0 && t < 1.0))
      throw_invalid_argument(fn, arg, "level ", k, " is ", t, ", outside (0, 1)");
    if (k > 0 && !(t > levels(k - 1)))
      throw_invalid_argument(fn, arg, "is not strictly increasing: level ", k, " is ", t,
                             " after ", levels(k - 1));
  }
}

/// A host view with finite elements only (the core check names the first offender by index).
template <class T, std::size_t R>
void check_finite(tensor_view<T, R> v, const char* fn, const char* arg) {
  require_host(v, fn, arg);
  require_finite(v, fn, arg);
}

/// Optional non-negative finite weights of length n with a positive sum (empty = all ones).
inline void check_weights(vector_view<const double> w, index_t n, const char* fn,
                          const char* arg) {
  if (w.extent(0) == 0) return;
  require_host(w, fn, arg);
  require_extent(w.extent(0), n, fn, arg, "length");
  double sum = 0.0;
  for (index_t i = 0; i < n; ++i) {
    const double v = w(i);
    if (!(std::isfinite(v) && v >= 0.0))
      throw_domain_error(fn, arg, "element ", i, " is ", v,
                         " (weights must be finite and non-negative)");
    sum += v;
  }
  if (!(sum > 0.0)) throw_domain_error(fn, arg, "sums to zero");
}

/// A miscoverage level alpha in the open interval (0, 1).
inline void check_alpha(double alpha, const char* fn, const char* arg = "alpha") {
  if (!(alpha > 0.0 && alpha < 1.0))
    throw_invalid_argument(fn, arg, "is ", alpha, ", outside (0, 1)");
}

/// Weight of sample i (1 when the view is empty).
inline double weight_at(vector_view<const double> w, index_t i) noexcept {
  return w.extent(0) == 0 ? 1.0 : w(i);
}

/// Weighted pinball loss of one residual e = y - q at level tau: max(tau e, (tau - 1) e).
inline double pinball(double e, double tau) noexcept {
  return e >= 0.0 ? tau * e : (tau - 1.0) * e;
}

}  // namespace quantile
}  // namespace detail
}  // namespace ladle
