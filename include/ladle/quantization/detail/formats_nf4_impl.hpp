// ladle/quantization/detail/formats_nf4_impl.hpp (detail): definitions for formats/nf4.hpp.
#pragma once

#include "ladle/core/fp_contract.hpp"
#include "ladle/core/simd_memory.hpp"
#include "ladle/detail/float_bits.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
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
    using ib = simd::batch<std::int32_t>;
    constexpr index_t w = static_cast<index_t>(fb::size);
    // The 15 sorted midpoints (padded to 16), searched in 4 halving steps per lane: the code is
    // the number of midpoints strictly below y, as in the scalar count.
    // (A static table: one built on the stack per call would be read back by a 64-byte load
    // right after narrower stores, which stalls store forwarding on every block.)
    static const struct mid_table {
      alignas(64) float v[16];
      mid_table() noexcept {
        std::copy(nf4_midpoints().begin(), nf4_midpoints().end(), v);
        v[15] = std::numeric_limits<float>::infinity();
      }
    } mids;
    const float* mid16 = mids.v;
    const fb vinv(inv), zero(0.0f), mid7(mid16[7]);
    const ib one(1), three(3);
    // select(mask, step, 0) on the integer bits, done as a float blend.
    const fb f8 = simd::bitwise_cast<float>(ib(8)), f4 = simd::bitwise_cast<float>(ib(4)),
             f2 = simd::bitwise_cast<float>(ib(2)), f1 = simd::bitwise_cast<float>(one);
    auto step = [&](const fb& y, const fb& t, const fb& f) { return simd::bitwise_cast<std::int32_t>(simd::select(y > t, f, zero)); };
    for (; i + w <= n; i += w) {
      simd::prefetch(x + i);
      const fb y = fb::load_unaligned(x + i) * vinv;
      ib c = step(y, mid7, f8);
      c = c + step(y, simd::lookup16(mid16, c + three), f4);
      c = c + step(y, simd::lookup16(mid16, c + one), f2);
      c = c + step(y, simd::lookup16(mid16, c), f1);
      simd::store_nibbles<true>(c, out + i / 2);
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
  // Blocks go in tiles of 16: all absmax values first, then their reciprocals, then the codes,
  // so the per-block divisions overlap instead of stalling each block's encode (8.0 ms against
  // 8.7 ms for a block-at-a-time loop on the 16M-value benchmark).
  constexpr index_t tile = 16;
  parallel_for(policy, nblocks, grain, [&](index_t b0, index_t b1) {
    std::vector<float> buf(std::is_same<T, float>::value ? 0 : static_cast<std::size_t>(tile * bs));
    std::uint32_t bits[tile];
    float inv[tile];
    for (index_t t0 = b0; t0 < b1; t0 += tile) {
      const index_t nt = std::min(tile, b1 - t0);
      const index_t first = t0 * bs, count = std::min((t0 + nt) * bs, n) - first;
      const float* v;
      if constexpr (std::is_same<T, float>::value) {
        v = x + first;
      } else if constexpr (std::is_same<T, double>::value) {
        for (index_t i = 0; i < count; ++i) buf[static_cast<std::size_t>(i)] = static_cast<float>(x[first + i]);
        v = buf.data();
      } else {
        convert_n(x + first, buf.data(), count);
        v = buf.data();
      }
      for (index_t k = 0; k < nt; ++k) {
        const index_t len = std::min(bs, count - k * bs);
        bits[k] = nf4_amax_bits(v + k * bs, len);
        if (bits[k] >= 0x7f800000u)
          for (index_t i = 0; i < len; ++i)
            if (!std::isfinite(v[k * bs + i]))
              throw_domain_error("nf4_quantize", "x", "element ", first + k * bs + i, " is not finite (",
                                 v[k * bs + i], ")");
        absmax[t0 + k] = bits_to_float(bits[k]);
      }
      for (index_t k = 0; k < nt; ++k) inv[k] = bits[k] == 0 ? 0.0f : 1.0f / absmax[t0 + k];
      for (index_t k = 0; k < nt; ++k) {
        const index_t len = std::min(bs, count - k * bs);
        std::uint8_t* out = packed + (first + k * bs) / 2;
        if (bits[k] == 0) {
          std::memset(out, 0x77, static_cast<std::size_t>(len / 2));  // the zero level, 7
          if (len % 2 != 0) out[len / 2] = 0x70;
        } else {
          nf4_encode_packed(v + k * bs, len, inv[k], out, use_simd);
        }
      }
    }
  });
}

