// ladle/averaging/detail/files_impl.hpp: definitions for ladle/averaging/files.hpp.
#pragma once

#include <memory>

namespace ladle {

inline dtype dtype_from_safetensors(safetensors_dtype d, const char* fn, const std::string& source,
                                    const std::string& tensor) {
  using S = safetensors_dtype;
  switch (d) {
    case S::f64: return dtype_v<double>;
    case S::f32: return dtype_v<float>;
    case S::f16: return dtype_v<half>;
    case S::bf16: return dtype_v<bfloat16>;
    case S::i64: return dtype_v<std::int64_t>;
    case S::i32: return dtype_v<std::int32_t>;
    case S::i16: return dtype_v<std::int16_t>;
    case S::i8: return dtype_v<std::int8_t>;
    case S::u64: return dtype_v<std::uint64_t>;
    case S::u32: return dtype_v<std::uint32_t>;
    case S::u16: return dtype_v<std::uint16_t>;
    case S::u8: return dtype_v<std::uint8_t>;
    case S::boolean: return dtype_v<std::uint8_t>;
    default: break;
  }
  throw_invalid_argument(fn, "file", "'", source, "': tensor '", tensor, "' has dtype ",
                         safetensors_dtype_name(d),
                         ", which averaging does not support (neither float nor integer)");
}

inline safetensors_dtype safetensors_from_dtype(dtype t) noexcept {
  using S = safetensors_dtype;
  if (t.code == dtype_code::bfloat) return S::bf16;
  if (t.code == dtype_code::float_) return t.bits == 64 ? S::f64 : t.bits == 16 ? S::f16 : S::f32;
  const bool s = t.code == dtype_code::int_;
  switch (t.bits) {
    case 8: return s ? S::i8 : S::u8;
    case 16: return s ? S::i16 : S::u16;
    case 32: return s ? S::i32 : S::u32;
    default: return s ? S::i64 : S::u64;
  }
}

namespace detail {
inline void add_file_tensors(state_dict& d, const safetensors_file& f) {
  for (const auto& t : f.tensors()) {
    std::vector<index_t> shape(t.shape.begin(), t.shape.end());
    d.add(t.name, dtype_from_safetensors(t.dtype, "state_dict_from", f.path(), t.name),
          std::move(shape), static_cast<const void*>(f.data(t)));
  }
}
}  // namespace detail

inline state_dict state_dict_from(const safetensors_file& file) {
  state_dict d(file.path());
  detail::add_file_tensors(d, file);
  return d;
}

inline state_dict state_dict_from(const safetensors_checkpoint& checkpoint) {
  state_dict d(checkpoint.path());
  for (const auto& f : checkpoint.files()) detail::add_file_tensors(d, f);
  return d;
}

namespace detail {

/// Where a file-to-file function writes: one .safetensors file, or a sharded folder.
class checkpoint_output {
 public:
  checkpoint_output(const std::string& output, std::vector<safetensors_tensor_spec> specs,
                    const std::map<std::string, std::string>& metadata,
                    std::uint64_t max_shard_bytes, bool sync, const char* fn)
      : output_(output) {
    const bool single = max_shard_bytes == 0;
    if (single && !(output.size() > 12 && output.compare(output.size() - 12, 12, ".safetensors") == 0))
      throw_invalid_argument(fn, "output", "'", output,
                             "' must end in .safetensors (or set options.max_shard_bytes for a "
                             "sharded folder)");
    safetensors_write_options wo;
    wo.sync = sync;
    if (single) {
      file_ = std::make_unique<safetensors_writer>(output, std::move(specs), metadata, wo);
    } else {
      safetensors_shard_options so;
      so.max_shard_bytes = max_shard_bytes;
      so.write = wo;
      shards_ = std::make_unique<safetensors_sharded_writer>(output, std::move(specs), metadata, so);
    }
  }
  void write(std::string_view name, const void* bytes, std::uint64_t n) {
    if (file_) file_->write(name, bytes, n);
    else shards_->write(name, bytes, n);
  }
  /// Commits; returns the path to open (the file, or the index of a sharded output).
  std::string commit() {
    if (file_) {
      file_->commit();
      return output_;
    }
    shards_->commit();
    return shards_->checkpoint_path();
  }

