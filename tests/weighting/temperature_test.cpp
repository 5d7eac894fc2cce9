// Temperature sampling, scalarization and schedules: a direct pow-based reference, the closed-form
// 1000:10 example, limits (tau = 1 proportional, tau = inf uniform), the expected-gradient
// equivalence on a small linear model, the schedule shapes, and the error paths.
#include <ladle/weighting.hpp>
#include <ladle/core/random.hpp>

#include <doctest/doctest.h>

#include "error_of.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {


// Reference: q^alpha / sum q^alpha with pow, in long double.
std::vector<long double> pow_reference(const std::vector<double>& n, long double alpha) {
  long double total = 0, s = 0;
  for (double v : n) total += v;
  std::vector<long double> p(n.size());
  for (std::size_t k = 0; k < n.size(); ++k) {
    p[k] = n[k] > 0 ? std::pow(n[k] / total, alpha) : 0.0L;
    s += p[k];
  }
  for (auto& v : p) v /= s;
  return p;
}

}  // namespace

TEST_CASE("temperature probabilities match q^(1/tau) / sum and the closed form") {
  const std::vector<double> sizes = {1000, 10};
  const auto sv = ladle::make_view(sizes.data(), sizes.size());
  const auto p = ladle::temperature_probabilities(sv, 2.0);
  CHECK(p[0] == doctest::Approx(10.0 / 11).epsilon(1e-15));  // sqrt(1000) : sqrt(10) = 10 : 1
  CHECK(p[1] == doctest::Approx(1.0 / 11).epsilon(1e-15));
  const std::vector<double> many = {5e6, 31, 0, 1, 777, 12345};
  const auto mv = ladle::make_view(many.data(), many.size());
  for (double tau : {0.25, 0.5, 1.0, 1.7, 5.0, 100.0}) {
    const auto ref = pow_reference(many, 1.0L / tau);
    const auto got = ladle::temperature_probabilities(mv, tau);
    const auto got_a = ladle::temperature_probabilities_alpha(mv, 1.0 / tau);
    const auto w = ladle::scalarization_weights(mv, tau);
    double sum = 0;
    for (std::size_t k = 0; k < many.size(); ++k) {
      CHECK(std::abs(got[k] - double(ref[k])) <= 1e-14 * double(ref[k]) + 1e-300);
      CHECK(got_a[k] == got[k]);
      const double q = many[k] / 5013154.0;
      CHECK(std::abs(w[k] * q - got[k]) <= 1e-14 * got[k] + 1e-300);  // p = q w
      sum += got[k];
    }
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-15));
    CHECK(got[2] == 0.0);
    CHECK(w[2] == 0.0);
  }
  // tau = 1: proportional (scalarization weights 1); tau = inf / alpha = 0: uniform over non-empty.
  const auto prop = ladle::scalarization_weights(mv, 1.0);
  for (std::size_t k = 0; k < many.size(); ++k)
    CHECK(prop[k] == doctest::Approx(many[k] > 0 ? 1.0 : 0.0).epsilon(1e-14));
  const auto uni = ladle::temperature_probabilities(mv, std::numeric_limits<double>::infinity());
  CHECK(uni == ladle::temperature_probabilities_alpha(mv, 0.0));
  for (std::size_t k = 0; k < many.size(); ++k) CHECK(uni[k] == doctest::Approx(many[k] > 0 ? 0.2 : 0.0));
  // Extreme alpha neither overflows nor gives NaN: all mass on the largest group.
  const auto sharp = ladle::temperature_probabilities_alpha(mv, 500.0);
  CHECK(sharp[0] == 1.0);
  CHECK(sharp[1] == 0.0);
  // float output, integer sizes.
  const std::vector<int> isz = {1000, 10};
  std::vector<float> pf(2);
  ladle::temperature_probabilities_into(ladle::make_view(isz.data(), 2), 2.0,
                                        ladle::make_view(pf.data(), 2));
  CHECK(pf[1] == doctest::Approx(1.0f / 11));
}

TEST_CASE("scalarization and temperature sampling give the same expected gradient") {
  // Least squares on a linear model, three groups of sizes 40 : 6 : 1 (sample i in group g(i)).
  // E_temp[grad] = sum_i p_g / n_g * grad_i;  E_scal[grad] = sum_i (1/N) w_g * grad_i.
  const std::vector<double> sizes = {40, 6, 1};
  const int N = 47, d = 3;
  std::vector<double> X(N * d), y(N);
  ladle::philox rng(ladle::seed{7});
  for (auto& v : X) v = ladle::uniform_double(rng) * 2 - 1;
  for (auto& v : y) v = ladle::uniform_double(rng);
  const double theta[d] = {0.3, -0.2, 0.5};
  auto group = [](int i) { return i < 40 ? 0 : (i < 46 ? 1 : 2); };
  for (double tau : {1.0, 2.0, 10.0}) {
    const auto p = ladle::temperature_probabilities(ladle::make_view(sizes.data(), 3), tau);
    const auto w = ladle::scalarization_weights(ladle::make_view(sizes.data(), 3), tau);
    double g_temp[d] = {}, g_scal[d] = {};
    for (int i = 0; i < N; ++i) {
      double r = -y[i];
      for (int j = 0; j < d; ++j) r += X[i * d + j] * theta[j];
      for (int j = 0; j < d; ++j) {
        const double gi = 2 * r * X[i * d + j];
        g_temp[j] += p[group(i)] / sizes[group(i)] * gi;
        g_scal[j] += w[group(i)] / N * gi;
      }
    }
    for (int j = 0; j < d; ++j) CHECK(g_scal[j] == doctest::Approx(g_temp[j]).epsilon(1e-13));
    // And the two differ from plain proportional sampling unless tau = 1.
    if (tau > 1) {
      double g_prop = 0;
      for (int i = 0; i < N; ++i) {
        double r = -y[i];
        for (int j = 0; j < d; ++j) r += X[i * d + j] * theta[j];
        g_prop += 2 * r * X[i * d] / N;
      }
      CHECK(std::abs(g_prop - g_temp[0]) > 1e-6);
    }
  }
}

