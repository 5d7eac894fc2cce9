// Definitions for ladle/resampling/sampling_strategy.hpp.
#pragma once

#include "ladle/resampling/sampling_strategy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <type_traits>

namespace ladle {

inline sampling_strategy::sampling_strategy(const std::string& name) {
  if (name == "auto") kind_ = kind::automatic;
  else if (name == "minority") kind_ = kind::minority;
  else if (name == "majority") kind_ = kind::majority;
  else if (name == "not minority") kind_ = kind::not_minority;
  else if (name == "not majority") kind_ = kind::not_majority;
  else if (name == "all") kind_ = kind::all;
  else
    throw_invalid_argument("sampling_strategy", "name",
                           "must be one of 'auto', 'minority', 'majority', 'not minority', "
                           "'not majority', 'all'; got '", name, "'");
}

inline sampling_strategy::sampling_strategy(const char* name)
    : sampling_strategy(std::string(name == nullptr ? "" : name)) {}

inline sampling_strategy::sampling_strategy(double ratio) : kind_(kind::ratio), ratio_(ratio) {
  if (!(ratio > 0.0 && ratio <= 1.0))
    throw_invalid_argument("sampling_strategy", "ratio", "must be in (0, 1], got ", ratio);
}

inline sampling_strategy::sampling_strategy(std::map<std::int64_t, index_t> counts)
    : kind_(kind::counts), counts_(std::move(counts)) {
  for (const auto& kv : counts_)
    if (kv.second < 0)
      throw_invalid_argument("sampling_strategy", "counts", "class ", kv.first,
                             " has a negative target count ", kv.second);
}

template <class K, class V, class>
sampling_strategy::sampling_strategy(const std::map<K, V>& counts) : kind_(kind::counts) {
  for (const auto& kv : counts) {
    if (static_cast<long double>(kv.second) < 0)
      throw_invalid_argument("sampling_strategy", "counts", "class ", static_cast<std::int64_t>(kv.first),
                             " has a negative target count ", static_cast<long long>(kv.second));
    if (static_cast<unsigned long long>(kv.second) > static_cast<unsigned long long>(std::numeric_limits<index_t>::max()) ||
        (std::is_unsigned<K>::value && static_cast<unsigned long long>(kv.first) >
                                           static_cast<unsigned long long>(std::numeric_limits<std::int64_t>::max())))
      throw_invalid_argument("sampling_strategy", "counts", "entry (", kv.first, ", ", kv.second,
                             ") does not fit (int64 label, index_t count)");
    counts_[static_cast<std::int64_t>(kv.first)] = static_cast<index_t>(kv.second);
  }
}

inline sampling_strategy::sampling_strategy(
    std::initializer_list<std::pair<std::int64_t, index_t>> counts)
    : kind_(kind::counts) {
  for (const auto& kv : counts) {
    if (kv.second < 0)
      throw_invalid_argument("sampling_strategy", "counts", "class ", kv.first,
                             " has a negative target count ", kv.second);
    if (!counts_.emplace(kv.first, kv.second).second)
      throw_invalid_argument("sampling_strategy", "counts", "names class ", kv.first, " twice");
  }
}

inline sampling_strategy sampling_strategy::targeting(std::vector<std::int64_t> classes) {
  sampling_strategy s;
  s.kind_ = kind::classes;
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  s.classes_ = std::move(classes);
  return s;
}

inline std::string sampling_strategy::name() const {
  std::ostringstream os;
  switch (kind_) {
    case kind::automatic: return "auto";
    case kind::minority: return "minority";
    case kind::majority: return "majority";
    case kind::not_minority: return "not minority";
    case kind::not_majority: return "not majority";
    case kind::all: return "all";
    case kind::ratio: os << ratio_; return os.str();
    case kind::counts: {
      os << "{";
      const char* sep = "";
      for (const auto& kv : counts_) { os << sep << kv.first << ": " << kv.second; sep = ", "; }
      os << "}";
      return os.str();
    }
    case kind::classes: {
      os << "[";
      const char* sep = "";
      for (auto c : classes_) { os << sep << c; sep = ", "; }
      os << "]";
      return os.str();
    }
  }
  return "?";
}

template <class L>
std::vector<class_count> count_classes(vector_view<L> y) {
  using label_t = std::remove_const_t<L>;
  static_assert(is_label_type_v<label_t>,
                "ladle: class labels must be signed 32- or 64-bit integers");
  detail::require_host(y, "count_classes", "y");
  std::map<std::int64_t, index_t> m;
  // Labels come in runs or from few classes: count a run locally, touch the map once per run.
  for (index_t i = 0; i < y.extent(0);) {
    const auto label = static_cast<std::int64_t>(y(i));
    index_t run = 1;
    while (i + run < y.extent(0) && static_cast<std::int64_t>(y(i + run)) == label) ++run;
    m[label] += run;
    i += run;
  }
  std::vector<class_count> out;
  out.reserve(m.size());
  for (const auto& kv : m) out.push_back({kv.first, kv.second});
  return out;
}

namespace detail {

// The first class with the largest / smallest count in ascending label order (imblearn's
// max(target_stats, key=...) over a dict built from np.unique).
inline const class_count& majority_class(const std::vector<class_count>& c) {
  const class_count* best = &c.front();
  for (const auto& e : c)
    if (e.count > best->count) best = &e;
  return *best;
}
inline const class_count& minority_class(const std::vector<class_count>& c) {
  const class_count* best = &c.front();
  for (const auto& e : c)
    if (e.count < best->count) best = &e;
  return *best;
}

inline const class_count* find_class(const std::vector<class_count>& c, std::int64_t label) {
  for (const auto& e : c)
    if (e.label == label) return &e;
  return nullptr;
}

}  // namespace detail

inline std::map<std::int64_t, index_t> resolve_sampling_strategy(
    const sampling_strategy& strategy, const std::vector<class_count>& classes, sampling_type type,
    const char* function) {
  using kind = sampling_strategy::kind;
  if (classes.size() <= 1)
    throw_invalid_argument(function, "y", "needs more than 1 class, got ", classes.size());
  const bool over = type == sampling_type::over_sampling;
  const class_count& maj = detail::majority_class(classes);
  const class_count& mino = detail::minority_class(classes);
  std::map<std::int64_t, index_t> out;
  kind k = strategy.which();
  if (k == kind::automatic) k = over ? kind::not_majority : kind::not_minority;
  switch (k) {
    case kind::minority:
      if (!over)
        throw_invalid_argument(function, "sampling_strategy",
                               "'minority' cannot be used by under-samplers and cleaners");
      out[mino.label] = maj.count - mino.count;
      break;
    case kind::majority:
      if (over)
        throw_invalid_argument(function, "sampling_strategy",
                               "'majority' cannot be used by over-samplers");
      out[maj.label] = mino.count;
      break;
    case kind::not_minority:
    case kind::not_majority:
    case kind::all: {
      const std::int64_t skip_label = k == kind::not_minority ? mino.label : maj.label;
      for (const auto& c : classes) {
        if (k != kind::all && c.label == skip_label) continue;
        out[c.label] = over ? maj.count - c.count : mino.count;
      }
      break;
    }
    case kind::ratio: {
      if (type == sampling_type::cleaning)
        throw_invalid_argument(function, "sampling_strategy",
                               "a ratio cannot be used by cleaning methods");
      if (classes.size() != 2)
        throw_invalid_argument(function, "sampling_strategy",
                               "a ratio needs a binary problem; y has ", classes.size(),
                               " classes (use per-class counts)");
      const double a = strategy.ratio();
      if (over) {
        // Python: int(n_majority * ratio - n_class), truncation toward zero. The product is
        // rounded on its own (fma with 0), as in Python, so no FMA contraction changes it.
        const double target = std::fma(double(maj.count), a, 0.0);
        for (const auto& c : classes) {
          if (c.label == maj.label) continue;
          const auto n = static_cast<index_t>(std::trunc(target - double(c.count)));
          if (n <= 0)
            throw_invalid_argument(function, "sampling_strategy", "ratio ", a,
                                   " would remove samples from class ", c.label, " (", c.count,
                                   " samples, target ", c.count + n,
                                   "); an over-sampler needs a larger ratio");
          out[c.label] = n;
        }
      } else {
        for (const auto& c : classes) {
          if (c.label == mino.label) continue;
          const auto n = static_cast<index_t>(std::trunc(double(mino.count) / a));
          if (n > c.count)
            throw_invalid_argument(function, "sampling_strategy", "ratio ", a,
                                   " would add samples to class ", c.label, " (", c.count,
                                   " samples, target ", n, "); an under-sampler needs a larger ratio");
          out[c.label] = n;
        }
      }
      break;
    }
    case kind::counts: {
      if (type == sampling_type::cleaning)
        throw_invalid_argument(function, "sampling_strategy",
                               "per-class counts cannot be used by cleaning methods; "
                               "use sampling_strategy::targeting({classes})");
      for (const auto& kv : strategy.counts()) {
        const class_count* c = detail::find_class(classes, kv.first);
        if (c == nullptr)
          throw_invalid_argument(function, "sampling_strategy", "names class ", kv.first,
                                 " which is not present in y");
        if (over) {
          if (kv.second < c->count)
            throw_invalid_argument(function, "sampling_strategy", "asks for ", kv.second,
                                   " samples of class ", kv.first, " which has ", c->count,
                                   "; an over-sampler cannot remove samples");
          out[kv.first] = kv.second - c->count;
        } else {
          if (kv.second > c->count)
            throw_invalid_argument(function, "sampling_strategy", "asks for ", kv.second,
                                   " samples of class ", kv.first, " which has ", c->count,
                                   "; an under-sampler cannot add samples");
          out[kv.first] = kv.second;
        }
      }
      break;
    }
    case kind::classes: {
      if (type != sampling_type::cleaning)
        throw_invalid_argument(function, "sampling_strategy",
                               "a class list is only accepted by cleaning methods");
      for (auto label : strategy.classes()) {
        if (detail::find_class(classes, label) == nullptr)
          throw_invalid_argument(function, "sampling_strategy", "names class ", label,
                                 " which is not present in y");
        out[label] = mino.count;
      }
      break;
    }
    case kind::automatic: break;  // resolved above
  }
  // Sizes derived from the strategy are checked here, before any resampler allocates: the output
  // row count must fit index_t and a synthetic row's bookkeeping (base, neighbour, gap, label:
  // 32 bytes) must fit the allocation limit.
  if (over) {
    index_t rows = 0, synthetic = 0;
    for (const auto& c : classes) rows = detail::checked_add(rows, c.count, function, "y");
    for (const auto& kv : out)
      synthetic = detail::checked_add(synthetic, kv.second, function, "sampling_strategy");
    detail::checked_add(rows, synthetic, function, "sampling_strategy");
    detail::checked_bytes(synthetic, 32, function, "sampling_strategy");
  }
  return out;
}

}  // namespace ladle
