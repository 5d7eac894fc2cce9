// Affine / symmetric quantizers: hand-computed goldens per convention, round-trip bounds,
// granularities, dtypes, SIMD vs scalar, stochastic rounding, seq vs par, error paths.
#include <ladle/quantization/observers.hpp>
#include <ladle/quantization/packing.hpp>
#include <ladle/quantization/quantize.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::quant_convention;
using ladle::quant_spec;

namespace {

std::vector<float> gaussian(ladle::index_t n, std::uint64_t seed, float sigma = 1.0f) {
  ladle::philox g(ladle::seed{seed});
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = static_cast<float>(ladle::normal(g)) * sigma;
  return v;
}

ladle::quant_params manual(const quant_spec& s, std::vector<float> scale, std::vector<std::int32_t> z) {
  ladle::quant_params p;
  p.spec = s;
  p.scale = std::move(scale);
  p.zero_point = std::move(z);
  return p;
}

template <class Q>
std::vector<int> codes_of(const quant_spec& spec, const std::vector<float>& x) {
  auto xv = ladle::make_view(x.data(), x.size());
  const auto p = ladle::choose_qparams(spec, xv);
  const auto q = ladle::quantize<Q>(xv, p);
  return std::vector<int>(q.begin(), q.end());
}

}  // namespace

TEST_CASE("affine: hand-computed goldens for each convention (4-bit)") {
  // Range [-2, 5.5]: affine Δ = 7.5/15 = 0.5, z = 4. Ties 0.25 -> 0.5 -> 0, 0.75 -> 1.5 -> 2.
  {
    const std::vector<float> x = {-2.0f, 0.0f, 5.5f, 0.25f, 0.75f, 1.0f};
    auto xv = ladle::make_view(x.data(), x.size());
    const auto p = ladle::choose_qparams(quant_spec::affine(4), xv);
    CHECK(p.scale[0] == 0.5f);
    CHECK(p.zero_point[0] == 4);
    CHECK(codes_of<std::uint8_t>(quant_spec::affine(4), x) == std::vector<int>{0, 4, 15, 4, 6, 6});
    CHECK(codes_of<std::int8_t>(quant_spec::affine(4, true), x) == std::vector<int>{-8, -4, 7, -4, -2, -2});
  }
  // amax 7.5. torch/full: Δ = 7.5 / 7.5 = 1, signed codes [-8, 7], z = 0.
  const std::vector<float> x = {-7.5f, 7.5f, 2.5f, -0.5f, 0.0f, 3.5f};
  CHECK(codes_of<std::int8_t>(quant_spec::symmetric(4), x) == std::vector<int>{-8, 7, 2, 0, 0, 4});
  // Unsigned torch symmetric below 8 bits: z = (0 + 15) // 2 = 7, as torch's observers give
  // quint8 with quant_min = 0, quant_max = 15.
  CHECK(codes_of<std::uint8_t>(quant_spec::symmetric(4, quant_convention::torch, false), x) ==
        std::vector<int>{0, 15, 9, 7, 7, 11});
  // Narrow range: Δ = 7.5 / 7, codes ±7.
  {
    const auto s = quant_spec::symmetric(4).with_narrow_range();
    CHECK(s.qmin() == -7);
    CHECK(s.qmax() == 7);
    const std::vector<float> y = {-7.0f, 7.0f, 1.5f, -3.5f, 0.0f};
    auto yv = ladle::make_view(y.data(), y.size());
    const auto p = ladle::choose_qparams(s, yv);
    CHECK(p.scale[0] == 1.0f);
    CHECK(codes_of<std::int8_t>(s, y) == std::vector<int>{-7, 7, 2, -4, 0});
  }
  // GPTQ / BAQ: Δ = 2·7.5/15 = 1, z = 8 (unsigned), division.
  CHECK(codes_of<std::uint8_t>(quant_spec::symmetric(4, quant_convention::gptq, false), x) ==
        std::vector<int>{0, 15, 10, 8, 8, 12});
  // EQ-Net: same Δ, z = 7: -7.5 -> -8 + 7 clamps to 0, 7.5 -> 8 + 7 = 15.
  CHECK(codes_of<std::uint8_t>(quant_spec::symmetric(4, quant_convention::eqnet, false), x) ==
        std::vector<int>{0, 15, 9, 7, 7, 11});
  // Signed EQ-Net codes are the same grid shifted by -8 (z = -1).
  CHECK(codes_of<std::int8_t>(quant_spec::symmetric(4, quant_convention::eqnet, true), x) ==
        std::vector<int>{-8, 7, 1, -1, -1, 3});
  // Zero-range data: torch floors Δ at eps, GPTQ uses the range [-1, 1].
  const auto t = ladle::qparams_for_range(quant_spec::symmetric(8), 0.0f, 0.0f);
  CHECK(t.first == FLT_EPSILON);
  const auto g = ladle::qparams_for_range(quant_spec::symmetric(4, quant_convention::gptq, false), 0.0f, 0.0f);
  CHECK(g.first == 2.0f / 15.0f);
  CHECK(g.second == 8);
}

