// ladle/io/detail/safetensors_impl.hpp: definitions for ladle/io/safetensors.hpp.
#pragma once

#include "ladle/io/detail/posix_file.hpp"
#include "ladle/io/detail/safetensors_format.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <type_traits>

namespace ladle {

// ---- dtypes ----------------------------------------------------------------------------------

inline const char* safetensors_dtype_name(safetensors_dtype d) noexcept {
  for (const auto& row : detail::st_dtype_table)
    if (row.dtype == d) return row.name;
  return "?";
}

inline std::uint64_t safetensors_dtype_size(safetensors_dtype d) noexcept {
  for (const auto& row : detail::st_dtype_table)
    if (row.dtype == d) return row.size;
  return 0;
}

inline bool safetensors_dtype_from_name(std::string_view name, safetensors_dtype& out) noexcept {
  for (const auto& row : detail::st_dtype_table)
    if (name == row.name) {
      out = row.dtype;
      return true;
    }
  return false;
}

inline bool safetensors_dtype_is_float(safetensors_dtype d) noexcept {
  return d == safetensors_dtype::f64 || d == safetensors_dtype::f32 ||
         d == safetensors_dtype::f16 || d == safetensors_dtype::bf16;
}

template <class T>
constexpr safetensors_dtype safetensors_dtype_of() noexcept {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same<U, float>::value) return safetensors_dtype::f32;
  else if constexpr (std::is_same<U, double>::value) return safetensors_dtype::f64;
  else if constexpr (std::is_same<U, half>::value) return safetensors_dtype::f16;
  else if constexpr (std::is_same<U, bfloat16>::value) return safetensors_dtype::bf16;
  else if constexpr (std::is_same<U, bool>::value) return safetensors_dtype::boolean;
  else if constexpr (std::is_integral<U>::value && std::is_signed<U>::value) {
    static_assert(sizeof(U) <= 8, "ladle::safetensors_dtype_of: unsupported integer width");
    return sizeof(U) == 1 ? safetensors_dtype::i8 : sizeof(U) == 2 ? safetensors_dtype::i16
         : sizeof(U) == 4 ? safetensors_dtype::i32 : safetensors_dtype::i64;
  } else if constexpr (std::is_integral<U>::value) {
    static_assert(sizeof(U) <= 8, "ladle::safetensors_dtype_of: unsupported integer width");
    return sizeof(U) == 1 ? safetensors_dtype::u8 : sizeof(U) == 2 ? safetensors_dtype::u16
         : sizeof(U) == 4 ? safetensors_dtype::u32 : safetensors_dtype::u64;
  } else {
    static_assert(sizeof(U) == 0, "ladle::safetensors_dtype_of: no safetensors dtype for this type");
    return safetensors_dtype::u8;
  }
}

inline std::uint64_t safetensors_tensor::elements() const noexcept {
  std::uint64_t n = 1;
  for (auto d : shape) n *= static_cast<std::uint64_t>(d);
  return n;
}

inline const safetensors_tensor* safetensors_header::find(std::string_view name) const noexcept {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors[it->second];
}

inline void safetensors_header::build_index() {
  index_.clear();
  for (std::size_t i = 0; i < tensors.size(); ++i) index_.emplace(tensors[i].name, i);
}

inline safetensors_header parse_safetensors(const void* bytes, std::size_t size,
                                            const std::string& source,
                                            const safetensors_limits& limits) {
  if (bytes == nullptr && size != 0)
    throw_invalid_argument("parse_safetensors", "bytes", "is null but size is ", size);
  static const unsigned char empty[1] = {0};
  return detail::parse_safetensors_image(bytes ? static_cast<const unsigned char*>(bytes) : empty,
                                         size, source, limits, "parse_safetensors");
}

// ---- reader ----------------------------------------------------------------------------------

inline safetensors_file safetensors_file::open(const std::string& path,
                                               const safetensors_limits& limits) {
  constexpr const char* fn = "safetensors_file::open";
  if (detail::has_pickle_extension(path)) detail::refuse_pickle(fn, path);
  detail::mapped_file m = detail::mapped_file::map(path, fn);
  safetensors_file f;
  f.path_ = path;
  f.base_ = m.data;
  f.size_ = m.size;  // f owns the mapping from here on (its destructor unmaps)
  static const unsigned char empty[1] = {0};
  f.header_ = detail::parse_safetensors_image(m.data ? m.data : empty, m.size, path, limits, fn);
  return f;
}

