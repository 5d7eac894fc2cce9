// Definitions for ladle/selection/scores.hpp.
#pragma once

#include "ladle/selection/detail/common.hpp"
#include "ladle/selection/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ladle {
namespace detail {

enum : std::uint64_t { stream_ccs = 0x434353ull };  // "CCS"

template <class T>
void check_float_matrix(matrix_view<T> m, const char* fn, const char* arg, bool unit_interval) {
  using value_t = std::remove_const_t<T>;
  static_assert(std::is_same<value_t, float>::value || std::is_same<value_t, double>::value,
                "ladle selection: scores take float or double matrices");
  require_host(m, fn, arg);
  require_nonempty(m, fn, arg);
  for (index_t i = 0; i < m.extent(0); ++i)
    for (index_t j = 0; j < m.extent(1); ++j) {
      const value_t v = m(i, j);
      if (!std::isfinite(v))
        throw_domain_error(fn, arg, "has a non-finite value (", v, ") at row ", i, ", column ", j);
      if (unit_interval && !(v >= 0 && v <= 1))
        throw_domain_error(fn, arg, "has ", v, " at row ", i, ", column ", j,
                           "; probabilities must be in [0, 1]");
    }
}

template <class L>
void check_class_labels(vector_view<L> y, index_t n, index_t classes, const char* fn) {
  check_label_type<L>();
  require_host(y, fn, "labels");
  if (y.extent(0) != n)
    throw_invalid_argument(fn, "labels", "has ", y.extent(0), " entries but there are ", n,
                           " rows");
  for (index_t i = 0; i < n; ++i)
    if (y(i) < 0 || y(i) >= classes)
      throw_invalid_argument(fn, "labels", "has ", y(i), " at index ", i, ", outside [0, ",
                             classes, ")");
}

/// Row i of probabilities (or of softmax(logits)) into p (double).
template <class T>
void row_probabilities(matrix_view<T> m, index_t i, bool logits, std::vector<double>& p) {
  const index_t C = m.extent(1);
  p.resize(static_cast<std::size_t>(C));
  if (!logits) {
    for (index_t j = 0; j < C; ++j) p[std::size_t(j)] = static_cast<double>(m(i, j));
    return;
  }
  double top = -INFINITY;
  for (index_t j = 0; j < C; ++j) top = std::max(top, static_cast<double>(m(i, j)));
  double sum = 0;
  for (index_t j = 0; j < C; ++j) sum += p[std::size_t(j)] = std::exp(static_cast<double>(m(i, j)) - top);
  for (auto& v : p) v /= sum;
}

/// ||p - e_y||_2.
inline double error_norm(const std::vector<double>& p, index_t y) {
  double s = 0;
  for (std::size_t j = 0; j < p.size(); ++j) {
    const double d = p[j] - (index_t(j) == y ? 1.0 : 0.0);
    s += d * d;
  }
  return std::sqrt(s);
}

template <class T, class L>
std::vector<double> el2n_impl(matrix_view<T> m, vector_view<L> y, bool logits, const char* fn) {
  check_float_matrix(m, fn, logits ? "logits" : "probabilities", !logits);
  check_class_labels(y, m.extent(0), m.extent(1), fn);
  std::vector<double> out(static_cast<std::size_t>(m.extent(0))), p;
  for (index_t i = 0; i < m.extent(0); ++i) {
    row_probabilities(m, i, logits, p);
    out[std::size_t(i)] = error_norm(p, static_cast<index_t>(y(i)));
  }
  return out;
}

/// Order of indices by (-score, index): hardest first, ties to the smaller index.
template <class T>
std::vector<index_t> hardness_order(vector_view<T> s, const std::vector<index_t>& members) {
  std::vector<index_t> order(members);
  std::sort(order.begin(), order.end(), [&](index_t a, index_t b) {
    const double sa = static_cast<double>(s(a)), sb = static_cast<double>(s(b));
    return sa > sb || (sa == sb && a < b);
  });
  return order;
}

/// Selects `keep` of `members` (ascending indices) under opts; appends to out.
template <class T>
void prune_group(vector_view<T> s, const std::vector<index_t>& members, index_t keep,
                 const prune_options& opts, philox& g, std::vector<index_t>& out,
                 const char* fn) {
  const index_t n = static_cast<index_t>(members.size());
  switch (opts.mode) {
    case prune_mode::hardest:
    case prune_mode::band: {
      const index_t skip = opts.mode == prune_mode::band ? opts.offset : 0;
      if (skip + keep > n)
        throw_invalid_argument(fn, "offset", "is ", skip, "; with keep = ", keep,
                               " it passes the ", n, " samples available");
      const auto order = hardness_order(s, members);
      out.insert(out.end(), order.begin() + std::ptrdiff_t(skip),
                 order.begin() + std::ptrdiff_t(skip + keep));
      return;
    }
    case prune_mode::easiest: {
      auto order = hardness_order(s, members);
      // Easiest first with ties to the smaller index: a stable sort by increasing score.
      std::stable_sort(order.begin(), order.end(), [&](index_t a, index_t b) {
        return static_cast<double>(s(a)) < static_cast<double>(s(b)) ||
               (static_cast<double>(s(a)) == static_cast<double>(s(b)) && a < b);
      });
      out.insert(out.end(), order.begin(), order.begin() + std::ptrdiff_t(keep));
      return;
    }
    case prune_mode::ccs: {
      const auto order = hardness_order(s, members);
      const auto cut = static_cast<index_t>(std::floor(opts.hard_cutoff * static_cast<double>(n)));
      std::vector<index_t> rest(order.begin() + std::ptrdiff_t(cut), order.end());
      if (keep > static_cast<index_t>(rest.size()))
        throw_invalid_argument(fn, "keep", "is ", keep, " but only ", rest.size(),
                               " samples remain after the hard cutoff");
      if (keep == 0) return;
      std::sort(rest.begin(), rest.end());
      double lo = INFINITY, hi = -INFINITY;
      for (auto i : rest) {
        lo = std::min(lo, static_cast<double>(s(i)));
        hi = std::max(hi, static_cast<double>(s(i)));
      }
      const index_t B = opts.strata;
      const double width = (hi - lo) / static_cast<double>(B);
      std::vector<std::vector<index_t>> bins(static_cast<std::size_t>(B));
      for (auto i : rest) {
        index_t b = width > 0 ? static_cast<index_t>(std::floor((static_cast<double>(s(i)) - lo) / width)) : 0;
        bins[std::size_t(std::min(b, B - 1))].push_back(i);
      }
      std::vector<index_t> by_size(static_cast<std::size_t>(B));
      std::iota(by_size.begin(), by_size.end(), index_t(0));
      std::stable_sort(by_size.begin(), by_size.end(), [&](index_t a, index_t b) {
        return bins[std::size_t(a)].size() < bins[std::size_t(b)].size();
      });
      std::vector<index_t> budget(static_cast<std::size_t>(B), 0);
      index_t left = keep;
      for (index_t r = 0; r < B; ++r) {
        const auto b = std::size_t(by_size[std::size_t(r)]);
        budget[b] = std::min(static_cast<index_t>(bins[b].size()), left / (B - r));
        left -= budget[b];
      }
      std::vector<index_t> pick;
      for (index_t b = 0; b < B; ++b) {
        const auto& bin = bins[std::size_t(b)];
        pick.resize(static_cast<std::size_t>(budget[std::size_t(b)]));
        floyd_sorted(static_cast<index_t>(bin.size()), budget[std::size_t(b)], g, pick.data());
        for (auto j : pick) out.push_back(bin[std::size_t(j)]);
      }
      return;
    }
  }
}

template <class T>
void check_prune(vector_view<T> scores, const prune_options& opts, const char* fn) {
  using value_t = std::remove_const_t<T>;
  static_assert(std::is_same<value_t, float>::value || std::is_same<value_t, double>::value,
                "ladle::prune: scores must be float or double");
  require_host(scores, fn, "scores");
  require_nonempty(scores, fn, "scores");
  require_finite(scores, fn, "scores");
  if (opts.offset < 0) throw_invalid_argument(fn, "offset", "must not be negative, got ", opts.offset);
  if (!(opts.hard_cutoff >= 0 && opts.hard_cutoff < 1))
    throw_invalid_argument(fn, "hard_cutoff", "must be in [0, 1), got ", opts.hard_cutoff);
  if (opts.strata < 1) throw_invalid_argument(fn, "strata", "must be positive, got ", opts.strata);
}

}  // namespace detail

