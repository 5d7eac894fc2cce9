// ladle/quantization/product_quantization.hpp: product quantization (Jegou et al. 2011) for
// embedding tables and vector search.
//
// A d-dimensional row is cut into M = `subspaces` slices of d/M dimensions; each slice is
// replaced by the index (one byte) of its nearest centroid in that slice's codebook of
// `centroids` <= 256 entries, so a row costs M bytes instead of 4d. Codebooks are learned by
// k-means per subspace:
//   * seeding: greedy k-means++ (each step draws `seeding_trials` candidates with probability
//     proportional to D^2 and keeps the one that lowers the potential most, as scikit-learn
//     does), driven by Philox streams keyed by (seed, subspace), so codebooks are identical for
//     any thread count;
//   * Lloyd iterations until no assignment changes or `iterations` is reached; sums in double;
//   * empty clusters are re-seeded with the point farthest from its centroid (taken from its
//     cluster), which never increases the objective.
// Encoding picks the nearest centroid per slice (exact squared distances; ties go to the lower
// index). Asymmetric distance computation (ADC): for a float query, a table of M x ksub squared
// distances (or inner products) from each query slice to each centroid is built once; the
// distance to an encoded row is then the sum of M table lookups, which equals the distance from
// the query to the decoded row (up to float rounding).
//
// Peak extra memory: training copies one slice of the training rows (n x d/M floats) plus n
// assignments and distances; encode/search allocate O(ksub) per task.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/dtype.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/tensor.hpp"
#include "ladle/core/view.hpp"

#include <cstdint>
#include <vector>

namespace ladle {

struct pq_options {
  index_t subspaces = 8;             ///< M; must divide the dimension
  index_t centroids = 256;           ///< ksub per subspace, 1..256 (codes are one byte)
  int iterations = 25;               ///< maximum Lloyd iterations per subspace
  index_t max_training_rows = 65536; ///< train on a random subset of this many rows (0 = all)
  int seeding_trials = 0;            ///< k-means++ candidates per step; 0 = 2 + floor(ln ksub)
};

/// Distance used by the ADC tables and search.
enum class pq_metric : std::uint8_t {
  l2,            ///< squared Euclidean distance; search returns the smallest
  inner_product  ///< dot product; search returns the largest
};

/// Trained codebooks of a product quantizer.
class product_quantizer {
 public:
  product_quantizer() = default;
  /// From existing codebooks, shape (M, ksub, dsub); throws on ksub outside 1..256 or
  /// non-finite entries.
  explicit product_quantizer(tensor<float, 3> codebooks);

  index_t dim() const noexcept { return subspaces() * sub_dim(); }
  index_t subspaces() const noexcept { return codebooks_.extent(0); }
  index_t centroids() const noexcept { return codebooks_.extent(1); }
  index_t sub_dim() const noexcept { return codebooks_.extent(2); }
  /// Codebook of subspace m: ksub x dsub.
  matrix_view<const float> codebook(index_t m) const;
  /// All codebooks, (M, ksub, dsub).
  const tensor<float, 3>& codebooks() const noexcept { return codebooks_; }
  /// Training objective (sum over subspaces of squared distances to the assigned centroids)
  /// after each assignment step, the last entry being the final codebooks' objective.
  const std::vector<double>& inertia_history() const noexcept { return history_; }
  /// The final training objective (last entry of inertia_history()).
  double inertia() const noexcept { return history_.empty() ? 0.0 : history_.back(); }

  /// Internal: transposed codebook of subspace m (dsub x ksub), the layout the kernels read.
  const float* transposed(index_t m) const noexcept {
    return transposed_.data() + m * sub_dim() * centroids();
  }
  /// Internal: records the training objective.
  void set_history(std::vector<double> h) { history_ = std::move(h); }

 private:
  tensor<float, 3> codebooks_;
  tensor<float, 3> transposed_;
  std::vector<double> history_;
};

/// Trains codebooks on the rows of x (n x d, float/double/half/bfloat16, rows contiguous).
/// Throws invalid_argument when d % M != 0, ksub is outside 1..256 or larger than the number of
/// training rows, or options are out of range; domain_error for NaN / inf in x.
template <class Policy, class T, class = std::enable_if_t<is_execution_policy_v<Policy>>>
product_quantizer pq_train(const Policy& policy, matrix_view<T> x, pq_options options, seed s);
template <class T>
product_quantizer pq_train(matrix_view<T> x, pq_options options, seed s);

/// codes(i, m) = nearest centroid of slice m of row i. codes: n x M, compact.
template <class Policy, class T, class = std::enable_if_t<is_execution_policy_v<Policy>>>
void pq_encode(const Policy& policy, const product_quantizer& pq, matrix_view<T> x,
               matrix_view<std::uint8_t> codes);
template <class T>
void pq_encode(const product_quantizer& pq, matrix_view<T> x, matrix_view<std::uint8_t> codes);
template <class Policy, class T, class = std::enable_if_t<is_execution_policy_v<Policy>>>
tensor<std::uint8_t, 2> pq_encode(const Policy& policy, const product_quantizer& pq, matrix_view<T> x);
template <class T>
tensor<std::uint8_t, 2> pq_encode(const product_quantizer& pq, matrix_view<T> x);

/// out(i, :) = concatenated centroids of codes(i, :). out: n x d (float-like, rows contiguous).
template <class Policy, class C, class T, class = std::enable_if_t<is_execution_policy_v<Policy>>>
void pq_decode(const Policy& policy, const product_quantizer& pq, matrix_view<C> codes,
               matrix_view<T> out);
template <class C, class T>
void pq_decode(const product_quantizer& pq, matrix_view<C> codes, matrix_view<T> out);

/// ADC table for one query (length d): table(m, c) = ||q_m - centroid_mc||^2 (l2) or
/// <q_m, centroid_mc> (inner_product). table: M x ksub, compact.
template <class T>
void pq_distance_table(const product_quantizer& pq, vector_view<T> query,
                       matrix_view<float> table, pq_metric metric = pq_metric::l2);
/// Scalar reference for pq_distance_table (tests compare both).
template <class T>
void pq_distance_table_scalar(const product_quantizer& pq, vector_view<T> query,
                              matrix_view<float> table, pq_metric metric = pq_metric::l2);

/// out(i) = sum_m table(m, codes(i, m)) for every encoded row.
template <class Policy, class TT, class C, class = std::enable_if_t<is_execution_policy_v<Policy>>>
void pq_adc_distances(const Policy& policy, matrix_view<TT> table, matrix_view<C> codes,
                      vector_view<float> out);
template <class TT, class C>
void pq_adc_distances(matrix_view<TT> table, matrix_view<C> codes, vector_view<float> out);

struct pq_search_result {
  std::vector<index_t> indices;  ///< best first; ties go to the smaller row index
  std::vector<float> scores;     ///< ADC distance (l2) or inner product, matching indices
};

/// The k encoded rows nearest to (l2) / most similar to (inner_product) the query, by ADC.
template <class Policy, class T, class C, class = std::enable_if_t<is_execution_policy_v<Policy>>>
pq_search_result pq_search(const Policy& policy, const product_quantizer& pq, vector_view<T> query,
                           matrix_view<C> codes, index_t k, pq_metric metric = pq_metric::l2);
template <class T, class C>
pq_search_result pq_search(const product_quantizer& pq, vector_view<T> query, matrix_view<C> codes,
                           index_t k, pq_metric metric = pq_metric::l2);

}  // namespace ladle

#include "ladle/quantization/detail/pq_impl.hpp"
