// Scores against direct numpy computations of their textbook formulas (fixtures/make_fixtures.py).
#include "fixtures/quantile_fixtures.hpp"
#include "helpers.hpp"

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using namespace qt;

TEST_CASE("pinball, interval score, WIS, calibration and Huber-pinball match numpy") {
  constexpr double tol = 1e-13;
  for (const auto& c : qfx::score_cases) {
    INFO("n=" << c.n << " k=" << c.k);
    const auto q = cm(c.q, c.n, c.k);
    const auto y = cv(c.y), lv = cv(c.levels), sw = cv(c.sw), lw = cv(c.lw);
    const auto per = ladle::pinball_loss_per_level(q, y, lv);
    const auto perw = ladle::pinball_loss_per_level(q, y, lv, sw);
    REQUIRE(per.size() == c.per_level.size());
    for (std::size_t j = 0; j < per.size(); ++j) {
      CHECK(close(per[j], c.per_level[j], tol));
      CHECK(close(perw[j], c.per_level_w[j], tol));
    }
    std::vector<double> into(static_cast<std::size_t>(c.k), -1.0);
    ladle::pinball_loss_per_level_into(mv(into), q, y, lv, sw);
    for (std::size_t j = 0; j < into.size(); ++j) CHECK(into[j] == perw[j]);
    CHECK(close(ladle::pinball_loss(q, y, lv), c.mean, tol));
    CHECK(close(ladle::pinball_loss(q, y, lv, sw), c.mean_w, tol));
    CHECK(close(ladle::pinball_loss(q, y, lv, {}, lw), c.mean_lw, tol));
    if (c.wis != 0.0) {
      CHECK(close(ladle::weighted_interval_score(q, y, lv), c.wis, tol));
      CHECK(close(ladle::weighted_interval_score(q, y, lv, sw), c.wis_w, tol));
    } else {
      expect_error<ladle::invalid_argument>(
          [&] { (void)ladle::weighted_interval_score(q, y, lv); }, "not symmetric");
    }
    // The interval of the outermost pair with alpha = 0.2 (the score does not need the levels).
    ladle::vector_view<const double> lower(c.q.data(), {c.n}, {c.k});
    ladle::vector_view<const double> upper(c.q.data() + c.k - 1, {c.n}, {c.k});
    CHECK(close(ladle::interval_score(lower, upper, y, 0.2), c.is0, tol));
    CHECK(close(ladle::interval_score(lower, upper, y, 0.2, sw), c.is0_w, tol));
    const auto r = ladle::calibration(q, y, lv);
    for (std::size_t j = 0; j < r.coverage.size(); ++j) CHECK(close(r.coverage[j], c.coverage[j], tol));
    CHECK(close(r.mace, c.mace, tol));
    CHECK(close(r.rmsce, c.rmsce, tol));
    REQUIRE(r.picp.size() == c.picp.size());
    for (std::size_t p = 0; p < r.picp.size(); ++p) {
      CHECK(close(r.picp[p], c.picp[p], tol));
      CHECK(close(r.picp_error[p], c.picp_err[p], tol));
      CHECK(close(r.mpiw[p], c.mpiw[p], tol));
    }
    CHECK(close(ladle::huber_pinball_loss(q, y, lv, c.delta), c.huber, tol));
    CHECK(close(ladle::huber_pinball_loss(q, y, lv, c.delta, sw), c.huber_w, tol));
    // delta = 0 is the pinball loss exactly.
    CHECK(ladle::huber_pinball_loss(q, y, lv, 0.0, sw) == ladle::pinball_loss(q, y, lv, sw));
  }
}

TEST_CASE("float predictions score like their double values") {
  const auto& c = qfx::score_cases[0];
  std::vector<float> qf(c.q.begin(), c.q.end());
  std::vector<double> qd(qf.begin(), qf.end());
  const double a = ladle::pinball_loss(cm(qf, c.n, c.k), cv(c.y), cv(c.levels), cv(c.sw));
  const double b = ladle::pinball_loss(cm(qd, c.n, c.k), cv(c.y), cv(c.levels), cv(c.sw));
  CHECK(a == b);
}