inline safetensors_file::safetensors_file(safetensors_file&& o) noexcept
    : path_(std::move(o.path_)), base_(o.base_), size_(o.size_), header_(std::move(o.header_)) {
  o.base_ = nullptr;
  o.size_ = 0;
}

inline safetensors_file& safetensors_file::operator=(safetensors_file&& o) noexcept {
  if (this != &o) {
    detail::mapped_file::unmap(base_, size_);
    path_ = std::move(o.path_);
    base_ = o.base_;
    size_ = o.size_;
    header_ = std::move(o.header_);
    o.base_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

inline safetensors_file::~safetensors_file() { detail::mapped_file::unmap(base_, size_); }

inline const safetensors_tensor& safetensors_file::at(std::string_view name) const {
  const safetensors_tensor* t = find(name);
  if (t == nullptr)
    throw_invalid_argument("safetensors_file::at", "name", "file '", path_, "' has no tensor '",
                           std::string(name), "'");
  return *t;
}

template <class T, std::size_t R>
tensor_view<const T, R> safetensors_file::view(std::string_view name) const {
  constexpr const char* fn = "safetensors_file::view";
  const safetensors_tensor& t = at(name);
  constexpr safetensors_dtype want = safetensors_dtype_of<T>();
  if (t.dtype != want)
    detail::st_fail_tensor(fn, path_, t.name, "dtype is ", safetensors_dtype_name(t.dtype),
                           ", the view asks for ", safetensors_dtype_name(want));
  if (t.shape.size() != R)
    detail::st_fail_tensor(fn, path_, t.name, "rank is ", t.shape.size(), ", the view asks for ", R);
  const unsigned char* p = data(t);
  if (reinterpret_cast<std::uintptr_t>(p) % alignof(T) != 0)
    detail::st_fail_tensor(fn, path_, t.name, "data at file offset ", header_.data_begin + t.begin,
                           " is not aligned for a ", sizeof(T),
                           "-byte type; copy its bytes (data()) instead");
  std::array<index_t, R> extents{};
  for (std::size_t i = 0; i < R; ++i) extents[i] = static_cast<index_t>(t.shape[i]);
  return tensor_view<const T, R>(t.elements() ? reinterpret_cast<const T*>(p) : nullptr, extents);
}

template <class T>
tensor_view<const T, 1> safetensors_file::flat_view(std::string_view name) const {
  constexpr const char* fn = "safetensors_file::flat_view";
  const safetensors_tensor& t = at(name);
  constexpr safetensors_dtype want = safetensors_dtype_of<T>();
  if (t.dtype != want)
    detail::st_fail_tensor(fn, path_, t.name, "dtype is ", safetensors_dtype_name(t.dtype),
                           ", the view asks for ", safetensors_dtype_name(want));
  const unsigned char* p = data(t);
  if (reinterpret_cast<std::uintptr_t>(p) % alignof(T) != 0)
    detail::st_fail_tensor(fn, path_, t.name, "data at file offset ", header_.data_begin + t.begin,
                           " is not aligned for a ", sizeof(T),
                           "-byte type; copy its bytes (data()) instead");
  const auto n = static_cast<index_t>(t.elements());
  return tensor_view<const T, 1>(n ? reinterpret_cast<const T*>(p) : nullptr, {n});
}

inline void safetensors_file::release(const safetensors_tensor& t, std::uint64_t offset,
                                      std::uint64_t bytes) const noexcept {
  if (base_ == nullptr || offset >= t.bytes()) return;
  bytes = std::min(bytes, t.bytes() - offset);
  const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  const std::uint64_t lo = header_.data_begin + t.begin + offset;
  const std::uint64_t first = (lo + page - 1) / page * page;
  const std::uint64_t last = (lo + bytes) / page * page;
  if (last > first)
    ::madvise(const_cast<unsigned char*>(base_) + first, static_cast<std::size_t>(last - first),
              MADV_DONTNEED);
}

// ---- writer ----------------------------------------------------------------------------------

namespace detail {

inline void check_specs(const std::vector<safetensors_tensor_spec>& specs, const char* fn) {
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const auto& s = specs[i];
    if (s.name.empty()) throw_invalid_argument(fn, "specs", "tensor ", i, " has an empty name");
    if (s.name == "__metadata__")
      throw_invalid_argument(fn, "specs", "tensor ", i, " may not be named '__metadata__'");
    if (utf8_valid_prefix(reinterpret_cast<const unsigned char*>(s.name.data()), s.name.size()) !=
        s.name.size())
      throw_invalid_argument(fn, "specs", "tensor ", i, " has a name that is not valid UTF-8");
    if (!seen.insert(s.name).second)
      throw_invalid_argument(fn, "specs", "tensor name '", s.name, "' appears twice");
    if (safetensors_dtype_size(s.dtype) == 0)
      throw_invalid_argument(fn, "specs", "tensor '", s.name, "' has an unknown dtype");
    std::uint64_t bytes = safetensors_dtype_size(s.dtype);
    for (auto d : s.shape) {
      if (d < 0)
        throw_invalid_argument(fn, "specs", "tensor '", s.name, "' has a negative extent ", d);
      if (mul_overflows(bytes, static_cast<std::uint64_t>(d), bytes))
        throw_invalid_argument(fn, "specs", "tensor '", s.name, "' byte size overflows 64 bits");
    }
  }
}

/// Stable order by descending element size: keeps every tensor aligned to its element size.
inline std::vector<std::size_t> layout_order(const std::vector<safetensors_tensor_spec>& specs) {
  std::vector<std::size_t> order(specs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return safetensors_dtype_size(specs[a].dtype) > safetensors_dtype_size(specs[b].dtype);
  });
  return order;
}

inline void check_metadata(const std::map<std::string, std::string>& metadata, const char* fn) {
  for (const auto& kv : metadata)
    for (const std::string* s : {&kv.first, &kv.second})
      if (utf8_valid_prefix(reinterpret_cast<const unsigned char*>(s->data()), s->size()) !=
          s->size())
        throw_invalid_argument(fn, "metadata", "entry '", kv.first, "' is not valid UTF-8");
}

}  // namespace detail

