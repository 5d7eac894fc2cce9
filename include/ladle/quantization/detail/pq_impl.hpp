// ladle/quantization/detail/pq_impl.hpp (detail): definitions for product_quantization.hpp.
#pragma once

#include "ladle/core/math.hpp"
#include "ladle/quantization/detail/pq_kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace ladle {
namespace detail {

inline constexpr std::uint64_t pq_stream_tag = 0x70715f747261696eull;  // "pq_train"

template <class T>
void pq_check_rows(const matrix_view<T>& x, const char* fn, const char* arg) {
  require_host(x, fn, arg);
  if (x.extent(1) > 1 && x.stride(1) != 1)
    throw_invalid_argument(fn, arg, "rows must be contiguous (stride(1) == 1), got stride ", x.stride(1));
}

template <class C>
void pq_check_codes(const product_quantizer& pq, const matrix_view<C>& codes, index_t rows,
                    const char* fn) {
  static_assert(std::is_same<std::remove_const_t<C>, std::uint8_t>::value,
                "ladle: PQ codes must be uint8_t");
  require_host(codes, fn, "codes");
  if (pq.subspaces() == 0) throw_invalid_argument(fn, "pq", "is not trained");
  require_extent(codes.extent(1), pq.subspaces(), fn, "codes", "columns");
  if (rows >= 0) require_extent(codes.extent(0), rows, fn, "codes", "rows");
  if (codes.extent(1) > 1 && codes.stride(1) != 1)
    throw_invalid_argument(fn, "codes", "rows must be contiguous (stride(1) == 1)");
}

// Copies row i of x as floats into buf (d entries).
template <class T>
void pq_row_to_float(const matrix_view<T>& x, index_t i, float* buf) {
  const auto* row = x.data() + i * x.stride(0);
  using V = std::remove_const_t<T>;
  if constexpr (std::is_same<V, float>::value)
    std::copy(row, row + x.extent(1), buf);
  else if constexpr (std::is_same<V, double>::value)
    for (index_t j = 0; j < x.extent(1); ++j) buf[j] = static_cast<float>(row[j]);
  else
    convert_n(row, buf, x.extent(1));
}

}  // namespace detail

inline product_quantizer::product_quantizer(tensor<float, 3> codebooks) : codebooks_(std::move(codebooks)) {
  const char* fn = "product_quantizer";
  if (codebooks_.extent(1) < 1 || codebooks_.extent(1) > 256)
    throw_invalid_argument(fn, "codebooks", "need 1..256 centroids per subspace, got ", codebooks_.extent(1));
  if (codebooks_.extent(0) < 1 || codebooks_.extent(2) < 1)
    throw_invalid_argument(fn, "codebooks", "must have at least one subspace of at least one dimension");
  for (index_t i = 0; i < codebooks_.size(); ++i)
    if (!std::isfinite(codebooks_.data()[i]))
      throw_domain_error(fn, "codebooks", "entry ", i, " is not finite");
  const index_t m = subspaces(), k = centroids(), d = sub_dim();
  transposed_ = tensor<float, 3>({m, d, k}, uninitialized);
  for (index_t s = 0; s < m; ++s)
    detail::pq_transpose(codebooks_.data() + s * k * d, k, d, transposed_.data() + s * d * k);
}

inline matrix_view<const float> product_quantizer::codebook(index_t m) const {
  if (m < 0 || m >= subspaces())
    throw_invalid_argument("product_quantizer::codebook", "m", "must be in [0, ", subspaces(), "), got ", m);
  return matrix_view<const float>(codebooks_.data() + m * centroids() * sub_dim(), {centroids(), sub_dim()});
}