template <class T, class L>
std::vector<double> el2n_scores(matrix_view<T> probabilities, vector_view<L> labels) {
  return detail::el2n_impl(probabilities, labels, false, "el2n_scores");
}

template <class T, class L>
std::vector<double> el2n_scores_from_logits(matrix_view<T> logits, vector_view<L> labels) {
  return detail::el2n_impl(logits, labels, true, "el2n_scores_from_logits");
}

template <class T, class L, class U>
std::vector<double> grand_last_layer_scores(matrix_view<T> logits, vector_view<L> labels,
                                            matrix_view<U> features, bool bias) {
  constexpr const char* fn = "grand_last_layer_scores";
  detail::check_float_matrix(features, fn, "features", false);
  if (features.extent(0) != logits.extent(0))
    throw_invalid_argument(fn, "features", "has ", features.extent(0), " rows but logits has ",
                           logits.extent(0));
  auto out = detail::el2n_impl(logits, labels, true, fn);
  for (index_t i = 0; i < features.extent(0); ++i) {
    double h2 = bias ? 1.0 : 0.0;
    for (index_t j = 0; j < features.extent(1); ++j) {
      const double v = static_cast<double>(features(i, j));
      h2 += v * v;
    }
    out[std::size_t(i)] *= std::sqrt(h2);
  }
  return out;
}

