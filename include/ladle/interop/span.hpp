// ladle/interop/span.hpp: views of std::vector, pointer + size, and std::span (C++20).
//
// 1-D adaptors give a compact vector_view; 2-D adaptors read the buffer as rows of row_length
// elements (a compact row-major matrix_view with size / row_length rows), and refuse a
// row_length that is not positive or does not divide the size. Nothing is copied; a view of a
// std::vector is valid until the vector reallocates or dies.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/view.hpp"

#include <cstddef>
#include <vector>

#if LADLE_HAS_STD_SPAN
#  include <span>
#endif

namespace ladle {

/// from_vector(v): a vector_view of v's elements (of const T for a const vector).
/// Rvalue vectors are refused at compile time (the view would dangle), as is std::vector<bool>.
template <class T, class Alloc>
vector_view<T> from_vector(std::vector<T, Alloc>& v);
template <class T, class Alloc>
vector_view<const T> from_vector(const std::vector<T, Alloc>& v);
template <class T, class Alloc>
void from_vector(const std::vector<T, Alloc>&& v) = delete;

/// from_vector(v, row_length): v as a (v.size() / row_length) x row_length row-major matrix_view.
/// Throws ladle::invalid_argument when row_length <= 0 or does not divide v.size().
template <class T, class Alloc>
matrix_view<T> from_vector(std::vector<T, Alloc>& v, index_t row_length);
template <class T, class Alloc>
matrix_view<const T> from_vector(const std::vector<T, Alloc>& v, index_t row_length);
template <class T, class Alloc>
void from_vector(const std::vector<T, Alloc>&& v, index_t row_length) = delete;

/// from_pointer(p, size): a vector_view of size elements at p (T may be const).
/// Throws ladle::invalid_argument when size < 0, or p is null and size > 0.
template <class T>
vector_view<T> from_pointer(T* p, index_t size, device dev = device::host());

/// from_pointer(p, size, row_length): size elements at p as rows of row_length elements; the
/// same refusals as from_vector(v, row_length) and from_pointer(p, size).
template <class T>
matrix_view<T> from_pointer(T* p, index_t size, index_t row_length, device dev = device::host());

#if LADLE_HAS_STD_SPAN
/// from_span(s): a vector_view of a std::span (static or dynamic extent; T may be const).
template <class T, std::size_t Extent>
vector_view<T> from_span(std::span<T, Extent> s);

/// from_span(s, row_length): s as rows of row_length elements (refusals as from_vector).
template <class T, std::size_t Extent>
matrix_view<T> from_span(std::span<T, Extent> s, index_t row_length);

/// to_span(v): a std::span over the elements of a contiguous row-major host view of any rank.
/// Throws ladle::invalid_argument for device memory or a non-contiguous view.
template <class T, std::size_t Rank>
std::span<T> to_span(const tensor_view<T, Rank>& v);
#endif

}  // namespace ladle

#include "ladle/interop/detail/span_impl.hpp"