/// nf4_tensor's fields are public: before decoding, they must still describe its buffers.
inline void nf4_check_tensor(const nf4_tensor& q, const char* fn) {
  if (q.block_size < 2 || q.block_size % 2 != 0)
    throw_invalid_argument(fn, "q.block_size", "must be even and >= 2, got ", q.block_size);
  if (q.size < 0 || q.codes.size() != q.size / 2 + q.size % 2)
    throw_invalid_argument(fn, "q.size", "is ", q.size, " but q.codes holds ", q.codes.size(),
                           " bytes (the fields no longer match the data)");
  const index_t nb = q.blocks();
  if (q.double_quantized()) {
    const index_t groups = nb / q.scale_block_size + (nb % q.scale_block_size != 0);
    if (q.absmax_codes.size() != nb || q.absmax_scales.size() != groups)
      throw_invalid_argument(fn, "q.scale_block_size", "is ", q.scale_block_size, " but q holds ",
                             q.absmax_codes.size(), " absmax codes and ", q.absmax_scales.size(),
                             " scales for ", nb, " blocks");
    if (!std::isfinite(q.absmax_offset))
      throw_domain_error(fn, "q.absmax_offset", "is not finite (", q.absmax_offset, ")");
  } else if (q.absmax.size() != nb) {
    throw_invalid_argument(fn, "q.absmax", "holds ", q.absmax.size(), " scales but q has ", nb,
                           " blocks of ", q.block_size);
  }
}

inline void nf4_double_quantize(nf4_tensor& q, index_t group) {
  const index_t nb = q.blocks();
  const float* a = q.absmax.data();
  double sum = 0;
  for (index_t b = 0; b < nb; ++b) sum += static_cast<double>(a[b]);
  const float offset = static_cast<float>(sum / static_cast<double>(nb));
  const index_t ngroups = (nb + group - 1) / group;
  q.absmax_codes = tensor<std::int8_t, 1>({nb}, uninitialized);
  q.absmax_scales = tensor<float, 1>({ngroups}, uninitialized);
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
  // Two roundings (product, then sum) on every ISA: no FMA contraction (core/fp_contract.hpp).
  const float v = detail::mul_rounded(static_cast<float>(absmax_codes.data()[b]),
                                      absmax_scales.data()[b / scale_block_size] / 127.0f) +
                  absmax_offset;
  // An absmax is >= 0 and finite; with absmax values of very different magnitudes in one scale
  // group the 8-bit code's rounding error can carry the decoded value past 0 or FLT_MAX, which
  // would flip the block's sign or make it infinite. The nearest valid scale is the bound.
  return v >= 0.0f ? std::min(v, std::numeric_limits<float>::max()) : 0.0f;
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
  q.codes = tensor<std::uint8_t, 1>({(q.size + 1) / 2}, uninitialized);
  q.absmax = tensor<float, 1>({q.blocks()}, uninitialized);
  detail::nf4_quantize_flat(policy, data, q.size, q, true);
  if (options.double_quant) detail::nf4_double_quantize(q, options.scale_block_size);
  return q;
}

template <class T, std::size_t Rank>
nf4_tensor nf4_quantize(tensor_view<T, Rank> x, nf4_options options) {
  return nf4_quantize(seq, x, options);
}

