// ladle/quantization/formats/mx.hpp: OCP Microscaling (MX v1.0) block formats.
//
// A block is 32 consecutive elements of a row. It stores one shared scale X = 2^(e - 127) as an
// E8M0 byte e (e = 255 means NaN) and 32 elements P_i, and represents V_i = X * P_i.
//
//   element     bits  emax_elem  largest   notes
//   fp8_e4m3    8     8          448       OCP FP8 E4M3 (see fp8.hpp)
//   fp8_e5m2    8     15         57344     OCP FP8 E5M2
//   fp6_e3m2    6     4          28        bias 3, no inf/NaN
//   fp6_e2m3    6     2          7.5       bias 1, no inf/NaN
//   fp4_e2m1    4     2          6         bias 1, values 0 .5 1 1.5 2 3 4 6
//   int8        8     0          127/64    two's complement with an implied 2^-6 scale
//
// Quantizing a block (the spec's conversion, scale_rule = ocp):
//   e_shared = floor(log2(max_i |V_i|)) - emax_elem, clamped to [-127, 127];
//   P_i      = element(V_i / 2^e_shared), rounded to nearest even, saturating at the element's
//              largest value (MXINT8 saturates at ±127; the code -128 is never produced).
// Because 2^e_shared only lines up the block maximum's binade with the element's top binade, the
// maximum itself may saturate (e.g. FP4: 7 -> 6). scale_rule = round_up instead takes the
// smallest power of two with max|V_i| / X <= element max (so nothing saturates; the "+1" scale
// some vendors use), at the cost of one bit of resolution in some blocks. Near the top of the
// float range (X * element max >= 2^128) an element that rounds up to the next power of two would
// decode to infinity, so such blocks encode min(|V_i|, (2 - 2^-mbits) * 2^127): every finite
// input decodes finite.
//
// Special blocks: an all-zero block gets scale code 0 (2^-127) and zero elements. A block with
// any NaN or ±inf gets the NaN scale (255); its elements are stored as 0 and all decode to NaN.
//
// Storage, per row of `cols` elements (cols must be a multiple of 32):
//   scales: rows x cols/32 bytes, E8M0 (unsigned biased exponent);
//   data:   rows x mx_packed_row_bytes(cols, element) bytes:
//     8-bit elements  one byte each, in order;
//     FP6             4 elements in 3 bytes, little-endian bit order: the 24-bit word
//                     w = p0 | p1 << 6 | p2 << 12 | p3 << 18 is stored as bytes w, w >> 8, w >> 16;
//     FP4             2 elements per byte, the first in the low nibble (PyTorch's
//                     float4_e2m1fn_x2 and torchao's layout).
// Scales are not swizzled: cuBLAS/CUTLASS block-scaled GEMMs want a blocked scale layout that the
// caller builds from this row-major one.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/dtype.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/tensor.hpp"
#include "ladle/core/view.hpp"

#include <cstdint>

namespace ladle {

/// MX element types.
enum class mx_element : std::uint8_t { fp8_e4m3, fp8_e5m2, fp6_e3m2, fp6_e2m3, fp4_e2m1, int8 };

/// How the shared scale is chosen (see the header comment).
enum class mx_scale_rule : std::uint8_t { ocp, round_up };

/// Elements per MX block.
inline constexpr index_t mx_block_size = 32;

struct mx_options {
  mx_element element = mx_element::fp8_e4m3;
  mx_scale_rule scale_rule = mx_scale_rule::ocp;
};

/// Bits per element (8, 6 or 4).
constexpr int mx_element_bits(mx_element e) noexcept;
/// Exponent of the element's largest normal binade (emax_elem in the spec).
constexpr int mx_element_emax(mx_element e) noexcept;
/// Largest finite element value.
constexpr float mx_element_max(mx_element e) noexcept;
/// Bytes of packed element data for a row of `cols` elements (cols a multiple of 32).
constexpr index_t mx_packed_row_bytes(index_t cols, mx_element e) noexcept;

/// Encodes one (already scaled) element value: RNE, saturating; NaN gives 0 except for FP8
/// elements, which keep their NaN code.
std::uint8_t mx_encode_element(float v, mx_element e) noexcept;
/// Exact value of an element code.
float mx_decode_element(std::uint8_t code, mx_element e) noexcept;
/// Value of an E8M0 scale byte: 2^(code - 127), NaN for 255.
float e8m0_to_float(std::uint8_t code) noexcept;

/// An MX-quantized matrix: `scales` rows x cols/32, `data` rows x packed bytes.
struct mx_tensor {
  mx_element element = mx_element::fp8_e4m3;
  index_t cols = 0;
  tensor<std::uint8_t, 2> scales;
  tensor<std::uint8_t, 2> data;
  index_t rows() const noexcept { return scales.extent(0); }
};

/// Quantizes x (rows x cols, cols % 32 == 0, rows contiguous: stride(1) == 1) into caller
/// buffers `scales` (rows x cols/32) and `data` (rows x mx_packed_row_bytes), both compact.
/// x may be float, double, half or bfloat16 (doubles are rounded to float first).
template <class Policy, class T, class = std::enable_if_t<is_execution_policy_v<Policy>>>
void mx_quantize_into(const Policy& policy, matrix_view<T> x, matrix_view<std::uint8_t> scales,
                      matrix_view<std::uint8_t> data, mx_options options = {});
template <class T>
void mx_quantize_into(matrix_view<T> x, matrix_view<std::uint8_t> scales,
                      matrix_view<std::uint8_t> data, mx_options options = {});

/// Owning form.
template <class Policy, class T, class = std::enable_if_t<is_execution_policy_v<Policy>>>
mx_tensor mx_quantize(const Policy& policy, matrix_view<T> x, mx_options options = {});
template <class T>
mx_tensor mx_quantize(matrix_view<T> x, mx_options options = {});

/// Dequantizes into `out` (rows x cols, rows contiguous; float, double, half or bfloat16).
template <class Policy, class S, class D, class T,
          class = std::enable_if_t<is_execution_policy_v<Policy>>>
void mx_dequantize_into(const Policy& policy, matrix_view<S> scales, matrix_view<D> data,
                        mx_element element, matrix_view<T> out);
template <class S, class D, class T>
void mx_dequantize_into(matrix_view<S> scales, matrix_view<D> data, mx_element element,
                        matrix_view<T> out);
template <class Policy, class T, class = std::enable_if_t<is_execution_policy_v<Policy>>>
void mx_dequantize(const Policy& policy, const mx_tensor& q, matrix_view<T> out);
template <class T>
void mx_dequantize(const mx_tensor& q, matrix_view<T> out);

}  // namespace ladle

#include "ladle/quantization/detail/formats_mx_impl.hpp"
