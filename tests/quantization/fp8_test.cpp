// FP8 E4M3 / E5M2: exhaustive decode, boundary encode against a brute-force reference.
#include <ladle/core/random.hpp>
#include <ladle/quantization/formats/fp8.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::fp8_format;
using ladle::fp8_overflow;

namespace {

struct fmt_info {
  int ebits, mbits, bias;
  bool has_inf;
};

fmt_info info(fp8_format f) {
  return f == fp8_format::e4m3 ? fmt_info{4, 3, 7, false} : fmt_info{5, 2, 15, true};
}

// Independent decoder straight from the OCP definitions (pow, not ldexp or tables).
double ref_decode(int code, fp8_format f) {
  const fmt_info fi = info(f);
  const int s = code >> 7, e = (code >> fi.mbits) & ((1 << fi.ebits) - 1),
            m = code & ((1 << fi.mbits) - 1);
  const double sign = s ? -1.0 : 1.0;
  const int emax_field = (1 << fi.ebits) - 1;
  if (f == fp8_format::e4m3 && e == emax_field && m == (1 << fi.mbits) - 1)
    return std::numeric_limits<double>::quiet_NaN();
  if (f == fp8_format::e5m2 && e == emax_field)
    return m == 0 ? sign * std::numeric_limits<double>::infinity()
                  : std::numeric_limits<double>::quiet_NaN();
  const double frac = double(m) / double(1 << fi.mbits);
  if (e == 0) return sign * frac * std::pow(2.0, 1 - fi.bias);
  return sign * (1.0 + frac) * std::pow(2.0, e - fi.bias);
}

// Brute force: nearest of all finite non-negative codes plus a virtual "one step above max"
// (the value the format would have next); ties go to the even code. Returns the magnitude code
// or -1 when the virtual value wins (overflow).
int ref_encode_magnitude(double a, fp8_format f) {
  const int max_code = f == fp8_format::e4m3 ? 0x7e : 0x7b;
  // Next value past max: E4M3 1.111 x 2^8 = 480 (odd mantissa); E5M2 2^16 (even: mantissa 0).
  const double beyond = f == fp8_format::e4m3 ? 480.0 : 65536.0;
  const bool beyond_even = f == fp8_format::e5m2;
  if (a >= beyond) return -1;  // (distances to the codes would all round alike)
  int best = 0;
  double best_d = std::fabs(a);
  bool best_even = true;
  for (int c = 1; c <= max_code + 1; ++c) {
    const double v = c == max_code + 1 ? beyond : ref_decode(c, f);
    const bool even = c == max_code + 1 ? beyond_even : (c & 1) == 0;
    const double d = std::fabs(a - v);
    if (d < best_d || (d == best_d && even && !best_even)) {
      best = c;
      best_d = d;
      best_even = even;
    }
  }
  return best == max_code + 1 ? -1 : best;
}

std::uint8_t ref_encode(double x, fp8_format f, fp8_overflow p) {
  const int sign = std::signbit(x) ? 0x80 : 0;
  if (std::isnan(x)) return static_cast<std::uint8_t>(sign | 0x7f);
  const int max_code = f == fp8_format::e4m3 ? 0x7e : 0x7b;
  int mag = std::isinf(x) ? -1 : ref_encode_magnitude(std::fabs(x), f);
  if (mag < 0)
    mag = p == fp8_overflow::saturate ? max_code : (f == fp8_format::e4m3 ? 0x7f : 0x7c);
  return static_cast<std::uint8_t>(sign | mag);
}

std::vector<double> boundary_values(fp8_format f) {
  std::vector<double> v;
  const int max_code = f == fp8_format::e4m3 ? 0x7e : 0x7b;
  auto add_around = [&](double x) {
    const float xf = static_cast<float>(x);
    v.push_back(x);
    v.push_back(std::nextafter(xf, 0.0f));
    v.push_back(std::nextafter(xf, std::numeric_limits<float>::infinity()));
    v.push_back(std::nextafter(x, 0.0));
    v.push_back(std::nextafter(x, std::numeric_limits<double>::infinity()));
  };
  for (int c = 0; c <= max_code; ++c) {
    const double lo = ref_decode(c, f);
    const double hi = c == max_code ? (f == fp8_format::e4m3 ? 480.0 : 65536.0) : ref_decode(c + 1, f);
    add_around(lo);
    add_around(0.5 * (lo + hi));  // every midpoint, exactly representable in float
    add_around(0.25 * lo + 0.75 * hi);
  }
  for (double x : {1e-30, 1e-10, 1e-6, 600.0, 1e5, 1e10, 3e38, 1e300})
    add_around(x);
  v.push_back(std::numeric_limits<double>::infinity());
  v.push_back(std::numeric_limits<double>::denorm_min());
  v.push_back(static_cast<double>(std::numeric_limits<float>::denorm_min()));
  const std::size_t n = v.size();
  for (std::size_t i = 0; i < n; ++i) v.push_back(-v[i]);
  return v;
}

}  // namespace