namespace detail {

/// Decodes one block: out[i] = levels[code i] * s for i < len (codes from packed, element 0 in
/// the high nibble of packed[0]). The SIMD path splits nibbles and looks the scaled levels up in
/// registers; the scalar path reads the same scaled table, so both give the same floats.
inline void nf4_decode_block(const std::uint8_t* packed, index_t len, float s, float* out,
                             bool use_simd) noexcept {
  const auto& levels = nf4_levels();
  alignas(64) float scaled[16];
  index_t i = 0;
  bool filled = false;
#if LADLE_HAS_SIMD
  if (use_simd) {
    filled = true;
    using fb = simd::batch<float>;
    constexpr index_t w = static_cast<index_t>(fb::size);
    // Batch-wide stores, so lookup16's batch-wide loads forward from them without a stall.
    for (std::size_t c = 0; c < 16; c += fb::size) (fb::load_unaligned(levels.data() + c) * fb(s)).store_aligned(scaled + c);
    for (; i + w <= len; i += w)
      simd::lookup16(scaled, simd::load_nibbles<true>(packed + i / 2)).store_unaligned(out + i);
  }
#endif
  (void)use_simd;
  if (!filled)
    for (std::size_t c = 0; c < 16; ++c) scaled[c] = levels[c] * s;
  for (; i + 1 < len; i += 2) {
    out[i] = scaled[packed[i / 2] >> 4];
    out[i + 1] = scaled[packed[i / 2] & 0x0f];
  }
  if (i < len) out[i] = scaled[packed[i / 2] >> 4];
}

/// nf4_dequantize over the whole tensor; use_simd = false is the scalar reference. Float outputs
/// of at least stream_min bytes are decoded into an L1 tile and streamed out from there.
template <class Policy, class T>
void nf4_dequantize_flat(const Policy& policy, const nf4_tensor& q, T* dst, bool use_simd,
                         [[maybe_unused]] std::size_t stream_min = LADLE_STREAM_MIN_BYTES) {
  const index_t bs = q.block_size, n = q.size;
  const std::uint8_t* packed = q.codes.data();
  bool stream = false;
#if LADLE_HAS_SIMD
  stream = std::is_same<T, float>::value && use_simd && static_cast<std::size_t>(n) * sizeof(float) >= stream_min;
#endif
  const index_t grain = std::max<index_t>(1, (index_t(1) << 16) / bs);
  const index_t tile_blocks = std::max<index_t>(1, 4096 / bs);
  parallel_for(policy, q.blocks(), grain, [&](index_t b0, index_t b1) {
    const bool staged = stream || !std::is_same<T, float>::value;
    std::vector<float> tile(staged ? static_cast<std::size_t>(tile_blocks * bs) : 0);
    for (index_t t0 = b0; t0 < b1; t0 += tile_blocks) {
      const index_t t1 = std::min(b1, t0 + tile_blocks);
      const index_t first = t0 * bs, count = std::min(t1 * bs, n) - first;
      float* o = staged ? tile.data() : reinterpret_cast<float*>(dst) + first;
      for (index_t b = t0; b < t1; ++b) {
        const index_t begin = b * bs;
        nf4_decode_block(packed + begin / 2, std::min(bs, n - begin), q.block_scale(b), o + (begin - first), use_simd);
      }
      if constexpr (std::is_same<T, float>::value) {
#if LADLE_HAS_SIMD
        if (stream) simd::stream_copy(dst + first, tile.data(), static_cast<std::size_t>(count));
#endif
      } else {
        convert_n(static_cast<const float*>(tile.data()), dst + first, count);
      }
    }
#if LADLE_HAS_SIMD
    if (stream) simd::stream_fence();
#endif
  });
}

}  // namespace detail

template <class Policy, class T, std::size_t Rank, class>
void nf4_dequantize(const Policy& policy, const nf4_tensor& q, tensor_view<T, Rank> out) {
  static_assert(is_float_like_v<T>, "ladle::nf4_dequantize: out must be writable float-like");
  const char* fn = "nf4_dequantize";
  detail::require_host(out, fn, "out");
  detail::require_contiguous(out, fn, "out");
  detail::nf4_check_tensor(q, fn);
  detail::require_extent(out.size(), q.size, fn, "out", "size");
  detail::require_disjoint(out, "out", q.codes.cview(), "q.codes", fn);
  detail::nf4_dequantize_flat(policy, q, out.data(), true);
}

template <class T, std::size_t Rank>
void nf4_dequantize(const nf4_tensor& q, tensor_view<T, Rank> out) {
  nf4_dequantize(seq, q, out);
}

}  // namespace ladle
