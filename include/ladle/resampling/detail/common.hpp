// Shared machinery of the resampling family: input checks, the resampling "plan" (which rows are
// kept, how each synthetic row is made) and the writer that turns a plan into output rows.
#pragma once

#include "ladle/core/error.hpp"
#include "ladle/core/fp_contract.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/simd.hpp"
#include "ladle/core/tensor.hpp"
#include "ladle/core/view.hpp"
#include "ladle/neighbors/knn.hpp"
#include "ladle/resampling/result.hpp"
#include "ladle/resampling/sampling_strategy.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <type_traits>
#include <vector>

namespace ladle {
namespace detail {

// Purposes mixed into Philox stream ids, so two methods never share random numbers.
enum : std::uint64_t {
  stream_smote = 0x534d4f5445ull,  // "SMOTE"
  stream_borderline = 0x424f52444552ull,
  stream_adasyn = 0x414441535953ull,
  stream_random_over = 0x524f53ull,
  stream_random_under = 0x525553ull,
  stream_smote_nc = 0x534d4e43ull,
  stream_smoten = 0x534d4e4eull,
  stream_kmeans = 0x4b4d45414e53ull,
};

/// The stream of synthetic row `j` of class `label` for a method.
inline std::uint64_t synthetic_stream(std::uint64_t purpose, std::int64_t label, index_t j) {
  return derive_stream(derive_stream(purpose, static_cast<std::uint64_t>(label)),
                       static_cast<std::uint64_t>(j));
}

template <class T>
T draw_gap(philox& g) noexcept {
  if constexpr (std::is_same<T, float>::value) return uniform_float(g);
  else return static_cast<T>(uniform_double(g));
}

template <class T, class L>
void check_inputs(const char* fn, matrix_view<T> X, vector_view<L> y) {
  using value_t = std::remove_const_t<T>;
  using label_t = std::remove_const_t<L>;
  static_assert(std::is_same<value_t, float>::value || std::is_same<value_t, double>::value,
                "ladle resampling: features must be float or double");
  static_assert(is_label_type_v<label_t>,
                "ladle resampling: class labels must be signed 32- or 64-bit integers");
  require_host(X, fn, "X");
  require_host(y, fn, "y");
  require_nonempty(X, fn, "X");
  if (y.extent(0) != X.extent(0))
    throw_invalid_argument(fn, "y", "has ", y.extent(0), " labels but X has ", X.extent(0),
                           " rows");
  for (index_t i = 0; i < X.extent(0); ++i) {
    // One branch per row; the flag loop vectorises (NaN fails the comparison too).
    constexpr value_t big = std::numeric_limits<value_t>::max();
    unsigned bad = 0;
    if (X.stride(1) == 1) {
      const value_t* row = &X(i, 0);
      for (index_t j = 0; j < X.extent(1); ++j) bad |= !(std::fabs(row[j]) <= big);
    } else {
      for (index_t j = 0; j < X.extent(1); ++j) bad |= !(std::fabs(X(i, j)) <= big);
    }
    if (bad != 0)
      for (index_t j = 0; j < X.extent(1); ++j)
        if (!std::isfinite(X(i, j)))
          throw_domain_error(fn, "X", "has a non-finite value (", X(i, j), ") at row ", i,
                             ", column ", j);
  }
}

/// Row indices of each class, ascending, keyed by label.
template <class L>
std::map<std::int64_t, std::vector<index_t>> rows_by_class(vector_view<L> y) {
  std::map<std::int64_t, std::vector<index_t>> m;
  for (index_t i = 0; i < y.extent(0); ++i) m[static_cast<std::int64_t>(y(i))].push_back(i);
  return m;
}

/// A compact copy of the given rows of X.
template <class T>
tensor<std::remove_const_t<T>, 2> gather_rows(matrix_view<T> X, const std::vector<index_t>& rows,
                                              const char* fn) {
  using value_t = std::remove_const_t<T>;
  const index_t d = X.extent(1);
  tensor<value_t, 2> out({static_cast<index_t>(rows.size()), d}, uninitialized, fn, "X");
  for (std::size_t r = 0; r < rows.size(); ++r) {
    value_t* dst = out.data() + static_cast<index_t>(r) * d;
    if (X.stride(1) == 1) std::memcpy(dst, &X(rows[r], 0), sizeof(value_t) * std::size_t(d));
    else
      for (index_t j = 0; j < d; ++j) dst[j] = X(rows[r], j);
  }
  return out;
}

/// X itself when it is compact, else a compact copy held in `storage`.
template <class T>
matrix_view<const std::remove_const_t<T>> compact(matrix_view<T> X,
                                                  tensor<std::remove_const_t<T>, 2>& storage) {
  if (X.is_contiguous()) return X;
  storage = tensor<std::remove_const_t<T>, 2>(X);
  return storage.cview();
}

/// k nearest neighbours of the rows `query_rows` of `X_all` among all rows of X_all, excluding
/// each query's own row BY INDEX (duplicates elsewhere are kept). Result (nq, k) of row indices
/// of X_all, ascending squared distance, ties to the smaller index. Needs k < n.
/// Errors name the public function `fn`, the argument 'X' and, through `rows` (caller row of each
/// row of X_all, or null when X_all is the caller's X), the caller's rows.
template <class Policy, class T>
tensor<index_t, 2> knn_of_rows(const Policy& policy, matrix_view<const T> X_all,
                               const std::vector<index_t>& query_rows, index_t k, const char* fn,
                               const index_t* rows = nullptr) {
  const index_t n = X_all.extent(0);
  const auto nq = static_cast<index_t>(query_rows.size());
  tensor<index_t, 2> out({nq, k}, uninitialized, fn, "k");
  const knn::context self_cx{fn, "X", "X", rows, rows};
  if (nq == 0 || k == 0) return out;
  if (nq == n) {  // every row queries: the self-query form excludes by index itself
    bool identity = true;
    for (index_t i = 0; i < n && identity; ++i) identity = query_rows[std::size_t(i)] == i;
    if (identity) {
      tensor<T, 2> d2({n, k}, uninitialized, fn, "k");
      knn_options o;
      o.k = k;
      knn::search(policy, self_cx, X_all, X_all, true, out.view(), d2.view(), o);
      return out;
    }
  }
  // Ask for k + 1 and drop the query's own index when it shows up; otherwise drop the last.
  const tensor<T, 2> Q = gather_rows(X_all, query_rows, fn);
  tensor<index_t, 2> idx({nq, k + 1}, uninitialized, fn, "k");
  tensor<T, 2> d2({nq, k + 1}, uninitialized, fn, "k");
  knn_options o;
  o.k = k + 1;
  // Query i is caller row rows[query_rows[i]] (or query_rows[i]).
  std::vector<index_t> qmap;
  if (rows != nullptr) {
    qmap = make_buffer<index_t>(nq, fn, "X");
    for (index_t q = 0; q < nq; ++q) qmap[std::size_t(q)] = rows[query_rows[std::size_t(q)]];
  }
  const knn::context cx{fn, "X", "X", rows != nullptr ? qmap.data() : query_rows.data(), rows};
  knn::search(policy, cx, Q.cview(), X_all, false, idx.view(), d2.view(), o);
  for (index_t q = 0; q < nq; ++q) {
    index_t w = 0;
    for (index_t c = 0; c <= k && w < k; ++c) {
      const index_t r = idx(q, c);
      if (r == query_rows[std::size_t(q)]) continue;
      out(q, w++) = r;
    }
  }
  return out;
}

/// k nearest neighbours of every row of a compact X among the others (own index excluded).
/// `rows`: the caller's row of each row of X (X gathered from a class), or null.
template <class Policy, class T>
tensor<index_t, 2> self_knn(const Policy& policy, matrix_view<const T> X, index_t k, const char* fn,
                            const index_t* rows = nullptr) {
  tensor<index_t, 2> idx({X.extent(0), k}, uninitialized, fn, "k");
  tensor<T, 2> d2({X.extent(0), k}, uninitialized, fn, "k");
  knn_options o;
  o.k = k;
  knn::search(policy, knn::context{fn, "X", "X", rows, rows}, X, X, true, idx.view(), d2.view(), o);
  return idx;
}

/// How a resampler's output is made: kept original rows, then synthetic rows.
template <class T>
struct resample_plan {
  std::vector<index_t> kept;        // input rows, ascending
  std::vector<index_t> base;        // per synthetic row
  std::vector<index_t> neighbor;    // per synthetic row, -1 when none
  std::vector<T> gap;               // per synthetic row
  std::vector<std::int64_t> label;  // per synthetic row
  resample_shape shape() const {
    return {static_cast<index_t>(kept.size()), static_cast<index_t>(base.size())};
  }
  void keep_all(index_t n) {
    kept.resize(std::size_t(n));
    for (index_t i = 0; i < n; ++i) kept[std::size_t(i)] = i;
  }
  void reserve_more(index_t m, const char* fn) {
    const index_t want = checked_add(static_cast<index_t>(base.size()), m, fn, "sampling_strategy");
    reserve_buffer(base, want, fn, "sampling_strategy");
    reserve_buffer(neighbor, want, fn, "sampling_strategy");
    reserve_buffer(gap, want, fn, "sampling_strategy");
    reserve_buffer(label, want, fn, "sampling_strategy");
  }
  // Appends m rows of class `label` and returns the offset of the first. (Sizes come from
  // resolve_sampling_strategy, which bounds the synthetic total by the allocation limit.)
  index_t append(index_t m, std::int64_t lab) {
    const auto at = static_cast<index_t>(base.size());
    base.resize(base.size() + std::size_t(m), -1);
    neighbor.resize(neighbor.size() + std::size_t(m), -1);
    gap.resize(gap.size() + std::size_t(m), T(0));
    label.resize(label.size() + std::size_t(m), lab);
    return at;
  }
};

/// Grain for loops over synthetic rows (fixed so chunking never depends on thread count).
inline constexpr index_t synthetic_grain = 4096;

/// The default synthetic row: fma(gap, X[nbr] - X[base], X[base]) per feature.
template <class T, class U>
void interpolate_row(matrix_view<U> X, index_t base, index_t nbr, T gap, T* dst) {
  const index_t d = X.extent(1);
  if (nbr < 0) {
    for (index_t j = 0; j < d; ++j) dst[j] = X(base, j);
    return;
  }
  if (X.stride(1) == 1) {
    const T* LADLE_RESTRICT b = &X(base, 0);
    const T* LADLE_RESTRICT n = &X(nbr, 0);
    index_t j = 0;
#if LADLE_HAS_SIMD
    // The same fused operation per lane as the scalar tail (simd::fma is one rounding everywhere).
    using B = simd::batch<T>;
    constexpr auto w = static_cast<index_t>(B::size);
    const B g(gap);
    for (; j + w <= d; j += w) {
      const B bj = B::load_unaligned(b + j);
      simd::fma(g, B::load_unaligned(n + j) - bj, bj).store_unaligned(dst + j);
    }
#endif
    for (; j < d; ++j) dst[j] = std::fma(gap, n[j] - b[j], b[j]);
  } else {
    for (index_t j = 0; j < d; ++j) dst[j] = std::fma(gap, X(nbr, j) - X(base, j), X(base, j));
  }
}

/// A read hint for the start of row r of X (at most 1 KiB, where the hardware prefetcher takes
/// over): synthetic rows interpolate between rows drawn at random, which no prefetcher predicts.
template <class U>
LADLE_FORCE_INLINE void prefetch_row(matrix_view<U> X, index_t r) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  if (X.stride(1) != 1) return;
  const auto* p = reinterpret_cast<const char*>(&X(r, 0));
  const std::size_t bytes = std::min<std::size_t>(1024, sizeof(U) * std::size_t(X.extent(1)));
  for (std::size_t o = 0; o < bytes; o += 64) __builtin_prefetch(p + o, 0, 3);
#else
  (void)X;
  (void)r;
#endif
}

template <class T, class L>
void check_output(const char* fn, const resample_output<T, L>& out, resample_shape shape,
                  index_t d) {
  require_host(out.X, fn, "out.X");
  require_host(out.y, fn, "out.y");
  if (out.X.extent(0) != shape.rows() || out.X.extent(1) != d)
    throw_invalid_argument(fn, "out.X", "has shape (", out.X.extent(0), ", ", out.X.extent(1),
                           ") but (", shape.rows(), ", ", d, ") is needed");
  if (out.y.extent(0) != shape.rows())
    throw_invalid_argument(fn, "out.y", "has ", out.y.extent(0), " entries but ", shape.rows(),
                           " are needed");
  auto optional = [&](auto v, index_t want, const char* name) {
    if (v.extent(0) != 0 && v.extent(0) != want)
      throw_invalid_argument(fn, name, "has ", v.extent(0), " entries but ", want,
                             " (or 0 to skip) are needed");
    if (v.extent(0) != 0) require_host(v, fn, name);
  };
  optional(out.sample_indices, shape.kept, "out.sample_indices");
  optional(out.base, shape.synthetic, "out.base");
  optional(out.neighbor, shape.synthetic, "out.neighbor");
  optional(out.gap, shape.synthetic, "out.gap");
}

/// Every output field is disjoint from X, y and every other field, and out.y's type holds every
/// label of y (no silent narrowing). Run before anything is written.
template <class TX, class L, class T, class LO>
void check_output_against(const char* fn, matrix_view<TX> X, vector_view<L> y,
                          const resample_output<T, LO>& out) {
  const auto fields = [&](auto&& visit) {
    visit(out.X, "out.X");
    visit(out.y, "out.y");
    visit(out.sample_indices, "out.sample_indices");
    visit(out.base, "out.base");
    visit(out.neighbor, "out.neighbor");
    visit(out.gap, "out.gap");
  };
  fields([&](const auto& f, const char* name) {
    require_disjoint(f, name, X, "X", fn);
    require_disjoint(f, name, y, "y", fn);
    bool later = false;
    fields([&](const auto& g, const char* other) {
      if (later) require_disjoint(f, name, g, other, fn);
      if (std::strcmp(other, name) == 0) later = true;
    });
  });
  using label_out = std::remove_const_t<LO>;
  using label_in = std::remove_const_t<L>;
  if (std::numeric_limits<label_out>::digits < std::numeric_limits<label_in>::digits)
    for (index_t i = 0; i < y.extent(0); ++i) {
      const auto v = static_cast<std::int64_t>(y(i));
      if (v < std::int64_t(std::numeric_limits<label_out>::min()) ||
          v > std::int64_t(std::numeric_limits<label_out>::max()))
        throw_invalid_argument(fn, "out.y", "cannot hold label ", v, " of y at element ", i,
                               " (its element type is ", sizeof(label_out) * 8, "-bit)");
    }
}

/// Writes every input row, in order, as the leading rows of an over-sampler's output (out.X, out.y
/// and, when given, out.sample_indices). Compact inputs and outputs copy each chunk in one go.
template <class Policy, class TX, class L, class T, class LO>
void write_original_rows(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                         const resample_output<T, LO>& out) {
  const index_t n = X.extent(0), d = X.extent(1);
  const bool compact = X.is_contiguous() && out.X.stride(1) == 1 && out.X.stride(0) == d;
  parallel_for(policy, n, synthetic_grain, [&](index_t b, index_t e) {
    if (compact && d > 0) {
      std::memcpy(&out.X(b, 0), &X(b, 0), sizeof(T) * std::size_t(e - b) * std::size_t(d));
    } else {
      for (index_t r = b; r < e; ++r)
        for (index_t j = 0; j < d; ++j) out.X(r, j) = X(r, j);
    }
    for (index_t r = b; r < e; ++r) out.y(r) = static_cast<std::remove_const_t<LO>>(y(r));
    if (out.sample_indices.extent(0) != 0)
      for (index_t r = b; r < e; ++r) out.sample_indices(r) = r;
  });
}

/// Writes a plan: kept rows, then synthetic rows made by make_row(j, dst) (j = synthetic index).
template <class Policy, class TX, class L, class T, class LO, class MakeRow>
void write_plan(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                const resample_plan<T>& plan, const resample_output<T, LO>& out,
                MakeRow&& make_row) {
  const index_t d = X.extent(1);
  const auto kept = static_cast<index_t>(plan.kept.size());
  const auto syn = static_cast<index_t>(plan.base.size());
  parallel_for(policy, kept, synthetic_grain, [&](index_t b, index_t e) {
    for (index_t r = b; r < e; ++r) {
      const index_t src = plan.kept[std::size_t(r)];
      if (X.stride(1) == 1 && out.X.stride(1) == 1 && d > 0)
        std::memcpy(&out.X(r, 0), &X(src, 0), sizeof(T) * std::size_t(d));
      else
        for (index_t j = 0; j < d; ++j) out.X(r, j) = X(src, j);
      out.y(r) = static_cast<std::remove_const_t<LO>>(y(src));
      if (out.sample_indices.extent(0) != 0) out.sample_indices(r) = src;
    }
  });
  parallel_for(policy, syn, synthetic_grain / 8, [&](index_t b, index_t e) {
    std::vector<T> row(static_cast<std::size_t>(d));
    for (index_t s = b; s < e; ++s) {
      const index_t r = kept + s;
      T* dst = (out.X.stride(1) == 1) ? &out.X(r, 0) : row.data();
      make_row(s, dst);
      if (dst == row.data())
        for (index_t j = 0; j < d; ++j) out.X(r, j) = row[std::size_t(j)];
      out.y(r) = static_cast<std::remove_const_t<LO>>(plan.label[std::size_t(s)]);
      if (out.base.extent(0) != 0) out.base(s) = plan.base[std::size_t(s)];
      if (out.neighbor.extent(0) != 0) out.neighbor(s) = plan.neighbor[std::size_t(s)];
      if (out.gap.extent(0) != 0) out.gap(s) = plan.gap[std::size_t(s)];
    }
  });
}

/// An owning result sized for a plan.
template <class T, class L>
resample_result<T, L> allocate_result(resample_shape shape, index_t d, const char* fn) {
  resample_result<T, L> r;
  const index_t rows = checked_add(shape.kept, shape.synthetic, fn, "sampling_strategy");
  r.X = tensor<T, 2>({rows, d}, uninitialized, fn, "sampling_strategy");
  r.y = tensor<L, 1>({rows}, uninitialized, fn, "sampling_strategy");
  r.sample_indices = tensor<index_t, 1>({shape.kept}, uninitialized, fn, "sampling_strategy");
  r.base = tensor<index_t, 1>({shape.synthetic}, uninitialized, fn, "sampling_strategy");
  r.neighbor = tensor<index_t, 1>({shape.synthetic}, uninitialized, fn, "sampling_strategy");
  r.gap = tensor<T, 1>({shape.synthetic}, uninitialized, fn, "sampling_strategy");
  return r;
}

template <class T, class L>
resample_output<T, L> output_of(resample_result<T, L>& r) {
  return r.output();
}

/// Materialises a plan with plain interpolation (SMOTE, Borderline, ADASYN, random over-sampling).
template <class Policy, class TX, class L, class T, class LO>
void write_interpolated(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                        const resample_plan<T>& plan, const resample_output<T, LO>& out) {
  write_plan(policy, X, y, plan, out, [&](index_t s, T* dst) {
    interpolate_row(X, plan.base[std::size_t(s)], plan.neighbor[std::size_t(s)],
                    plan.gap[std::size_t(s)], dst);
  });
}

}  // namespace detail
}  // namespace ladle
