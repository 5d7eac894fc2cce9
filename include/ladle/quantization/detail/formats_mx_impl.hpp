// ladle/quantization/detail/formats_mx_impl.hpp (detail): definitions for formats/mx.hpp.
#pragma once

#include "ladle/quantization/detail/formats_minifloat.hpp"
#include "ladle/quantization/formats/fp8.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace ladle {

constexpr int mx_element_bits(mx_element e) noexcept {
  return e == mx_element::fp6_e3m2 || e == mx_element::fp6_e2m3 ? 6
         : e == mx_element::fp4_e2m1                            ? 4
                                                                : 8;
}

constexpr int mx_element_emax(mx_element e) noexcept {
  switch (e) {
    case mx_element::fp8_e4m3: return 8;
    case mx_element::fp8_e5m2: return 15;
    case mx_element::fp6_e3m2: return 4;
    case mx_element::fp6_e2m3: return 2;
    case mx_element::fp4_e2m1: return 2;
    case mx_element::int8: return 0;
  }
  return 0;
}

constexpr float mx_element_max(mx_element e) noexcept {
  switch (e) {
    case mx_element::fp8_e4m3: return 448.0f;
    case mx_element::fp8_e5m2: return 57344.0f;
    case mx_element::fp6_e3m2: return 28.0f;
    case mx_element::fp6_e2m3: return 7.5f;
    case mx_element::fp4_e2m1: return 6.0f;
    case mx_element::int8: return 127.0f / 64.0f;
  }
  return 0.0f;
}

constexpr index_t mx_packed_row_bytes(index_t cols, mx_element e) noexcept {
  return cols * mx_element_bits(e) / 8;
}