inline safetensors_writer::safetensors_writer(std::string path,
                                              std::vector<safetensors_tensor_spec> specs,
                                              std::map<std::string, std::string> metadata,
                                              const safetensors_write_options& options)
    : path_(std::move(path)), sync_(options.sync) {
  constexpr const char* fn = "safetensors_writer";
  if (options.alignment < 8 || options.alignment > 4096 ||
      (options.alignment & (options.alignment - 1)) != 0)
    throw_invalid_argument(fn, "options.alignment", "must be a power of two in [8, 4096], got ",
                           options.alignment);
  if (path_.empty()) throw_invalid_argument(fn, "path", "is empty");
  detail::check_specs(specs, fn);
  detail::check_metadata(metadata, fn);

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t cursor = 0;
  for (std::size_t i : detail::layout_order(specs)) {
    safetensors_tensor t;
    t.name = specs[i].name;
    t.dtype = specs[i].dtype;
    t.shape = specs[i].shape;
    t.begin = cursor;
    t.end = cursor + t.elements() * safetensors_dtype_size(t.dtype);
    if (t.end < cursor) throw_invalid_argument(fn, "specs", "total byte size overflows 64 bits");
    cursor = t.end;
    header[t.name] = {{"dtype", safetensors_dtype_name(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {t.begin, t.end}}};
    index_.emplace(t.name, layout_.size());
    layout_.push_back(std::move(t));
  }
  std::string text = header.dump();
  const std::uint64_t a = options.alignment;
  text.append(static_cast<std::size_t>((a - (8 + text.size()) % a) % a), ' ');
  data_begin_ = 8 + text.size();
  data_bytes_ = cursor;
  written_.assign(layout_.size(), 0);

  unsigned char prefix[8];
  for (int k = 0; k < 8; ++k) prefix[k] = static_cast<unsigned char>(std::uint64_t(text.size()) >> (8 * k));
  fd_ = detail::create_temp_beside(path_, tmp_path_, fn);
#if LADLE_HAS_EXCEPTIONS
  try {
#endif
    detail::pwrite_all(fd_, prefix, 8, 0, fn, tmp_path_);
    detail::pwrite_all(fd_, text.data(), text.size(), 8, fn, tmp_path_);
    if (::ftruncate(fd_, static_cast<off_t>(data_begin_ + data_bytes_)) != 0)
      detail::os_fail(fn, "path", "sizing", tmp_path_, errno);
#if LADLE_HAS_EXCEPTIONS
  } catch (...) {
    ::close(fd_);
    ::unlink(tmp_path_.c_str());
    fd_ = -1;
    throw;
  }
#endif
}

inline safetensors_writer::safetensors_writer(safetensors_writer&& o) noexcept
    : path_(std::move(o.path_)), tmp_path_(std::move(o.tmp_path_)), fd_(o.fd_), sync_(o.sync_),
      data_begin_(o.data_begin_), data_bytes_(o.data_bytes_), layout_(std::move(o.layout_)),
      written_(std::move(o.written_)), index_(std::move(o.index_)) {
  o.fd_ = -1;
}

inline safetensors_writer::~safetensors_writer() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_path_.c_str());
  }
}

