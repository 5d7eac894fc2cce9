// ladle/quantile/detail/pava.hpp: the pool-adjacent-violators kernel shared by the 1-D isotonic
// regression and the row-wise quantile repair. No checks here: callers validate.
#pragma once

#include "ladle/config.hpp"

#include <cmath>
#include <cstddef>

namespace ladle {
namespace detail {
namespace quantile {

/// The pooling half of PAVA, increasing, over y[0..n) with weights w (nullptr = all ones).
/// Returns the block count B; block b (< B) has mean y[b], weight block_w[b] and covers
/// [end[b-1], end[b]) (end[-1] = 0). A block closes only at a strict increase of the block
/// means, so equal neighbours are pooled and the means come out strictly increasing. As in
/// scikit-learn, a pooled block enters a merge as (its weight) x (its mean). O(n) amortised.
/// block_w may be w itself (w[i] is read before slot i can be written); end has room for n.
template <class End>
std::size_t pava_pool(double* y, const double* w, std::size_t n, double* block_w, End* end) {
  // Block b's mean is kept in y[b] (b < blocks <= i, so inputs y[i..n) are not yet touched).
  std::size_t blocks = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double wi = w ? w[i] : 1.0;
    double mean = y[i];
    if (blocks == 0 || y[blocks - 1] < mean) {  // the common case: a new block
      block_w[blocks] = wi;
      end[blocks] = static_cast<End>(i + 1);
      y[blocks] = mean;
      ++blocks;
      continue;
    }
    double s = wi * mean;
    double c = wi;
    while (blocks > 0 && !(y[blocks - 1] < mean)) {  // pool while the previous is not below
      --blocks;
      s = std::fma(block_w[blocks], y[blocks], s);
      c += block_w[blocks];
      mean = s / c;
    }
    block_w[blocks] = c;
    end[blocks] = static_cast<End>(i + 1);
    y[blocks] = mean;
    ++blocks;
  }
  return blocks;
}

/// In place, increasing: pava_pool, then every block's mean written over its span. Scratch:
/// block_w and end of length n each.
template <class End>
void pava_increasing(double* y, const double* w, std::size_t n, double* block_w, End* end) {
  const std::size_t blocks = pava_pool(y, w, n, block_w, end);
  // Expand from the last block down: block b covers [end[b-1], end[b]) with end[b-1] >= b, so
  // writing it never overwrites a mean y[b'] (b' < b) still to be read.
  for (std::size_t b = blocks; b-- > 0;) {
    const double mean = y[b];
    const std::size_t start = b == 0 ? 0 : static_cast<std::size_t>(end[b - 1]);
    for (std::size_t i = start; i < static_cast<std::size_t>(end[b]); ++i) y[i] = mean;
  }
}

}  // namespace quantile
}  // namespace detail
}  // namespace ladle
