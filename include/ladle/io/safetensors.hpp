// ladle/io/safetensors.hpp: read and write safetensors checkpoints, single-file and sharded.
//
// Format (huggingface/safetensors): an 8-byte little-endian length N, N bytes of UTF-8 JSON
// mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end)} (offsets relative
// to the data section that follows the header) plus an optional "__metadata__" object of
// strings, then the data section: little-endian, C order, tensors back to back.
//
// Reading (safetensors_file::open): the file is memory-mapped (POSIX mmap, read-only) and views
// point into the mapping: nothing is copied, pages are read when touched. The header is
// validated strictly before any view exists:
//   * 8-byte length prefix present; N <= safetensors_limits::max_header_bytes (100 MB, as the
//     reference implementation); N bytes present; strict UTF-8; starts with '{'; valid JSON;
//     no key repeated in any object;
//   * every entry has exactly dtype / shape / data_offsets; dtype is one of F64 F32 F16 BF16
//     I64 I32 I16 I8 U64 U32 U16 U8 BOOL F8_E4M3 F8_E5M2; shape entries are non-negative
//     integers; elements x dtype size == end - begin, computed with overflow checks;
//   * the data regions, sorted by offset, tile the data section exactly: start at 0, no gap, no
//     overlap, no trailing bytes;
//   * "__metadata__" is an object whose values are strings.
// Pickle checkpoints are refused before reading (names ending .bin .pt .pth .ckpt .pkl .pickle,
// or a pickle / zip signature where a safetensors header should be): unpickling executes code
// from the file. Tensors are listed in data order; find()/at() look them up by name.
//
// Writing (safetensors_writer, save_safetensors): the layout is fixed up front from the specs,
// tensors stably sorted by descending element size (so each tensor starts at a multiple of its
// element size), the header padded with spaces so the data section starts at a multiple of
// `alignment` (8 by default). Bytes go to a temporary file in the target folder
// (".<name>.ladle-tmp-<pid>-<n>"); commit() checks every byte was written, fsyncs the file,
// renames it over the target and fsyncs the folder, so readers see the old file or the whole new
// one. A writer destroyed without commit() removes its temporary file.
//
// Sharded checkpoints: "<base>.safetensors.index.json" = {"metadata": {"total_size": bytes},
// "weight_map": {tensor: shard file}} beside "<base>-00001-of-0000K.safetensors" shards.
// safetensors_checkpoint::open takes a .safetensors file, an index .json or a folder holding
// one of them; shard names must be plain file names in the index's folder, and every tensor must
// be in exactly the shard the index names. safetensors_sharded_writer splits tensors in layout
// order into shards of at most max_shard_bytes data bytes (a larger tensor gets a shard of its
// own); one shard is written as "<base>.safetensors" with no index.
//
// Errors: every malformed file gives ladle::invalid_argument naming the function, the file and,
// where one is at fault, the tensor; OS failures (open, mmap, write, fsync, rename) give
// ladle::runtime_error with strerror. Host byte order must be little-endian.
// Memory: the parsed header (O(tensors)); data stays in the page cache. Requires nlohmann_json.
#pragma once

#include "ladle/core/dtype.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/view.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ladle {

/// Element types of the safetensors format.
enum class safetensors_dtype : std::uint8_t {
  f64, f32, f16, bf16, i64, i32, i16, i8, u64, u32, u16, u8, boolean, f8_e4m3, f8_e5m2
};

/// The format's name of a dtype ("F32", "BF16", "BOOL", ...).
const char* safetensors_dtype_name(safetensors_dtype d) noexcept;
/// Bytes per element.
std::uint64_t safetensors_dtype_size(safetensors_dtype d) noexcept;
/// Parses a format name; false when unknown.
bool safetensors_dtype_from_name(std::string_view name, safetensors_dtype& out) noexcept;
/// True for F64 / F32 / F16 / BF16 (the types averaging works on).
bool safetensors_dtype_is_float(safetensors_dtype d) noexcept;
/// The safetensors dtype of a C++ element type (float, double, half, bfloat16, fixed-width
/// integers, bool).
template <class T>
constexpr safetensors_dtype safetensors_dtype_of() noexcept;

