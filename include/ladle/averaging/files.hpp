// ladle/averaging/files.hpp: averages of safetensors checkpoints, file to file, in bounded memory.
//
// Not part of ladle/averaging.hpp: needs ladle/io/safetensors.hpp and nlohmann_json.
//
// state_dict_from(file / checkpoint): the tensors of a memory-mapped checkpoint as a state_dict
// (zero copy; names in file order; BOOL becomes uint8, an integer tensor). F8 tensors are
// refused (they are neither averaged nor integer).
//
// average_safetensors(inputs, output, weights, options): opens every input (a .safetensors file,
// an index, or a folder; see safetensors_checkpoint::open) memory-mapped, matches them as
// weighted_average does (errors name the tensor and both files), and writes the average with
// safetensors_writer (atomic: temporary file, fsync, rename) — one file when `output` ends in
// ".safetensors" and max_shard_bytes is 0, otherwise a sharded checkpoint in the folder `output`.
// Tensors are written in the first input's order (the writer then groups them by element size).
// Each tensor is streamed in windows of `window_bytes` of input: the window of every input is
// read once, averaged chunk by chunk (average.hpp) and written; then its pages are released
// (madvise DONTNEED), so resident memory stays near K windows however large the checkpoints are.
// The output carries options.metadata (default: the first input's "__metadata__").
// Results are bit-identical to weighted_average over the same tensors.
//
// merge_safetensors(base, models, output, merge_options, file_merge_options) and
// slerp_safetensors(a, b, t, output, slerp_options, file_merge_options): the merges of
// merges.hpp, file to file, through their chunked forms: chunks of window_bytes / (4 * inputs)
// elements (every input's chunk widened to float32 fits one window), each written as produced,
// the consumed pages of every input released after each chunk of each pass. Resident memory:
// about two windows (input pages and float32 scratch) plus the output's page cache, however
// large or many the checkpoints. Output layout, atomicity and metadata as average_safetensors.
// Bit-identical to merge_task_vectors / slerp on the same tensors (NaN-free for TIES).
#pragma once

#include "ladle/averaging/average.hpp"
#include "ladle/averaging/merges.hpp"
#include "ladle/io/safetensors.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ladle {

/// The tensors of one memory-mapped file / checkpoint as a state dict named after its path.
state_dict state_dict_from(const safetensors_file& file);
state_dict state_dict_from(const safetensors_checkpoint& checkpoint);

/// ladle dtype <-> safetensors dtype.
dtype dtype_from_safetensors(safetensors_dtype d, const char* fn, const std::string& source,
                             const std::string& tensor);
safetensors_dtype safetensors_from_dtype(dtype t) noexcept;

struct file_average_options {
  average_options average{};
  std::uint64_t max_shard_bytes = 0;  ///< 0: one file (when output ends in .safetensors)
  std::optional<std::map<std::string, std::string>> metadata;  ///< default: first input's
  std::uint64_t window_bytes = std::uint64_t(64) << 20;       ///< input bytes per window
  bool sync = true;                                           ///< fsync on commit
  /// Called after every window with (input bytes done, input bytes total).
  std::function<void(std::uint64_t, std::uint64_t)> progress;
};

/// Writes the weighted (weights empty: uniform) average of `inputs` to `output`; returns the
/// path to open (the file, or the index of a sharded output).
std::string average_safetensors(const std::vector<std::string>& inputs, const std::string& output,
                                const std::vector<double>& weights = {},
                                const file_average_options& options = {});

struct file_merge_options {
  std::uint64_t max_shard_bytes = 0;  ///< 0: one file (when output ends in .safetensors)
  std::optional<std::map<std::string, std::string>> metadata;  ///< default: first input's
  std::uint64_t window_bytes = std::uint64_t(64) << 20;       ///< float32 bytes per chunk
  bool sync = true;                                           ///< fsync on commit
};

/// merge_task_vectors of the checkpoints `models` relative to `base`, written to `output`;
/// returns the path to open.
std::string merge_safetensors(const std::string& base, const std::vector<std::string>& models,
                              const std::string& output, const merge_options& options = {},
                              const file_merge_options& files = {});
/// slerp of checkpoints a and b, written to `output`; returns the path to open.
std::string slerp_safetensors(const std::string& a, const std::string& b, double t,
                              const std::string& output, const slerp_options& options = {},
                              const file_merge_options& files = {});

}  // namespace ladle

#include "ladle/averaging/detail/files_impl.hpp"
