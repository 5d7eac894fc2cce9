// Definitions for ladle/weighting/fairness.hpp.
#pragma once

#include "ladle/weighting/detail/common.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ladle {
namespace detail {

template <class L, class C, class T>
void febs_into(vector_view<L> losses, const vector_view<C>* counts, vector_view<T> out,
               double gamma, const char* fn) {
  require_float_input<L>(fn);
  require_writable_float<T>(fn);
  require_host(losses, fn, "group_losses");
  require_host(out, fn, "out");
  require_nonempty(losses, fn, "group_losses");
  const index_t g = losses.extent(0);
  require_extent(out.extent(0), g, fn, "out", "length");
  require_disjoint(out, "out", losses, "group_losses", fn);
  if (counts != nullptr) {
    require_host(*counts, fn, "group_counts");
    require_extent(counts->extent(0), g, fn, "group_counts", "length");
    require_disjoint(out, "out", *counts, "group_counts", fn);
  }
  if (!(gamma >= 0) || !std::isfinite(gamma))
    throw_domain_error(fn, "gamma", "must be finite and >= 0, got ", gamma);
  double lo = std::numeric_limits<double>::infinity();
  for (index_t a = 0; a < g; ++a) {
    const double l = static_cast<double>(losses(a));
    if (!std::isfinite(l) || l < 0)
      throw_domain_error(fn, "group_losses", "element ", a, " (", l, ") must be finite and >= 0");
    bool present = true;
    if (counts != nullptr) {
      const double c = static_cast<double>((*counts)(a));
      if (!std::isfinite(c) || c < 0)
        throw_domain_error(fn, "group_counts", "element ", a, " (", c, ") must be finite and >= 0");
      present = c > 0;
    }
    if (present) lo = std::min(lo, l);
  }
  if (!std::isfinite(lo)) throw_domain_error(fn, "group_counts", "no group is present");
  for (index_t a = 0; a < g; ++a) {
    const double l = static_cast<double>(losses(a));
    const bool present = counts == nullptr || static_cast<double>((*counts)(a)) > 0;
    double w = 1.0;
    if (present) {
      const double ratio = l == lo ? 1.0 : lo / l;
      w = std::tanh(std::pow(ratio, gamma));
    }
    out(a) = static_cast<T>(w);
  }
}

}  // namespace detail

template <class L, class T>
void fair_error_bound_weights_into(vector_view<L> group_losses, vector_view<T> out, double gamma) {
  detail::febs_into<L, const double>(group_losses, nullptr, out, gamma,
                                     "fair_error_bound_weights_into");
}

template <class L, class C, class T>
void fair_error_bound_weights_into(vector_view<L> group_losses, vector_view<C> group_counts,
                                   vector_view<T> out, double gamma) {
  detail::febs_into(group_losses, &group_counts, out, gamma, "fair_error_bound_weights_into");
}

template <class M>
double equity_scaled_metric(double overall, vector_view<M> group_metrics, double alpha,
                            equity_dispersion dispersion) {
  const char* fn = "equity_scaled_metric";
  detail::require_float_input<M>(fn);
  detail::require_host(group_metrics, fn, "group_metrics");
  detail::require_nonempty(group_metrics, fn, "group_metrics");
  if (!std::isfinite(overall)) throw_domain_error(fn, "overall", "must be finite, got ", overall);
  if (!(alpha >= 0) || !std::isfinite(alpha))
    throw_domain_error(fn, "alpha", "must be finite and >= 0, got ", alpha);
  detail::require_finite(group_metrics, fn, "group_metrics");
  const index_t g = group_metrics.extent(0);
  double d = 0;
  if (dispersion == equity_dispersion::sum_abs_deviation) {
    for (index_t a = 0; a < g; ++a) d += std::abs(static_cast<double>(group_metrics(a)) - overall);
  } else {
    double m = 0;
    for (index_t a = 0; a < g; ++a) m += static_cast<double>(group_metrics(a));
    m /= static_cast<double>(g);
    for (index_t a = 0; a < g; ++a) {
      const double x = static_cast<double>(group_metrics(a)) - m;
      d += detail::mul_nocontract(x, x);
    }
    d = std::sqrt(d / static_cast<double>(g));
  }
  return overall / (1.0 + detail::mul_nocontract(alpha, d));
}

}  // namespace ladle