TEST_CASE("affine: round trip: grid values exact, |error| <= Δ/2 inside the range, 0 -> 0") {
  for (int bits : {2, 3, 4, 6, 8, 16}) {
    for (const quant_spec base : {quant_spec::affine(bits), quant_spec::affine(bits, true),
                                  quant_spec::symmetric(bits), quant_spec::symmetric(bits, quant_convention::gptq),
                                  quant_spec::symmetric(bits, quant_convention::eqnet, false),
                                  quant_spec::symmetric(bits).with_narrow_range()}) {
      std::vector<float> x = gaussian(1000, 7 + static_cast<std::uint64_t>(bits), 3.0f);
      x[0] = 0.0f;
      x[1] = 0.3f;  // keep a positive value so the affine range is not all negative
      auto xv = ladle::make_view(x.data(), x.size());
      const auto p = ladle::choose_qparams(base, xv);
      const float d = p.scale[0];
      const auto q = ladle::quantize<std::int32_t>(xv, p);
      const auto r = ladle::dequantize(q.cview(), p);
      CHECK(r[0] == 0.0f);
      const float lo = static_cast<float>(base.qmin() - p.zero_point[0]) * d;
      const float hi = static_cast<float>(base.qmax() - p.zero_point[0]) * d;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (x[i] >= lo && x[i] <= hi) REQUIRE(std::abs(r[i] - x[i]) <= 0.5f * d + 4 * FLT_EPSILON * std::abs(x[i]));
        // Grid values come back exactly.
        const auto r2 = ladle::quantize<std::int32_t>(ladle::make_view(&r[i], 1), p);
        REQUIRE(r2[0] == q[i]);
      }
    }
  }
}

TEST_CASE("affine: per-channel beats per-tensor by orders of magnitude when row scales span 100x") {
  const ladle::index_t rows = 64, cols = 256;
  std::vector<float> w = gaussian(rows * cols, 3);
  for (ladle::index_t r = 0; r < rows; ++r)
    for (ladle::index_t c = 0; c < cols; ++c)
      w[static_cast<std::size_t>(r * cols + c)] *= std::pow(100.0f, static_cast<float>(r) / (rows - 1)) * 0.01f;
  auto wv = ladle::make_view(w.data(), {rows, cols});
  // Mean over rows of the row's relative MSE (error power / signal power): what a small row loses
  // when it shares the big rows' step.
  auto mse = [&](const quant_spec& s) {
    const auto p = ladle::choose_qparams(s, wv);
    const auto f = ladle::fake_quantize(wv, p);
    double total = 0;
    for (ladle::index_t r = 0; r < rows; ++r) {
      double e = 0, sig = 0;
      for (ladle::index_t c = 0; c < cols; ++c) {
        const double v = w[static_cast<std::size_t>(r * cols + c)], d = f(r, c) - v;
        e += d * d;
        sig += v * v;
      }
      total += e / sig;
    }
    return total / double(rows);
  };
  const double pt = mse(quant_spec::symmetric(8));
  const double pc = mse(quant_spec::symmetric(8).per_channel(0));
  const double pg = mse(quant_spec::symmetric(8).per_group(32));
  MESSAGE("per-tensor ", pt, " per-channel ", pc, " per-group(32) ", pg);
  CHECK(pt / pc > 100.0);
  CHECK(pg <= pc);
}

