// ladle/core/math.hpp: numerical helpers every family needs.
//
//   logsumexp, softmax(+temperature), log_softmax   max-shifted, so no overflow for any finite input;
//   neumaier_sum, pairwise_sum                      sums whose error does not grow with n;
//   argsort, top_k, select_k                        index results with ties broken by smaller index.
#pragma once

#include "ladle/core/error.hpp"
#include "ladle/core/view.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>
#include <vector>

namespace ladle {

namespace detail {
template <class T>
void require_float_view(const char*) {
  static_assert(std::is_floating_point<std::remove_cv_t<T>>::value,
                "this ladle::math function takes float or double views");
}
}  // namespace detail

/// Compensated (Kahan-Babuska-Neumaier) sum; error ~ eps * sum|x|, independent of n.
template <class T, class V = std::remove_const_t<T>>
V neumaier_sum(vector_view<T> x) noexcept {
  V sum = 0, comp = 0;
  for (index_t i = 0; i < x.extent(0); ++i) {
    const V v = x(i);
    const V t = sum + v;
    if (std::abs(sum) >= std::abs(v))
      comp += (sum - t) + v;
    else
      comp += (v - t) + sum;
    sum = t;
  }
  return sum + comp;
}

/// Pairwise (cascade) sum with a blocked base case; error ~ eps * log2(n) * sum|x|.
/// The summation tree depends only on n, so results are reproducible.
template <class T, class V = std::remove_const_t<T>>
V pairwise_sum(vector_view<T> x) noexcept {
  const index_t n = x.extent(0);
  if (n <= 128) {
    V s = 0;
    for (index_t i = 0; i < n; ++i) s += x(i);
    return s;
  }
  const index_t half = (n / 2 + 127) / 128 * 128;
  return pairwise_sum(x.slice(0, half)) + pairwise_sum(x.slice(half, n));
}

/// log(sum(exp(x))) computed as m + log(sum(exp(x - m))). Throws on empty or non-finite input.
template <class T, class V = std::remove_const_t<T>>
V logsumexp(vector_view<T> x) {
  detail::require_float_view<T>("logsumexp");
  detail::require_nonempty(x, "logsumexp", "x");
  detail::require_finite(x, "logsumexp", "x");
  V m = x(0);
  for (index_t i = 1; i < x.extent(0); ++i) m = std::max(m, x(i));
  V s = 0;
  for (index_t i = 0; i < x.extent(0); ++i) s += std::exp(x(i) - m);
  return m + std::log(s);
}

/// out = softmax(x / temperature). temperature must be > 0 (as temperature -> 0 this tends to
/// argmax; large temperatures flatten towards uniform). out may alias x.
template <class T, class U, class V = std::remove_const_t<T>>
void softmax(vector_view<T> x, vector_view<U> out, V temperature = V(1)) {
  static_assert(std::is_same<U, V>::value, "ladle::softmax: out must be a writable view of x's type");
  detail::require_float_view<T>("softmax");
  detail::require_nonempty(x, "softmax", "x");
  detail::require_extent(out.extent(0), x.extent(0), "softmax", "out", "length");
  detail::require_disjoint_or_same(out, "out", x, "x", "softmax");
  if (!(temperature > 0) || !std::isfinite(temperature))
    throw_domain_error("softmax", "temperature", "must be finite and > 0, got ", temperature);
  detail::require_finite(x, "softmax", "x");
  V m = x(0);
  for (index_t i = 1; i < x.extent(0); ++i) m = std::max(m, x(i));
  V s = 0;
  for (index_t i = 0; i < x.extent(0); ++i) {
    const V e = std::exp((x(i) - m) / temperature);
    out(i) = e;
    s += e;
  }
  const V inv = V(1) / s;
  for (index_t i = 0; i < x.extent(0); ++i) out(i) *= inv;
}

/// out = log_softmax(x / temperature) = x/t - logsumexp(x/t). out may alias x.
template <class T, class U, class V = std::remove_const_t<T>>
void log_softmax(vector_view<T> x, vector_view<U> out, V temperature = V(1)) {
  static_assert(std::is_same<U, V>::value, "ladle::log_softmax: out must be a writable view of x's type");
  detail::require_float_view<T>("log_softmax");
  detail::require_nonempty(x, "log_softmax", "x");
  detail::require_extent(out.extent(0), x.extent(0), "log_softmax", "out", "length");
  detail::require_disjoint_or_same(out, "out", x, "x", "log_softmax");
  if (!(temperature > 0) || !std::isfinite(temperature))
    throw_domain_error("log_softmax", "temperature", "must be finite and > 0, got ", temperature);
  detail::require_finite(x, "log_softmax", "x");
  V m = x(0);
  for (index_t i = 1; i < x.extent(0); ++i) m = std::max(m, x(i));
  V s = 0;
  for (index_t i = 0; i < x.extent(0); ++i) s += std::exp((x(i) - m) / temperature);
  const V lse = std::log(s);
  for (index_t i = 0; i < x.extent(0); ++i) out(i) = (x(i) - m) / temperature - lse;
}

/// Which end of the order top_k / select_k keep.
enum class order { ascending, descending };

/// Indices that sort x (stable: equal values keep index order). NaN is rejected.
template <class T>
std::vector<index_t> argsort(vector_view<T> x, order ord = order::ascending) {
  detail::require_host(x, "argsort", "x");
  for (index_t i = 0; i < x.extent(0); ++i)
    if (x(i) != x(i)) throw_domain_error("argsort", "x", "element ", i, " is NaN");
  std::vector<index_t> idx = detail::make_buffer<index_t>(x.extent(0), "argsort", "x");
  std::iota(idx.begin(), idx.end(), index_t(0));
  if (ord == order::ascending)
    std::stable_sort(idx.begin(), idx.end(), [&](index_t a, index_t b) { return x(a) < x(b); });
  else
    std::stable_sort(idx.begin(), idx.end(), [&](index_t a, index_t b) { return x(b) < x(a); });
  return idx;
}

/// The k indices of the largest (descending) or smallest (ascending) values, in that order;
/// ties go to the smaller index. O(n log k). NaN is rejected; k must be in [0, n].
template <class T>
std::vector<index_t> top_k(vector_view<T> x, index_t k, order ord = order::descending) {
  const index_t n = x.extent(0);
  if (k < 0 || k > n) throw_invalid_argument("top_k", "k", "must be in [0, ", n, "], got ", k);
  for (index_t i = 0; i < n; ++i)
    if (x(i) != x(i)) throw_domain_error("top_k", "x", "element ", i, " is NaN");
  // "a before b" in the wanted order, with index as the tie-break.
  auto before = [&](index_t a, index_t b) {
    if (x(a) != x(b)) return ord == order::descending ? x(b) < x(a) : x(a) < x(b);
    return a < b;
  };
  std::vector<index_t> heap;
  detail::reserve_buffer(heap, k, "top_k", "k");
  for (index_t i = 0; i < n && k > 0; ++i) {
    if (static_cast<index_t>(heap.size()) < k) {
      heap.push_back(i);
      std::push_heap(heap.begin(), heap.end(), before);  // worst kept element at the front
    } else if (before(i, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), before);
      heap.back() = i;
      std::push_heap(heap.begin(), heap.end(), before);
    }
  }
  std::sort_heap(heap.begin(), heap.end(), before);
  return heap;
}

/// Partial selection: the k best indices (as top_k) in no particular order, O(n) expected.
template <class T>
std::vector<index_t> select_k(vector_view<T> x, index_t k, order ord = order::descending) {
  const index_t n = x.extent(0);
  if (k < 0 || k > n) throw_invalid_argument("select_k", "k", "must be in [0, ", n, "], got ", k);
  for (index_t i = 0; i < n; ++i)
    if (x(i) != x(i)) throw_domain_error("select_k", "x", "element ", i, " is NaN");
  std::vector<index_t> idx = detail::make_buffer<index_t>(n, "select_k", "x");
  std::iota(idx.begin(), idx.end(), index_t(0));
  if (k == 0 || k == n) {
    idx.resize(static_cast<std::size_t>(k));
    return idx;
  }
  auto before = [&](index_t a, index_t b) {
    if (x(a) != x(b)) return ord == order::descending ? x(b) < x(a) : x(a) < x(b);
    return a < b;
  };
  std::nth_element(idx.begin(), idx.begin() + (k - 1), idx.end(), before);
  idx.resize(static_cast<std::size_t>(k));
  return idx;
}

}  // namespace ladle
