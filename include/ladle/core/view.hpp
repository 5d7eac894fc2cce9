// ladle/core/view.hpp: non-owning tensor views over the caller's memory.
//
// A tensor_view<T, Rank> is a pointer, Rank extents, Rank strides (in elements, any sign) and a
// device tag. It never owns and is cheap to copy. T may be const; a view of T converts to a view
// of const T. Element (i, j) of a rank-2 view lives at data()[i * stride(0) + j * stride(1)].
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/size.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

namespace ladle {

/// Where a view's memory lives.
enum class device_kind : std::int32_t { host = 0, cuda = 1 };

/// A device tag: host memory, or the memory of CUDA device `ordinal`.
struct device {
  device_kind kind = device_kind::host;
  std::int32_t ordinal = 0;

  static constexpr device host() noexcept { return {}; }
  static constexpr device cuda(std::int32_t ordinal = 0) noexcept {
    return {device_kind::cuda, ordinal};
  }
  constexpr bool is_host() const noexcept { return kind == device_kind::host; }
  friend constexpr bool operator==(device a, device b) noexcept {
    return a.kind == b.kind && (a.kind == device_kind::host || a.ordinal == b.ordinal);
  }
  friend constexpr bool operator!=(device a, device b) noexcept { return !(a == b); }
};

template <class T, std::size_t Rank>
class tensor_view {
  static_assert(Rank >= 1, "ladle::tensor_view: Rank must be at least 1");
  static_assert(!std::is_reference<T>::value, "ladle::tensor_view: T must not be a reference");

 public:
  using element_type = T;
  using value_type = std::remove_cv_t<T>;
  using index_type = index_t;
  using pointer = T*;
  using reference = T&;
  using extents_type = std::array<index_t, Rank>;
  using strides_type = std::array<index_t, Rank>;

  static constexpr std::size_t rank() noexcept { return Rank; }

  /// An empty view (null data, all extents zero).
  constexpr tensor_view() noexcept : data_(nullptr), extents_{}, strides_{} {}

  /// A compact row-major view (the last index varies fastest).
  tensor_view(pointer data, const extents_type& extents, device dev = device::host())
      : tensor_view(data, extents, row_major_strides(extents), dev) {}

  /// A view with explicit element strides (any sign; zero strides broadcast). Extents must be
  /// non-negative and the layout addressable: the element count and the furthest element's
  /// offset must fit a 64-bit index, else ladle::invalid_argument.
  tensor_view(pointer data, const extents_type& extents, const strides_type& strides,
              device dev = device::host())
      : data_(data), extents_(extents), strides_(strides), device_(dev) {
    detail::check_layout(extents_, strides_, sizeof(T), "tensor_view", "extents");
    if (data_ == nullptr && size() != 0)
      throw_invalid_argument("tensor_view", "data", "is null but the view has ", size(),
                             " elements");
  }

  /// Views of T convert to views of const T.
  template <class U, class = std::enable_if_t<!std::is_same<U, T>::value &&
                                              std::is_convertible<U (*)[], T (*)[]>::value>>
  tensor_view(const tensor_view<U, Rank>& other) noexcept  // NOLINT(google-explicit-constructor)
      : data_(other.data()), extents_(other.extents()), strides_(other.strides()),
        device_(other.device()) {}

  constexpr pointer data() const noexcept { return data_; }
  constexpr index_t extent(std::size_t i) const noexcept { return extents_[i]; }
  constexpr index_t stride(std::size_t i) const noexcept { return strides_[i]; }
  constexpr const extents_type& extents() const noexcept { return extents_; }
  constexpr const strides_type& strides() const noexcept { return strides_; }
  constexpr ladle::device device() const noexcept { return device_; }

  /// Number of elements (product of extents).
  constexpr index_t size() const noexcept {
    index_t n = 1;
    for (std::size_t i = 0; i < Rank; ++i) n *= extents_[i];
    return n;
  }
  constexpr bool empty() const noexcept { return size() == 0; }
  constexpr bool is_host() const noexcept { return device_.is_host(); }

  /// True when elements are laid out compactly in row-major order (strides of a C array).
  /// Extents of 0 or 1 place no constraint on their stride; an empty view is contiguous.
  constexpr bool is_contiguous() const noexcept {
    if (empty()) return true;
    index_t expected = 1;
    for (std::size_t r = Rank; r-- > 0;) {
      if (extents_[r] > 1 && strides_[r] != expected) return false;
      expected *= extents_[r];
    }
    return true;
  }

  /// Element access without bounds checks (the hot-path accessor).
  template <class... Indices>
  constexpr reference operator()(Indices... indices) const noexcept {
    static_assert(sizeof...(Indices) == Rank, "ladle::tensor_view: wrong number of indices");
    const index_t idx[] = {static_cast<index_t>(indices)...};
    index_t offset = 0;
    for (std::size_t i = 0; i < Rank; ++i) offset += idx[i] * strides_[i];
    return data_[offset];
  }