namespace detail {

inline const minifloat_spec* mx_spec(mx_element e) noexcept {
  switch (e) {
    case mx_element::fp8_e4m3: return &spec_e4m3;
    case mx_element::fp8_e5m2: return &spec_e5m2;
    case mx_element::fp6_e3m2: return &spec_e3m2;
    case mx_element::fp6_e2m3: return &spec_e2m3;
    case mx_element::fp4_e2m1: return &spec_e2m1;
    case mx_element::int8: return nullptr;
  }
  return nullptr;
}

/// Decode table of an element type (2^bits entries).
inline const float* mx_element_table(mx_element e) noexcept {
  static const std::array<float, 64> e3m2 = make_minifloat_table<64>(spec_e3m2);
  static const std::array<float, 64> e2m3 = make_minifloat_table<64>(spec_e2m3);
  static const std::array<float, 16> e2m1 = make_minifloat_table<16>(spec_e2m1);
  static const std::array<float, 256> i8 = [] {
    std::array<float, 256> t{};
    for (int c = 0; c < 256; ++c)
      t[static_cast<std::size_t>(c)] = static_cast<float>(static_cast<std::int8_t>(static_cast<std::uint8_t>(c))) / 64.0f;
    return t;
  }();
  switch (e) {
    case mx_element::fp8_e4m3: return fp8_decode_table(fp8_format::e4m3).data();
    case mx_element::fp8_e5m2: return fp8_decode_table(fp8_format::e5m2).data();
    case mx_element::fp6_e3m2: return e3m2.data();
    case mx_element::fp6_e2m3: return e2m3.data();
    case mx_element::fp4_e2m1: return e2m1.data();
    case mx_element::int8: return i8.data();
  }
  return nullptr;
}

/// Largest |v| of a block as float bits (NaN and inf compare above every finite value).
inline std::uint32_t mx_amax_bits(const float* v, bool use_simd) noexcept {
  std::int32_t m = 0;
#if LADLE_HAS_SIMD
  if (use_simd) {
    using ib = simd::batch<std::int32_t>;
    constexpr index_t w = static_cast<index_t>(ib::size);
    static_assert(mx_block_size % w == 0, "block must be a whole number of batches");
    ib acc(0);
    for (index_t i = 0; i < mx_block_size; i += w)
      acc = xsimd::max(acc, simd::bitwise_cast<std::int32_t>(simd::batch<float>::load_unaligned(v + i)) &
                                ib(0x7fffffff));
    m = simd::reduce_max(acc);
    return static_cast<std::uint32_t>(m);
  }
#endif
  (void)use_simd;
  for (index_t i = 0; i < mx_block_size; ++i)
    m = std::max(m, static_cast<std::int32_t>(float_to_bits(v[i]) & 0x7fffffffu));
  return static_cast<std::uint32_t>(m);
}

inline void mx_pack(const std::uint8_t* codes, std::uint8_t* out, int bits) noexcept {
  if (bits == 8) {
    std::memcpy(out, codes, static_cast<std::size_t>(mx_block_size));
  } else if (bits == 6) {
    for (index_t g = 0; g < mx_block_size / 4; ++g) {
      const std::uint8_t* c = codes + 4 * g;
      const std::uint32_t w = std::uint32_t(c[0]) | std::uint32_t(c[1]) << 6 |
                              std::uint32_t(c[2]) << 12 | std::uint32_t(c[3]) << 18;
      out[3 * g] = static_cast<std::uint8_t>(w);
      out[3 * g + 1] = static_cast<std::uint8_t>(w >> 8);
      out[3 * g + 2] = static_cast<std::uint8_t>(w >> 16);
    }
  } else {
    for (index_t j = 0; j < mx_block_size / 2; ++j)
      out[j] = static_cast<std::uint8_t>(codes[2 * j] | (codes[2 * j + 1] << 4));
  }
}

/// Quantizes one block of 32 floats into its packed bytes at `out` (`bits` per element);
/// returns the E8M0 scale byte. `k` is the prepared SIMD encoder of the element format (null:
/// the scalar reference path). 8- and 4-bit codes are stored straight from registers; 6-bit
/// ones go through `codes` (32 bytes of scratch) and mx_pack.
#if LADLE_HAS_SIMD
using mx_simd_encoder = minifloat_simd;
#else
struct mx_simd_encoder {};
#endif
inline std::uint8_t mx_quantize_block(const float* v, std::uint8_t* codes, std::uint8_t* out, int bits,
                                      mx_element e, mx_scale_rule rule, const mx_simd_encoder* k) noexcept {
  const bool use_simd = k != nullptr;
  const std::uint32_t amax_bits = mx_amax_bits(v, use_simd);
  if (amax_bits >= 0x7f800000u) {  // NaN or inf somewhere: the whole block is NaN
    std::memset(out, 0, static_cast<std::size_t>(mx_block_size * bits / 8));
    return 0xff;
  }
  int shared = -127;
  if (amax_bits != 0) {
    const float amax = bits_to_float(amax_bits);
    // floor(log2(amax)) - emax_elem: the exponent field for normal floats, ilogb otherwise.
    const int e2 = amax_bits >= 0x00800000u ? static_cast<int>(amax_bits >> 23) - 127 : std::ilogb(amax);
    shared = e2 - mx_element_emax(e);
    if (rule == mx_scale_rule::round_up && std::ldexp(amax, -shared) > mx_element_max(e)) ++shared;
    shared = std::min(127, std::max(-127, shared));
  }
  // 1 / X = 2^-shared as float bits; 2^-127 is a float subnormal, still exact.
  const int biased = 127 - shared;  // in [0, 254]
  const float inv = bits_to_float(biased == 0 ? 0x00400000u : static_cast<std::uint32_t>(biased) << 23);
  const minifloat_spec* s = mx_spec(e);
  // Near the top of the float range (round_up can give shared = 128 - emax), an element that
  // rounds up to the next power of two would decode to 2^128 = inf. Such blocks encode a copy
  // whose scaled values are capped just below that power, at the largest element value there,
  // (2 - 2^-mbits) * 2^(127 - shared); both kernels then see the same input.
  alignas(64) float capped[mx_block_size];
  if (s != nullptr && shared + mx_element_emax(e) >= 128) {
    const float cap = std::ldexp(2.0f - std::ldexp(1.0f, -s->mbits), 127);  // X times that
    for (index_t i = 0; i < mx_block_size; ++i)
      capped[i] = std::min(cap, std::max(-cap, v[i]));
    v = capped;
  }
#if LADLE_HAS_SIMD
  if (use_simd) {
    using fb = simd::batch<float>;
    constexpr index_t w = static_cast<index_t>(fb::size);
    static_assert(mx_block_size % w == 0, "block must be a whole number of batches");
    const fb vinv(inv);
    auto put = [&](const simd::batch<std::int32_t>& c, index_t i) {
      if (bits == 8) store_code_bytes(c, out + i);
      else if (bits == 4) simd::store_nibbles(c, out + i / 2);
      else store_code_bytes(c, codes + i);
    };
    if (s != nullptr) {
      for (index_t i = 0; i < mx_block_size; i += w) put(k->encode(fb::load_unaligned(v + i) * vinv), i);
    } else {
      // MXINT8: code = v / X * 64 (exact power-of-two scalings), RNE, saturate at +-127.
      const fb lim(127.0f), s64(64.0f);
      for (index_t i = 0; i < mx_block_size; i += w) {
        const fb q = xsimd::nearbyint((fb::load_unaligned(v + i) * vinv) * s64);
        put(xsimd::batch_cast<std::int32_t>(xsimd::min(lim, xsimd::max(-lim, q))), i);
      }
    }
    if (bits == 6) mx_pack(codes, out, bits);
    return static_cast<std::uint8_t>(shared + 127);
  }
#endif
  if (s != nullptr) {
    minifloat_encode_n_scalar(v, codes, mx_block_size, inv, *s, true);
  } else {
    for (index_t i = 0; i < mx_block_size; ++i) {
      const float q = std::nearbyint((v[i] * inv) * 64.0f);
      const float c = std::min(127.0f, std::max(-127.0f, q));
      codes[i] = static_cast<std::uint8_t>(static_cast<std::int8_t>(c));
    }
  }
  mx_pack(codes, out, bits);
  return static_cast<std::uint8_t>(shared + 127);
}

inline void mx_unpack(const std::uint8_t* in, std::uint8_t* codes, int bits) noexcept {
  if (bits == 8) {
    std::memcpy(codes, in, static_cast<std::size_t>(mx_block_size));
  } else if (bits == 6) {
    for (index_t g = 0; g < mx_block_size / 4; ++g) {
      const std::uint32_t w = std::uint32_t(in[3 * g]) | std::uint32_t(in[3 * g + 1]) << 8 |
                              std::uint32_t(in[3 * g + 2]) << 16;
      for (int k = 0; k < 4; ++k) codes[4 * g + k] = static_cast<std::uint8_t>((w >> (6 * k)) & 0x3fu);
    }
  } else {
    for (index_t j = 0; j < mx_block_size / 2; ++j) {
      codes[2 * j] = in[j] & 0x0fu;
      codes[2 * j + 1] = static_cast<std::uint8_t>(in[j] >> 4);
    }
  }
}

// Rows per parallel task: about 64K elements.
inline index_t mx_row_grain(index_t cols) noexcept {
  return std::max<index_t>(1, (index_t(1) << 16) / std::max<index_t>(cols, 1));
}

/// One row: cols elements -> cols/32 scales and packed data. use_simd = false is the reference.
template <class T>
void mx_quantize_row(const T* x, index_t cols, std::uint8_t* scales, std::uint8_t* data,
                     mx_options o, bool use_simd) noexcept {
  const int bits = mx_element_bits(o.element);
  const index_t block_bytes = mx_block_size * bits / 8;
  alignas(64) float buf[mx_block_size];
  alignas(64) std::uint8_t codes[mx_block_size];
#if LADLE_HAS_SIMD
  const minifloat_spec* spec = mx_spec(o.element);
  const mx_simd_encoder k(spec != nullptr ? *spec : spec_e4m3, true);
  const mx_simd_encoder* kp = use_simd ? &k : nullptr;
#else
  const mx_simd_encoder* kp = nullptr;
  (void)use_simd;
#endif
  for (index_t b = 0; b < cols / mx_block_size; ++b) {
    const T* src = x + b * mx_block_size;
    const float* v;
    if constexpr (std::is_same<T, float>::value) {
      v = src;
    } else if constexpr (std::is_same<T, double>::value) {
      for (index_t i = 0; i < mx_block_size; ++i) buf[i] = static_cast<float>(src[i]);
      v = buf;
    } else {
      convert_n(src, buf, mx_block_size);
      v = buf;
    }
#if LADLE_HAS_SIMD
    simd::prefetch(src);
#endif
    scales[b] = mx_quantize_block(v, codes, data + b * block_bytes, bits, o.element, o.scale_rule, kp);
  }
}

/// One row (or a run of whole blocks of it) back to floats. Float rows take a SIMD path: MXFP4
/// splits nibbles and looks the scaled 16-entry table up in registers, the other elements
/// gather from their table and multiply by the scale. use_simd = false (and non-float outputs)
/// decode a code at a time through the table, with the same float product.
template <class T>
void mx_dequantize_row(const std::uint8_t* scales, const std::uint8_t* data, index_t cols,
                       mx_element e, T* out, bool use_simd = true) noexcept {
  const int bits = mx_element_bits(e);
  const index_t block_bytes = mx_block_size * bits / 8;
  const float* table = mx_element_table(e);
  alignas(64) std::uint8_t codes[mx_block_size];
  alignas(64) float buf[mx_block_size];
#if LADLE_HAS_SIMD
  if constexpr (std::is_same<T, float>::value) {
    if (use_simd && bits == 4) {
      using fb = simd::batch<float>;
      constexpr index_t w = static_cast<index_t>(fb::size);
      static_assert(mx_block_size % w == 0, "block must be a whole number of batches");
      alignas(64) float scaled[16];
      for (index_t b = 0; b < cols / mx_block_size; ++b) {
        const float s = e8m0_to_float(scales[b]);
        // Batch-wide stores, so lookup16's batch-wide loads forward from them without a stall.
        for (int c = 0; c < 16; c += static_cast<int>(w)) (fb::load_unaligned(table + c) * fb(s)).store_aligned(scaled + c);
        const std::uint8_t* in = data + b * block_bytes;
        float* o = out + b * mx_block_size;
        for (index_t i = 0; i < mx_block_size; i += w)
          simd::lookup16(scaled, simd::load_nibbles(in + i / 2)).store_unaligned(o + i);
      }
      return;
    }
    if (use_simd) {
      // 8- and 6-bit codes: the element table gathered in registers, times the block scale.
      using fb = simd::batch<float>;
      constexpr index_t w = static_cast<index_t>(fb::size);
      for (index_t b = 0; b < cols / mx_block_size; ++b) {
        const fb s(e8m0_to_float(scales[b]));
        const std::uint8_t* in = data + b * block_bytes;
        if (bits != 8) {
          mx_unpack(in, codes, bits);
          in = codes;
        }
        float* o = out + b * mx_block_size;
        for (index_t i = 0; i < mx_block_size; i += w)
          (simd::gather(table, simd::load_widen(in + i)) * s).store_unaligned(o + i);
      }
      return;
    }
  }
#endif
  (void)use_simd;
  for (index_t b = 0; b < cols / mx_block_size; ++b) {
    const float s = e8m0_to_float(scales[b]);
    mx_unpack(data + b * block_bytes, codes, bits);
    float* dst = buf;
    if constexpr (std::is_same<T, float>::value) dst = out + b * mx_block_size;
    for (index_t i = 0; i < mx_block_size; ++i) dst[i] = table[codes[i]] * s;
    if constexpr (!std::is_same<T, float>::value) convert_n(buf, out + b * mx_block_size, mx_block_size);
  }
}

template <class T>
void mx_check_input(const matrix_view<T>& x, const char* fn, const char* arg) {
  require_host(x, fn, arg);
  if (x.extent(1) % mx_block_size != 0)
    throw_invalid_argument(fn, arg, "has ", x.extent(1),
                           " columns; MX blocks need a multiple of 32");
  if (x.extent(1) > 1 && x.stride(1) != 1)
    throw_invalid_argument(fn, arg, "rows must be contiguous (stride(1) == 1), got stride ",
                           x.stride(1));
}

inline void mx_check_buffers(index_t rows, index_t cols, mx_element e, index_t s0, index_t s1,
                             bool s_contig, index_t d0, index_t d1, bool d_contig,
                             const char* fn) {
  require_extent(s0, rows, fn, "scales", "rows");
  require_extent(s1, cols / mx_block_size, fn, "scales", "columns");
  require_extent(d0, rows, fn, "data", "rows");
  require_extent(d1, mx_packed_row_bytes(cols, e), fn, "data", "columns");
  if (!s_contig) throw_invalid_argument(fn, "scales", "must be contiguous row-major");
  if (!d_contig) throw_invalid_argument(fn, "data", "must be contiguous row-major");
}

}  // namespace detail

