// Definitions for ladle/weighting/temperature.hpp.
#pragma once

#include "ladle/weighting/detail/common.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace ladle {
namespace detail {

// Validated sizes as doubles, and their total.
template <class S>
std::vector<double> group_sizes(vector_view<S> sizes, const char* fn, double& total) {
  require_host(sizes, fn, "sizes");
  require_nonempty(sizes, fn, "sizes");
  std::vector<double> n(static_cast<std::size_t>(sizes.extent(0)));
  total = 0;
  for (index_t k = 0; k < sizes.extent(0); ++k) {
    const double v = static_cast<double>(sizes(k));
    if (!std::isfinite(v) || v < 0)
      throw_domain_error(fn, "sizes", "element ", k, " (", v, ") must be finite and >= 0");
    n[static_cast<std::size_t>(k)] = v;
    total += v;
  }
  if (!(total > 0)) throw_domain_error(fn, "sizes", "every group size is zero");
  return n;
}

// log p_k for p_k proportional to n_k^alpha over the non-empty groups (-inf for empty ones).
inline std::vector<double> log_temperature_probabilities(const std::vector<double>& n,
                                                         double alpha) {
  std::vector<double> lp(n.size());
  double m = -std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < n.size(); ++k) {
    lp[k] = n[k] > 0 ? mul_nocontract(alpha, std::log(n[k])) : -std::numeric_limits<double>::infinity();
    m = std::max(m, lp[k]);
  }
  double s = 0;
  for (std::size_t k = 0; k < n.size(); ++k)
    if (n[k] > 0) s += std::exp(lp[k] - m);
  const double lse = m + std::log(s);
  for (std::size_t k = 0; k < n.size(); ++k)
    if (n[k] > 0) lp[k] -= lse;
  return lp;
}

template <class S, class T>
void temperature_into(vector_view<S> sizes, double alpha, vector_view<T> out, bool scalarize,
                      const char* fn) {
  require_writable_float<T>(fn);
  double total = 0;
  const auto n = group_sizes(sizes, fn, total);
  require_host(out, fn, "out");
  require_extent(out.extent(0), sizes.extent(0), fn, "out", "length");
  require_disjoint(out, "out", sizes, "sizes", fn);
  const auto lp = log_temperature_probabilities(n, alpha);
  const double log_total = std::log(total);
  for (std::size_t k = 0; k < n.size(); ++k) {
    double v = 0;
    if (n[k] > 0) v = scalarize ? std::exp(lp[k] - (std::log(n[k]) - log_total)) : std::exp(lp[k]);
    out(static_cast<index_t>(k)) = static_cast<T>(v);
  }
}

inline double alpha_of_tau(double tau, const char* fn) {
  if (!(tau > 0)) throw_domain_error(fn, "tau", "must be > 0, got ", tau);
  return 1.0 / tau;  // tau = +inf gives alpha = 0 (uniform)
}

inline void check_alpha(double alpha, const char* fn) {
  if (!(alpha >= 0) || !std::isfinite(alpha))
    throw_domain_error(fn, "alpha", "must be finite and >= 0, got ", alpha);
}

inline void check_schedule_value(double v, const char* fn, const char* arg) {
  require_positive_finite(v, fn, arg);
}

inline void check_schedule_steps(std::int64_t a, std::int64_t b, const char* fn) {
  if (b < a) throw_invalid_argument(fn, "end_step", "(", b, ") is before begin_step (", a, ")");
}

// Fraction of the way from a to b at step (0 before a, 1 from b on).
inline double schedule_progress(std::int64_t step, std::int64_t a, std::int64_t b) noexcept {
  if (step <= a) return 0.0;
  if (step >= b) return 1.0;
  return static_cast<double>(step - a) / static_cast<double>(b - a);
}

inline double cosine_blend(double start, double end, double t) noexcept {
  const double pi = 3.14159265358979323846;
  return end + mul_nocontract(start - end, 0.5 * (1.0 + std::cos(pi * t)));
}

}  // namespace detail

template <class S, class T>
void temperature_probabilities_into(vector_view<S> sizes, double tau, vector_view<T> out) {
  const char* fn = "temperature_probabilities_into";
  detail::temperature_into(sizes, detail::alpha_of_tau(tau, fn), out, false, fn);
}

template <class T, class S>
std::vector<T> temperature_probabilities(vector_view<S> sizes, double tau) {
  const char* fn = "temperature_probabilities";
  const double alpha = detail::alpha_of_tau(tau, fn);
  std::vector<T> out(static_cast<std::size_t>(sizes.extent(0)));
  detail::temperature_into(sizes, alpha, make_view(out.data(), out.size()), false, fn);
  return out;
}

