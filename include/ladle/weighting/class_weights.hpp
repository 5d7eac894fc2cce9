// ladle/weighting/class_weights.hpp: class counts and the class weights computed from them.
//
// Contract:
//  * Labels: a vector_view of any integer type (int8 ... long long, unsigned; any stride), never
//    modified. Label values are arbitrary (negative, sparse, huge); they are kept as int64
//    (an unsigned label above INT64_MAX is refused). Optional sample weights: a float or double
//    view of the same length, finite and >= 0.
//  * class_counter: per-label counts (or sums of sample weights) in ascending label order, as
//    doubles (exact for integer counts up to 2^53). add() folds a batch in, merge() folds another
//    counter in, so shards or a stream combine before weights are computed. Counting a batch with
//    `par` is bit-identical to `seq` for every thread count (integer counts are exact; weighted
//    sums are added per fixed chunk and then in chunk order). A counter's weighted sums depend on
//    the order of add/merge calls (floating-point addition), never on threads.
//  * class_weights: one weight per counted class, in the counter's ascending label order:
//      balanced          w_c = N / (C n_c)         (scikit-learn's "balanced"; mean 1 over samples)
//      inverse           w_c = 1 / n_c
//      inverse_sqrt      w_c = 1 / sqrt(n_c)
//      power             w_c = n_c^(-p)            (p = 1 inverse, 1/2 inverse-sqrt, 0 uniform)
//      effective_number  w_c = (1 - b) / (1 - b^n_c)  (Cui et al. 2019; b in [0, 1))
//      uniform           w_c = 1
//    N = sum of counts, C = number of classes with a non-zero count. Then the normalisation
//    (none, mean 1 over samples, sum to C, sum to 1; "automatic" = none, except sum to C for
//    effective_number as in Cui et al.'s code), then clipping to [clip_min, clip_max] (not
//    renormalised afterwards).
//  * Empty classes (count 0, from counts given directly or from add_count): by default weight 0 and
//    not counted in C, so they change nothing; empty_class::error refuses them instead.
//    Never a division by zero.
//  * Expansion: sample_weights(y, table) gives w_{y_i} per sample (times s_i when sample weights
//    are passed); a label absent from the table is an error.
//  * Errors (ladle::error, nothing written, inputs unchanged): empty labels, length mismatches,
//    negative / NaN / Inf counts or sample weights, all counts zero, b outside [0, 1), p NaN/Inf,
//    clip_min > clip_max, an output view of the wrong length or overlapping an input.
//
// Complexity: counting O(n) in one pass (a chunk's min/max, then a dense histogram of the chunk
// while it is in cache; for contiguous int32 labels both in SIMD lanes, the histogram as one
// compare-and-count sweep per label value when a chunk spans at most 16 values; chunks with a
// label range much wider than their length are sorted, O(len log len)). Weights O(C). Expansion O(n) (dense lookup when the label range is at most
// 4n + 4096, else a binary search per sample, O(n log C)).
// Extra memory: counting keeps one (label, count) list per chunk of 2^18 labels, so at most
// min(C, 2^18) pairs per chunk, plus a dense array over the label range when that range is
// at most max(2^22, pairs); expansion a dense lookup of the label range when it is used.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/view.hpp"

#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

namespace ladle {

/// Per-label counts (or weight sums) that combine across shards and batches.
class class_counter {
 public:
  class_counter() = default;

  /// Counts every label of y (one per sample).
  template <class L>
  void add(vector_view<L> y) { add(seq, y); }
  template <class Policy, class L>
  void add(const Policy& policy, vector_view<L> y);

  /// Adds sample_weight[i] to the class of y[i] (weights finite and >= 0).
  template <class L, class W>
  void add(vector_view<L> y, vector_view<W> sample_weight) { add(seq, y, sample_weight); }
  template <class Policy, class L, class W>
  void add(const Policy& policy, vector_view<L> y, vector_view<W> sample_weight);

  /// Adds `count` (finite, >= 0; 0 declares a class that may stay empty) to class `label`.
  void add_count(std::int64_t label, double count);

  /// Folds another counter in (for shards: a.merge(b) then weights of a).
  void merge(const class_counter& other);

