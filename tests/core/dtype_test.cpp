#include <ladle/core/dtype.hpp>
#include <ladle/core/random.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {
std::uint32_t bits_of(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
std::uint16_t bits_of(ladle::half h) { return Eigen::numext::bit_cast<std::uint16_t>(h); }
std::uint16_t bits_of(ladle::bfloat16 h) { return Eigen::numext::bit_cast<std::uint16_t>(h); }

// Floats that stress the rounding: every tie, the edges of each binade, subnormals, specials.
std::vector<float> hard_floats() {
  std::vector<float> v = {0.f, -0.f, 1.f, -1.f, 65504.f, 65519.99f, 65520.f, 65536.f, 1e-8f,
                          5.96e-8f, 2.98e-8f, 6.1e-5f, 3e38f, -3e38f,
                          std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::denorm_min()};
  for (std::uint32_t e = 0; e < 255; e += 3)
    for (std::uint32_t m : {0u, 1u, 0x0fffu, 0x1000u, 0x1001u, 0x2000u, 0x3000u, 0x7fffu, 0x8000u,
                            0x8001u, 0x18000u, 0x7fffffu})
      for (std::uint32_t s : {0u, 1u}) {
        const std::uint32_t u = (s << 31) | (e << 23) | m;
        float f;
        std::memcpy(&f, &u, 4);
        v.push_back(f);
      }
  ladle::philox g(ladle::seed{1});
  for (int i = 0; i < 100000; ++i) {
    const std::uint32_t u = g();
    float f;
    std::memcpy(&f, &u, 4);
    v.push_back(f);
  }
  return v;
}
}  // namespace

TEST_CASE("half and bfloat16 decode: all 65536 codes agree with Eigen") {
  for (std::uint32_t c = 0; c < 65536; ++c) {
    const auto code = static_cast<std::uint16_t>(c);
    const float h = ladle::detail::half_bits_to_float(code);
    const float he = static_cast<float>(Eigen::numext::bit_cast<ladle::half>(code));
    const float b = ladle::detail::bf16_bits_to_float(code);
    const float be = static_cast<float>(Eigen::numext::bit_cast<ladle::bfloat16>(code));
    if (std::isnan(he)) {
      REQUIRE(std::isnan(h));
    } else {
      REQUIRE(bits_of(h) == bits_of(he));
    }
    if (std::isnan(be)) {
      REQUIRE(std::isnan(b));
    } else {
      REQUIRE(bits_of(b) == bits_of(be));
    }
  }
}

TEST_CASE("half and bfloat16 encode: round-to-nearest-even, same bits as Eigen") {
  for (float f : hard_floats()) {
    const auto h = ladle::detail::float_to_half_bits(f);
    const auto b = ladle::detail::float_to_bf16_bits(f);
    if (std::isnan(f)) {
      CHECK((h & 0x7c00u) == 0x7c00u);
      CHECK((h & 0x03ffu) != 0);
      CHECK((b & 0x7f80u) == 0x7f80u);
      CHECK((b & 0x007fu) != 0);
      continue;
    }
    REQUIRE(h == bits_of(ladle::half(f)));
    REQUIRE(b == bits_of(ladle::bfloat16(f)));
  }
  // Hand-checked ties: 1 + 2^-11 is halfway between half(1) and the next code: rounds to even.
  CHECK(ladle::detail::float_to_half_bits(1.0f + std::ldexp(1.f, -11)) == 0x3c00u);
  CHECK(ladle::detail::float_to_half_bits(1.0f + 3 * std::ldexp(1.f, -11)) == 0x3c02u);
  CHECK(ladle::detail::float_to_half_bits(65520.f) == 0x7c00u);  // rounds up to inf
  CHECK(ladle::detail::float_to_bf16_bits(1.0f + std::ldexp(1.f, -8)) == 0x3f80u);
  CHECK(ladle::detail::float_to_bf16_bits(1.0f + 3 * std::ldexp(1.f, -8)) == 0x3f82u);
}

