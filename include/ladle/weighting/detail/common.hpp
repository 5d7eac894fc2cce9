// Shared pieces of the weighting family's definitions.
#pragma once

#include "ladle/core/math.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/view.hpp"

#include <cmath>
#include <limits>
#include <type_traits>

namespace ladle {
namespace detail {

// An output view must not share memory with an input (the core's overlap test, named error).
template <class T, std::size_t R, class U, std::size_t S>
void require_disjoint_views(const tensor_view<T, R>& out, const char* out_name,
                            const tensor_view<U, S>& in, const char* in_name, const char* fn) {
  if (overlaps(out, in))
    throw_invalid_argument(fn, out_name, "overlaps the memory of '", in_name, "'");
}

template <class T>
void require_writable_float(const char* fn) {
  static_assert(std::is_floating_point<T>::value && !std::is_const<T>::value,
                "ladle weighting: outputs are writable float or double views");
  (void)fn;
}

template <class T>
void require_float_input(const char* fn) {
  static_assert(std::is_floating_point<std::remove_cv_t<T>>::value,
                "ladle weighting: this input is a float or double view");
  (void)fn;
}

// A product that GCC's -ffp-contract=fast cannot fuse into a neighbouring add: the same rounding
// on every instruction set.
template <class V>
inline V mul_nocontract(V a, V b) noexcept {
  volatile V p = a * b;
  return p;
}

// a * b for non-negative sizes, refused when it overflows index_t.
inline index_t size_product(index_t a, index_t b, const char* fn, const char* arg) {
  if (a < 0 || b < 0 || (a != 0 && b > std::numeric_limits<index_t>::max() / a))
    throw_invalid_argument(fn, arg, "size ", a, " x ", b, " overflows");
  return a * b;
}

inline void require_positive_finite(double v, const char* fn, const char* arg) {
  if (!(v > 0) || !std::isfinite(v))
    throw_domain_error(fn, arg, "must be finite and > 0, got ", v);
}

}  // namespace detail
}  // namespace ladle
