// ladle/quantile/detail/scores_impl.hpp: definitions for ladle/quantile/scores.hpp.
#pragma once

#include "ladle/quantile/scores.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ladle {
namespace detail {
namespace quantile {

/// Checks shared by every [N, K] score: shapes, levels, finiteness, weights.
template <class T, class U>
void check_scored(matrix_view<T> q, vector_view<U> y, vector_view<const double> levels,
                  vector_view<const double> w, const char* fn) {
  check_levels(levels, fn);
  require_host(q, fn, "q");
  require_host(y, fn, "y");
  if (q.extent(0) == 0) throw_invalid_argument(fn, "q", "has no rows");
  require_extent(q.extent(1), levels.extent(0), fn, "q", "column count (levels)");
  require_extent(y.extent(0), q.extent(0), fn, "y", "length (rows of q)");
  check_finite(q, fn, "q");
  check_finite(y, fn, "y");
  check_weights(w, q.extent(0), fn, "sample_weight");
}

inline double weight_sum(vector_view<const double> w, index_t n) noexcept {
  if (w.extent(0) == 0) return static_cast<double>(n);
  double s = 0.0;
  for (index_t i = 0; i < n; ++i) s += w(i);
  return s;
}

/// Loss(e, tau) summed per level with weights, divided by the weight sum.
template <class T, class U, class Loss>
void per_level(double* out, matrix_view<T> q, vector_view<U> y, vector_view<const double> levels,
               vector_view<const double> w, Loss&& loss) {
  const index_t n = q.extent(0), k = q.extent(1);
  const double total = weight_sum(w, n);
  for (index_t j = 0; j < k; ++j) {
    const double tau = levels(j);
    double s = 0.0;
    for (index_t i = 0; i < n; ++i) {
      const double e = static_cast<double>(y(i)) - static_cast<double>(q(i, j));
      s = std::fma(weight_at(w, i), loss(e, tau), s);
    }
    out[j] = s / total;
  }
}

inline double level_mean(const std::vector<double>& per, vector_view<const double> lw) {
  double num = 0.0, den = 0.0;
  for (std::size_t j = 0; j < per.size(); ++j) {
    const double v = weight_at(lw, static_cast<index_t>(j));
    num = std::fma(v, per[j], num);
    den += v;
  }
  return num / den;
}

inline void check_symmetric(vector_view<const double> levels, const char* fn) {
  const index_t k = levels.extent(0);
  for (index_t j = 0; j < k; ++j)
    if (std::abs(levels(j) + levels(k - 1 - j) - 1.0) > 1e-9)
      throw_invalid_argument(fn, "levels", "are not symmetric: level ", j, " (", levels(j),
                             ") and level ", k - 1 - j, " (", levels(k - 1 - j),
                             ") do not sum to 1");
}

inline double huber(double e, double delta) noexcept {
  const double a = std::abs(e);
  if (delta == 0.0) return a;
  return a <= delta ? (e * e) / (2.0 * delta) : a - 0.5 * delta;
}

}  // namespace quantile
}  // namespace detail

template <class T, class U>
void pinball_loss_per_level_into(vector_view<double> out, matrix_view<T> q, vector_view<U> y,
                                 vector_view<const double> levels,
                                 vector_view<const double> sample_weight) {
  namespace dq = detail::quantile;
  const char* fn = "pinball_loss_per_level_into";
  dq::check_scored(q, y, levels, sample_weight, fn);
  detail::require_host(out, fn, "out");
  detail::require_extent(out.extent(0), levels.extent(0), fn, "out", "length");
  std::vector<double> per(static_cast<std::size_t>(levels.extent(0)));
  dq::per_level(per.data(), q, y, levels, sample_weight, dq::pinball);
  for (index_t j = 0; j < out.extent(0); ++j) out(j) = per[static_cast<std::size_t>(j)];
}

template <class T, class U>
std::vector<double> pinball_loss_per_level(matrix_view<T> q, vector_view<U> y,
                                           vector_view<const double> levels,
                                           vector_view<const double> sample_weight) {
  namespace dq = detail::quantile;
  dq::check_scored(q, y, levels, sample_weight, "pinball_loss_per_level");
  std::vector<double> per(static_cast<std::size_t>(levels.extent(0)));
  dq::per_level(per.data(), q, y, levels, sample_weight, dq::pinball);
  return per;
}

template <class T, class U>
double pinball_loss(matrix_view<T> q, vector_view<U> y, vector_view<const double> levels,
                    vector_view<const double> sample_weight,
                    vector_view<const double> level_weight) {
  namespace dq = detail::quantile;
  const char* fn = "pinball_loss";
  dq::check_scored(q, y, levels, sample_weight, fn);
  dq::check_weights(level_weight, levels.extent(0), fn, "level_weight");
  std::vector<double> per(static_cast<std::size_t>(levels.extent(0)));
  dq::per_level(per.data(), q, y, levels, sample_weight, dq::pinball);
  return dq::level_mean(per, level_weight);
}

