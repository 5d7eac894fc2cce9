// The xsimd compatibility shims give the same answers on xsimd 8.1 and 13/14.
#include <ladle/core/simd.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

#if LADLE_HAS_SIMD
TEST_CASE("simd shims: reductions, casts, masks") {
  using fb = ladle::simd::batch<float>;
  constexpr std::size_t n = fb::size;
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = float(i) - 1.5f;
  const fb b = fb::load_unaligned(v.data());
  CHECK(ladle::simd::reduce_add(b) == doctest::Approx(n * (n - 1) / 2.0 - 1.5 * n));
  CHECK(ladle::simd::reduce_max(b) == float(n) - 2.5f);
  CHECK(ladle::simd::reduce_min(b) == -1.5f);
  const auto bits = ladle::simd::bitwise_cast<std::uint32_t>(fb(1.0f));
  CHECK(bits.get(0) == 0x3f800000u);
  const auto mask = b > fb(0.f);
  std::uint64_t expected = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (v[i] > 0) expected |= std::uint64_t(1) << i;
  CHECK(ladle::simd::mask_bits(mask) == expected);
  CHECK(ladle::simd::count(mask) == int(n) - 2);
  CHECK(std::string(ladle::simd::arch_name()).size() > 0);
  // nonfinite flags NaN and both infinities on every architecture (xsimd 8.1's AVX `!=` does not).
  std::vector<float> w(n, 1.0f);
  w[0] = std::numeric_limits<float>::quiet_NaN();
  if (n > 1) w[1] = std::numeric_limits<float>::infinity();
  if (n > 2) w[2] = -std::numeric_limits<float>::infinity();
  if (n > 3) w[3] = std::numeric_limits<float>::max();
  std::uint64_t nonfinite_bits = n > 2 ? 7u : (n > 1 ? 3u : 1u);
  CHECK(ladle::simd::mask_bits(ladle::simd::nonfinite(fb::load_unaligned(w.data()))) == nonfinite_bits);
  CHECK(ladle::simd::mask_bits(ladle::simd::nonfinite(fb(0.0f))) == 0u);
  // Ties: nearbyint rounds half to even, round half away from zero.
  CHECK(xsimd::nearbyint(fb(2.5f)).get(0) == 2.f);
  CHECK(xsimd::round(fb(2.5f)).get(0) == 3.f);
}

// simd::fma rounds once, like std::fma, at every optimisation level (xsimd 8.1's AVX-512 fma is a
// plain a * b + c that only GCC's -O2 contraction fuses; an -O1 sanitizer build caught it).
// With e = 2^-12 (float) or 2^-27 (double), (1 + e)^2 - 1 is 2e + e^2 fused and 2e with the
// product rounded first.
template <class T>
void check_fma_is_fused() {
  using B = ladle::simd::batch<T>;
  constexpr std::size_t n = B::size;
  const int e = std::is_same<T, float>::value ? -12 : -27;
  std::vector<T> a(n), c(n), out(n);
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = T(1) + std::ldexp(T(1), e) * T(1 + i % 3);  // through memory: no constant folding
    c[i] = -T(1);
  }
  const B va = B::load_unaligned(a.data());
  ladle::simd::fma(va, va, B::load_unaligned(c.data())).store_unaligned(out.data());
  std::size_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) bad += out[i] != std::fma(a[i], a[i], c[i]);
  CHECK(bad == 0);
  CHECK(out[0] == std::ldexp(T(1), e + 1) + std::ldexp(T(1), 2 * e));
}

// mask_bits reads the mask register directly on xsimd 8's x86 paths: every lane pattern of the
// lane order (a one-hot lane, alternating lanes, a lone top lane, all and none), float and double.
template <class T>
void check_mask_bits() {
  using B = ladle::simd::batch<T>;
  constexpr std::size_t n = B::size;
  const std::uint64_t all = n == 64 ? ~std::uint64_t(0) : (std::uint64_t(1) << n) - 1;
  std::vector<std::uint64_t> patterns = {0, all, std::uint64_t(1) << (n - 1), 0x5555555555555555u & all,
                                         0xaaaaaaaaaaaaaaaau & all, 0x3u & all, std::uint64_t(0x6) & all};
  for (std::uint64_t want : patterns) {
    std::vector<T> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = (want >> i) & 1u ? T(1) : T(-1);
    CHECK(ladle::simd::mask_bits(B::load_unaligned(v.data()) > B(T(0))) == want);
    int ones = 0;
    for (std::size_t i = 0; i < n; ++i) ones += int((want >> i) & 1u);
    CHECK(ladle::simd::count(B::load_unaligned(v.data()) > B(T(0))) == ones);
  }
}

TEST_CASE("simd::mask_bits: lane order and every pattern, float and double") {
  check_mask_bits<float>();
  check_mask_bits<double>();
}

TEST_CASE("simd::fma is one rounding, float and double") {
  check_fma_is_fused<float>();
  check_fma_is_fused<double>();
}
#else
TEST_CASE("scalar build: no SIMD architecture") {
  CHECK(std::string(ladle::simd::arch_name()) == "scalar");
}
#endif

}  // namespace LADLE_TEST_FILE
}  // namespace
