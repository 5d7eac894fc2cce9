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

#include <cstdint>
#include <functional>
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

/// The stored pieces of one quantized tensor (their dtypes and shapes; the bytes are streamed).
struct quantized_tensor {
  quant_record record;
  ladle::safetensors_dtype code_dtype = ladle::safetensors_dtype::u8;
  std::vector<std::int64_t> code_shape;
  ladle::safetensors_dtype scale_dtype = ladle::safetensors_dtype::f32;
  std::vector<std::int64_t> scale_shape;
  bool has_zero_point = false;
  bool double_quant = false;  ///< nf4 double quantization: NAME.scale_scale and NAME.scale_offset exist
  std::vector<std::int64_t> scale_scale_shape;
  /// Bytes of every stored piece together.
  std::uint64_t stored_bytes() const;
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

/// Elements [begin, begin + count) of the input tensor as float, into out.
using float_reader = std::function<void(std::int64_t begin, std::int64_t count, float* out)>;
/// Appends bytes to a stored piece: suffix "" (codes), ".scale", ".zero_point", ".scale_scale"
/// or ".scale_offset"; each piece's bytes arrive in order.
using piece_writer = std::function<void(const char* suffix, const void* data, std::uint64_t bytes)>;
/// Receives reconstructed values in element order: values of [begin, begin + count).
using float_writer = std::function<void(std::int64_t begin, std::int64_t count, const float* values)>;

/// Reconstruction error against the input, summed in element order in double (--report).
struct quant_error {
  double squared = 0, signal = 0, max_abs = 0;
  std::int64_t count = 0;
  void add(const float* x, const float* back, std::int64_t n);
};

/// Bytes of float32 scratch per chunk when nothing else is asked (as `ladle merge`'s windows).
constexpr std::uint64_t default_chunk_bytes = std::uint64_t(64) << 20;

/// Validates the choice (usage_error); returns the formats list for messages.
void check_choice(const quant_choice& c);

/// Why a tensor of this shape cannot take the format ("" when it can), e.g. "last extent 30 is
/// not a multiple of 32".
std::string shape_problem(const quant_choice& c, const std::vector<std::int64_t>& shape);

/// The record (without computing anything) for a tensor: names the stored shapes too.
quantized_tensor plan_quantized(const quant_choice& c, const std::string& dtype,
                                const std::vector<std::int64_t>& shape);

/// Quantizes the tensor planned by plan_quantized, reading its elements through `read` in
/// chunks of about chunk_bytes / 4 elements and writing every piece through `write` as it is
/// produced; with `error`, accumulates the reconstruction error chunk by chunk. Chunks hold whole
/// scale slots (rows for channel, groups, nf4 / MX blocks) when a slot fits, else one slot in
/// pieces after a statistics pass over it (tensor granularity reads the tensor twice). Extra
/// memory: the chunk (float32, its codes and, with `error`, its reconstruction), at least one nf4
/// block; nf4 --double-quant holds every block's absmax (4 bytes per block) until the end.
/// The bytes written do not depend on chunk_bytes. Non-finite inputs fail (naming the element)
/// except for the MX formats, which encode them.
void quantize_streamed(const ladle::parallel_policy& policy, const quantized_tensor& plan,
                       const float_reader& read, const piece_writer& write,
                       std::uint64_t chunk_bytes, quant_error* error);

/// Reconstructs the float values of a quantized tensor from its stored pieces (sizes checked
/// against the record; failure naming the tensor otherwise), chunk by chunk in element order.
/// `codes_done(offset, bytes)` is told which code bytes will not be read again.
void dequantize_streamed(const ladle::parallel_policy& policy, const std::string& name,
                         const quant_record& r, const stored_parts& parts, std::uint64_t chunk_bytes,
                         const float_writer& emit,
                         const std::function<void(std::uint64_t, std::uint64_t)>& codes_done = {});

}  // namespace ladle_cli
