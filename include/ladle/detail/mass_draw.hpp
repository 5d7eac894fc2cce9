// ladle/detail/mass_draw.hpp (detail): k-means++'s draw of the next candidate, shared by the
// core k-means seeding and product quantization's codebook seeding.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/random.hpp"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace ladle::detail {

/// prefix[i] = mass[0] + ... + mass[i], summed left to right (the order fixes the bits of every
/// draw); returns the total.
inline double running_sums(const std::vector<double>& mass, std::vector<double>& prefix) noexcept {
  double acc = 0;
  for (std::size_t i = 0; i < mass.size(); ++i) prefix[i] = (acc += mass[i]);
  return acc;
}

/// An index drawn with probability mass[i] / total, from one uniform double of g (prefix and
/// total from running_sums), or uniformly when the total is zero (every point already coincides
/// with a centre). Never returns a point of zero mass while the total is positive: the search
/// lands on one only through the guard for u rounding up to the total.
inline index_t draw_by_mass(philox& g, const std::vector<double>& mass,
                            const std::vector<double>& prefix, double total) {
  const auto n = static_cast<index_t>(mass.size());
  if (!(total > 0)) return uniform_index(g, n);
  const double u = uniform_double(g) * total;  // in [0, total] after rounding
  auto idx = static_cast<index_t>(std::upper_bound(prefix.begin(), prefix.end(), u) -
                                  prefix.begin());
  idx = std::min(idx, n - 1);
  while (idx > 0 && mass[static_cast<std::size_t>(idx)] == 0) --idx;
  return idx;
}

}  // namespace ladle::detail