template <class T>
std::vector<double> mean_over_runs(matrix_view<T> scores) {
  detail::check_float_matrix(scores, "mean_over_runs", "scores", false);
  std::vector<double> out(static_cast<std::size_t>(scores.extent(1)), 0.0);
  for (index_t r = 0; r < scores.extent(0); ++r)
    for (index_t i = 0; i < scores.extent(1); ++i) out[std::size_t(i)] += static_cast<double>(scores(r, i));
  for (auto& v : out) v /= static_cast<double>(scores.extent(0));
  return out;
}

template <class T>
std::vector<double> uncertainty_scores(matrix_view<T> probabilities, uncertainty kind) {
  detail::check_float_matrix(probabilities, "uncertainty_scores", "probabilities", true);
  const index_t n = probabilities.extent(0), C = probabilities.extent(1);
  std::vector<double> out(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) {
    double first = -1, second = 0, entropy = 0;
    for (index_t j = 0; j < C; ++j) {
      const double p = static_cast<double>(probabilities(i, j));
      if (p > first) {
        second = std::max(first, 0.0);
        first = p;
      } else if (p > second) {
        second = p;
      }
      if (p > 0) entropy -= p * std::log(p);
    }
    double& o = out[std::size_t(i)];
    switch (kind) {
      case uncertainty::least_confidence: o = 1.0 - first; break;
      case uncertainty::margin: o = 1.0 - (first - second); break;
      case uncertainty::entropy: o = entropy; break;
    }
  }
  return out;
}

inline forgetting_tracker::forgetting_tracker(index_t n) {
  if (n < 0) throw_invalid_argument("forgetting_tracker", "n", "must not be negative, got ", n);
  events_.assign(static_cast<std::size_t>(n), 0);
  previous_.assign(static_cast<std::size_t>(n), false);
  ever_.assign(static_cast<std::size_t>(n), false);
}

template <class B>
void forgetting_tracker::update(vector_view<B> correct) {
  detail::require_host(correct, "forgetting_tracker::update", "correct");
  detail::require_extent(correct.extent(0), size(), "forgetting_tracker::update", "correct",
                         "length");
  for (index_t i = 0; i < size(); ++i) {
    const bool now = correct(i) != B(0);
    const auto k = std::size_t(i);
    if (previous_[k] && !now) ++events_[k];
    previous_[k] = now;
    if (now) ever_[k] = true;
  }
  ++epochs_;
}

inline std::vector<double> forgetting_tracker::scores() const {
  std::vector<double> out(events_.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = ever_[i] ? static_cast<double>(events_[i]) : static_cast<double>(epochs_);
  return out;
}

template <class T>
std::vector<index_t> prune(vector_view<T> scores, index_t keep, const prune_options& opts,
                           seed s) {
  constexpr const char* fn = "prune";
  detail::check_prune(scores, opts, fn);
  detail::require_count(keep, scores.extent(0), fn, "keep", "samples");
  std::vector<index_t> members(static_cast<std::size_t>(scores.extent(0)));
  std::iota(members.begin(), members.end(), index_t(0));
  std::vector<index_t> out;
  philox g(s, derive_stream(detail::stream_ccs, 0));
  detail::prune_group(scores, members, keep, opts, g, out, fn);
  std::sort(out.begin(), out.end());
  return out;
}

template <class T, class L>
std::vector<index_t> prune(vector_view<T> scores, vector_view<L> labels, index_t keep,
                           const prune_options& opts, seed s) {
  constexpr const char* fn = "prune";
  detail::check_prune(scores, opts, fn);
  detail::check_label_type<L>();
  detail::require_host(labels, fn, "labels");
  if (labels.extent(0) != scores.extent(0))
    throw_invalid_argument(fn, "labels", "has ", labels.extent(0), " entries but scores has ",
                           scores.extent(0));
  detail::require_count(keep, scores.extent(0), fn, "keep", "samples");
  const auto cs = census(labels);
  const auto quotas = stratified_quotas(cs.counts, keep, stratify::proportional);
  std::vector<std::vector<index_t>> members(cs.labels.size());
  for (index_t i = 0; i < labels.extent(0); ++i) {
    const auto c = static_cast<std::size_t>(
        std::lower_bound(cs.labels.begin(), cs.labels.end(), labels(i)) - cs.labels.begin());
    members[c].push_back(i);
  }
  std::vector<index_t> out;
  for (std::size_t c = 0; c < members.size(); ++c) {
    philox g(s, derive_stream(detail::stream_ccs, derive_stream(1, static_cast<std::uint64_t>(cs.labels[c]))));
    detail::prune_group(scores, members[c], quotas[c], opts, g, out, fn);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ladle
