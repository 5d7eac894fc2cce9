// Group-normalised advantages (numpy reference of AWM's per-prompt normalisation), FairSeg FEBS
// weights (the paper's 0.2 / 0.4 example and a numpy reference over present groups only) and the
// equity-scaled metric (both variants), focal and self-adjusting Dice (torch reference), errors.
#include <ladle/weighting.hpp>

#include "weighting/fixtures/torch_reference.hpp"

#include <doctest/doctest.h>

#include "error_of.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {


void check_abs(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(std::abs(got[i] - want[i]) <= tol);
}

}  // namespace

TEST_CASE("group advantages equal the numpy reference; constant and singleton groups give 0") {
  const auto r = ladle::make_view(fixtures::adv_rewards.data(), fixtures::adv_rewards.size());
  const auto g = ladle::make_view(fixtures::adv_groups.data(), fixtures::adv_groups.size());
  ladle::advantage_options o;
  o.clip = std::numeric_limits<double>::infinity();
  const auto a = ladle::group_advantages(r, g, o);
  check_abs(a, fixtures::adv_group, 1e-11);
  for (std::size_t i = 0; i < a.size(); ++i)
    if (fixtures::adv_groups[i] == 12 || fixtures::adv_groups[i] == 99) CHECK(a[i] == 0.0);
  o.global_std = true;
  check_abs(ladle::group_advantages(r, g, o), fixtures::adv_global, 1e-11);
  o = {};
  o.clip = 1.5;
  o.rescale_max = 1.0;
  const auto c = ladle::group_advantages(r, g, o);
  check_abs(c, fixtures::adv_clip_rescale, 1e-11);
  bool hit = false;
  for (double v : c) {
    CHECK(std::abs(v) <= 1.0);
    hit = hit || std::abs(v) == 1.0;
  }
  CHECK(hit);  // the clip was reached
  // int32 keys, float rewards, par: same numbers.
  std::vector<int> g32(fixtures::adv_groups.size());
  for (std::size_t i = 0; i < g32.size(); ++i) g32[i] = int(fixtures::adv_groups[i] % 1000003);
  std::vector<float> rf(fixtures::adv_rewards.begin(), fixtures::adv_rewards.end()), out(rf.size());
  ladle::group_advantages_into(ladle::par(2), ladle::make_view(rf.data(), rf.size()),
                               ladle::make_view(g32.data(), g32.size()),
                               ladle::make_view(out.data(), out.size()));
  for (std::size_t i = 0; i < out.size(); ++i)
    CHECK(out[i] == doctest::Approx(std::min(5.0, std::max(-5.0, fixtures::adv_group[i]))).epsilon(1e-5));
  // A constant-reward group whose mean does not round-trip (0.1 * 3): still exactly 0.
  const std::vector<double> r3 = {0.1, 0.1, 0.1};
  const std::vector<long long> g3 = {5, 5, 5};
  CHECK(ladle::group_advantages(ladle::make_view(r3.data(), 3), ladle::make_view(g3.data(), 3)) ==
        std::vector<double>{0, 0, 0});
}

TEST_CASE("advantage errors: nothing written") {
  std::vector<double> r = {1, 2, std::nan("")}, out(3, 7);
  std::vector<int> g = {1, 1, 2};
  const auto rv = ladle::make_view(r.data(), 3);
  const auto gv = ladle::make_view(g.data(), 3);
  const auto ov = ladle::make_view(out.data(), 3);
  CHECK(error_of<ladle::domain_error>([&] { ladle::group_advantages_into(rv, gv, ov); })
            .find("ladle::group_advantages_into: 'rewards' has nan at element 2") != std::string::npos);
  r[2] = 3;
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::group_advantages_into(rv, gv.slice(0, 2), ov); })
            .find("'groups' has length 2 but 3") != std::string::npos);
  ladle::advantage_options o;
  o.epsilon = -1;
  CHECK(error_of<ladle::domain_error>([&] { ladle::group_advantages_into(rv, gv, ov, o); })
            .find("'epsilon'") != std::string::npos);
  o = {};
  o.clip = 0;
  CHECK(error_of<ladle::domain_error>([&] { ladle::group_advantages_into(rv, gv, ov, o); })
            .find("'clip' must be > 0") != std::string::npos);
  o = {};
  o.clip = std::numeric_limits<double>::infinity();
  o.rescale_max = 1;
  CHECK(error_of<ladle::domain_error>([&] { ladle::group_advantages_into(rv, gv, ov, o); })
            .find("'rescale_max'") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::group_advantages_into(rv, gv, rv); })
            .find("'out' overlaps") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([&] {
          ladle::group_advantages_into(rv.slice(0, 0), gv.slice(0, 0), ov.slice(0, 0));
        }).find("'rewards' is empty") != std::string::npos);
  CHECK(out == std::vector<double>(3, 7));
}

