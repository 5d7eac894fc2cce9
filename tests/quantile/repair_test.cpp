// Row-wise repair: sort, isotonic (PAVA), running-extremes fixes; never-worse property tests.
#include "helpers.hpp"

#include <algorithm>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using namespace qt;

namespace {

// Brute-force least-squares isotonic fit of a short row: the minimum over all partitions into
// consecutive blocks whose means are non-decreasing (the optimum is one of them).
std::vector<double> brute_isotonic(const std::vector<double>& y, const std::vector<double>& w) {
  const std::size_t k = y.size();
  double best = INFINITY;
  std::vector<double> arg;
  for (unsigned cuts = 0; cuts < (1u << (k - 1)); ++cuts) {
    std::vector<double> fit(k);
    std::size_t start = 0;
    double prev = -INFINITY;
    bool ok = true;
    for (std::size_t j = 0; j < k; ++j) {
      if (j + 1 == k || (cuts >> j & 1u)) {
        double s = 0, c = 0;
        for (std::size_t i = start; i <= j; ++i) {
          s += w[i] * y[i];
          c += w[i];
        }
        const double m = s / c;
        if (m < prev) ok = false;
        prev = m;
        for (std::size_t i = start; i <= j; ++i) fit[i] = m;
        start = j + 1;
      }
    }
    if (!ok) continue;
    double loss = 0;
    for (std::size_t i = 0; i < k; ++i) loss += w[i] * (fit[i] - y[i]) * (fit[i] - y[i]);
    if (loss < best - 1e-12) {
      best = loss;
      arg = fit;
    }
  }
  return arg;
}

}  // namespace

TEST_CASE("isotonic_repair equals the brute-force least-squares fit per row") {
  ladle::philox rng(ladle::seed{7});
  for (index_t k : {1, 2, 5, 9}) {
    const index_t n = 200;
    std::vector<double> q(static_cast<std::size_t>(n * k)), lw(static_cast<std::size_t>(k));
    for (auto& v : q) v = std::round(ladle::uniform_double(rng) * 8.0);  // ties included
    for (auto& v : lw) v = 0.2 + ladle::uniform_double(rng);
    for (int weighted = 0; weighted < 2; ++weighted) {
      std::vector<double> r = q;
      ladle::isotonic_repair(mm(r, n, k), weighted ? cv(lw) : ladle::vector_view<const double>{});
      double worst = 0;
      for (index_t i = 0; i < n; ++i) {
        std::vector<double> row(q.begin() + i * k, q.begin() + (i + 1) * k);
        const auto b = brute_isotonic(row, weighted ? lw : std::vector<double>(row.size(), 1.0));
        for (index_t j = 0; j < k; ++j)
          worst = std::max(worst, std::abs(r[static_cast<std::size_t>(i * k + j)] -
                                           b[static_cast<std::size_t>(j)]));
      }
      CHECK(worst <= 1e-12);
    }
  }
}