TEST_CASE("affine: per-channel on any axis and per-group equal slice-wise per-tensor quantization") {
  const ladle::index_t a = 3, b = 4, c = 8;
  const std::vector<float> x = gaussian(a * b * c, 11);
  const auto xv = ladle::make_view(x.data(), {a, b, c});
  for (int axis : {0, 1, 2, -1}) {
    const auto spec = quant_spec::affine(8).per_channel(axis);
    const auto p = ladle::choose_qparams(spec, xv);
    const auto q = ladle::quantize<std::uint8_t>(xv, p);
    const int ax = axis < 0 ? axis + 3 : axis;
    const ladle::index_t ext[3] = {a, b, c};
    REQUIRE(p.count() == ext[ax]);
    for (ladle::index_t ch = 0; ch < ext[ax]; ++ch) {
      std::vector<float> slice;
      std::vector<ladle::index_t> where;
      for (ladle::index_t i = 0; i < a; ++i)
        for (ladle::index_t j = 0; j < b; ++j)
          for (ladle::index_t k = 0; k < c; ++k) {
            const ladle::index_t idx[3] = {i, j, k};
            if (idx[ax] != ch) continue;
            slice.push_back(x[static_cast<std::size_t>((i * b + j) * c + k)]);
            where.push_back((i * b + j) * c + k);
          }
      auto sv = ladle::make_view(slice.data(), slice.size());
      const auto ps = ladle::choose_qparams(quant_spec::affine(8), sv);
      CHECK(ps.scale[0] == p.scale[static_cast<std::size_t>(ch)]);
      const auto qs = ladle::quantize<std::uint8_t>(sv, ps);
      for (std::size_t k = 0; k < slice.size(); ++k) REQUIRE(qs[static_cast<ladle::index_t>(k)] == q[where[k]]);
    }
  }
  // Per-group: groups of 4 along the last axis.
  const auto pg = ladle::choose_qparams(quant_spec::symmetric(4).per_group(4), xv);
  REQUIRE(pg.count() == a * b * c / 4);
  const auto qg = ladle::quantize<std::int8_t>(xv, pg);
  for (ladle::index_t g = 0; g < pg.count(); ++g) {
    auto gv = ladle::make_view(x.data() + g * 4, 4);
    const auto ps = ladle::choose_qparams(quant_spec::symmetric(4), gv);
    const auto qs = ladle::quantize<std::int8_t>(gv, ps);
    for (ladle::index_t k = 0; k < 4; ++k) REQUIRE(qs[k] == qg[g * 4 + k]);
  }
}

