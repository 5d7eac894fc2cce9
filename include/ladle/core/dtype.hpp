// ladle/core/dtype.hpp: the element types ladle computes on and fast conversions to/from float.
//
//   float, double        computed natively;
//   ladle::half          IEEE binary16 (Eigen::half);
//   ladle::bfloat16      bfloat16 (Eigen::bfloat16).
// 16-bit inputs are widened to float for arithmetic and narrowed back with round-to-nearest-even.
// The bulk converters below are vectorised and bit-identical to the scalar conversions.
#pragma once

#include "ladle/core/error.hpp"
#include "ladle/core/simd_memory.hpp"
#include "ladle/core/view.hpp"
#include "ladle/detail/float_bits.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace ladle {

using half = Eigen::half;
using bfloat16 = Eigen::bfloat16;

/// True for the element types ladle's numeric kernels accept.
template <class T>
inline constexpr bool is_float_like_v =
    std::is_same<T, float>::value || std::is_same<T, double>::value ||
    std::is_same<T, half>::value || std::is_same<T, bfloat16>::value;

/// Broad class of an element type (the DLPack codes use the same split).
enum class dtype_code : std::uint8_t { int_ = 0, uint_ = 1, float_ = 2, bfloat = 4 };

/// Runtime description of an element type: code + bit width.
struct dtype {
  dtype_code code;
  std::uint8_t bits;
  friend constexpr bool operator==(dtype a, dtype b) noexcept {
    return a.code == b.code && a.bits == b.bits;
  }
  friend constexpr bool operator!=(dtype a, dtype b) noexcept { return !(a == b); }
};

template <class T, class = void>
struct dtype_of;  // specialised for every supported element type
template <> struct dtype_of<float> { static constexpr dtype value{dtype_code::float_, 32}; };
template <> struct dtype_of<double> { static constexpr dtype value{dtype_code::float_, 64}; };
template <> struct dtype_of<half> { static constexpr dtype value{dtype_code::float_, 16}; };
template <> struct dtype_of<bfloat16> { static constexpr dtype value{dtype_code::bfloat, 16}; };
template <class T>
struct dtype_of<T, std::enable_if_t<std::is_integral<T>::value && !std::is_same<T, bool>::value>> {
  static constexpr dtype value{std::is_signed<T>::value ? dtype_code::int_ : dtype_code::uint_,
                               static_cast<std::uint8_t>(8 * sizeof(T))};
};
template <class T>
inline constexpr dtype dtype_v = dtype_of<std::remove_cv_t<T>>::value;

/// Readable name of a dtype ("float32", "bfloat16", "int8", ...).
inline const char* dtype_name(dtype t) noexcept {
  switch (t.code) {
    case dtype_code::float_:
      return t.bits == 16 ? "float16" : t.bits == 32 ? "float32" : t.bits == 64 ? "float64" : "float?";
    case dtype_code::bfloat: return t.bits == 16 ? "bfloat16" : "bfloat?";
    case dtype_code::int_:
      return t.bits == 8 ? "int8" : t.bits == 16 ? "int16" : t.bits == 32 ? "int32" : t.bits == 64 ? "int64" : "int?";
    case dtype_code::uint_:
      return t.bits == 8 ? "uint8" : t.bits == 16 ? "uint16" : t.bits == 32 ? "uint32" : t.bits == 64 ? "uint64" : "uint?";
  }
  return "unknown";
}

// ---- scalar conversions ------------------------------------------------------------------------

/// Widens any float-like value to float (exact for half and bfloat16).
template <class T>
LADLE_FORCE_INLINE float to_float(T v) noexcept {
  if constexpr (std::is_same<T, bfloat16>::value) {
    return detail::bf16_bits_to_float(Eigen::numext::bit_cast<std::uint16_t>(v));
  } else if constexpr (std::is_same<T, half>::value) {
    return detail::half_bits_to_float(Eigen::numext::bit_cast<std::uint16_t>(v));
  } else {
    return static_cast<float>(v);
  }
}

/// Narrows a float to T with round-to-nearest-even (identity for float).
template <class T>
LADLE_FORCE_INLINE T from_float(float v) noexcept {
  if constexpr (std::is_same<T, bfloat16>::value) {
    return Eigen::numext::bit_cast<bfloat16>(detail::float_to_bf16_bits(v));
  } else if constexpr (std::is_same<T, half>::value) {
    return Eigen::numext::bit_cast<half>(detail::float_to_half_bits(v));
  } else {
    return static_cast<T>(v);
  }
}

// ---- bulk conversions --------------------------------------------------------------------------