TEST_CASE("sort and isotonic repair never increase the pinball sum or WIS (100000 trials)") {
  const std::vector<double> levels{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
  const index_t k = 9, n = 100000;
  ladle::philox rng(ladle::seed{2026});
  std::vector<double> q(static_cast<std::size_t>(n * k)), y(static_cast<std::size_t>(n));
  for (auto& v : q) v = ladle::normal(rng);
  for (auto& v : y) v = 1.5 * ladle::normal(rng);
  std::vector<double> s = q, p = q;
  ladle::sort_quantiles(ladle::par, mm(s, n, k));
  ladle::isotonic_repair(ladle::par, mm(p, n, k));
  CHECK(ladle::count_crossing_rows(cm(q, n, k)) > n / 2);
  CHECK(ladle::count_crossing_rows(cm(s, n, k)) == 0);
  CHECK(ladle::count_crossing_rows(cm(p, n, k)) == 0);
  index_t worse_sort = 0, worse_iso = 0, strictly_better = 0;
  for (index_t i = 0; i < n; ++i) {
    const double yi = y[static_cast<std::size_t>(i)];
    const double base = row_pinball(&q[static_cast<std::size_t>(i * k)], levels.data(), k, yi);
    const double a = row_pinball(&s[static_cast<std::size_t>(i * k)], levels.data(), k, yi);
    const double b = row_pinball(&p[static_cast<std::size_t>(i * k)], levels.data(), k, yi);
    if (a > base + 1e-12) ++worse_sort;
    if (b > base + 1e-12) ++worse_iso;
    if (b < base - 1e-9) ++strictly_better;
  }
  CHECK(worse_sort == 0);
  CHECK(worse_iso == 0);
  CHECK(strictly_better > n / 4);
  const double wis0 = ladle::weighted_interval_score(cm(q, n, k), cv(y), cv(levels));
  CHECK(ladle::weighted_interval_score(cm(s, n, k), cv(y), cv(levels)) <= wis0);
  CHECK(ladle::weighted_interval_score(cm(p, n, k), cv(y), cv(levels)) <= wis0);
  // Same result for every policy.
  std::vector<double> s1 = q;
  ladle::sort_quantiles(mm(s1, n, k));
  CHECK(s1 == s);
}

TEST_CASE("sort_quantiles handles strided rows, long rows and float") {
  // Column-major [N, K] view (stride (1, N)) and K = 40 (std::sort path).
  const index_t n = 5, k = 40;
  ladle::philox rng(ladle::seed{3});
  std::vector<float> colmajor(static_cast<std::size_t>(n * k));
  for (auto& v : colmajor) v = ladle::uniform_float(rng);
  auto copy = colmajor;
  ladle::matrix_view<float> q(colmajor.data(), {n, k}, {1, n});
  ladle::sort_quantiles(q);
  for (index_t i = 0; i < n; ++i) {
    std::vector<float> row;
    for (index_t j = 0; j < k; ++j) row.push_back(copy[static_cast<std::size_t>(j * n + i)]);
    std::sort(row.begin(), row.end());
    for (index_t j = 0; j < k; ++j) CHECK(q(i, j) == row[static_cast<std::size_t>(j)]);
  }
  // _into from double into float.
  std::vector<double> src{3, 1, 2, 0, -1, 5};
  std::vector<float> dst(6);
  ladle::sort_quantiles_into(mm(dst, 2, 3), cm(src, 2, 3));
  CHECK(dst == std::vector<float>{1, 2, 3, -1, 0, 5});
  CHECK(src == std::vector<double>{3, 1, 2, 0, -1, 5});
}

TEST_CASE("fix_crossing: the three running-extremes types on a worked row") {
  const std::vector<double> row{3, 1, 2, 0, 4};  // K = 5, middle column 2
  auto run = [&](ladle::crossing_fix t) {
    std::vector<double> r = row;
    ladle::fix_crossing(mm(r, 1, 5), t);
    return r;
  };
  // type 0: upward cummax from column 2: 2, max(0,2)=2, 4; downward cummin: min(1,2)=1, min(3,1)=1.
  CHECK(run(ladle::crossing_fix::from_median) == std::vector<double>{1, 1, 2, 2, 4});
  CHECK(run(ladle::crossing_fix::cummax) == std::vector<double>{3, 3, 3, 3, 4});
  // forward cummax 3 3 3 3 4, backward cummin 0 0 0 0 4 -> average 1.5 1.5 1.5 1.5 4.
  CHECK(run(ladle::crossing_fix::average) == std::vector<double>{1.5, 1.5, 1.5, 1.5, 4});
}

TEST_CASE("running-extremes fixes are not covered by the never-worse theorem") {
  // cummax can make the loss worse: the low quantile jumps to a high value.
  const std::vector<double> levels{0.1, 0.5, 0.9};
  std::vector<double> r{5, 0, 1};
  const double y = 0.0;
  const double before = row_pinball(r.data(), levels.data(), 3, y);
  std::vector<double> sorted = r;
  ladle::sort_quantiles(mm(sorted, 1, 3));
  ladle::fix_crossing(mm(r, 1, 3), ladle::crossing_fix::cummax);
  CHECK(row_pinball(r.data(), levels.data(), 3, y) > before);
  CHECK(row_pinball(sorted.data(), levels.data(), 3, y) <= before);
}

TEST_CASE("repair errors leave the data untouched") {
  std::vector<double> q{1, 0, NAN, 2, 1, 0};
  const auto copy = q;
  expect_error<ladle::domain_error>([&] { ladle::sort_quantiles(mm(q, 2, 3)); },
                                    "ladle::sort_quantiles: 'q' has nan at row 0, column 2");
  expect_error<ladle::domain_error>([&] { ladle::isotonic_repair(mm(q, 2, 3)); },
                                    "ladle::isotonic_repair: 'q' has nan at row 0, column 2");
  expect_error<ladle::domain_error>([&] { ladle::fix_crossing(mm(q, 2, 3)); }, "has nan at row 0, column 2");
  for (std::size_t i = 0; i < q.size(); ++i)
    CHECK((q[i] == copy[i] || (std::isnan(q[i]) && std::isnan(copy[i]))));
  std::vector<double> ok{1, 0, 2, 2, 1, 0};
  expect_error<ladle::domain_error>(
      [&] { ladle::isotonic_repair(mm(ok, 2, 3), cv(std::vector<double>{1, 0, 1})); },
      "'level_weight' element 1 is 0");
  expect_error<ladle::invalid_argument>(
      [&] { ladle::isotonic_repair(mm(ok, 2, 3), cv(std::vector<double>{1, 1})); },
      "'level_weight' has length (columns of q) 2 but 3 was expected");
  std::vector<double> out(4);
  expect_error<ladle::invalid_argument>(
      [&] { ladle::sort_quantiles_into(mm(out, 2, 2), cm(ok, 2, 3)); }, "'out' has column count 2");
  CHECK(ok == std::vector<double>{1, 0, 2, 2, 1, 0});
}

TEST_CASE("the blocked sorting network sorts every row length 1..33 (lanes and tail rows)") {
  ladle::philox g(ladle::seed{99});
  for (index_t k = 1; k <= 33; ++k) {
    const index_t n = 16 * 3 + 5;
    std::vector<float> q(static_cast<std::size_t>(n * k));
    for (auto& v : q) v = std::round(ladle::uniform_float(g) * 6.0f) - 3.0f;  // ties
    auto expect = q;
    for (index_t i = 0; i < n; ++i)
      std::sort(expect.begin() + i * k, expect.begin() + (i + 1) * k);
    auto s = q;
    ladle::sort_quantiles(mm(s, n, k));
    CHECK_MESSAGE(s == expect, "k = " << k);
    std::vector<double> d(q.begin(), q.end()), de(expect.begin(), expect.end());
    ladle::sort_quantiles(ladle::par, mm(d, n, k));
    CHECK(d == de);
  }
}

}  // namespace LADLE_TEST_FILE
}  // namespace
