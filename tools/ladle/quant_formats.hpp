// tools/ladle/quant_formats.hpp: one tensor through each quantized format of `ladle quantize`,
// and back (`ladle dequantize`). The stored layout per format (docs/cli.md has the table):
//
//   format     NAME (codes)                         NAME.scale                NAME.zero_point
//   int8       I8 (symmetric) / U8 (affine), shape  F32 [slots]               I32 [slots], affine
//   int4/int2  U8 [packed bytes], packing.hpp       F32 [slots]               I32 [slots], affine
//   nf4        U8 [(n+1)/2], first code high nibble F32 [blocks] (absmax)     -
//   nf4 --double-quant: NAME.scale I8 [blocks] (absmax codes), NAME.scale_scale F32 [groups],
//              NAME.scale_offset F32 [] (the absmax mean added back)
//   fp8-*      F8_E4M3 / F8_E5M2, original shape    F32 [slots] (amax / max)  -
//   mx*        U8 [rows, packed row bytes]          U8 [rows, cols/32] (E8M0) -
//
// slots: 1 (tensor), shape[0] (channel, axis 0), elements / group (group, along the last axis).
// rows / cols for MX: cols = the last extent (a multiple of 32), rows = elements / cols.
#pragma once

#include "checkpoint.hpp"

#include <ladle/core/parallel.hpp>

#include <string>
#include <vector>

namespace ladle_cli {

struct quant_choice {
  std::string format = "int8";
  std::string granularity;   ///< "" = the format's default
  bool affine = false;
  std::string observer = "minmax";
  bool double_quant = false;          ///< nf4: quantize the block absmax values to int8
  std::string mx_scale = "ocp";       ///< MX: E8M0 scale rule, ocp or round-up
};

/// The stored pieces of one quantized tensor.
struct quantized_tensor {
  quant_record record;
  ladle::safetensors_dtype code_dtype = ladle::safetensors_dtype::u8;
  std::vector<std::int64_t> code_shape;
  std::vector<unsigned char> codes;
  ladle::safetensors_dtype scale_dtype = ladle::safetensors_dtype::f32;
  std::vector<std::int64_t> scale_shape;
  std::vector<unsigned char> scales;
  bool has_zero_point = false;
  std::vector<std::int32_t> zero_point;
  bool double_quant = false;  ///< nf4 double quantization: the two tensors below exist
  std::vector<std::int64_t> scale_scale_shape;
  std::vector<float> scale_scales;  ///< NAME.scale_scale: s_g per group of absmax codes
  float scale_offset = 0;           ///< NAME.scale_offset
};

/// The stored bytes of one piece of a quantized tensor (null / 0 when absent).
struct stored_bytes {
  const unsigned char* data = nullptr;
  std::uint64_t bytes = 0;
};
/// Every stored piece of a quantized tensor.
struct stored_parts {
  stored_bytes codes, scales, zero_points, scale_scales, scale_offset;
};

/// Validates the choice (usage_error); returns the formats list for messages.
void check_choice(const quant_choice& c);

/// Why a tensor of this shape cannot take the format ("" when it can), e.g. "last extent 30 is
/// not a multiple of 32".
std::string shape_problem(const quant_choice& c, const std::vector<std::int64_t>& shape);

/// The record (without computing anything) for a tensor: names the stored shapes too.
quantized_tensor plan_quantized(const quant_choice& c, const std::string& dtype,
                                const std::vector<std::int64_t>& shape);

/// Quantizes x (the tensor's elements as float) into q (planned by plan_quantized).
void quantize_tensor(const ladle::parallel_policy& policy, const std::vector<float>& x,
                     quantized_tensor& q);

/// Reconstructs the float values of a quantized tensor from its stored pieces (sizes checked
/// against the record; failure naming the tensor otherwise).
void dequantize_tensor(const ladle::parallel_policy& policy, const std::string& name,
                       const quant_record& r, const stored_parts& parts, std::vector<float>& out);

}  // namespace ladle_cli
