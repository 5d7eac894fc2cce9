// ladle/interop/detail/eigen_impl.hpp: definitions for ladle/interop/eigen.hpp.
#pragma once

#include "ladle/core/error.hpp"
#include "ladle/core/view.hpp"

#include <Eigen/Core>

#include <type_traits>
#include <utility>

namespace ladle {
namespace detail {

// Objects whose rvalues own (or may own) the memory a view would point into.
template <class D>
struct eigen_may_own : std::is_base_of<Eigen::PlainObjectBase<D>, D> {};
template <class P, int Options, class S>
struct eigen_may_own<Eigen::Ref<const P, Options, S>> : std::true_type {};

template <class X, bool Direct>
struct eigen_element {  // no direct access: any type, the body's static_assert speaks
  using type = typename X::Scalar;
};
template <class X>
struct eigen_element<X, true> {
  using type = std::remove_pointer_t<decltype(std::declval<X&>().data())>;
};

// Any class deriving from some Eigen::DenseBase<X> (VectorBlock derives via Block, for example).
template <class D>
std::true_type is_eigen_dense_test(const Eigen::DenseBase<D>*);
std::false_type is_eigen_dense_test(...);
template <class T>
using is_eigen_dense = decltype(is_eigen_dense_test(static_cast<const T*>(nullptr)));

template <class E>
struct eigen_traits<E, std::enable_if_t<is_eigen_dense<std::decay_t<E>>::value>> {
  using object = std::decay_t<E>;
  static constexpr bool direct = (int(object::Flags) & Eigen::DirectAccessBit) != 0;
  static constexpr bool dangling =
      !std::is_lvalue_reference<E>::value && eigen_may_own<object>::value;
  using element = typename eigen_element<std::remove_reference_t<E>, direct>::type;
  using enabled = void;
  using matrix_view_type = matrix_view<element>;
  using vector_view_type = vector_view<element>;
};

template <class T, std::size_t Rank>
void require_eigen_strides(const tensor_view<T, Rank>& v, const char* fn) {
  require_host(v, fn, "view");
  for (std::size_t r = 0; r < Rank; ++r)
    if (v.stride(r) < 0 && v.extent(r) > 1)
      throw_invalid_argument(fn, "view", "has stride ", v.stride(r), " on axis ", r,
                             "; an Eigen::Map cannot express negative strides");
}

}  // namespace detail

template <class E, class>
typename detail::eigen_traits<E>::matrix_view_type from_eigen(E&& m) {
  using traits = detail::eigen_traits<E>;
  static_assert(traits::direct,
                "ladle::from_eigen: this Eigen expression has no direct access to its storage "
                "(no data()/innerStride()/outerStride()); evaluate it into a Matrix first");
  static_assert(!traits::dangling,
                "ladle::from_eigen: the argument is a temporary that owns its storage; the view "
                "would dangle. Pass a named object");
  using object = typename traits::object;
  if constexpr (traits::direct && !traits::dangling) {  // keeps the static_assert the only error
    const index_t inner = m.innerStride(), outer = m.outerStride();
    const index_t row_step = object::IsRowMajor ? outer : inner;
    const index_t col_step = object::IsRowMajor ? inner : outer;
    using element = typename traits::element;
    return detail::checked_view<element, 2>(m.data(), {m.rows(), m.cols()}, {row_step, col_step},
                                            device::host(), "from_eigen", "m");
  } else {
    return {};
  }
}

template <class E, class>
typename detail::eigen_traits<E>::vector_view_type from_eigen_vector(E&& v) {
  const auto mv = from_eigen(std::forward<E>(v));
  using view = typename detail::eigen_traits<E>::vector_view_type;
  if (mv.extent(1) == 1) return view(mv.data(), {mv.extent(0)}, {mv.stride(0)});
  if (mv.extent(0) == 1) return view(mv.data(), {mv.extent(1)}, {mv.stride(1)});
  throw_invalid_argument("from_eigen_vector", "v", "is ", mv.extent(0), " x ", mv.extent(1),
                         "; a vector needs one row or one column");
}

template <class T>
eigen_map<T> to_eigen(const matrix_view<T>& v) {
  detail::require_eigen_strides(v, "to_eigen");
  return eigen_map<T>(v.data(), v.extent(0), v.extent(1),
                      Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(v.stride(0), v.stride(1)));
}

template <class T>
eigen_vector_map<T> to_eigen(const vector_view<T>& v) {
  detail::require_eigen_strides(v, "to_eigen");
  return eigen_vector_map<T>(v.data(), v.extent(0),
                             Eigen::InnerStride<Eigen::Dynamic>(v.stride(0)));
}

template <class T>
eigen_row_map<T> to_eigen_row_major(const matrix_view<T>& v) {
  detail::require_eigen_strides(v, "to_eigen_row_major");
  if (v.extent(1) > 1 && v.stride(1) != 1)
    throw_invalid_argument("to_eigen_row_major", "view", "has column stride ", v.stride(1),
                           "; adjacent columns (stride 1) are required, use to_eigen instead");
  return eigen_row_map<T>(v.data(), v.extent(0), v.extent(1),
                          Eigen::OuterStride<Eigen::Dynamic>(v.stride(0)));
}

}  // namespace ladle