TEST_CASE("affine: SIMD kernels equal the scalar reference") {
  const ladle::index_t rows = 37, cols = 301;  // odd sizes exercise the tails
  std::vector<float> x = gaussian(rows * cols, 5, 4.0f);
  for (std::size_t i = 0; i < x.size(); i += 17) x[i] = std::nearbyint(x[i] * 8.0f) / 8.0f + 0.0625f;  // ties
  const auto xv = ladle::make_view(x.data(), {rows, cols});
  for (const quant_spec base : {quant_spec::affine(8), quant_spec::symmetric(4, quant_convention::gptq),
                                quant_spec::affine(3, true).with_convention(quant_convention::eqnet)}) {
    for (const quant_spec s : {base, base.per_channel(0), base.per_channel(1), base.per_group(7)}) {
      const auto p = ladle::choose_qparams(s, xv);
      std::vector<std::int16_t> qa(x.size()), qb(x.size());
      std::vector<float> fa(x.size()), fb(x.size()), da(x.size()), db(x.size());
      std::vector<std::uint8_t> ma(x.size()), mb(x.size());
      auto q1 = ladle::make_view(qa.data(), {rows, cols});
      auto q2 = ladle::make_view(qb.data(), {rows, cols});
      const bool div = s.division == ladle::scale_division::divide;
      using namespace ladle::detail::aq;
      if (div) {
        quantize_impl<true, true>(ladle::seq, xv, p, q1, ladle::seed{0});
        quantize_impl<false, true>(ladle::seq, xv, p, q2, ladle::seed{0});
        fake_quantize_impl<true, true>(ladle::seq, xv, p, ladle::make_view(fa.data(), {rows, cols}),
                                       ladle::make_view(ma.data(), {rows, cols}), ladle::seed{0});
        fake_quantize_impl<false, true>(ladle::seq, xv, p, ladle::make_view(fb.data(), {rows, cols}),
                                        ladle::make_view(mb.data(), {rows, cols}), ladle::seed{0});
      } else {
        quantize_impl<true, false>(ladle::seq, xv, p, q1, ladle::seed{0});
        quantize_impl<false, false>(ladle::seq, xv, p, q2, ladle::seed{0});
        fake_quantize_impl<true, false>(ladle::seq, xv, p, ladle::make_view(fa.data(), {rows, cols}),
                                        ladle::make_view(ma.data(), {rows, cols}), ladle::seed{0});
        fake_quantize_impl<false, false>(ladle::seq, xv, p, ladle::make_view(fb.data(), {rows, cols}),
                                         ladle::make_view(mb.data(), {rows, cols}), ladle::seed{0});
      }
      dequantize_impl<true>(ladle::seq, ladle::as_const(q1), p, ladle::make_view(da.data(), {rows, cols}));
      dequantize_impl<false>(ladle::seq, ladle::as_const(q1), p, ladle::make_view(db.data(), {rows, cols}));
      CHECK(qa == qb);
      CHECK(fa == fb);
      CHECK(ma == mb);
      CHECK(da == db);
    }
  }
}