namespace detail {

#if LADLE_HAS_SIMD
// 8 or 16 16-bit values widened to float per step; the same bit recipes as float_bits.hpp.
/// simd::store_floats over out[0, n) with body(i) making the batches and scalar(i) the rest.
/// Outputs of at least LADLE_STREAM_MIN_BYTES are streamed, then fenced.
template <class Body, class Scalar>
LADLE_FORCE_INLINE void widen_loop(float* out, index_t n, Body&& body, Scalar&& scalar) noexcept {
  const bool streamed = static_cast<std::size_t>(n) * sizeof(float) >= LADLE_STREAM_MIN_BYTES;
  simd::store_floats(out, n, streamed, body, scalar);
  if (streamed) simd::stream_fence();
}

inline void bf16_to_float_simd(const std::uint16_t* in, float* out, index_t n) noexcept {
  using ub = simd::batch<std::uint32_t>;
  widen_loop(
      out, n,
      [&](index_t i) {
        simd::prefetch(in + i);
        const ub u = simd::bitwise_cast<std::uint32_t>(simd::load_widen(in + i));
        return simd::bitwise_cast<float>(u << 16);
      },
      [&](index_t i) { out[i] = bf16_bits_to_float(in[i]); });
}

inline void float_to_bf16_simd(const float* in, std::uint16_t* out, index_t n) noexcept {
  using ub = simd::batch<std::uint32_t>;
  using ib = simd::batch<std::int32_t>;
  constexpr index_t w = static_cast<index_t>(ub::size);
  const index_t body = n - n % w;
  index_t i = 0;
  for (; i < body; i += w) {
    simd::prefetch(in + i);
    const ub u = simd::bitwise_cast<std::uint32_t>(simd::batch<float>::load_unaligned(in + i));
    const ub rounded = (u + ub(0x7fffu) + ((u >> 16) & ub(1u))) >> 16;
    const ib magnitude = simd::bitwise_cast<std::int32_t>(u & ub(0x7fffffffu));
    const ub quiet_nan = (u >> 16) | ub(0x0040u);
    // All ones where magnitude > 0x7f800000 (NaN): the sign of (0x7f800000 - magnitude),
    // spread by an arithmetic shift.
    const auto is_nan = simd::bitwise_cast<std::uint32_t>((ib(0x7f800000) - magnitude) >> 31);
    const ub r = (quiet_nan & is_nan) | (rounded & ~is_nan);
    simd::store_narrow(simd::bitwise_cast<std::int32_t>(r), out + i);
  }
  for (; i < n; ++i) out[i] = float_to_bf16_bits(in[i]);
}

inline void half_to_float_simd(const std::uint16_t* in, float* out, index_t n) noexcept {
  using ib = simd::batch<std::int32_t>;
  using fb = simd::batch<float>;
  const ib shifted_exp(0x7c00 << 13);
  widen_loop(
      out, n,
      [&](index_t i) {
        simd::prefetch(in + i);
        const ib h = simd::load_widen(in + i);
        ib o = (h & ib(0x7fff)) << 13;
        const ib exp = o & shifted_exp;
        o = o + ib((127 - 15) << 23);
        const ib inf_nan = o + ib((128 - 16) << 23);
        const ib sub = simd::bitwise_cast<std::int32_t>(
            simd::bitwise_cast<float>(o + ib(1 << 23)) - fb(bits_to_float(113u << 23)));
        o = simd::select(exp == shifted_exp, inf_nan, simd::select(exp == ib(0), sub, o));
        o = o | ((h & ib(0x8000)) << 16);
        return simd::bitwise_cast<float>(o);
      },
      [&](index_t i) { out[i] = half_bits_to_float(in[i]); });
}

inline void float_to_half_simd(const float* in, std::uint16_t* out, index_t n) noexcept {
  using ib = simd::batch<std::int32_t>;
  using fb = simd::batch<float>;
  constexpr index_t w = static_cast<index_t>(ib::size);
  const std::int32_t denorm_magic = ((127 - 15) + (23 - 10) + 1) << 23;
  const index_t body = n - n % w;
  index_t i = 0;
  for (; i < body; i += w) {
    simd::prefetch(in + i);
    const ib bits = simd::bitwise_cast<std::int32_t>(fb::load_unaligned(in + i));
    const ib sign = bits & ib(static_cast<std::int32_t>(0x80000000u));
    const ib u = bits ^ sign;  // magnitude, as a non-negative int32
    const ib big = simd::select(u > ib(255 << 23), ib(0x7e00), ib(0x7c00));
    const ib sub = simd::bitwise_cast<std::int32_t>(simd::bitwise_cast<float>(u) +
                                                    fb(bits_to_float(denorm_magic))) -
                   ib(denorm_magic);
    const ib mant_odd = (u >> 13) & ib(1);
    const ib normal = (u + ib(static_cast<std::int32_t>(static_cast<std::uint32_t>(15 - 127) << 23)) +
                       ib(0xfff) + mant_odd) >> 13;
    ib o = simd::select(u >= ib((127 + 16) << 23), big,
                         simd::select(u < ib(113 << 23), sub, normal));
    o = (o & ib(0xffff)) | ((sign >> 16) & ib(0x8000));
    simd::store_narrow(o, out + i);
  }
  for (; i < n; ++i) out[i] = float_to_half_bits(in[i]);
}
#endif

template <class T>
const std::uint16_t* bits16(const T* p) noexcept {
  static_assert(sizeof(T) == 2, "16-bit type expected");
  return reinterpret_cast<const std::uint16_t*>(p);
}
template <class T>
std::uint16_t* bits16(T* p) noexcept {
  static_assert(sizeof(T) == 2, "16-bit type expected");
  return reinterpret_cast<std::uint16_t*>(p);
}

}  // namespace detail

