// Definitions for ladle/resampling/under_sampling.hpp.
#pragma once

#include "ladle/resampling/detail/common.hpp"
#include "ladle/resampling/detail/over_sampling_impl.hpp"
#include "ladle/resampling/under_sampling.hpp"

#include <algorithm>

namespace ladle {
namespace detail {

template <class TX, class L>
std::vector<index_t> random_under_kept(matrix_view<TX> X, vector_view<L> y,
                                       const random_under_options& opts, seed s, const char* fn) {
  check_inputs(fn, X, y);
  const auto targets =
      resolve_sampling_strategy(opts.strategy, count_classes(y), sampling_type::under_sampling, fn);
  std::vector<index_t> kept;
  for (const auto& c : rows_by_class(y)) {
    const auto it = targets.find(c.first);
    if (it == targets.end()) {
      kept.insert(kept.end(), c.second.begin(), c.second.end());
      continue;
    }
    philox g(s, derive_stream(stream_random_under, static_cast<std::uint64_t>(c.first)));
    const auto n_c = static_cast<index_t>(c.second.size());
    if (opts.replacement) {
      for (index_t j = 0; j < it->second; ++j)
        kept.push_back(c.second[std::size_t(uniform_index(g, n_c))]);
    } else {  // the first t steps of a Fisher-Yates shuffle
      std::vector<index_t> pool = c.second;
      for (index_t j = 0; j < it->second; ++j) {
        const index_t r = j + uniform_index(g, n_c - j);
        std::swap(pool[std::size_t(j)], pool[std::size_t(r)]);
        kept.push_back(pool[std::size_t(j)]);
      }
    }
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

template <class L>
std::vector<bool> targeted_rows(vector_view<L> y, const std::map<std::int64_t, index_t>& targets) {
  std::vector<bool> out(std::size_t(y.extent(0)));
  for (index_t i = 0; i < y.extent(0); ++i)
    out[std::size_t(i)] = targets.count(static_cast<std::int64_t>(y(i))) != 0;
  return out;
}

template <class Policy, class T, class L>
std::vector<bool> tomek_mask(const Policy& policy, matrix_view<const T> Xa, vector_view<L> y,
                             const char* fn) {
  const index_t n = Xa.extent(0);
  const tensor<index_t, 2> nn = self_knn(policy, Xa, index_t(1), fn);
  std::vector<bool> link(std::size_t(n), false);
  for (index_t i = 0; i < n; ++i) {
    const index_t j = nn(i, 0);
    link[std::size_t(i)] = y(j) != y(i) && nn(j, 0) == i;
  }
  return link;
}

// Rows kept by Tomek links / ENN over a compact X.
template <class Policy, class T, class L>
std::vector<index_t> tomek_kept(const Policy& policy, matrix_view<const T> Xa, vector_view<L> y,
                                const std::map<std::int64_t, index_t>& targets, const char* fn) {
  const auto link = tomek_mask(policy, Xa, y, fn);
  const auto targeted = targeted_rows(y, targets);
  std::vector<index_t> kept;
  for (index_t i = 0; i < Xa.extent(0); ++i)
    if (!(link[std::size_t(i)] && targeted[std::size_t(i)])) kept.push_back(i);
  return kept;
}

template <class Policy, class T, class L>
std::vector<index_t> enn_kept(const Policy& policy, matrix_view<const T> Xa, vector_view<L> y,
                              const std::map<std::int64_t, index_t>& targets, index_t k,
                              enn_kind kind, const char* fn) {
  const index_t n = Xa.extent(0);
  const auto targeted = targeted_rows(y, targets);
  std::vector<index_t> queries;
  for (index_t i = 0; i < n; ++i)
    if (targeted[std::size_t(i)]) queries.push_back(i);
  const tensor<index_t, 2> nn = knn_of_rows(policy, Xa, queries, k, fn);
  std::vector<bool> remove(std::size_t(n), false);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(k));
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const index_t i = queries[q];
    const auto own = static_cast<std::int64_t>(y(i));
    for (index_t c = 0; c < k; ++c)
      labels[std::size_t(c)] = static_cast<std::int64_t>(y(nn(index_t(q), c)));
    if (kind == enn_kind::all) {
      remove[std::size_t(i)] =
          std::any_of(labels.begin(), labels.end(), [&](std::int64_t l) { return l != own; });
    } else {  // scipy.stats.mode: the most frequent label, ties to the smallest
      std::sort(labels.begin(), labels.end());
      std::int64_t best = labels[0];
      index_t best_n = 0;
      for (std::size_t a = 0; a < labels.size();) {
        std::size_t b = a;
        while (b < labels.size() && labels[b] == labels[a]) ++b;
        if (index_t(b - a) > best_n) {
          best_n = index_t(b - a);
          best = labels[a];
        }
        a = b;
      }
      remove[std::size_t(i)] = best != own;
    }
  }
  std::vector<index_t> kept;
  for (index_t i = 0; i < n; ++i)
    if (!remove[std::size_t(i)]) kept.push_back(i);
  return kept;
}

template <class T>
resample_plan<T> kept_plan(std::vector<index_t> kept) {
  resample_plan<T> p;
  p.kept = std::move(kept);
  return p;
}

// Cleaners' _into: out has X's row count; only the first `kept` rows are written.
template <class Policy, class TX, class L, class T, class LO>
resample_shape write_cleaned_into(const char* fn, const Policy& policy, matrix_view<TX> X,
                                  vector_view<L> y, const std::vector<index_t>& kept,
                                  const resample_output<T, LO>& out) {
  const resample_shape sh{static_cast<index_t>(kept.size()), 0};
  resample_output<T, LO> head = out;
  head.X = out.X.slice(0, sh.kept);
  head.y = out.y.slice(0, sh.kept);
  if (out.sample_indices.extent(0) != 0) head.sample_indices = out.sample_indices.slice(0, sh.kept);
  write_interpolated(policy, X, y, kept_plan<T>(kept), head);
  (void)fn;
  return sh;
}

template <class TX, class L, class T, class LO>
void check_cleaner_output(const char* fn, matrix_view<TX> X, vector_view<L> y,
                          const resample_output<T, LO>& out) {
  static_assert(std::is_same<std::remove_const_t<TX>, T>::value,
                "ladle: output features must have the input's type");
  require_host(out.X, fn, "out.X");
  require_host(out.y, fn, "out.y");
  const index_t n = X.extent(0);
  if (out.X.extent(0) != n || out.X.extent(1) != X.extent(1))
    throw_invalid_argument(fn, "out.X", "has shape (", out.X.extent(0), ", ", out.X.extent(1),
                           ") but (", n, ", ", X.extent(1), ") is needed");
  if (out.y.extent(0) != n)
    throw_invalid_argument(fn, "out.y", "has ", out.y.extent(0), " entries but ", n,
                           " are needed");
  if (out.sample_indices.extent(0) != 0 && out.sample_indices.extent(0) != n)
    throw_invalid_argument(fn, "out.sample_indices", "has ", out.sample_indices.extent(0),
                           " entries but ", n, " (or 0) are needed");
  check_output_against(fn, X, y, out);
}

// SMOTE then a cleaner over the SMOTE output; the cleaner maps SMOTE-output rows to kept rows.
template <class Policy, class TX, class L, class Clean>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> smote_then_clean(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const smote_options& opts, seed s,
    const char* fn, Clean&& clean) {
  using T = std::remove_const_t<TX>;
  using LL = std::remove_const_t<L>;
  const auto plan = smote_plan(policy, X, y, opts, s, fn);
  auto mid = allocate_result<T, LL>(plan.shape(), X.extent(1), fn);
  write_interpolated(policy, X, y, plan, output_of(mid));
  const std::vector<index_t> kept = clean(mid.X.cview(), mid.y.cview());
  const index_t n = X.extent(0);
  resample_plan<T> out_plan;
  for (index_t r : kept) {
    if (r < n) {
      out_plan.kept.push_back(r);
    } else {
      const auto sidx = std::size_t(r - n);
      out_plan.base.push_back(plan.base[sidx]);
      out_plan.neighbor.push_back(plan.neighbor[sidx]);
      out_plan.gap.push_back(plan.gap[sidx]);
      out_plan.label.push_back(plan.label[sidx]);
    }
  }
  auto result = allocate_result<T, LL>(out_plan.shape(), X.extent(1), fn);
  auto out = output_of(result);
  // Rows are copied from the SMOTE output so they are bit-identical to it.
  const index_t d = X.extent(1);
  index_t w = 0;
  for (index_t r : kept) {
    for (index_t j = 0; j < d; ++j) out.X(w, j) = mid.X(r, j);
    out.y(w) = mid.y(r);
    ++w;
  }
  for (std::size_t i = 0; i < out_plan.kept.size(); ++i) out.sample_indices(index_t(i)) = out_plan.kept[i];
  for (std::size_t i = 0; i < out_plan.base.size(); ++i) {
    out.base(index_t(i)) = out_plan.base[i];
    out.neighbor(index_t(i)) = out_plan.neighbor[i];
    out.gap(index_t(i)) = out_plan.gap[i];
  }
  return result;
}

}  // namespace detail

template <class L>
resample_shape resampled_size(vector_view<L> y, const random_under_options& opts) {
  const char* fn = "random_under_sample";
  const auto classes = count_classes(y);
  const auto targets =
      resolve_sampling_strategy(opts.strategy, classes, sampling_type::under_sampling, fn);
  resample_shape sh{0, 0};
  for (const auto& c : classes) {
    const auto it = targets.find(c.label);
    sh.kept += it == targets.end() ? c.count : it->second;
  }
  return sh;
}

template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> random_under_sample(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const random_under_options& opts,
    seed s) {
  using T = std::remove_const_t<TX>;
  const auto plan =
      detail::kept_plan<T>(detail::random_under_kept(X, y, opts, s, "random_under_sample"));
  return detail::run_owning<T, std::remove_const_t<L>>(
      policy, X, y, plan, [](auto&&... a) { detail::write_interpolated(a...); },
      "random_under_sample");
}

template <class Policy, class TX, class L, class T, class LO>
resample_shape random_under_sample_into(const Policy& policy, matrix_view<TX> X,
                                        vector_view<L> y, const resample_output<T, LO>& out,
                                        const random_under_options& opts, seed s) {
  static_assert(std::is_same<std::remove_const_t<TX>, T>::value,
                "ladle::random_under_sample_into: output features must have the input's type");
  const char* fn = "random_under_sample_into";
  const resample_shape sh = resampled_size(y, opts);
  detail::check_output(fn, out, sh, X.extent(1));
  detail::check_output_against(fn, X, y, out);
  const auto plan = detail::kept_plan<T>(detail::random_under_kept(X, y, opts, s, fn));
  detail::write_interpolated(policy, X, y, plan, out);
  return sh;
}

namespace detail {
template <class Policy, class TX, class L>
std::vector<bool> tomek_mask_checked(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                                     const char* fn) {
  using T = std::remove_const_t<TX>;
  check_inputs(fn, X, y);
  if (X.extent(0) < 2) throw_invalid_argument(fn, "X", "needs at least 2 rows, got ", X.extent(0));
  tensor<T, 2> storage;
  return tomek_mask(policy, compact(X, storage), y, fn);
}
}  // namespace detail

template <class Policy, class TX, class L>
std::vector<std::uint8_t> tomek_link_mask(const Policy& policy, matrix_view<TX> X,
                                          vector_view<L> y) {
  const std::vector<bool> m = detail::tomek_mask_checked(policy, X, y, "tomek_link_mask");
  return std::vector<std::uint8_t>(m.begin(), m.end());
}

template <class Policy, class TX, class L>
std::vector<index_t> tomek_link_rows(const Policy& policy, matrix_view<TX> X, vector_view<L> y) {
  const std::vector<bool> m = detail::tomek_mask_checked(policy, X, y, "tomek_link_rows");
  std::vector<index_t> rows;
  for (std::size_t i = 0; i < m.size(); ++i)
    if (m[i]) rows.push_back(static_cast<index_t>(i));
  return rows;
}

namespace detail {
template <class Policy, class TX, class L>
std::vector<index_t> tomek_kept_checked(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                                        const tomek_options& opts, const char* fn) {
  using T = std::remove_const_t<TX>;
  check_inputs(fn, X, y);
  const auto targets =
      resolve_sampling_strategy(opts.strategy, count_classes(y), sampling_type::cleaning, fn);
  tensor<T, 2> storage;
  return tomek_kept(policy, compact(X, storage), y, targets, fn);
}

template <class Policy, class TX, class L>
std::vector<index_t> enn_kept_checked(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                                      const enn_options& opts, const char* fn) {
  using T = std::remove_const_t<TX>;
  check_inputs(fn, X, y);
  require_k(fn, "k", opts.k);
  if (opts.k >= X.extent(0))
    throw_invalid_argument(fn, "k", "must be < the number of samples ", X.extent(0), ", got ",
                           opts.k);
  const auto targets =
      resolve_sampling_strategy(opts.strategy, count_classes(y), sampling_type::cleaning, fn);
  tensor<T, 2> storage;
  return enn_kept(policy, compact(X, storage), y, targets, opts.k, opts.kind, fn);
}
}  // namespace detail

template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> tomek_links(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const tomek_options& opts) {
  using T = std::remove_const_t<TX>;
  const auto plan =
      detail::kept_plan<T>(detail::tomek_kept_checked(policy, X, y, opts, "tomek_links"));
  return detail::run_owning<T, std::remove_const_t<L>>(
      policy, X, y, plan, [](auto&&... a) { detail::write_interpolated(a...); }, "tomek_links");
}

template <class Policy, class TX, class L, class T, class LO>
resample_shape tomek_links_into(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                                const resample_output<T, LO>& out, const tomek_options& opts) {
  const char* fn = "tomek_links_into";
  detail::check_cleaner_output(fn, X, y, out);
  const auto kept = detail::tomek_kept_checked(policy, X, y, opts, fn);
  return detail::write_cleaned_into(fn, policy, X, y, kept, out);
}

template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> edited_nearest_neighbours(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const enn_options& opts) {
  using T = std::remove_const_t<TX>;
  const auto plan = detail::kept_plan<T>(
      detail::enn_kept_checked(policy, X, y, opts, "edited_nearest_neighbours"));
  return detail::run_owning<T, std::remove_const_t<L>>(
      policy, X, y, plan, [](auto&&... a) { detail::write_interpolated(a...); },
      "edited_nearest_neighbours");
}

template <class Policy, class TX, class L, class T, class LO>
resample_shape edited_nearest_neighbours_into(const Policy& policy, matrix_view<TX> X,
                                              vector_view<L> y, const resample_output<T, LO>& out,
                                              const enn_options& opts) {
  const char* fn = "edited_nearest_neighbours_into";
  detail::check_cleaner_output(fn, X, y, out);
  const auto kept = detail::enn_kept_checked(policy, X, y, opts, fn);
  return detail::write_cleaned_into(fn, policy, X, y, kept, out);
}

template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> smote_tomek(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const smote_options& opts,
    seed s) {
  using T = std::remove_const_t<TX>;
  const char* fn = "smote_tomek";
  return detail::smote_then_clean(policy, X, y, opts, s, fn, [&](auto Xm, auto ym) {
    const auto targets = resolve_sampling_strategy(sampling_strategy("all"), count_classes(ym),
                                                   sampling_type::cleaning, fn);
    return detail::tomek_kept<Policy, T>(policy, Xm, ym, targets, fn);
  });
}

template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> smote_enn(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const smote_enn_options& opts,
    seed s) {
  using T = std::remove_const_t<TX>;
  const char* fn = "smote_enn";
  detail::require_k(fn, "enn_k", opts.enn_k);
  // enn_k is checked against the SMOTE output's size before that output is allocated.
  detail::check_inputs(fn, X, y);
  const resample_shape mid = detail::over_sampled_shape(y, opts.smote.strategy, fn);
  if (opts.enn_k >= mid.rows())
    throw_invalid_argument(fn, "enn_k", "must be < the number of samples after SMOTE ", mid.rows(),
                           ", got ", opts.enn_k);
  return detail::smote_then_clean(policy, X, y, opts.smote, s, fn, [&](auto Xm, auto ym) {
    if (opts.enn_k >= Xm.extent(0))
      throw_invalid_argument(fn, "enn_k", "must be < the number of samples ", Xm.extent(0),
                             ", got ", opts.enn_k);
    const auto targets = resolve_sampling_strategy(sampling_strategy("all"), count_classes(ym),
                                                   sampling_type::cleaning, fn);
#if defined(__GNUC__)
#  pragma GCC diagnostic push
#  pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
    const enn_kind rule = opts.enn_kind != enn_kind::all ? opts.enn_kind : opts.enn_kind_sel;
#if defined(__GNUC__)
#  pragma GCC diagnostic pop
#endif
    return detail::enn_kept<Policy, T>(policy, Xm, ym, targets, opts.enn_k, rule, fn);
  });
}

}  // namespace ladle
