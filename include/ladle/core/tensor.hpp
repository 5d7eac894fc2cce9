// ladle/core/tensor.hpp: a small owning, 64-byte aligned, row-major tensor.
//
// Used for results ladle returns by value and for scratch space. Elements must be trivially
// copyable (numbers, Eigen::half, Eigen::bfloat16); new tensors are zero-filled unless made with
// the `uninitialized` tag.
#pragma once

#include "ladle/core/error.hpp"
#include "ladle/core/size.hpp"
#include "ladle/core/view.hpp"

#include <array>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace ladle {

template <class T, std::size_t Rank>
class tensor {
  static_assert(std::is_trivially_copyable<T>::value,
                "ladle::tensor: the element type must be trivially copyable");
  static_assert(!std::is_const<T>::value, "ladle::tensor: the element type must not be const");

 public:
  using value_type = T;
  using extents_type = std::array<index_t, Rank>;

  tensor() = default;

  /// A tensor whose size is checked under a public function's name (`fn`, `arg` in messages):
  /// for owning results sized by caller input.
  tensor(const extents_type& extents, uninitialized_t, const char* fn, const char* arg)
      : extents_(extents) {
    data_ = detail::allocate_aligned<T>(detail::checked_size(extents, fn, arg), fn, arg);
  }
  tensor(const extents_type& extents, const char* fn, const char* arg)
      : tensor(extents, uninitialized, fn, arg) {
    if (size() > 0) std::memset(static_cast<void*>(data_.get()), 0, bytes());
  }

  /// A zero-filled tensor of the given extents.
  explicit tensor(const extents_type& extents) : tensor(extents, uninitialized) {
    if (size() > 0) std::memset(static_cast<void*>(data_.get()), 0, bytes());
  }

  /// A tensor whose elements are left uninitialised: for results a kernel overwrites entirely,
  /// so large owning results do not pay for a zero fill they never read. Extents are checked
  /// (non-negative, product and bytes within index_t and the allocation limit of core/size.hpp).
  tensor(const extents_type& extents, uninitialized_t) : extents_(extents) {
    data_ = detail::allocate_aligned<T>(detail::checked_size(extents, "tensor", "extents"),
                                        "tensor", "extents");
  }

  /// A tensor of the given extents with every element equal to `value`.
  tensor(const extents_type& extents, const T& value) : tensor(extents, uninitialized) {
    for (index_t i = 0; i < size(); ++i) data_.get()[i] = value;
  }

  /// A deep copy of any host view with the same rank.
  template <class U, class = std::enable_if_t<std::is_same<std::remove_cv_t<U>, T>::value>>
  explicit tensor(const tensor_view<U, Rank>& source) : tensor(source.extents(), uninitialized) {
    detail::require_host(source, "tensor", "source");
    copy_from(source);
  }

  tensor(const tensor& other) : tensor(other.extents_, uninitialized) {
    if (size() > 0) std::memcpy(static_cast<void*>(data_.get()), other.data(), bytes());
  }
  tensor& operator=(const tensor& other) {
    if (this != &other) *this = tensor(other);
    return *this;
  }
  tensor(tensor&&) noexcept = default;
  tensor& operator=(tensor&&) noexcept = default;

  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  index_t extent(std::size_t i) const noexcept { return extents_[i]; }
  const extents_type& extents() const noexcept { return extents_; }
  index_t size() const noexcept {
    index_t n = 1;
    for (auto e : extents_) n *= e;
    return Rank == 0 ? 0 : n;
  }
  bool empty() const noexcept { return size() == 0; }
  std::size_t bytes() const noexcept { return static_cast<std::size_t>(size()) * sizeof(T); }

  tensor_view<T, Rank> view() noexcept { return tensor_view<T, Rank>(data(), extents_); }
  tensor_view<const T, Rank> view() const noexcept { return cview(); }
  tensor_view<const T, Rank> cview() const noexcept {
    return tensor_view<const T, Rank>(data(), extents_);
  }
  operator tensor_view<T, Rank>() noexcept { return view(); }  // NOLINT
  operator tensor_view<const T, Rank>() const noexcept { return cview(); }  // NOLINT

  /// Element access without bounds checks (row-major offset computed in place: building a view
  /// per access would re-validate the layout every time).
  template <class... Indices>
  T& operator()(Indices... indices) noexcept {
    return data_.get()[offset_of(indices...)];
  }
  template <class... Indices>
  const T& operator()(Indices... indices) const noexcept {
    return data_.get()[offset_of(indices...)];
  }
  T& operator[](index_t i) noexcept { return data_.get()[i]; }
  const T& operator[](index_t i) const noexcept { return data_.get()[i]; }
  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + size(); }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + size(); }

 private:
  template <class... Indices>
  index_t offset_of(Indices... indices) const noexcept {
    static_assert(sizeof...(Indices) == Rank, "ladle::tensor: wrong number of indices");
    const index_t idx[] = {static_cast<index_t>(indices)...};
    index_t offset = idx[0];
    for (std::size_t r = 1; r < Rank; ++r) offset = offset * extents_[r] + idx[r];
    return offset;
  }

  template <class U>
  void copy_from(const tensor_view<U, Rank>& src) {
    if (src.is_contiguous()) {
      if (size() > 0) std::memcpy(static_cast<void*>(data_.get()), src.data(), bytes());
      return;
    }
    std::array<index_t, Rank> idx{};
    for (index_t n = 0; n < size(); ++n) {
      index_t offset = 0;
      for (std::size_t r = 0; r < Rank; ++r) offset += idx[r] * src.stride(r);
      data_.get()[n] = src.data()[offset];
      for (std::size_t r = Rank; r-- > 0;) {
        if (++idx[r] < extents_[r]) break;
        idx[r] = 0;
      }
    }
  }

  detail::aligned_ptr<T> data_;
  extents_type extents_{};
};

}  // namespace ladle
