// Observers: streaming == one shot, merge == observing everything, L2 / percentile / Lp ranges
// against brute force on the data, per-channel, seq vs par, errors.
#include <ladle/quantization/observers.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::quant_spec;

namespace {

std::vector<float> gaussian(ladle::index_t n, std::uint64_t seed, float sigma = 1.0f) {
  ladle::philox g(ladle::seed{seed});
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = static_cast<float>(ladle::normal(g)) * sigma;
  return v;
}

double fq_mse(const std::vector<float>& x, const ladle::quant_params& p) {
  const auto f = ladle::fake_quantize(ladle::make_view(x.data(), x.size()), p);
  double e = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double d = f[static_cast<ladle::index_t>(i)] - x[i];
    e += d * d;
  }
  return e / double(x.size());
}

}  // namespace

TEST_CASE("observer: min-max streaming and merge equal one-shot choose_qparams") {
  const std::vector<float> x = gaussian(8 * 96, 1, 2.0f);
  const auto spec = quant_spec::affine(8).per_channel(0);
  ladle::minmax_observer a(spec), b(spec), all(spec);
  for (int k = 0; k < 4; ++k) {
    const auto part = ladle::make_view(x.data() + k * 192, {8, 24});
    (k % 2 ? a : b).observe(part);
    all.observe(ladle::par(2), part);
  }
  a.merge(b);
  CHECK(a.lo() == all.lo());
  CHECK(a.hi() == all.hi());
  CHECK(a.batches() == 4);
  // One-shot over the concatenation of the four (8, 24) batches, channel by channel.
  for (int c = 0; c < 8; ++c) {
    float mn = 1e30f, mx = -1e30f;
    for (int k = 0; k < 4; ++k)
      for (int j = 0; j < 24; ++j) {
        mn = std::min(mn, x[static_cast<std::size_t>(k * 192 + c * 24 + j)]);
        mx = std::max(mx, x[static_cast<std::size_t>(k * 192 + c * 24 + j)]);
      }
    CHECK(all.lo()[static_cast<std::size_t>(c)] == mn);
    CHECK(all.hi()[static_cast<std::size_t>(c)] == mx);
  }
  const auto p = all.qparams();
  CHECK(p.count() == 8);
}

TEST_CASE("observer: moving average follows m += c (batch - m) and merges by batch counts") {
  ladle::moving_average_minmax_observer ob(quant_spec::affine(8), 0.5f);
  std::vector<float> b1 = {-1.0f, 1.0f}, b2 = {-3.0f, 5.0f};
  ob.observe(ladle::make_view(b1.data(), 2));
  ob.observe(ladle::make_view(b2.data(), 2));
  CHECK(ob.min()[0] == -2.0f);
  CHECK(ob.max()[0] == 3.0f);
  ladle::moving_average_minmax_observer other(quant_spec::affine(8), 0.5f);
  std::vector<float> b3 = {-5.0f, 6.0f};
  other.observe(ladle::make_view(b3.data(), 2));
  ob.merge(other);  // (2·(-2) + 1·(-5)) / 3 = -3,  (2·3 + 6) / 3 = 4
  CHECK(ob.min()[0] == doctest::Approx(-3.0));
  CHECK(ob.max()[0] == doctest::Approx(4.0));
  CHECK_THROWS_AS(ladle::moving_average_minmax_observer(quant_spec::affine(8), 0.0f), ladle::invalid_argument);
}

TEST_CASE("observer: histogram L2 range clips outliers and beats min-max at 4 bits") {
  std::vector<float> x = gaussian(20000, 2);
  x[5] = 40.0f;  // one far outlier
  x[9] = -25.0f;
  const auto spec = quant_spec::affine(4);
  ladle::histogram_observer h(spec);
  for (int k = 0; k < 4; ++k) h.observe(ladle::make_view(x.data() + k * 5000, 5000));
  std::vector<float> lo, hi;
  h.ranges(lo, hi);
  CHECK(hi[0] < 10.0f);
  CHECK(lo[0] > -10.0f);
  const double e_hist = fq_mse(x, h.qparams());
  const double e_minmax = fq_mse(x, ladle::choose_qparams(spec, ladle::make_view(x.data(), x.size())));
  MESSAGE("histogram mse ", e_hist, " min-max mse ", e_minmax);
  CHECK(e_hist < 0.5 * e_minmax);
  // Brute force over symmetric clip ranges on the data: the histogram's choice is near optimal.
  double best = 1e30;
  for (int i = 1; i <= 400; ++i) {
    const float a = 0.1f * static_cast<float>(i);
    ladle::quant_params p;
    p.spec = spec;
    const auto sz = ladle::qparams_for_range(spec, -a, a);
    p.scale = {sz.first};
    p.zero_point = {sz.second};
    best = std::min(best, fq_mse(x, p));
  }
  CHECK(e_hist < 1.25 * best);
  // Symmetric search too.
  ladle::histogram_observer hs(quant_spec::symmetric(4));
  hs.observe(ladle::make_view(x.data(), x.size()));
  CHECK(fq_mse(x, hs.qparams()) < 0.5 * e_minmax);
}