TEST_CASE("affine: fast paths (whole-vector groups, direct packing, streaming stores) equal the scalar reference") {
  // Widths divisible by every lane count, so groups of 16 .. 96 take the fused group kernel and
  // rows take the in-register narrowing; NaN/Inf under saturate and ties are mixed in.
  const ladle::index_t rows = 24, cols = 192;
  std::vector<float> x = gaussian(rows * cols, 23, 3.0f);
  for (std::size_t i = 0; i < x.size(); i += 13) x[i] = std::nearbyint(x[i] * 4.0f) / 4.0f + 0.125f;
  x[5] = std::nanf("");
  x[700] = std::numeric_limits<float>::infinity();
  x[1901] = -std::numeric_limits<float>::infinity();
  const auto xv = ladle::make_view(x.data(), {rows, cols});
  using namespace ladle::detail::aq;
  for (int bits : {2, 3, 4, 5, 6, 8}) {
    for (const bool sym : {true, false}) {
      const quant_spec base = (sym ? quant_spec::symmetric(bits) : quant_spec::affine(bits)).saturate_nonfinite();
      for (const quant_spec s : {base, base.per_channel(0), base.per_channel(1), base.per_group(16),
                                 base.per_group(48), base.per_group(64), base.per_group(96)}) {
        CAPTURE(bits);
        CAPTURE(sym);
        const auto p = ladle::choose_qparams(s, xv);
        const ladle::index_t n = rows * cols;
        // codes, every code type that holds the range
        std::vector<std::int16_t> qa(x.size()), qb(x.size());
        quantize_impl<true, false>(ladle::seq, xv, p, ladle::make_view(qa.data(), {rows, cols}), ladle::seed{0});
        quantize_impl<false, false>(ladle::seq, xv, p, ladle::make_view(qb.data(), {rows, cols}), ladle::seed{0});
        REQUIRE(qa == qb);
        std::vector<std::int8_t> q8(x.size());
        std::vector<std::uint8_t> u8(x.size());
        if (sym) {
          quantize_impl<true, false>(ladle::par(2), xv, p, ladle::make_view(q8.data(), {rows, cols}), ladle::seed{0});
          for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(q8[i] == qb[i]);
        } else {
          quantize_impl<true, false>(ladle::par(2), xv, p, ladle::make_view(u8.data(), {rows, cols}), ladle::seed{0});
          for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(u8[i] == qb[i]);
        }
        // packed codes, straight from registers vs the scalar kernel + pack
        std::vector<std::uint8_t> pa(static_cast<std::size_t>(ladle::packed_size(n, bits)), 0xEE), pb = pa;
        quantize_packed_impl<true, false>(ladle::seq, xv, p, ladle::make_view(pa.data(), pa.size()), ladle::seed{0});
        quantize_packed_impl<false, false>(ladle::seq, xv, p, ladle::make_view(pb.data(), pb.size()), ladle::seed{0});
        REQUIRE(pa == pb);
        // dequantize and fake_quantize, with and without streaming stores, into aligned and
        // misaligned (one float off) outputs
        for (const std::size_t stream_min : {std::size_t(0), std::size_t(-1)}) {
          for (const ladle::index_t shift : {0, 1}) {
            std::vector<float> da(x.size() + 1), db(x.size() + 1), fa(x.size() + 1), fb(x.size() + 1);
            std::vector<std::uint8_t> ma(x.size()), mb(x.size());
            auto view = [&](std::vector<float>& v) { return ladle::make_view(v.data() + shift, {rows, cols}); };
            dequantize_impl<true>(ladle::seq, ladle::as_const(ladle::make_view(qa.data(), {rows, cols})), p, view(da), stream_min);
            dequantize_impl<false>(ladle::seq, ladle::as_const(ladle::make_view(qa.data(), {rows, cols})), p, view(db), stream_min);
            REQUIRE(da == db);
            fake_quantize_impl<true, false>(ladle::par(2), xv, p, view(fa), ladle::make_view(ma.data(), {rows, cols}),
                                            ladle::seed{0}, stream_min);
            fake_quantize_impl<false, false>(ladle::seq, xv, p, view(fb), ladle::make_view(mb.data(), {rows, cols}),
                                             ladle::seed{0}, stream_min);
            REQUIRE(fa == fb);
            REQUIRE(ma == mb);
          }
        }
      }
    }
  }
  // Under the default policy the fused paths still report the NaN.
  const auto p = ladle::choose_qparams(quant_spec::symmetric(4).per_group(64).saturate_nonfinite(), xv);
  auto pe = p;
  pe.spec.nonfinite = ladle::nonfinite_policy::error;
  std::vector<std::uint8_t> packed(static_cast<std::size_t>(ladle::packed_size(rows * cols, 4)));
  CHECK_THROWS_AS(ladle::quantize_packed_into(xv, pe, ladle::make_view(packed.data(), packed.size())), ladle::domain_error);
  std::vector<float> f(x.size());
  CHECK_THROWS_AS(ladle::fake_quantize_into(xv, pe, ladle::make_view(f.data(), {rows, cols})), ladle::domain_error);
}

