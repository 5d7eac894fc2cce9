// Loss-based instance reweighting and KL-DRO weights: golden values from the reference recipe in
// torch (float64 softmax), the paper's limits (r -> inf uniform, equal losses uniform, batch of
// one), warm-up, the data-parallel loss scale by simulation, policy determinism, float views,
// and the error paths.
#include <ladle/weighting.hpp>

#include "weighting/fixtures/torch_reference.hpp"

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


void check_rel(const std::vector<double>& got, const std::vector<double>& want, double rel) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(std::abs(got[i] - want[i]) <= rel * want[i]);
}

}  // namespace

TEST_CASE("loss-based weights equal the torch reference for every strategy") {
  using S = ladle::loss_strategy;
  const auto lv = ladle::make_view(fixtures::losses.data(), fixtures::losses.size());
  struct row {
    S s;
    double delta, r;
    const std::vector<double>* want;
  };
  const row rows[] = {
      {S::lin_upper, 1, 1, &fixtures::lw_lin_upper_1_1},
      {S::lin_upper, 0.5, 0.4, &fixtures::lw_lin_upper_0p5_0p4},
      {S::lin_upper, 2, 3, &fixtures::lw_lin_upper_2_3},
      {S::quadratic, 1, 1, &fixtures::lw_quadratic_1_1},
      {S::quadratic, 0.5, 0.4, &fixtures::lw_quadratic_0p5_0p4},
      {S::quadratic, 2, 3, &fixtures::lw_quadratic_2_3},
      {S::extremes, 1, 1, &fixtures::lw_extremes_1_1},
      {S::extremes, 0.5, 0.4, &fixtures::lw_extremes_0p5_0p4},
      {S::extremes, 2, 3, &fixtures::lw_extremes_2_3},
      {S::upper, 1, 1, &fixtures::lw_upper_1_1},
      {S::upper, 0.5, 0.4, &fixtures::lw_upper_0p5_0p4},
      {S::upper, 2, 3, &fixtures::lw_upper_2_3},
  };
  for (const auto& r : rows) {
    ladle::loss_reweighting_options o;
    o.strategy = r.s;
    o.delta = r.delta;
    o.r = r.r;
    const auto w = ladle::loss_based_weights(lv, o);
    check_rel(w, *r.want, 1e-13);
    // par is bit-identical to seq; every prefix length reaches chunk bodies and tails.
    for (std::size_t len : {1u, 7u, 67u, 1005u}) {
      std::vector<double> a(len), b(len);
      ladle::loss_based_weights_into(ladle::seq, lv.slice(0, len), ladle::make_view(a.data(), len), o);
      ladle::loss_based_weights_into(ladle::par(3), lv.slice(0, len), ladle::make_view(b.data(), len), o);
      CHECK(a == b);
      double s = 0;
      for (double v : a) s += v;
      CHECK(s == doctest::Approx(1.0).epsilon(1e-14));
    }
    // float losses and weights.
    std::vector<float> lf(fixtures::losses.begin(), fixtures::losses.end()), wf(lf.size());
    ladle::loss_based_weights_into(ladle::make_view(lf.data(), lf.size()),
                                   ladle::make_view(wf.data(), wf.size()), o);
    for (std::size_t i = 0; i < wf.size(); ++i)
      CHECK(std::abs(wf[i] - (*r.want)[i]) <= 2e-6 * (*r.want)[i]);
  }
  // KL-DRO: softmax(losses / r); and the core softmax gives the same numbers.
  check_rel(ladle::kl_dro_weights(lv, 0.7), fixtures::kl_dro_0p7, 1e-12);
  std::vector<double> core(fixtures::losses.size());
  ladle::softmax(lv, ladle::make_view(core.data(), core.size()), 0.7);
  check_rel(core, fixtures::kl_dro_0p7, 1e-12);
}

TEST_CASE("loss-based weights: limits, warm-up, large batches across chunks") {
  const auto lv = ladle::make_view(fixtures::losses.data(), fixtures::losses.size());
  ladle::loss_reweighting_options o;
  // r -> inf: uniform (the paper: LinUpper tends to uniform averaging).
  o.r = std::numeric_limits<double>::infinity();
  for (double v : ladle::loss_based_weights(lv, o)) CHECK(v == doctest::Approx(1.0 / 1005));
  o.r = 1e9;
  for (double v : ladle::loss_based_weights(lv, o)) CHECK(v == doctest::Approx(1.0 / 1005).epsilon(1e-8));
  // LinUpper: every loss at or above the midrange gets the same (largest) weight.
  o.r = 0.5;
  const auto w = ladle::loss_based_weights(lv, o);
  double lo = 1e300, hi = -1e300;
  for (double l : fixtures::losses) lo = std::min(lo, l), hi = std::max(hi, l);
  double wmax = 0;
  for (double v : w) wmax = std::max(wmax, v);
  for (std::size_t i = 0; i < w.size(); ++i)
    if (fixtures::losses[i] >= (lo + hi) / 2) CHECK(w[i] == wmax);
  // Equal losses and a batch of one: uniform.
  const std::vector<double> same(9, 2.5);
  for (double v : ladle::loss_based_weights(ladle::make_view(same.data(), 9), o))
    CHECK(v == doctest::Approx(1.0 / 9).epsilon(1e-15));
  CHECK(ladle::loss_based_weights(lv.slice(0, 1), o) == std::vector<double>{1.0});
  // Warm-up: uniform before warmup_steps, reweighted from then on.
  o.warmup_steps = 100;
  CHECK(ladle::loss_based_weights(lv, o, 99) == std::vector<double>(1005, 1.0 / 1005));
  CHECK(ladle::loss_based_weights(lv, o, 100) == w);
  // Many chunks: 100003 losses, seq and par agree bit for bit.
  std::vector<float> big(100003), a(big.size()), b(big.size());
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = float(fixtures::losses[i % 1005]) + float(i % 13) * 0.01f;
  o.warmup_steps = 0;
  o.strategy = ladle::loss_strategy::extremes;
  ladle::loss_based_weights_into(ladle::seq, ladle::make_view(big.data(), big.size()),
                                 ladle::make_view(a.data(), a.size()), o);
  ladle::loss_based_weights_into(ladle::par(2), ladle::make_view(big.data(), big.size()),
                                 ladle::make_view(b.data(), b.size()), o);
  CHECK(a == b);
}

