// Bit-exact agreement with PyTorch 1.13 (quantize_per_tensor / per_channel, fake_quantize_per_*,
// MinMax observers) and with the GPTQ / EQ-Net reference formulas. Fixtures come from
// fixtures/make_affine_fixtures.py.
#include <ladle/quantization/observers.hpp>
#include <ladle/quantization/packing.hpp>
#include <ladle/quantization/quantize.hpp>

#include <doctest/doctest.h>

#include "quantization/fixtures/affine_fixtures.hpp"

#include <cstdint>
#include <cstring>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
std::uint32_t to_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
std::vector<float> floats(const std::uint32_t* b, int n) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = from_bits(b[i]);
  return v;
}

ladle::quant_params params_of(const affine_fixtures::affine_case& c) {
  ladle::quant_params p;
  p.spec = ladle::quant_spec::affine(c.bits, c.is_signed != 0);
  if (c.per_channel) p.spec = p.spec.per_channel(c.axis);
  for (int i = 0; i < c.nslots; ++i) {
    p.scale.push_back(from_bits(c.scale[i]));
    p.zero_point.push_back(c.zp[i]);
  }
  return p;
}

template <bool Simd, class Q>
void check_quantize(const affine_fixtures::affine_case& c) {
  const auto p = params_of(c);
  const std::vector<float> x = floats(c.x, c.n);
  const auto xv = ladle::make_view(x.data(), {c.shape[0], c.shape[1], c.shape[2]});
  std::vector<Q> q(x.size());
  auto qv = ladle::make_view(q.data(), {c.shape[0], c.shape[1], c.shape[2]});
  ladle::detail::aq::quantize_impl<Simd, false>(ladle::seq, xv, p, qv, ladle::seed{0});
  int mismatches = 0;
  for (int i = 0; i < c.n; ++i)
    if (static_cast<int>(q[static_cast<std::size_t>(i)]) != c.q[i]) {
      if (mismatches++ < 5)
        MESSAGE(c.name, ": x=", x[static_cast<std::size_t>(i)], " ladle=", int(q[static_cast<std::size_t>(i)]),
                " torch=", c.q[i]);
    }
  CHECK_MESSAGE(mismatches == 0, c.name);
}

template <bool Simd>
void check_fake(const affine_fixtures::affine_case& c) {
  const auto p = params_of(c);
  const std::vector<float> x = floats(c.x, c.n);
  const auto xv = ladle::make_view(x.data(), {c.shape[0], c.shape[1], c.shape[2]});
  std::vector<float> out(x.size());
  std::vector<std::uint8_t> mask(x.size());
  ladle::detail::aq::fake_quantize_impl<Simd, false>(
      ladle::seq, xv, p, ladle::make_view(out.data(), {c.shape[0], c.shape[1], c.shape[2]}),
      ladle::make_view(mask.data(), {c.shape[0], c.shape[1], c.shape[2]}), ladle::seed{0});
  int mismatches = 0;
  for (int i = 0; i < c.n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    if (to_bits(out[k]) != c.fq[i] || int(mask[k]) != c.mask[i]) {
      if (mismatches++ < 5)
        MESSAGE(c.name, ": x=", x[k], " ladle=", out[k], "/", int(mask[k]), " torch=", from_bits(c.fq[i]),
                "/", c.mask[i]);
    }
  }
  CHECK_MESSAGE(mismatches == 0, c.name);
}

}  // namespace

TEST_CASE("affine: quantize_per_tensor / per_channel match torch 1.13 bit for bit") {
  int checked = 0;
  for (const auto& c : affine_fixtures::cases) {
    if (c.op != 0) continue;
    ++checked;
    if (c.is_signed) {
      check_quantize<true, std::int8_t>(c);
      check_quantize<false, std::int8_t>(c);
      check_quantize<true, std::int32_t>(c);
    } else {
      check_quantize<true, std::uint8_t>(c);
      check_quantize<false, std::uint8_t>(c);
      check_quantize<true, std::int16_t>(c);
    }
  }
  CHECK(checked >= 12);
}

TEST_CASE("affine: fake_quantize_per_tensor / per_channel_affine match torch 1.13 (values and mask)") {
  int checked = 0;
  for (const auto& c : affine_fixtures::cases) {
    if (c.op != 1) continue;
    ++checked;
    check_fake<true>(c);
    check_fake<false>(c);
  }
  CHECK(checked >= 13);
}

TEST_CASE("affine: public entry points agree with the fixture paths (par(2) too)") {
  for (const auto& c : affine_fixtures::cases) {
    if (c.op != 0 || !c.is_signed) continue;
    const auto p = params_of(c);
    const std::vector<float> x = floats(c.x, c.n);
    const auto xv = ladle::make_view(x.data(), {c.shape[0], c.shape[1], c.shape[2]});
    const auto q = ladle::quantize<std::int8_t>(ladle::par(2), xv, p);
    for (int i = 0; i < c.n; ++i) REQUIRE(int(q[i]) == c.q[i]);
  }
}