inline float e8m0_to_float(std::uint8_t code) noexcept {
  if (code == 0xff) return std::numeric_limits<float>::quiet_NaN();
  return detail::bits_to_float(code == 0 ? 0x00400000u : static_cast<std::uint32_t>(code) << 23);
}

inline std::uint8_t mx_encode_element(float v, mx_element e) noexcept {
  if (const detail::minifloat_spec* s = detail::mx_spec(e))
    return static_cast<std::uint8_t>(detail::minifloat_encode(v, *s, true));
  if (std::isnan(v)) return 0;
  const float c = std::min(127.0f, std::max(-127.0f, std::nearbyint(v * 64.0f)));
  return static_cast<std::uint8_t>(static_cast<std::int8_t>(c));
}

inline float mx_decode_element(std::uint8_t code, mx_element e) noexcept {
  const int bits = mx_element_bits(e);
  return detail::mx_element_table(e)[bits == 8 ? code : (code & ((1u << bits) - 1u))];
}

template <class Policy, class T, class>
void mx_quantize_into(const Policy& policy, matrix_view<T> x, matrix_view<std::uint8_t> scales,
                      matrix_view<std::uint8_t> data, mx_options options) {
  static_assert(is_float_like_v<std::remove_const_t<T>>,
                "ladle::mx_quantize: x must be float, double, half or bfloat16");
  const char* fn = "mx_quantize";
  if (static_cast<unsigned>(options.element) > static_cast<unsigned>(mx_element::int8))
    throw_invalid_argument(fn, "options.element", "is not an mx_element (",
                           unsigned(options.element), ")");
  if (static_cast<unsigned>(options.scale_rule) > static_cast<unsigned>(mx_scale_rule::round_up))
    throw_invalid_argument(fn, "options.scale_rule", "is not an mx_scale_rule (",
                           unsigned(options.scale_rule), ")");
  detail::mx_check_input(x, fn, "x");
  detail::require_host(scales, fn, "scales");
  detail::require_host(data, fn, "data");
  const index_t rows = x.extent(0), cols = x.extent(1);
  detail::mx_check_buffers(rows, cols, options.element, scales.extent(0), scales.extent(1),
                           scales.is_contiguous(), data.extent(0), data.extent(1),
                           data.is_contiguous(), fn);
  detail::require_disjoint(scales, "scales", x, "x", fn);
  detail::require_disjoint(data, "data", x, "x", fn);
  detail::require_disjoint(data, "data", scales, "scales", fn);
  if (rows == 0 || cols == 0) return;  // an empty view's data may be null: no row pointers
  const index_t sb = cols / mx_block_size, db = mx_packed_row_bytes(cols, options.element);
  parallel_for(policy, rows, detail::mx_row_grain(cols), [&](index_t b, index_t e) {
    for (index_t r = b; r < e; ++r)
      detail::mx_quantize_row(x.data() + r * x.stride(0), cols, scales.data() + r * sb,
                              data.data() + r * db, options, true);
  });
}