/// One tensor of a header: name, dtype, shape and its [begin, end) bytes in the data section.
struct safetensors_tensor {
  std::string name;
  safetensors_dtype dtype = safetensors_dtype::f32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  /// Product of the shape (1 for a scalar).
  std::uint64_t elements() const noexcept;
  std::uint64_t bytes() const noexcept { return end - begin; }
};

/// A validated header.
struct safetensors_header {
  std::vector<safetensors_tensor> tensors;  ///< in data order
  std::map<std::string, std::string> metadata;
  std::uint64_t header_bytes = 0;           ///< N
  std::uint64_t data_begin = 0;             ///< 8 + N: file offset of the data section
  std::uint64_t data_bytes = 0;
  /// The tensor named `name`, or nullptr.
  const safetensors_tensor* find(std::string_view name) const noexcept;
  void build_index();

 private:
  std::map<std::string, std::size_t, std::less<>> index_;
};

struct safetensors_limits {
  std::uint64_t max_header_bytes = 100'000'000;
};

/// Validates the complete byte image of a safetensors file held in memory (header and data);
/// `source` names it in errors. This is the parser the reader and the fuzz target use.
safetensors_header parse_safetensors(const void* bytes, std::size_t size,
                                     const std::string& source = "<memory>",
                                     const safetensors_limits& limits = {});

/// A memory-mapped, validated safetensors file. Move-only; views die with it.
class safetensors_file {
 public:
  /// Maps and validates `path` (see the contract above).
  static safetensors_file open(const std::string& path, const safetensors_limits& limits = {});

  safetensors_file(safetensors_file&&) noexcept;
  safetensors_file& operator=(safetensors_file&&) noexcept;
  safetensors_file(const safetensors_file&) = delete;
  safetensors_file& operator=(const safetensors_file&) = delete;
  ~safetensors_file();

  const std::string& path() const noexcept { return path_; }
  const safetensors_header& header() const noexcept { return header_; }
  const std::vector<safetensors_tensor>& tensors() const noexcept { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const noexcept { return header_.metadata; }
  std::uint64_t file_size() const noexcept { return size_; }

  const safetensors_tensor* find(std::string_view name) const noexcept { return header_.find(name); }
  /// The tensor named `name`; ladle::invalid_argument naming file and tensor when absent.
  const safetensors_tensor& at(std::string_view name) const;
  /// First byte of a tensor of this file inside the mapping (any alignment).
  const unsigned char* data(const safetensors_tensor& t) const noexcept {
    return base_ + header_.data_begin + t.begin;
  }
  /// A compact view of tensor `name` as T with rank R. Refuses (naming file and tensor) a dtype
  /// other than safetensors_dtype_of<T>(), a rank other than R, or data not aligned for T.
  template <class T, std::size_t R>
  tensor_view<const T, R> view(std::string_view name) const;
  /// All elements as a vector (any rank, scalars included).
  template <class T>
  tensor_view<const T, 1> flat_view(std::string_view name) const;
  /// Hints that the pages of [data(t) + offset, + bytes) will not be read again (madvise
  /// DONTNEED on the whole pages inside the range): keeps resident memory bounded when
  /// streaming through files larger than RAM. Views stay valid (pages are re-read if touched).
  void release(const safetensors_tensor& t, std::uint64_t offset, std::uint64_t bytes) const noexcept;

 private:
  safetensors_file() = default;
  std::string path_;
  const unsigned char* base_ = nullptr;
  std::uint64_t size_ = 0;
  safetensors_header header_;
};

/// Name, dtype and shape of a tensor to write.
struct safetensors_tensor_spec {
  std::string name;
  safetensors_dtype dtype = safetensors_dtype::f32;
  std::vector<std::int64_t> shape;
};

struct safetensors_write_options {
  std::uint64_t alignment = 8;  ///< data section start alignment (power of two, 8..4096)
  bool sync = true;             ///< fsync the file and its folder on commit
};

/// Streams one safetensors file: fix the layout, write each tensor's bytes (tensors in any
/// order, the bytes of one tensor in order, possibly in several calls), commit.
class safetensors_writer {
 public:
  safetensors_writer(std::string path, std::vector<safetensors_tensor_spec> specs,
                     std::map<std::string, std::string> metadata = {},
                     const safetensors_write_options& options = {});
  safetensors_writer(safetensors_writer&&) noexcept;
  safetensors_writer& operator=(safetensors_writer&&) = delete;
  safetensors_writer(const safetensors_writer&) = delete;
  safetensors_writer& operator=(const safetensors_writer&) = delete;
  ~safetensors_writer();

