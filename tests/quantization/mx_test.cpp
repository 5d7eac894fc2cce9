// OCP MX block formats: element tables, scale rule, golden blocks, packing, brute-force reference.
#include <ladle/core/random.hpp>
#include <ladle/quantization/formats/mx.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::mx_element;

namespace {

const mx_element all_elements[] = {mx_element::fp8_e4m3, mx_element::fp8_e5m2, mx_element::fp6_e3m2,
                                   mx_element::fp6_e2m3, mx_element::fp4_e2m1, mx_element::int8};

// Independent element decoder from the spec's (ebits, mbits, bias) description.
double ref_element(int code, mx_element e) {
  int eb = 0, mb = 0, bias = 0;
  switch (e) {
    case mx_element::fp8_e4m3: eb = 4; mb = 3; bias = 7; break;
    case mx_element::fp8_e5m2: eb = 5; mb = 2; bias = 15; break;
    case mx_element::fp6_e3m2: eb = 3; mb = 2; bias = 3; break;
    case mx_element::fp6_e2m3: eb = 2; mb = 3; bias = 1; break;
    case mx_element::fp4_e2m1: eb = 2; mb = 1; bias = 1; break;
    case mx_element::int8: return static_cast<double>(static_cast<std::int8_t>(code)) / 64.0;
  }
  const int s = (code >> (eb + mb)) & 1, ex = (code >> mb) & ((1 << eb) - 1), m = code & ((1 << mb) - 1);
  const double mag = ex == 0 ? std::pow(2.0, 1 - bias) * m / (1 << mb)
                             : std::pow(2.0, ex - bias) * (1.0 + double(m) / (1 << mb));
  return s ? -mag : mag;
}

int ncodes(mx_element e) { return 1 << ladle::mx_element_bits(e); }

bool ref_finite(int code, mx_element e) {
  if (e == mx_element::fp8_e4m3) return (code & 0x7f) != 0x7f;
  if (e == mx_element::fp8_e5m2) return (code & 0x7f) < 0x7c;
  return true;
}

// Nearest finite element to v (saturating), ties to the even code; int8 never uses -128.
int ref_encode(double v, mx_element e) {
  int best = -1;
  double best_d = 0;
  for (int c = 0; c < ncodes(e); ++c) {
    if (!ref_finite(c, e)) continue;
    if (e == mx_element::int8 && c == 0x80) continue;
    const double x = ref_element(c, e);
    if (x == 0 && (c != 0)) continue;  // one zero (+0) for ties
    const double d = std::fabs(v - x);
    const bool even = e == mx_element::int8 ? (static_cast<std::int8_t>(c) % 2 == 0) : (c & 1) == 0;
    if (best < 0 || d < best_d || (d == best_d && even)) {
      best = c;
      best_d = d;
    }
  }
  return best;
}

// Reference block quantizer in double: shared exponent from log2, elements by brute force.
void ref_block(const float* v, mx_element e, int& scale_code, std::vector<int>& codes) {
  double amax = 0;
  for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(double(v[i])));
  codes.assign(32, 0);
  if (amax == 0) {
    scale_code = 0;
    return;
  }
  int shared = static_cast<int>(std::floor(std::log2(amax))) - ladle::mx_element_emax(e);
  shared = std::max(-127, std::min(127, shared));
  scale_code = shared + 127;
  for (int i = 0; i < 32; ++i) codes[static_cast<std::size_t>(i)] = ref_encode(double(v[i]) / std::pow(2.0, shared), e);
}

int get_code(const ladle::mx_tensor& q, ladle::index_t r, ladle::index_t i) {
  const int bits = ladle::mx_element_bits(q.element);
  const std::uint8_t* row = q.data.data() + r * q.data.extent(1);
  if (bits == 8) return row[i];
  if (bits == 4) return (row[i / 2] >> (4 * (i % 2))) & 0xf;
  const ladle::index_t g = i / 4, k = i % 4;
  const std::uint32_t w = row[3 * g] | (std::uint32_t(row[3 * g + 1]) << 8) | (std::uint32_t(row[3 * g + 2]) << 16);
  return static_cast<int>((w >> (6 * k)) & 0x3f);
}

