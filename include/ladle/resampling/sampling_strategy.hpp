// ladle/resampling/sampling_strategy.hpp: which classes a resampler touches, and by how much.
//
// The meanings are imbalanced-learn's (imblearn.utils.check_sampling_strategy), so code can
// migrate unchanged. Classes are always visited in ascending label order; "the majority" is the
// class with the largest count and, among tied classes, the smallest label (imblearn does the same
// because np.unique sorts). "The minority" likewise: smallest count, then smallest label.
//
//   strategy        over-sampling (value = rows to ADD)   under-sampling (value = rows to KEEP)
//   "auto"          = "not majority"                      = "not minority"
//   "minority"      minority: n_maj - n_c                 error
//   "majority"      error                                 majority: n_min
//   "not minority"  every class but the minority          every class but the minority: n_min
//   "not majority"  every class but the majority          every class but the majority: n_min
//   "all"           every class: n_maj - n_c              every class: n_min
//   ratio a (binary only, 0 < a <= 1)
//                   minority: int(a * n_maj - n_min),     majority: int(n_min / a), error if that
//                   error if that is <= 0                 exceeds n_maj
//   counts {c: t}   c: t - n_c, error if t < n_c          c: t, error if t > n_c
//
// Cleaning methods (Tomek links, ENN) only use the SET of targeted classes: the string forms as
// for under-sampling, or an explicit class list (sampling_strategy::targeting); counts and ratios
// are refused there, as in imblearn.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/view.hpp"

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace ladle {

/// How a resampler uses the strategy (imblearn's sampling_type).
enum class sampling_type { over_sampling, under_sampling, cleaning };

/// imbalanced-learn's `sampling_strategy`, as a value. Converts implicitly from a string
/// ("auto", "minority", ...), a float ratio, or a map of per-class target counts.
class sampling_strategy {
 public:
  enum class kind { automatic, minority, majority, not_minority, not_majority, all, ratio, counts,
                    classes };

  /// "auto".
  sampling_strategy() = default;
  /// "auto", "minority", "majority", "not minority", "not majority" or "all"; anything else throws.
  inline sampling_strategy(const char* name);         // NOLINT(google-explicit-constructor)
  inline sampling_strategy(const std::string& name);  // NOLINT(google-explicit-constructor)
  /// A ratio n_minority / n_majority after resampling (binary problems only), in (0, 1].
  inline sampling_strategy(double ratio);  // NOLINT(google-explicit-constructor)
  /// Target counts per class label (classes not named are left alone).
  inline sampling_strategy(std::map<std::int64_t, index_t> counts);  // NOLINT
  /// The same from a map with any integer key and count types (std::map<int, int>, ...).
  template <class K, class V,
            class = std::enable_if_t<std::is_integral<K>::value && std::is_integral<V>::value &&
                                     !(std::is_same<K, std::int64_t>::value &&
                                       std::is_same<V, index_t>::value)>>
  sampling_strategy(const std::map<K, V>& counts);  // NOLINT(google-explicit-constructor)
  /// Target counts written inline: `opts.strategy = {{1, 50}}`, `{{0, 100}, {1, 80}}`. A label
  /// named twice throws ladle::invalid_argument.
  inline sampling_strategy(std::initializer_list<std::pair<std::int64_t, index_t>> counts);  // NOLINT
  /// The classes a cleaning method may remove samples from (cleaners only).
  static inline sampling_strategy targeting(std::vector<std::int64_t> classes);

  kind which() const noexcept { return kind_; }
  double ratio() const noexcept { return ratio_; }
  const std::map<std::int64_t, index_t>& counts() const noexcept { return counts_; }
  const std::vector<std::int64_t>& classes() const noexcept { return classes_; }
  /// The imblearn spelling ("not majority", "0.5", "{...}").
  inline std::string name() const;

 private:
  kind kind_ = kind::automatic;
  double ratio_ = 0.0;
  std::map<std::int64_t, index_t> counts_;
  std::vector<std::int64_t> classes_;
};

/// Class label types every resampler accepts: signed integers of 32 or 64 bits, whatever their
/// spelling (int, long, long long, std::int32_t, std::int64_t). Labels are compared as int64.
template <class L>
inline constexpr bool is_label_type_v = std::is_integral<L>::value && std::is_signed<L>::value &&
                                        (sizeof(L) == 4 || sizeof(L) == 8);

/// One class and how many samples it has.
struct class_count {
  std::int64_t label;
  index_t count;
};

/// The classes present in y with their counts, in ascending label order. L: is_label_type_v.
template <class L>
std::vector<class_count> count_classes(vector_view<L> y);

/// The resolved strategy: label -> rows to add (over-sampling), rows to keep (under-sampling), or
/// n_minority for each targeted class (cleaning), exactly as imblearn's check_sampling_strategy.
/// Throws ladle::invalid_argument (naming `function`) for every case imblearn rejects: fewer than
/// two classes, an unknown class, a negative count, a ratio outside (0, 1] or one that would
/// remove samples, a ratio on a non-binary problem, a form the sampling type does not accept.
inline std::map<std::int64_t, index_t> resolve_sampling_strategy(
    const sampling_strategy& strategy, const std::vector<class_count>& classes,
    sampling_type type, const char* function = "resolve_sampling_strategy");

template <class L>
std::map<std::int64_t, index_t> resolve_sampling_strategy(const sampling_strategy& strategy,
                                                          vector_view<L> y, sampling_type type) {
  return resolve_sampling_strategy(strategy, count_classes(y), type);
}

}  // namespace ladle

#include "ladle/resampling/detail/sampling_strategy_impl.hpp"
