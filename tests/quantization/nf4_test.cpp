// NF4: exact levels, nearest-level encoding, packing order, double quantization, round trip.
#include <ladle/core/random.hpp>
#include <ladle/quantization/formats/nf4.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

// Nearest level in double, ties to the lower level (the documented rule).
int ref_code(double y) {
  const auto& l = ladle::nf4_levels();
  int best = 0;
  for (int k = 1; k < 16; ++k)
    if (std::fabs(y - l[static_cast<std::size_t>(k)]) < std::fabs(y - l[static_cast<std::size_t>(best)])) best = k;
  return best;
}

int code_at(const ladle::nf4_tensor& q, ladle::index_t i) {
  const std::uint8_t byte = q.codes.data()[i / 2];
  return i % 2 == 0 ? byte >> 4 : byte & 0xf;
}

std::vector<float> gaussian(std::size_t n, std::uint64_t s, double scale = 1.0) {
  ladle::philox g(ladle::seed{s});
  std::vector<float> x(n);
  for (auto& v : x) v = static_cast<float>(ladle::normal(g) * scale);
  return x;
}

}  // namespace

TEST_CASE("nf4 levels are bitsandbytes' constants") {
  const auto& l = ladle::nf4_levels();
  // The float32 values as printed by bitsandbytes (get_4bit_type("nf4")).
  const double bnb[16] = {-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                          -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                          0.07958029955625534, 0.16093020141124725, 0.24611230194568634,
                          0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                          0.7229568362236023, 1.0};
  for (std::size_t k = 0; k < 16; ++k) {
    CHECK(static_cast<double>(l[k]) == static_cast<double>(static_cast<float>(bnb[k])));
    if (k > 0) CHECK(l[k] > l[k - 1]);
  }
  CHECK(l[7] == 0.0f);
  // QLoRA's construction: the positive half are quantiles of N(0,1) at linspace(0.5, delta, 9),
  // normalised by the largest. Check the first positive level to 1e-6 (erfinv via bisection).
  const double delta = 0.5 * (1.0 / 32 + 1.0 / 30);
  const double p_hi = 1 - delta;
  auto quantile = [](double p) {
    double lo = -10, hi = 10;
    for (int i = 0; i < 200; ++i) {
      const double mid = 0.5 * (lo + hi);
      (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
  };
  const double p1 = 0.5 + (p_hi - 0.5) / 8.0;  // second point of linspace(0.5, p_hi, 9)
  CHECK(quantile(p1) / quantile(p_hi) == doctest::Approx(l[8]).epsilon(1e-5));
}

TEST_CASE("nf4 encode: levels map to themselves, midpoints go to the lower level") {
  const auto& l = ladle::nf4_levels();
  for (int k = 0; k < 16; ++k) CHECK(ladle::nf4_encode_value(l[static_cast<std::size_t>(k)]) == k);
  for (int k = 0; k < 15; ++k) {
    const float mid = (l[static_cast<std::size_t>(k)] + l[static_cast<std::size_t>(k) + 1]) * 0.5f;
    CHECK(ladle::nf4_encode_value(mid) == k);
    CHECK(ladle::nf4_encode_value(std::nextafter(mid, 2.0f)) == k + 1);
  }
  CHECK(ladle::nf4_encode_value(-1.5f) == 0);
  CHECK(ladle::nf4_encode_value(1.5f) == 15);
  CHECK(ladle::nf4_encode_value(-0.0f) == 7);
}

TEST_CASE("nf4 golden block: codes, absmax, high-nibble-first packing") {
  std::vector<float> x(64, 0.0f);
  x[0] = 2.0f;                // absmax -> code 15
  x[1] = -2.0f;               // -> 0
  x[2] = 0.16093020141124725f * 2.0f;  // level 9
  x[3] = -0.09105003625154495f * 2.0f; // level 6
  x[4] = 0.03f;               // 0.015 < 0.0398 -> 7
  x[5] = 0.1f;                // 0.05 -> nearer 0.0796 -> 8
  auto q = ladle::nf4_quantize(ladle::make_view(x.data(), 64));
  CHECK(q.absmax.data()[0] == 2.0f);
  CHECK(q.codes.data()[0] == 0xf0);
  CHECK(q.codes.data()[1] == 0x96);
  CHECK(q.codes.data()[2] == 0x78);
  CHECK(q.codes.data()[3] == 0x77);
  CHECK(q.codes.extent(0) == 32);
  std::vector<float> out(64);
  ladle::nf4_dequantize(q, ladle::make_view(out.data(), 64));
  CHECK(out[0] == 2.0f);
  CHECK(out[1] == -2.0f);
  CHECK(out[2] == ladle::nf4_levels()[9] * 2.0f);
  CHECK(out[4] == 0.0f);
  // All-zero block.
  std::vector<float> z(10, 0.0f);
  auto qz = ladle::nf4_quantize(ladle::make_view(z.data(), 10), {4});
  CHECK(qz.blocks() == 3);
  for (ladle::index_t i = 0; i < 10; ++i) CHECK(code_at(qz, i) == 7);
  CHECK(qz.codes.data()[4] == 0x77);
}

TEST_CASE("nf4 on Gaussian data: reference codes, error bound, beats 4-bit absmax int") {
  const std::size_t n = 64 * 257 + 10;  // a partial last block
  auto x = gaussian(n, 3);
  auto q = ladle::nf4_quantize(ladle::make_view(x.data(), static_cast<ladle::index_t>(n)));
  CHECK(q.blocks() == 258);
  int mismatches = 0;
  for (ladle::index_t b = 0; b < q.blocks(); ++b) {
    double amax = 0;
    const ladle::index_t begin = b * 64, end = std::min<ladle::index_t>(begin + 64, static_cast<ladle::index_t>(n));
    for (ladle::index_t i = begin; i < end; ++i) amax = std::max(amax, std::fabs(double(x[static_cast<std::size_t>(i)])));
    CHECK(static_cast<double>(q.absmax.data()[b]) == amax);
    for (ladle::index_t i = begin; i < end; ++i)
      if (code_at(q, i) != ref_code(double(x[static_cast<std::size_t>(i)]) / amax)) ++mismatches;
  }
  CHECK(mismatches == 0);

  std::vector<float> out(n);
  ladle::nf4_dequantize(q, ladle::make_view(out.data(), static_cast<ladle::index_t>(n)));
  double max_half_gap = 0;  // (-1 -> -0.696: the widest gap)
  for (std::size_t k = 0; k < 15; ++k)
    max_half_gap = std::max(max_half_gap, 0.5 * (double(ladle::nf4_levels()[k + 1]) - ladle::nf4_levels()[k]));
  double mse_nf4 = 0, mse_int4 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double amax = q.absmax.data()[i / 64];
    CHECK(std::fabs(double(out[i]) - double(x[i])) <= max_half_gap * amax * (1 + 1e-6));
    mse_nf4 += (double(out[i]) - x[i]) * (double(out[i]) - x[i]);
    const double step = amax / 7.0;  // symmetric 4-bit absmax (-7..7), the usual baseline
    const double r = std::nearbyint(x[i] / step) * step;
    mse_int4 += (r - x[i]) * (r - x[i]);
  }
  CHECK(mse_nf4 < mse_int4);
  MESSAGE("NF4 mse ", mse_nf4 / double(n), " vs int4 absmax ", mse_int4 / double(n));
}

TEST_CASE("nf4 decode: SIMD lookups and streaming stores equal the scalar reference") {
  for (const ladle::index_t n : {ladle::index_t(64 * 40), ladle::index_t(1001)}) {
    const auto x = gaussian(static_cast<std::size_t>(n), 12, 0.3);
    for (const ladle::index_t bs : {ladle::index_t(64), ladle::index_t(6)}) {
      const auto q = ladle::nf4_quantize(ladle::make_view(x.data(), n), {bs});
      std::vector<float> want(static_cast<std::size_t>(n));
      ladle::detail::nf4_dequantize_flat(ladle::seq, q, want.data(), false);
      for (const std::size_t stream_min : {std::size_t(0), std::size_t(-1)}) {
        // A 64-byte aligned output and one a float off (streaming is then skipped).
        ladle::tensor<float, 1> buf({n + 1});
        for (const ladle::index_t shift : {0, 1}) {
          ladle::detail::nf4_dequantize_flat(ladle::par(2), q, buf.data() + shift, true, stream_min);
          for (ladle::index_t i = 0; i < n; ++i) REQUIRE(buf[i + shift] == want[static_cast<std::size_t>(i)]);
        }
      }
    }
  }
}

TEST_CASE("nf4 SIMD path equals scalar reference; policies and input types agree") {
  const std::size_t n = 128 * 100 + 6;
  auto x = gaussian(n, 4, 0.02);
  const auto xv = ladle::make_view(x.data(), static_cast<ladle::index_t>(n));
  for (ladle::index_t bs : {ladle::index_t(64), ladle::index_t(128), ladle::index_t(6)}) {
    auto q = ladle::nf4_quantize(xv, {bs});
    ladle::nf4_tensor r;
    r.size = q.size;
    r.block_size = bs;
    r.codes = ladle::tensor<std::uint8_t, 1>({q.codes.extent(0)});
    r.absmax = ladle::tensor<float, 1>({q.blocks()});
    ladle::detail::nf4_quantize_flat(ladle::seq, x.data(), q.size, r, false);
    CHECK(std::equal(q.codes.data(), q.codes.data() + q.codes.size(), r.codes.data()));
    auto qp = ladle::nf4_quantize(ladle::par(2), xv, {bs});
    CHECK(std::equal(q.codes.data(), q.codes.data() + q.codes.size(), qp.codes.data()));
    CHECK(std::equal(q.absmax.data(), q.absmax.data() + q.absmax.size(), qp.absmax.data()));
  }
  // An odd element count: the last block ends on a lone high nibble. A zero block packs to 0x77.
  std::vector<float> odd(gaussian(1001, 9, 0.5));
  std::fill(odd.begin(), odd.begin() + 64, 0.0f);
  for (int simd = 0; simd < 2; ++simd) {
    ladle::nf4_tensor r;
    r.size = 1001;
    r.block_size = 64;
    r.codes = ladle::tensor<std::uint8_t, 1>({501});
    r.absmax = ladle::tensor<float, 1>({r.blocks()});
    ladle::detail::nf4_quantize_flat(ladle::seq, odd.data(), r.size, r, simd == 1);
    CHECK(r.codes[0] == 0x77);
    CHECK((r.codes[500] & 0x0f) == 0);
    for (ladle::index_t i = 64; i < 1001; ++i) {
      const std::uint8_t byte = r.codes[i / 2];
      const std::uint8_t code = (i % 2 == 0) ? byte >> 4 : byte & 0x0f;
      REQUIRE(code == ladle::nf4_encode_value(odd[static_cast<std::size_t>(i)] * (1.0f / r.absmax[i / 64])));
    }
  }
  std::vector<ladle::bfloat16> xb(n);
  ladle::convert_n(x.data(), xb.data(), static_cast<ladle::index_t>(n));
  std::vector<float> xw(n);
  ladle::convert_n(xb.data(), xw.data(), static_cast<ladle::index_t>(n));
  auto qb = ladle::nf4_quantize(ladle::make_view(xb.data(), {2, static_cast<ladle::index_t>(n / 2)}));
  auto qw = ladle::nf4_quantize(ladle::make_view(xw.data(), static_cast<ladle::index_t>(n)));
  CHECK(std::equal(qb.codes.data(), qb.codes.data() + qb.codes.size(), qw.codes.data()));
  std::vector<ladle::half> outh(n);
  std::vector<float> outf(n);
  ladle::nf4_dequantize(ladle::par(2), qw, ladle::make_view(outh.data(), static_cast<ladle::index_t>(n)));
  ladle::nf4_dequantize(qw, ladle::make_view(outf.data(), static_cast<ladle::index_t>(n)));
  for (std::size_t i = 0; i < n; i += 13)
    CHECK(ladle::to_float(outh[i]) == ladle::to_float(ladle::from_float<ladle::half>(outf[i])));
}

TEST_CASE("nf4 double quantization of the absmax values") {
  const std::size_t n = 64 * 256 * 3;
  auto x = gaussian(n, 8);
  for (std::size_t i = 0; i < n; ++i) x[i] *= 1.0f + static_cast<float>(i / 4096);  // scales vary
  const auto xv = ladle::make_view(x.data(), static_cast<ladle::index_t>(n));
  auto plain = ladle::nf4_quantize(xv);
  auto dq = ladle::nf4_quantize(xv, {64, true, 256});
  CHECK(dq.double_quantized());
  CHECK(dq.absmax.size() == 0);
  CHECK(dq.absmax_scales.size() == 3);
  // The 4-bit codes are those of the exact absmax.
  CHECK(std::equal(plain.codes.data(), plain.codes.data() + plain.codes.size(), dq.codes.data()));
  double mean = 0;
  for (ladle::index_t b = 0; b < plain.blocks(); ++b) mean += plain.absmax.data()[b];
  mean /= static_cast<double>(plain.blocks());
  CHECK(dq.absmax_offset == doctest::Approx(mean).epsilon(1e-6));
  for (ladle::index_t b = 0; b < plain.blocks(); ++b) {
    const double err = std::fabs(double(dq.block_scale(b)) - plain.absmax.data()[b]);
    CHECK(err <= 0.5 * dq.absmax_scales.data()[b / 256] / 127.0 * 1.0001 + 1e-6);
  }
  CHECK(plain.bits_per_element() == doctest::Approx(4.5));
  CHECK(dq.bits_per_element() == doctest::Approx(4.0 + 8.0 / 64 + 32.0 * 3 / double(n) + 32.0 / double(n)));
  std::vector<float> a(n), b(n);
  ladle::nf4_dequantize(plain, ladle::make_view(a.data(), static_cast<ladle::index_t>(n)));
  ladle::nf4_dequantize(dq, ladle::make_view(b.data(), static_cast<ladle::index_t>(n)));
  double e_plain = 0, e_dq = 0;
  for (std::size_t i = 0; i < n; ++i) {
    e_plain += (a[i] - x[i]) * double(a[i] - x[i]);
    e_dq += (b[i] - x[i]) * double(b[i] - x[i]);
  }
  CHECK(e_dq < 1.05 * e_plain);  // the 8-bit scales cost little accuracy
}

TEST_CASE("nf4 errors") {
  std::vector<float> x(64, 1.0f);
  const auto xv = ladle::make_view(x.data(), 64);
  CHECK_THROWS_AS(ladle::nf4_quantize(xv, {63}), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::nf4_quantize(xv, {0}), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::nf4_quantize(xv, {64, true, 0}), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::nf4_quantize(ladle::make_view(x.data(), 0)), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::nf4_quantize(ladle::make_view(x.data(), {4, 4}, {16, 1})), ladle::invalid_argument);
  x[17] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(ladle::nf4_quantize(xv), ladle::domain_error);
  x[17] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_AS(ladle::nf4_quantize(ladle::par(2), xv, {2}), ladle::domain_error);
  x[17] = 1.0f;
  auto q = ladle::nf4_quantize(xv);
  std::vector<float> out(63);
  CHECK_THROWS_AS(ladle::nf4_dequantize(q, ladle::make_view(out.data(), 63)), ladle::invalid_argument);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