  /// Ascending distinct labels seen, and their counts (parallel arrays).
  const std::vector<std::int64_t>& labels() const noexcept { return labels_; }
  const std::vector<double>& counts() const noexcept { return counts_; }
  /// Number of labels (classes) known, empty ones included.
  index_t size() const noexcept { return static_cast<index_t>(labels_.size()); }
  /// Sum of all counts.
  double total() const noexcept;
  /// The count of `label`, 0 when never seen.
  double count_of(std::int64_t label) const noexcept;
  void clear() noexcept {
    labels_.clear();
    counts_.clear();
  }

 private:
  void merge_sorted(const std::vector<std::int64_t>& labels, const std::vector<double>& counts);
  std::vector<std::int64_t> labels_;
  std::vector<double> counts_;
};

enum class class_weight_scheme { balanced, inverse, inverse_sqrt, power, effective_number, uniform };

enum class weight_normalization {
  automatic,              ///< none, but sum_to_classes for effective_number (Cui et al.'s code)
  none,                   ///< the raw formula
  mean_one_over_samples,  ///< sum_c n_c w_c = N: the average per-sample weight is 1
  sum_to_classes,         ///< sum_c w_c = C (non-empty classes)
  sum_to_one              ///< sum_c w_c = 1
};

enum class empty_class { zero_weight, error };

struct class_weight_options {
  class_weight_scheme scheme = class_weight_scheme::balanced;
  double power = 0.5;    ///< p of the power scheme
  double beta = 0.999;   ///< b of the effective_number scheme, in [0, 1)
  weight_normalization normalization = weight_normalization::automatic;
  double clip_min = 0;   ///< applied after normalisation
  double clip_max = std::numeric_limits<double>::infinity();
  empty_class empty = empty_class::zero_weight;
};

/// Class weights with the labels they belong to (ascending labels).
template <class T = double>
struct class_weight_table {
  std::vector<std::int64_t> labels;
  std::vector<T> weights;
  /// The weight of `label`; throws ladle::invalid_argument when the label is not in the table.
  T at(std::int64_t label) const;
};

/// (1 - b) / (1 - b^n), the inverse effective number of n samples (n >= 0, b in [0, 1)),
/// computed through expm1(n log1p(b - 1)) so b -> 1 and n ~ 1e9 keep full precision;
/// tends to 1/n as b -> 1; 0 for n = 0 would divide by zero and is refused (domain_error).
double inverse_effective_number(double n, double beta);

/// Weights from a counter (ascending labels).
template <class T = double>
class_weight_table<T> class_weights(const class_counter& counts,
                                    const class_weight_options& opts = {});

/// Weights from labels (and optional sample weights): count, then weigh.
template <class T = double, class Policy, class L,
          class = std::enable_if_t<is_execution_policy_v<Policy>>>
class_weight_table<T> class_weights(const Policy& policy, vector_view<L> y,
                                    const class_weight_options& opts = {});
template <class T = double, class L>
class_weight_table<T> class_weights(vector_view<L> y, const class_weight_options& opts = {}) {
  return class_weights<T>(seq, y, opts);
}
template <class T = double, class Policy, class L, class W>
class_weight_table<T> class_weights(const Policy& policy, vector_view<L> y,
                                    vector_view<W> sample_weight,
                                    const class_weight_options& opts = {});
template <class T = double, class L, class W>
class_weight_table<T> class_weights(vector_view<L> y, vector_view<W> sample_weight,
                                    const class_weight_options& opts = {}) {
  return class_weights<T>(seq, y, sample_weight, opts);
}

/// Weights from counts indexed by class 0..C-1 (any integer or float type) into out (length C).
template <class C, class T>
void class_weights_from_counts_into(vector_view<C> counts, vector_view<T> out,
                                    const class_weight_options& opts = {});
template <class T = double, class C>
std::vector<T> class_weights_from_counts(vector_view<C> counts,
                                         const class_weight_options& opts = {});

/// out[i] = w_{y[i]} (times sample_weight[i] in the second form).
template <class Policy, class L, class TW, class T>
void sample_weights_into(const Policy& policy, vector_view<L> y, const class_weight_table<TW>& table,
                         vector_view<T> out);
template <class Policy, class L, class W, class TW, class T>
void sample_weights_into(const Policy& policy, vector_view<L> y, vector_view<W> sample_weight,
                         const class_weight_table<TW>& table, vector_view<T> out);

/// scikit-learn's compute_sample_weight: class weights from y, expanded to one per sample.
template <class T = double, class Policy, class L>
std::vector<T> sample_weights(const Policy& policy, vector_view<L> y,
                              const class_weight_options& opts = {});

}  // namespace ladle

#include "ladle/weighting/detail/class_weights_impl.hpp"