TEST_CASE("fp8 decode: all 256 codes of both formats match the OCP definitions") {
  for (fp8_format f : {fp8_format::e4m3, fp8_format::e5m2}) {
    const auto& table = ladle::fp8_decode_table(f);
    for (int c = 0; c < 256; ++c) {
      const double want = ref_decode(c, f);
      const float got = ladle::fp8_decode(static_cast<std::uint8_t>(c), f);
      const bool same = got == table[static_cast<std::size_t>(c)] || (std::isnan(got) && std::isnan(table[static_cast<std::size_t>(c)]));
      CHECK(same);
      if (std::isnan(want)) {
        CHECK(std::isnan(got));
      } else {
        CHECK(static_cast<double>(got) == want);
        CHECK(std::signbit(got) == (c >= 128));
      }
    }
  }
  // Spec landmarks.
  CHECK(ladle::fp8_decode(0x7e, fp8_format::e4m3) == 448.0f);
  CHECK(ladle::fp8_decode(0x38, fp8_format::e4m3) == 1.0f);
  CHECK(ladle::fp8_decode(0x08, fp8_format::e4m3) == std::ldexp(1.0f, -6));
  CHECK(ladle::fp8_decode(0x01, fp8_format::e4m3) == std::ldexp(1.0f, -9));
  CHECK(std::isnan(ladle::fp8_decode(0x7f, fp8_format::e4m3)));
  CHECK(std::isnan(ladle::fp8_decode(0xff, fp8_format::e4m3)));
  CHECK(ladle::fp8_decode(0x7b, fp8_format::e5m2) == 57344.0f);
  CHECK(ladle::fp8_decode(0x3c, fp8_format::e5m2) == 1.0f);
  CHECK(ladle::fp8_decode(0x01, fp8_format::e5m2) == std::ldexp(1.0f, -16));
  CHECK(ladle::fp8_decode(0x7c, fp8_format::e5m2) == std::numeric_limits<float>::infinity());
  CHECK(ladle::fp8_decode(0xfc, fp8_format::e5m2) == -std::numeric_limits<float>::infinity());
  for (int c : {0x7d, 0x7e, 0x7f, 0xfd, 0xfe, 0xff}) CHECK(std::isnan(ladle::fp8_decode(std::uint8_t(c), fp8_format::e5m2)));
  // Only 2 NaN codes in E4M3, 6 in E5M2; the rest are finite or infinite.
  for (fp8_format f : {fp8_format::e4m3, fp8_format::e5m2}) {
    int nans = 0;
    for (float x : ladle::fp8_decode_table(f)) nans += std::isnan(x) ? 1 : 0;
    CHECK(nans == (f == fp8_format::e4m3 ? 2 : 6));
  }
}

TEST_CASE("fp8 encode: every midpoint, neighbours, overflow, subnormals and NaN (float and double)") {
  for (fp8_format f : {fp8_format::e4m3, fp8_format::e5m2}) {
    for (fp8_overflow p : {fp8_overflow::saturate, fp8_overflow::nonfinite}) {
      const auto values = boundary_values(f);
      int mismatches = 0;
      for (double x : values) {
        const std::uint8_t want_d = ref_encode(x, f, p);
        if (ladle::fp8_encode(x, f, p) != want_d) ++mismatches;
        const float xf = static_cast<float>(x);
        const std::uint8_t want_f = ref_encode(static_cast<double>(xf), f, p);
        if (ladle::fp8_encode(xf, f, p) != want_f) ++mismatches;
      }
      CHECK(mismatches == 0);
      CHECK(values.size() > 1000);
    }
  }
}