template <class S, class T>
void temperature_probabilities_alpha_into(vector_view<S> sizes, double alpha, vector_view<T> out) {
  const char* fn = "temperature_probabilities_alpha_into";
  detail::check_alpha(alpha, fn);
  detail::temperature_into(sizes, alpha, out, false, fn);
}

template <class T, class S>
std::vector<T> temperature_probabilities_alpha(vector_view<S> sizes, double alpha) {
  const char* fn = "temperature_probabilities_alpha";
  detail::check_alpha(alpha, fn);
  std::vector<T> out(static_cast<std::size_t>(sizes.extent(0)));
  detail::temperature_into(sizes, alpha, make_view(out.data(), out.size()), false, fn);
  return out;
}

template <class S, class T>
void scalarization_weights_into(vector_view<S> sizes, double tau, vector_view<T> out) {
  const char* fn = "scalarization_weights_into";
  detail::temperature_into(sizes, detail::alpha_of_tau(tau, fn), out, true, fn);
}

template <class T, class S>
std::vector<T> scalarization_weights(vector_view<S> sizes, double tau) {
  const char* fn = "scalarization_weights";
  const double alpha = detail::alpha_of_tau(tau, fn);
  std::vector<T> out(static_cast<std::size_t>(sizes.extent(0)));
  detail::temperature_into(sizes, alpha, make_view(out.data(), out.size()), true, fn);
  return out;
}

// ---- schedules --------------------------------------------------------------------------------

inline constant_schedule::constant_schedule(double v) : value(v) {
  detail::check_schedule_value(v, "constant_schedule", "value");
}
inline double constant_schedule::operator()(std::int64_t) const noexcept { return value; }

inline step_schedule::step_schedule(double b, double a, std::int64_t s)
    : before(b), after(a), switch_step(s) {
  detail::check_schedule_value(b, "step_schedule", "before");
  detail::check_schedule_value(a, "step_schedule", "after");
}
inline double step_schedule::operator()(std::int64_t step) const noexcept {
  return step < switch_step ? before : after;
}

inline linear_schedule::linear_schedule(double s, double e, std::int64_t b, std::int64_t f)
    : start(s), end(e), begin_step(b), end_step(f) {
  detail::check_schedule_value(s, "linear_schedule", "start");
  detail::check_schedule_value(e, "linear_schedule", "end");
  detail::check_schedule_steps(b, f, "linear_schedule");
}
inline double linear_schedule::operator()(std::int64_t step) const noexcept {
  const double t = detail::schedule_progress(step, begin_step, end_step);
  return t >= 1.0 ? end : start + detail::mul_nocontract(end - start, t);
}

inline cosine_schedule::cosine_schedule(double s, double e, std::int64_t b, std::int64_t f)
    : start(s), end(e), begin_step(b), end_step(f) {
  detail::check_schedule_value(s, "cosine_schedule", "start");
  detail::check_schedule_value(e, "cosine_schedule", "end");
  detail::check_schedule_steps(b, f, "cosine_schedule");
}
inline double cosine_schedule::operator()(std::int64_t step) const noexcept {
  const double t = detail::schedule_progress(step, begin_step, end_step);
  return t >= 1.0 ? end : detail::cosine_blend(start, end, t);
}

inline cooldown_schedule::cooldown_schedule(double h, double l, std::int64_t hold,
                                            std::int64_t decay, cooldown_shape s)
    : high(h), low(l), hold_steps(hold), decay_steps(decay), shape(s) {
  detail::check_schedule_value(h, "cooldown_schedule", "high");
  detail::check_schedule_value(l, "cooldown_schedule", "low");
  if (hold < 0) throw_invalid_argument("cooldown_schedule", "hold_steps", "must be >= 0, got ", hold);
  if (decay < 0)
    throw_invalid_argument("cooldown_schedule", "decay_steps", "must be >= 0, got ", decay);
}
inline double cooldown_schedule::operator()(std::int64_t step) const noexcept {
  if (step < hold_steps) return high;
  if (shape == cooldown_shape::step || decay_steps == 0) return low;
  const double t = detail::schedule_progress(step, hold_steps, hold_steps + decay_steps);
  if (t >= 1.0) return low;
  return shape == cooldown_shape::linear ? high + detail::mul_nocontract(low - high, t)
                                         : detail::cosine_blend(high, low, t);
}

}  // namespace ladle
