// isotonic_fit and isotonic_regression against scikit-learn 1.2 (fixtures/make_fixtures.py).
#include "fixtures/quantile_fixtures.hpp"
#include "helpers.hpp"

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using namespace qt;

TEST_CASE("isotonic_fit equals sklearn.isotonic.isotonic_regression") {
  for (const auto& c : qfx::sequence_cases) {
    INFO("n=" << c.y.size() << " increasing=" << c.increasing);
    const auto fit = ladle::isotonic_fit(cv(c.y), cv(c.sw), c.increasing, c.y_min, c.y_max);
    REQUIRE(fit.size() == c.expected.size());
    double worst = 0.0;
    for (std::size_t i = 0; i < fit.size(); ++i)
      worst = std::max(worst, std::abs(fit[i] - c.expected[i]));
    CHECK(worst <= 1e-12);
    // In place (exact aliasing allowed).
    std::vector<double> y = c.y;
    ladle::isotonic_fit_into(mv(y), ladle::vector_view<const double>(mv(y)), cv(c.sw),
                             c.increasing, c.y_min, c.y_max);
    CHECK(y == fit);
  }
}

TEST_CASE("isotonic_regression equals sklearn's IsotonicRegression (ties, weights, bounds)") {
  int index = 0;
  for (const auto& c : qfx::isotonic_cases) {
    INFO("case " << index++ << " n=" << c.x.size());
    ladle::isotonic_options o;
    o.increasing = c.increasing;
    o.y_min = c.y_min;
    o.y_max = c.y_max;
    o.out_of_bounds = c.oob == 0 ? ladle::out_of_bounds_mode::nan : ladle::out_of_bounds_mode::clip;
    ladle::isotonic_regression ir(o);
    ir.fit(cv(c.x), cv(c.y), cv(c.sw));
    REQUIRE(ir.x_thresholds().size() == c.x_thr.size());
    for (std::size_t i = 0; i < c.x_thr.size(); ++i) {
      CHECK(ir.x_thresholds()[i] == c.x_thr[i]);
      CHECK(std::abs(ir.y_thresholds()[i] - c.y_thr[i]) <= 1e-12);
    }
    const auto fit = ir.predict(cv(c.x));
    const auto pred = ir.predict(cv(c.x_new));
    double worst = 0.0;
    for (std::size_t i = 0; i < fit.size(); ++i) {
      CHECK(std::isnan(fit[i]) == std::isnan(c.expected_fit[i]));
      if (!std::isnan(fit[i])) worst = std::max(worst, std::abs(fit[i] - c.expected_fit[i]));
    }
    for (std::size_t i = 0; i < pred.size(); ++i) {
      CHECK(std::isnan(pred[i]) == std::isnan(c.expected[i]));
      if (!std::isnan(pred[i])) worst = std::max(worst, std::abs(pred[i] - c.expected[i]));
    }
    CHECK(worst <= 1e-12);
  }
}

TEST_CASE("ties in x pool with summed weights (scikit-learn#9432)") {
  // x = 0 twice with weights 1 and 3: one point of mean (1*0 + 3*2)/4 = 1.5 and weight 4, which
  // then pools with x = 1 (y = 0, weight 1) into (6 + 0)/5 = 1.2.
  const std::vector<double> x{0, 0, 1}, y{0, 2, 0}, w{1, 3, 1};
  ladle::isotonic_regression ir;
  ir.fit(cv(x), cv(y), cv(w));
  const auto p = ir.predict(cv(std::vector<double>{0, 1}));
  CHECK(p[0] == doctest::Approx(1.2).epsilon(1e-15));
  CHECK(p[1] == doctest::Approx(1.2).epsilon(1e-15));
}

TEST_CASE("out_of_bounds = raise refuses x outside the fitted range") {
  ladle::isotonic_options o;
  o.out_of_bounds = ladle::out_of_bounds_mode::raise;
  ladle::isotonic_regression ir(o);
  ir.fit(cv(std::vector<double>{0, 1, 2}), cv(std::vector<double>{0, 2, 1}));
  std::vector<double> out(2, 5.0);
  expect_error<ladle::domain_error>(
      [&] { ir.predict_into(mv(out), cv(std::vector<double>{1.5, 2.5})); },
      "ladle::isotonic_regression::predict_into: 'x' element 1 is 2.5");
  CHECK(out == std::vector<double>{5.0, 5.0});
  const auto p = ir.predict(cv(std::vector<double>{0, 0.5, 2}));
  CHECK(p[0] == 0.0);
  CHECK(p[1] == 0.75);
  CHECK(p[2] == 1.5);
}

TEST_CASE("isotonic errors") {
  ladle::isotonic_regression ir;
  expect_error<ladle::runtime_error>([&] { (void)ir.predict(cv(std::vector<double>{1})); },
                                     "before fit");
  expect_error<ladle::invalid_argument>(
      [&] { ir.fit(cv(std::vector<double>{}), cv(std::vector<double>{})); }, "'x' is empty");
  expect_error<ladle::domain_error>(
      [&] { ir.fit(cv(std::vector<double>{1, 2}), cv(std::vector<double>{1, NAN})); },
      "'y' has nan at element 1");
  expect_error<ladle::domain_error>(
      [&] {
        ir.fit(cv(std::vector<double>{1, 2}), cv(std::vector<double>{1, 2}),
               cv(std::vector<double>{0, 0}));
      },
      "sums to zero");
  CHECK_FALSE(ir.fitted());
  ladle::isotonic_options o;
  o.y_min = 2;
  o.y_max = 1;
  expect_error<ladle::invalid_argument>(
      [&] {
        ladle::isotonic_regression(o).fit(cv(std::vector<double>{1}), cv(std::vector<double>{1}));
      },
      "'y_min' is 2, above y_max (1)");
  std::vector<double> y{3, 1, 2}, out(2);
  expect_error<ladle::invalid_argument>([&] { ladle::isotonic_fit_into(mv(out), cv(y)); },
                                        "'out' has length 2 but 3 was expected");
  std::vector<double> buf{3, 1, 2, 0};
  expect_error<ladle::invalid_argument>(
      [&] {
        ladle::isotonic_fit_into(ladle::make_view(buf.data() + 1, 3),
                                 ladle::vector_view<const double>(ladle::make_view(buf.data(), 3)));
      },
      "partially overlaps 'y'");
  CHECK(buf == std::vector<double>{3, 1, 2, 0});
}

}  // namespace LADLE_TEST_FILE
}  // namespace