TEST_CASE("integer weights equal repeated samples") {
  // A sample of weight 3 counts like three copies of it.
  const std::vector<double> levels{0.2, 0.5, 0.8};
  const std::vector<double> q{0, 1, 2, -1, 0.5, 0.7, 3, 2, 1};
  const std::vector<double> y{0.4, 1.5, -2};
  const std::vector<double> w{3, 1, 2};
  std::vector<double> qr, yr;
  for (int i = 0; i < 3; ++i)
    for (int r = 0; r < static_cast<int>(w[static_cast<std::size_t>(i)]); ++r) {
      for (int j = 0; j < 3; ++j) qr.push_back(q[static_cast<std::size_t>(i * 3 + j)]);
      yr.push_back(y[static_cast<std::size_t>(i)]);
    }
  const double a = ladle::weighted_interval_score(cm(q, 3, 3), cv(y), cv(levels), cv(w));
  const double b = ladle::weighted_interval_score(cm(qr, 6, 3), cv(yr), cv(levels));
  CHECK(close(a, b, 1e-15));
  const auto ra = ladle::calibration(cm(q, 3, 3), cv(y), cv(levels), cv(w));
  const auto rb = ladle::calibration(cm(qr, 6, 3), cv(yr), cv(levels));
  CHECK(close(ra.mace, rb.mace, 1e-15));
  CHECK(close(ra.picp[0], rb.picp[0], 1e-15));
  CHECK(close(ra.mpiw[0], rb.mpiw[0], 1e-15));
}

TEST_CASE("score errors name the function, the argument and the value") {
  const std::vector<double> levels{0.1, 0.5, 0.9};
  std::vector<double> q{0, 1, 2, 0, 1, 2};
  const std::vector<double> y{1, 2};
  const auto Q = cm(q, 2, 3);
  expect_error<ladle::invalid_argument>(
      [&] { (void)ladle::pinball_loss(Q, cv(y), cv(std::vector<double>{0.1, 0.9, 0.5})); },
      "ladle::pinball_loss: 'levels' is not strictly increasing: level 2 is 0.5");
  expect_error<ladle::invalid_argument>(
      [&] { (void)ladle::pinball_loss(Q, cv(y), cv(std::vector<double>{0.0, 0.5, 0.9})); },
      "level 0 is 0, outside (0, 1)");
  expect_error<ladle::invalid_argument>(
      [&] { (void)ladle::pinball_loss(Q, cv(y), cv(std::vector<double>{0.1, 0.5, 1.0})); },
      "level 2 is 1, outside (0, 1)");
  expect_error<ladle::invalid_argument>(
      [&] { (void)ladle::pinball_loss(Q, cv(y), cv(std::vector<double>{0.1, 0.9})); },
      "'q' has column count (levels) 3 but 2 was expected");
  expect_error<ladle::invalid_argument>(
      [&] { (void)ladle::pinball_loss(Q, cv(std::vector<double>{1}), cv(levels)); },
      "'y' has length (rows of q) 1 but 2 was expected");
  std::vector<double> qn = q;
  qn[4] = std::nan("");
  expect_error<ladle::domain_error>(
      [&] { (void)ladle::weighted_interval_score(cm(qn, 2, 3), cv(y), cv(levels)); },
      "ladle::weighted_interval_score: 'q' has nan at row 1, column 1");
  expect_error<ladle::domain_error>(
      [&] { (void)ladle::calibration(Q, cv(y), cv(levels), cv(std::vector<double>{1, -1})); },
      "'sample_weight' element 1 is -1");
  expect_error<ladle::domain_error>(
      [&] { (void)ladle::calibration(Q, cv(y), cv(levels), cv(std::vector<double>{0, 0})); },
      "sums to zero");
  ladle::vector_view<const double> lo(q.data(), {2}, {3}), up(q.data() + 2, {2}, {3});
  expect_error<ladle::invalid_argument>(
      [&] { (void)ladle::interval_score(lo, up, cv(y), 1.0); },
      "ladle::interval_score: 'alpha' is 1, outside (0, 1)");
  expect_error<ladle::invalid_argument>(
      [&] { (void)ladle::huber_pinball_loss(Q, cv(y), cv(levels), -0.1); }, "'delta' is -0.1");
  std::vector<double> out(3, 7.0);
  expect_error<ladle::invalid_argument>(
      [&] {
        ladle::pinball_loss_per_level_into(mv(out), Q, cv(y),
                                           cv(std::vector<double>{0.5, 0.4, 0.9}));
      },
      "not strictly increasing");
  for (double v : out) CHECK(v == 7.0);  // nothing written
  CHECK(q == std::vector<double>{0, 1, 2, 0, 1, 2});
}

}  // namespace LADLE_TEST_FILE
}  // namespace
