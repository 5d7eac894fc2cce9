// tools/ladle/checkpoint.cpp: see checkpoint.hpp.
#include "checkpoint.hpp"

#include "common.hpp"

#include <ladle/core/dtype.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cstring>

namespace ladle_cli {

ladle::safetensors_checkpoint open_checkpoint(const std::string& path) {
  check_input(path, /*allow_directory=*/true);
  try {
    return ladle::safetensors_checkpoint::open(path);
  } catch (const ladle::error& e) {
    throw failure(e.what());
  }
}

std::uint64_t checkpoint_bytes(const ladle::safetensors_checkpoint& c) {
  std::uint64_t n = 0;
  for (const auto& f : c.files()) n += f.file_size();
  return n;
}

tensor_sink::tensor_sink(const std::string& path, std::uint64_t shard_bytes,
                         std::vector<ladle::safetensors_tensor_spec> specs,
                         std::map<std::string, std::string> metadata)
    : path_(path) {
  try {
    if (shard_bytes == 0) {
      single_ = std::make_unique<ladle::safetensors_writer>(path, std::move(specs), std::move(metadata));
    } else {
      ladle::safetensors_shard_options o;
      o.max_shard_bytes = shard_bytes;
      sharded_ = std::make_unique<ladle::safetensors_sharded_writer>(path, std::move(specs),
                                                                     std::move(metadata), o);
    }
  } catch (const ladle::error& e) {
    throw failure(e.what());
  }
}

tensor_sink::~tensor_sink() = default;

void tensor_sink::write(const std::string& name, const void* data, std::uint64_t bytes) {
  try {
    if (single_) single_->write(name, data, bytes);
    else sharded_->write(name, data, bytes);
  } catch (const ladle::error& e) {
    throw failure(e.what());
  }
}

void tensor_sink::copy(const ladle::safetensors_checkpoint::entry& e, std::uint64_t window_bytes) {
  const auto& t = *e.tensor;
  const unsigned char* p = e.file->data(t);
  const std::uint64_t window = std::max<std::uint64_t>(1, window_bytes);
  for (std::uint64_t at = 0; at < t.bytes(); at += window) {
    const std::uint64_t len = std::min(window, t.bytes() - at);
    write(t.name, p + at, len);
    e.file->release(t, at, len);
  }
}

void tensor_sink::commit() {
  try {
    if (single_) single_->commit();
    else sharded_->commit();
  } catch (const ladle::error& e) {
    throw failure(e.what());
  }
}

std::uint64_t tensor_sink::bytes_written() const {
  if (single_) return single_->file_bytes();
  std::uint64_t n = 0;
  std::vector<std::string> files = sharded_->shard_names();
  if (files.size() > 1) files.push_back(ladle::detail::base_name(sharded_->checkpoint_path()));
  for (const auto& f : files) {
    struct stat st;
    if (::stat((path_ + "/" + f).c_str(), &st) == 0) n += static_cast<std::uint64_t>(st.st_size);
  }
  return n;
}

void read_float(const ladle::safetensors_checkpoint::entry& e, std::int64_t begin, std::int64_t count,
                float* out) {
  const auto& t = *e.tensor;
  if (begin < 0 || count < 0 || static_cast<std::uint64_t>(begin + count) > t.elements())
    throw failure(e.file->path() + ": tensor '" + t.name + "': elements [" + std::to_string(begin) + ", " +
                  std::to_string(begin + count) + ") are outside its " + std::to_string(t.elements()));
  const std::size_t n = static_cast<std::size_t>(count);
  const std::uint64_t es = ladle::safetensors_dtype_size(t.dtype);
  const unsigned char* src = e.file->data(t) + static_cast<std::uint64_t>(begin) * es;
  // The mapping may leave a tensor unaligned (files written without padding): copy through
  // memcpy-sized chunks instead of typed views.
  constexpr std::size_t chunk = 4096;
  switch (t.dtype) {
    case ladle::safetensors_dtype::f32: std::memcpy(out, src, n * 4); break;
    case ladle::safetensors_dtype::f64:
      for (std::size_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, src + 8 * i, 8);
        out[i] = static_cast<float>(v);
      }
      break;
    case ladle::safetensors_dtype::f16:
    case ladle::safetensors_dtype::bf16: {
      std::uint16_t buf[chunk];
      for (std::size_t i = 0; i < n; i += chunk) {
        const std::size_t m = std::min(chunk, n - i);
        std::memcpy(buf, src + 2 * i, 2 * m);
        if (t.dtype == ladle::safetensors_dtype::f16)
          ladle::convert_n(reinterpret_cast<const ladle::half*>(buf), out + i, static_cast<ladle::index_t>(m));
        else
          ladle::convert_n(reinterpret_cast<const ladle::bfloat16*>(buf), out + i, static_cast<ladle::index_t>(m));
      }
      break;
    }
    default:
      throw failure(e.file->path() + ": tensor '" + t.name + "' has dtype " +
                    ladle::safetensors_dtype_name(t.dtype) + ", not a float type");
  }
  // Read once per pass: the pages go back (re-read from the page cache by a later pass).
  e.file->release(t, static_cast<std::uint64_t>(begin) * es, n * es);
}

