// ladle/quantization/formats/nf4.hpp: 4-bit NormalFloat (QLoRA, bitsandbytes "nf4").
//
// Sixteen levels in [-1, 1], quantiles of N(0, 1) with an exact zero, bit-identical to the float32
// table bitsandbytes ships (nf4_levels()). The flattened tensor is cut into blocks of
// `block_size` consecutive elements (64 by default; the last block may be shorter); each block
// stores its absmax m, and element x gets the level nearest to x * (1/m) (bitsandbytes also
// multiplies by the reciprocal). The decision thresholds are the float midpoints between
// consecutive levels; a value exactly on a midpoint goes to the lower level (bitsandbytes'
// comparisons are `x > threshold` too). An all-zero block stores m = 0 and the zero code 7.
// Dequantization is level[code] * m.
//
// Packing: two codes per byte, the FIRST element of each pair in the HIGH nibble, as
// bitsandbytes stores them (note: the opposite of MX FP4, whose first element is the low
// nibble). An odd element count leaves the last low nibble 0.
//
// Double quantization (QLoRA): the fp32 absmax values (one per block) are themselves quantized:
// their mean is subtracted, then each group of `scale_block_size` (256) of them is stored as int8
// codes round(c * 127 / s_g) with one fp32 s_g = max|c| per group. This is a symmetric int8
// scheme, not bitsandbytes' 8-bit "dynamic" map, so the stored scale bytes differ from theirs
// (the 4-bit codes do not: both encode with the exact absmax). Cost in bits per weight with
// block 64: 32/64 = 0.5 without, 8/64 + 32/(64*256) = 0.127 with (plus 32 bits for the mean).
//
// Inputs may be float, double, half or bfloat16, any rank, contiguous; NaN or inf is rejected
// (ladle::domain_error), since one would poison the whole block.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/dtype.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/tensor.hpp"
#include "ladle/core/view.hpp"

#include <array>
#include <cstdint>

namespace ladle {

struct nf4_options {
  index_t block_size = 64;        ///< elements per absmax block; even, >= 2
  bool double_quant = false;      ///< quantize the absmax values to int8 (QLoRA)
  index_t scale_block_size = 256; ///< absmax values per int8 group when double_quant
};

/// An NF4-quantized tensor (flattened).
struct nf4_tensor {
  index_t size = 0;                 ///< number of elements
  index_t block_size = 64;
  tensor<std::uint8_t, 1> codes;    ///< (size + 1) / 2 bytes, first element in the high nibble
  tensor<float, 1> absmax;          ///< one per block; empty when double-quantized
  // Double quantization (empty / zero otherwise):
  index_t scale_block_size = 0;
  tensor<std::int8_t, 1> absmax_codes;  ///< one per block: round((absmax - offset) * 127 / s_g)
  tensor<float, 1> absmax_scales;       ///< s_g, one per group of scale_block_size blocks
  float absmax_offset = 0.0f;           ///< mean of the absmax values

  index_t blocks() const noexcept { return size / block_size + (size % block_size != 0); }
  bool double_quantized() const noexcept { return scale_block_size > 0; }
  /// The scale block b is dequantized with (the double-quantized value when applicable, kept in
  /// [0, FLT_MAX]: an 8-bit code's rounding can otherwise carry it past either bound when one
  /// scale group mixes absmax values of very different size). nf4_dequantize first checks that
  /// the public fields still describe the buffers (size, block_size, scale_block_size).
  float block_scale(index_t b) const noexcept;
  /// Storage cost in bits per element, metadata included.
  double bits_per_element() const noexcept;
};

/// The 16 NF4 levels, ascending (code i decodes to nf4_levels()[i]; code 7 is 0).
const std::array<float, 16>& nf4_levels() noexcept;

/// Code of the level nearest to an already-normalised value (ties to the lower level).
std::uint8_t nf4_encode_value(float normalized) noexcept;

/// Quantizes a contiguous tensor. Throws invalid_argument for a bad block size or an empty or
/// non-contiguous input, domain_error for NaN / inf.
template <class Policy, class T, std::size_t Rank,
          class = std::enable_if_t<is_execution_policy_v<Policy>>>
nf4_tensor nf4_quantize(const Policy& policy, tensor_view<T, Rank> x, nf4_options options = {});
template <class T, std::size_t Rank>
nf4_tensor nf4_quantize(tensor_view<T, Rank> x, nf4_options options = {});

/// Dequantizes into a contiguous `out` with q.size elements (any rank, float-like).
template <class Policy, class T, std::size_t Rank,
          class = std::enable_if_t<is_execution_policy_v<Policy>>>
void nf4_dequantize(const Policy& policy, const nf4_tensor& q, tensor_view<T, Rank> out);
template <class T, std::size_t Rank>
void nf4_dequantize(const nf4_tensor& q, tensor_view<T, Rank> out);

}  // namespace ladle

#include "ladle/quantization/detail/formats_nf4_impl.hpp"