bool same_sign_class(int got, int want, mx_element e) {
  // -0 and +0 are both valid encodings of a zero result; compare values.
  return got == want || (ref_element(got, e) == 0 && ref_element(want, e) == 0);
}

}  // namespace

TEST_CASE("mx elements: exhaustive decode of every code") {
  for (mx_element e : all_elements) {
    for (int c = 0; c < ncodes(e); ++c) {
      const float got = ladle::mx_decode_element(static_cast<std::uint8_t>(c), e);
      if (!ref_finite(c, e)) {
        CHECK(!std::isfinite(got));
        continue;
      }
      CHECK(static_cast<double>(got) == ref_element(c, e));
    }
    CHECK(ladle::mx_decode_element(static_cast<std::uint8_t>(ref_encode(1e9, e)), e) == ladle::mx_element_max(e));
  }
  // The spec's value lists.
  const float fp4[] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  for (int c = 0; c < 8; ++c) {
    CHECK(ladle::mx_decode_element(static_cast<std::uint8_t>(c), mx_element::fp4_e2m1) == fp4[c]);
    CHECK(ladle::mx_decode_element(static_cast<std::uint8_t>(c | 8), mx_element::fp4_e2m1) == -fp4[c]);
  }
  CHECK(ladle::mx_element_max(mx_element::fp6_e3m2) == ladle::mx_decode_element(0x1f, mx_element::fp6_e3m2));
  CHECK(ladle::mx_decode_element(0x1f, mx_element::fp6_e2m3) == 7.5f);
  CHECK(ladle::mx_decode_element(0x01, mx_element::fp6_e2m3) == 0.125f);   // min subnormal 2^0 * 1/8
  CHECK(ladle::mx_decode_element(0x01, mx_element::fp6_e3m2) == 0.0625f);  // 2^-2 * 1/4
  CHECK(ladle::mx_decode_element(0x80, mx_element::int8) == -2.0f);
  CHECK(ladle::mx_decode_element(0x7f, mx_element::int8) == 127.0f / 64.0f);
  // E8M0 scales.
  CHECK(ladle::e8m0_to_float(127) == 1.0f);
  CHECK(ladle::e8m0_to_float(0) == std::ldexp(1.0f, -127));
  CHECK(ladle::e8m0_to_float(254) == std::ldexp(1.0f, 127));
  CHECK(std::isnan(ladle::e8m0_to_float(255)));
}

