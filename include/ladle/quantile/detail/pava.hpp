// ladle/quantile/detail/pava.hpp: the pool-adjacent-violators kernel shared by the 1-D isotonic
// regression and the row-wise quantile repair. No checks here: callers validate.
#pragma once

#include "ladle/config.hpp"

#include <cstddef>

namespace ladle {
namespace detail {
namespace quantile {

/// In place, increasing, over y[0..n) with weights w (nullptr = all ones). Scratch: sum_wy, sum_w
/// and end (block end index) of length n each. A block closes only at a strict increase of the
/// block means, so equal neighbours are pooled. O(n) amortised.
inline void pava_increasing(double* y, const double* w, std::size_t n, double* sum_wy,
                            double* sum_w, std::size_t* end) {
  std::size_t blocks = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double wi = w ? w[i] : 1.0;
    double s = wi * y[i];
    double c = wi;
    double mean = y[i];
    // Pool with the previous block while it is not strictly below.
    while (blocks > 0 && !(sum_wy[blocks - 1] / sum_w[blocks - 1] < mean)) {
      --blocks;
      s += sum_wy[blocks];
      c += sum_w[blocks];
      mean = s / c;
    }
    sum_wy[blocks] = s;
    sum_w[blocks] = c;
    end[blocks] = i + 1;
    ++blocks;
  }
  std::size_t start = 0;
  for (std::size_t b = 0; b < blocks; ++b) {
    const double mean = sum_wy[b] / sum_w[b];
    for (std::size_t i = start; i < end[b]; ++i) y[i] = mean;
    start = end[b];
  }
}

}  // namespace quantile
}  // namespace detail
}  // namespace ladle
