// ladle/quantile/detail/repair_impl.hpp: definitions for ladle/quantile/repair.hpp.
#pragma once

#include "ladle/quantile/detail/pava.hpp"
#include "ladle/quantile/detail/sort_kernels.hpp"
#include "ladle/quantile/repair.hpp"

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace ladle {
namespace detail {
namespace quantile {

constexpr index_t repair_grain = 4096;

template <class T, class U>
void copy_for_repair(matrix_view<T> out, matrix_view<U> q, const char* fn) {
  require_host(out, fn, "out");
  require_host(q, fn, "q");
  require_extent(out.extent(0), q.extent(0), fn, "out", "row count");
  require_extent(out.extent(1), q.extent(1), fn, "out", "column count");
  check_finite(q, fn, "q");
  require_disjoint_or_same(out, "out", q, "q", fn);
  const bool same = same_memory(out, q);
  if (same) return;
  for (index_t i = 0; i < q.extent(0); ++i)
    for (index_t j = 0; j < q.extent(1); ++j) out(i, j) = static_cast<T>(q(i, j));
}

/// check_finite(q) with the contiguous common case in one vector pass (all_finite_simd); the
/// core check names the first NaN or infinity by row and column otherwise.
template <class T>
void check_finite_rows(matrix_view<T> q, const char* fn) {
  detail::require_host(q, fn, "q");
  if (q.is_contiguous() && all_finite_simd(q.data(), q.size())) return;
  detail::require_finite(q, fn, "q");
}

template <class Policy, class T, class RowFn>
void for_rows(const Policy& policy, matrix_view<T> q, RowFn&& row_fn) {
  const index_t n = q.extent(0), k = q.extent(1);
  const bool packed = q.stride(1) == 1;
  parallel_for(policy, n, repair_grain, [&](index_t begin, index_t end) {
    std::vector<T> tmp(packed ? 0 : static_cast<std::size_t>(k));
    for (index_t i = begin; i < end; ++i) {
      T* r = q.data() + i * q.stride(0);
      if (packed) {
        row_fn(r);
      } else {
        for (index_t j = 0; j < k; ++j) tmp[static_cast<std::size_t>(j)] = r[j * q.stride(1)];
        row_fn(tmp.data());
        for (index_t j = 0; j < k; ++j) r[j * q.stride(1)] = tmp[static_cast<std::size_t>(j)];
      }
    }
  });
}

/// Sorts every row. Rows of length <= 32 go through the blocked network (strided ones via a
/// packed copy of 16 rows, so every row meets the same comparators: equal values, -0.0 and
/// +0.0 included, land alike wherever the row sits); longer rows through std::sort.
template <class Policy, class T>
void sort_all_rows(const Policy& policy, matrix_view<T> q) {
  const index_t n = q.extent(0), k = q.extent(1);
  if (n == 0 || k <= 1) return;
  if (k > network_max) {
    for_rows(policy, q, [k](T* r) { std::sort(r, r + k); });
    return;
  }
  if (q.stride(1) == 1) {
    parallel_for(policy, n, repair_grain, [&](index_t begin, index_t end) {
      sort_rows_network(q.data() + begin * q.stride(0), end - begin, k, q.stride(0));
    });
    return;
  }
  parallel_for(policy, n, repair_grain, [&](index_t begin, index_t end) {
    T buf[network_lanes * network_max];
    for (index_t i = begin; i < end; i += network_lanes) {
      const index_t live = std::min<index_t>(network_lanes, end - i);
      for (index_t l = 0; l < live; ++l)
        for (index_t c = 0; c < k; ++c) buf[l * k + c] = q(i + l, c);
      sort_rows_network(buf, live, k, k);
      for (index_t l = 0; l < live; ++l)
        for (index_t c = 0; c < k; ++c) q(i + l, c) = buf[l * k + c];
    }
  });
}

template <class Policy, class T>
void isotonic_rows(const Policy& policy, matrix_view<T> q, vector_view<const double> lw) {
  const index_t k = q.extent(1);
  std::vector<double> w;
  for (index_t j = 0; j < lw.extent(0); ++j) w.push_back(lw(j));
  const double* wp = w.empty() ? nullptr : w.data();
  const index_t n = q.extent(0);
  parallel_for(policy, n, repair_grain, [&](index_t begin, index_t end) {
    std::vector<double> y(static_cast<std::size_t>(k)), c(y.size());
    std::vector<std::size_t> e(y.size());
    for (index_t i = begin; i < end; ++i) {
      index_t j = 1;
      while (j < k && !(q(i, j) < q(i, j - 1))) ++j;
      if (j >= k) continue;  // already monotone (the usual case after a sort): the fit is the row
      for (j = 0; j < k; ++j) y[static_cast<std::size_t>(j)] = static_cast<double>(q(i, j));
      pava_increasing(y.data(), wp, y.size(), c.data(), e.data());
      for (index_t j = 0; j < k; ++j) q(i, j) = static_cast<T>(y[static_cast<std::size_t>(j)]);
    }
  });
}

/// check_finite(q), and whether every row is already non-decreasing (then the isotonic fit is
/// q itself). A contiguous q is read once, 1024 rows at a time: the finiteness test and the
/// row test run while the block is in cache. Other layouts: check_finite, and false.
template <class T>
bool finite_rows_sorted(matrix_view<T> q, const char* fn) {
  const index_t n = q.extent(0), k = q.extent(1);
  if (!q.is_contiguous() || k < 2) {
    check_finite(q, fn, "q");
    return false;
  }
  constexpr index_t block = 1024;
  bool sorted = true;
  for (index_t i = 0; i < n; i += block) {
    const index_t rows = std::min(block, n - i);
    const T* b = q.data() + i * k;
    if (!all_finite_contiguous(b, rows * k)) require_finite(q, fn, "q");  // names it, throws
    if (!sorted) continue;
    // Decreasing neighbour pairs over the flat block (a loop the compiler vectorises), less
    // those that straddle two rows: the rows are sorted iff the two counts agree.
    std::uint32_t all = 0, across = 0;
    for (index_t f = 1; f < rows * k; ++f) all += b[f] < b[f - 1] ? 1u : 0u;
    for (index_t f = k; f < rows * k; f += k) across += b[f] < b[f - 1] ? 1u : 0u;
    sorted = all == across;
  }
  return sorted;
}

inline void check_level_weight(vector_view<const double> lw, index_t k, const char* fn) {
  if (lw.extent(0) == 0) return;
  require_host(lw, fn, "level_weight");
  require_extent(lw.extent(0), k, fn, "level_weight", "length (columns of q)");
  for (index_t j = 0; j < k; ++j)
    if (!(std::isfinite(lw(j)) && lw(j) > 0.0))
      throw_domain_error(fn, "level_weight", "element ", j, " is ", lw(j),
                         " (level weights must be finite and positive)");
}

}  // namespace quantile
}  // namespace detail

template <class Policy, class T>
void sort_quantiles(const Policy& policy, matrix_view<T> q) {
  static_assert(!std::is_const<T>::value, "ladle::sort_quantiles: q is repaired in place");
  namespace dq = detail::quantile;
  dq::check_finite_rows(q, "sort_quantiles");
  dq::sort_all_rows(policy, q);
}

template <class T>
void sort_quantiles(matrix_view<T> q) {
  sort_quantiles(seq, q);
}

template <class T, class U>
void sort_quantiles_into(matrix_view<T> out, matrix_view<U> q) {
  namespace dq = detail::quantile;
  dq::copy_for_repair(out, q, "sort_quantiles_into");
  dq::sort_all_rows(seq, out);
}

template <class Policy, class T>
void isotonic_repair(const Policy& policy, matrix_view<T> q, vector_view<const double> level_weight) {
  static_assert(!std::is_const<T>::value, "ladle::isotonic_repair: q is repaired in place");
  namespace dq = detail::quantile;
  const char* fn = "isotonic_repair";
  detail::require_host(q, fn, "q");
  const bool sorted = dq::finite_rows_sorted(q, fn);
  dq::check_level_weight(level_weight, q.extent(1), fn);
  if (!sorted) dq::isotonic_rows(policy, q, level_weight);
}

template <class T>
void isotonic_repair(matrix_view<T> q, vector_view<const double> level_weight) {
  isotonic_repair(seq, q, level_weight);
}

template <class T, class U>
void isotonic_repair_into(matrix_view<T> out, matrix_view<U> q,
                          vector_view<const double> level_weight) {
  namespace dq = detail::quantile;
  const char* fn = "isotonic_repair_into";
  dq::check_level_weight(level_weight, q.extent(1), fn);
  dq::copy_for_repair(out, q, fn);
  dq::isotonic_rows(seq, out, level_weight);
}

template <class Policy, class T>
void sort_then_isotonic_repair(const Policy& policy, matrix_view<T> q,
                               vector_view<const double> level_weight) {
  static_assert(!std::is_const<T>::value,
                "ladle::sort_then_isotonic_repair: q is repaired in place");
  namespace dq = detail::quantile;
  const char* fn = "sort_then_isotonic_repair";
  // The checks of both calls, in their order, before anything is written.
  dq::check_finite_rows(q, fn);
  dq::check_level_weight(level_weight, q.extent(1), fn);
  dq::sort_all_rows(policy, q);
  // isotonic_repair would now find every row non-decreasing (the network and std::sort both
  // leave no strictly decreasing neighbour pair; -0.0 after +0.0 is not one), and such a row is
  // its own least-squares non-decreasing fit for any weights: it leaves q as it is.
}

template <class T>
void sort_then_isotonic_repair(matrix_view<T> q, vector_view<const double> level_weight) {
  sort_then_isotonic_repair(seq, q, level_weight);
}

template <class T>
void fix_crossing(matrix_view<T> q, crossing_fix type) {
  static_assert(!std::is_const<T>::value, "ladle::fix_crossing: q is repaired in place");
  namespace dq = detail::quantile;
  const char* fn = "fix_crossing";
  dq::check_finite(q, fn, "q");
  const int t = static_cast<int>(type);
  if (t < 0 || t > 2) throw_invalid_argument(fn, "type", "is ", t, "; expected 0, 1 or 2");
  const index_t n = q.extent(0), k = q.extent(1);
  if (k == 0) return;
  std::vector<double> up(static_cast<std::size_t>(k)), down(up.size());
  for (index_t i = 0; i < n; ++i) {
    if (type == crossing_fix::from_median) {
      const index_t m = k / 2;
      for (index_t j = m + 1; j < k; ++j) q(i, j) = std::max(q(i, j), q(i, j - 1));
      for (index_t j = m; j-- > 0;) q(i, j) = std::min(q(i, j), q(i, j + 1));
    } else if (type == crossing_fix::cummax) {
      for (index_t j = 1; j < k; ++j) q(i, j) = std::max(q(i, j), q(i, j - 1));
    } else {
      up[0] = static_cast<double>(q(i, 0));
      for (index_t j = 1; j < k; ++j)
        up[static_cast<std::size_t>(j)] =
            std::max(up[static_cast<std::size_t>(j - 1)], static_cast<double>(q(i, j)));
      down[static_cast<std::size_t>(k - 1)] = static_cast<double>(q(i, k - 1));
      for (index_t j = k - 1; j-- > 0;)
        down[static_cast<std::size_t>(j)] =
            std::min(down[static_cast<std::size_t>(j + 1)], static_cast<double>(q(i, j)));
      for (index_t j = 0; j < k; ++j)
        q(i, j) = static_cast<T>(0.5 * (up[static_cast<std::size_t>(j)] +
                                        down[static_cast<std::size_t>(j)]));
    }
  }
}

template <class T>
index_t count_crossing_rows(matrix_view<T> q) {
  detail::require_host(q, "count_crossing_rows", "q");
  index_t c = 0;
  for (index_t i = 0; i < q.extent(0); ++i)
    for (index_t j = 1; j < q.extent(1); ++j)
      if (q(i, j) < q(i, j - 1)) {
        ++c;
        break;
      }
  return c;
}

}  // namespace ladle
