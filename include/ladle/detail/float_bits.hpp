// ladle/detail/float_bits.hpp: bit-exact scalar conversions between float and the 16-bit
// formats (IEEE binary16 "half", bfloat16), round-to-nearest-even.
//
// Dependency-free and LADLE_HOST_DEVICE so the CUDA headers can share them. They assume the
// default floating-point environment (round-to-nearest, no flush-to-zero).
#pragma once

#include "ladle/config.hpp"

#include <cstdint>
#include <cstring>

namespace ladle {
namespace detail {

LADLE_HOST_DEVICE inline std::uint32_t float_to_bits(float f) noexcept {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

LADLE_HOST_DEVICE inline float bits_to_float(std::uint32_t u) noexcept {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

/// bfloat16 bits -> float (exact).
LADLE_HOST_DEVICE inline float bf16_bits_to_float(std::uint16_t h) noexcept {
  return bits_to_float(static_cast<std::uint32_t>(h) << 16);
}

/// float -> bfloat16 bits, round to nearest even; NaN stays NaN (quieted), overflow gives inf.
LADLE_HOST_DEVICE inline std::uint16_t float_to_bf16_bits(float f) noexcept {
  std::uint32_t u = float_to_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x0040u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(u >> 16);
}

/// binary16 bits -> float (exact, subnormals and NaN payloads kept).
LADLE_HOST_DEVICE inline float half_bits_to_float(std::uint16_t h) noexcept {
  const std::uint32_t shifted_exp = 0x7c00u << 13;
  std::uint32_t o = (static_cast<std::uint32_t>(h) & 0x7fffu) << 13;
  const std::uint32_t exp = shifted_exp & o;
  o += (127u - 15u) << 23;
  if (exp == shifted_exp) {
    o += (128u - 16u) << 23;  // inf / NaN
  } else if (exp == 0) {
    o += 1u << 23;  // subnormal: renormalise through a float subtraction (exact)
    o = float_to_bits(bits_to_float(o) - bits_to_float(113u << 23));
  }
  return bits_to_float(o | ((static_cast<std::uint32_t>(h) & 0x8000u) << 16));
}

/// float -> binary16 bits, round to nearest even; overflow gives inf, NaN gives a quiet NaN.
LADLE_HOST_DEVICE inline std::uint16_t float_to_half_bits(float f) noexcept {
  const std::uint32_t f32_inf = 255u << 23;
  const std::uint32_t f16_max = (127u + 16u) << 23;             // 2^16: first value that overflows
  const std::uint32_t denorm_magic = ((127u - 15u) + (23u - 10u) + 1u) << 23;
  std::uint32_t u = float_to_bits(f);
  const std::uint32_t sign = u & 0x80000000u;
  u ^= sign;
  std::uint32_t o;
  if (u >= f16_max) {
    o = u > f32_inf ? 0x7e00u : 0x7c00u;
  } else if (u < (113u << 23)) {
    // Result is subnormal (or zero): let the FPU round by adding a magic number.
    o = float_to_bits(bits_to_float(u) + bits_to_float(denorm_magic)) - denorm_magic;
  } else {
    const std::uint32_t mant_odd = (u >> 13) & 1u;
    u += (static_cast<std::uint32_t>(15 - 127) << 23) + 0xfffu;
    u += mant_odd;
    o = u >> 13;
  }
  return static_cast<std::uint16_t>(o | (sign >> 16));
}

}  // namespace detail
}  // namespace ladle
