// ladle/quantile/detail/aggregate_impl.hpp: definitions for ladle/quantile/aggregate.hpp.
#pragma once

#include "ladle/quantile/aggregate.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace ladle {

inline index_t aggregator_weights::size_for(aggregator_kind kind, index_t models,
                                            index_t levels) {
  switch (kind) {
    case aggregator_kind::per_model: return models;
    case aggregator_kind::per_model_level: return models * levels;
    case aggregator_kind::cross_level: return models * levels * levels;
  }
  return 0;
}

inline aggregator_weights aggregator_weights::uniform(aggregator_kind kind, index_t models,
                                                      index_t levels) {
  if (models <= 0 || levels <= 0)
    throw_invalid_argument("aggregator_weights::uniform", "models", "and levels must be positive (",
                           models, ", ", levels, ")");
  aggregator_weights a;
  a.kind = kind;
  a.models = models;
  a.levels = levels;
  a.w.assign(static_cast<std::size_t>(size_for(kind, models, levels)), 0.0);
  const double u = 1.0 / static_cast<double>(models);
  if (kind == aggregator_kind::cross_level) {
    for (index_t m = 0; m < models; ++m)
      for (index_t k = 0; k < levels; ++k)
        a.w[static_cast<std::size_t>((m * levels + k) * levels + k)] = u;
  } else {
    std::fill(a.w.begin(), a.w.end(), u);
  }
  return a;
}

inline aggregator_weights aggregator_weights::single(aggregator_kind kind, index_t models,
                                                     index_t levels, index_t m) {
  if (m < 0 || m >= models)
    throw_invalid_argument("aggregator_weights::single", "m", "is ", m, ", outside [0, ", models,
                           ")");
  aggregator_weights a = uniform(kind, models, levels);
  std::fill(a.w.begin(), a.w.end(), 0.0);
  for (index_t k = 0; k < levels; ++k) {
    if (kind == aggregator_kind::per_model) a.w[static_cast<std::size_t>(m)] = 1.0;
    if (kind == aggregator_kind::per_model_level)
      a.w[static_cast<std::size_t>(m * levels + k)] = 1.0;
    if (kind == aggregator_kind::cross_level)
      a.w[static_cast<std::size_t>((m * levels + k) * levels + k)] = 1.0;
  }
  return a;
}

inline std::vector<double> aggregator_weights::cross_matrix() const {
  const index_t K = levels;
  std::vector<double> W(static_cast<std::size_t>(models * K * K), 0.0);
  for (index_t m = 0; m < models; ++m)
    for (index_t j = 0; j < K; ++j)
      for (index_t k = 0; k < K; ++k) {
        double v = 0.0;
        if (kind == aggregator_kind::cross_level)
          v = w[static_cast<std::size_t>((m * K + j) * K + k)];
        else if (j == k)
          v = kind == aggregator_kind::per_model ? w[static_cast<std::size_t>(m)]
                                                 : w[static_cast<std::size_t>(m * K + k)];
        W[static_cast<std::size_t>((m * K + j) * K + k)] = v;
      }
  return W;
}

