// ladle/quantile/detail/conformal_impl.hpp: definitions for ladle/quantile/conformal.hpp.
#pragma once

#include "ladle/quantile/conformal.hpp"
#include "ladle/quantile/detail/repair_impl.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ladle {
namespace detail {
namespace quantile {

/// Rank r = ceil((1 - alpha)(n + 1)) (1-based); r > n means +infinity.
inline index_t conformal_rank(index_t n, double alpha) noexcept {
  const double r = std::ceil((1.0 - alpha) * static_cast<double>(n + 1) - 1e-9);
  return static_cast<index_t>(std::max(1.0, r));
}

/// The conformal quantile of scores (reordered in place).
inline double conformal_select(std::vector<double>& s, double alpha) {
  const index_t n = static_cast<index_t>(s.size());
  const index_t r = conformal_rank(n, alpha);
  if (r > n) return std::numeric_limits<double>::infinity();
  std::nth_element(s.begin(), s.begin() + (r - 1), s.end());
  return s[static_cast<std::size_t>(r - 1)];
}

}  // namespace quantile
}  // namespace detail

template <class T>
double conformal_quantile(vector_view<T> scores, double alpha) {
  namespace dq = detail::quantile;
  const char* fn = "conformal_quantile";
  dq::check_alpha(alpha, fn);
  if (scores.extent(0) == 0) throw_invalid_argument(fn, "scores", "is empty (no calibration data)");
  dq::check_finite(scores, fn, "scores");
  std::vector<double> s(static_cast<std::size_t>(scores.extent(0)));
  for (index_t i = 0; i < scores.extent(0); ++i)
    s[static_cast<std::size_t>(i)] = static_cast<double>(scores(i));
  return dq::conformal_select(s, alpha);
}

template <class T, class U>
split_conformal& split_conformal::fit(vector_view<T> prediction, vector_view<U> y, double alpha) {
  namespace dq = detail::quantile;
  const char* fn = "split_conformal::fit";
  dq::check_alpha(alpha, fn);
  if (y.extent(0) == 0) throw_invalid_argument(fn, "y", "is empty (no calibration data)");
  detail::require_extent(prediction.extent(0), y.extent(0), fn, "prediction", "length (y's)");
  dq::check_finite(prediction, fn, "prediction");
  dq::check_finite(y, fn, "y");
  std::vector<double> s(static_cast<std::size_t>(y.extent(0)));
  for (index_t i = 0; i < y.extent(0); ++i)
    s[static_cast<std::size_t>(i)] =
        std::abs(static_cast<double>(y(i)) - static_cast<double>(prediction(i)));
  radius_ = dq::conformal_select(s, alpha);
  fitted_ = true;
  return *this;
}

template <class T, class L>
void split_conformal::predict_into(vector_view<L> lower, vector_view<L> upper,
                                   vector_view<T> prediction) const {
  namespace dq = detail::quantile;
  const char* fn = "split_conformal::predict_into";
  if (!fitted_) throw_runtime_error(fn, "", "called before fit");
  detail::require_extent(lower.extent(0), prediction.extent(0), fn, "lower", "length");
  detail::require_extent(upper.extent(0), prediction.extent(0), fn, "upper", "length");
  dq::check_finite(prediction, fn, "prediction");
  detail::require_disjoint(lower, "lower", upper, "upper", fn);
  detail::require_disjoint(lower, "lower", prediction, "prediction", fn);
  detail::require_disjoint(upper, "upper", prediction, "prediction", fn);
  for (index_t i = 0; i < prediction.extent(0); ++i) {
    const double p = static_cast<double>(prediction(i));
    lower(i) = static_cast<L>(p - radius_);
    upper(i) = static_cast<L>(p + radius_);
  }
}

template <class T, class U>
cqr& cqr::fit(matrix_view<T> q_cal, vector_view<U> y_cal, vector_view<const double> levels) {
  namespace dq = detail::quantile;
  const char* fn = "cqr::fit";
  dq::check_levels(levels, fn);
  if (q_cal.extent(0) == 0) throw_invalid_argument(fn, "q_cal", "is empty (no calibration data)");
  detail::require_extent(q_cal.extent(1), levels.extent(0), fn, "q_cal", "column count (levels)");
  detail::require_extent(y_cal.extent(0), q_cal.extent(0), fn, "y_cal", "length (rows of q_cal)");
  dq::check_finite(q_cal, fn, "q_cal");
  dq::check_finite(y_cal, fn, "y_cal");
  const index_t n = q_cal.extent(0), k = q_cal.extent(1), pairs = k / 2;
  std::vector<double> lo(static_cast<std::size_t>(pairs)), hi(lo.size());
  std::vector<double> s(static_cast<std::size_t>(n)), t(opts_.asymmetric ? s.size() : 0);
  for (index_t p = 0; p < pairs; ++p) {
    const index_t u = k - 1 - p;
    for (index_t i = 0; i < n; ++i) {
      const double y = static_cast<double>(y_cal(i));
      const double el = static_cast<double>(q_cal(i, p)) - y;
      const double eu = y - static_cast<double>(q_cal(i, u));
      if (opts_.asymmetric) {
        s[static_cast<std::size_t>(i)] = el;
        t[static_cast<std::size_t>(i)] = eu;
      } else {
        s[static_cast<std::size_t>(i)] = std::max(el, eu);
      }
    }
    if (opts_.asymmetric) {
      lo[static_cast<std::size_t>(p)] = dq::conformal_select(s, levels(p));
      hi[static_cast<std::size_t>(p)] = dq::conformal_select(t, 1.0 - levels(u));
    } else {
      const double alpha = 1.0 - (levels(u) - levels(p));
      const double qv = dq::conformal_select(s, alpha);
      lo[static_cast<std::size_t>(p)] = qv;
      hi[static_cast<std::size_t>(p)] = qv;
    }
  }
  lo_ = std::move(lo);
  hi_ = std::move(hi);
  k_ = k;
  return *this;
}

template <class T>
void cqr::apply(matrix_view<T> q) const {
  static_assert(!std::is_const<T>::value, "ladle::cqr::apply: q is adjusted in place");
  namespace dq = detail::quantile;
  const char* fn = "cqr::apply";
  if (!fitted()) throw_runtime_error(fn, "", "called before fit");
  detail::require_extent(q.extent(1), k_, fn, "q", "column count (fitted levels)");
  dq::check_finite(q, fn, "q");
  const index_t pairs = k_ / 2;
  for (index_t i = 0; i < q.extent(0); ++i) {
    for (index_t p = 0; p < pairs; ++p) {
      q(i, p) = static_cast<T>(static_cast<double>(q(i, p)) - lo_[static_cast<std::size_t>(p)]);
      q(i, k_ - 1 - p) = static_cast<T>(static_cast<double>(q(i, k_ - 1 - p)) +
                                        hi_[static_cast<std::size_t>(p)]);
    }
  }
  if (opts_.sort) {
    dq::sort_all_rows(seq, q);
  }
}

}  // namespace ladle
