#include <ladle/core/math.hpp>
#include <ladle/core/random.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;
using ladle::make_view;

TEST_CASE_TEMPLATE("softmax, log_softmax, logsumexp: stable and consistent", T, float, double) {
  std::vector<T> x = {T(1000), T(1001), T(999), T(-5)};  // naive exp would overflow
  std::vector<T> p(4), lp(4);
  ladle::softmax(make_view(x.data(), 4), make_view(p.data(), 4));
  T sum = 0;
  for (T v : p) {
    CHECK(std::isfinite(v));
    sum += v;
  }
  CHECK(sum == doctest::Approx(1.0));
  CHECK(p[1] > p[0]);
  const T lse = ladle::logsumexp(make_view(x.data(), 4));
  CHECK(lse == doctest::Approx(1001 + std::log(1 + std::exp(-1.0) + std::exp(-2.0))));
  ladle::log_softmax(make_view(x.data(), 4), make_view(lp.data(), 4));
  for (int i = 0; i < 4; ++i) CHECK(lp[i] == doctest::Approx(double(x[i]) - double(lse)));
  CHECK(std::exp(double(lp[1])) == doctest::Approx(double(p[1])));

  // Temperature: high flattens, low sharpens.
  std::vector<T> y = {T(0), T(1), T(2)}, hot(3), cold(3);
  ladle::softmax(make_view(y.data(), 3), make_view(hot.data(), 3), T(100));
  ladle::softmax(make_view(y.data(), 3), make_view(cold.data(), 3), T(0.01));
  CHECK(hot[0] == doctest::Approx(1.0 / 3).epsilon(0.02));
  CHECK(cold[2] == doctest::Approx(1.0));

  // In place.
  ladle::softmax(make_view(static_cast<const T*>(y.data()), 3), make_view(y.data(), 3));
  CHECK(y[0] + y[1] + y[2] == doctest::Approx(1.0));

  std::vector<T> bad = {T(1), std::numeric_limits<T>::quiet_NaN()};
  CHECK_THROWS_AS(ladle::logsumexp(make_view(bad.data(), 2)), ladle::domain_error);
  CHECK_THROWS_AS(ladle::softmax(make_view(x.data(), 4), make_view(p.data(), 4), T(0)),
                  ladle::domain_error);
  CHECK_THROWS_AS(ladle::softmax(make_view(x.data(), 4), make_view(p.data(), 3)),
                  ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::logsumexp(make_view(x.data(), 0)), ladle::invalid_argument);
}

TEST_CASE("compensated sums beat the naive sum") {
  // 1e8 followed by many ones: a float accumulator loses every one of them.
  std::vector<float> x(1 << 16, 1.0f);
  x[0] = 1e8f;
  float naive = 0;
  for (float v : x) naive += v;
  const double exact = 1e8 + double(x.size() - 1);
  const float n = ladle::neumaier_sum(make_view(x.data(), index_t(x.size())));
  CHECK(std::abs(double(n) - exact) <= 8);
  CHECK(std::abs(double(naive) - exact) > 1000);
  // Pairwise on a sum of many small equal values.
  std::vector<float> y(1 << 20, 0.1f);
  const float p = ladle::pairwise_sum(make_view(y.data(), index_t(y.size())));
  CHECK(double(p) == doctest::Approx(0.1 * y.size()).epsilon(1e-5));
}

TEST_CASE("argsort, top_k, select_k: order and index tie-breaks") {
  std::vector<double> x = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3};
  auto v = make_view(x.data(), 10);
  CHECK(ladle::argsort(v) == std::vector<index_t>{1, 3, 6, 0, 9, 2, 4, 8, 7, 5});
  CHECK(ladle::argsort(v, ladle::order::descending) ==
        std::vector<index_t>{5, 7, 4, 8, 2, 0, 9, 6, 1, 3});
  CHECK(ladle::top_k(v, 3) == std::vector<index_t>{5, 7, 4});
  CHECK(ladle::top_k(v, 3, ladle::order::ascending) == std::vector<index_t>{1, 3, 6});
  CHECK(ladle::top_k(v, 0).empty());
  auto s = ladle::select_k(v, 4);
  std::sort(s.begin(), s.end());
  CHECK(s == std::vector<index_t>{4, 5, 7, 8});
  CHECK_THROWS_AS(ladle::top_k(v, 11), ladle::invalid_argument);
  x[3] = std::nan("");
  CHECK_THROWS_AS(ladle::argsort(v), ladle::domain_error);

  // Random cross-check of top_k against a full stable sort.
  ladle::philox g(ladle::seed{3});
  std::vector<float> r(1000);
  for (auto& e : r) e = float(ladle::uniform_u32(g, 50));  // many ties
  auto rv = make_view(r.data(), 1000);
  auto full = ladle::argsort(rv, ladle::order::descending);
  full.resize(37);
  CHECK(ladle::top_k(rv, 37) == full);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