inline void safetensors_writer::write(std::string_view name, const void* data, std::uint64_t bytes) {
  constexpr const char* fn = "safetensors_writer::write";
  if (fd_ < 0) throw_invalid_argument(fn, "this", "writer for '", path_, "' is already committed");
  const auto it = index_.find(name);
  if (it == index_.end())
    throw_invalid_argument(fn, "name", "'", std::string(name), "' is not a tensor of '", path_, "'");
  const safetensors_tensor& t = layout_[it->second];
  std::uint64_t& done = written_[it->second];
  if (bytes > t.bytes() - done)
    throw_invalid_argument(fn, "bytes", bytes, " more bytes for tensor '", t.name, "' of '", path_,
                           "' would exceed its ", t.bytes(), " bytes (", done, " written)");
  if (bytes == 0) return;
  if (data == nullptr) throw_invalid_argument(fn, "data", "is null");
  detail::pwrite_all(fd_, data, bytes, data_begin_ + t.begin + done, fn, tmp_path_);
  done += bytes;
}

inline void safetensors_writer::commit() {
  constexpr const char* fn = "safetensors_writer::commit";
  if (fd_ < 0) throw_invalid_argument(fn, "this", "writer for '", path_, "' is already committed");
  for (std::size_t i = 0; i < layout_.size(); ++i)
    if (written_[i] != layout_[i].bytes())
      throw_invalid_argument(fn, "this", "tensor '", layout_[i].name, "' of '", path_, "' has ",
                             written_[i], " of its ", layout_[i].bytes(), " bytes written");
  const int fd = fd_;
  fd_ = -1;  // commit_temp closes it (and removes the temporary file on failure)
  detail::commit_temp(fd, tmp_path_, path_, sync_, fn);
}

inline void save_safetensors(const std::string& path, const std::vector<safetensors_entry>& tensors,
                             const std::map<std::string, std::string>& metadata,
                             const safetensors_write_options& options) {
  std::vector<safetensors_tensor_spec> specs;
  specs.reserve(tensors.size());
  for (const auto& e : tensors) specs.push_back({e.name, e.dtype, e.shape});
  safetensors_writer w(path, std::move(specs), metadata, options);
  for (const auto& t : w.layout()) {
    const auto* e = &*std::find_if(tensors.begin(), tensors.end(),
                                   [&](const safetensors_entry& x) { return x.name == t.name; });
    if (e->data == nullptr && t.bytes() != 0)
      throw_invalid_argument("save_safetensors", "tensors", "tensor '", t.name, "' has null data");
    w.write(t.name, e->data, t.bytes());
  }
  w.commit();
}

// ---- sharded writer --------------------------------------------------------------------------