/// Converts n contiguous values from Src to Dst (float-like types). 16-bit targets round to
/// nearest even; the SIMD and scalar paths give identical bits.
template <class Src, class Dst>
void convert_n(const Src* in, Dst* out, index_t n) noexcept {
  static_assert(is_float_like_v<Src> && is_float_like_v<Dst>,
                "ladle::convert_n: Src and Dst must be float, double, half or bfloat16");
  if constexpr (std::is_same<Src, Dst>::value) {
    if (n > 0) std::memcpy(static_cast<void*>(out), in, static_cast<std::size_t>(n) * sizeof(Src));
#if LADLE_HAS_SIMD
  } else if constexpr (std::is_same<Src, bfloat16>::value && std::is_same<Dst, float>::value) {
    detail::bf16_to_float_simd(detail::bits16(in), out, n);
  } else if constexpr (std::is_same<Src, float>::value && std::is_same<Dst, bfloat16>::value) {
    detail::float_to_bf16_simd(in, detail::bits16(out), n);
  } else if constexpr (std::is_same<Src, half>::value && std::is_same<Dst, float>::value) {
    detail::half_to_float_simd(detail::bits16(in), out, n);
  } else if constexpr (std::is_same<Src, float>::value && std::is_same<Dst, half>::value) {
    detail::float_to_half_simd(in, detail::bits16(out), n);
#endif
  } else if constexpr (std::is_same<Dst, double>::value) {
    for (index_t i = 0; i < n; ++i) out[i] = static_cast<double>(to_float(in[i]));
  } else if constexpr (std::is_same<Src, double>::value) {
    // double -> 16-bit goes through float: a double rounding, documented (< 1 ulp of the target).
    for (index_t i = 0; i < n; ++i) out[i] = from_float<Dst>(static_cast<float>(in[i]));
  } else {
    for (index_t i = 0; i < n; ++i) out[i] = from_float<Dst>(to_float(in[i]));
  }
}

/// Scalar reference for convert_n (the path LADLE_DISABLE_SIMD builds take); tests compare both.
template <class Src, class Dst>
void convert_n_scalar(const Src* in, Dst* out, index_t n) noexcept {
  for (index_t i = 0; i < n; ++i) {
    if constexpr (std::is_same<Src, double>::value && !std::is_same<Dst, double>::value)
      out[i] = from_float<Dst>(static_cast<float>(in[i]));
    else if constexpr (std::is_same<Dst, double>::value)
      out[i] = static_cast<double>(to_float(in[i]));
    else
      out[i] = from_float<Dst>(to_float(in[i]));
  }
}

/// Converts a host view element by element into `out` (same extents; any strides).
template <class Src, class Dst, std::size_t Rank>
void convert(tensor_view<Src, Rank> in, tensor_view<Dst, Rank> out) {
  static_assert(!std::is_const<Dst>::value, "ladle::convert: out must be writable");
  detail::require_host(in, "convert", "in");
  detail::require_host(out, "convert", "out");
  for (std::size_t r = 0; r < Rank; ++r)
    detail::require_extent(out.extent(r), in.extent(r), "convert", "out", "extent");
  // Same-type in-place conversion is a no-op copy; any other sharing would read converted data.
  detail::require_disjoint_or_same(out, "out", in, "in", "convert");
  if (in.is_contiguous() && out.is_contiguous()) {
    convert_n(in.data(), out.data(), in.size());
    return;
  }
  std::array<index_t, Rank> idx{};
  for (index_t n = 0; n < in.size(); ++n) {
    index_t oi = 0, oo = 0;
    for (std::size_t r = 0; r < Rank; ++r) {
      oi += idx[r] * in.stride(r);
      oo += idx[r] * out.stride(r);
    }
    convert_n(in.data() + oi, out.data() + oo, 1);
    for (std::size_t r = Rank; r-- > 0;) {
      if (++idx[r] < in.extent(r)) break;
      idx[r] = 0;
    }
  }
}

}  // namespace ladle