  /// Tensors in file order with their offsets.
  const std::vector<safetensors_tensor>& layout() const noexcept { return layout_; }
  /// Appends `bytes` bytes to tensor `name` (after those already written to it).
  void write(std::string_view name, const void* data, std::uint64_t bytes);
  /// Checks that every tensor is complete, flushes, renames into place.
  void commit();
  const std::string& path() const noexcept { return path_; }
  /// Total file size.
  std::uint64_t file_bytes() const noexcept { return data_begin_ + data_bytes_; }

 private:
  std::string path_, tmp_path_;
  int fd_ = -1;
  bool sync_ = true;
  std::uint64_t data_begin_ = 0, data_bytes_ = 0;
  std::vector<safetensors_tensor> layout_;
  std::vector<std::uint64_t> written_;
  std::map<std::string, std::size_t, std::less<>> index_;
};

/// A tensor to save in one call: spec + pointer to its elements (C order, little-endian).
struct safetensors_entry {
  std::string name;
  safetensors_dtype dtype = safetensors_dtype::f32;
  std::vector<std::int64_t> shape;
  const void* data = nullptr;
};

/// Writes one file atomically (see safetensors_writer).
void save_safetensors(const std::string& path, const std::vector<safetensors_entry>& tensors,
                      const std::map<std::string, std::string>& metadata = {},
                      const safetensors_write_options& options = {});

struct safetensors_shard_options {
  std::uint64_t max_shard_bytes = 5'000'000'000;  ///< data bytes per shard (HF's "5GB")
  std::string base_name = "model";
  safetensors_write_options write{};
};

/// Streams a checkpoint split into shards inside `folder` (created if missing).
class safetensors_sharded_writer {
 public:
  safetensors_sharded_writer(std::string folder, std::vector<safetensors_tensor_spec> specs,
                             std::map<std::string, std::string> metadata = {},
                             const safetensors_shard_options& options = {});
  /// Shard file names in order (a single "<base>.safetensors" when everything fits).
  std::vector<std::string> shard_names() const;
  /// Shard file name of tensor `name`.
  const std::string& shard_of(std::string_view name) const;
  void write(std::string_view name, const void* data, std::uint64_t bytes);
  /// Commits every shard, then the index (when there are several shards).
  void commit();
  /// Path of what to open: the single file, or the index.
  const std::string& checkpoint_path() const noexcept { return checkpoint_path_; }

 private:
  std::string folder_, checkpoint_path_;
  std::vector<std::string> names_;
  std::vector<safetensors_writer> shards_;
  std::map<std::string, std::size_t, std::less<>> shard_index_;
  bool sync_ = true;
};

/// A checkpoint that may span several shard files, opened read-only and memory-mapped.
class safetensors_checkpoint {
 public:
  struct entry {
    const safetensors_file* file;
    const safetensors_tensor* tensor;
  };
  /// `path`: a .safetensors file, a *.safetensors.index.json, or a folder holding
  /// model.safetensors.index.json or model.safetensors.
  static safetensors_checkpoint open(const std::string& path, const safetensors_limits& limits = {});

  /// What was opened (the file or the index).
  const std::string& path() const noexcept { return path_; }
  const std::vector<safetensors_file>& files() const noexcept { return files_; }
  /// All tensors: shards in index order, each in data order.
  const std::vector<entry>& tensors() const noexcept { return order_; }
  /// Metadata of the first shard (the "__metadata__" every shard carries).
  const std::map<std::string, std::string>& metadata() const;
  const entry* find(std::string_view name) const noexcept;
  const entry& at(std::string_view name) const;

 private:
  std::string path_;
  std::vector<safetensors_file> files_;
  std::vector<entry> order_;
  std::map<std::string, std::size_t, std::less<>> index_;
};

}  // namespace ladle

#include "ladle/io/detail/safetensors_impl.hpp"