TEST_CASE("data-parallel loss scale reproduces sum_i w_i l_i under gradient averaging") {
  // Linear model l_i(theta) = theta * x_i: d/dtheta sum w_i l_i = sum w_i x_i. Each of W ranks
  // takes b consecutive samples, reduces s w_i l_i by sum or mean; the ranks' gradients averaged.
  const int W = 4, b = 5;
  std::vector<double> x(W * b), l(W * b);
  for (int i = 0; i < W * b; ++i) x[i] = 0.3 + 0.1 * i, l[i] = 1.0 + std::sin(i);
  const auto w = ladle::kl_dro_weights(ladle::make_view(l.data(), l.size()), 1.0);
  double want = 0;
  for (int i = 0; i < W * b; ++i) want += w[i] * x[i];
  for (auto red : {ladle::loss_reduction::sum, ladle::loss_reduction::mean}) {
    const double s = ladle::data_parallel_loss_scale(W, b, red);
    double avg = 0;
    for (int r = 0; r < W; ++r) {
      double g = 0;
      for (int i = r * b; i < (r + 1) * b; ++i) g += s * w[i] * x[i];
      if (red == ladle::loss_reduction::mean) g /= b;
      avg += g / W;
    }
    CHECK(avg == doctest::Approx(want).epsilon(1e-14));
  }
  CHECK(error_of<ladle::invalid_argument>([] {
          ladle::data_parallel_loss_scale(0, 3, ladle::loss_reduction::sum);
        }).find("'world_size' must be >= 1, got 0") != std::string::npos);
}

TEST_CASE("loss-based weight errors: nothing written") {
  std::vector<double> l = {1, 2, std::nan(""), 4}, out(4, -1);
  const auto lv = ladle::make_view(l.data(), 4);
  const auto ov = ladle::make_view(out.data(), 4);
  CHECK(error_of<ladle::domain_error>([&] { ladle::loss_based_weights_into(ladle::par(2), lv, ov); })
            .find("ladle::loss_based_weights_into: 'losses' element 2 is not finite") != std::string::npos);
  l[2] = std::numeric_limits<double>::infinity();
  CHECK(error_of<ladle::domain_error>([&] { ladle::kl_dro_weights_into(lv, ov, 1.0); })
            .find("ladle::kl_dro_weights_into: 'losses' element 2") != std::string::npos);
  l[2] = 3;
  ladle::loss_reweighting_options o;
  for (double r : {0.0, -1.0, std::nan("")}) {
    o.r = r;
    CHECK(error_of<ladle::domain_error>([&] { ladle::loss_based_weights_into(lv, ov, o); })
              .find("'r' must be > 0") != std::string::npos);
    CHECK(error_of<ladle::domain_error>([&] { ladle::kl_dro_weights_into(lv, ov, r); })
              .find("'r' must be > 0") != std::string::npos);
  }
  o = {};
  o.delta = 0;
  CHECK(error_of<ladle::domain_error>([&] { ladle::loss_based_weights_into(lv, ov, o); })
            .find("'delta' must be finite and > 0") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::loss_based_weights_into(lv, ov.slice(0, 3)); })
            .find("'out' has length 3 but 4") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::loss_based_weights_into(lv.slice(0, 0), ov.slice(0, 0)); })
            .find("'losses' is empty") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::kl_dro_weights_into(lv, lv, 1.0); })
            .find("'out' overlaps") != std::string::npos);
  CHECK(out == std::vector<double>(4, -1));
  CHECK(l == std::vector<double>{1, 2, 3, 4});
}

TEST_CASE("the portable exp is within 2 ulp of std::exp and flushes below 2^-1022") {
  CHECK(ladle::detail::exp_nonpositive(0.0) == 1.0);
  CHECK(ladle::detail::exp_nonpositive(-709.0) == 0.0);
  CHECK(ladle::detail::exp_nonpositive(-std::numeric_limits<double>::infinity()) == 0.0);
  double worst = 0;
  for (int i = 0; i <= 200000; ++i) {
    const double x = -707.9 * i / 200000.0 - 1e-9 * (i % 7);
    const double want = std::exp(x);
    worst = std::max(worst, std::abs(ladle::detail::exp_nonpositive(x) - want) / want);
  }
  CHECK(worst <= 4.5e-16);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
