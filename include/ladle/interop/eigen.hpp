// ladle/interop/eigen.hpp: ladle views of Eigen dense objects, and Eigen maps of ladle views.
//
// Nothing is copied in either direction. The adaptors keep Eigen's storage order as element
// strides, so a column-major matrix becomes a view with strides {1, rows} (for a plain matrix)
// rather than being transposed or repacked.
#pragma once

#include "ladle/core/view.hpp"

#include <Eigen/Core>

#include <type_traits>

namespace ladle {
namespace detail {
template <class E, class = void>
struct eigen_traits {};  // filled in for Eigen dense objects by eigen_impl.hpp
}  // namespace detail

/// from_eigen(m): a rows() x cols() matrix_view of an Eigen object that exposes its storage
/// (data(), innerStride(), outerStride(); Eigen's DirectAccessBit): Matrix and Array (either
/// storage order), Map with any Stride (InnerStride, OuterStride, Stride<Outer, Inner>), Ref,
/// Block, row/col, segment and Transpose of those.
///  - Strides are Eigen's: column-major m(i, j) lives at i*innerStride() + j*outerStride(),
///    row-major at i*outerStride() + j*innerStride(). Zero or negative runtime strides of a
///    Map are kept as they are.
///  - Element type is const when data() of the object as passed returns a const pointer: a const
///    object, Map<const ...>, Ref<const ...>, a block of a const matrix.
///  - Vectors keep Eigen's shape (VectorXf is n x 1, RowVectorXf 1 x n), so generic code sees what
///    Eigen reports; from_eigen_vector gives a vector_view instead.
///  - Expressions without direct access (products, sums, Random(), reverse()) do not compile; nor
///    do rvalues that own their storage (a Matrix/Array temporary, a Ref<const ...> temporary that
///    may hold a private copy), whose view would dangle. Evaluate or name them first.
/// The view is host memory, valid while the Eigen object's storage is.
template <class E, class = typename detail::eigen_traits<E>::enabled>
typename detail::eigen_traits<E>::matrix_view_type from_eigen(E&& m);

/// from_eigen_vector(v): a vector_view of an Eigen object with one row or one column (vectors,
/// rows/columns of a matrix, strided segments), stepping by the object's stride along its length.
/// Throws ladle::invalid_argument when both rows() and cols() differ from 1.
template <class E, class = typename detail::eigen_traits<E>::enabled>
typename detail::eigen_traits<E>::vector_view_type from_eigen_vector(E&& v);

/// The Eigen type to_eigen returns for a matrix_view<T>: a dynamic row-major Map whose strides
/// are the view's. For a row-major map, Eigen's Stride<Outer, Inner> reads Outer = step between
/// rows (view stride 0) and Inner = step between columns (view stride 1).
template <class T>
using eigen_map = Eigen::Map<
    std::conditional_t<std::is_const<T>::value,
                       const Eigen::Matrix<std::remove_const_t<T>, Eigen::Dynamic, Eigen::Dynamic,
                                           Eigen::RowMajor>,
                       Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>,
    Eigen::Unaligned, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;

/// A row-major Map with unit column stride known at compile time (only the row step is
/// dynamic). Eigen's matrix products read such operands in place; with a runtime inner stride
/// (eigen_map) they first copy the operand into a temporary.
template <class T>
using eigen_row_map = Eigen::Map<
    std::conditional_t<std::is_const<T>::value,
                       const Eigen::Matrix<std::remove_const_t<T>, Eigen::Dynamic, Eigen::Dynamic,
                                           Eigen::RowMajor>,
                       Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>,
    Eigen::Unaligned, Eigen::OuterStride<Eigen::Dynamic>>;

/// The Eigen type to_eigen returns for a vector_view<T>: a column-vector Map with the view's step.
template <class T>
using eigen_vector_map =
    Eigen::Map<std::conditional_t<std::is_const<T>::value,
                                  const Eigen::Matrix<std::remove_const_t<T>, Eigen::Dynamic, 1>,
                                  Eigen::Matrix<T, Eigen::Dynamic, 1>>,
               Eigen::Unaligned, Eigen::InnerStride<Eigen::Dynamic>>;

/// to_eigen(v): an Eigen::Map over the view's memory (writable unless T is const), with the
/// view's extents and strides, e.g. for GEMM tiles over ladle views.
/// Throws ladle::invalid_argument for device memory and for negative strides (an Eigen Map
/// cannot express them). Zero strides (broadcast) are passed through; do not write through them.
template <class T>
eigen_map<T> to_eigen(const matrix_view<T>& v);

/// to_eigen(v) for a vector: a column-vector Map with the view's step; same refusals.
template <class T>
eigen_vector_map<T> to_eigen(const vector_view<T>& v);

/// to_eigen_row_major(v): like to_eigen, but the columns must be adjacent (stride(1) == 1, or at
/// most one column) and the result is an eigen_row_map, which Eigen's products use without a copy.
/// Throws ladle::invalid_argument otherwise.
template <class T>
eigen_row_map<T> to_eigen_row_major(const matrix_view<T>& v);

}  // namespace ladle

#include "ladle/interop/detail/eigen_impl.hpp"
