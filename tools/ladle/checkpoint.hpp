// tools/ladle/checkpoint.hpp: what the checkpoint verbs (quantize, dequantize, inspect) share.
//
//   open_checkpoint      a .safetensors file, an index .json or a folder (ladle/io/safetensors.hpp),
//                        errors turned into failures naming the file
//   tensor_sink          one output .safetensors file, or a sharded folder (--shard-size)
//   read_float / from_float conversions between the float dtypes (F64/F32/F16/BF16) and float
//   quant_record         the `ladle.quant.NAME` metadata of a quantized tensor (docs/cli.md)
#pragma once

#include <ladle/io/safetensors.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ladle_cli {

ladle::safetensors_checkpoint open_checkpoint(const std::string& path);

/// Where a checkpoint verb writes: one file, or shards of at most shard_bytes in a folder.
class tensor_sink {
 public:
  tensor_sink(const std::string& path, std::uint64_t shard_bytes,
              std::vector<ladle::safetensors_tensor_spec> specs,
              std::map<std::string, std::string> metadata);
  ~tensor_sink();
  void write(const std::string& name, const void* data, std::uint64_t bytes);
  void commit();
  /// Copies tensor e's bytes unchanged, window_bytes at a time, releasing each window's input
  /// pages after it is written (resident memory stays near one window).
  void copy(const ladle::safetensors_checkpoint::entry& e, std::uint64_t window_bytes);
  /// Bytes of every file written (after commit).
  std::uint64_t bytes_written() const;

 private:
  std::unique_ptr<ladle::safetensors_writer> single_;
  std::unique_ptr<ladle::safetensors_sharded_writer> sharded_;
  std::string path_;
};

/// Input bytes of a checkpoint (all its files).
std::uint64_t checkpoint_bytes(const ladle::safetensors_checkpoint& c);

/// Elements [begin, begin + count) of a float tensor converted to float into out; their pages
/// of the mapping are released afterwards (safetensors_file::release), so streaming a tensor
/// keeps resident memory near one chunk.
void read_float(const ladle::safetensors_checkpoint::entry& e, std::int64_t begin, std::int64_t count,
                float* out);
/// n floats converted to `dtype` (F32, F16, BF16 or F64), as raw little-endian bytes.
void from_float(ladle::safetensors_dtype dtype, const float* in, std::size_t n,
                std::vector<unsigned char>& out);

/// The metadata record of one quantized tensor.
struct quant_record {
  std::string format;          ///< int8 int4 int2 nf4 fp8-e4m3 fp8-e5m2 mxfp8 mxfp6 mxfp4 mxint8
  int bits = 8;                ///< bits per code / element
  std::string scheme;          ///< symmetric, affine, normal-float, float, microscaling
  std::string granularity;     ///< tensor, channel, group, block
  int axis = 0;                ///< channel axis (channel), or -1 (the last axis: group, block)
  std::int64_t group_size = 0; ///< elements per group / block (group, block), else 0
  bool is_signed = true;       ///< integer codes: two's complement
  bool packed = false;         ///< codes packed below a byte (packing.hpp / nf4 / MX layout)
  std::string observer;        ///< range estimator (integer formats)
  bool double_quant = false;   ///< nf4: block absmax values stored as int8 codes (QLoRA)
  std::int64_t scale_block_size = 0;  ///< nf4 double quant: absmax values per NAME.scale_scale entry
  std::string scale_rule;      ///< MX: E8M0 scale rule, "ocp" or "round-up"
  std::string dtype;           ///< original safetensors dtype ("BF16")
  std::vector<std::int64_t> shape;  ///< original shape

  nlohmann::ordered_json to_json() const;
  /// Parses and validates (throws failure naming the tensor on anything unexpected).
  static quant_record from_json(const std::string& name, const std::string& text);
};

/// "ladle.quant." + tensor name
std::string quant_key(const std::string& name);

}  // namespace ladle_cli
