// ladle/quantile/aggregate.hpp: combining the quantile predictions of M models into one.
//
// preds is a [M, N, K] host view (model, sample, level; float or double, any strides) holding
// model m's quantile at levels[k] for sample i in preds(m, i, k). Outputs are [N, K] views of
// float or double. Arithmetic is double; every weighted sum runs over models (and levels) in
// index order with std::fma, so the result has the same bits for every policy and instruction set.
//
//  * aggregate_mean_into / aggregate_median_into: the plain baselines (median of an even M is the
//    mean of the middle two).
//  * aggregate_into with aggregator_weights, out(i, k) = sum_m sum_j W[m, j -> k] preds(m, i, j):
//      per_model        W[m, j -> k] = w[m] when j = k          (coarse: w has M entries)
//      per_model_level  W[m, j -> k] = w[m * K + k] when j = k  (medium: M x K)
//      cross_level      W[m, j -> k] = w[(m * K + j) * K + k]   (fine: every model-level feeds
//                                                                every output level, MK x K)
//    On the simplex by default (weights >= 0, and the weights feeding each output level sum to
//    1 within 1e-9); set `simplex = false` for unconstrained weights (which can extrapolate and
//    cross).
//  * aggregate_local_into: caller-supplied per-sample weights (the paper's local aggregator, the
//    network that makes them left to the caller): local [N, M] (per model) or [N, M, K] (per
//    model and level), checked on the simplex per sample (and level) unless simplex = false.
//  * crossing_penalty: mean over samples and level pairs j < k of relu(q_j - q_k + margin_jk),
//    the margin loss the reference code adds while training.
//
// Errors (ladle::error, nothing written): shape mismatches, empty M / N / K, NaN/Inf in preds or
// weights, weights off the simplex, out overlapping an input.
// Complexity: O(M N K) (cross_level O(M N K^2)); extra memory O(K) per thread (median O(M K)).
// A leading ladle::par splits samples over threads.
#pragma once

#include "ladle/core/parallel.hpp"
#include "ladle/core/view.hpp"
#include "ladle/quantile/detail/checks.hpp"

#include <vector>

namespace ladle {

enum class aggregator_kind { per_model, per_model_level, cross_level };

struct aggregator_weights {
  aggregator_kind kind = aggregator_kind::per_model_level;
  index_t models = 0;
  index_t levels = 0;
  std::vector<double> w;  ///< layout by kind, see above
  bool simplex = true;    ///< check (and, when fitted, enforce) the simplex constraint

  /// Number of weights the kind needs for M models and K levels.
  static index_t size_for(aggregator_kind kind, index_t models, index_t levels);
  /// Uniform simplex weights (the mean; cross_level: each output level averages its own level).
  static aggregator_weights uniform(aggregator_kind kind, index_t models, index_t levels);
  /// Model m alone (a vertex of the simplex).
  static aggregator_weights single(aggregator_kind kind, index_t models, index_t levels,
                                   index_t m);
  /// The full [M*K, K] cross-level matrix these weights stand for: W[(m*K + j)*K + k].
  std::vector<double> cross_matrix() const;
};

template <class Policy, class T, class O>
void aggregate_into(const Policy& policy, tensor_view<O, 2> out, tensor_view<T, 3> preds,
                    const aggregator_weights& weights);
template <class T, class O>
void aggregate_into(tensor_view<O, 2> out, tensor_view<T, 3> preds,
                    const aggregator_weights& weights);

template <class Policy, class T, class O>
void aggregate_mean_into(const Policy& policy, tensor_view<O, 2> out, tensor_view<T, 3> preds);
template <class T, class O>
void aggregate_mean_into(tensor_view<O, 2> out, tensor_view<T, 3> preds);

template <class T, class O>
void aggregate_median_into(tensor_view<O, 2> out, tensor_view<T, 3> preds);

/// local [N, M]: out(i, k) = sum_m local(i, m) preds(m, i, k).
template <class T, class O>
void aggregate_local_into(tensor_view<O, 2> out, tensor_view<T, 3> preds,
                          matrix_view<const double> local, bool simplex = true);
/// local [N, M, K]: out(i, k) = sum_m local(i, m, k) preds(m, i, k).
template <class T, class O>
void aggregate_local_into(tensor_view<O, 2> out, tensor_view<T, 3> preds,
                          tensor_view<const double, 3> local, bool simplex = true);

/// Margin loss: mean over i and pairs j < k of max(0, q(i, j) - q(i, k) + m_jk), with
/// m_jk = margins(j, k) when a [K, K] margins view is given, else `delta` for every pair.
template <class T>
double crossing_penalty(matrix_view<T> q, matrix_view<const double> margins = {},
                        double delta = 0.0);

}  // namespace ladle

#include "ladle/quantile/detail/aggregate_impl.hpp"
