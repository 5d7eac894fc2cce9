// ladle/quantile/detail/isotonic_impl.hpp: definitions for ladle/quantile/isotonic.hpp.
#pragma once

#include "ladle/quantile/detail/pava.hpp"
#include "ladle/quantile/detail/sort_kernels.hpp"
#include "ladle/quantile/isotonic.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numeric>
#include <type_traits>

namespace ladle {
namespace detail {
namespace quantile {

inline void check_bounds(double y_min, double y_max, const char* fn) {
  if (std::isnan(y_min)) throw_invalid_argument(fn, "y_min", "is NaN");
  if (std::isnan(y_max)) throw_invalid_argument(fn, "y_max", "is NaN");
  if (y_min > y_max)
    throw_invalid_argument(fn, "y_min", "is ", y_min, ", above y_max (", y_max, ")");
}

/// PAVA on y (in place) with weights w (same length), either direction, then clipping.
inline void isotonic_sequence(std::vector<double>& y, std::vector<double>& w, bool increasing,
                              double y_min, double y_max) {
  const std::size_t n = y.size();
  if (!increasing) {
    std::reverse(y.begin(), y.end());
    std::reverse(w.begin(), w.end());
  }
  std::vector<double> c(n);
  std::vector<std::size_t> end(n);
  pava_increasing(y.data(), w.data(), n, c.data(), end.data());
  if (!increasing) {
    std::reverse(y.begin(), y.end());
    std::reverse(w.begin(), w.end());
  }
  for (double& v : y) v = std::min(std::max(v, y_min), y_max);
}

}  // namespace quantile
}  // namespace detail

template <class T>
void isotonic_fit_into(vector_view<double> out, vector_view<T> y,
                       vector_view<const double> sample_weight, bool increasing, double y_min,
                       double y_max) {
  namespace dq = detail::quantile;
  const char* fn = "isotonic_fit_into";
  if (y.extent(0) == 0) throw_invalid_argument(fn, "y", "is empty");
  dq::check_finite(y, fn, "y");
  detail::require_host(out, fn, "out");
  detail::require_extent(out.extent(0), y.extent(0), fn, "out", "length");
  dq::check_weights(sample_weight, y.extent(0), fn, "sample_weight");
  for (index_t i = 0; i < sample_weight.extent(0); ++i)
    if (!(sample_weight(i) > 0.0))
      throw_domain_error(fn, "sample_weight", "element ", i, " is ", sample_weight(i),
                         " (the sequence fit needs positive weights)");
  dq::check_bounds(y_min, y_max, fn);
  detail::require_disjoint_or_same(out, "out", y, "y", fn);
  const index_t n = y.extent(0);
  std::vector<double> v(static_cast<std::size_t>(n)), w(v.size(), 1.0);
  for (index_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = static_cast<double>(y(i));
  for (index_t i = 0; i < sample_weight.extent(0); ++i)
    w[static_cast<std::size_t>(i)] = sample_weight(i);
  dq::isotonic_sequence(v, w, increasing, y_min, y_max);
  for (index_t i = 0; i < n; ++i) out(i) = v[static_cast<std::size_t>(i)];
}

template <class T>
std::vector<double> isotonic_fit(vector_view<T> y, vector_view<const double> sample_weight,
                                 bool increasing, double y_min, double y_max) {
  std::vector<double> out(static_cast<std::size_t>(y.extent(0)));
  // Checks happen inside; an empty y is refused before out is touched.
  isotonic_fit_into(make_view(out.data(), out.size()), y, sample_weight, increasing, y_min, y_max);
  return out;
}

template <class TX, class TY>
isotonic_regression& isotonic_regression::fit(vector_view<TX> x, vector_view<TY> y,
                                              vector_view<const double> sample_weight) {
  namespace dq = detail::quantile;
  const char* fn = "isotonic_regression::fit";
  if (x.extent(0) == 0) throw_invalid_argument(fn, "x", "is empty");
  detail::require_extent(y.extent(0), x.extent(0), fn, "y", "length (x's)");
  dq::check_finite(x, fn, "x");
  dq::check_finite(y, fn, "y");
  dq::check_weights(sample_weight, x.extent(0), fn, "sample_weight");
  dq::check_bounds(opts_.y_min, opts_.y_max, fn);
  // Keep samples of positive weight, ordered by (x, y, index) like np.lexsort((y, x)): a radix
  // sort on x, then equal-x runs (rare in continuous data) sorted by (y, index).
  const index_t n = x.extent(0);
  if (n > static_cast<index_t>(0xFFFFFFFFu))
    throw_invalid_argument(fn, "x", "has ", n, " points, more than 2^32 - 1");
  std::size_t kept = static_cast<std::size_t>(n);
  if (sample_weight.extent(0) > 0) {
    kept = 0;
    for (index_t i = 0; i < n; ++i) kept += sample_weight(i) > 0.0 ? 1 : 0;
  }
  // Scratch, uninitialised (no memset; first-touch page faults dominate at this size): 40 bytes
  // a sample, all freed on return. After the sort the spare key buffer holds PAVA's block ends
  // and the spare index buffer each pooled point's first sorted position.
  std::unique_ptr<std::uint64_t[]> key_a(new std::uint64_t[kept]), key_b(new std::uint64_t[kept]);
  std::unique_ptr<std::uint32_t[]> idx_a(new std::uint32_t[kept]), idx_b(new std::uint32_t[kept]);
  std::uint64_t *keys = key_a.get(), *ktmp = key_b.get();
  std::uint32_t *order = idx_a.get(), *itmp = idx_b.get();
  for (index_t i = 0, j = 0; i < n; ++i)
    if (dq::weight_at(sample_weight, i) > 0.0) {
      keys[j] = dq::double_key(static_cast<double>(x(i)));
      order[j++] = static_cast<std::uint32_t>(i);
    }
  dq::radix_sort_pairs(keys, order, ktmp, itmp, kept);
  for (std::size_t a = 0; a < kept;) {
    std::size_t b = a + 1;
    while (b < kept && keys[b] == keys[a]) ++b;
    if (b - a > 1)
      std::sort(order + a, order + b, [&](std::uint32_t i, std::uint32_t j) {
        const double yi = static_cast<double>(y(i)), yj = static_cast<double>(y(j));
        return yi < yj || (yi == yj && i < j);
      });
    a = b;
  }
  // Pool near-equal x: weighted mean of y, summed weight (scikit-learn's _make_unique). The
  // keys give back x exactly (up to the sign of zero, which the difference cannot see).
  constexpr double eps = 1e-15;  // np.finfo(np.float64).resolution
  std::unique_ptr<double[]> uy(new double[kept]), uw(new double[kept]);
  std::uint32_t* first = itmp;  // pooled point p starts at sorted position first[p]
  std::size_t m = 0;
  first[0] = 0;
  double cur_x = dq::key_double(keys[0]), cur_y = 0.0, cur_w = 0.0;
  for (std::size_t j = 0; j < kept; ++j) {
    const std::uint32_t i = order[j];
    const double xi = dq::key_double(keys[j]), wi = dq::weight_at(sample_weight, i);
    const double wy = static_cast<double>(y(i)) * wi;
    if (xi - cur_x >= eps) {
      uw[m] = cur_w;
      uy[m] = cur_y / cur_w;
      first[++m] = static_cast<std::uint32_t>(j);
      cur_x = xi;
      cur_w = wi;
      cur_y = wy;
    } else {
      cur_w += wi;
      cur_y += wy;
    }
  }
  uw[m] = cur_w;
  uy[m] = cur_y / cur_w;
  ++m;
  // PAVA's pooling only (the blocks are all predict needs); a decreasing fit pools the
  // reversed sequence. Block weights overwrite uw, block ends go to the spare key buffer.
  const bool inc = opts_.increasing;
  if (!inc) {
    std::reverse(uy.get(), uy.get() + m);
    std::reverse(uw.get(), uw.get() + m);
  }
  std::uint64_t* end = ktmp;
  const std::size_t blocks = dq::pava_pool(uy.get(), uw.get(), m, uw.get(), end);
  // Thresholds: the first and last point of every maximal run of equal clipped values (the
  // points whose value differs from a neighbour, and the two ends), in increasing x.
  const auto x_at = [&](std::size_t p) { return static_cast<double>(x(order[first[p]])); };
  x_min_ = x_at(0);
  x_max_ = x_at(m - 1);
  x_.clear();
  y_.clear();
  std::size_t run_a = 0, run_b = 0;
  double run_v = 0.0;
  const auto flush = [&] {
    x_.push_back(x_at(run_a));
    y_.push_back(run_v);
    if (run_b != run_a) {
      x_.push_back(x_at(run_b));
      y_.push_back(run_v);
    }
  };
  for (std::size_t t = 0; t < blocks; ++t) {
    const std::size_t b = inc ? t : blocks - 1 - t;
    const std::size_t s = b == 0 ? 0 : static_cast<std::size_t>(end[b - 1]);
    const std::size_t e = static_cast<std::size_t>(end[b]);
    const std::size_t a = inc ? s : m - e, z = inc ? e - 1 : m - 1 - s;  // original span [a, z]
    const double v = std::min(std::max(uy[b], opts_.y_min), opts_.y_max);
    if (t > 0 && v == run_v) {
      run_b = z;
      continue;
    }
    if (t > 0) flush();
    run_a = a;
    run_b = z;
    run_v = v;
  }
  flush();
  return *this;
}

template <class TX>
void isotonic_regression::predict_into(vector_view<double> out, vector_view<TX> x) const {
  namespace dq = detail::quantile;
  const char* fn = "isotonic_regression::predict_into";
  if (!fitted()) throw_runtime_error(fn, "", "called before fit");
  detail::require_host(out, fn, "out");
  detail::require_extent(out.extent(0), x.extent(0), fn, "out", "length (x's)");
  dq::check_finite(x, fn, "x");
  detail::require_disjoint(out, "out", x, "x", fn);
  if (opts_.out_of_bounds == out_of_bounds_mode::raise)
    for (index_t i = 0; i < x.extent(0); ++i) {
      const double v = static_cast<double>(x(i));
      if (v < x_min_ || v > x_max_)
        throw_domain_error(fn, "x", "element ", i, " is ", v, ", outside the fitted range [",
                           x_min_, ", ", x_max_, "]");
    }
  const std::size_t t = x_.size();
  for (index_t i = 0; i < x.extent(0); ++i) {
    double v = static_cast<double>(x(i));
    if (opts_.out_of_bounds == out_of_bounds_mode::clip) v = std::min(std::max(v, x_min_), x_max_);
    if (t == 1) {
      out(i) = y_[0];
      continue;
    }
    if (v < x_min_ || v > x_max_) {
      out(i) = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    // scipy's interp1d: hi = searchsorted(x, v, 'left') clipped to [1, t-1], lo = hi - 1.
    std::size_t hi = static_cast<std::size_t>(std::lower_bound(x_.begin(), x_.end(), v) -
                                              x_.begin());
    hi = std::min(std::max<std::size_t>(hi, 1), t - 1);
    const std::size_t lo = hi - 1;
    const double slope = (y_[hi] - y_[lo]) / (x_[hi] - x_[lo]);
    out(i) = std::fma(slope, v - x_[lo], y_[lo]);
  }
}

template <class TX>
std::vector<double> isotonic_regression::predict(vector_view<TX> x) const {
  if (!fitted()) throw_runtime_error("isotonic_regression::predict", "", "called before fit");
  std::vector<double> out(static_cast<std::size_t>(x.extent(0)));
  predict_into(make_view(out.data(), out.size()), x);
  return out;
}

}  // namespace ladle
