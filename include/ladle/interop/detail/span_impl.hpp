// ladle/interop/detail/span_impl.hpp: definitions for ladle/interop/span.hpp.
#pragma once

#include "ladle/core/error.hpp"
#include "ladle/core/view.hpp"

#include <cstddef>
#include <type_traits>
#include <vector>

namespace ladle {
namespace detail {

template <class T>
vector_view<T> flat_view(T* p, index_t size, device dev, const char* fn) {
  if (size < 0) throw_invalid_argument(fn, "size", "is ", size, ", expected >= 0");
  if (p == nullptr && size > 0)
    throw_invalid_argument(fn, "data", "is null, expected a pointer to ", size, " elements");
  return vector_view<T>(p, {size}, dev);
}

template <class T>
matrix_view<T> rows_view(T* p, index_t size, index_t row_length, device dev, const char* fn) {
  const vector_view<T> flat = flat_view(p, size, dev, fn);
  if (row_length <= 0)
    throw_invalid_argument(fn, "row_length", "is ", row_length, ", expected > 0");
  if (size % row_length != 0)
    throw_invalid_argument(fn, "row_length", "is ", row_length, ", which does not divide the size ",
                           size, " (", size / row_length, " rows and ", size % row_length,
                           " elements left over)");
  return matrix_view<T>(flat.data(), {size / row_length, row_length}, dev);
}

template <class T>
constexpr void require_not_bool_vector() noexcept {
  static_assert(!std::is_same<std::remove_cv_t<T>, bool>::value,
                "ladle::from_vector: std::vector<bool> packs bits and has no element storage to "
                "view; use std::vector<std::uint8_t>");
}

}  // namespace detail

template <class T, class Alloc>
vector_view<T> from_vector(std::vector<T, Alloc>& v) {
  detail::require_not_bool_vector<T>();
  return detail::flat_view(v.data(), static_cast<index_t>(v.size()), device::host(), "from_vector");
}

template <class T, class Alloc>
vector_view<const T> from_vector(const std::vector<T, Alloc>& v) {
  detail::require_not_bool_vector<T>();
  return detail::flat_view(v.data(), static_cast<index_t>(v.size()), device::host(), "from_vector");
}

template <class T, class Alloc>
matrix_view<T> from_vector(std::vector<T, Alloc>& v, index_t row_length) {
  detail::require_not_bool_vector<T>();
  return detail::rows_view(v.data(), static_cast<index_t>(v.size()), row_length, device::host(),
                           "from_vector");
}

template <class T, class Alloc>
matrix_view<const T> from_vector(const std::vector<T, Alloc>& v, index_t row_length) {
  detail::require_not_bool_vector<T>();
  return detail::rows_view(v.data(), static_cast<index_t>(v.size()), row_length, device::host(),
                           "from_vector");
}

template <class T>
vector_view<T> from_pointer(T* p, index_t size, device dev) {
  return detail::flat_view(p, size, dev, "from_pointer");
}

template <class T>
matrix_view<T> from_pointer(T* p, index_t size, index_t row_length, device dev) {
  return detail::rows_view(p, size, row_length, dev, "from_pointer");
}

#if LADLE_HAS_STD_SPAN
template <class T, std::size_t Extent>
vector_view<T> from_span(std::span<T, Extent> s) {
  return detail::flat_view(s.data(), static_cast<index_t>(s.size()), device::host(), "from_span");
}

template <class T, std::size_t Extent>
matrix_view<T> from_span(std::span<T, Extent> s, index_t row_length) {
  return detail::rows_view(s.data(), static_cast<index_t>(s.size()), row_length, device::host(),
                           "from_span");
}

template <class T, std::size_t Rank>
std::span<T> to_span(const tensor_view<T, Rank>& v) {
  detail::require_host(v, "to_span", "v");
  detail::require_contiguous(v, "to_span", "v");
  return std::span<T>(v.data(), static_cast<std::size_t>(v.size()));
}
#endif

}  // namespace ladle