TEST_CASE("bulk conversion: SIMD path gives the scalar path's bits, all lengths") {
  const auto src = hard_floats();
  for (ladle::index_t n : {0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 1000}) {
    std::vector<ladle::half> h1(n), h2(n);
    std::vector<ladle::bfloat16> b1(n), b2(n);
    ladle::convert_n(src.data() + 100, h1.data(), n);
    ladle::convert_n_scalar(src.data() + 100, h2.data(), n);
    ladle::convert_n(src.data() + 100, b1.data(), n);
    ladle::convert_n_scalar(src.data() + 100, b2.data(), n);
    for (ladle::index_t i = 0; i < n; ++i) {
      REQUIRE(bits_of(h1[i]) == bits_of(h2[i]));
      REQUIRE(bits_of(b1[i]) == bits_of(b2[i]));
    }
    std::vector<float> f1(n), f2(n), g1(n), g2(n);
    ladle::convert_n(h1.data(), f1.data(), n);
    ladle::convert_n_scalar(h1.data(), f2.data(), n);
    ladle::convert_n(b1.data(), g1.data(), n);
    ladle::convert_n_scalar(b1.data(), g2.data(), n);
    for (ladle::index_t i = 0; i < n; ++i) {
      REQUIRE(bits_of(f1[i]) == bits_of(f2[i]));
      REQUIRE(bits_of(g1[i]) == bits_of(g2[i]));
    }
  }
  // Outputs past LADLE_STREAM_MIN_BYTES take the streaming-store path; a misaligned output
  // exercises its scalar head. Every 16-bit code appears 128 times.
  {
    const ladle::index_t n = static_cast<ladle::index_t>(LADLE_STREAM_MIN_BYTES / sizeof(float)) + 5;
    std::vector<std::uint16_t> bits(static_cast<std::size_t>(n));
    for (ladle::index_t i = 0; i < n; ++i) bits[static_cast<std::size_t>(i)] = static_cast<std::uint16_t>(i * 40503u);
    std::vector<float> a(static_cast<std::size_t>(n) + 1), b(static_cast<std::size_t>(n));
    const auto* as_half = reinterpret_cast<const ladle::half*>(bits.data());
    const auto* as_bf16 = reinterpret_cast<const ladle::bfloat16*>(bits.data());
    auto same = [&] {
      for (std::size_t i = 0; i < b.size(); ++i)
        if (bits_of(a[i + 1]) != bits_of(b[i]) && !(std::isnan(a[i + 1]) && std::isnan(b[i]))) return false;
      return true;
    };
    ladle::convert_n(as_half, a.data() + 1, n);
    ladle::convert_n_scalar(as_half, b.data(), n);
    REQUIRE(same());
    ladle::convert_n(as_bf16, a.data() + 1, n);
    ladle::convert_n_scalar(as_bf16, b.data(), n);
    REQUIRE(same());
  }
  // Every half code through the SIMD decoder.
  std::vector<std::uint16_t> codes(65536);
  for (std::uint32_t c = 0; c < 65536; ++c) codes[c] = static_cast<std::uint16_t>(c);
  std::vector<float> out(65536);
  ladle::convert_n(reinterpret_cast<const ladle::half*>(codes.data()), out.data(), 65536);
  for (std::uint32_t c = 0; c < 65536; ++c) {
    const float ref = ladle::detail::half_bits_to_float(static_cast<std::uint16_t>(c));
    if (std::isnan(ref))
      REQUIRE(std::isnan(out[c]));
    else
      REQUIRE(bits_of(out[c]) == bits_of(ref));
  }
}

TEST_CASE("convert over views: strides, doubles, shape checks") {
  std::vector<float> a = {1.5f, -2.25f, 3.f, 4.f, 5.f, 6.f};
  std::vector<double> d(6);
  auto in = ladle::make_view(a.data(), {2, 3}, {1, 2});  // column-major 2x3
  auto out = ladle::make_view(d.data(), {2, 3});
  ladle::convert(in, out);
  CHECK(d[0] == 1.5);
  CHECK(d[1] == 3.0);
  CHECK(d[3] == -2.25);
  std::vector<double> small(4);
  CHECK_THROWS_AS(ladle::convert(in, ladle::make_view(small.data(), {2, 2})),
                  ladle::invalid_argument);
  CHECK(ladle::dtype_v<ladle::bfloat16> == ladle::dtype{ladle::dtype_code::bfloat, 16});
  CHECK(std::string(ladle::dtype_name(ladle::dtype_v<std::int8_t>)) == "int8");
  CHECK(std::string(ladle::dtype_name(ladle::dtype_v<ladle::half>)) == "float16");
}

}  // namespace LADLE_TEST_FILE
}  // namespace
