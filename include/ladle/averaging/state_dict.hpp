// ladle/averaging/state_dict.hpp: ordered sets of named tensors (a model's parameters and
// buffers) over memory the caller owns, and the name / shape / dtype matching every merge does.
//
// A tensor entry is raw memory + dtype + shape: contiguous, C order, host, any alignment (data
// read from an unpadded file may be misaligned; ladle copies such data through a small buffer).
// Element types: float32 / float16 / bfloat16 / float64 are "float" tensors that merges combine;
// signed and unsigned integers of 8..64 bits (bool as uint8) are "integer" tensors (step counts,
// BatchNorm's num_batches_tracked, token ids) that are never averaged: merges copy them from the
// first model or refuse them (integer_tensors::copy_first / refuse).
//
// state_dict (read-only entries) and mutable_state_dict (writable entries) keep the order tensors
// were added in and look names up in O(log n). owned_state_dict holds its own storage (8-byte
// aligned per tensor) and is what the owning forms of the merges return.
//
// match_state_dicts(models, fn) checks that every model has the same names (same count; each name
// of the first found in every other), shapes and dtypes; the first mismatch is an
// ladle::invalid_argument naming the tensor and both sources ("model 'a.safetensors' has shape
// [3, 4], model 'b.safetensors' has [4, 3]"). Mixed float dtypes may be allowed by the caller.
#pragma once

#include "ladle/core/dtype.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/view.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ladle {

/// One named tensor: contiguous C-order host memory of `type` with `shape`. Ptr is const void
/// (read-only) or void (writable).
template <class Ptr>
struct basic_named_tensor {
  std::string name;
  dtype type{dtype_code::float_, 32};
  std::vector<index_t> shape;
  Ptr* data = nullptr;

  /// Product of the shape (1 for a scalar).
  index_t elements() const noexcept {
    index_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
  std::size_t bytes() const noexcept {
    return static_cast<std::size_t>(elements()) * (type.bits / 8u);
  }
};
using named_tensor = basic_named_tensor<const void>;
using mutable_named_tensor = basic_named_tensor<void>;

/// True for float32 / float16 / bfloat16 / float64.
constexpr bool is_float_dtype(dtype t) noexcept {
  return (t.code == dtype_code::float_ && (t.bits == 16 || t.bits == 32 || t.bits == 64)) ||
         (t.code == dtype_code::bfloat && t.bits == 16);
}
/// True for (u)int8..64.
constexpr bool is_integer_dtype(dtype t) noexcept {
  return (t.code == dtype_code::int_ || t.code == dtype_code::uint_) &&
         (t.bits == 8 || t.bits == 16 || t.bits == 32 || t.bits == 64);
}

/// An ordered, named set of tensors over the caller's memory.
template <class Ptr>
class basic_state_dict {
 public:
  using tensor_type = basic_named_tensor<Ptr>;

  /// `source` names this set in error messages (a file path, "model 3", "ema").
  explicit basic_state_dict(std::string source = "state dict") : source_(std::move(source)) {}

  /// Read-only copy of a writable set (same memory).
  template <class P = Ptr, class = std::enable_if_t<std::is_const<P>::value>>
  basic_state_dict(const basic_state_dict<void>& other)  // NOLINT(google-explicit-constructor)
      : source_(other.source()) {
    for (const auto& t : other.tensors()) add(t.name, t.type, t.shape, t.data);
  }

  /// Adds a tensor of raw memory. Errors: repeated or empty name, non-float non-integer dtype,
  /// negative extent, null data with elements.
  void add(std::string name, dtype type, std::vector<index_t> shape, Ptr* data);
  /// Adds a contiguous host view (rank >= 1; use the raw form for scalars).
  template <class T, std::size_t R>
  void add(std::string name, tensor_view<T, R> view);

  const std::string& source() const noexcept { return source_; }
  const std::vector<tensor_type>& tensors() const noexcept { return tensors_; }
  std::size_t size() const noexcept { return tensors_.size(); }
  const tensor_type* find(std::string_view name) const noexcept {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
  }
  /// The tensor named `name`; invalid_argument naming the source when absent.
  const tensor_type& at(std::string_view name) const;

 private:
  std::string source_;
  std::vector<tensor_type> tensors_;
  std::map<std::string, std::size_t, std::less<>> index_;
};
using state_dict = basic_state_dict<const void>;
using mutable_state_dict = basic_state_dict<void>;

/// A state dict with its own storage (each tensor 8-byte aligned).
class owned_state_dict {
 public:
  explicit owned_state_dict(std::string source = "result") : dict_(std::move(source)) {}
  owned_state_dict(owned_state_dict&&) = default;
  owned_state_dict& operator=(owned_state_dict&&) = default;
  owned_state_dict(const owned_state_dict&) = delete;
  owned_state_dict& operator=(const owned_state_dict&) = delete;

  /// Allocates a zero-filled tensor and returns its entry.
  const mutable_named_tensor& add(std::string name, dtype type, std::vector<index_t> shape);
  const mutable_state_dict& dict() const noexcept { return dict_; }
  state_dict view() const { return state_dict(dict_); }
  /// The elements of tensor `name` as T (dtype must match).
  template <class T>
  tensor_view<T, 1> values(std::string_view name) const;

 private:
  mutable_state_dict dict_;
  std::vector<std::vector<std::uint64_t>> storage_;
};

/// Readable shape "[3, 4]".
std::string shape_string(const std::vector<index_t>& shape);

enum class float_dtypes {
  must_match,  ///< every model has the same dtype per tensor (default)
  may_differ,  ///< float tensors may mix float32 / float16 / bfloat16 / float64
};

/// Checks names, shapes and dtypes of models[1..] against models[0] (see the contract above).
void match_state_dicts(const std::vector<state_dict>& models, const char* fn,
                       float_dtypes floats = float_dtypes::must_match);

}  // namespace ladle

#include "ladle/averaging/detail/state_dict_impl.hpp"