template <class Policy, class T, class>
product_quantizer pq_train(const Policy& policy, matrix_view<T> x, pq_options o, seed s) {
  static_assert(is_float_like_v<std::remove_const_t<T>>, "ladle::pq_train: x must be float-like");
  const char* fn = "pq_train";
  detail::pq_check_rows(x, fn, "x");
  const index_t n = x.extent(0), d = x.extent(1);
  if (n == 0 || d == 0) throw_invalid_argument(fn, "x", "is empty (", n, " x ", d, ")");
  if (o.subspaces < 1 || d % o.subspaces != 0)
    throw_invalid_argument(fn, "subspaces", "must divide the dimension ", d, ", got ", o.subspaces);
  if (o.centroids < 1 || o.centroids > 256)
    throw_invalid_argument(fn, "centroids", "must be in 1..256 (one-byte codes), got ", o.centroids);
  if (o.iterations < 0) throw_invalid_argument(fn, "iterations", "must be >= 0, got ", o.iterations);
  if (o.max_training_rows < 0)
    throw_invalid_argument(fn, "max_training_rows", "must be >= 0, got ", o.max_training_rows);
  if (o.seeding_trials < 0) throw_invalid_argument(fn, "seeding_trials", "must be >= 0, got ", o.seeding_trials);
  const index_t nt = o.max_training_rows > 0 ? std::min(n, o.max_training_rows) : n;
  if (o.centroids > nt)
    throw_invalid_argument(fn, "centroids", "(", o.centroids, ") exceeds the number of training rows (", nt, ")");
  const index_t m_count = o.subspaces, dsub = d / m_count, k = o.centroids;
  const int trials = o.seeding_trials > 0 ? o.seeding_trials
                                          : 2 + static_cast<int>(std::log(static_cast<double>(k)));

  // Training rows: all, or a sorted random subset (partial Fisher-Yates on a Philox stream).
  std::vector<index_t> rows(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) rows[static_cast<std::size_t>(i)] = i;
  if (nt < n) {
    philox g(s, derive_stream(detail::pq_stream_tag, 0xffffffffull));
    for (index_t i = 0; i < nt; ++i) {
      const index_t j = i + uniform_index(g, n - i);
      std::swap(rows[static_cast<std::size_t>(i)], rows[static_cast<std::size_t>(j)]);
    }
    rows.resize(static_cast<std::size_t>(nt));
    std::sort(rows.begin(), rows.end());
  }
  // All training rows as float once (n_t x d), checked for NaN / inf.
  std::vector<float> all(static_cast<std::size_t>(nt * d));
  parallel_for(policy, nt, 1024, [&](index_t b, index_t e) {
    for (index_t i = b; i < e; ++i) {
      float* dst = all.data() + i * d;
      detail::pq_row_to_float(x, rows[static_cast<std::size_t>(i)], dst);
      for (index_t j = 0; j < d; ++j)
        if (!std::isfinite(dst[j]))
          throw_domain_error(fn, "x", "element (", rows[static_cast<std::size_t>(i)], ", ", j, ") is not finite");
    }
  });
  tensor<float, 3> books({m_count, k, dsub}, uninitialized);
  std::vector<std::vector<double>> per_sub(static_cast<std::size_t>(m_count));
  std::vector<float> slice(static_cast<std::size_t>(nt * dsub));
  for (index_t m = 0; m < m_count; ++m) {
    for (index_t i = 0; i < nt; ++i)
      std::copy(all.data() + i * d + m * dsub, all.data() + i * d + (m + 1) * dsub, slice.data() + i * dsub);
    detail::pq_kmeans(policy, slice.data(), nt, dsub, k, o.iterations, trials,
                      philox(s, derive_stream(detail::pq_stream_tag, static_cast<std::uint64_t>(m))),
                      books.data() + m * k * dsub, per_sub[static_cast<std::size_t>(m)]);
  }
  // Total objective per step; a subspace that converged early keeps its last value.
  std::size_t steps = 0;
  for (const auto& h : per_sub) steps = std::max(steps, h.size());
  std::vector<double> history(steps, 0.0);
  for (const auto& h : per_sub)
    for (std::size_t t = 0; t < steps; ++t) history[t] += h[std::min(t, h.size() - 1)];
  product_quantizer pq(std::move(books));
  pq.set_history(std::move(history));
  return pq;
}

template <class T>
product_quantizer pq_train(matrix_view<T> x, pq_options options, seed s) {
  return pq_train(seq, x, options, s);
}

