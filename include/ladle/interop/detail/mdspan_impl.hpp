// ladle/interop/detail/mdspan_impl.hpp: definitions for ladle/interop/mdspan.hpp.
#pragma once

#include "ladle/core/error.hpp"
#include "ladle/core/view.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace ladle {
namespace detail {

// data_handle()'s type without reference and const (std::mdspan returns const pointer&).
template <class M>
using mdspan_handle_t =
    std::remove_cv_t<std::remove_reference_t<decltype(std::declval<const M&>().data_handle())>>;

template <class M, class = void>
struct mdspan_accessor_ok : std::true_type {};  // no accessor_type: data_handle() is the access
template <class M>
struct mdspan_accessor_ok<M, std::void_t<typename M::accessor_type::reference>>
    : std::is_same<typename M::accessor_type::reference,
                   std::remove_pointer_t<mdspan_handle_t<M>>&> {};

template <class M, class = void>
struct mdspan_has_is_strided : std::false_type {};
template <class M>
struct mdspan_has_is_strided<M, std::void_t<decltype(bool(std::declval<const M&>().is_strided()))>>
    : std::true_type {};

template <class M>
struct mdspan_traits<
    M, std::enable_if_t<
           std::is_pointer<mdspan_handle_t<M>>::value && mdspan_accessor_ok<M>::value,
           std::void_t<std::integral_constant<std::size_t, M::rank()>,
                       decltype(static_cast<index_t>(std::declval<const M&>().extents().extent(0))),
                       decltype(static_cast<index_t>(std::declval<const M&>().stride(0)))>>> {
  static constexpr std::size_t rank = M::rank();
  using element = std::remove_pointer_t<mdspan_handle_t<M>>;
  using enabled = void;
  // Rank 0 has no tensor_view; from_mdspan's static_assert says so.
  using view_type = tensor_view<element, (rank > 0 ? rank : 1)>;
};

// Rewrites strides s for std::layout_stride and says whether extents e allow it. layout_stride's
// mapping needs every stride positive, and an order of the axes in which each stride is at least
// the previous stride times the previous extent (distinct indices never share an element). The
// stride of an axis with extent <= 1 is never used, so it is replaced by one that always fits.
template <std::size_t Rank>
bool to_layout_stride(const std::array<index_t, Rank>& e, std::array<index_t, Rank>& s) noexcept {
  index_t reach = 1;  // an upper bound of stride * extent over the used axes
  for (std::size_t r = 0; r < Rank; ++r) {
    if (e[r] <= 1) continue;
    if (s[r] <= 0) return false;
    if (s[r] > reach / e[r]) reach = s[r] * e[r];
  }
  std::array<std::size_t, Rank> order{};
  for (std::size_t r = 0; r < Rank; ++r) {
    if (e[r] <= 1) s[r] = reach;
    order[r] = r;
  }
  // Among equal strides only the last may have extent > 1, so put larger extents later.
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return s[a] != s[b] ? s[a] < s[b] : e[a] < e[b]; });
  for (std::size_t i = 1; i < Rank; ++i) {
    const std::size_t prev = order[i - 1], cur = order[i];
    if (e[prev] > 0 && s[cur] / e[prev] < s[prev]) return false;  // s[cur] < s[prev] * e[prev]
  }
  return true;
}

}  // namespace detail

template <class M, class>
typename detail::mdspan_traits<M>::view_type from_mdspan(const M& m, device dev) {
  using traits = detail::mdspan_traits<M>;
  static_assert(traits::rank >= 1, "ladle::from_mdspan: rank-0 mdspans have no tensor_view");
  if constexpr (detail::mdspan_has_is_strided<M>::value) {
    if (!m.is_strided())
      throw_invalid_argument("from_mdspan", "m", "has a layout that is not strided");
  }
  constexpr std::size_t rank = traits::rank > 0 ? traits::rank : 1;
  std::array<index_t, rank> extents{}, strides{};
  for (std::size_t r = 0; r < traits::rank; ++r) {
    extents[r] = static_cast<index_t>(m.extents().extent(r));
    strides[r] = static_cast<index_t>(m.stride(r));
    if (extents[r] < 0)
      throw_invalid_argument("from_mdspan", "m", "has extent ", m.extents().extent(r), " on axis ",
                             r, ", which does not fit ladle::index_t");
  }
  return detail::checked_view(m.data_handle(), extents, strides, dev, "from_mdspan", "m");
}

#if LADLE_HAS_STD_MDSPAN
template <class T, std::size_t Rank>
strided_mdspan<T, Rank> to_mdspan(const tensor_view<T, Rank>& v) {
  std::array<index_t, Rank> strides = v.strides();
  if (!detail::to_layout_stride(v.extents(), strides))
    throw_invalid_argument("to_mdspan", "v",
                           "has strides std::layout_stride cannot express (zero, negative, or "
                           "distinct indices sharing an element)");
  using extents_type = std::dextents<index_t, Rank>;
  const std::layout_stride::mapping<extents_type> mapping(extents_type(v.extents()), strides);
  return strided_mdspan<T, Rank>(v.data(), mapping);
}
#endif

}  // namespace ladle
