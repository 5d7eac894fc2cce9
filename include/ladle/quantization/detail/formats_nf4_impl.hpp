// ladle/quantization/detail/formats_nf4_impl.hpp (detail): definitions for formats/nf4.hpp.
#pragma once

#include "ladle/core/simd_memory.hpp"
#include "ladle/detail/float_bits.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

namespace ladle {

inline const std::array<float, 16>& nf4_levels() noexcept {
  // bitsandbytes' float32 NF4 table (functional.py get_4bit_type("nf4")).
  static const std::array<float, 16> levels = {
      -1.0f,
      -0.6961928009986877f,
      -0.5250730514526367f,
      -0.39491748809814453f,
      -0.28444138169288635f,
      -0.18477343022823334f,
      -0.09105003625154495f,
      0.0f,
      0.07958029955625534f,
      0.16093020141124725f,
      0.24611230194568634f,
      0.33791524171829224f,
      0.44070982933044434f,
      0.5626170039176941f,
      0.7229568362236023f,
      1.0f};
  return levels;
}

namespace detail {

inline const std::array<float, 15>& nf4_midpoints() noexcept {
  static const std::array<float, 15> mids = [] {
    std::array<float, 15> m{};
    const auto& l = nf4_levels();
    for (std::size_t k = 0; k < 15; ++k) m[k] = (l[k] + l[k + 1]) * 0.5f;
    return m;
  }();
  return mids;
}

// Codes of x[i] * inv for i < n: the number of midpoints strictly below the value.
inline void nf4_encode_run_scalar(const float* x, std::uint8_t* codes, index_t n, float inv) noexcept {
  const auto& mid = nf4_midpoints();
  for (index_t i = 0; i < n; ++i) {
    const float y = x[i] * inv;
    int c = 0;
    for (std::size_t k = 0; k < 15; ++k) c += y > mid[k] ? 1 : 0;
    codes[i] = static_cast<std::uint8_t>(c);
  }
}

/// Encodes x[0, n) * inv straight into packed bytes (two codes per byte, first in the high
/// nibble); out is the byte of element 0. The SIMD path counts midpoints a batch at a time and
/// packs in registers; the scalar path (and the tail) uses nf4_encode_run_scalar, with the same
/// float product and comparisons, so both give the same bytes.
inline void nf4_encode_packed(const float* x, index_t n, float inv, std::uint8_t* out,
                              bool use_simd) noexcept {
  index_t i = 0;
#if LADLE_HAS_SIMD
  if (use_simd) {
    using fb = simd::batch<float>;
    constexpr index_t w = static_cast<index_t>(fb::size);
    const auto& mid = nf4_midpoints();
    const fb vinv(inv), one(1.0f), zero(0.0f);
    for (; i + w <= n; i += w) {
      simd::prefetch(x + i);
      const fb y = fb::load_unaligned(x + i) * vinv;
      fb c = zero;
      for (std::size_t k = 0; k < 15; ++k) c = c + simd::select(y > fb(mid[k]), one, zero);
      simd::store_nibbles<true>(xsimd::batch_cast<std::int32_t>(c), out + i / 2);
    }
  }
#endif
  (void)use_simd;
  std::uint8_t c[2];
  for (; i + 1 < n; i += 2) {
    nf4_encode_run_scalar(x + i, c, 2, inv);
    out[i / 2] = static_cast<std::uint8_t>((c[0] << 4) | c[1]);
  }
  if (i < n) {
    nf4_encode_run_scalar(x + i, c, 1, inv);
    out[i / 2] = static_cast<std::uint8_t>(c[0] << 4);
  }
}

inline std::uint32_t nf4_amax_bits(const float* x, index_t n) noexcept {
  std::int32_t m = 0;
  index_t i = 0;
#if LADLE_HAS_SIMD
  using ib = simd::batch<std::int32_t>;
  constexpr index_t w = static_cast<index_t>(ib::size);
  if (n >= w) {
    ib acc(0);
    for (; i + w <= n; i += w)
      acc = xsimd::max(acc, simd::bitwise_cast<std::int32_t>(simd::batch<float>::load_unaligned(x + i)) &
                                ib(0x7fffffff));
    m = simd::reduce_max(acc);
  }
#endif
  for (; i < n; ++i) m = std::max(m, static_cast<std::int32_t>(float_to_bits(x[i]) & 0x7fffffffu));
  return static_cast<std::uint32_t>(m);
}

/// Quantizes one block of n floats into packed bytes at out (element 0 in the high nibble of
/// out[0]); returns false on NaN / inf.
inline bool nf4_quantize_block(const float* x, index_t n, std::uint8_t* out, float& absmax,
                               bool use_simd) noexcept {
  const std::uint32_t bits = nf4_amax_bits(x, n);
  if (bits >= 0x7f800000u) return false;
  absmax = bits_to_float(bits);
  if (bits == 0) {
    std::memset(out, 0x77, static_cast<std::size_t>(n / 2));  // the zero level, 7
    if (n % 2 != 0) out[n / 2] = 0x70;
    return true;
  }
  nf4_encode_packed(x, n, 1.0f / absmax, out, use_simd);
  return true;
}

template <class T, std::size_t Rank>
const std::remove_const_t<T>* nf4_flat_input(const tensor_view<T, Rank>& x, const char* fn) {
  require_host(x, fn, "x");
  require_contiguous(x, fn, "x");
  require_nonempty(x, fn, "x");
  return x.data();
}

/// Quantizes x[0, n) (flattened) into q.codes / q.absmax; use_simd = false is the reference.
template <class Policy, class T>
void nf4_quantize_flat(const Policy& policy, const T* x, index_t n, nf4_tensor& q,
                       bool use_simd) {
  const index_t bs = q.block_size;
  const index_t nblocks = q.blocks();
  const index_t grain = std::max<index_t>(1, (index_t(1) << 16) / bs);
  std::uint8_t* packed = q.codes.data();
  float* absmax = q.absmax.data();
  parallel_for(policy, nblocks, grain, [&](index_t b0, index_t b1) {
    std::vector<float> buf(std::is_same<T, float>::value ? 0 : static_cast<std::size_t>(bs));
    for (index_t b = b0; b < b1; ++b) {
      const index_t begin = b * bs, len = std::min(bs, n - begin);
      const float* v;
      if constexpr (std::is_same<T, float>::value) {
        v = x + begin;
      } else if constexpr (std::is_same<T, double>::value) {
        for (index_t i = 0; i < len; ++i) buf[static_cast<std::size_t>(i)] = static_cast<float>(x[begin + i]);
        v = buf.data();
      } else {
        convert_n(x + begin, buf.data(), len);
        v = buf.data();
      }
      if (!nf4_quantize_block(v, len, packed + begin / 2, absmax[b], use_simd)) {
        for (index_t i = 0; i < len; ++i)
          if (!std::isfinite(v[i]))
            throw_domain_error("nf4_quantize", "x", "element ", begin + i, " is not finite (", v[i], ")");
      }
    }
  });
}

inline void nf4_double_quantize(nf4_tensor& q, index_t group) {
  const index_t nb = q.blocks();
  const float* a = q.absmax.data();
  double sum = 0;
  for (index_t b = 0; b < nb; ++b) sum += static_cast<double>(a[b]);
  const float offset = static_cast<float>(sum / static_cast<double>(nb));
  const index_t ngroups = (nb + group - 1) / group;
  q.absmax_codes = tensor<std::int8_t, 1>({nb});
  q.absmax_scales = tensor<float, 1>({ngroups});
  for (index_t g = 0; g < ngroups; ++g) {
    const index_t b0 = g * group, b1 = std::min(nb, b0 + group);
    float s = 0.0f;
    for (index_t b = b0; b < b1; ++b) s = std::max(s, std::fabs(a[b] - offset));
    q.absmax_scales.data()[g] = s;
    for (index_t b = b0; b < b1; ++b) {
      const float c = s == 0.0f ? 0.0f : std::nearbyint((a[b] - offset) / s * 127.0f);
      q.absmax_codes.data()[b] = static_cast<std::int8_t>(std::min(127.0f, std::max(-127.0f, c)));
    }
  }
  q.absmax_offset = offset;
  q.scale_block_size = group;
  q.absmax = tensor<float, 1>();
}

}  // namespace detail

inline std::uint8_t nf4_encode_value(float normalized) noexcept {
  std::uint8_t c;
  detail::nf4_encode_run_scalar(&normalized, &c, 1, 1.0f);
  return c;
}

inline float nf4_tensor::block_scale(index_t b) const noexcept {
  if (!double_quantized()) return absmax.data()[b];
  return static_cast<float>(absmax_codes.data()[b]) * (absmax_scales.data()[b / scale_block_size] / 127.0f) +
         absmax_offset;
}

inline double nf4_tensor::bits_per_element() const noexcept {
  if (size == 0) return 0.0;
  const double code_bits = 8.0 * static_cast<double>((size + 1) / 2);
  const double nb = static_cast<double>(blocks());
  const double meta = double_quantized()
                          ? 8.0 * nb + 32.0 * static_cast<double>(absmax_scales.size()) + 32.0
                          : 32.0 * nb;
  return (code_bits + meta) / static_cast<double>(size);
}

template <class Policy, class T, std::size_t Rank, class>
nf4_tensor nf4_quantize(const Policy& policy, tensor_view<T, Rank> x, nf4_options options) {
  static_assert(is_float_like_v<std::remove_const_t<T>>,
                "ladle::nf4_quantize: x must be float, double, half or bfloat16");
  const char* fn = "nf4_quantize";
  if (options.block_size < 2 || options.block_size % 2 != 0)
    throw_invalid_argument(fn, "block_size", "must be even and >= 2, got ", options.block_size);
  if (options.double_quant && options.scale_block_size < 1)
    throw_invalid_argument(fn, "scale_block_size", "must be >= 1, got ", options.scale_block_size);
  const auto* data = detail::nf4_flat_input(x, fn);
  nf4_tensor q;
  q.size = x.size();
  q.block_size = options.block_size;
  q.codes = tensor<std::uint8_t, 1>({(q.size + 1) / 2});
  q.absmax = tensor<float, 1>({q.blocks()});
  detail::nf4_quantize_flat(policy, data, q.size, q, true);
  if (options.double_quant) detail::nf4_double_quantize(q, options.scale_block_size);
  return q;
}

template <class T, std::size_t Rank>
nf4_tensor nf4_quantize(tensor_view<T, Rank> x, nf4_options options) {
  return nf4_quantize(seq, x, options);
}

template <class Policy, class T, std::size_t Rank, class>
void nf4_dequantize(const Policy& policy, const nf4_tensor& q, tensor_view<T, Rank> out) {
  static_assert(is_float_like_v<T>, "ladle::nf4_dequantize: out must be writable float-like");
  const char* fn = "nf4_dequantize";
  detail::require_host(out, fn, "out");
  detail::require_contiguous(out, fn, "out");
  detail::require_extent(out.size(), q.size, fn, "out", "size");
  const auto& levels = nf4_levels();
  const index_t bs = q.block_size, n = q.size;
  const std::uint8_t* packed = q.codes.data();
  T* dst = out.data();
  const index_t grain = std::max<index_t>(1, (index_t(1) << 16) / bs);
  parallel_for(policy, q.blocks(), grain, [&](index_t b0, index_t b1) {
    std::vector<float> buf(std::is_same<T, float>::value ? 0 : static_cast<std::size_t>(bs));
    for (index_t b = b0; b < b1; ++b) {
      const index_t begin = b * bs, len = std::min(bs, n - begin);
      const float s = q.block_scale(b);
      float* o = nullptr;
      if constexpr (std::is_same<T, float>::value) o = dst + begin; else o = buf.data();
      // Scaled levels once per block, then two lookups per byte (high nibble first).
      float scaled[16];
      for (std::size_t c = 0; c < 16; ++c) scaled[c] = levels[c] * s;
      const std::uint8_t* bytes = packed + begin / 2;
      const index_t pairs = len / 2;
      for (index_t j = 0; j < pairs; ++j) {
        o[2 * j] = scaled[bytes[j] >> 4];
        o[2 * j + 1] = scaled[bytes[j] & 0x0f];
      }
      if (len % 2 != 0) o[len - 1] = scaled[bytes[pairs] >> 4];
      if constexpr (!std::is_same<T, float>::value) convert_n(buf.data(), dst + begin, len);
    }
  });
}

template <class T, std::size_t Rank>
void nf4_dequantize(const nf4_tensor& q, tensor_view<T, Rank> out) {
  nf4_dequantize(seq, q, out);
}

}  // namespace ladle