template <class Policy, class T, class>
void pq_encode(const Policy& policy, const product_quantizer& pq, matrix_view<T> x,
               matrix_view<std::uint8_t> codes) {
  static_assert(is_float_like_v<std::remove_const_t<T>>, "ladle::pq_encode: x must be float-like");
  const char* fn = "pq_encode";
  detail::pq_check_rows(x, fn, "x");
  detail::pq_check_codes(pq, codes, x.extent(0), fn);
  detail::require_extent(x.extent(1), pq.dim(), fn, "x", "columns");
  detail::require_disjoint(codes, "codes", x, "x", fn);
  const index_t m_count = pq.subspaces(), k = pq.centroids(), dsub = pq.sub_dim(), d = pq.dim();
  parallel_for(policy, x.extent(0), 256, [&](index_t b, index_t e) {
    std::vector<float> row(static_cast<std::size_t>(d)), scores(static_cast<std::size_t>(k));
    for (index_t i = b; i < e; ++i) {
      detail::pq_row_to_float(x, i, row.data());
      std::uint8_t* out = codes.data() + i * codes.stride(0);
      for (index_t m = 0; m < m_count; ++m) {
        detail::pq_sub_scores(row.data() + m * dsub, pq.transposed(m), dsub, k, false, scores.data());
        out[m] = static_cast<std::uint8_t>(detail::pq_argmin(scores.data(), k));
      }
    }
  });
}

template <class T>
void pq_encode(const product_quantizer& pq, matrix_view<T> x, matrix_view<std::uint8_t> codes) {
  pq_encode(seq, pq, x, codes);
}

template <class Policy, class T, class>
tensor<std::uint8_t, 2> pq_encode(const Policy& policy, const product_quantizer& pq, matrix_view<T> x) {
  tensor<std::uint8_t, 2> codes({x.extent(0), pq.subspaces()}, uninitialized);
  pq_encode(policy, pq, x, codes.view());
  return codes;
}

template <class T>
tensor<std::uint8_t, 2> pq_encode(const product_quantizer& pq, matrix_view<T> x) {
  return pq_encode(seq, pq, x);
}

template <class Policy, class C, class T, class>
void pq_decode(const Policy& policy, const product_quantizer& pq, matrix_view<C> codes,
               matrix_view<T> out) {
  static_assert(is_float_like_v<T>, "ladle::pq_decode: out must be writable float-like");
  const char* fn = "pq_decode";
  detail::pq_check_codes(pq, codes, -1, fn);
  detail::pq_check_rows(out, fn, "out");
  detail::require_extent(out.extent(0), codes.extent(0), fn, "out", "rows");
  detail::require_extent(out.extent(1), pq.dim(), fn, "out", "columns");
  detail::require_disjoint(out, "out", codes, "codes", fn);
  const index_t m_count = pq.subspaces(), k = pq.centroids(), dsub = pq.sub_dim();
  const float* books = pq.codebooks().data();
  parallel_for(policy, codes.extent(0), 1024, [&](index_t b, index_t e) {
    for (index_t i = b; i < e; ++i) {
      const std::uint8_t* c = codes.data() + i * codes.stride(0);
      T* dst = out.data() + i * out.stride(0);
      for (index_t m = 0; m < m_count; ++m) {
        if (c[m] >= k)
          throw_invalid_argument(fn, "codes", "code ", int(c[m]), " at (", i, ", ", m, ") exceeds ksub ", k);
        convert_n(books + (m * k + c[m]) * dsub, dst + m * dsub, dsub);
      }
    }
  });
}

template <class C, class T>
void pq_decode(const product_quantizer& pq, matrix_view<C> codes, matrix_view<T> out) {
  pq_decode(seq, pq, codes, out);
}

namespace detail {
template <class T>
void pq_table_impl(const product_quantizer& pq, vector_view<T> q, matrix_view<float> table,
                   pq_metric metric, bool reference) {
  const char* fn = "pq_distance_table";
  require_host(q, fn, "query");
  require_host(table, fn, "table");
  if (pq.subspaces() == 0) throw_invalid_argument(fn, "pq", "is not trained");
  require_extent(q.extent(0), pq.dim(), fn, "query", "length");
  require_extent(table.extent(0), pq.subspaces(), fn, "table", "rows");
  require_extent(table.extent(1), pq.centroids(), fn, "table", "columns");
  require_disjoint(table, "table", q, "query", fn);
  require_contiguous(table, fn, "table");
  std::vector<float> qf(static_cast<std::size_t>(pq.dim()));
  for (index_t j = 0; j < pq.dim(); ++j) qf[static_cast<std::size_t>(j)] = to_float(q(j));
  const index_t k = pq.centroids(), dsub = pq.sub_dim();
  for (index_t m = 0; m < pq.subspaces(); ++m) {
    if (reference)
      pq_sub_scores_scalar(qf.data() + m * dsub, pq.transposed(m), dsub, k,
                           metric == pq_metric::inner_product, table.data() + m * k);
    else
      pq_sub_scores(qf.data() + m * dsub, pq.transposed(m), dsub, k,
                    metric == pq_metric::inner_product, table.data() + m * k);
  }
}
}  // namespace detail

