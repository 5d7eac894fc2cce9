// Shared pieces of the weighting family's definitions.
#pragma once

#include "ladle/core/math.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/size.hpp"
#include "ladle/core/view.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace ladle {
namespace detail {

template <class T>
void require_writable_float(const char* fn) {
  static_assert(std::is_floating_point<T>::value && !std::is_const<T>::value,
                "ladle weighting: outputs are writable float or double views");
  (void)fn;
}

template <class T>
void require_float_input(const char* fn) {
  static_assert(std::is_floating_point<std::remove_cv_t<T>>::value,
                "ladle weighting: this input is a float or double view");
  (void)fn;
}

// A product that GCC's -ffp-contract=fast cannot fuse into a neighbouring add: the same rounding
// on every instruction set.
template <class V>
inline V mul_nocontract(V a, V b) noexcept {
  volatile V p = a * b;
  return p;
}

// exp(x) for x <= 0 (NaN-free input), used by the softmax-style weights. Cody-Waite reduction
// x = k ln2 + r, |r| <= ln2 / 2, and the degree-13 Taylor polynomial of e^r, all with explicit
// std::fma, so the result has the same bits on every instruction set and whether or not the
// compiler vectorises the calling loop (error within 2 ulp of std::exp). Results below 2^-1022
// flush to 0.
LADLE_FORCE_INLINE double exp_nonpositive(double x) noexcept {
  constexpr double log2e = 1.4426950408889634;
  constexpr double ln2_hi = 6.93147180369123816490e-01;
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  constexpr double shifter = 0x1.8p52;
  const bool tiny = x < -708.0;  // e^-708 ~ 3e-308: below, flush to 0 (and keep k >= -1022)
  x = tiny ? -708.0 : x;
  const double t = std::fma(x, log2e, shifter);
  const double k = t - shifter;  // round-to-nearest integer
  double r = std::fma(-k, ln2_hi, x);
  r = std::fma(-k, ln2_lo, r);
  double p = 1.0 / 6227020800.0;
  p = std::fma(p, r, 1.0 / 479001600.0);
  p = std::fma(p, r, 1.0 / 39916800.0);
  p = std::fma(p, r, 1.0 / 3628800.0);
  p = std::fma(p, r, 1.0 / 362880.0);
  p = std::fma(p, r, 1.0 / 40320.0);
  p = std::fma(p, r, 1.0 / 5040.0);
  p = std::fma(p, r, 1.0 / 720.0);
  p = std::fma(p, r, 1.0 / 120.0);
  p = std::fma(p, r, 1.0 / 24.0);
  p = std::fma(p, r, 1.0 / 6.0);
  p = std::fma(p, r, 0.5);
  p = std::fma(p, r, 1.0);
  p = std::fma(p, r, 1.0);
  std::int64_t ki;
  std::memcpy(&ki, &t, sizeof ki);  // low bits of t hold k
  ki = static_cast<std::int64_t>(static_cast<std::uint64_t>(ki) & 0xfffff) - 0x80000;
  const std::uint64_t bits = static_cast<std::uint64_t>(ki + 1023) << 52;
  double scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return tiny ? 0.0 : p * scale;
}

inline void require_positive_finite(double v, const char* fn, const char* arg) {
  if (!(v > 0) || !std::isfinite(v))
    throw_domain_error(fn, arg, "must be finite and > 0, got ", v);
}

}  // namespace detail
}  // namespace ladle