namespace detail {
namespace quantile {

constexpr index_t aggregate_grain = 2048;
constexpr index_t aggregate_block = 64;  ///< rows per accumulator block (B K doubles)

template <class O, class T>
void check_aggregate_io(tensor_view<O, 2> out, tensor_view<T, 3> preds, const char* fn) {
  static_assert(!std::is_const<O>::value, "ladle: the aggregate output must be writable");
  require_host(out, fn, "out");
  require_host(preds, fn, "preds");
  if (preds.extent(0) == 0) throw_invalid_argument(fn, "preds", "has no models (M = 0)");
  if (preds.extent(1) == 0) throw_invalid_argument(fn, "preds", "has no samples (N = 0)");
  if (preds.extent(2) == 0) throw_invalid_argument(fn, "preds", "has no levels (K = 0)");
  require_extent(out.extent(0), preds.extent(1), fn, "out", "row count (N of preds)");
  require_extent(out.extent(1), preds.extent(2), fn, "out", "column count (K of preds)");
  require_disjoint(out, "out", preds, "preds", fn);
  check_finite(preds, fn, "preds");
}

inline void check_simplex_group(const double* w, index_t count, index_t stride, bool simplex,
                                const char* fn, const char* arg, index_t group) {
  double s = 0.0;
  for (index_t a = 0; a < count; ++a) {
    const double v = w[a * stride];
    if (!std::isfinite(v))
      throw_domain_error(fn, arg, "weight ", a, " of group ", group, " is ", v);
    if (simplex && v < 0.0)
      throw_domain_error(fn, arg, "weight ", a, " of group ", group, " is ", v,
                         ", negative on the simplex (set simplex = false for unconstrained)");
    s += v;
  }
  if (simplex && std::abs(s - 1.0) > 1e-9)
    throw_domain_error(fn, arg, "weights of group ", group, " sum to ", s,
                       ", not 1 (set simplex = false for unconstrained weights)");
}

inline void check_weights_struct(const aggregator_weights& a, index_t M, index_t K,
                                 const char* fn) {
  require_extent(a.models, M, fn, "weights", "model count");
  require_extent(a.levels, K, fn, "weights", "level count");
  const int kind = static_cast<int>(a.kind);
  if (kind < 0 || kind > 2) throw_invalid_argument(fn, "weights", "has an unknown kind ", kind);
  require_extent(static_cast<index_t>(a.w.size()), aggregator_weights::size_for(a.kind, M, K), fn,
                 "weights", "size");
  const double* w = a.w.data();
  switch (a.kind) {
    case aggregator_kind::per_model: check_simplex_group(w, M, 1, a.simplex, fn, "weights", 0); break;
    case aggregator_kind::per_model_level:
      for (index_t k = 0; k < K; ++k) check_simplex_group(w + k, M, K, a.simplex, fn, "weights", k);
      break;
    case aggregator_kind::cross_level:
      for (index_t k = 0; k < K; ++k)
        check_simplex_group(w + k, M * K, K, a.simplex, fn, "weights", k);
      break;
  }
}

}  // namespace quantile
}  // namespace detail

