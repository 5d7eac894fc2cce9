// ladle/quantization/detail/formats_fp8_impl.hpp (detail): definitions for formats/fp8.hpp.
#pragma once

#include "ladle/quantization/detail/formats_minifloat.hpp"

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace ladle {
namespace detail {

constexpr const minifloat_spec& fp8_spec(fp8_format f) noexcept {
  return f == fp8_format::e4m3 ? spec_e4m3 : spec_e5m2;
}

// Rows of this many elements go through a stack buffer when the input must be widened.
inline constexpr index_t fp8_chunk = 512;

// Grain of the parallel forms (elements per task); fixed so chunking never depends on threads.
inline constexpr index_t fp8_grain = index_t(1) << 16;

template <class T, std::size_t Rank>
void fp8_check_pair(const tensor_view<T, Rank>& a, const tensor_view<std::uint8_t, Rank>& b,
                    const char* fn, const char* a_name, const char* b_name) {
  require_host(a, fn, a_name);
  require_host(b, fn, b_name);
  require_contiguous(a, fn, a_name);
  require_contiguous(b, fn, b_name);
  for (std::size_t r = 0; r < Rank; ++r) require_extent(b.extent(r), a.extent(r), fn, b_name, "extent");
  require_disjoint(b, b_name, a, a_name, fn);
}

}  // namespace detail

template <class T>
std::uint8_t fp8_encode(T x, fp8_format format, fp8_overflow overflow) noexcept {
  static_assert(is_float_like_v<T>, "ladle::fp8_encode: T must be float, double, half or bfloat16");
  const bool sat = overflow == fp8_overflow::saturate;
  if constexpr (std::is_same<T, double>::value)
    return static_cast<std::uint8_t>(detail::minifloat_encode(x, detail::fp8_spec(format), sat));
  else
    return static_cast<std::uint8_t>(
        detail::minifloat_encode(to_float(x), detail::fp8_spec(format), sat));
}

inline const std::array<float, 256>& fp8_decode_table(fp8_format format) noexcept {
  static const std::array<float, 256> e4m3 = detail::make_minifloat_table<256>(detail::spec_e4m3);
  static const std::array<float, 256> e5m2 = detail::make_minifloat_table<256>(detail::spec_e5m2);
  return format == fp8_format::e4m3 ? e4m3 : e5m2;
}

inline float fp8_decode(std::uint8_t code, fp8_format format) noexcept {
  return fp8_decode_table(format)[code];
}

template <class T>
void fp8_encode_n_scalar(const T* in, std::uint8_t* out, index_t n, fp8_options options) noexcept {
  for (index_t i = 0; i < n; ++i) out[i] = fp8_encode(in[i], options.format, options.overflow);
}

template <class T>
void fp8_encode_n(const T* in, std::uint8_t* out, index_t n, fp8_options options) noexcept {
  static_assert(is_float_like_v<T>, "ladle::fp8_encode_n: T must be float, double, half or bfloat16");
  const auto& spec = detail::fp8_spec(options.format);
  const bool sat = options.overflow == fp8_overflow::saturate;
  if constexpr (std::is_same<T, float>::value) {
    detail::minifloat_encode_n(in, out, n, 1.0f, spec, sat);
  } else if constexpr (std::is_same<T, double>::value) {
    fp8_encode_n_scalar(in, out, n, options);
  } else {
    float buf[detail::fp8_chunk];
    for (index_t i = 0; i < n; i += detail::fp8_chunk) {
      const index_t m = std::min(detail::fp8_chunk, n - i);
      convert_n(in + i, buf, m);  // exact widening
      detail::minifloat_encode_n(buf, out + i, m, 1.0f, spec, sat);
    }
  }
}

namespace detail {

/// out[i] = table[in[i]] for i < n: whole batches by a gather in registers. With `stream` the
/// batches after an aligning head use streaming stores (the caller fences).
inline void fp8_decode_floats(const std::uint8_t* in, float* out, index_t n, const float* table,
                              bool stream) noexcept {
#if LADLE_HAS_SIMD
  simd::store_floats(
      out, n, stream,
      [&](index_t i) {
        simd::prefetch(in + i);
        return simd::gather(table, simd::load_widen(in + i));
      },
      [&](index_t i) { out[i] = table[in[i]]; });
#else
  (void)stream;
  for (index_t i = 0; i < n; ++i) out[i] = table[in[i]];
#endif
}

}  // namespace detail

template <class T>
void fp8_decode_n(const std::uint8_t* in, T* out, index_t n, fp8_format format) noexcept {
  static_assert(is_float_like_v<T>, "ladle::fp8_decode_n: T must be float, double, half or bfloat16");
  const float* table = fp8_decode_table(format).data();
  if constexpr (std::is_same<T, float>::value) {
    const bool stream = static_cast<std::size_t>(n) * sizeof(float) >= LADLE_STREAM_MIN_BYTES;
    detail::fp8_decode_floats(in, out, n, table, stream);
#if LADLE_HAS_SIMD
    if (stream) simd::stream_fence();
#endif
  } else if constexpr (std::is_same<T, double>::value) {
    for (index_t i = 0; i < n; ++i) out[i] = static_cast<double>(table[in[i]]);
  } else {
    float buf[detail::fp8_chunk];
    for (index_t i = 0; i < n; i += detail::fp8_chunk) {
      const index_t m = std::min(detail::fp8_chunk, n - i);
      for (index_t k = 0; k < m; ++k) buf[k] = table[in[i + k]];
      convert_n(buf, out + i, m);  // exact: FP8 values are representable in half and bfloat16
    }
  }
}

template <class Policy, class T, std::size_t Rank, class>
void fp8_encode(const Policy& policy, tensor_view<T, Rank> in, tensor_view<std::uint8_t, Rank> out,
                fp8_options options) {
  detail::fp8_check_pair(in, out, "fp8_encode", "in", "out");
  if (static_cast<unsigned>(options.format) > 1)
    throw_invalid_argument("fp8_encode", "options.format", "is not an fp8_format (",
                           unsigned(options.format), ")");
  if (static_cast<unsigned>(options.overflow) > 1)
    throw_invalid_argument("fp8_encode", "options.overflow", "is not an fp8_overflow (",
                           unsigned(options.overflow), ")");
  const auto* src = in.data();
  std::uint8_t* dst = out.data();
  parallel_for(policy, in.size(), detail::fp8_grain, [&](index_t b, index_t e) {
    fp8_encode_n(src + b, dst + b, e - b, options);
  });
}

template <class T, std::size_t Rank>
void fp8_encode(tensor_view<T, Rank> in, tensor_view<std::uint8_t, Rank> out, fp8_options options) {
  fp8_encode(seq, in, out, options);
}

template <class Policy, class Code, class T, std::size_t Rank, class>
void fp8_decode(const Policy& policy, tensor_view<Code, Rank> in, tensor_view<T, Rank> out,
                fp8_format format) {
  static_assert(std::is_same<std::remove_const_t<Code>, std::uint8_t>::value,
                "ladle::fp8_decode: codes must be uint8_t");
  static_assert(!std::is_const<T>::value, "ladle::fp8_decode: out must be writable");
  detail::require_host(in, "fp8_decode", "in");
  detail::require_host(out, "fp8_decode", "out");
  detail::require_contiguous(in, "fp8_decode", "in");
  detail::require_contiguous(out, "fp8_decode", "out");
  if (static_cast<unsigned>(format) > 1)
    throw_invalid_argument("fp8_decode", "format", "is not an fp8_format (", unsigned(format), ")");
  detail::require_disjoint(out, "out", in, "in", "fp8_decode");
  for (std::size_t r = 0; r < Rank; ++r)
    detail::require_extent(out.extent(r), in.extent(r), "fp8_decode", "out", "extent");
  const std::uint8_t* src = in.data();
  T* dst = out.data();
  if constexpr (std::is_same<T, float>::value) {
    // Large outputs are streamed (see LADLE_STREAM_MIN_BYTES).
    const bool stream = static_cast<std::size_t>(in.size()) * sizeof(float) >= LADLE_STREAM_MIN_BYTES;
    const float* table = fp8_decode_table(format).data();
    parallel_for(policy, in.size(), detail::fp8_grain, [&](index_t b, index_t e) {
      detail::fp8_decode_floats(src + b, dst + b, e - b, table, stream);
#if LADLE_HAS_SIMD
      if (stream) simd::stream_fence();
#endif
    });
    return;
  }
  parallel_for(policy, in.size(), detail::fp8_grain, [&](index_t b, index_t e) {
    fp8_decode_n(src + b, dst + b, e - b, format);
  });
}

template <class Code, class T, std::size_t Rank>
void fp8_decode(tensor_view<Code, Rank> in, tensor_view<T, Rank> out, fp8_format format) {
  fp8_decode(seq, in, out, format);
}

}  // namespace ladle
