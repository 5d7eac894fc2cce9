// SMOTE-NC (against a naive implementation of the paper's distance) and SMOTEN (against the rows
// imbalanced-learn 0.10 generates from each base row).
#include "helpers.hpp"

#include <doctest/doctest.h>

#include <set>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

using ladle::index_t;

// Mixed data: columns 0 and 2 continuous, 1 and 3 nominal (codes 0..3 and 10/20/30).
template <class T>
std::pair<ladle::tensor<T, 2>, ladle::tensor<std::int64_t, 1>> mixed(index_t n = 160) {
  ladle::tensor<T, 2> X({n, 4});
  ladle::tensor<std::int64_t, 1> y({n});
  ladle::philox g(ladle::seed{31});
  for (index_t i = 0; i < n; ++i) {
    y(i) = i % 4 == 0 ? 1 : 0;
    X(i, 0) = static_cast<T>(ladle::normal(g) + (y(i) ? 1.0 : 0.0));
    X(i, 1) = static_cast<T>(ladle::uniform_index(g, y(i) ? 2 : 4));
    X(i, 2) = static_cast<T>(3.0 * ladle::normal(g));
    X(i, 3) = static_cast<T>(10 * (1 + ladle::uniform_index(g, 3)));
  }
  return {std::move(X), std::move(y)};
}

}  // namespace

TEST_CASE_TEMPLATE("SMOTE-NC: neighbours under the paper's distance, voted categories", T, float,
                   double) {
  const auto D = mixed<T>();
  const auto X = D.first.cview();
  const auto y = D.second.cview();
  ladle::smote_nc_options o;
  o.categorical = {1, 3};
  const auto r = ladle::smote_nc(X, y, o, ladle::seed{3});
  CHECK(rt::class_counts_flat(r.y.cview()) == std::vector<long>{0, 120, 1, 120});
  const auto rows = rt::rows_of(y, 1);
  // Naive med: median of the two continuous columns' population std within class 1.
  double sd[2];
  for (int q = 0; q < 2; ++q) {
    const index_t col = q == 0 ? 0 : 2;
    double mean = 0, m2 = 0;
    for (auto i : rows) mean += double(X(i, col));
    mean /= double(rows.size());
    for (auto i : rows) m2 += (double(X(i, col)) - mean) * (double(X(i, col)) - mean);
    sd[q] = std::sqrt(m2 / double(rows.size()));
  }
  const double med = 0.5 * (sd[0] + sd[1]);
  auto knn = [&](index_t i) {
    std::vector<std::pair<double, index_t>> d;
    for (auto j : rows) {
      if (j == i) continue;
      double s = 0;
      for (index_t col : {0, 2}) s += (double(X(i, col)) - double(X(j, col))) * (double(X(i, col)) - double(X(j, col)));
      for (index_t col : {1, 3}) s += X(i, col) != X(j, col) ? med * med : 0.0;
      d.emplace_back(s, j);
    }
    std::sort(d.begin(), d.end());
    std::vector<index_t> out;
    for (int c = 0; c < 5; ++c) out.push_back(d[std::size_t(c)].second);
    return out;
  };
  index_t bad = 0;
  std::set<double> seen_cat;
  for (index_t s = 0; s < r.synthetic(); ++s) {
    const index_t row = X.extent(0) + s, b = r.base(s), nb = r.neighbor(s);
    const auto nn = knn(b);
    bad += std::find(nn.begin(), nn.end(), nb) == nn.end();
    for (index_t col : {0, 2})
      bad += r.X(row, col) != std::fma(r.gap(s), X(nb, col) - X(b, col), X(b, col));
    for (index_t col : {1, 3}) {
      std::map<double, int> votes;
      for (auto j : nn) ++votes[double(X(j, col))];
      int top = 0;
      for (const auto& v : votes) top = std::max(top, v.second);
      const auto it = votes.find(double(r.X(row, col)));
      bad += it == votes.end() || it->second != top;
      if (col == 1) seen_cat.insert(double(r.X(row, col)));
    }
  }
  CHECK(bad == 0);
  CHECK(seen_cat.size() >= 2);
  CHECK(rt::bit_identical(r, ladle::smote_nc(ladle::par(2), X, y, o, ladle::seed{3})));
  o.categorical = {0, 1, 2, 3};
  CHECK_THROWS_AS(ladle::smote_nc(X, y, o, ladle::seed{3}), ladle::invalid_argument);
  o.categorical = {1, 4};
  CHECK_THROWS_AS(ladle::smote_nc(X, y, o, ladle::seed{3}), ladle::invalid_argument);
  o.categorical = {1, 1};
  CHECK_THROWS_AS(ladle::smote_nc(X, y, o, ladle::seed{3}), ladle::invalid_argument);
}

TEST_CASE_TEMPLATE("SMOTEN generates from each base the row imblearn generates", T, float, double) {
  const auto X = rt::features<T>(fx::nom_X, fx::nom_n, fx::nom_d);
  const auto y = rt::labels<std::int32_t>(fx::nom_y);
  const auto r = ladle::smoten(X.cview(), y.cview(), {}, ladle::seed{9});
  CHECK(rt::class_counts_flat(r.y.cview()) == std::vector<long>{0, 100, 1, 100});
  const auto rows = rt::rows_of(y.cview(), 1);
  index_t checked = 0, bad = 0;
  for (index_t s = 0; s < r.synthetic(); ++s) {
    const index_t b = r.base(s);
    CHECK(r.neighbor(s) == -1);
    const auto local = std::size_t(std::find(rows.begin(), rows.end(), b) - rows.begin());
    REQUIRE(local < rows.size());
    if (fx::nom_smoten_rows_c1[local * fx::nom_d] == -1.0f) continue;  // order-dependent in imblearn
    ++checked;
    for (index_t f = 0; f < fx::nom_d; ++f)
      bad += double(r.X(X.extent(0) + s, f)) != double(fx::nom_smoten_rows_c1[local * fx::nom_d + std::size_t(f)]);
  }
  CHECK(bad == 0);
  CHECK(checked > 20);
  CHECK(rt::bit_identical(r, ladle::smoten(ladle::par(2), X.cview(), y.cview(), {}, ladle::seed{9})));
}

}  // namespace LADLE_TEST_FILE
}  // namespace