template <class Policy, class T, class O>
void aggregate_into(const Policy& policy, tensor_view<O, 2> out, tensor_view<T, 3> preds,
                    const aggregator_weights& weights) {
  namespace dq = detail::quantile;
  const char* fn = "aggregate_into";
  dq::check_aggregate_io(out, preds, fn);
  const index_t M = preds.extent(0), N = preds.extent(1), K = preds.extent(2);
  dq::check_weights_struct(weights, M, K, fn);
  // Per output level k, the coefficient of (m, j): the diagonal kinds need only j = k.
  const bool cross = weights.kind == aggregator_kind::cross_level;
  std::vector<double> diag;
  if (!cross) {
    diag.resize(static_cast<std::size_t>(M * K));
    for (index_t m = 0; m < M; ++m)
      for (index_t k = 0; k < K; ++k)
        diag[static_cast<std::size_t>(m * K + k)] =
            weights.kind == aggregator_kind::per_model ? weights.w[static_cast<std::size_t>(m)]
                                                       : weights.w[static_cast<std::size_t>(m * K + k)];
  }
  const double* W = cross ? weights.w.data() : diag.data();
  const bool packed = preds.stride(2) == 1;
  if (!cross && packed && preds.stride(1) == K && out.stride(1) == 1 && out.stride(0) == K) {
    // Rows of each model are contiguous: a block of B rows is one flat run of B K values, and
    // the weights repeat with period K, so the inner loop is a plain vector fma over the run.
    const index_t B = dq::aggregate_block;
    std::vector<double> pattern(static_cast<std::size_t>(M * B * K));
    for (index_t m = 0; m < M; ++m)
      for (index_t j = 0; j < B * K; ++j)
        pattern[static_cast<std::size_t>(m * B * K + j)] = W[m * K + j % K];
    parallel_for(policy, N, dq::aggregate_grain, [&](index_t begin, index_t end) {
      std::vector<double> acc(static_cast<std::size_t>(B * K));
      for (index_t i0 = begin; i0 < end; i0 += B) {
        const index_t len = std::min(B, end - i0) * K;
        double* a = acc.data();
        for (index_t j = 0; j < len; ++j) a[j] = 0.0;
        for (index_t m = 0; m < M; ++m) {
          const T* LADLE_RESTRICT p = preds.data() + m * preds.stride(0) + i0 * K;
          const double* LADLE_RESTRICT w = pattern.data() + m * B * K;
          for (index_t j = 0; j < len; ++j) a[j] = std::fma(w[j], static_cast<double>(p[j]), a[j]);
        }
        O* o = out.data() + i0 * K;
        for (index_t j = 0; j < len; ++j) o[j] = static_cast<O>(a[j]);
      }
    });
    return;
  }
  parallel_for(policy, N, dq::aggregate_grain, [&](index_t begin, index_t end) {
    std::vector<double> acc(static_cast<std::size_t>(K));
    for (index_t i = begin; i < end; ++i) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (index_t m = 0; m < M; ++m) {
        const T* row = preds.data() + m * preds.stride(0) + i * preds.stride(1);
        if (!cross) {
          const double* wm = W + m * K;
          if (packed) {
            for (index_t k = 0; k < K; ++k)
              acc[static_cast<std::size_t>(k)] =
                  std::fma(wm[k], static_cast<double>(row[k]), acc[static_cast<std::size_t>(k)]);
          } else {
            for (index_t k = 0; k < K; ++k)
              acc[static_cast<std::size_t>(k)] =
                  std::fma(wm[k], static_cast<double>(row[k * preds.stride(2)]),
                           acc[static_cast<std::size_t>(k)]);
          }
        } else {
          for (index_t j = 0; j < K; ++j) {
            const double v = static_cast<double>(row[j * preds.stride(2)]);
            const double* wj = W + (m * K + j) * K;
            for (index_t k = 0; k < K; ++k)
              acc[static_cast<std::size_t>(k)] =
                  std::fma(wj[k], v, acc[static_cast<std::size_t>(k)]);
          }
        }
      }
      for (index_t k = 0; k < K; ++k) out(i, k) = static_cast<O>(acc[static_cast<std::size_t>(k)]);
    }
  });
}

template <class T, class O>
void aggregate_into(tensor_view<O, 2> out, tensor_view<T, 3> preds,
                    const aggregator_weights& weights) {
  aggregate_into(seq, out, preds, weights);
}

template <class Policy, class T, class O>
void aggregate_mean_into(const Policy& policy, tensor_view<O, 2> out, tensor_view<T, 3> preds) {
  namespace dq = detail::quantile;
  dq::check_aggregate_io(out, preds, "aggregate_mean_into");
  const index_t M = preds.extent(0), N = preds.extent(1), K = preds.extent(2);
  const double inv = 1.0 / static_cast<double>(M);
  parallel_for(policy, N, dq::aggregate_grain, [&](index_t begin, index_t end) {
    for (index_t i = begin; i < end; ++i)
      for (index_t k = 0; k < K; ++k) {
        double s = 0.0;
        for (index_t m = 0; m < M; ++m) s += static_cast<double>(preds(m, i, k));
        out(i, k) = static_cast<O>(s * inv);
      }
  });
}

template <class T, class O>
void aggregate_mean_into(tensor_view<O, 2> out, tensor_view<T, 3> preds) {
  aggregate_mean_into(seq, out, preds);
}

template <class T, class O>
void aggregate_median_into(tensor_view<O, 2> out, tensor_view<T, 3> preds) {
  namespace dq = detail::quantile;
  dq::check_aggregate_io(out, preds, "aggregate_median_into");
  const index_t M = preds.extent(0), N = preds.extent(1), K = preds.extent(2);
  std::vector<double> v(static_cast<std::size_t>(M));
  for (index_t i = 0; i < N; ++i)
    for (index_t k = 0; k < K; ++k) {
      for (index_t m = 0; m < M; ++m) v[static_cast<std::size_t>(m)] = static_cast<double>(preds(m, i, k));
      std::sort(v.begin(), v.end());
      const std::size_t h = static_cast<std::size_t>(M / 2);
      out(i, k) = static_cast<O>(M % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]));
    }
}

