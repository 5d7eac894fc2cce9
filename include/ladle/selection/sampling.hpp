// ladle/selection/sampling.hpp: random subsets, stratified subsets, weighted sampling without
// replacement, alias tables, (weighted) reservoirs.
//
// Inputs: sizes are index_t; labels are int32/int64 host vectors (any stride); weights are
// float/double host vectors (any stride), finite and >= 0. Outputs are index vectors (std::vector
// owning forms, or `_into` forms writing exactly out.extent(0) indices into caller memory).
//
// Order of results:
//   * uniform_subset, stratified_subset: ascending indices (a set);
//   * random_permutation_prefix: the first k entries of a uniform random permutation (any prefix
//     of it is itself a uniform sample);
//   * weighted_sample: ascending indices, or with sample_order::draw the order of successive
//     draws (the key order of the exponential-key construction; any prefix is itself a weighted
//     sample of that size).
//
// Randomness: Philox streams, one purpose per function. weighted_sample's key for item i is a
// pure function of (seed, i), so the result is the same bits for seq and par(n) at any n.
// Floyd, permutation prefix, stratified and the reservoirs consume one sequential stream.
//
// Laws (exact, not approximate):
//   * weighted_sample draws k items one after another, each with probability proportional to
//     its weight among the items not yet drawn (successive sampling / Plackett-Luce), by
//     Efraimidis-Spirakis exponential keys E_i / w_i (k smallest); no cumulative sums, so no
//     2^24 limit and no precision loss for tiny weights; zero weights are never chosen.
//   * alias_table (Vose) draws with replacement, P(i) = w_i / sum(w), O(1) per draw.
//   * weighted_reservoir keeps the same law as weighted_sample over a stream (A-ExpJ, with
//     exponential jumps); merge() of reservoirs of disjoint shards gives a sample of the union
//     with that same law.
//
// Errors (ladle::error, nothing written, inputs untouched): k < 0 or k > n, fraction outside
// (0, 1] or NaN, negative / NaN / Inf weights, fewer than k positive weights, empty labels,
// `out` overlapping an input.
//
// Complexity and extra memory:
//   uniform_subset                 O(k) expected time; O(k) memory (a bit set of n bits
//                                  instead when that is smaller than the hash set)
//   random_permutation_prefix      O(k) expected time and memory
//   stratified_subset              O(n log C + total) time, O(n) memory
//   weighted_sample                O(n + k log(n/k)) expected, O(k) memory per chunk of 2^20
//   alias_table                    O(n) build, O(1) per draw, 16 bytes per positive weight
//   weighted_reservoir             O(k + log) per accepted item, O(k) memory
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/view.hpp"

#include <cstdint>
#include <vector>

namespace ladle {

// ---- uniform --------------------------------------------------------------------------------

/// k distinct indices of [0, n), each k-subset equally likely (Floyd's algorithm), ascending.
inline std::vector<index_t> uniform_subset(index_t n, index_t k, seed s);
/// Into caller memory: k = out.extent(0).
inline void uniform_subset_into(vector_view<index_t> out, index_t n, seed s);

/// The first k entries of a uniformly random permutation of [0, n) (sparse Fisher-Yates).
inline std::vector<index_t> random_permutation_prefix(index_t n, index_t k, seed s);

/// Rounds fraction * n to the nearest integer, ties to even (Python's round), after checking
/// fraction is in (0, 1]. `fn` names the public caller in errors.
inline index_t subset_size(index_t n, double fraction, const char* fn = "subset_size");

// ---- stratified -----------------------------------------------------------------------------

/// How a total is split over classes.
///  proportional: quota_c = total * n_c / n, floors plus largest remainders (ties to the class
///                that comes first), so the quotas sum to total exactly;
///  balanced:     equal shares, capped at n_c, the excess of small classes poured into the
///                others (water-filling); leftovers of the integer split go to the first
///                classes with room.
enum class stratify { proportional, balanced };

/// Per-class quotas summing to `total` (0 <= total <= sum of sizes).
inline std::vector<index_t> stratified_quotas(const std::vector<index_t>& class_sizes, index_t total,
                                       stratify mode);

/// Distinct labels in ascending order and their counts.
template <class L>
struct class_census {
  std::vector<L> labels;
  std::vector<index_t> counts;
};
template <class L>
class_census<std::remove_const_t<L>> census(vector_view<L> labels);

/// A subset of `total` indices with stratified_quotas over the classes of `labels` (ascending
/// label order); inside each class a uniform subset (stream keyed by the label). Ascending.
template <class L>
std::vector<index_t> stratified_subset(vector_view<L> labels, index_t total, stratify mode,
                                       seed s);
/// total = subset_size(n, fraction).
template <class L>
std::vector<index_t> stratified_subset(vector_view<L> labels, double fraction, stratify mode,
                                       seed s);
/// Caller-supplied quotas, one per class of census(labels) (ascending label order).
template <class L>
std::vector<index_t> stratified_subset(vector_view<L> labels, const std::vector<index_t>& quotas,
                                       seed s);

// ---- weighted without replacement -----------------------------------------------------------

enum class sample_order { ascending, draw };

/// k indices drawn without replacement with probability proportional to weight.
template <class Policy, class W>
std::vector<index_t> weighted_sample(const Policy& policy, vector_view<W> weights, index_t k,
                                     seed s, sample_order order = sample_order::ascending);
template <class W>
std::vector<index_t> weighted_sample(vector_view<W> weights, index_t k, seed s,
                                     sample_order order = sample_order::ascending);
/// Into caller memory: k = out.extent(0).
template <class Policy, class W>
void weighted_sample_into(const Policy& policy, vector_view<index_t> out, vector_view<W> weights,
                          seed s, sample_order order = sample_order::ascending);

// ---- with replacement: alias table ----------------------------------------------------------

/// Vose's alias method over the positive weights (zero weights are left out of the table, so
/// they can never be drawn, whatever the rounding).
class alias_table {
 public:
  template <class W>
  explicit alias_table(vector_view<W> weights);

