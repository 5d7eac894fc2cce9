// Split conformal and CQR: ranks, +infinity for tiny calibration sets, coverage over many seeds.
#include "helpers.hpp"

#include <algorithm>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using namespace qt;

TEST_CASE("conformal_quantile picks rank ceil((1-alpha)(n+1)) and +inf past n") {
  // Scores 1..9 shuffled: n = 9.
  const std::vector<double> s{5, 3, 9, 1, 7, 2, 8, 4, 6};
  // alpha = 0.1: (0.9)(10) = 9 -> the 9th smallest (not the 10th: no spurious extra rank).
  CHECK(ladle::conformal_quantile(cv(s), 0.1) == 9.0);
  // alpha = 0.5: ceil(5) = 5.
  CHECK(ladle::conformal_quantile(cv(s), 0.5) == 5.0);
  // alpha = 0.35: ceil(6.5) = 7.
  CHECK(ladle::conformal_quantile(cv(s), 0.35) == 7.0);
  // alpha = 0.05: ceil(9.5) = 10 > 9 -> +inf.
  CHECK(std::isinf(ladle::conformal_quantile(cv(s), 0.05)));
  CHECK(s == std::vector<double>{5, 3, 9, 1, 7, 2, 8, 4, 6});  // input untouched
  // n = 1 and alpha = 0.5: rank ceil(1) = 1.
  CHECK(ladle::conformal_quantile(cv(std::vector<double>{4}), 0.5) == 4.0);
  CHECK(std::isinf(ladle::conformal_quantile(cv(std::vector<double>{4}), 0.49)));
}

TEST_CASE("conformal errors") {
  const std::vector<double> empty;
  expect_error<ladle::invalid_argument>([&] { (void)ladle::conformal_quantile(cv(empty), 0.1); },
                                        "'scores' is empty");
  expect_error<ladle::invalid_argument>(
      [&] { (void)ladle::conformal_quantile(cv(std::vector<double>{1}), 0.0); },
      "'alpha' is 0, outside (0, 1)");
  ladle::split_conformal sc;
  expect_error<ladle::invalid_argument>([&] { sc.fit(cv(empty), cv(empty), 0.1); },
                                        "ladle::split_conformal::fit: 'y' is empty");
  expect_error<ladle::invalid_argument>(
      [&] { sc.fit(cv(std::vector<double>{1}), cv(std::vector<double>{1}), 1.5); },
      "'alpha' is 1.5");
  CHECK_FALSE(sc.fitted());
  ladle::cqr c;
  const std::vector<double> levels{0.1, 0.9};
  std::vector<double> q0;
  expect_error<ladle::invalid_argument>([&] { c.fit(cm(q0, 0, 2), cv(empty), cv(levels)); },
                                        "ladle::cqr::fit: 'q_cal' is empty");
  std::vector<double> q{0, 1, NAN, 2};
  expect_error<ladle::domain_error>(
      [&] { c.fit(cm(q, 2, 2), cv(std::vector<double>{0, 0}), cv(levels)); },
      "'q_cal' has nan at row 1, column 0");
  expect_error<ladle::invalid_argument>(
      [&] {
        c.fit(cm(q, 2, 2), cv(std::vector<double>{0, 0}), cv(std::vector<double>{0.9, 0.1}));
      },
      "not strictly increasing");
  std::vector<double> t{0, 1};
  expect_error<ladle::runtime_error>([&] { c.apply(mm(t, 1, 2)); }, "before fit");
  CHECK(t == std::vector<double>{0, 1});
}

TEST_CASE("CQR shifts are the conformal quantiles of the scores; rows re-sorted") {
  // Calibration: lower = -1, upper = 1 everywhere; y = 0..9 - 4.5 gives scores |y| - 1.
  const index_t n = 10;
  std::vector<double> q, y;
  for (index_t i = 0; i < n; ++i) {
    q.insert(q.end(), {-1.0, 0.0, 1.0});
    y.push_back(static_cast<double>(i) - 4.5);
  }
  const std::vector<double> levels{0.25, 0.5, 0.75};  // alpha = 0.5 -> rank ceil(5.5) = 6
  ladle::cqr c;
  c.fit(cm(q, n, 3), cv(y), cv(levels));
  // scores max(-1 - y, y - 1) = |y| - 1 for these: 3.5 2.5 1.5 .5 -.5 -.5 .5 1.5 2.5 3.5;
  // sorted -.5 -.5 .5 .5 1.5 1.5 2.5 2.5 3.5 3.5 -> 6th = 1.5.
  REQUIRE(c.lower_shift().size() == 1);
  CHECK(c.lower_shift()[0] == 1.5);
  CHECK(c.upper_shift()[0] == 1.5);
  // A negative shift can cross the median column: the row is sorted afterwards.
  std::vector<double> t{-0.2, 0.0, 0.2};
  ladle::cqr c2;
  std::vector<double> wide;
  for (index_t i = 0; i < n; ++i) wide.insert(wide.end(), {-10.0, 0.0, 10.0});
  c2.fit(cm(wide, n, 3), cv(y), cv(levels));  // scores all negative: shift < 0
  CHECK(c2.lower_shift()[0] < -0.2);
  c2.apply(mm(t, 1, 3));
  CHECK(std::is_sorted(t.begin(), t.end()));
  // Asymmetric: ends calibrated separately at miscoverage 0.25 each -> rank ceil(0.75*11) = 9.
  ladle::cqr_options o;
  o.asymmetric = true;
  ladle::cqr a(o);
  a.fit(cm(q, n, 3), cv(y), cv(levels));
  // lower scores -1 - y: 3.5 .. -5.5 sorted -5.5 -4.5 ... 3.5 -> 9th = 2.5; same for the upper.
  CHECK(a.lower_shift()[0] == 2.5);
  CHECK(a.upper_shift()[0] == 2.5);
}

