// tools/ladle/verb_dequantize.cpp: `ladle dequantize IN.safetensors -o OUT.safetensors`.
//
// Undoes `ladle quantize`: every tensor with a `ladle.quant.NAME` record is reconstructed from
// NAME, NAME.scale (and NAME.zero_point; for double-quantized nf4 NAME.scale_scale and
// NAME.scale_offset) and written under its original name and shape, in its
// original dtype or the one --dtype asks for; other tensors are copied. The records are dropped
// from the output metadata, other metadata kept. Streams tensor by tensor, each in chunks of
// 64 MiB of float32 (dequantize_streamed), code pages released as read.
#include "checkpoint.hpp"
#include "common.hpp"
#include "quant_formats.hpp"
#include "verbs.hpp"

#include <memory>
#include <set>
#include <sstream>

namespace ladle_cli {

namespace {

struct dequantize_args {
  common_options common;
  std::string input, output, dtype;
  std::uint64_t shard_bytes = 0;
  std::uint64_t chunk_bytes = default_chunk_bytes;
};

void run(const dequantize_args& a) {
  stopwatch clock;
  ladle::safetensors_dtype forced{};
  if (!a.dtype.empty()) {
    if (a.dtype == "fp32") forced = ladle::safetensors_dtype::f32;
    else if (a.dtype == "bf16") forced = ladle::safetensors_dtype::bf16;
    else if (a.dtype == "fp16") forced = ladle::safetensors_dtype::f16;
    else throw usage_error("--dtype: '" + a.dtype + "' is not fp32, bf16 or fp16");
  }
  if (a.shard_bytes > 0 && ladle::detail::file_exists(a.output) && !a.common.force)
    throw failure("output '" + a.output + "' already exists (use --force to overwrite)");
  if (a.shard_bytes == 0) check_output(a.output, {a.input}, a.common);
  progress bar(a.common, "dequantize");
  bar.stage("reading " + a.input);
  const ladle::safetensors_checkpoint in = open_checkpoint(a.input);
  const auto& meta = in.metadata();

  struct item {
    const ladle::safetensors_checkpoint::entry* codes = nullptr;
    const ladle::safetensors_checkpoint::entry* scale = nullptr;
    const ladle::safetensors_checkpoint::entry* zero_point = nullptr;
    const ladle::safetensors_checkpoint::entry* scale_scale = nullptr;   // nf4 double quant
    const ladle::safetensors_checkpoint::entry* scale_offset = nullptr;  // nf4 double quant
    bool quantized = false;
    quant_record record;
  };
  std::vector<item> items;
  std::set<std::string> parts;  // scale / zero point tensors consumed by a quantized tensor
  for (const auto& e : in.tensors()) {
    const auto it = meta.find(quant_key(e.tensor->name));
    if (it == meta.end()) continue;
    item x;
    x.codes = &e;
    x.quantized = true;
    x.record = quant_record::from_json(e.tensor->name, it->second);
    x.scale = in.find(e.tensor->name + ".scale");
    if (x.scale == nullptr) throw failure(a.input + ": quantized tensor '" + e.tensor->name + "' has no '" + e.tensor->name + ".scale'");
    x.zero_point = in.find(e.tensor->name + ".zero_point");
    parts.insert(e.tensor->name + ".scale");
    if (x.zero_point) parts.insert(e.tensor->name + ".zero_point");
    if (x.record.double_quant) {
      x.scale_scale = in.find(e.tensor->name + ".scale_scale");
      x.scale_offset = in.find(e.tensor->name + ".scale_offset");
      parts.insert(e.tensor->name + ".scale_scale");
      parts.insert(e.tensor->name + ".scale_offset");
    }
    items.push_back(x);
  }
  for (const auto& kv : meta)
    if (kv.first.compare(0, 12, "ladle.quant.") == 0 && !in.find(kv.first.substr(12)))
      throw failure(a.input + ": metadata '" + kv.first + "' names a tensor the file does not hold");
  std::vector<item> all;
  std::vector<ladle::safetensors_tensor_spec> specs;
  std::size_t next = 0;
  for (const auto& e : in.tensors()) {
    if (parts.count(e.tensor->name)) continue;
    if (next < items.size() && items[next].codes == &e) {
      const item& x = items[next++];
      ladle::safetensors_dtype d;
      ladle::safetensors_dtype_from_name(x.record.dtype, d);
      specs.push_back({e.tensor->name, a.dtype.empty() ? d : forced, x.record.shape});
      all.push_back(x);
    } else {
      specs.push_back({e.tensor->name, e.tensor->dtype, e.tensor->shape});
      item kept;
      kept.codes = &e;
      all.push_back(kept);
    }
  }
  std::map<std::string, std::string> metadata;
  for (const auto& kv : meta)
    if (kv.first.compare(0, 12, "ladle.quant.") != 0) metadata.insert(kv);

  tensor_sink out(a.output, a.shard_bytes, specs, metadata);
  const auto policy = policy_of(a.common);
  std::vector<unsigned char> bytes;
  std::size_t done = 0, restored = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const item& x = all[i];
    const auto& t = *x.codes->tensor;
    bar.stage("dequantizing");
    bar.count(static_cast<std::int64_t>(done), static_cast<std::int64_t>(all.size()), "tensors");
    if (!x.quantized) {
      out.copy(*x.codes, a.chunk_bytes);
      ++done;
      continue;
    }
    const auto bytes_of = [](const ladle::safetensors_checkpoint::entry* e) {
      return e ? stored_bytes{e->file->data(*e->tensor), e->tensor->bytes()} : stored_bytes{};
    };
    stored_parts stored;
    stored.codes = bytes_of(x.codes);
    stored.scales = bytes_of(x.scale);
    stored.zero_points = bytes_of(x.zero_point);
    stored.scale_scales = bytes_of(x.scale_scale);
    stored.scale_offset = bytes_of(x.scale_offset);
    const std::uint64_t out_size = ladle::safetensors_dtype_size(specs[i].dtype);
    try {
      dequantize_streamed(
          policy, t.name, x.record, stored, a.chunk_bytes,
          [&](std::int64_t, std::int64_t count, const float* values) {
            from_float(specs[i].dtype, values, static_cast<std::size_t>(count), bytes);
            out.write(t.name, bytes.data(), static_cast<std::uint64_t>(count) * out_size);
          },
          [&](std::uint64_t offset, std::uint64_t n) { x.codes->file->release(t, offset, n); });
    } catch (const failure& e) {
      throw failure(a.input + ": " + e.what());
    }
    ++restored;
    ++done;
  }
  bar.stage("writing " + a.output);
  out.commit();
  bar.finish();
  std::ostringstream s;
  s.precision(3);
  s << "dequantize: " << a.input << " -> " << a.output << ": " << restored << " of " << all.size()
    << " tensors restored, " << human_bytes(checkpoint_bytes(in)) << " -> " << human_bytes(out.bytes_written())
    << " in " << human_seconds(clock.seconds());
  summary(a.common, s.str());
}

}  // namespace

verb add_dequantize(CLI::App& app) {
  auto a = std::make_shared<dequantize_args>();
  CLI::App* cmd = app.add_subcommand(
      "dequantize",
      "Restore a checkpoint written by 'ladle quantize': original names, shapes and dtypes.");
  cmd->add_option("input", a->input, "IN.safetensors, an index .json or a folder (sharded)")->required();
  cmd->add_option("-o,--output", a->output, "OUT.safetensors (or a folder with --shard-size)")->required();
  cmd->add_option("--dtype", a->dtype, "fp32|bf16|fp16 (default: each tensor's original dtype)");
  cmd->add_option("--shard-size", a->shard_bytes, "Write a sharded checkpoint into folder OUT")
      ->check(CLI::PositiveNumber);
  // Hidden: float32 bytes per chunk (tests force tiny chunks; the output does not depend on it).
  cmd->add_option("--chunk-bytes", a->chunk_bytes)->check(CLI::PositiveNumber)->group("");
  add_common_options(*cmd, a->common, true);
  return {cmd, [a] { run(*a); }};
}

}  // namespace ladle_cli