inline safetensors_sharded_writer::safetensors_sharded_writer(
    std::string folder, std::vector<safetensors_tensor_spec> specs,
    std::map<std::string, std::string> metadata, const safetensors_shard_options& options)
    : folder_(std::move(folder)), sync_(options.write.sync) {
  constexpr const char* fn = "safetensors_sharded_writer";
  if (options.max_shard_bytes == 0)
    throw_invalid_argument(fn, "options.max_shard_bytes", "must be positive");
  if (options.base_name.empty() || options.base_name.find('/') != std::string::npos)
    throw_invalid_argument(fn, "options.base_name", "must be a plain file name, got '",
                           options.base_name, "'");
  detail::check_specs(specs, fn);
  if (!detail::is_directory(folder_) && ::mkdir(folder_.c_str(), 0777) != 0)
    detail::os_fail(fn, "folder", "creating folder", folder_, errno);
  // Plan: layout order, a new shard whenever the next tensor would pass the limit.
  std::vector<std::vector<safetensors_tensor_spec>> groups;
  std::uint64_t in_group = 0;
  for (std::size_t i : detail::layout_order(specs)) {
    std::uint64_t bytes = safetensors_dtype_size(specs[i].dtype);
    for (auto d : specs[i].shape) bytes *= static_cast<std::uint64_t>(d);
    const std::uint64_t cap = options.max_shard_bytes;
    if (groups.empty() || (in_group > 0 && (in_group >= cap || bytes > cap - in_group))) {
      groups.emplace_back();
      in_group = 0;
    }
    groups.back().push_back(specs[i]);
    in_group += bytes;
  }
  if (groups.empty()) groups.emplace_back();
  const std::size_t k = groups.size();
  for (std::size_t g = 0; g < k; ++g) {
    std::string name = options.base_name + ".safetensors";
    if (k > 1) {
      char buf[80];
      std::snprintf(buf, sizeof buf, "-%05zu-of-%05zu.safetensors", g + 1, k);
      name = options.base_name + buf;
    }
    for (const auto& s : groups[g]) shard_index_.emplace(s.name, g);
    shards_.emplace_back(folder_ + "/" + name, std::move(groups[g]), metadata, options.write);
    names_.push_back(std::move(name));
  }
  checkpoint_path_ = k > 1 ? folder_ + "/" + options.base_name + ".safetensors.index.json"
                           : folder_ + "/" + names_[0];
}

inline std::vector<std::string> safetensors_sharded_writer::shard_names() const { return names_; }

inline const std::string& safetensors_sharded_writer::shard_of(std::string_view name) const {
  const auto it = shard_index_.find(name);
  if (it == shard_index_.end())
    throw_invalid_argument("safetensors_sharded_writer::shard_of", "name", "'", std::string(name),
                           "' is not a tensor of the checkpoint in '", folder_, "'");
  return names_[it->second];
}

inline void safetensors_sharded_writer::write(std::string_view name, const void* data,
                                              std::uint64_t bytes) {
  const auto it = shard_index_.find(name);
  if (it == shard_index_.end())
    throw_invalid_argument("safetensors_sharded_writer::write", "name", "'", std::string(name),
                           "' is not a tensor of the checkpoint in '", folder_, "'");
  shards_[it->second].write(name, data, bytes);
}

inline void safetensors_sharded_writer::commit() {
  std::uint64_t total = 0;
  for (auto& s : shards_) {
    for (const auto& t : s.layout()) total += t.bytes();
    s.commit();
  }
  if (shards_.size() < 2) return;
  nlohmann::ordered_json index;
  index["metadata"] = {{"total_size", total}};
  nlohmann::ordered_json map = nlohmann::ordered_json::object();
  for (std::size_t g = 0; g < shards_.size(); ++g)
    for (const auto& t : shards_[g].layout()) map[t.name] = names_[g];
  index["weight_map"] = std::move(map);
  detail::write_file_atomically(checkpoint_path_, index.dump(2) + "\n", sync_,
                                "safetensors_sharded_writer::commit");
}

// ---- sharded reader --------------------------------------------------------------------------