TEST_CASE("affine: half and bfloat16 inputs and outputs go through float exactly") {
  const std::vector<float> xf = gaussian(500, 9, 2.0f);
  std::vector<ladle::bfloat16> xb(xf.size());
  std::vector<ladle::half> xh(xf.size());
  std::vector<float> xb_f(xf.size()), xh_f(xf.size());
  for (std::size_t i = 0; i < xf.size(); ++i) {
    xb[i] = ladle::from_float<ladle::bfloat16>(xf[i]);
    xh[i] = ladle::from_float<ladle::half>(xf[i]);
    xb_f[i] = ladle::to_float(xb[i]);
    xh_f[i] = ladle::to_float(xh[i]);
  }
  const auto spec = quant_spec::affine(8).per_group(50);
  const auto p = ladle::choose_qparams(spec, ladle::make_view(xb.data(), {10, 50}));
  const auto pf = ladle::choose_qparams(spec, ladle::make_view(xb_f.data(), {10, 50}));
  CHECK(p.scale == pf.scale);
  const auto qb = ladle::quantize<std::uint8_t>(ladle::make_view(xb.data(), {10, 50}), p);
  const auto qf = ladle::quantize<std::uint8_t>(ladle::make_view(xb_f.data(), {10, 50}), p);
  const auto qh = ladle::quantize<std::uint8_t>(ladle::make_view(xh.data(), {10, 50}), p);
  const auto qhf = ladle::quantize<std::uint8_t>(ladle::make_view(xh_f.data(), {10, 50}), p);
  for (ladle::index_t i = 0; i < 500; ++i) {
    REQUIRE(qb[i] == qf[i]);
    REQUIRE(qh[i] == qhf[i]);
  }
  const auto fh = ladle::fake_quantize(ladle::make_view(xh.data(), {10, 50}), p);
  const auto ff = ladle::fake_quantize(ladle::make_view(xh_f.data(), {10, 50}), p);
  const auto db = ladle::dequantize<ladle::bfloat16>(qb.cview(), p);
  const auto df = ladle::dequantize<float>(qb.cview(), p);
  for (ladle::index_t i = 0; i < 500; ++i) {
    REQUIRE(ladle::to_float(fh[i]) == ladle::to_float(ladle::from_float<ladle::half>(ff[i])));
    REQUIRE(ladle::to_float(db[i]) == ladle::to_float(ladle::from_float<ladle::bfloat16>(df[i])));
  }
}

TEST_CASE("affine: stochastic rounding is unbiased, on neighbouring codes, and thread-count independent") {
  const ladle::index_t n = 40000;
  std::vector<float> x(static_cast<std::size_t>(n), 0.3f);  // 0.3 / 0.1: 30% up, 70% down of 3 -> between 2 and 3?
  for (ladle::index_t i = 0; i < n; ++i) x[static_cast<std::size_t>(i)] = 0.37f;
  const auto spec = quant_spec::symmetric(8).stochastic();
  const auto p = manual(spec, {0.1f}, {0});
  const auto xv = ladle::make_view(x.data(), {200, 200});
  const auto q1 = ladle::quantize<std::int8_t>(xv, p, ladle::seed{5});
  const auto q2 = ladle::quantize<std::int8_t>(ladle::par(2), xv, p, ladle::seed{5});
  const auto q3 = ladle::quantize<std::int8_t>(xv, p, ladle::seed{6});
  double mean = 0;
  int differ = 0;
  for (ladle::index_t i = 0; i < n; ++i) {
    REQUIRE((q1[i] == 3 || q1[i] == 4));
    REQUIRE(q1[i] == q2[i]);
    differ += q1[i] != q3[i];
    mean += q1[i];
  }
  mean /= double(n);
  CHECK(mean == doctest::Approx(3.7).epsilon(0.01));
  CHECK(differ > 0);
  // fake_quantize with the same seed draws the same codes.
  const auto f = ladle::fake_quantize(xv, p, ladle::seed{5});
  for (ladle::index_t i = 0; i < n; ++i) REQUIRE(f[i] == static_cast<float>(q1[i]) * 0.1f);
  // Per-channel slices use the flat element index: same draws whatever the granularity.
  const auto pc = manual(spec.per_channel(0), std::vector<float>(200, 0.1f), std::vector<std::int32_t>(200, 0));
  const auto q4 = ladle::quantize<std::int8_t>(ladle::par(2), xv, pc, ladle::seed{5});
  for (ladle::index_t i = 0; i < n; ++i) REQUIRE(q4[i] == q1[i]);
}

