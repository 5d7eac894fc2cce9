// The gaps of every interpolating over-sampler are U[0, 1) (U[0, 0.5) towards another class in
// Borderline-2): a Kolmogorov-Smirnov check per method, so a halved, shifted or reused gap fails.
#include "helpers.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

using ladle::index_t;

// sup |F_n - F| against U[0, width): below 1.63 / sqrt(n) at the 1% level (1.95 at 0.1%).
double ks_uniform(std::vector<double> g, double width) {
  std::sort(g.begin(), g.end());
  const double n = double(g.size());
  double d = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double f = g[i] / width;
    d = std::max({d, f - double(i) / n, double(i + 1) / n - f});
  }
  return d;
}

template <class R, class Same>
void check_gaps(const R& r, Same&& same_class, const char* method) {
  std::vector<double> own, other;
  for (index_t s = 0; s < r.synthetic(); ++s) (same_class(s) ? own : other).push_back(double(r.gap(s)));
  const std::string name = method;
  CAPTURE(name);
  REQUIRE(own.size() >= 50);
  CHECK(ks_uniform(own, 1.0) < 1.95 / std::sqrt(double(own.size())));
  if (other.size() >= 50) CHECK(ks_uniform(other, 0.5) < 1.95 / std::sqrt(double(other.size())));
}

struct data {
  ladle::tensor<double, 2> X;
  ladle::tensor<std::int64_t, 1> y;
};

data bin() {
  return {rt::features<double>(fx::bin_X, fx::bin_n, fx::bin_d), rt::labels<std::int64_t>(fx::bin_y)};
}

}  // namespace

TEST_CASE("over-samplers draw gaps uniformly: SMOTE, ADASYN, Borderline-1/2") {
  const auto D = bin();
  const auto X = D.X.cview();
  const auto y = D.y.cview();
  auto same = [&](const auto& r) {
    return [&](index_t s) { return y(r.neighbor(s)) == y(r.base(s)); };
  };
  const auto sm = ladle::smote(X, y, {}, ladle::seed{3});
  check_gaps(sm, same(sm), "smote");
  const auto ad = ladle::adasyn(X, y, {}, ladle::seed{3});
  check_gaps(ad, same(ad), "adasyn");
  const auto b1 = ladle::borderline_smote(X, y, {}, ladle::seed{3});
  check_gaps(b1, same(b1), "borderline1");
  ladle::borderline_smote_options o2;
  o2.kind = ladle::borderline_kind::borderline2;
  const auto b2 = ladle::borderline_smote(X, y, o2, ladle::seed{3});
  check_gaps(b2, same(b2), "borderline2");
}

TEST_CASE("over-samplers draw gaps uniformly: KMeans-SMOTE and SMOTE-NC") {
  const index_t n = 900;
  ladle::tensor<double, 2> X({n, 4});
  ladle::tensor<std::int64_t, 1> y({n});
  ladle::philox g(ladle::seed{4});
  for (index_t i = 0; i < n; ++i) {
    const index_t blob = i % 3;
    X(i, 0) = 20.0 * double(blob) + ladle::normal(g);
    X(i, 1) = ladle::normal(g);
    X(i, 2) = double(ladle::uniform_index(g, 3));  // nominal for SMOTE-NC
    X(i, 3) = ladle::normal(g);
    y(i) = (blob != 1 && i % 7 == 0) ? 1 : 0;
  }
  auto all = [](index_t) { return true; };
  ladle::kmeans_smote_options ko;
  ko.clusters = 3;
  ko.cluster_balance_threshold = 0.1;
  const auto km = ladle::kmeans_smote(X.cview(), y.cview(), ko, ladle::seed{2});
  check_gaps(km, all, "kmeans_smote");
  ladle::smote_nc_options no;
  no.categorical = {2};
  const auto nc = ladle::smote_nc(X.cview(), y.cview(), no, ladle::seed{2});
  check_gaps(nc, all, "smote_nc");
}

}  // namespace LADLE_TEST_FILE
}  // namespace
