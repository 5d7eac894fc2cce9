// ladle/quantization/embedding.hpp: row-wise quantization of embedding tables, in FBGEMM's
// "fused" layouts (what torch.ops.quantized.embedding_bag_*_prepack produce), bit-exact.
//
// Each row of `dim` floats is stored as its codes followed by that row's scale and bias
// (asymmetric: x ~ code * scale + bias, bias = row minimum):
//
//   bits  row bytes             codes                                 scale, bias
//   16    2*dim + 8             uint16 little-endian                  float32, float32
//   8     dim + 8               uint8                                 float32, float32   (FBGEMM Fused8BitRowwise)
//   4     ceil(dim/2) + 4       2 per byte, first in the low nibble   float16, float16   (FBGEMM Fused4BitRowwise)
//   2     ceil(dim/4) + 4       4 per byte, first in the low bits     float16, float16   (FBGEMM Fused2BitRowwise)
//
// Quantization, 8 and 16 bits (Q = 255 or 65535):
//   range = max - min;  scale = range / Q;  inv = Q / (range + 1e-8f);
//   code = clamp(rint((x - min) * inv), 0, Q).
// 4 and 2 bits (Q = 15 or 3): bias = fp16(min); range = max - bias; scale = fp16(range / Q)
// (1 for a constant row, or when that scale is 0 or its reciprocal overflows);
// code = clamp(rint((x - bias) * (1 / scale)), 0, Q). Values need |x| <= 65504 (fp16 bias); a
// row beyond it is rejected (ladle::domain_error), as is an 8/16-bit row whose range max - min
// overflows float.
// All rounding is to nearest, ties to even.
// Dequantization is code * scale + bias, rounded after the product and after the sum (as
// FBGEMM; never fused into an fma). A constant row stores codes 0 and decodes exactly.
//
// The 16-bit variant is ladle's extension of the 8-bit recipe (FBGEMM has none); its relative
// error is ~1e-5 of the row range. NaN / inf input is rejected (ladle::domain_error).
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/dtype.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/tensor.hpp"
#include "ladle/core/view.hpp"

#include <cstdint>

namespace ladle {

/// Bytes of one quantized row of `dim` values at `bits` (16, 8, 4 or 2).
constexpr index_t rowwise_row_bytes(index_t dim, int bits) noexcept;

/// A row-wise quantized table.
struct rowwise_table {
  int bits = 8;
  index_t dim = 0;
  tensor<std::uint8_t, 2> data;  ///< rows x rowwise_row_bytes(dim, bits)
  index_t rows() const noexcept { return data.extent(0); }
  /// Scale and bias of row i (widened from fp16 for 4 / 2 bits).
  float scale(index_t i) const noexcept;
  float bias(index_t i) const noexcept;
};

/// Quantizes x (rows x dim, rows contiguous; float, double, half or bfloat16) into `out`
/// (rows x rowwise_row_bytes(dim, bits), compact). Throws invalid_argument for bad bits or
/// shapes, domain_error for NaN / inf.
template <class Policy, class T, class = std::enable_if_t<is_execution_policy_v<Policy>>>
void rowwise_quantize_into(const Policy& policy, matrix_view<T> x, matrix_view<std::uint8_t> out,
                           int bits = 8);
template <class T>
void rowwise_quantize_into(matrix_view<T> x, matrix_view<std::uint8_t> out, int bits = 8);
template <class Policy, class T, class = std::enable_if_t<is_execution_policy_v<Policy>>>
rowwise_table rowwise_quantize(const Policy& policy, matrix_view<T> x, int bits = 8);
template <class T>
rowwise_table rowwise_quantize(matrix_view<T> x, int bits = 8);

/// Dequantizes a fused buffer (rows x row bytes) into out (rows x dim, rows contiguous).
template <class Policy, class C, class T, class = std::enable_if_t<is_execution_policy_v<Policy>>>
void rowwise_dequantize_into(const Policy& policy, matrix_view<C> data, int bits, matrix_view<T> out);
template <class C, class T>
void rowwise_dequantize_into(matrix_view<C> data, int bits, matrix_view<T> out);
template <class T>
void rowwise_dequantize(const rowwise_table& q, matrix_view<T> out);

/// Embedding lookup: out(j, :) = dequantized row indices[j]. Throws on an index out of range.
template <class I, class T>
void rowwise_lookup(const rowwise_table& q, vector_view<I> indices, matrix_view<T> out);

}  // namespace ladle

#include "ladle/quantization/detail/embedding_impl.hpp"
