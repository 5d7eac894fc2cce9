// libFuzzer target: linear_sum_assignment on small hostile matrices (NaN, +-Inf, huge, denormal,
// empty, rectangular both ways, transposed strides, min and max) checked against brute force:
// an answer must be a valid assignment whose total is the optimum over the allowed pairs; an
// error must be a NaN, an unbounded infinity or a truly infeasible problem.
#include <ladle/core/linear_assignment.hpp>

#include "fuzz_input.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

namespace {

// Best total over injective maps of the smaller side avoiding forbidden entries; NaN if none.
double brute_force(const std::vector<double>& c, std::int64_t nr, std::int64_t nc, bool maximize) {
  const bool tr = nr > nc;
  const std::int64_t r = tr ? nc : nr, k = tr ? nr : nc;
  const double forbidden = maximize ? -INFINITY : INFINITY;
  std::vector<std::int64_t> cols(static_cast<std::size_t>(k));
  std::iota(cols.begin(), cols.end(), std::int64_t{0});
  double best = std::numeric_limits<double>::quiet_NaN();
  do {
    double s = 0;
    bool ok = true;
    for (std::int64_t i = 0; i < r && ok; ++i) {
      const std::int64_t j = cols[static_cast<std::size_t>(i)];
      const double x = tr ? c[static_cast<std::size_t>(j * nc + i)] : c[static_cast<std::size_t>(i * nc + j)];
      ok = x != forbidden;
      s += x;
    }
    if (ok && (std::isnan(best) || (maximize ? s > best : s < best))) best = s;
  } while (std::next_permutation(cols.begin(), cols.end()));
  return best;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const auto nr = in.range(0, 6), nc = in.range(0, 6);
  const bool maximize = in.take<std::uint8_t>() & 1;
  const bool transposed = in.take<std::uint8_t>() & 1;
  std::vector<double> c(static_cast<std::size_t>(nr * nc));
  for (auto& v : c) v = in.value();
  // The view: row-major, or the same elements through a transposed layout.
  std::vector<double> stored(c.size());
  for (std::int64_t i = 0; i < nr; ++i)
    for (std::int64_t j = 0; j < nc; ++j)
      stored[static_cast<std::size_t>(transposed ? j * nr + i : i * nc + j)] = c[static_cast<std::size_t>(i * nc + j)];
  const ladle::tensor_view<const double, 2> view(
      stored.data(), {nr, nc}, transposed ? std::array<ladle::index_t, 2>{1, nr} : std::array<ladle::index_t, 2>{nc, 1});
  const auto goal = maximize ? ladle::assignment_goal::maximize : ladle::assignment_goal::minimize;
  bool bad = false;
  for (double x : c) {
    bad |= std::isnan(x) || x == (maximize ? INFINITY : -INFINITY);
  }
  const double want = nr == 0 || nc == 0 ? 0.0 : brute_force(c, nr, nc, maximize);
  std::vector<ladle::index_t> out(static_cast<std::size_t>(nr), 99);
  bool threw = true;
  double total = 0;
  fuzz::call([&] {
    total = ladle::linear_sum_assignment(view, ladle::make_view(out.data(), {nr}), goal);
    threw = false;
  });
  if (threw) {
    // Refused: a bad value, or no assignment avoids the forbidden entries; nothing written.
    if (!bad && !std::isnan(want)) __builtin_trap();
    for (auto v : out)
      if (v != 99) __builtin_trap();
    return 0;
  }
  if (bad || std::isnan(want)) __builtin_trap();
  std::vector<int> used(static_cast<std::size_t>(nc), 0);
  std::int64_t assigned = 0;
  for (std::int64_t i = 0; i < nr; ++i) {
    const auto j = out[static_cast<std::size_t>(i)];
    if (j == -1) continue;
    if (j < 0 || j >= nc || used[static_cast<std::size_t>(j)]++) __builtin_trap();
    ++assigned;
  }
  if (assigned != std::min(nr, nc)) __builtin_trap();
  // The optimum up to the rounding of double sums of entries as large as the largest.
  double scale = 0;
  for (double x : c)
    if (std::isfinite(x)) scale = std::max(scale, std::fabs(x));
  if (!(std::fabs(total - want) <= 1e-9 * scale * 8)) __builtin_trap();
  return 0;
}
