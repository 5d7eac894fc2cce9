// QAT helpers: STE mask, LSQ gradients against torch 1.13's learnable fake quant, elastic table.
#include <ladle/quantization/elastic.hpp>
#include <ladle/quantization/fake_quant.hpp>

#include <doctest/doctest.h>

#include "quantization/fixtures/affine_fixtures.hpp"

#include <cmath>
#include <cstring>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::quant_spec;

namespace {
float fb(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
}  // namespace

TEST_CASE("fake_quant: LSQ gradients equal torch._fake_quantize_learnable_*_affine (grad_factor 1)") {
  for (const auto& c : affine_fixtures::lsq_cases) {
    std::vector<float> x(120), g(120);
    for (int i = 0; i < 120; ++i) {
      x[static_cast<std::size_t>(i)] = fb(c.x[i]);
      g[static_cast<std::size_t>(i)] = fb(c.g[i]);
    }
    const int slots = c.per_channel ? 3 : 1;
    ladle::quant_params p;
    p.spec = c.per_channel ? quant_spec::affine(4).per_channel(0) : quant_spec::affine(4);
    for (int s = 0; s < slots; ++s) {
      p.scale.push_back(fb(c.scale[s]));
      p.zero_point.push_back(c.zp[s]);
    }
    const auto xv = ladle::make_view(x.data(), {3, 40});
    std::vector<float> gx(120), gs(static_cast<std::size_t>(slots)), gz(static_cast<std::size_t>(slots));
    ladle::lsq_options o;
    o.grad_factor = 1.0;
    ladle::lsq_backward_into(ladle::par(2), xv, ladle::make_view(g.data(), {3, 40}), p, ladle::make_view(gx.data(), {3, 40}),
                             ladle::make_view(gs.data(), gs.size()), ladle::make_view(gz.data(), gz.size()), o);
    for (int i = 0; i < 120; ++i) REQUIRE(gx[static_cast<std::size_t>(i)] == fb(c.gx[i]));
    for (int s = 0; s < slots; ++s) {
      CHECK(gs[static_cast<std::size_t>(s)] == doctest::Approx(fb(c.gs[s])).epsilon(1e-5));
      CHECK(gz[static_cast<std::size_t>(s)] == doctest::Approx(fb(c.gz[s])).epsilon(1e-5));
    }
    // The forward of the learnable op is the ordinary fake quant.
    const auto y = ladle::fake_quantize(xv, p);
    for (int i = 0; i < 120; ++i) REQUIRE(y[i] == fb(c.y[i]));
    // STE mask = where grad_x passed through.
    std::vector<std::uint8_t> m(120);
    ladle::ste_mask_into(xv, p, ladle::make_view(m.data(), {3, 40}));
    for (int i = 0; i < 120; ++i)
      if (g[static_cast<std::size_t>(i)] != 0.0f) REQUIRE(int(m[static_cast<std::size_t>(i)]) == int(fb(c.gx[i]) != 0.0f));
  }
}

TEST_CASE("fake_quant: LSQ default grad scale is 1/sqrt(N Qp) (EQ-Net: 2^b)") {
  CHECK(ladle::lsq_grad_scale(100, 7) == doctest::Approx(1.0 / std::sqrt(700.0)));
  std::vector<float> x(64, 0.3f), g(64, 1.0f);
  ladle::quant_params p;
  p.spec = quant_spec::symmetric(4).per_channel(0);
  p.scale = {0.25f, 0.25f};
  p.zero_point = {0, 0};
  std::vector<float> gs(2), gs_eq(2), gs1(2);
  const auto xv = ladle::make_view(x.data(), {2, 32});
  const auto gv = ladle::make_view(g.data(), {2, 32});
  ladle::lsq_options one;
  one.grad_factor = 1.0;
  ladle::lsq_backward_into(xv, gv, p, ladle::tensor_view<float, 2>{}, ladle::make_view(gs1.data(), 2), {}, one);
  ladle::lsq_backward_into(xv, gv, p, ladle::tensor_view<float, 2>{}, ladle::make_view(gs.data(), 2), {});
  ladle::lsq_options eq;
  eq.eqnet_levels = true;
  ladle::lsq_backward_into(xv, gv, p, ladle::tensor_view<float, 2>{}, ladle::make_view(gs_eq.data(), 2), {}, eq);
  // 0.3 / 0.25 = 1.2 -> round 1: d/dΔ = -0.2 per element, 32 elements per channel.
  CHECK(gs1[0] == doctest::Approx(-6.4).epsilon(1e-5));
  CHECK(gs[0] == doctest::Approx(-6.4 / std::sqrt(32.0 * 7.0)).epsilon(1e-5));
  CHECK(gs_eq[0] == doctest::Approx(-6.4 / std::sqrt(32.0 * 16.0)).epsilon(1e-5));
  CHECK_THROWS_AS(ladle::lsq_grad_scale(0, 7), ladle::invalid_argument);
  auto ps = p;
  ps.spec = ps.spec.stochastic();
  CHECK_THROWS_AS(ladle::lsq_backward_into(xv, gv, ps, ladle::tensor_view<float, 2>{}, ladle::make_view(gs.data(), 2), {}),
                  ladle::invalid_argument);
  std::vector<float> wrong(3);
  CHECK_THROWS_AS(ladle::lsq_backward_into(xv, gv, p, ladle::tensor_view<float, 2>{}, ladle::make_view(wrong.data(), 3), {}),
                  ladle::invalid_argument);
}

TEST_CASE("fake_quant: elastic table serves one tensor at every (bits, symmetry, granularity)") {
  ladle::philox g(ladle::seed{12});
  const ladle::index_t rows = 8, cols = 64;
  std::vector<float> w(static_cast<std::size_t>(rows * cols));
  for (ladle::index_t r = 0; r < rows; ++r)
    for (ladle::index_t c = 0; c < cols; ++c)
      w[static_cast<std::size_t>(r * cols + c)] = static_cast<float>(ladle::normal(g)) * (0.1f + 0.3f * r);
  const auto wv = ladle::make_view(w.data(), {rows, cols});
  ladle::elastic_options opts;
  opts.lp.bins = 512;
  const auto table = ladle::elastic_qparams::build(ladle::par(2), wv, opts);
  auto err = [&](const ladle::quant_params& p) {
    const auto f = ladle::fake_quantize(wv, p);
    double e = 0;
    for (std::size_t i = 0; i < w.size(); ++i) e += std::pow(f[static_cast<ladle::index_t>(i)] - w[i], 2.0);
    return e;
  };
  for (bool sym : {false, true})
    for (bool pc : {false, true}) {
      double prev = 1e300;
      for (int b = 2; b <= 8; ++b) {
        const auto& p = table.at(b, sym, pc);
        CHECK(p.spec.bits == b);
        CHECK(p.count() == (pc ? rows : 1));
        CHECK(p.spec.convention == ladle::quant_convention::eqnet);
        const double e = err(p);
        CHECK(e < prev);
        prev = e;
      }
    }
  // Per-channel is better than per-layer at 4 bits for rows of different scale.
  CHECK(err(table.at(4, true, true)) < err(table.at(4, true, false)));
  // The Lp initialisation is at least as good as plain min-max on the Lp objective's proxy (MSE).
  ladle::elastic_options mm = opts;
  mm.lp_search = false;
  const auto plain = ladle::elastic_qparams::build(wv, mm);
  CHECK(err(table.at(3, false, true)) <= err(plain.at(3, false, true)) * 1.0001);
  auto t2 = table;
  auto p = t2.at(4, true, true);
  p.scale[0] *= 0.5f;
  t2.set(4, true, true, p);
  CHECK(t2.at(4, true, true).scale[0] == p.scale[0]);
  CHECK_THROWS_AS(table.at(9, true, true), ladle::invalid_argument);
  CHECK_THROWS_AS(t2.set(4, true, false, p), ladle::invalid_argument);
  ladle::elastic_options bad;
  bad.min_bits = 1;
  CHECK_THROWS_AS(ladle::elastic_qparams::build(wv, bad), ladle::invalid_argument);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