TEST_CASE("mx elements: encode equals brute-force nearest-even with saturation on a dense grid") {
  for (mx_element e : all_elements) {
    int mismatches = 0;
    const double top = 1.5 * ladle::mx_element_max(e);
    std::vector<double> probes;
    for (int c = 0; c < ncodes(e); ++c) {
      if (!ref_finite(c, e)) continue;
      const double a = ref_element(c, e);
      for (int d = 0; d < ncodes(e); ++d) {  // midpoints of every pair close enough to matter
        if (!ref_finite(d, e)) continue;
        probes.push_back(0.5 * (a + ref_element(d, e)));
      }
    }
    for (int i = -400; i <= 400; ++i) probes.push_back(top * i / 400.0);
    for (double p : probes) {
      const float pf = static_cast<float>(p);
      for (float x : {pf, std::nextafter(pf, -1e30f), std::nextafter(pf, 1e30f)}) {
        const int got = ladle::mx_encode_element(x, e);
        const int want = ref_encode(static_cast<double>(x), e);
        if (!same_sign_class(got, want, e)) ++mismatches;
      }
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("mx golden blocks from the spec's conversion rule") {
  std::vector<float> x(32, 0.0f);
  SUBCASE("FP4: amax 6 -> scale 2^0; 7 saturates to 6 (ocp) or gets scale 2^1 (round_up)") {
    x[0] = 6.0f;
    x[1] = -0.25f;  // tie between 0 and 0.5 -> even 0 (negative zero)
    x[2] = 0.75f;   // tie between 0.5 and 1 -> even 1
    x[3] = 2.5f;    // tie between 2 and 3 -> even 2
    x[4] = 5.0f;    // tie between 4 and 6 -> even 4
    auto q = ladle::mx_quantize(ladle::make_view(x.data(), {1, 32}), {mx_element::fp4_e2m1});
    CHECK(q.scales.data()[0] == 127);
    CHECK(get_code(q, 0, 0) == 0x7);
    CHECK(get_code(q, 0, 1) == 0x8);
    CHECK(get_code(q, 0, 2) == 0x2);
    CHECK(get_code(q, 0, 3) == 0x4);
    CHECK(get_code(q, 0, 4) == 0x6);
    CHECK(q.data.data()[0] == 0x87);  // low nibble first
    x[0] = 7.0f;
    q = ladle::mx_quantize(ladle::make_view(x.data(), {1, 32}), {mx_element::fp4_e2m1});
    CHECK(q.scales.data()[0] == 127);
    CHECK(get_code(q, 0, 0) == 0x7);  // saturated: 7 -> 6
    q = ladle::mx_quantize(ladle::make_view(x.data(), {1, 32}),
                           {mx_element::fp4_e2m1, ladle::mx_scale_rule::round_up});
    CHECK(q.scales.data()[0] == 128);  // X = 2
    CHECK(get_code(q, 0, 0) == 0x6);   // 3.5 ties between 3 and 4 -> even 4 (x2 = 8)
  }
  SUBCASE("MXFP8 E4M3: amax 1000 -> floor(log2 1000) - 8 = 1") {
    x[0] = 1000.0f;
    x[5] = -3.0f;
    auto q = ladle::mx_quantize(ladle::make_view(x.data(), {1, 32}), {mx_element::fp8_e4m3});
    CHECK(q.scales.data()[0] == 128);
    CHECK(q.data.data()[0] == ladle::fp8_encode(500.0f, ladle::fp8_format::e4m3));  // saturates 448
    CHECK(q.data.data()[0] == 0x7e);
    CHECK(q.data.data()[5] == ladle::fp8_encode(-1.5f, ladle::fp8_format::e4m3));
  }
  SUBCASE("MXINT8: amax 3 -> X = 2, 1.5 -> 96; 0.3 -> round(9.6) = 10") {
    x[0] = 3.0f;
    x[1] = 0.3f;
    x[2] = -0.078125f;  // -0.078125 / 2 * 64 = -2.5 -> even -2
    auto q = ladle::mx_quantize(ladle::make_view(x.data(), {1, 32}), {mx_element::int8});
    CHECK(q.scales.data()[0] == 128);
    CHECK(q.data.data()[0] == 96);
    CHECK(q.data.data()[1] == 10);
    CHECK(static_cast<std::int8_t>(q.data.data()[2]) == -2);
    x[0] = 3.99f;  // 1.995 * 64 = 127.7 -> saturates at 127, never -128 on the other side
    x[1] = -3.99f;
    q = ladle::mx_quantize(ladle::make_view(x.data(), {1, 32}), {mx_element::int8});
    CHECK(q.data.data()[0] == 127);
    CHECK(static_cast<std::int8_t>(q.data.data()[1]) == -127);
  }
  SUBCASE("FP6 E3M2: packed 4 elements in 3 bytes, little-endian bit order") {
    for (int i = 0; i < 4; ++i) x[static_cast<std::size_t>(i)] = ladle::mx_decode_element(static_cast<std::uint8_t>(0x1c + i), mx_element::fp6_e3m2);
    auto q = ladle::mx_quantize(ladle::make_view(x.data(), {1, 32}), {mx_element::fp6_e3m2});
    CHECK(q.scales.data()[0] == 127);  // amax 28 = 1.75 * 2^4, emax 4
    const std::uint32_t w = 0x1cu | 0x1du << 6 | 0x1eu << 12 | 0x1fu << 18;
    CHECK(q.data.data()[0] == (w & 0xff));
    CHECK(q.data.data()[1] == ((w >> 8) & 0xff));
    CHECK(q.data.data()[2] == ((w >> 16) & 0xff));
    CHECK(q.data.extent(1) == 24);
  }
  SUBCASE("special blocks: zeros, NaN, inf, tiny and huge scales") {
    auto q = ladle::mx_quantize(ladle::make_view(x.data(), {1, 32}), {mx_element::fp8_e5m2});
    CHECK(q.scales.data()[0] == 0);
    std::vector<float> out(32, 1.0f);
    ladle::mx_dequantize(q, ladle::make_view(out.data(), {1, 32}));
    for (float v : out) CHECK(v == 0.0f);
    x[3] = std::numeric_limits<float>::quiet_NaN();
    q = ladle::mx_quantize(ladle::make_view(x.data(), {1, 32}), {mx_element::fp4_e2m1});
    CHECK(q.scales.data()[0] == 255);
    ladle::mx_dequantize(q, ladle::make_view(out.data(), {1, 32}));
    for (float v : out) CHECK(std::isnan(v));
    x[3] = -std::numeric_limits<float>::infinity();
    q = ladle::mx_quantize(ladle::make_view(x.data(), {1, 32}), {mx_element::int8});
    CHECK(q.scales.data()[0] == 255);
    x[3] = 3e38f;  // scale 2^(127 - 8) for E4M3
    q = ladle::mx_quantize(ladle::make_view(x.data(), {1, 32}), {mx_element::fp8_e4m3});
    CHECK(q.scales.data()[0] == 127 + 127 - 8);
    x[3] = 1e-44f;  // float subnormal: shared exponent clamps at -127
    q = ladle::mx_quantize(ladle::make_view(x.data(), {1, 32}), {mx_element::fp8_e4m3});
    CHECK(q.scales.data()[0] == 0);
    ladle::mx_dequantize(q, ladle::make_view(out.data(), {1, 32}));
    CHECK(out[3] == ladle::fp8_decode(ladle::fp8_encode(1e-44f * std::ldexp(1.0f, 127), ladle::fp8_format::e4m3), ladle::fp8_format::e4m3) * std::ldexp(1.0f, -127));
  }
}

TEST_CASE("mx quantize equals a double-precision brute-force reference on random data") {
  const ladle::index_t rows = 24, cols = 128;
  std::vector<float> x(static_cast<std::size_t>(rows * cols));
  ladle::philox g(ladle::seed{5});
  for (ladle::index_t r = 0; r < rows; ++r) {
    const double row_scale = std::pow(10.0, static_cast<double>(r % 12) - 6.0);  // 1e-6 .. 1e5
    for (ladle::index_t c = 0; c < cols; ++c)
      x[static_cast<std::size_t>(r * cols + c)] = static_cast<float>(ladle::normal(g) * row_scale);
  }
  // Some exact ties on the element grids.
  x[7] = 0.75f;
  x[8] = 2.5f;
  const auto xv = ladle::make_view(x.data(), {rows, cols});
  for (mx_element e : all_elements) {
    const auto q = ladle::mx_quantize(xv, {e});
    int bad_scale = 0, bad_code = 0;
    std::vector<int> codes;
    for (ladle::index_t r = 0; r < rows; ++r)
      for (ladle::index_t b = 0; b < cols / 32; ++b) {
        int sc = 0;
        ref_block(x.data() + r * cols + b * 32, e, sc, codes);
        if (q.scales.data()[r * (cols / 32) + b] != sc) ++bad_scale;
        for (int i = 0; i < 32; ++i)
          if (!same_sign_class(get_code(q, r, b * 32 + i), codes[static_cast<std::size_t>(i)], e)) ++bad_code;
      }
    CHECK(bad_scale == 0);
    CHECK(bad_code == 0);

    // Scalar reference path == SIMD path, and policies agree.
    std::vector<std::uint8_t> s_ref(static_cast<std::size_t>(rows * cols / 32)),
        d_ref(static_cast<std::size_t>(rows * ladle::mx_packed_row_bytes(cols, e)));
    for (ladle::index_t r = 0; r < rows; ++r)
      ladle::detail::mx_quantize_row(x.data() + r * cols, cols, s_ref.data() + r * (cols / 32),
                                     d_ref.data() + r * ladle::mx_packed_row_bytes(cols, e),
                                     {e, ladle::mx_scale_rule::ocp}, false);
    CHECK(std::equal(s_ref.begin(), s_ref.end(), q.scales.data()));
    CHECK(std::equal(d_ref.begin(), d_ref.end(), q.data.data()));
    const auto qp = ladle::mx_quantize(ladle::par(2), xv, {e});
    CHECK(std::equal(d_ref.begin(), d_ref.end(), qp.data.data()));

    // Round trip: decoded = element value * scale; relative error bounded by the element's
    // resolution for each block's largest entries.
    std::vector<float> out(x.size());
    ladle::mx_dequantize(ladle::par(2), q, ladle::make_view(out.data(), {rows, cols}));
    int bad_decode = 0;
    for (ladle::index_t r = 0; r < rows; ++r)
      for (ladle::index_t i = 0; i < cols; ++i) {
        const float s = ladle::e8m0_to_float(q.scales.data()[r * (cols / 32) + i / 32]);
        const float want = ladle::mx_decode_element(static_cast<std::uint8_t>(get_code(q, r, i)), e) * s;
        if (out[static_cast<std::size_t>(r * cols + i)] != want) ++bad_decode;
      }
    CHECK(bad_decode == 0);
    // Streamed decoding (forced by stream_min = 0) into rows that start off the batch
    // alignment (row stride cols + 3) gives the same floats.
    {
      std::vector<float> wide(static_cast<std::size_t>(rows * (cols + 3)) + 1);
      ladle::matrix_view<float> sv(wide.data() + 1, {rows, cols}, {cols + 3, 1});
      ladle::detail::mx_dequantize_impl(ladle::par(2), q.scales.cview(), q.data.cview(), e, sv, 0);
      for (ladle::index_t r = 0; r < rows; ++r)
        for (ladle::index_t i = 0; i < cols; ++i)
          REQUIRE(sv(r, i) == out[static_cast<std::size_t>(r * cols + i)]);
    }
    // The row decoder's scalar path agrees with the SIMD one.
    std::vector<float> row(static_cast<std::size_t>(cols));
    const ladle::index_t row_bytes = ladle::mx_packed_row_bytes(cols, e);
    for (ladle::index_t r = 0; r < rows; ++r) {
      ladle::detail::mx_dequantize_row(q.scales.data() + r * (cols / 32), q.data.data() + r * row_bytes, cols, e,
                                       row.data(), false);
      for (ladle::index_t i = 0; i < cols; ++i) REQUIRE(row[static_cast<std::size_t>(i)] == out[static_cast<std::size_t>(r * cols + i)]);
    }
    std::vector<ladle::bfloat16> outb(x.size());
    ladle::mx_dequantize(q, ladle::make_view(outb.data(), {rows, cols}));
    for (std::size_t i = 0; i < x.size(); i += 37)
      CHECK(ladle::to_float(outb[i]) == ladle::to_float(ladle::from_float<ladle::bfloat16>(out[i])));
  }
}

TEST_CASE("mx: bf16 input and row strides; bad shapes rejected") {
  std::vector<float> x(3 * 80);
  ladle::philox g(ladle::seed{9});
  for (auto& v : x) v = static_cast<float>(ladle::normal(g));
  std::vector<ladle::bfloat16> xb(x.size());
  ladle::convert_n(x.data(), xb.data(), static_cast<ladle::index_t>(x.size()));
  std::vector<float> xw(x.size());
  ladle::convert_n(xb.data(), xw.data(), static_cast<ladle::index_t>(x.size()));
  // A 3 x 64 window of a 3 x 80 buffer (row stride 80).
  const auto qb = ladle::mx_quantize(ladle::make_view(xb.data(), {3, 64}, {80, 1}), {mx_element::fp6_e2m3});
  const auto qf = ladle::mx_quantize(ladle::make_view(xw.data(), {3, 64}, {80, 1}), {mx_element::fp6_e2m3});
  CHECK(std::equal(qb.data.data(), qb.data.data() + qb.data.size(), qf.data.data()));
  CHECK(std::equal(qb.scales.data(), qb.scales.data() + qb.scales.size(), qf.scales.data()));

  CHECK_THROWS_AS(ladle::mx_quantize(ladle::make_view(x.data(), {4, 60})), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::mx_quantize(ladle::make_view(x.data(), {3, 32}, {80, 2})), ladle::invalid_argument);
  std::vector<std::uint8_t> s(6), d(6 * 32);
  CHECK_THROWS_AS(ladle::mx_quantize_into(ladle::make_view(x.data(), {3, 64}),
                                          ladle::make_view(s.data(), {3, 1}),
                                          ladle::make_view(d.data(), {3, 64})),
                  ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::mx_quantize_into(ladle::make_view(x.data(), {3, 64}),
                                          ladle::make_view(s.data(), {3, 2}),
                                          ladle::make_view(d.data(), {3, 64}), {mx_element::fp4_e2m1}),
                  ladle::invalid_argument);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
