// Shared pieces of the weighting family's definitions.
#pragma once

#include "ladle/core/math.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/size.hpp"
#include "ladle/core/view.hpp"
#include "ladle/weighting/detail/exp_nonpositive.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace ladle {
namespace detail {

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

inline void require_positive_finite(double v, const char* fn, const char* arg) {
  if (!(v > 0) || !std::isfinite(v))
    throw_domain_error(fn, arg, "must be finite and > 0, got ", v);
}

}  // namespace detail
}  // namespace ladle