void from_float(ladle::safetensors_dtype dtype, const float* in, std::size_t n,
                std::vector<unsigned char>& out) {
  out.resize(n * ladle::safetensors_dtype_size(dtype));
  switch (dtype) {
    case ladle::safetensors_dtype::f32: std::memcpy(out.data(), in, n * 4); break;
    case ladle::safetensors_dtype::f64:
      for (std::size_t i = 0; i < n; ++i) {
        const double v = in[i];
        std::memcpy(out.data() + 8 * i, &v, 8);
      }
      break;
    case ladle::safetensors_dtype::f16:
      ladle::convert_n(in, reinterpret_cast<ladle::half*>(out.data()), static_cast<ladle::index_t>(n));
      break;
    case ladle::safetensors_dtype::bf16:
      ladle::convert_n(in, reinterpret_cast<ladle::bfloat16*>(out.data()), static_cast<ladle::index_t>(n));
      break;
    default: throw failure(std::string("cannot write dtype ") + ladle::safetensors_dtype_name(dtype));
  }
}

std::string quant_key(const std::string& name) { return "ladle.quant." + name; }

nlohmann::ordered_json quant_record::to_json() const {
  nlohmann::ordered_json j;
  j["format"] = format;
  j["bits"] = bits;
  j["scheme"] = scheme;
  j["granularity"] = granularity;
  j["axis"] = axis;
  j["group_size"] = group_size;
  j["signed"] = is_signed;
  j["packed"] = packed;
  if (!observer.empty()) j["observer"] = observer;
  if (double_quant) {
    j["double_quant"] = true;
    j["scale_block_size"] = scale_block_size;
  }
  if (!scale_rule.empty()) j["scale_rule"] = scale_rule;
  j["dtype"] = dtype;
  j["shape"] = shape;
  return j;
}

quant_record quant_record::from_json(const std::string& name, const std::string& text) {
  auto bad = [&](const std::string& what) -> failure {
    return failure("tensor '" + name + "': metadata '" + quant_key(name) + "' " + what);
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception&) {
    throw bad("is not valid JSON");
  }
  if (!j.is_object()) throw bad("is not a JSON object");
  quant_record r;
  try {
    r.format = j.at("format").get<std::string>();
    r.bits = j.at("bits").get<int>();
    r.scheme = j.at("scheme").get<std::string>();
    r.granularity = j.at("granularity").get<std::string>();
    r.axis = j.at("axis").get<int>();
    r.group_size = j.at("group_size").get<std::int64_t>();
    r.is_signed = j.at("signed").get<bool>();
    r.packed = j.at("packed").get<bool>();
    if (j.contains("observer")) r.observer = j.at("observer").get<std::string>();
    if (j.contains("double_quant")) r.double_quant = j.at("double_quant").get<bool>();
    if (j.contains("scale_block_size")) r.scale_block_size = j.at("scale_block_size").get<std::int64_t>();
    if (j.contains("scale_rule")) r.scale_rule = j.at("scale_rule").get<std::string>();
    r.dtype = j.at("dtype").get<std::string>();
    r.shape = j.at("shape").get<std::vector<std::int64_t>>();
  } catch (const std::exception& e) {
    throw bad(std::string("is missing a field or has a wrong type (") + e.what() + ")");
  }
  for (auto s : r.shape)
    if (s < 0) throw bad("has a negative shape entry");
  if (r.double_quant && (r.format != "nf4" || r.scale_block_size < 1))
    throw bad("has double_quant without format nf4 and a positive scale_block_size");
  if (!r.scale_rule.empty() && (r.format.compare(0, 2, "mx") != 0 ||
                                (r.scale_rule != "ocp" && r.scale_rule != "round-up")))
    throw bad("has scale_rule '" + r.scale_rule + "' (MX formats only: ocp or round-up)");
  ladle::safetensors_dtype d;
  if (!ladle::safetensors_dtype_from_name(r.dtype, d) || !ladle::safetensors_dtype_is_float(d))
    throw bad("names dtype '" + r.dtype + "', not F64, F32, F16 or BF16");
  return r;
}

}  // namespace ladle_cli