TEST_CASE("affine: seq and par(2) give identical results for every granularity") {
  const std::vector<float> x = gaussian(300 * 256, 13);
  const auto xv = ladle::make_view(x.data(), {300, 256});
  for (const quant_spec s : {quant_spec::affine(8), quant_spec::affine(8).per_channel(0),
                             quant_spec::symmetric(4).per_group(64), quant_spec::affine(8).per_channel(1)}) {
    const auto p1 = ladle::choose_qparams(s, xv);
    const auto p2 = ladle::choose_qparams(ladle::par(2), s, xv);
    CHECK(p1.scale == p2.scale);
    CHECK(p1.zero_point == p2.zero_point);
    const auto a = ladle::quantize<std::int16_t>(xv, p1);
    const auto b = ladle::quantize<std::int16_t>(ladle::par(2), xv, p1);
    const auto fa = ladle::fake_quantize(xv, p1);
    const auto fb = ladle::fake_quantize(ladle::par(2), xv, p1);
    for (ladle::index_t i = 0; i < a.size(); ++i) {
      REQUIRE(a[i] == b[i]);
      REQUIRE(fa[i] == fb[i]);
    }
  }
}

TEST_CASE("affine: quantize_packed_into equals pack_codes(quantize)") {
  const std::vector<float> x = gaussian(64 * 192, 17);
  const auto xv = ladle::make_view(x.data(), {64, 192});
  for (int bits : {2, 3, 4, 6, 8}) {
    for (const quant_spec s : {quant_spec::symmetric(bits).per_group(64), quant_spec::affine(bits).per_channel(0),
                               quant_spec::affine(bits, true), quant_spec::symmetric(bits).per_group(3)}) {
      const auto p = ladle::choose_qparams(s, xv);
      ladle::tensor<std::uint8_t, 1> want;
      if (s.is_signed) {
        const auto q = ladle::quantize<std::int16_t>(xv, p);
        want = ladle::pack_codes(ladle::vector_view<const std::int16_t>(q.data(), {q.size()}), bits);
      } else {
        const auto q = ladle::quantize<std::uint16_t>(xv, p);
        want = ladle::pack_codes(ladle::vector_view<const std::uint16_t>(q.data(), {q.size()}), bits);
      }
      std::vector<std::uint8_t> got(static_cast<std::size_t>(ladle::packed_size(64 * 192, bits)));
      ladle::quantize_packed_into(ladle::par(2), xv, p, ladle::make_view(got.data(), got.size()));
      for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == want[static_cast<ladle::index_t>(i)]);
    }
  }
}

TEST_CASE("affine: NaN / Inf policy") {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {1.0f, std::nanf(""), inf, -inf, -1.0f};
  const auto xv = ladle::make_view(x.data(), x.size());
  const auto p = manual(quant_spec::affine(8), {0.01f}, {128});
  std::vector<std::uint8_t> q(x.size());
  CHECK_THROWS_AS(ladle::quantize_into(xv, p, ladle::make_view(q.data(), q.size())), ladle::domain_error);
  CHECK_THROWS_AS(ladle::fake_quantize(xv, p), ladle::domain_error);
  CHECK_THROWS_AS(ladle::choose_qparams(quant_spec::affine(8), xv), ladle::domain_error);
  auto ps = p;
  ps.spec = ps.spec.saturate_nonfinite();
  ladle::quantize_into(xv, ps, ladle::make_view(q.data(), q.size()));
  CHECK(q == std::vector<std::uint8_t>{228, 128, 255, 0, 28});
  const auto f = ladle::fake_quantize(xv, ps);
  CHECK(f[1] == 0.0f);
  CHECK(f[2] == 127 * 0.01f);
  // Observers skip non-finite values under saturate.
  const auto pq = ladle::choose_qparams(quant_spec::affine(8).saturate_nonfinite(), xv);
  CHECK(pq.scale[0] == 2.0f / 255.0f);
}

