// ladle/interop/mdspan.hpp: ladle views of mdspan-shaped objects, and std::mdspan of ladle views.
//
// from_mdspan is duck-typed, so it works in C++17 and without <mdspan>: std::mdspan (C++23),
// std::experimental::mdspan / Kokkos' reference mdspan, or any type with the same members.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/view.hpp"

#include <array>
#include <cstddef>

#if LADLE_HAS_STD_MDSPAN
#  include <mdspan>
#endif

namespace ladle {
namespace detail {
template <class M, class = void>
struct mdspan_traits {};  // filled in for mdspan-shaped types by mdspan_impl.hpp
}  // namespace detail

/// from_mdspan(m, dev): a tensor_view<element_type, M::rank()> over m's elements, for any M with
///   static constexpr rank() (>= 1), extents().extent(r), stride(r), and data_handle() returning a
///   pointer; when M has an accessor_type, its reference must be element_type& (the default
///   accessor, or one that also just dereferences a pointer).
/// layout_right, layout_left and layout_stride all work: the view takes m.stride(r) as its
/// strides, so a layout_left mdspan becomes a column-major view. When M has is_strided() and it
/// returns false, ladle::invalid_argument is thrown. mdspan carries no device, so dev (host by
/// default) says where the memory is. The element type is M's, mutable unless it is const
/// (mdspan's constness is shallow, like a view's).
template <class M, class = typename detail::mdspan_traits<M>::enabled>
typename detail::mdspan_traits<M>::view_type from_mdspan(const M& m, device dev = device::host());

#if LADLE_HAS_STD_MDSPAN
/// The std::mdspan type to_mdspan returns: dynamic extents, layout_stride.
template <class T, std::size_t Rank>
using strided_mdspan = std::mdspan<T, std::dextents<index_t, Rank>, std::layout_stride>;

/// to_mdspan(v): a std::mdspan with v's pointer, extents and strides. std::layout_stride needs
/// positive strides that do not make distinct indices share an element, so views with zero
/// (broadcast) or negative strides, or overlapping rows, are refused with ladle::invalid_argument.
/// The device tag is dropped: mdspan has none. Only where <mdspan> is available.
template <class T, std::size_t Rank>
strided_mdspan<T, Rank> to_mdspan(const tensor_view<T, Rank>& v);
#endif

}  // namespace ladle

#include "ladle/interop/detail/mdspan_impl.hpp"