TEST_CASE("schedules: constant, step, linear, cosine, cooldown") {
  CHECK(ladle::constant_schedule(3.0)(12345) == 3.0);
  const ladle::step_schedule st(5.0, 1.0, 100);
  CHECK(st(99) == 5.0);
  CHECK(st(100) == 1.0);
  const ladle::linear_schedule lin(4.0, 1.0, 10, 40);
  CHECK(lin(0) == 4.0);
  CHECK(lin(10) == 4.0);
  CHECK(lin(20) == doctest::Approx(3.0).epsilon(1e-15));
  CHECK(lin(40) == 1.0);
  CHECK(lin(1000) == 1.0);
  const ladle::cosine_schedule cs(4.0, 1.0, 0, 100);
  CHECK(cs(0) == 4.0);
  CHECK(cs(50) == doctest::Approx(2.5).epsilon(1e-15));
  CHECK(cs(25) == doctest::Approx(1.0 + 3.0 * 0.5 * (1 + std::cos(3.14159265358979323846 / 4))));
  CHECK(cs(100) == 1.0);
  const ladle::cooldown_schedule cd(10.0, 1.0, 1000, 500, ladle::cooldown_shape::linear);
  CHECK(cd(0) == 10.0);
  CHECK(cd(999) == 10.0);
  CHECK(cd(1000) == 10.0);
  CHECK(cd(1250) == doctest::Approx(5.5).epsilon(1e-15));
  CHECK(cd(1500) == 1.0);
  CHECK(ladle::cooldown_schedule(10.0, 1.0, 1000, 500, ladle::cooldown_shape::step)(1000) == 1.0);
  CHECK(ladle::cooldown_schedule(10.0, 2.0, 10, 10, ladle::cooldown_shape::cosine)(15) ==
        doctest::Approx(6.0).epsilon(1e-15));
  // Monotone non-increasing cooldown.
  double prev = 1e300;
  for (std::int64_t s = 0; s < 2000; s += 7) {
    CHECK(cd(s) <= prev);
    prev = cd(s);
  }
}

TEST_CASE("temperature errors") {
  std::vector<double> sizes = {3, -1}, out = {9, 9};
  const auto ov = ladle::make_view(out.data(), 2);
  CHECK(error_of<ladle::domain_error>([&] {
          ladle::temperature_probabilities_into(ladle::make_view(sizes.data(), 2), 1.0, ov);
        }).find("ladle::temperature_probabilities_into: 'sizes' element 1 (-1)") != std::string::npos);
  sizes = {3, 1};
  const auto sv = ladle::make_view(sizes.data(), 2);
  for (double tau : {0.0, -1.0, std::nan("")})
    CHECK(error_of<ladle::domain_error>([&] { ladle::temperature_probabilities_into(sv, tau, ov); })
              .find("'tau' must be > 0") != std::string::npos);
  CHECK(error_of<ladle::domain_error>([&] { ladle::scalarization_weights_into(sv, 0.0, ov); })
            .find("ladle::scalarization_weights_into: 'tau'") != std::string::npos);
  for (double alpha : {-0.5, std::numeric_limits<double>::infinity()})
    CHECK(error_of<ladle::domain_error>([&] {
            ladle::temperature_probabilities_alpha_into(sv, alpha, ov);
          }).find("'alpha' must be finite and >= 0") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([&] {
          ladle::temperature_probabilities_into(sv, 1.0, ladle::make_view(out.data(), 1));
        }).find("'out' has length 1 but 2") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::temperature_probabilities_into(sv, 1.0, sv.slice(0, 2)); })
            .find("overlaps") != std::string::npos);
  sizes = {0, 0};
  CHECK(error_of<ladle::domain_error>([&] { ladle::temperature_probabilities_into(sv, 1.0, ov); })
            .find("every group size is zero") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([&] {
          ladle::temperature_probabilities_into(sv.slice(0, 0), 1.0, ov.slice(0, 0));
        }).find("'sizes' is empty") != std::string::npos);
  CHECK(out == std::vector<double>{9, 9});
  CHECK(error_of<ladle::domain_error>([] { ladle::constant_schedule(0.0); })
            .find("ladle::constant_schedule: 'value' must be finite and > 0") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([] { ladle::linear_schedule(2, 1, 10, 5); })
            .find("'end_step' (5) is before begin_step (10)") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([] { ladle::cooldown_schedule(2, 1, -1, 5); })
            .find("hold_steps") != std::string::npos);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