template <class T>
void mx_quantize_into(matrix_view<T> x, matrix_view<std::uint8_t> scales,
                      matrix_view<std::uint8_t> data, mx_options options) {
  mx_quantize_into(seq, x, scales, data, options);
}

template <class Policy, class T, class>
mx_tensor mx_quantize(const Policy& policy, matrix_view<T> x, mx_options options) {
  detail::mx_check_input(x, "mx_quantize", "x");
  mx_tensor q;
  q.element = options.element;
  q.cols = x.extent(1);
  q.scales = tensor<std::uint8_t, 2>({x.extent(0), x.extent(1) / mx_block_size}, uninitialized);
  q.data = tensor<std::uint8_t, 2>({x.extent(0), mx_packed_row_bytes(x.extent(1), options.element)}, uninitialized);
  mx_quantize_into(policy, x, q.scales.view(), q.data.view(), options);
  return q;
}

template <class T>
mx_tensor mx_quantize(matrix_view<T> x, mx_options options) {
  return mx_quantize(seq, x, options);
}

namespace detail {

/// mx_dequantize_into; float outputs of at least stream_min bytes are streamed.
template <class Policy, class S, class D, class T>
void mx_dequantize_impl(const Policy& policy, matrix_view<S> scales, matrix_view<D> data,
                        mx_element element, matrix_view<T> out, [[maybe_unused]] std::size_t stream_min) {
  static_assert(std::is_same<std::remove_const_t<S>, std::uint8_t>::value &&
                    std::is_same<std::remove_const_t<D>, std::uint8_t>::value,
                "ladle::mx_dequantize: scales and data must be uint8_t");
  static_assert(is_float_like_v<T>, "ladle::mx_dequantize: out must be writable float-like");
  const char* fn = "mx_dequantize";
  if (static_cast<unsigned>(element) > static_cast<unsigned>(mx_element::int8))
    throw_invalid_argument(fn, "element", "is not an mx_element (", unsigned(element), ")");
  mx_check_input(out, fn, "out");
  require_host(scales, fn, "scales");
  require_host(data, fn, "data");
  const index_t rows = out.extent(0), cols = out.extent(1);
  mx_check_buffers(rows, cols, element, scales.extent(0), scales.extent(1),
                   scales.is_contiguous(), data.extent(0), data.extent(1),
                   data.is_contiguous(), fn);
  require_disjoint(out, "out", scales, "scales", fn);
  require_disjoint(out, "out", data, "data", fn);
  if (rows == 0 || cols == 0) return;  // an empty view's data may be null: no row pointers
  const index_t sb = cols / mx_block_size, db = mx_packed_row_bytes(cols, element);
  // Large float outputs are decoded into an L1 tile of whole blocks and streamed out from there.
  bool stream = false;
#if LADLE_HAS_SIMD
  stream = std::is_same<T, float>::value &&
           static_cast<std::size_t>(rows * cols) * sizeof(float) >= stream_min;
#endif
  parallel_for(policy, rows, mx_row_grain(cols), [&](index_t b, index_t e) {
    if (!stream) {
      for (index_t r = b; r < e; ++r)
        mx_dequantize_row(scales.data() + r * sb, data.data() + r * db, cols, element,
                                  out.data() + r * out.stride(0));
      return;
    }
#if LADLE_HAS_SIMD
    constexpr index_t tile_cols = 128 * mx_block_size;
    alignas(64) float tile[tile_cols];
    const index_t block_bytes = mx_block_size * mx_element_bits(element) / 8;
    for (index_t r = b; r < e; ++r)
      for (index_t c0 = 0; c0 < cols; c0 += tile_cols) {
        const index_t nc = std::min(tile_cols, cols - c0);
        mx_dequantize_row(scales.data() + r * sb + c0 / mx_block_size,
                                  data.data() + r * db + c0 / mx_block_size * block_bytes, nc, element, tile);
        simd::stream_copy(reinterpret_cast<float*>(out.data() + r * out.stride(0) + c0), tile,
                          static_cast<std::size_t>(nc));
      }
    simd::stream_fence();
#endif
  });
}

}  // namespace detail

template <class Policy, class S, class D, class T, class>
void mx_dequantize_into(const Policy& policy, matrix_view<S> scales, matrix_view<D> data,
                        mx_element element, matrix_view<T> out) {
  detail::mx_dequantize_impl(policy, scales, data, element, out, LADLE_STREAM_MIN_BYTES);
}

template <class S, class D, class T>
void mx_dequantize_into(matrix_view<S> scales, matrix_view<D> data, mx_element element,
                        matrix_view<T> out) {
  mx_dequantize_into(seq, scales, data, element, out);
}

template <class Policy, class T, class>
void mx_dequantize(const Policy& policy, const mx_tensor& q, matrix_view<T> out) {
  detail::require_extent(out.extent(1), q.cols, "mx_dequantize", "out", "columns");
  mx_dequantize_into(policy, q.scales.cview(), q.data.cview(), q.element, out);
}

template <class T>
void mx_dequantize(const mx_tensor& q, matrix_view<T> out) {
  mx_dequantize(seq, q, out);
}

}  // namespace ladle
