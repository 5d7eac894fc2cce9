// ladle/quantization/detail/formats_minifloat.hpp (detail): one codec for every small float
// format ladle stores (FP8 E4M3/E5M2, FP6 E3M2/E2M3, FP4 E2M1).
//
// A format is described at run time by a minifloat_spec; the scalar encoder works on the bits of
// a float or double, the SIMD encoder on batches of float, and both give identical codes (tests
// compare them). Rounding is to nearest, ties to even, on the exact input value, including into
// the subnormal range: no double rounding, because the input is never narrowed first.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/simd_memory.hpp"
#include "ladle/detail/float_bits.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace ladle {
namespace detail {

/// A sign + exponent + mantissa format of at most 8 bits. Codes are sign << (ebits + mbits) |
/// magnitude; magnitude codes order like the values they encode.
struct minifloat_spec {
  int ebits;                // exponent bits
  int mbits;                // mantissa bits
  int bias;                 // exponent bias
  std::uint32_t max_code;   // magnitude code of the largest finite value
  std::uint32_t inf_code;   // magnitude code of infinity, or 0 when the format has none
  std::uint32_t nan_code;   // magnitude code produced for NaN, or 0 when the format has none
};

inline constexpr minifloat_spec spec_e4m3{4, 3, 7, 0x7e, 0, 0x7f};
inline constexpr minifloat_spec spec_e5m2{5, 2, 15, 0x7b, 0x7c, 0x7f};
inline constexpr minifloat_spec spec_e3m2{3, 2, 3, 0x1f, 0, 0};
inline constexpr minifloat_spec spec_e2m3{2, 3, 1, 0x1f, 0, 0};
inline constexpr minifloat_spec spec_e2m1{2, 1, 1, 0x7, 0, 0};

/// The code produced when a finite value overflows: ±max when saturating, else ±inf, else NaN.
constexpr std::uint32_t overflow_code(const minifloat_spec& s, bool saturate) noexcept {
  return saturate ? s.max_code : (s.inf_code != 0 ? s.inf_code : s.nan_code);
}

template <class Float>
struct float_layout;
template <>
struct float_layout<float> {
  using bits_type = std::uint32_t;
  static constexpr int mant = 23;
  static constexpr int bias = 127;
  static constexpr int width = 32;
};
template <>
struct float_layout<double> {
  using bits_type = std::uint64_t;
  static constexpr int mant = 52;
  static constexpr int bias = 1023;
  static constexpr int width = 64;
};

/// Encodes one float or double. NaN gives the format's NaN code (or 0 for formats without NaN,
/// which callers handle before calling); ±inf is an overflow.
template <class Float>
inline std::uint32_t minifloat_encode(Float x, const minifloat_spec& s, bool saturate) noexcept {
  using L = float_layout<Float>;
  using B = typename L::bits_type;
  B u;
  std::memcpy(&u, &x, sizeof u);
  const B sign_mask = B(1) << (L::width - 1);
  const std::uint32_t sign = (u & sign_mask) != 0 ? (1u << (s.ebits + s.mbits)) : 0u;
  const B a = u & ~sign_mask;
  const B inf_bits = ((B(1) << (L::width - 1 - L::mant)) - 1) << L::mant;
  if (a > inf_bits) return sign | s.nan_code;
  // Smallest normal of the target, 2^(1 - bias), as source bits.
  const B min_normal = B(L::bias + 1 - s.bias) << L::mant;
  std::uint32_t code;
  if (a < min_normal) {
    // Subnormal range: the code is the value in units of the smallest subnormal, rounded to
    // nearest even (an exact power-of-two scaling, then rint). 2^mbits is the smallest normal.
    Float mag;
    std::memcpy(&mag, &a, sizeof mag);
    const Float scaled = std::ldexp(mag, s.bias - 1 + s.mbits);
    code = static_cast<std::uint32_t>(std::nearbyint(scaled));
  } else {
    // Normal range: round the source mantissa to mbits bits, ties to even, by integer add;
    // a carry rolls into the exponent, which is what rounding up to the next binade means.
    const int shift = L::mant - s.mbits;
    const B r = a + ((B(1) << (shift - 1)) - 1) + ((a >> shift) & B(1));
    const B rebias = B(L::bias - s.bias) << s.mbits;
    const B c = (r >> shift) - rebias;
    code = c > B(s.max_code) ? s.max_code + 1 : static_cast<std::uint32_t>(c);
  }
  if (code > s.max_code) code = overflow_code(s, saturate);
  return sign | code;
}

/// Exact value of a code (NaN / inf where the format has them).
inline float minifloat_decode(std::uint32_t code, const minifloat_spec& s) noexcept {
  const int nbits = s.ebits + s.mbits;
  const bool negative = ((code >> nbits) & 1u) != 0;
  const std::uint32_t mag = code & ((1u << nbits) - 1u);
  float v;
  if (s.nan_code != 0 && mag == s.nan_code) {
    v = std::numeric_limits<float>::quiet_NaN();
  } else if (s.inf_code != 0 && mag == s.inf_code) {
    v = std::numeric_limits<float>::infinity();
  } else if (mag > s.max_code) {
    v = std::numeric_limits<float>::quiet_NaN();  // the other NaN encodings (E5M2)
  } else {
    const int e = static_cast<int>(mag >> s.mbits);
    const int m = static_cast<int>(mag & ((1u << s.mbits) - 1u));
    v = e == 0 ? std::ldexp(static_cast<float>(m), 1 - s.bias - s.mbits)
               : std::ldexp(static_cast<float>((1 << s.mbits) + m), e - s.bias - s.mbits);
  }
  return negative ? -v : v;
}

/// Decode table with 2^(1 + ebits + mbits) entries.
template <std::size_t N>
std::array<float, N> make_minifloat_table(const minifloat_spec& s) noexcept {
  std::array<float, N> t{};
  for (std::size_t c = 0; c < N; ++c) t[c] = minifloat_decode(static_cast<std::uint32_t>(c), s);
  return t;
}

/// Scalar reference for a run of floats: out[i] = code of in[i] * scale (scale a power of two
/// or 1, applied exactly).
inline void minifloat_encode_n_scalar(const float* in, std::uint8_t* out, index_t n, float scale,
                                      const minifloat_spec& s, bool saturate) noexcept {
  for (index_t i = 0; i < n; ++i)
    out[i] = static_cast<std::uint8_t>(minifloat_encode(in[i] * scale, s, saturate));
}

#if LADLE_HAS_SIMD
// GCC 12's AVX-512 shift / convert intrinsics seed their result with a self-initialised
// "undefined" vector, which -Wuninitialized reports once inlined here (a false positive).
#  if defined(__GNUC__) && !defined(__clang__)
#    pragma GCC diagnostic push
#    pragma GCC diagnostic ignored "-Wuninitialized"
#    pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#  endif
/// The SIMD encoder of one format, its constants broadcast once (callers that encode many short
/// runs, like MX blocks, build it once per row).
struct minifloat_simd {
  using fb = simd::batch<float>;
  using ib = simd::batch<std::int32_t>;
  int shift, sign_shift;
  ib abs_mask, inf_bits, min_normal, round_half, rebias, max_code, ovf_code, nan_code, sign_mask;
  fb sub_scale;