TEST_CASE("fp8 encode: documented landmarks and overflow policy") {
  using F = fp8_format;
  const auto sat = fp8_overflow::saturate, nf = fp8_overflow::nonfinite;
  CHECK(ladle::fp8_encode(448.0f, F::e4m3) == 0x7e);
  CHECK(ladle::fp8_encode(464.0f, F::e4m3, nf) == 0x7e);            // tie goes to even 448
  CHECK(ladle::fp8_encode(std::nextafter(464.0f, 1e9f), F::e4m3, nf) == 0x7f);  // NaN
  CHECK(ladle::fp8_encode(1e9f, F::e4m3, sat) == 0x7e);
  CHECK(ladle::fp8_encode(-1e9f, F::e4m3, sat) == 0xfe);
  CHECK(ladle::fp8_encode(std::numeric_limits<float>::infinity(), F::e4m3, sat) == 0x7e);
  CHECK(ladle::fp8_encode(std::numeric_limits<float>::infinity(), F::e4m3, nf) == 0x7f);
  CHECK(ladle::fp8_encode(61440.0f, F::e5m2, nf) == 0x7c);  // tie goes to the even inf
  CHECK(ladle::fp8_encode(std::nextafter(61440.0f, 0.0f), F::e5m2, nf) == 0x7b);
  CHECK(ladle::fp8_encode(61440.0f, F::e5m2, sat) == 0x7b);
  CHECK(ladle::fp8_encode(-std::numeric_limits<float>::infinity(), F::e5m2, nf) == 0xfc);
  CHECK(ladle::fp8_encode(-std::numeric_limits<float>::infinity(), F::e5m2, sat) == 0xfb);
  CHECK(ladle::fp8_encode(-0.0f, F::e4m3) == 0x80);
  CHECK(ladle::fp8_encode(std::ldexp(1.0f, -10), F::e4m3) == 0x00);  // half the min subnormal: tie to 0
  CHECK(ladle::fp8_encode(std::ldexp(1.5f, -10), F::e4m3) == 0x01);
  CHECK(ladle::fp8_encode(std::ldexp(3.0f, -10), F::e4m3) == 0x02);  // 1.5 subnormal units: tie to even 2
  CHECK(ladle::fp8_encode(std::numeric_limits<float>::quiet_NaN(), F::e4m3) == 0x7f);
  CHECK(ladle::fp8_encode(-std::numeric_limits<float>::quiet_NaN(), F::e5m2) == 0xff);
  CHECK(ladle::fp8_encode(std::numeric_limits<double>::quiet_NaN(), F::e5m2) == 0x7f);
  CHECK(ladle::fp8_encode(1.0625f, F::e4m3) == 0x38);  // tie between 1 and 1.125 -> even 1
  CHECK(ladle::fp8_encode(1.1875f, F::e4m3) == 0x3a);  // tie between 1.125 and 1.25 -> even 1.25
}

TEST_CASE("fp8 bulk encode: SIMD path equals the scalar reference; half/bf16 inputs widen exactly") {
  std::vector<float> x;
  for (fp8_format f : {fp8_format::e4m3, fp8_format::e5m2})
    for (double v : boundary_values(f)) x.push_back(static_cast<float>(v));
  x.push_back(std::numeric_limits<float>::quiet_NaN());
  ladle::philox g(ladle::seed{11});
  for (int i = 0; i < 20000; ++i) x.push_back(ladle::detail::bits_to_float(g()));  // every bit pattern class
  for (int i = 0; i < 20000; ++i) x.push_back(static_cast<float>(ladle::normal(g) * 100.0));
  const auto n = static_cast<ladle::index_t>(x.size());
  for (fp8_format f : {fp8_format::e4m3, fp8_format::e5m2}) {
    for (fp8_overflow p : {fp8_overflow::saturate, fp8_overflow::nonfinite}) {
      std::vector<std::uint8_t> a(x.size()), b(x.size()), c(x.size());
      ladle::fp8_encode_n(x.data(), a.data(), n, {f, p});
      ladle::fp8_encode_n_scalar(x.data(), b.data(), n, {f, p});
      CHECK(a == b);
      ladle::fp8_encode(ladle::par(2), ladle::make_view(x.data(), n), ladle::make_view(c.data(), n),
                        {f, p});
      CHECK(a == c);
    }
  }
  std::vector<ladle::half> h;
  std::vector<ladle::bfloat16> bf;
  for (int i = 0; i < 5000; ++i) {
    h.push_back(ladle::from_float<ladle::half>(x[static_cast<std::size_t>(i) * 7 % x.size()]));
    bf.push_back(ladle::from_float<ladle::bfloat16>(x[static_cast<std::size_t>(i) * 11 % x.size()]));
  }
  for (fp8_format f : {fp8_format::e4m3, fp8_format::e5m2}) {
    std::vector<std::uint8_t> a(h.size()), b(bf.size());
    ladle::fp8_encode_n(h.data(), a.data(), 5000, {f, fp8_overflow::saturate});
    ladle::fp8_encode_n(bf.data(), b.data(), 5000, {f, fp8_overflow::saturate});
    for (std::size_t i = 0; i < h.size(); ++i) {
      CHECK(a[i] == ladle::fp8_encode(ladle::to_float(h[i]), f));
      CHECK(b[i] == ladle::fp8_encode(ladle::to_float(bf[i]), f));
    }
  }
}