 private:
  std::string output_;
  std::unique_ptr<safetensors_writer> file_;
  std::unique_ptr<safetensors_sharded_writer> shards_;
};

}  // namespace detail

inline std::string average_safetensors(const std::vector<std::string>& inputs,
                                       const std::string& output,
                                       const std::vector<double>& weights,
                                       const file_average_options& options) {
  constexpr const char* fn = "average_safetensors";
  const average_options& o = options.average;
  if (options.window_bytes == 0)
    throw_invalid_argument(fn, "options.window_bytes", "must be positive");
  const auto w = detail::checked_average_weights(inputs.size(), weights, o, fn);
  std::vector<safetensors_checkpoint> ckpts;
  ckpts.reserve(inputs.size());
  for (const auto& path : inputs) ckpts.push_back(safetensors_checkpoint::open(path));
  std::vector<state_dict> models;
  models.reserve(ckpts.size());
  for (const auto& c : ckpts) models.push_back(state_dict_from(c));
  const auto plans = detail::plan_average(models, w, o, fn);

  std::vector<safetensors_tensor_spec> specs;
  specs.reserve(plans.size());
  for (const auto& p : plans) {
    const auto& t = models[0].at(p.name);
    std::vector<std::int64_t> shape(t.shape.begin(), t.shape.end());
    // BOOL is an 8-bit integer to the averaging code; keep the file's spelling of it.
    const safetensors_dtype first = ckpts[0].at(p.name).tensor->dtype;
    for (std::size_t m = 1; p.integer && m < ckpts.size(); ++m) {
      const safetensors_dtype other = ckpts[m].at(p.name).tensor->dtype;
      if (other != first)
        throw_invalid_argument(fn, "inputs", "tensor '", p.name, "': model '", models[0].source(),
                               "' has dtype ", safetensors_dtype_name(first), ", model '",
                               models[m].source(), "' has ", safetensors_dtype_name(other));
    }
    specs.push_back({p.name, p.integer ? first : safetensors_from_dtype(p.out_type),
                     std::move(shape)});
  }
  detail::checkpoint_output out(output, std::move(specs),
                                options.metadata ? *options.metadata : ckpts[0].metadata(),
                                options.max_shard_bytes, options.sync, fn);
  std::uint64_t total = 0, done = 0;
  for (const auto& p : plans)
    for (const auto& in : p.inputs)
      total += static_cast<std::uint64_t>(p.elements) * (in.type.bits / 8u);
  detail::average_scratch scratch(o.chunk);
  for (const auto& p : plans) {
    // input element size bounds the window in elements
    std::uint64_t in_bytes_per_elem = 0;
    for (const auto& in : p.inputs) in_bytes_per_elem += in.type.bits / 8u;
    const index_t window = static_cast<index_t>(std::max<std::uint64_t>(
        static_cast<std::uint64_t>(o.chunk),
        options.window_bytes / std::max<std::uint64_t>(in_bytes_per_elem, 1) /
            static_cast<std::uint64_t>(o.chunk) * static_cast<std::uint64_t>(o.chunk)));
    for (index_t begin = 0; begin < p.elements || (begin == 0 && p.elements == 0);) {
      const index_t end = std::min(p.elements, begin + window);
      detail::average_range(p, begin, end, o, scratch,
                            [&](index_t, const void* bytes, std::size_t n) {
                              out.write(p.name, bytes, n);
                            });
      std::uint64_t window_in = 0;
      for (std::size_t m = 0; m < ckpts.size(); ++m) {
        const auto& e = ckpts[m].at(p.name);
        const std::uint64_t es = safetensors_dtype_size(e.tensor->dtype);
        e.file->release(*e.tensor, static_cast<std::uint64_t>(begin) * es,
                        static_cast<std::uint64_t>(end - begin) * es);
      }
      for (const auto& in : p.inputs)
        window_in += static_cast<std::uint64_t>(end - begin) * (in.type.bits / 8u);
      done += window_in;
      if (options.progress) options.progress(done, total);
      if (end >= p.elements) break;
      begin = end;
    }
  }
  return out.commit();
}

namespace detail {

/// Opens the checkpoints `inputs`, sets up the output (the first input's tensors, in its order,
/// with the merged dtypes) and runs run(dicts, sink, chunking); returns the path to open.
template <class Run>
std::string merge_files(const char* fn, const std::vector<std::string>& inputs,
                        const std::string& output, output_dtype output_type,
                        integer_tensors integers, const file_merge_options& options, Run&& run) {
  if (options.window_bytes == 0)
    throw_invalid_argument(fn, "files.window_bytes", "must be positive");
  std::vector<safetensors_checkpoint> ckpts;
  ckpts.reserve(inputs.size());
  for (const auto& path : inputs) ckpts.push_back(safetensors_checkpoint::open(path));
  std::vector<state_dict> dicts;
  dicts.reserve(ckpts.size());
  for (const auto& c : ckpts) dicts.push_back(state_dict_from(c));
  match_state_dicts(dicts, fn, float_dtypes::may_differ);  // before the output exists
  check_integer_tensors(dicts[0], integers, fn);
  std::vector<safetensors_tensor_spec> specs;
  for (const auto& t : dicts[0].tensors()) {
    const safetensors_dtype file_type = ckpts[0].at(t.name).tensor->dtype;  // keeps BOOL as BOOL
    specs.push_back({t.name,
                     is_integer_dtype(t.type) ? file_type
                                              : safetensors_from_dtype(merged_dtype(t.type, output_type)),
                     std::vector<std::int64_t>(t.shape.begin(), t.shape.end())});
  }
  checkpoint_output out(output, std::move(specs),
                        options.metadata ? *options.metadata : ckpts[0].metadata(),
                        options.max_shard_bytes, options.sync, fn);
  chunked_merge_options chunking;
  chunking.chunk = static_cast<index_t>(
      std::max<std::uint64_t>(1, options.window_bytes / (4u * inputs.size())));
  chunking.consumed = [&](const std::string& name, index_t begin, index_t end) {
    for (const auto& c : ckpts) {
      const auto& e = c.at(name);
      const std::uint64_t es = safetensors_dtype_size(e.tensor->dtype);
      e.file->release(*e.tensor, static_cast<std::uint64_t>(begin) * es,
                      static_cast<std::uint64_t>(end - begin) * es);
    }
  };
  run(dicts, [&](const std::string& name, const void* bytes, std::size_t n) { out.write(name, bytes, n); },
      chunking);
  return out.commit();
}

}  // namespace detail

inline std::string merge_safetensors(const std::string& base, const std::vector<std::string>& models,
                                     const std::string& output, const merge_options& options,
                                     const file_merge_options& files) {
  constexpr const char* fn = "merge_safetensors";
  detail::checked_merge_weights(models.size(), options, fn);
  std::vector<std::string> inputs{base};
  inputs.insert(inputs.end(), models.begin(), models.end());
  return detail::merge_files(fn, inputs, output, options.output, options.integers, files,
                             [&](const std::vector<state_dict>& d, const merge_sink& sink,
                                 const chunked_merge_options& c) {
                               const std::vector<state_dict> tuned(d.begin() + 1, d.end());
                               merge_task_vectors_chunked(d[0], tuned, options, sink, c);
                             });
}

inline std::string slerp_safetensors(const std::string& a, const std::string& b, double t,
                                     const std::string& output, const slerp_options& options,
                                     const file_merge_options& files) {
  constexpr const char* fn = "slerp_safetensors";
  if (!(t >= 0 && t <= 1)) throw_invalid_argument(fn, "t", "must be in [0, 1], got ", t);
  return detail::merge_files(fn, {a, b}, output, options.output, options.integers, files,
                             [&](const std::vector<state_dict>& d, const merge_sink& sink,
                                 const chunked_merge_options& c) {
                               slerp_chunked(d[0], d[1], t, options, sink, c);
                             });
}

}  // namespace ladle
