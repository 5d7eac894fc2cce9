// ladle/quantization/detail/embedding_impl.hpp (detail): definitions for embedding.hpp.
#pragma once

#include "ladle/core/simd_memory.hpp"
#include "ladle/detail/float_bits.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

namespace ladle {

constexpr index_t rowwise_row_bytes(index_t dim, int bits) noexcept {
  return bits == 16 ? 2 * dim + 8
         : bits == 8 ? dim + 8
         : bits == 4 ? (dim + 1) / 2 + 4
         : bits == 2 ? (dim + 3) / 4 + 4
                     : 0;
}

namespace detail {

inline void embedding_check_bits(int bits, const char* fn) {
  if (bits != 16 && bits != 8 && bits != 4 && bits != 2)
    throw_invalid_argument(fn, "bits", "must be 16, 8, 4 or 2, got ", bits);
}

inline index_t embedding_code_bytes(index_t dim, int bits) noexcept {
  return rowwise_row_bytes(dim, bits) - (bits >= 8 ? 8 : 4);
}

// codes[i] = clamp(rint((x[i] - lo) * inv), 0, q) for i < n; scalar reference.
inline void embedding_codes_scalar(const float* x, index_t n, float lo, float inv, int q,
                                   std::int32_t* codes) noexcept {
  for (index_t i = 0; i < n; ++i) {
    const float c = std::nearbyint((x[i] - lo) * inv);
    codes[i] = static_cast<std::int32_t>(std::min(static_cast<float>(q), std::max(0.0f, c)));
  }
}

#if LADLE_HAS_SIMD
LADLE_FORCE_INLINE void simd_store_bytes(const simd::batch<std::int32_t>& c, std::uint8_t* p) noexcept { simd::store_narrow(c, p); }
LADLE_FORCE_INLINE void simd_store_nibbles(const simd::batch<std::int32_t>& c, std::uint8_t* p) noexcept { simd::store_nibbles(c, p); }
#else
template <class B> void simd_store_bytes(const B&, std::uint8_t*) noexcept {}
template <class B> void simd_store_nibbles(const B&, std::uint8_t*) noexcept {}
#endif

/// codes of x[0, n): the SIMD path hands whole batches to put(codes, i) and returns how many
/// elements it did; the caller finishes the rest with embedding_codes_scalar (same arithmetic).
template <class Put>
inline index_t embedding_code_vectors(const float* x, index_t n, float lo, float inv, int q,
                                      bool use_simd, Put&& put) noexcept {
  index_t i = 0;
#if LADLE_HAS_SIMD
  if (use_simd) {
    using fb = simd::batch<float>;
    constexpr index_t w = static_cast<index_t>(fb::size);
    const fb vlo(lo), vinv(inv), vq(static_cast<float>(q)), zero(0.0f);
    for (; i + w <= n; i += w) {
      simd::prefetch(x + i);
      const fb c = xsimd::nearbyint((fb::load_unaligned(x + i) - vlo) * vinv);
      put(xsimd::batch_cast<std::int32_t>(xsimd::min(vq, xsimd::max(zero, c))), i);
    }
  }
#else
  (void)x, (void)n, (void)lo, (void)inv, (void)q, (void)use_simd, (void)put;
#endif
  return i;
}

inline void embedding_codes(const float* x, index_t n, float lo, float inv, int q,
                            std::int32_t* codes, bool use_simd) noexcept {
  const index_t i = embedding_code_vectors(x, n, lo, inv, q, use_simd, [&](const auto& c, index_t at) {
    c.store_unaligned(codes + at);
  });
  embedding_codes_scalar(x + i, n - i, lo, inv, q, codes + i);
}

/// Quantizes one row (n floats) into its fused bytes; false on NaN / inf, on a row whose range
/// overflows float (8 / 16 bits), or on a value beyond the fp16 bias range +-65504 (4 / 2 bits).
inline bool embedding_quantize_row(const float* x, index_t n, int bits, std::uint8_t* out,
                                   std::int32_t* codes, bool use_simd) noexcept {
  float lo = x[0], hi = x[0];
  std::uint32_t amax_bits = 0;  // NaN and inf have the largest magnitude bits
  index_t i0 = 0;
#if LADLE_HAS_SIMD
  if (use_simd) {
    using fb = simd::batch<float>;
    using ib = simd::batch<std::int32_t>;
    constexpr index_t w = static_cast<index_t>(fb::size);
    if (n >= w) {
      fb vlo = fb::load_unaligned(x), vhi = vlo;
      ib vbits(0);
      for (; i0 + w <= n; i0 += w) {
        const fb v = fb::load_unaligned(x + i0);
        vlo = xsimd::min(vlo, v);
        vhi = xsimd::max(vhi, v);
        vbits = xsimd::max(vbits, simd::bitwise_cast<std::int32_t>(v) & ib(0x7fffffff));
      }
      lo = simd::reduce_min(vlo);
      hi = simd::reduce_max(vhi);
      amax_bits = static_cast<std::uint32_t>(simd::reduce_max(vbits));
    }
  }
#endif
  for (index_t i = i0; i < n; ++i) {
    amax_bits = std::max(amax_bits, float_to_bits(x[i]) & 0x7fffffffu);
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  if (amax_bits >= 0x7f800000u) return false;
  if (bits < 8 ? (lo < -65504.0f || hi > 65504.0f) : !std::isfinite(hi - lo)) return false;
  const index_t cb = embedding_code_bytes(n, bits);
  if (bits >= 8) {
    const int q = bits == 8 ? 255 : 65535;
    const float range = hi - lo;
    const float scale = range / static_cast<float>(q);
    const float inv = static_cast<float>(q) / (range + 1e-8f);
    if (bits == 8) {
      // Bytes straight from registers; the scalar kernel finishes the tail.
      const index_t done = embedding_code_vectors(x, n, lo, inv, q, use_simd, [&](const auto& c, index_t at) {
        simd_store_bytes(c, out + at);
      });
      embedding_codes_scalar(x + done, n - done, lo, inv, q, codes);
      for (index_t i = done; i < n; ++i) out[i] = static_cast<std::uint8_t>(codes[i - done]);
    } else {
      embedding_codes(x, n, lo, inv, q, codes, use_simd);
      for (index_t i = 0; i < n; ++i) {
        out[2 * i] = static_cast<std::uint8_t>(codes[i] & 0xff);
        out[2 * i + 1] = static_cast<std::uint8_t>(codes[i] >> 8);
      }
    }
    std::memcpy(out + cb, &scale, 4);
    std::memcpy(out + cb + 4, &lo, 4);
    return true;
  }
  const int q = (1 << bits) - 1;
  const std::uint16_t bias_h = float_to_half_bits(lo);
  const float bias = half_bits_to_float(bias_h);
  const float range = hi - bias;
  float scale = range == 0.0f ? 1.0f : range / static_cast<float>(q);
  scale = half_bits_to_float(float_to_half_bits(scale));
  if (scale == 0.0f) scale = 1.0f;
  float inv = 1.0f / scale;
  if (std::isinf(inv)) {
    scale = 1.0f;
    inv = 1.0f;
  }
  const int per_byte = 8 / bits;
  std::memset(out, 0, static_cast<std::size_t>(cb));
  index_t whole = 0;
  if (bits == 4) {
    // Nibbles packed in registers (low nibble first); the scalar kernel finishes the tail.
    whole = embedding_code_vectors(x, n, bias, inv, q, use_simd, [&](const auto& c, index_t at) {
      simd_store_nibbles(c, out + at / 2);
    });
    embedding_codes_scalar(x + whole, n - whole, bias, inv, q, codes + whole);
  } else {
    embedding_codes(x, n, bias, inv, q, codes, use_simd);
    whole = n - n % per_byte;
    for (index_t j = 0; j < whole / 4; ++j)
      out[j] = static_cast<std::uint8_t>(codes[4 * j] | (codes[4 * j + 1] << 2) | (codes[4 * j + 2] << 4) |
                                         (codes[4 * j + 3] << 6));
  }
  for (index_t i = whole; i < n; ++i)
    out[i / per_byte] = static_cast<std::uint8_t>(out[i / per_byte] | (codes[i] << ((i % per_byte) * bits)));
  const std::uint16_t scale_h = float_to_half_bits(scale);
  std::memcpy(out + cb, &scale_h, 2);
  std::memcpy(out + cb + 2, &bias_h, 2);
  return true;
}

inline void embedding_scale_bias(const std::uint8_t* row, index_t dim, int bits, float& scale,
                                 float& bias) noexcept {
  const index_t cb = embedding_code_bytes(dim, bits);
  if (bits >= 8) {
    std::memcpy(&scale, row + cb, 4);
    std::memcpy(&bias, row + cb + 4, 4);
  } else {
    std::uint16_t s, b;
    std::memcpy(&s, row + cb, 2);
    std::memcpy(&b, row + cb + 2, 2);
    scale = half_bits_to_float(s);
    bias = half_bits_to_float(b);
  }
}

inline void embedding_dequantize_row(const std::uint8_t* row, index_t dim, int bits, float* out) noexcept {
  float scale, bias;
  embedding_scale_bias(row, dim, bits, scale, bias);
  // FBGEMM rounds the product, then the sum. The product is formed exactly in double (a code
  // has <= 16 bits) and narrowed, so no compiler can fuse it into an fma with the add.
  const double ds = static_cast<double>(scale);
  auto value = [&](int code) { return static_cast<float>(code * ds) + bias; };
  if (bits == 8) {
    for (index_t i = 0; i < dim; ++i) out[i] = value(row[i]);
  } else if (bits == 16) {
    for (index_t i = 0; i < dim; ++i) out[i] = value(row[2 * i] | (row[2 * i + 1] << 8));
  } else {
    const int per_byte = 8 / bits, mask = (1 << bits) - 1;
    for (index_t i = 0; i < dim; ++i) out[i] = value((row[i / per_byte] >> ((i % per_byte) * bits)) & mask);
  }
}

template <class T>
void embedding_check_rows(const matrix_view<T>& x, const char* fn, const char* arg) {
  require_host(x, fn, arg);
  if (x.extent(1) > 1 && x.stride(1) != 1)
    throw_invalid_argument(fn, arg, "rows must be contiguous (stride(1) == 1), got stride ", x.stride(1));
}

template <class T>
void embedding_row_as_float(const T* row, index_t n, float* buf) {
  using V = std::remove_const_t<T>;
  if constexpr (std::is_same<V, double>::value)
    for (index_t i = 0; i < n; ++i) buf[i] = static_cast<float>(row[i]);
  else
    convert_n(row, buf, n);
}

}  // namespace detail

inline float rowwise_table::scale(index_t i) const noexcept {
  float s, b;
  detail::embedding_scale_bias(data.data() + i * data.extent(1), dim, bits, s, b);
  return s;
}

inline float rowwise_table::bias(index_t i) const noexcept {
  float s, b;
  detail::embedding_scale_bias(data.data() + i * data.extent(1), dim, bits, s, b);
  return b;
}

template <class Policy, class T, class>
void rowwise_quantize_into(const Policy& policy, matrix_view<T> x, matrix_view<std::uint8_t> out, int bits) {
  static_assert(is_float_like_v<std::remove_const_t<T>>, "ladle::rowwise_quantize: x must be float-like");
  const char* fn = "rowwise_quantize";
  detail::embedding_check_bits(bits, fn);
  detail::embedding_check_rows(x, fn, "x");
  detail::require_host(out, fn, "out");
  detail::require_contiguous(out, fn, "out");
  const index_t rows = x.extent(0), dim = x.extent(1);
  if (dim == 0) throw_invalid_argument(fn, "x", "has no columns (shape ", rows, " x 0)");
  detail::require_extent(out.extent(0), rows, fn, "out", "rows");
  detail::require_extent(out.extent(1), rowwise_row_bytes(dim, bits), fn, "out", "row bytes");
  detail::require_disjoint(out, "out", x, "x", fn);
  const index_t rb = out.extent(1);
  parallel_for(policy, rows, std::max<index_t>(1, 16384 / dim), [&](index_t b, index_t e) {
    std::vector<float> buf(std::is_same<std::remove_const_t<T>, float>::value ? 0 : static_cast<std::size_t>(dim));
    std::vector<std::int32_t> codes(static_cast<std::size_t>(dim));
    for (index_t r = b; r < e; ++r) {
      const auto* src = x.data() + r * x.stride(0);
      const float* v;
      if constexpr (std::is_same<std::remove_const_t<T>, float>::value) {
        v = src;
      } else {
        detail::embedding_row_as_float(src, dim, buf.data());
        v = buf.data();
      }
      if (!detail::embedding_quantize_row(v, dim, bits, out.data() + r * rb, codes.data(), true)) {
        for (index_t j = 0; j < dim; ++j)
          if (!std::isfinite(v[j]))
            throw_domain_error(fn, "x", "has ", v[j], " at row ", r, ", column ", j,
                               "; finite values only");
        if (bits < 8)
          throw_domain_error(fn, "x", "row ", r, " has a value beyond +-65504, the fp16 bias range "
                             "of ", bits, "-bit row-wise quantization");
        throw_domain_error(fn, "x", "row ", r, " spans a range wider than the largest float");
      }
    }
  });
}

template <class T>
void rowwise_quantize_into(matrix_view<T> x, matrix_view<std::uint8_t> out, int bits) {
  rowwise_quantize_into(seq, x, out, bits);
}

template <class Policy, class T, class>
rowwise_table rowwise_quantize(const Policy& policy, matrix_view<T> x, int bits) {
  detail::embedding_check_bits(bits, "rowwise_quantize");
  rowwise_table t;
  t.bits = bits;
  t.dim = x.extent(1);
  t.data = tensor<std::uint8_t, 2>({x.extent(0), rowwise_row_bytes(x.extent(1), bits)},
                                   uninitialized, "rowwise_quantize", "x");
  rowwise_quantize_into(policy, x, t.data.view(), bits);
  return t;
}

template <class T>
rowwise_table rowwise_quantize(matrix_view<T> x, int bits) {
  return rowwise_quantize(seq, x, bits);
}

template <class Policy, class C, class T, class>
void rowwise_dequantize_into(const Policy& policy, matrix_view<C> data, int bits, matrix_view<T> out) {
  static_assert(std::is_same<std::remove_const_t<C>, std::uint8_t>::value, "ladle::rowwise_dequantize: data is uint8_t");
  static_assert(is_float_like_v<T>, "ladle::rowwise_dequantize: out must be writable float-like");
  const char* fn = "rowwise_dequantize";
  detail::embedding_check_bits(bits, fn);
  detail::embedding_check_rows(out, fn, "out");
  detail::require_host(data, fn, "data");
  detail::require_contiguous(data, fn, "data");
  const index_t rows = out.extent(0), dim = out.extent(1);
  detail::require_extent(data.extent(0), rows, fn, "data", "rows");
  detail::require_extent(data.extent(1), rowwise_row_bytes(dim, bits), fn, "data", "row bytes");
  detail::require_disjoint(out, "out", data, "data", fn);
  if (rows == 0 || dim == 0) return;  // an empty view's data may be null: no row pointers
  const index_t rb = data.extent(1);
  parallel_for(policy, rows, std::max<index_t>(1, 16384 / std::max<index_t>(dim, 1)), [&](index_t b, index_t e) {
    std::vector<float> buf(static_cast<std::size_t>(dim));
    for (index_t r = b; r < e; ++r) {
      T* dst = out.data() + r * out.stride(0);
      if constexpr (std::is_same<T, float>::value) {
        detail::embedding_dequantize_row(data.data() + r * rb, dim, bits, dst);
      } else {
        detail::embedding_dequantize_row(data.data() + r * rb, dim, bits, buf.data());
        convert_n(buf.data(), dst, dim);
      }
    }
  });
}

template <class C, class T>
void rowwise_dequantize_into(matrix_view<C> data, int bits, matrix_view<T> out) {
  rowwise_dequantize_into(seq, data, bits, out);
}

template <class T>
void rowwise_dequantize(const rowwise_table& q, matrix_view<T> out) {
  detail::require_extent(out.extent(1), q.dim, "rowwise_dequantize", "out", "columns");
  rowwise_dequantize_into(seq, q.data.cview(), q.bits, out);
}

template <class I, class T>
void rowwise_lookup(const rowwise_table& q, vector_view<I> indices, matrix_view<T> out) {
  static_assert(std::is_integral<std::remove_const_t<I>>::value, "ladle::rowwise_lookup: indices must be integers");
  const char* fn = "rowwise_lookup";
  detail::require_host(indices, fn, "indices");
  detail::embedding_check_rows(out, fn, "out");
  detail::require_extent(out.extent(0), indices.extent(0), fn, "out", "rows");
  detail::require_extent(out.extent(1), q.dim, fn, "out", "columns");
  // The table's public fields may have been edited: they must still describe its bytes.
  detail::embedding_check_bits(q.bits, fn);
  if (q.dim < 1 || q.dim > 8 * q.data.extent(1) ||
      q.data.extent(1) != rowwise_row_bytes(q.dim, q.bits))
    throw_invalid_argument(fn, "q", "has dim ", q.dim, " and bits ", q.bits, " but rows of ",
                           q.data.extent(1), " bytes (the fields no longer match the data)");
  detail::require_disjoint(out, "out", indices, "indices", fn);
  detail::require_disjoint(out, "out", q.data.cview(), "q.data", fn);
  std::vector<float> buf = detail::make_buffer<float>(q.dim, fn, "q.dim");
  for (index_t j = 0; j < indices.extent(0); ++j) {
    const auto idx = static_cast<index_t>(indices(j));
    if (idx < 0 || idx >= q.rows())
      throw_invalid_argument(fn, "indices", "entry ", j, " is ", idx, ", outside [0, ", q.rows(), ")");
    detail::embedding_dequantize_row(q.data.data() + idx * q.data.extent(1), q.dim, q.bits, buf.data());
    convert_n(buf.data(), out.data() + j * out.stride(0), q.dim);
  }
}

}  // namespace ladle
