// Definitions for ladle/weighting/focal_dice.hpp.
#pragma once

#include "ladle/weighting/detail/common.hpp"

#include <cmath>

namespace ladle {
namespace detail {

template <class P>
void require_probabilities(vector_view<P> p, const char* fn, const char* arg) {
  for (index_t i = 0; i < p.extent(0); ++i) {
    const double v = static_cast<double>(p(i));
    if (!(v >= 0 && v <= 1))
      throw_domain_error(fn, arg, "element ", i, " (", v, ") is not in [0, 1]");
  }
}

inline void require_exponent(double v, const char* fn, const char* arg) {
  if (!(v >= 0) || !std::isfinite(v))
    throw_domain_error(fn, arg, "must be finite and >= 0, got ", v);
}

template <class P, class T>
void check_factor_io(vector_view<P> p, vector_view<T> out, const char* fn) {
  require_float_input<P>(fn);
  require_writable_float<T>(fn);
  require_host(p, fn, "p");
  require_host(out, fn, "out");
  require_nonempty(p, fn, "p");
  require_extent(out.extent(0), p.extent(0), fn, "out", "length");
  require_disjoint(out, "out", p, "p", fn);
}

inline double adjusted_probability(double p, double alpha) noexcept {
  return detail::mul_nocontract(std::pow(1.0 - p, alpha), p);
}

}  // namespace detail

template <class P, class T>
void focal_factors_into(vector_view<P> p, vector_view<T> out, double gamma) {
  const char* fn = "focal_factors_into";
  detail::check_factor_io(p, out, fn);
  detail::require_exponent(gamma, fn, "gamma");
  detail::require_probabilities(p, fn, "p");
  for (index_t i = 0; i < p.extent(0); ++i)
    out(i) = static_cast<T>(std::pow(1.0 - static_cast<double>(p(i)), gamma));
}

template <class P, class T>
void self_adjusting_factors_into(vector_view<P> p, vector_view<T> out, double alpha) {
  const char* fn = "self_adjusting_factors_into";
  detail::check_factor_io(p, out, fn);
  detail::require_exponent(alpha, fn, "alpha");
  detail::require_probabilities(p, fn, "p");
  for (index_t i = 0; i < p.extent(0); ++i)
    out(i) = static_cast<T>(detail::adjusted_probability(static_cast<double>(p(i)), alpha));
}

template <class P, class Y, class T>
void dice_instance_losses_into(vector_view<P> p, vector_view<Y> y, vector_view<T> out,
                               const dice_instance_options& o) {
  const char* fn = "dice_instance_losses_into";
  detail::check_factor_io(p, out, fn);
  detail::require_host(y, fn, "y");
  detail::require_extent(y.extent(0), p.extent(0), fn, "y", "length");
  detail::require_disjoint(out, "out", y, "y", fn);
  detail::require_exponent(o.alpha, fn, "alpha");
  detail::require_positive_finite(o.gamma, fn, "gamma");
  detail::require_probabilities(p, fn, "p");
  detail::require_probabilities(y, fn, "y");
  for (index_t i = 0; i < p.extent(0); ++i) {
    const double a = detail::adjusted_probability(static_cast<double>(p(i)), o.alpha);
    const double t = static_cast<double>(y(i));
    const double num = 2.0 * detail::mul_nocontract(a, t) + o.gamma;
    out(i) = static_cast<T>(1.0 - num / (a + t + o.gamma));
  }
}

template <class P, class Y>
double dice_batch_loss(vector_view<P> p, vector_view<Y> y, const dice_batch_options& o) {
  const char* fn = "dice_batch_loss";
  detail::require_float_input<P>(fn);
  detail::require_host(p, fn, "p");
  detail::require_host(y, fn, "y");
  detail::require_nonempty(p, fn, "p");
  detail::require_extent(y.extent(0), p.extent(0), fn, "y", "length");
  detail::require_exponent(o.alpha, fn, "alpha");
  detail::require_positive_finite(o.smooth, fn, "smooth");
  detail::require_probabilities(p, fn, "p");
  detail::require_probabilities(y, fn, "y");
  double inter = 0, sa = 0, sy = 0;
  for (index_t i = 0; i < p.extent(0); ++i) {
    const double a = detail::adjusted_probability(static_cast<double>(p(i)), o.alpha);
    const double t = static_cast<double>(y(i));
    inter += detail::mul_nocontract(a, t);
    sa += o.square_denominator ? detail::mul_nocontract(a, a) : a;
    sy += o.square_denominator ? detail::mul_nocontract(t, t) : t;
  }
  return 1.0 - (2.0 * inter + o.smooth) / (sa + sy + o.smooth);
}

}  // namespace ladle
