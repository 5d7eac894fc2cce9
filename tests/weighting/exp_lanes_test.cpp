// The softmax weights' exp in SIMD lanes and in scalar code: the same bits for every value (the
// cross-ISA promise rests on it), the float exp's error against the correctly rounded exp, and
// whole weight vectors through SIMD bodies and tails equal to the all-scalar strided path.
#include <ladle/weighting.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace {
namespace LADLE_TEST_FILE {

namespace {

template <class T>
std::vector<T> exp_arguments() {
  // Across the whole range, dense near 0, and around both flush thresholds (-708 double,
  // -87 float) and the last normal results.
  const T inf = std::numeric_limits<T>::infinity();
  std::vector<T> x = {T(0), -T(0), -std::numeric_limits<T>::denorm_min(),
                      -std::numeric_limits<T>::min(), T(-1e-30), -inf, T(-0.5), T(-0.3465735902799726),
                      T(-0.34657359027997264), T(-0.6931471805599453), T(-708), T(-707.9999), T(-708.0001),
                      T(-709), T(-745.2), T(-87), T(-86.9999), T(-87.0001), T(-88.7), T(-103.9)};
  for (int i = 0; i < 4001; ++i) x.push_back(T(-760.0 * i / 4000.0 - 1e-7 * (i % 11)));
  for (int i = 0; i < 2001; ++i) x.push_back(T(-2.0 * i / 2000.0));
  for (int i = 0; i < 2001; ++i) x.push_back(T(-86.0 - 3.0 * i / 2000.0));
  return x;
}

template <class T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

template <class T>
void check_lanes_match_scalar() {
#if LADLE_HAS_SIMD
  using B = ladle::simd::batch<T>;
  constexpr std::size_t n = B::size;
  auto x = exp_arguments<T>();
  while (x.size() % n != 0) x.push_back(T(-1));
  std::vector<T> got(x.size());
  for (std::size_t i = 0; i < x.size(); i += n)
    ladle::detail::exp_nonpositive(B::load_unaligned(x.data() + i)).store_unaligned(got.data() + i);
  int mismatches = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!same_bits(got[i], ladle::detail::exp_nonpositive(x[i]))) ++mismatches;
  CHECK(mismatches == 0);
#endif
}

}  // namespace

TEST_CASE("exp in SIMD lanes has the scalar exp's bits for every argument, double and float") {
  check_lanes_match_scalar<double>();
  check_lanes_match_scalar<float>();
}

TEST_CASE("float exp: within 2 ulp of the correctly rounded exp on [-87, 0], 0 below") {
  CHECK(ladle::detail::exp_nonpositive(0.0f) == 1.0f);
  CHECK(ladle::detail::exp_nonpositive(-87.5f) == 0.0f);
  CHECK(ladle::detail::exp_nonpositive(-std::numeric_limits<float>::infinity()) == 0.0f);
  // Every 61st float from -0 down to -87 (18 million arguments; the prime stride varies the low
  // mantissa bits). The reference is exp in double, rounded: within 1/2 ulp + 2^-29 ulp of exp.
  std::uint32_t bits_lo;
  const float lo = -87.0f;
  std::memcpy(&bits_lo, &lo, sizeof lo);
  double worst = 0;
  for (std::uint32_t b = 0x80000000u; b <= bits_lo; b += 61) {
    float x;
    std::memcpy(&x, &b, sizeof x);
    const double want = std::exp(static_cast<double>(x));
    const float got = ladle::detail::exp_nonpositive(x);
    const double ulp = std::ldexp(1.0, std::ilogb(want) - 23);
    worst = std::max(worst, std::abs(static_cast<double>(got) - want) / ulp);
  }
  CHECK(worst <= 2.0);
  MESSAGE("float exp: worst error " << worst << " ulp");
}

TEST_CASE("softmax weights: SIMD bodies and tails give the all-scalar strided path's bits") {
  // The strided views go through the scalar code only; the contiguous ones through SIMD blocks of
  // 32 and a scalar tail. Losses spread so (l - max) / r crosses both flush thresholds.
  for (std::size_t len : {1u, 7u, 31u, 32u, 33u, 100u, 16384u + 37u, 40000u}) {
    std::vector<double> ld(2 * len);
    std::vector<float> lf(2 * len);
    for (std::size_t i = 0; i < len; ++i) {
      const double v = 900.0 * std::fmod(i * 0.6180339887498949, 1.0);
      ld[2 * i] = v;
      lf[2 * i] = static_cast<float>(v);
    }
    std::vector<double> dflat(len), dstrided(len);
    std::vector<float> fflat(len), fstrided(len);
    const auto dstr = ladle::make_view(ld.data(), {static_cast<ladle::index_t>(len)}, {2});
    const auto fstr = ladle::make_view(lf.data(), {static_cast<ladle::index_t>(len)}, {2});
    std::vector<double> ldc(len);
    std::vector<float> lfc(len);
    for (std::size_t i = 0; i < len; ++i) ldc[i] = ld[2 * i], lfc[i] = lf[2 * i];
    const auto dv = ladle::make_view(ldc.data(), len);
    const auto fv = ladle::make_view(lfc.data(), len);
    for (double r : {1.0, 0.95, 10.0}) {
      ladle::kl_dro_weights_into(ladle::par(3), dv, ladle::make_view(dflat.data(), len), r);
      ladle::kl_dro_weights_into(dstr, ladle::make_view(dstrided.data(), len), r);
      CHECK(std::memcmp(dflat.data(), dstrided.data(), len * sizeof(double)) == 0);
      ladle::kl_dro_weights_into(ladle::par(3), fv, ladle::make_view(fflat.data(), len), r);
      ladle::kl_dro_weights_into(fstr, ladle::make_view(fstrided.data(), len), r);
      CHECK(std::memcmp(fflat.data(), fstrided.data(), len * sizeof(float)) == 0);
      double s = 0;
      for (float w : fflat) s += w;
      CHECK(s == doctest::Approx(1.0).epsilon(1e-5));
    }
    using S = ladle::loss_strategy;
    for (S st : {S::lin_upper, S::quadratic, S::extremes, S::upper}) {
      ladle::loss_reweighting_options o;
      o.strategy = st;
      o.r = 0.01;  // (f - max f) / r reaches -200: past float's flush threshold
      ladle::loss_based_weights_into(dv, ladle::make_view(dflat.data(), len), o);
      ladle::loss_based_weights_into(dstr, ladle::make_view(dstrided.data(), len), o);
      CHECK(std::memcmp(dflat.data(), dstrided.data(), len * sizeof(double)) == 0);
      ladle::loss_based_weights_into(fv, ladle::make_view(fflat.data(), len), o);
      ladle::loss_based_weights_into(fstr, ladle::make_view(fstrided.data(), len), o);
      CHECK(std::memcmp(fflat.data(), fstrided.data(), len * sizeof(float)) == 0);
    }
  }
}

}  // namespace LADLE_TEST_FILE
}  // namespace