namespace {

// Heteroscedastic data y = x + (0.2 + |x|) e with deliberately miscalibrated quantile
// predictions (too narrow), as a "model" would give.
void draw(ladle::philox& g, index_t n, std::vector<double>& q, std::vector<double>& y) {
  q.resize(static_cast<std::size_t>(n * 2));
  y.resize(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) {
    const double x = 4 * ladle::uniform_double(g) - 2;
    const double s = 0.2 + std::abs(x);
    y[static_cast<std::size_t>(i)] = x + s * ladle::normal(g);
    q[static_cast<std::size_t>(2 * i)] = x - 0.8 * s;
    q[static_cast<std::size_t>(2 * i + 1)] = x + 0.8 * s;
  }
}

}  // namespace

TEST_CASE("CQR and split conformal coverage over 1000 seeds: >= 1-alpha, <= 1-alpha+1/(n+1)") {
  const std::vector<double> levels{0.05, 0.95};  // alpha = 0.1
  const double alpha = 0.1;
  for (index_t n : {19, 200}) {
    for (int asym = 0; asym < 2; ++asym) {
      const int seeds = 1000;
      const index_t m = 500;
      double cov = 0.0, cov_sc = 0.0;
      for (int s = 0; s < seeds; ++s) {
        ladle::philox g(ladle::seed{1000u + static_cast<std::uint64_t>(s)});
        std::vector<double> qc, yc, qt_, yt;
        draw(g, n, qc, yc);
        draw(g, m, qt_, yt);
        ladle::cqr_options o;
        o.asymmetric = asym == 1;
        ladle::cqr c(o);
        c.fit(cm(qc, n, 2), cv(yc), cv(levels));
        c.apply(mm(qt_, m, 2));
        // Point model: the midpoint, residual radius.
        std::vector<double> pc(static_cast<std::size_t>(n)), pt(static_cast<std::size_t>(m));
        for (index_t i = 0; i < n; ++i)
          pc[static_cast<std::size_t>(i)] = 0.5 * (qc[static_cast<std::size_t>(2 * i)] +
                                                   qc[static_cast<std::size_t>(2 * i + 1)]);
        ladle::philox g2(ladle::seed{1000u + static_cast<std::uint64_t>(s)});
        std::vector<double> q2, y2;
        draw(g2, n, q2, y2);
        draw(g2, m, q2, y2);
        for (index_t i = 0; i < m; ++i)
          pt[static_cast<std::size_t>(i)] = 0.5 * (q2[static_cast<std::size_t>(2 * i)] +
                                                   q2[static_cast<std::size_t>(2 * i + 1)]);
        ladle::split_conformal sc;
        sc.fit(cv(pc), cv(yc), alpha);
        std::vector<double> lo(static_cast<std::size_t>(m)), hi(lo.size());
        sc.predict_into(mv(lo), mv(hi), cv(pt));
        index_t inside = 0, inside_sc = 0;
        for (index_t i = 0; i < m; ++i) {
          const double v = yt[static_cast<std::size_t>(i)];
          if (qt_[static_cast<std::size_t>(2 * i)] <= v && v <= qt_[static_cast<std::size_t>(2 * i + 1)])
            ++inside;
          if (lo[static_cast<std::size_t>(i)] <= v && v <= hi[static_cast<std::size_t>(i)])
            ++inside_sc;
        }
        cov += static_cast<double>(inside) / static_cast<double>(m);
        cov_sc += static_cast<double>(inside_sc) / static_cast<double>(m);
      }
      cov /= seeds;
      cov_sc /= seeds;
      // With continuous scores the mean coverage is exactly r/(n+1), r = ceil((1-alpha)(n+1))
      // (asymmetric: each end misses with probability 1 - r'/(n+1), r' at alpha/2). Its standard
      // error over seeds is dominated by the calibration draw, about sqrt(alpha(1-alpha)/(n+2)).
      const double r = std::ceil((1 - alpha) * static_cast<double>(n + 1) - 1e-9);
      const double r2 = std::ceil((1 - alpha / 2) * static_cast<double>(n + 1) - 1e-9);
      const double expect_sym = r / static_cast<double>(n + 1);
      const double expect = asym ? 1 - 2 * (1 - r2 / static_cast<double>(n + 1)) : expect_sym;
      const double se = std::sqrt(alpha * (1 - alpha) / static_cast<double>(n + 2) / seeds +
                                  alpha * (1 - alpha) / static_cast<double>(m) / seeds);
      INFO("n=" << n << " asym=" << asym << " coverage " << cov << " split " << cov_sc
                   << " expected " << expect << " se " << se);
      CHECK(expect >= 1 - alpha - 1e-12);
      CHECK(expect <= 1 - alpha + (asym ? 2.0 : 1.0) / static_cast<double>(n + 1));
      CHECK(std::abs(cov - expect) <= 3.5 * se);
      CHECK(std::abs(cov_sc - expect_sym) <= 3.5 * se);
      // The uncalibrated intervals cover about 0.58 of the points: the test can fail.
    }
  }
}

}  // namespace LADLE_TEST_FILE
}  // namespace