TEST_CASE("affine: choose_qparams matches torch MinMaxObserver / PerChannelMinMaxObserver") {
  for (const auto& c : affine_fixtures::observer_cases) {
    const std::vector<float> x = floats(c.x, 5 * 33);
    auto spec = c.symmetric ? ladle::quant_spec::symmetric(8, ladle::quant_convention::torch, c.is_signed != 0)
                            : ladle::quant_spec::affine(8, c.is_signed != 0);
    if (c.per_channel) spec = spec.per_channel(0);
    const auto p = ladle::choose_qparams(spec, ladle::make_view(x.data(), {5, 33}));
    REQUIRE(p.count() == c.nslots);
    for (int i = 0; i < c.nslots; ++i) {
      CHECK(to_bits(p.scale[static_cast<std::size_t>(i)]) == c.scale[i]);
      CHECK(p.zero_point[static_cast<std::size_t>(i)] == c.zp[i]);
    }
  }
}

TEST_CASE("affine: 2..7-bit observers and fake quantization match torch's custom ranges") {
  // torch's symmetric quint8 with quant_min/quant_max uses zero point (qmin + qmax) // 2.
  int checked = 0;
  for (const auto& c : affine_fixtures::low_bit_cases) {
    const std::vector<float> x = floats(c.x, 5 * 33);
    const auto xv = ladle::make_view(x.data(), {5, 33});
    auto spec = c.symmetric ? ladle::quant_spec::symmetric(c.bits, ladle::quant_convention::torch,
                                                           c.is_signed != 0)
                            : ladle::quant_spec::affine(c.bits, c.is_signed != 0);
    if (c.per_channel) spec = spec.per_channel(0);
    const auto p = ladle::choose_qparams(spec, xv);
    REQUIRE(p.count() == c.nslots);
    int bad = 0;
    for (int i = 0; i < c.nslots; ++i) {
      bad += to_bits(p.scale[static_cast<std::size_t>(i)]) != c.scale[i];
      bad += p.zero_point[static_cast<std::size_t>(i)] != c.zp[i];
    }
    const auto fq = ladle::fake_quantize(xv, p);
    for (int i = 0; i < 5 * 33; ++i) bad += to_bits(fq[i]) != c.fq[i];
    CHECK_MESSAGE(bad == 0, "bits ", c.bits, " signed ", c.is_signed, " symmetric ", c.symmetric,
                  " per_channel ", c.per_channel, " zp[0] ladle ", p.zero_point[0], " torch ",
                  c.zp[0]);
    ++checked;
  }
  CHECK(checked == 4 * 6 * 2 * 2 * 2);
}

TEST_CASE("affine: GPTQ/BAQ and EQ-Net symmetric conventions match their reference formulas") {
  for (const auto& c : affine_fixtures::convention_cases) {
    const std::vector<float> x = floats(c.x, 5 * 40);
    const auto xv = ladle::make_view(x.data(), {5, 40});
    for (auto conv : {ladle::quant_convention::gptq, ladle::quant_convention::eqnet}) {
      const auto spec = ladle::quant_spec::symmetric(c.bits, conv, /*is_signed=*/false).per_channel(0);
      const auto p = ladle::choose_qparams(spec, xv);
      const auto q = ladle::quantize<std::uint8_t>(xv, p);
      const auto d = ladle::dequantize(q.cview(), p);
      const bool g = conv == ladle::quant_convention::gptq;
      const std::int32_t* want_q = g ? c.gptq_q : c.eqnet_q;
      const std::uint32_t* want_d = g ? c.gptq_deq : c.eqnet_deq;
      int bad_q = 0, bad_d = 0;
      for (int i = 0; i < 200; ++i) {
        bad_q += int(q[i]) != want_q[i];
        // The references compute scale * (q - z) in float too: same single rounding.
        bad_d += to_bits(d[i]) != want_d[i] && !(d[i] == 0.0f && from_bits(want_d[i]) == 0.0f);
      }
      CHECK_MESSAGE(bad_q == 0, "bits ", c.bits, (g ? " gptq" : " eqnet"));
      CHECK_MESSAGE(bad_d == 0, "bits ", c.bits, (g ? " gptq" : " eqnet"));
    }
  }
}

TEST_CASE("affine: moving-average min-max matches torch MovingAverageMinMaxObserver") {
  // Declared in observers.hpp; kept here with the other torch fixtures.
  ladle::moving_average_minmax_observer ob(ladle::quant_spec::affine(8, false), 0.01f);
  for (const auto* b : {affine_fixtures::ma_batch0, affine_fixtures::ma_batch1, affine_fixtures::ma_batch2}) {
    const std::vector<float> x = floats(b, 64);
    ob.observe(ladle::make_view(x.data(), {4, 16}));
  }
  CHECK(to_bits(ob.min()[0]) == affine_fixtures::ma_min);
  CHECK(to_bits(ob.max()[0]) == affine_fixtures::ma_max);
  const auto p = ob.qparams();
  CHECK(to_bits(p.scale[0]) == affine_fixtures::ma_scale);
  CHECK(p.zero_point[0] == affine_fixtures::ma_zp);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