TEST_CASE("FairSeg FEBS weights: the paper's example and present groups only") {
  const std::vector<double> l = {0.2, 0.4};
  std::vector<double> w(2);
  ladle::fair_error_bound_weights_into(ladle::make_view(l.data(), 2), ladle::make_view(w.data(), 2));
  CHECK(w[0] == doctest::Approx(0.7616).epsilon(1e-4));
  CHECK(w[1] == doctest::Approx(0.4621).epsilon(1e-4));
  CHECK(w[0] == doctest::Approx(std::tanh(1.0)).epsilon(1e-15));
  CHECK(w[1] == doctest::Approx(std::tanh(0.5)).epsilon(1e-15));
  // Absent group (count 0, loss 0) neither becomes the minimum nor yields NaN.
  std::vector<float> wf(4);
  ladle::fair_error_bound_weights_into(
      ladle::make_view(fixtures::febs_losses.data(), 4),
      ladle::make_view(fixtures::febs_present.data(), 4), ladle::make_view(wf.data(), 4), 1.5);
  for (int a = 0; a < 4; ++a)
    CHECK(wf[a] == doctest::Approx(fixtures::febs_weights_gamma1p5[a]).epsilon(1e-6));
  CHECK(wf[2] == 1.0f);
  // A present group with zero loss is the best group.
  const std::vector<double> z = {0.0, 0.3};
  ladle::fair_error_bound_weights_into(ladle::make_view(z.data(), 2), ladle::make_view(w.data(), 2));
  CHECK(w[0] == doctest::Approx(std::tanh(1.0)));
  CHECK(w[1] == 0.0);
  std::vector<double> bad = {0.2, -0.1}, cnt = {0, 0};
  w = {5, 5};
  CHECK(error_of<ladle::domain_error>([&] {
          ladle::fair_error_bound_weights_into(ladle::make_view(bad.data(), 2), ladle::make_view(w.data(), 2));
        }).find("'group_losses' element 1 (-0.1)") != std::string::npos);
  CHECK(error_of<ladle::domain_error>([&] {
          ladle::fair_error_bound_weights_into(ladle::make_view(l.data(), 2), ladle::make_view(cnt.data(), 2),
                                               ladle::make_view(w.data(), 2));
        }).find("no group is present") != std::string::npos);
  CHECK(error_of<ladle::domain_error>([&] {
          ladle::fair_error_bound_weights_into(ladle::make_view(l.data(), 2), ladle::make_view(w.data(), 2), -1.0);
        }).find("'gamma'") != std::string::npos);
  CHECK(w == std::vector<double>{5, 5});
}

TEST_CASE("equity-scaled metric, both variants") {
  const auto m = ladle::make_view(fixtures::es_metrics.data(), fixtures::es_metrics.size());
  CHECK(ladle::equity_scaled_metric(fixtures::es_overall, m) ==
        doctest::Approx(fixtures::es_sum).epsilon(1e-15));
  CHECK(ladle::equity_scaled_metric(fixtures::es_overall, m, 1.0, ladle::equity_dispersion::std_deviation) ==
        doctest::Approx(fixtures::es_std).epsilon(1e-15));
  CHECK(ladle::equity_scaled_metric(0.8, m, 0.0) == 0.8);
  const std::vector<double> nan = {0.5, std::nan("")};
  CHECK(error_of<ladle::domain_error>([&] { ladle::equity_scaled_metric(0.8, ladle::make_view(nan.data(), 2)); })
            .find("ladle::equity_scaled_metric: 'group_metrics' has nan at element 1") != std::string::npos);
  CHECK(error_of<ladle::domain_error>([&] { ladle::equity_scaled_metric(0.8, m, -1.0); })
            .find("'alpha'") != std::string::npos);
}

TEST_CASE("focal and self-adjusting Dice factors and losses equal the torch reference") {
  const std::size_t n = fixtures::dice_p.size();
  const auto p = ladle::make_view(fixtures::dice_p.data(), n);
  const auto y = ladle::make_view(fixtures::dice_y.data(), n);
  std::vector<double> out(n);
  const auto ov = ladle::make_view(out.data(), n);
  ladle::focal_factors_into(p, ov, 2.0);
  for (std::size_t i = 0; i < n; ++i) CHECK(out[i] == doctest::Approx(fixtures::focal_2[i]).epsilon(1e-14));
  ladle::self_adjusting_factors_into(p, ov, 0.6);
  for (std::size_t i = 0; i < n; ++i)
    CHECK(out[i] == doctest::Approx(std::pow(1 - fixtures::dice_p[i], 0.6) * fixtures::dice_p[i]).epsilon(1e-14));
  ladle::dice_instance_losses_into(p, y, ov, {0.6, 1.0});
  for (std::size_t i = 0; i < n; ++i)
    CHECK(out[i] == doctest::Approx(fixtures::dice_instance[i]).epsilon(1e-13));
  std::vector<int> yi(fixtures::dice_y.begin(), fixtures::dice_y.end());
  ladle::dice_batch_options b;
  b.alpha = 0.01;
  CHECK(ladle::dice_batch_loss(p, ladle::make_view(yi.data(), n), b) ==
        doctest::Approx(fixtures::dice_batch_plain).epsilon(1e-13));
  b.smooth = 1.0;
  b.square_denominator = true;
  CHECK(ladle::dice_batch_loss(p, y, b) == doctest::Approx(fixtures::dice_batch_square).epsilon(1e-13));
  // gamma = 0: focal factor 1 (plain cross-entropy).
  ladle::focal_factors_into(p, ov, 0.0);
  for (double v : out) CHECK(v == 1.0);
  // Errors.
  std::vector<double> bad = {0.5, 1.5}, o2(2, 3);
  CHECK(error_of<ladle::domain_error>([&] {
          ladle::focal_factors_into(ladle::make_view(bad.data(), 2), ladle::make_view(o2.data(), 2));
        }).find("ladle::focal_factors_into: 'p' element 1 (1.5) is not in [0, 1]") != std::string::npos);
  CHECK(error_of<ladle::domain_error>([&] { ladle::focal_factors_into(p, ov, -1.0); }).find("'gamma'") !=
        std::string::npos);
  CHECK(error_of<ladle::domain_error>([&] { ladle::dice_instance_losses_into(p, y, ov, {1.0, 0.0}); })
            .find("'gamma' must be finite and > 0") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::dice_batch_loss(p, y.slice(0, 3)); })
            .find("'y' has length 3") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::self_adjusting_factors_into(ov, ov); })
            .find("'out' overlaps") != std::string::npos);
  CHECK(o2 == std::vector<double>{3, 3});
}

}  // namespace LADLE_TEST_FILE
}  // namespace
