// Definitions for ladle/weighting/advantages.hpp.
#pragma once

#include "ladle/weighting/class_weights.hpp"
#include "ladle/weighting/detail/common.hpp"

#include <cmath>
#include <vector>

namespace ladle {

template <class Policy, class R, class G, class T>
void group_advantages_into(const Policy& policy, vector_view<R> rewards, vector_view<G> groups,
                           vector_view<T> out, const advantage_options& o) {
  const char* fn = "group_advantages_into";
  detail::require_float_input<R>(fn);
  detail::require_writable_float<T>(fn);
  detail::require_host(rewards, fn, "rewards");
  detail::require_host(groups, fn, "groups");
  detail::require_host(out, fn, "out");
  detail::require_nonempty(rewards, fn, "rewards");
  const index_t n = rewards.extent(0);
  detail::require_extent(groups.extent(0), n, fn, "groups", "length");
  detail::require_extent(out.extent(0), n, fn, "out", "length");
  detail::require_disjoint(out, "out", rewards, "rewards", fn);
  detail::require_disjoint(out, "out", groups, "groups", fn);
  if (!(o.epsilon >= 0) || !std::isfinite(o.epsilon))
    throw_domain_error(fn, "epsilon", "must be finite and >= 0, got ", o.epsilon);
  if (!(o.clip > 0)) throw_domain_error(fn, "clip", "must be > 0, got ", o.clip);
  if (!(o.rescale_max >= 0) || !std::isfinite(o.rescale_max) ||
      (o.rescale_max > 0 && !std::isfinite(o.clip)))
    throw_domain_error(fn, "rescale_max", "must be finite, >= 0 and used with a finite clip, got ",
                       o.rescale_max);
  detail::require_finite(rewards, fn, "rewards");

  const auto keys = detail::count_labels<sequential_policy, G, const float>(seq, groups, nullptr, fn);
  const detail::label_index index(keys.labels, n);
  const std::size_t ng = keys.labels.size();
  std::vector<index_t> gid(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i)
    gid[static_cast<std::size_t>(i)] = index.find(static_cast<std::int64_t>(groups(i)));
  // Mean as first + sum(x - first) / n_g: exact for constant groups.
  std::vector<double> first(ng, 0), shift_sum(ng, 0), mean(ng), sq(ng, 0), denom(ng);
  std::vector<char> seen(ng, 0);
  for (index_t i = 0; i < n; ++i) {
    const std::size_t g = static_cast<std::size_t>(gid[static_cast<std::size_t>(i)]);
    const double x = static_cast<double>(rewards(i));
    if (!seen[g]) {
      seen[g] = 1;
      first[g] = x;
    }
    shift_sum[g] += x - first[g];
  }
  for (std::size_t g = 0; g < ng; ++g) mean[g] = first[g] + shift_sum[g] / keys.counts[g];
  for (index_t i = 0; i < n; ++i) {
    const std::size_t g = static_cast<std::size_t>(gid[static_cast<std::size_t>(i)]);
    const double d = static_cast<double>(rewards(i)) - mean[g];
    sq[g] += detail::mul_nocontract(d, d);
  }
  if (o.global_std) {
    double first_all = static_cast<double>(rewards(0)), s = 0;
    for (index_t i = 0; i < n; ++i) s += static_cast<double>(rewards(i)) - first_all;
    const double m = first_all + s / static_cast<double>(n);
    double v = 0;
    for (index_t i = 0; i < n; ++i) {
      const double d = static_cast<double>(rewards(i)) - m;
      v += detail::mul_nocontract(d, d);
    }
    const double sd = std::sqrt(v / static_cast<double>(n)) + o.epsilon;
    for (std::size_t g = 0; g < ng; ++g) denom[g] = sd;
  } else {
    for (std::size_t g = 0; g < ng; ++g) denom[g] = std::sqrt(sq[g] / keys.counts[g]) + o.epsilon;
  }
  const double scale = o.rescale_max > 0 ? o.rescale_max / o.clip : 1.0;
  parallel_for(policy, n, index_t(1) << 15, [&](index_t b, index_t e) {
    for (index_t i = b; i < e; ++i) {
      const std::size_t g = static_cast<std::size_t>(gid[static_cast<std::size_t>(i)]);
      const double diff = static_cast<double>(rewards(i)) - mean[g];
      // A zero difference stays exactly 0 even when the group's std + epsilon is 0.
      double a = diff == 0 ? 0.0 : diff / denom[g];
      a = std::min(std::max(a, -o.clip), o.clip);
      out(i) = static_cast<T>(a * scale);
    }
  });
}

template <class R, class G>
std::vector<std::remove_const_t<R>> group_advantages(vector_view<R> rewards, vector_view<G> groups,
                                                     const advantage_options& opts) {
  std::vector<std::remove_const_t<R>> out(static_cast<std::size_t>(rewards.extent(0)));
  group_advantages_into(seq, rewards, groups, make_view(out.data(), out.size()), opts);
  return out;
}

}  // namespace ladle
