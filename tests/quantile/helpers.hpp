// Shared helpers for the quantile tests.
#pragma once

#include <ladle/core/random.hpp>
#include <ladle/quantile.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

namespace qt {

using ladle::index_t;

inline ladle::vector_view<const double> cv(const std::vector<double>& v) {
  return ladle::vector_view<const double>(v.data(), {static_cast<index_t>(v.size())});
}
inline ladle::vector_view<double> mv(std::vector<double>& v) {
  return ladle::vector_view<double>(v.data(), {static_cast<index_t>(v.size())});
}
template <class T>
ladle::matrix_view<const T> cm(const std::vector<T>& v, index_t n, index_t k) {
  return ladle::matrix_view<const T>(v.data(), {n, k});
}
template <class T>
ladle::matrix_view<T> mm(std::vector<T>& v, index_t n, index_t k) {
  return ladle::matrix_view<T>(v.data(), {n, k});
}

/// |a - b| <= tol * max(1, |b|), NaN equal to NaN.
inline bool close(double a, double b, double tol) {
  if (std::isnan(b)) return std::isnan(a);
  if (std::isinf(b)) return a == b;
  return std::abs(a - b) <= tol * std::max(1.0, std::abs(b));
}

/// Runs f, expects a ladle::error of type E whose message contains `needle`.
template <class E, class F>
void expect_error(F&& f, const std::string& needle) {
  bool thrown = false;
  try {
    f();
  } catch (const E& e) {
    thrown = true;
    const std::string what = e.what();
    INFO(what);
    CHECK(what.find(needle) != std::string::npos);
    CHECK(dynamic_cast<const ladle::error*>(&e) != nullptr);
  }
  CHECK_MESSAGE(thrown, "expected an error mentioning: " << needle);
}

/// Pinball-loss sum of one row at the given levels for target y.
inline double row_pinball(const double* q, const double* levels, index_t k, double y) {
  double s = 0.0;
  for (index_t j = 0; j < k; ++j) {
    const double e = y - q[j];
    s += e >= 0 ? levels[j] * e : (levels[j] - 1.0) * e;
  }
  return s;
}

}  // namespace qt