template <class T, class U>
double interval_score(vector_view<T> lower, vector_view<T> upper, vector_view<U> y, double alpha,
                      vector_view<const double> sample_weight) {
  namespace dq = detail::quantile;
  const char* fn = "interval_score";
  dq::check_alpha(alpha, fn);
  if (y.extent(0) == 0) throw_invalid_argument(fn, "y", "is empty");
  detail::require_extent(lower.extent(0), y.extent(0), fn, "lower", "length");
  detail::require_extent(upper.extent(0), y.extent(0), fn, "upper", "length");
  dq::check_finite(lower, fn, "lower");
  dq::check_finite(upper, fn, "upper");
  dq::check_finite(y, fn, "y");
  dq::check_weights(sample_weight, y.extent(0), fn, "sample_weight");
  const double scale = 2.0 / alpha;
  double s = 0.0;
  for (index_t i = 0; i < y.extent(0); ++i) {
    const double l = static_cast<double>(lower(i)), u = static_cast<double>(upper(i));
    const double v = static_cast<double>(y(i));
    double is = u - l;
    if (v < l) is += scale * (l - v);
    if (v > u) is += scale * (v - u);
    s = std::fma(dq::weight_at(sample_weight, i), is, s);
  }
  return s / dq::weight_sum(sample_weight, y.extent(0));
}

template <class T, class U>
double weighted_interval_score(matrix_view<T> q, vector_view<U> y,
                               vector_view<const double> levels,
                               vector_view<const double> sample_weight) {
  namespace dq = detail::quantile;
  const char* fn = "weighted_interval_score";
  dq::check_scored(q, y, levels, sample_weight, fn);
  dq::check_symmetric(levels, fn);
  std::vector<double> per(static_cast<std::size_t>(levels.extent(0)));
  dq::per_level(per.data(), q, y, levels, sample_weight, dq::pinball);
  return 2.0 * dq::level_mean(per, {});
}

template <class T, class U>
calibration_report calibration(matrix_view<T> q, vector_view<U> y,
                               vector_view<const double> levels,
                               vector_view<const double> sample_weight) {
  namespace dq = detail::quantile;
  const char* fn = "calibration";
  dq::check_scored(q, y, levels, sample_weight, fn);
  const index_t n = q.extent(0), k = q.extent(1), pairs = k / 2;
  const double total = dq::weight_sum(sample_weight, n);
  calibration_report r;
  r.coverage.assign(static_cast<std::size_t>(k), 0.0);
  double sq = 0.0, ab = 0.0;
  for (index_t j = 0; j < k; ++j) {
    double s = 0.0;
    for (index_t i = 0; i < n; ++i)
      if (static_cast<double>(y(i)) <= static_cast<double>(q(i, j)))
        s += dq::weight_at(sample_weight, i);
    const double c = s / total, d = c - levels(j);
    r.coverage[static_cast<std::size_t>(j)] = c;
    ab += std::abs(d);
    sq = std::fma(d, d, sq);
  }
  r.mace = ab / static_cast<double>(k);
  r.rmsce = std::sqrt(sq / static_cast<double>(k));
  double ylo = std::numeric_limits<double>::infinity(), yhi = -ylo;
  for (index_t i = 0; i < n; ++i)
    if (dq::weight_at(sample_weight, i) > 0.0) {
      ylo = std::min(ylo, static_cast<double>(y(i)));
      yhi = std::max(yhi, static_cast<double>(y(i)));
    }
  const double range = yhi > ylo ? yhi - ylo : 1.0;
  for (index_t p = 0; p < pairs; ++p) {
    const index_t hi = k - 1 - p;
    double inside = 0.0, width = 0.0;
    for (index_t i = 0; i < n; ++i) {
      const double l = static_cast<double>(q(i, p)), u = static_cast<double>(q(i, hi));
      const double v = static_cast<double>(y(i)), wi = dq::weight_at(sample_weight, i);
      if (l <= v && v <= u) inside += wi;
      width = std::fma(wi, u - l, width);
    }
    const double picp = inside / total;
    r.picp.push_back(picp);
    r.picp_error.push_back(std::abs(picp - (levels(hi) - levels(p))));
    r.mpiw.push_back(width / total / range);
  }
  return r;
}

template <class T, class U>
void huber_pinball_loss_per_level_into(vector_view<double> out, matrix_view<T> q,
                                       vector_view<U> y, vector_view<const double> levels,
                                       double delta, vector_view<const double> sample_weight) {
  namespace dq = detail::quantile;
  const char* fn = "huber_pinball_loss_per_level_into";
  dq::check_scored(q, y, levels, sample_weight, fn);
  if (!(std::isfinite(delta) && delta >= 0.0))
    throw_invalid_argument(fn, "delta", "is ", delta, "; it must be finite and >= 0");
  detail::require_host(out, fn, "out");
  detail::require_extent(out.extent(0), levels.extent(0), fn, "out", "length");
  std::vector<double> per(static_cast<std::size_t>(levels.extent(0)));
  dq::per_level(per.data(), q, y, levels, sample_weight, [delta](double e, double tau) {
    return (e >= 0.0 ? tau : 1.0 - tau) * dq::huber(e, delta);
  });
  for (index_t j = 0; j < out.extent(0); ++j) out(j) = per[static_cast<std::size_t>(j)];
}

template <class T, class U>
double huber_pinball_loss(matrix_view<T> q, vector_view<U> y, vector_view<const double> levels,
                          double delta, vector_view<const double> sample_weight) {
  namespace dq = detail::quantile;
  const char* fn = "huber_pinball_loss";
  dq::check_scored(q, y, levels, sample_weight, fn);
  if (!(std::isfinite(delta) && delta >= 0.0))
    throw_invalid_argument(fn, "delta", "is ", delta, "; it must be finite and >= 0");
  std::vector<double> per(static_cast<std::size_t>(levels.extent(0)));
  dq::per_level(per.data(), q, y, levels, sample_weight, [delta](double e, double tau) {
    return (e >= 0.0 ? tau : 1.0 - tau) * dq::huber(e, delta);
  });
  return dq::level_mean(per, {});
}

}  // namespace ladle