TEST_CASE("observer: percentile range matches the empirical quantiles") {
  std::vector<float> x(100000);
  ladle::philox g(ladle::seed{4});
  for (auto& v : x) v = ladle::uniform_float(g) * 2.0f - 1.0f;  // U[-1, 1)
  ladle::percentile_observer ob(quant_spec::affine(8), 99.0);
  ob.observe(ladle::make_view(x.data(), x.size()));
  std::vector<float> lo, hi;
  ob.ranges(lo, hi);
  std::vector<float> s = x;
  std::sort(s.begin(), s.end());
  CHECK(lo[0] == doctest::Approx(s[1000]).epsilon(0.01));
  CHECK(hi[0] == doctest::Approx(s[99000]).epsilon(0.01));
  CHECK_THROWS_AS(ladle::percentile_observer(quant_spec::affine(8), 40.0), ladle::invalid_argument);
}

TEST_CASE("observer: Lp grid search picks the shrink a brute-force search on the data picks") {
  std::vector<float> x = gaussian(8000, 6);
  x[0] = 9.0f;
  const auto spec = quant_spec::symmetric(3, ladle::quant_convention::gptq, false);
  ladle::lp_observer ob(spec, {2.4, 100, 0.8, 4096});
  ob.observe(ladle::make_view(x.data(), x.size()));
  std::vector<float> lo, hi;
  ob.ranges(lo, hi);
  // GPTQ's loop on the raw data.
  const float amax = 9.0f;
  double best = 1e300;
  float best_p = 1.0f;
  for (int i = 0; i < 80; ++i) {
    const float p = 1.0f - static_cast<float>(i) / 100.0f;
    const auto sz = ladle::qparams_for_range(spec, -p * amax, p * amax);
    double e = 0;
    for (float v : x) {
      const double q = std::min(std::max(double(std::nearbyint(v / sz.first)) + sz.second, 0.0), 7.0);
      e += std::pow(std::abs((q - sz.second) * sz.first - v), 2.4);
    }
    if (e < best) { best = e; best_p = p; }
  }
  MESSAGE("brute-force shrink ", best_p, ", observer range ", hi[0] / amax);
  CHECK(std::abs(hi[0] / amax - best_p) <= 0.031f);
}

TEST_CASE("observer: histogram observers merge, work per channel, and are thread-count independent") {
  const std::vector<float> x = gaussian(16 * 512, 8, 1.5f);
  const auto spec = quant_spec::affine(8).per_channel(0);
  ladle::histogram_observer one(spec, 256), two(spec, 256), h1(spec, 256), h2(spec, 256);
  one.observe(ladle::make_view(x.data(), {16, 512}));
  two.observe(ladle::par(2), ladle::make_view(x.data(), {16, 512}));
  const auto p1 = one.qparams(), p2 = two.qparams();
  CHECK(p1.scale == p2.scale);
  CHECK(p1.zero_point == p2.zero_point);
  // Merging two halves along the batch (here: the same shape twice) approximates one observer of both.
  h1.observe(ladle::make_view(x.data(), {16, 256}));
  h2.observe(ladle::make_view(x.data() + 16 * 256, {16, 256}));
  h1.merge(h2);
  const auto pm = h1.qparams();
  REQUIRE(pm.count() == 16);
  for (int c = 0; c < 16; ++c)
    CHECK(pm.scale[static_cast<std::size_t>(c)] == doctest::Approx(p1.scale[static_cast<std::size_t>(c)]).epsilon(0.35));
  ladle::percentile_observer pc(quant_spec::symmetric(8).per_channel(0), 99.9, 128);
  pc.observe(ladle::make_view(x.data(), {16, 512}));
  CHECK(pc.qparams().count() == 16);
}