inline safetensors_checkpoint safetensors_checkpoint::open(const std::string& path,
                                                           const safetensors_limits& limits) {
  constexpr const char* fn = "safetensors_checkpoint::open";
  std::string target = path;
  if (detail::is_directory(path)) {
    const std::string idx = path + "/model.safetensors.index.json";
    const std::string single = path + "/model.safetensors";
    if (detail::file_exists(idx)) target = idx;
    else if (detail::file_exists(single)) target = single;
    else if (detail::file_exists(path + "/pytorch_model.bin") ||
             detail::file_exists(path + "/pytorch_model.bin.index.json"))
      detail::refuse_pickle(fn, path + "/pytorch_model.bin");
    else
      throw_invalid_argument(fn, "path", "folder '", path,
                             "' holds neither model.safetensors.index.json nor model.safetensors");
  }
  safetensors_checkpoint c;
  c.path_ = target;
  const bool is_index = target.size() >= 5 && target.compare(target.size() - 5, 5, ".json") == 0;
  if (!is_index) {
    c.files_.push_back(safetensors_file::open(target, limits));
  } else {
    detail::mapped_file m = detail::mapped_file::map(target, fn);
    std::string text(reinterpret_cast<const char*>(m.data), static_cast<std::size_t>(m.size));
    detail::mapped_file::unmap(m.data, m.size);
    if (text.size() > limits.max_header_bytes)
      detail::st_fail(fn, target, "index is ", text.size(), " bytes, over the limit of ",
                      limits.max_header_bytes);
    if (detail::utf8_valid_prefix(reinterpret_cast<const unsigned char*>(text.data()),
                                  text.size()) != text.size())
      detail::st_fail(fn, target, "index is not valid UTF-8");
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      detail::st_fail(fn, target, "index is not valid JSON: ", e.what());
    }
    if (!doc.is_object() || !doc.contains("weight_map") || !doc["weight_map"].is_object())
      detail::st_fail(fn, target, "index has no 'weight_map' object");
    const auto& map = doc["weight_map"];
    std::set<std::string> shard_set;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it.value().is_string())
        detail::st_fail_tensor(fn, target, it.key(), "weight_map value is not a string");
      const std::string& shard = it.value().get_ref<const std::string&>();
      if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
        detail::st_fail_tensor(fn, target, it.key(), "shard '", shard,
                               "' is not a plain file name in the index's folder");
      shard_set.insert(shard);
    }
    const std::string folder = detail::parent_folder(target);
    c.files_.reserve(shard_set.size());
    std::map<std::string, std::size_t> shard_pos;
    for (const auto& shard : shard_set) {
      shard_pos.emplace(shard, c.files_.size());
      c.files_.push_back(safetensors_file::open(folder + "/" + shard, limits));
    }
    for (auto it = map.begin(); it != map.end(); ++it) {
      const auto& f = c.files_[shard_pos[it.value().get<std::string>()]];
      if (f.find(it.key()) == nullptr)
        detail::st_fail_tensor(fn, target, it.key(), "weight_map names shard '", f.path(),
                               "', which has no such tensor");
    }
    for (const auto& f : c.files_)
      for (const auto& t : f.tensors()) {
        const auto it = map.find(t.name);
        if (it == map.end())
          detail::st_fail_tensor(fn, target, t.name, "is in shard '", f.path(),
                                 "' but not in the weight_map");
        if (folder + "/" + it->get<std::string>() != f.path())
          detail::st_fail_tensor(fn, target, t.name, "is in shard '", f.path(),
                                 "' but the weight_map places it in '", it->get<std::string>(), "'");
      }
  }
  for (const auto& f : c.files_)
    for (const auto& t : f.tensors()) {
      c.index_.emplace(t.name, c.order_.size());
      c.order_.push_back({&f, &t});
    }
  return c;
}

inline const std::map<std::string, std::string>& safetensors_checkpoint::metadata() const {
  static const std::map<std::string, std::string> none;
  return files_.empty() ? none : files_.front().metadata();
}

inline const safetensors_checkpoint::entry* safetensors_checkpoint::find(
    std::string_view name) const noexcept {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &order_[it->second];
}

inline const safetensors_checkpoint::entry& safetensors_checkpoint::at(std::string_view name) const {
  const entry* e = find(name);
  if (e == nullptr)
    throw_invalid_argument("safetensors_checkpoint::at", "name", "checkpoint '", path_,
                           "' has no tensor '", std::string(name), "'");
  return *e;
}

}  // namespace ladle