TEST_CASE("fp8 round trip through views, decode to every float type is exact") {
  std::vector<std::uint8_t> codes(256);
  for (int c = 0; c < 256; ++c) codes[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c);
  for (fp8_format f : {fp8_format::e4m3, fp8_format::e5m2}) {
    std::vector<float> out(256);
    std::vector<ladle::half> outh(256);
    std::vector<ladle::bfloat16> outb(256);
    std::vector<double> outd(256);
    const auto in = ladle::make_view(codes.data(), 256);
    ladle::fp8_decode(in, ladle::make_view(out.data(), 256), f);
    ladle::fp8_decode(ladle::par(2), in, ladle::make_view(outh.data(), 256), f);
    ladle::fp8_decode(in, ladle::make_view(outb.data(), 256), f);
    ladle::fp8_decode(in, ladle::make_view(outd.data(), 256), f);
    std::vector<std::uint8_t> back(256);
    ladle::fp8_encode(ladle::make_view(out.data(), 256), ladle::make_view(back.data(), 256),
                      {f, fp8_overflow::nonfinite});
    for (int c = 0; c < 256; ++c) {
      const auto i = static_cast<std::size_t>(c);
      if (std::isnan(out[i])) {
        CHECK(std::isnan(ladle::to_float(outh[i])));
        CHECK(std::isnan(ladle::to_float(outb[i])));
        continue;
      }
      CHECK(back[i] == codes[i]);  // every non-NaN code survives encode(decode(c))
      CHECK(ladle::to_float(outh[i]) == out[i]);
      CHECK(ladle::to_float(outb[i]) == out[i]);
      CHECK(outd[i] == static_cast<double>(out[i]));
    }
  }
}

TEST_CASE("fp8 views: bad shapes and strides are rejected") {
  std::vector<float> x(12, 1.0f);
  std::vector<std::uint8_t> q(12);
  CHECK_THROWS_AS(ladle::fp8_encode(ladle::make_view(x.data(), {3, 4}),
                                    ladle::make_view(q.data(), {4, 3})),
                  ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::fp8_encode(ladle::make_view(x.data(), {3, 2}, {4, 1}),
                                    ladle::make_view(q.data(), {3, 2})),
                  ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::fp8_decode(ladle::make_view(q.data(), {3, 4}),
                                    ladle::make_view(x.data(), {3, 3}), fp8_format::e4m3),
                  ladle::invalid_argument);
}

TEST_CASE("fp8 bulk decode: gathers and streaming stores give the table's bits") {
  const ladle::index_t n = 256 * 7 + 5;
  std::vector<std::uint8_t> codes(static_cast<std::size_t>(n));
  for (ladle::index_t i = 0; i < n; ++i) codes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i * 73 + 1);
  for (const fp8_format f : {fp8_format::e4m3, fp8_format::e5m2}) {
    std::vector<float> out(static_cast<std::size_t>(n) + 1);
    auto same = [&](const float* got) {
      for (ladle::index_t i = 0; i < n; ++i) {
        const float want = ladle::fp8_decode(codes[static_cast<std::size_t>(i)], f);
        std::uint32_t a, b;
        std::memcpy(&a, &got[i], 4);
        std::memcpy(&b, &want, 4);
        if (a != b) return false;
      }
      return true;
    };
    ladle::fp8_decode(ladle::par(2), ladle::make_view(codes.data(), n), ladle::make_view(out.data(), n), f);
    CHECK(same(out.data()));
    for (const bool stream : {false, true}) {
      ladle::detail::fp8_decode_floats(codes.data(), out.data() + 1, n, ladle::fp8_decode_table(f).data(), stream);
#if LADLE_HAS_SIMD
      ladle::simd::stream_fence();
#endif
      CHECK(same(out.data() + 1));
    }
  }
}

}  // namespace LADLE_TEST_FILE
}  // namespace