  /// Number of weights the table was built from (including zeros).
  index_t size() const noexcept { return n_; }
  /// One draw from g (one bounded integer, then one double).
  index_t operator()(philox& g) const;
  /// `count` draws; draw j uses its own stream (seed, j), so the result does not depend on how
  /// the draws are split over threads.
  template <class Policy>
  std::vector<index_t> sample(const Policy& policy, index_t count, seed s) const;
  std::vector<index_t> sample(index_t count, seed s) const;

  /// The probability of drawing index i implied by the table (for checks).
  double probability(index_t i) const;

 private:
  index_t n_ = 0;
  std::vector<double> prob_;         // acceptance threshold per slot
  std::vector<std::uint32_t> alias_; // other slot of each column (slot numbers)
  std::vector<index_t> item_;        // slot -> input index
};

// ---- streaming: reservoirs ------------------------------------------------------------------

/// A weighted reservoir of k items (Efraimidis-Spirakis A-ExpJ in log space): after any stream
/// of (item, weight) pushes, the held items are a weighted sample without replacement of
/// everything pushed (successive-sampling law). Zero weights are never kept.
template <class T>
class weighted_reservoir {
 public:
  /// `stream` names this shard: shards that will be merged must use different streams.
  weighted_reservoir(index_t k, seed s, std::uint64_t stream = 0);

  void push(const T& item, double weight);
  /// Combines the reservoir of a disjoint shard (same k, different (seed, stream)).
  void merge(const weighted_reservoir& other);

  index_t capacity() const noexcept { return k_; }
  index_t size() const noexcept { return static_cast<index_t>(entries_.size()); }
  /// Items pushed so far, over all merged shards.
  std::uint64_t seen() const noexcept { return seen_; }
  /// The held items in draw order (largest key first).
  std::vector<T> items() const;
  /// Their log keys, same order (log(u) / w of Efraimidis-Spirakis).
  std::vector<double> log_keys() const;

 private:
  struct entry {
    double log_key;
    T item;
  };
  void draw_jump();
  void insert(double log_key, const T& item);

  index_t k_;
  seed seed_;
  std::uint64_t stream_;
  philox gen_;
  std::vector<entry> entries_;  // min-heap on log_key once full
  double jump_ = 0;             // weight still to skip before the next insertion
  std::uint64_t seen_ = 0;
};

/// A uniform reservoir of k items: a weighted_reservoir with unit weights.
template <class T>
class reservoir {
 public:
  reservoir(index_t k, seed s, std::uint64_t stream = 0) : inner_(k, s, stream) {}
  void push(const T& item) { inner_.push(item, 1.0); }
  void merge(const reservoir& other) { inner_.merge(other.inner_); }
  index_t capacity() const noexcept { return inner_.capacity(); }
  index_t size() const noexcept { return inner_.size(); }
  std::uint64_t seen() const noexcept { return inner_.seen(); }
  std::vector<T> items() const { return inner_.items(); }

 private:
  weighted_reservoir<T> inner_;
};

}  // namespace ladle

#include "ladle/selection/detail/sampling_impl.hpp"