  minifloat_simd(const minifloat_spec& s, bool saturate) noexcept
      : shift(23 - s.mbits),
        sign_shift(31 - (s.ebits + s.mbits)),
        abs_mask(0x7fffffff),
        inf_bits(0x7f800000),
        min_normal((127 + 1 - s.bias) << 23),
        round_half((1 << (22 - s.mbits)) - 1),
        rebias((127 - s.bias) << s.mbits),
        max_code(static_cast<std::int32_t>(s.max_code)),
        ovf_code(static_cast<std::int32_t>(overflow_code(s, saturate))),
        nan_code(static_cast<std::int32_t>(s.nan_code)),
        sign_mask(1 << (s.ebits + s.mbits)),
        sub_scale(std::ldexp(1.0f, s.bias - 1 + s.mbits)) {}

  /// Codes of a batch (same bits as minifloat_encode on each lane).
  LADLE_FORCE_INLINE ib encode(const fb& x) const noexcept {
    const ib u = simd::bitwise_cast<std::int32_t>(x);
    const ib a = u & abs_mask;
    const ib sign = (u >> sign_shift) & sign_mask;
    const ib r = a + round_half + ((a >> shift) & ib(1));
    const ib normal = (r >> shift) - rebias;
    const ib sub = xsimd::nearbyint_as_int(simd::bitwise_cast<float>(a) * sub_scale);
    ib code = simd::select(a < min_normal, sub, normal);
    code = simd::select(code > max_code, ovf_code, code);
    code = simd::select(a > inf_bits, nan_code, code);
    return code | sign;
  }
};

/// Stores the low byte of each lane of a batch of codes.
LADLE_FORCE_INLINE void store_code_bytes(const simd::batch<std::int32_t>& c, std::uint8_t* out) noexcept {
  simd::store_narrow(c & simd::batch<std::int32_t>(0xFF), out);
}

/// The same codes as minifloat_encode_n_scalar, a batch of floats at a time.
inline void minifloat_encode_n_simd(const float* in, std::uint8_t* out, index_t n, float scale,
                                    const minifloat_spec& s, bool saturate) noexcept {
  using fb = simd::batch<float>;
  constexpr index_t w = static_cast<index_t>(fb::size);
  const minifloat_simd k(s, saturate);
  const fb vscale(scale);
  const index_t body = n - n % w;
  index_t i = 0;
  for (; i < body; i += w) {
    simd::prefetch(in + i);
    store_code_bytes(k.encode(fb::load_unaligned(in + i) * vscale), out + i);
  }
  minifloat_encode_n_scalar(in + i, out + i, n - i, scale, s, saturate);
}
#  if defined(__GNUC__) && !defined(__clang__)
#    pragma GCC diagnostic pop
#  endif
#endif

/// Dispatches to the SIMD kernel where built, else the scalar reference.
inline void minifloat_encode_n(const float* in, std::uint8_t* out, index_t n, float scale,
                               const minifloat_spec& s, bool saturate) noexcept {
#if LADLE_HAS_SIMD
  minifloat_encode_n_simd(in, out, n, scale, s, saturate);
#else
  minifloat_encode_n_scalar(in, out, n, scale, s, saturate);
#endif
}

}  // namespace detail
}  // namespace ladle