TEST_CASE("observer: set_ranges then pieces equals observing the whole tensor (histogram, percentile, Lp)") {
  // Odd piece lengths (7, 1, 257, ...) so no piece boundary lines up with anything; the extremes
  // sit in the last piece, so a histogram started from the first piece would have to re-bin.
  std::vector<float> x = gaussian(3001, 21, 2.0f);
  x[2999] = 9.5f;
  x[3000] = -7.25f;
  const ladle::index_t cuts[] = {0, 7, 8, 265, 1200, 2999, 3001};
  for (const auto& spec : {quant_spec::affine(8), quant_spec::symmetric(4)}) {
    ladle::minmax_observer mm(spec);
    mm.observe(ladle::make_view(x.data(), 3001));
    const auto pieces = [&](auto& o) {
      o.set_ranges(mm.lo(), mm.hi());
      for (std::size_t c = 0; c + 1 < std::size(cuts); ++c)
        o.observe(ladle::make_view(x.data() + cuts[c], cuts[c + 1] - cuts[c]));
    };
    ladle::histogram_observer hw(spec, 512), hp(spec, 512);
    ladle::percentile_observer pw(spec, 99.0, 512), pp(spec, 99.0, 512), pn(spec, 99.0, 512);
    ladle::lp_observer lw(spec), lq(spec);
    hw.observe(ladle::make_view(x.data(), 3001));
    pw.observe(ladle::make_view(x.data(), 3001));
    lw.observe(ladle::make_view(x.data(), 3001));
    pieces(hp);
    pieces(pp);
    pieces(lq);
    CHECK(hp.qparams().scale == hw.qparams().scale);
    CHECK(hp.qparams().zero_point == hw.qparams().zero_point);
    CHECK(pp.qparams().scale == pw.qparams().scale);
    CHECK(pp.qparams().zero_point == pw.qparams().zero_point);
    CHECK(lq.qparams().scale == lw.qparams().scale);
    // Without set_ranges the pieces re-bin: the percentile, read inside bins, moves (the reason
    // set_ranges exists).
    for (std::size_t c = 0; c + 1 < std::size(cuts); ++c)
      pn.observe(ladle::make_view(x.data() + cuts[c], cuts[c + 1] - cuts[c]));
    std::vector<float> a, b, c2, d;
    pn.ranges(a, b);
    pw.ranges(c2, d);
    CHECK((a != c2 || b != d));
  }
  // A constant tensor: set_ranges pads the range exactly as a first batch does.
  const std::vector<float> k(40, 3.0f);
  ladle::percentile_observer kw(quant_spec::affine(8), 99.0, 64), kp(quant_spec::affine(8), 99.0, 64);
  kw.observe(ladle::make_view(k.data(), 40));
  kp.set_ranges({3.0f}, {3.0f});
  kp.observe(ladle::make_view(k.data(), 17));
  kp.observe(ladle::make_view(k.data() + 17, 23));
  CHECK(kp.qparams().scale == kw.qparams().scale);
  // Errors: after data, mismatched sizes, reversed or non-finite ranges, wrong slot count later.
  ladle::histogram_observer late(quant_spec::affine(8));
  late.observe(ladle::make_view(k.data(), 40));
  CHECK_THROWS_WITH_AS(late.set_ranges({0.0f}, {1.0f}), doctest::Contains("set_ranges"), ladle::invalid_argument);
  ladle::histogram_observer fresh(quant_spec::affine(8));
  CHECK_THROWS_AS(fresh.set_ranges({0.0f, 1.0f}, {1.0f}), ladle::invalid_argument);
  CHECK_THROWS_AS(fresh.set_ranges({}, {}), ladle::invalid_argument);
  CHECK_THROWS_WITH_AS(fresh.set_ranges({2.0f}, {1.0f}), doctest::Contains("entry 0"), ladle::invalid_argument);
  CHECK_THROWS_AS(fresh.set_ranges({-INFINITY}, {1.0f}), ladle::invalid_argument);
  fresh.set_ranges({0.0f, 0.0f}, {1.0f, 1.0f});
  CHECK_THROWS_AS(fresh.observe(ladle::make_view(k.data(), 40)), ladle::invalid_argument);  // 1 slot, 2 ranges
}

TEST_CASE("observer: errors") {
  const auto spec = quant_spec::affine(8).per_channel(0);
  ladle::minmax_observer ob(spec);
  CHECK_THROWS_AS(ob.qparams(), ladle::invalid_argument);
  std::vector<float> x(12, 1.0f);
  ob.observe(ladle::make_view(x.data(), {3, 4}));
  CHECK_THROWS_AS(ob.observe(ladle::make_view(x.data(), {4, 3})), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::histogram_observer(spec, 4), ladle::invalid_argument);
  ladle::histogram_observer h(spec, 64), h2(spec, 32);
  h.observe(ladle::make_view(x.data(), {3, 4}));
  h2.observe(ladle::make_view(x.data(), {3, 4}));
  CHECK_THROWS_AS(h.merge(h2), ladle::invalid_argument);
  x[3] = std::nanf("");
  CHECK_THROWS_AS(h.observe(ladle::make_view(x.data(), {3, 4})), ladle::domain_error);
  CHECK_THROWS_AS(ladle::lp_observer(spec, {2.4, 0, 0.8, 256}), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::minmax_observer(quant_spec::affine(1)), ladle::invalid_argument);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