TEST_CASE("affine: bad input raises ladle::error") {
  std::vector<float> x(12, 1.0f);
  const auto xv = ladle::make_view(x.data(), {3, 4});
  for (int bits : {0, 1, 9, 12, 17, 32})
    CHECK_THROWS_AS(ladle::choose_qparams(quant_spec::affine(bits), xv), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::choose_qparams(quant_spec::affine(8).per_group(3), xv), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::choose_qparams(quant_spec::affine(8).per_group(0), xv), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::choose_qparams(quant_spec::affine(8).per_channel(2), xv), ladle::invalid_argument);
  const auto p = ladle::choose_qparams(quant_spec::affine(8), xv);  // unsigned 8-bit codes
  std::vector<std::int8_t> q8(12);
  CHECK_THROWS_AS(ladle::quantize_into(xv, p, ladle::make_view(q8.data(), {3, 4})), ladle::invalid_argument);
  std::vector<std::uint8_t> qu(12);
  CHECK_THROWS_AS(ladle::quantize_into(xv, p, ladle::make_view(qu.data(), {4, 3})), ladle::invalid_argument);
  const auto p16 = ladle::choose_qparams(quant_spec::affine(16), xv);
  CHECK_THROWS_AS(ladle::quantize_into(xv, p16, ladle::make_view(qu.data(), {3, 4})), ladle::invalid_argument);
  std::vector<std::uint16_t> q16(12);
  ladle::quantize_into(xv, p16, ladle::make_view(q16.data(), {3, 4}));
  // Parameter table problems.
  auto bad = p;
  bad.scale[0] = 0.0f;
  CHECK_THROWS_AS(ladle::quantize_into(xv, bad, ladle::make_view(qu.data(), {3, 4})), ladle::invalid_argument);
  bad.scale[0] = 1e-40f;  // subnormal: its reciprocal overflows
  CHECK_THROWS_AS(ladle::quantize_into(xv, bad, ladle::make_view(qu.data(), {3, 4})), ladle::invalid_argument);
  bad = p;
  bad.zero_point[0] = 300;
  CHECK_THROWS_AS(ladle::quantize_into(xv, bad, ladle::make_view(qu.data(), {3, 4})), ladle::invalid_argument);
  const auto pc = ladle::choose_qparams(quant_spec::affine(8).per_channel(0), xv);
  std::vector<float> y(20, 1.0f);
  CHECK_THROWS_AS(ladle::quantize<std::uint8_t>(ladle::make_view(y.data(), {5, 4}), pc), ladle::invalid_argument);
  // Non-contiguous input and device memory.
  const auto strided = ladle::make_view(x.data(), {3, 2}, {4, 2});
  CHECK_THROWS_AS(ladle::choose_qparams(quant_spec::affine(8), strided), ladle::invalid_argument);
  const auto dev = ladle::tensor_view<float, 2>(x.data(), {3, 4}, ladle::device::cuda(0));
  CHECK_THROWS_AS(ladle::choose_qparams(quant_spec::affine(8), dev), ladle::invalid_argument);
  // Range errors.
  CHECK_THROWS_AS(ladle::qparams_for_range(quant_spec::affine(8), 2.0f, 1.0f), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::qparams_for_range(quant_spec::affine(8), 0.0f, std::nanf("")), ladle::domain_error);
  auto eps0 = quant_spec::affine(8);
  eps0.eps = 0.0f;
  CHECK_THROWS_AS(ladle::qparams_for_range(eps0, 0.0f, 1.0f), ladle::invalid_argument);
  // fake_quantize: partial overlap of out and x.
  std::vector<float> z(13, 0.5f);
  const auto p1 = ladle::choose_qparams(quant_spec::affine(8), ladle::make_view(z.data(), 12));
  CHECK_THROWS_AS(ladle::fake_quantize_into(ladle::make_view(z.data(), 12), p1, ladle::make_view(z.data() + 1, 12)),
                  ladle::invalid_argument);
  ladle::fake_quantize_into(ladle::make_view(z.data(), 12), p1, ladle::make_view(z.data(), 12));  // in place is fine
}

}  // namespace LADLE_TEST_FILE
}  // namespace