template <class T>
void pq_distance_table(const product_quantizer& pq, vector_view<T> query, matrix_view<float> table,
                       pq_metric metric) {
  detail::pq_table_impl(pq, query, table, metric, false);
}

template <class T>
void pq_distance_table_scalar(const product_quantizer& pq, vector_view<T> query,
                              matrix_view<float> table, pq_metric metric) {
  detail::pq_table_impl(pq, query, table, metric, true);
}

template <class Policy, class TT, class C, class>
void pq_adc_distances(const Policy& policy, matrix_view<TT> table, matrix_view<C> codes,
                      vector_view<float> out) {
  static_assert(std::is_same<std::remove_const_t<TT>, float>::value, "ladle::pq_adc_distances: table is float");
  static_assert(std::is_same<std::remove_const_t<C>, std::uint8_t>::value, "ladle::pq_adc_distances: codes are uint8_t");
  const char* fn = "pq_adc_distances";
  detail::require_host(table, fn, "table");
  detail::require_host(codes, fn, "codes");
  detail::require_host(out, fn, "out");
  detail::require_contiguous(table, fn, "table");
  detail::require_extent(codes.extent(1), table.extent(0), fn, "codes", "columns");
  detail::require_extent(out.extent(0), codes.extent(0), fn, "out", "length");
  detail::require_disjoint(out, "out", table, "table", fn);
  detail::require_disjoint(out, "out", codes, "codes", fn);
  if (codes.extent(1) > 1 && codes.stride(1) != 1)
    throw_invalid_argument(fn, "codes", "rows must be contiguous (stride(1) == 1)");
  const index_t m_count = table.extent(0), k = table.extent(1);
  const float* t = table.data();
  parallel_for(policy, codes.extent(0), 4096, [&](index_t b, index_t e) {
    for (index_t i = b; i < e; ++i) {
      const std::uint8_t* c = codes.data() + i * codes.stride(0);
      float acc = 0.0f;
      for (index_t m = 0; m < m_count; ++m) {
        if (c[m] >= k) throw_invalid_argument(fn, "codes", "code ", int(c[m]), " at (", i, ", ", m, ") exceeds ksub ", k);
        acc += t[m * k + c[m]];
      }
      out(i) = acc;
    }
  });
}

template <class TT, class C>
void pq_adc_distances(matrix_view<TT> table, matrix_view<C> codes, vector_view<float> out) {
  pq_adc_distances(seq, table, codes, out);
}

template <class Policy, class T, class C, class>
pq_search_result pq_search(const Policy& policy, const product_quantizer& pq, vector_view<T> query,
                           matrix_view<C> codes, index_t k, pq_metric metric) {
  const char* fn = "pq_search";
  detail::pq_check_codes(pq, codes, -1, fn);
  if (k < 0 || k > codes.extent(0))
    throw_invalid_argument(fn, "k", "must be in [0, ", codes.extent(0), "], got ", k);
  tensor<float, 2> table({pq.subspaces(), pq.centroids()}, uninitialized);
  pq_distance_table(pq, query, table.view(), metric);
  std::vector<float> scores(static_cast<std::size_t>(codes.extent(0)));
  pq_adc_distances(policy, table.cview(), codes, make_view(scores.data(), codes.extent(0)));
  pq_search_result r;
  r.indices = top_k(make_view(static_cast<const float*>(scores.data()), codes.extent(0)), k,
                    metric == pq_metric::l2 ? order::ascending : order::descending);
  for (index_t i : r.indices) r.scores.push_back(scores[static_cast<std::size_t>(i)]);
  return r;
}

template <class T, class C>
pq_search_result pq_search(const product_quantizer& pq, vector_view<T> query, matrix_view<C> codes,
                           index_t k, pq_metric metric) {
  return pq_search(seq, pq, query, codes, k, metric);
}

}  // namespace ladle