template <class T, class O>
void aggregate_local_into(tensor_view<O, 2> out, tensor_view<T, 3> preds,
                          matrix_view<const double> local, bool simplex) {
  namespace dq = detail::quantile;
  const char* fn = "aggregate_local_into";
  dq::check_aggregate_io(out, preds, fn);
  const index_t M = preds.extent(0), N = preds.extent(1), K = preds.extent(2);
  detail::require_host(local, fn, "local");
  detail::require_extent(local.extent(0), N, fn, "local", "row count (N)");
  detail::require_extent(local.extent(1), M, fn, "local", "column count (M)");
  detail::require_disjoint(out, "out", local, "local", fn);
  for (index_t i = 0; i < N; ++i)
    dq::check_simplex_group(&local(i, 0), M, local.stride(1), simplex, fn, "local", i);
  for (index_t i = 0; i < N; ++i)
    for (index_t k = 0; k < K; ++k) {
      double s = 0.0;
      for (index_t m = 0; m < M; ++m) s = std::fma(local(i, m), static_cast<double>(preds(m, i, k)), s);
      out(i, k) = static_cast<O>(s);
    }
}

template <class T, class O>
void aggregate_local_into(tensor_view<O, 2> out, tensor_view<T, 3> preds,
                          tensor_view<const double, 3> local, bool simplex) {
  namespace dq = detail::quantile;
  const char* fn = "aggregate_local_into";
  dq::check_aggregate_io(out, preds, fn);
  const index_t M = preds.extent(0), N = preds.extent(1), K = preds.extent(2);
  detail::require_host(local, fn, "local");
  detail::require_extent(local.extent(0), N, fn, "local", "extent 0 (N)");
  detail::require_extent(local.extent(1), M, fn, "local", "extent 1 (M)");
  detail::require_extent(local.extent(2), K, fn, "local", "extent 2 (K)");
  detail::require_disjoint(out, "out", local, "local", fn);
  for (index_t i = 0; i < N; ++i)
    for (index_t k = 0; k < K; ++k)
      dq::check_simplex_group(&local(i, 0, k), M, local.stride(1), simplex, fn, "local",
                              i * K + k);
  for (index_t i = 0; i < N; ++i)
    for (index_t k = 0; k < K; ++k) {
      double s = 0.0;
      for (index_t m = 0; m < M; ++m)
        s = std::fma(local(i, m, k), static_cast<double>(preds(m, i, k)), s);
      out(i, k) = static_cast<O>(s);
    }
}

template <class T>
double crossing_penalty(matrix_view<T> q, matrix_view<const double> margins, double delta) {
  namespace dq = detail::quantile;
  const char* fn = "crossing_penalty";
  dq::check_finite(q, fn, "q");
  const index_t N = q.extent(0), K = q.extent(1);
  if (N == 0 || K == 0) throw_invalid_argument(fn, "q", "is empty");
  if (!std::isfinite(delta)) throw_invalid_argument(fn, "delta", "is ", delta);
  if (margins.extent(0) != 0 || margins.extent(1) != 0) {
    detail::require_extent(margins.extent(0), K, fn, "margins", "row count (K)");
    detail::require_extent(margins.extent(1), K, fn, "margins", "column count (K)");
    dq::check_finite(margins, fn, "margins");
  }
  const bool use_m = margins.extent(0) != 0;
  const index_t pairs = K * (K - 1) / 2;
  if (pairs == 0) return 0.0;
  double s = 0.0;
  for (index_t i = 0; i < N; ++i)
    for (index_t j = 0; j < K; ++j)
      for (index_t k = j + 1; k < K; ++k) {
        const double m = use_m ? margins(j, k) : delta;
        s += std::max(0.0, static_cast<double>(q(i, j)) - static_cast<double>(q(i, k)) + m);
      }
  return s / (static_cast<double>(N) * static_cast<double>(pairs));
}

}  // namespace ladle