  /// Element access with bounds checks; throws ladle::invalid_argument when out of range.
  template <class... Indices>
  reference at(Indices... indices) const {
    static_assert(sizeof...(Indices) == Rank, "ladle::tensor_view: wrong number of indices");
    const index_t idx[] = {static_cast<index_t>(indices)...};
    for (std::size_t i = 0; i < Rank; ++i)
      if (idx[i] < 0 || idx[i] >= extents_[i])
        throw_invalid_argument("tensor_view::at", "index", "index ", idx[i], " on axis ", i,
                               " is outside [0, ", extents_[i], ")");
    return (*this)(indices...);
  }

  /// Rows [begin, end) along axis 0: the same layout, fewer rows.
  tensor_view slice(index_t begin, index_t end) const {
    if (begin < 0 || end < begin || end > extents_[0])
      throw_invalid_argument("tensor_view::slice", "range", "[", begin, ", ", end,
                             ") is not inside [0, ", extents_[0], ")");
    extents_type e = extents_;
    e[0] = end - begin;
    return tensor_view(unchecked_tag{}, data_ == nullptr ? nullptr : data_ + begin * strides_[0],
                       e, strides_, device_);
  }

  /// Row i of a rank-2 (or higher) view, as a view of rank Rank - 1.
  template <std::size_t R = Rank, class = std::enable_if_t<(R >= 2)>>
  tensor_view<T, Rank - 1> row(index_t i) const noexcept {
    std::array<index_t, Rank - 1> e{}, s{};
    for (std::size_t k = 1; k < Rank; ++k) {
      e[k - 1] = extents_[k];
      s[k - 1] = strides_[k];
    }
    return tensor_view<T, Rank - 1>(typename tensor_view<T, Rank - 1>::unchecked_tag{},
                                    data_ + i * strides_[0], e, s, device_);
  }

  /// Row-major strides for the given extents.
  /// (Computed in wrapping unsigned arithmetic: extents that overflow are refused by the
  /// constructor's layout check, and an empty view's strides are never used.)
  static constexpr strides_type row_major_strides(const extents_type& extents) noexcept {
    strides_type s{};
    std::uint64_t step = 1;
    for (std::size_t r = Rank; r-- > 0;) {
      s[r] = static_cast<index_t>(step);
      step *= extents[r] > 0 ? static_cast<std::uint64_t>(extents[r]) : 1u;
    }
    return s;
  }

 private:
  template <class, std::size_t>
  friend class tensor_view;

  // Sub-views of a validated view (row, slice) are valid by construction: skip the checks.
  struct unchecked_tag {};
  constexpr tensor_view(unchecked_tag, pointer data, const extents_type& extents,
                        const strides_type& strides, ladle::device dev) noexcept
      : data_(data), extents_(extents), strides_(strides), device_(dev) {}

  pointer data_;
  extents_type extents_;
  strides_type strides_;
  ladle::device device_{};
};

template <class T>
using vector_view = tensor_view<T, 1>;
template <class T>
using matrix_view = tensor_view<T, 2>;

/// make_view(ptr, {n, d}): a compact row-major view.
template <class T, std::size_t Rank>
tensor_view<T, Rank> make_view(T* data, const index_t (&extents)[Rank],
                               device dev = device::host()) {
  std::array<index_t, Rank> e{};
  for (std::size_t i = 0; i < Rank; ++i) e[i] = extents[i];
  return tensor_view<T, Rank>(data, e, dev);
}

/// make_view(ptr, {n, d}, {s0, s1}): a view with explicit element strides.
template <class T, std::size_t Rank>
tensor_view<T, Rank> make_view(T* data, const index_t (&extents)[Rank],
                               const index_t (&strides)[Rank], device dev = device::host()) {
  std::array<index_t, Rank> e{}, s{};
  for (std::size_t i = 0; i < Rank; ++i) {
    e[i] = extents[i];
    s[i] = strides[i];
  }
  return tensor_view<T, Rank>(data, e, s, dev);
}

/// make_view(ptr, n): a compact vector view.
template <class T, class N, class = std::enable_if_t<std::is_integral<N>::value>>
vector_view<T> make_view(T* data, N n, device dev = device::host()) {
  return vector_view<T>(data, {static_cast<index_t>(n)}, dev);
}

/// A read-only copy of a view.
template <class T, std::size_t Rank>
tensor_view<const T, Rank> as_const(const tensor_view<T, Rank>& v) noexcept {
  return v;
}

}  // namespace ladle

#include "ladle/core/checks.hpp"
