// Definitions for ladle/resampling/nominal.hpp.
#pragma once

#include "ladle/resampling/detail/over_sampling_impl.hpp"
#include "ladle/resampling/nominal.hpp"

#include <algorithm>
#include <utility>

namespace ladle {
namespace detail {

/// Exact k nearest rows of each of n rows under dist(i, j) (double), own index excluded, ties to
/// the smaller index. O(n^2) distance calls, O(n k) memory; parallel over rows.
template <class Policy, class Dist>
tensor<index_t, 2> brute_knn(const Policy& policy, index_t n, index_t k, Dist&& dist) {
  tensor<index_t, 2> out({n, k}, uninitialized);
  parallel_for(policy, n, 64, [&](index_t b, index_t e) {
    std::vector<std::pair<double, index_t>> best;
    best.reserve(std::size_t(k) + 1);
    for (index_t i = b; i < e; ++i) {
      best.clear();
      for (index_t j = 0; j < n; ++j) {
        if (j == i) continue;
        const std::pair<double, index_t> c(dist(i, j), j);
        if (index_t(best.size()) == k && !(c < best.back())) continue;
        best.insert(std::upper_bound(best.begin(), best.end(), c), c);
        if (index_t(best.size()) > k) best.pop_back();
      }
      for (index_t c = 0; c < k; ++c) out(i, c) = best[std::size_t(c)].second;
    }
  });
  return out;
}

inline double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

template <class Policy, class TX, class L>
std::pair<resample_plan<std::remove_const_t<TX>>, std::vector<std::remove_const_t<TX>>>
smote_nc_plan(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
              const smote_nc_options& opts, seed s, const char* fn) {
  using T = std::remove_const_t<TX>;
  check_inputs(fn, X, y);
  require_k(fn, "k", opts.k);
  const index_t d = X.extent(1);
  std::vector<char> is_cat(std::size_t(d), 0);
  for (index_t c : opts.categorical) {
    if (c < 0 || c >= d)
      throw_invalid_argument(fn, "categorical", "index ", c, " is outside [0, ", d, ")");
    if (is_cat[std::size_t(c)])
      throw_invalid_argument(fn, "categorical", "lists column ", c, " twice");
    is_cat[std::size_t(c)] = 1;
  }
  std::vector<index_t> cont, cat;
  for (index_t j = 0; j < d; ++j) (is_cat[std::size_t(j)] ? cat : cont).push_back(j);
  if (cont.empty())
    throw_invalid_argument(fn, "categorical",
                           "covers every column; SMOTE-NC needs a continuous one (use smoten)");
  const auto targets =
      resolve_sampling_strategy(opts.strategy, count_classes(y), sampling_type::over_sampling, fn);
  const auto by_class = rows_by_class(y);
  require_class_sizes(fn, "k", opts.k, targets, by_class);
  resample_plan<T> plan;
  plan.keep_all(X.extent(0));
  std::vector<T> cat_values;  // (synthetic, cat.size()) voted nominal values
  const index_t k = opts.k;
  const auto nc_cat = static_cast<index_t>(cat.size());
  for (const auto& t : targets) {
    if (t.second == 0) continue;
    const auto& rows = by_class.at(t.first);
    const auto n_c = static_cast<index_t>(rows.size());
    std::vector<double> stds;
    for (index_t j : cont) {
      double mean = 0, m2 = 0;
      for (index_t r : rows) mean += double(X(r, j));
      mean /= double(n_c);
      for (index_t r : rows) m2 += detail::mul_rounded(double(X(r, j)) - mean, double(X(r, j)) - mean);
      stds.push_back(std::sqrt(m2 / double(n_c)));
    }
    const double med = median_of(stds);
    const double penalty = med * med;
    const tensor<index_t, 2> nn = brute_knn(policy, n_c, k, [&](index_t a, index_t b) {
      const index_t ra = rows[std::size_t(a)], rb = rows[std::size_t(b)];
      double acc = 0;
      for (index_t j : cont) {
        const double diff = double(X(ra, j)) - double(X(rb, j));
        acc += detail::mul_rounded(diff, diff);
      }
      for (index_t j : cat) acc += X(ra, j) != X(rb, j) ? penalty : 0.0;
      return acc;
    });
    const index_t off = plan.append(t.second, t.first);
    cat_values.resize(std::size_t((off + t.second) * nc_cat));
    parallel_for(policy, t.second, synthetic_grain, [&](index_t b, index_t e) {
      std::vector<std::pair<T, index_t>> votes;
      for (index_t jj = b; jj < e; ++jj) {
        philox g(s, synthetic_stream(stream_smote_nc, t.first, jj));
        const index_t pair = uniform_index(g, n_c * k);
        const index_t r = pair / k, c = pair % k;
        const auto at = std::size_t(off + jj);
        plan.base[at] = rows[std::size_t(r)];
        plan.neighbor[at] = rows[std::size_t(nn(r, c))];
        plan.gap[at] = draw_gap<T>(g);
        for (index_t q = 0; q < nc_cat; ++q) {
          const index_t col = cat[std::size_t(q)];
          votes.clear();
          for (index_t m = 0; m < k; ++m) votes.emplace_back(X(rows[std::size_t(nn(r, m))], col), 0);
          std::sort(votes.begin(), votes.end());
          // Run-length count, then a uniform pick among the most frequent values.
          std::vector<std::pair<T, index_t>> runs;
          for (const auto& v : votes)
            if (runs.empty() || runs.back().first != v.first) runs.emplace_back(v.first, 1);
            else ++runs.back().second;
          index_t top = 0, ties = 0;
          for (const auto& run : runs) top = std::max(top, run.second);
          for (const auto& run : runs) ties += run.second == top;
          index_t pick = ties > 1 ? uniform_index(g, ties) : 0;
          for (const auto& run : runs)
            if (run.second == top && pick-- == 0) {
              cat_values[at * std::size_t(nc_cat) + std::size_t(q)] = run.first;
              break;
            }
        }
      }
    });
  }
  return {std::move(plan), std::move(cat_values)};
}

// Per-column value -> code maps and the per-column VDM tables of SMOTEN.
struct vdm_tables {
  std::vector<std::vector<double>> values;  // per column: sorted distinct values
  std::vector<std::vector<double>> table;   // per column: (m x m) squared L1 distances
};

template <class TX, class L>
vdm_tables build_vdm(matrix_view<TX> X, vector_view<L> y, const std::vector<class_count>& classes) {
  const index_t n = X.extent(0), d = X.extent(1);
  vdm_tables v;
  v.values.resize(std::size_t(d));
  v.table.resize(std::size_t(d));
  const std::size_t nclass = classes.size();
  for (index_t f = 0; f < d; ++f) {
    auto& vals = v.values[std::size_t(f)];
    for (index_t i = 0; i < n; ++i) vals.push_back(double(X(i, f)));
    std::sort(vals.begin(), vals.end());
    vals.erase(std::unique(vals.begin(), vals.end()), vals.end());
    const std::size_t m = vals.size();
    std::vector<double> p(m * nclass, 0.0), tot(m, 0.0);
    for (index_t i = 0; i < n; ++i) {
      const auto a = std::size_t(std::lower_bound(vals.begin(), vals.end(), double(X(i, f))) -
                                 vals.begin());
      std::size_t c = 0;
      while (classes[c].label != static_cast<std::int64_t>(y(i))) ++c;
      p[a * nclass + c] += 1;
      tot[a] += 1;
    }
    for (std::size_t a = 0; a < m; ++a)
      for (std::size_t c = 0; c < nclass; ++c) p[a * nclass + c] /= tot[a];
    auto& tab = v.table[std::size_t(f)];
    tab.assign(m * m, 0.0);
    for (std::size_t a = 0; a < m; ++a)
      for (std::size_t b = 0; b < m; ++b) {
        double l1 = 0;
        for (std::size_t c = 0; c < nclass; ++c)
          l1 += std::abs(p[a * nclass + c] - p[b * nclass + c]);
        tab[a * m + b] = l1 * l1;
      }
  }
  return v;
}

}  // namespace detail

template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> smote_nc(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const smote_nc_options& opts,
    seed s) {
  using T = std::remove_const_t<TX>;
  auto planned = detail::smote_nc_plan(policy, X, y, opts, s, "smote_nc");
  const auto& plan = planned.first;
  const auto& cat_values = planned.second;
  std::vector<index_t> cat = opts.categorical;
  auto result = detail::allocate_result<T, std::remove_const_t<L>>(plan.shape(), X.extent(1),
                                                                   "smote_nc");
  detail::write_plan(policy, X, y, plan, detail::output_of(result), [&](index_t sidx, T* dst) {
    const auto i = std::size_t(sidx);
    detail::interpolate_row(X, plan.base[i], plan.neighbor[i], plan.gap[i], dst);
    for (std::size_t q = 0; q < cat.size(); ++q)
      dst[cat[q]] = cat_values[i * cat.size() + q];
  });
  return result;
}

template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> smoten(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const smoten_options& opts,
    seed s) {
  using T = std::remove_const_t<TX>;
  const char* fn = "smoten";
  detail::check_inputs(fn, X, y);
  detail::require_k(fn, "k", opts.k);
  const auto classes = count_classes(y);
  const auto targets =
      resolve_sampling_strategy(opts.strategy, classes, sampling_type::over_sampling, fn);
  const auto by_class = detail::rows_by_class(y);
  detail::require_class_sizes(fn, "k", opts.k, targets, by_class);
  const index_t d = X.extent(1), k = opts.k;
  const detail::vdm_tables vdm = detail::build_vdm(X, y, classes);
  // Column codes of every row.
  tensor<index_t, 2> code({X.extent(0), d}, uninitialized);
  for (index_t i = 0; i < X.extent(0); ++i)
    for (index_t f = 0; f < d; ++f) {
      const auto& vals = vdm.values[std::size_t(f)];
      code(i, f) = std::lower_bound(vals.begin(), vals.end(), double(X(i, f))) - vals.begin();
    }
  detail::resample_plan<T> plan;
  plan.keep_all(X.extent(0));
  std::vector<std::vector<index_t>> class_nn;  // per target: (n_c, k) flattened, input rows
  for (const auto& t : targets) {
    if (t.second == 0) continue;
    const auto& rows = by_class.at(t.first);
    const auto n_c = static_cast<index_t>(rows.size());
    const tensor<index_t, 2> nn = detail::brute_knn(policy, n_c, k, [&](index_t a, index_t b) {
      const index_t ra = rows[std::size_t(a)], rb = rows[std::size_t(b)];
      double acc = 0;
      for (index_t f = 0; f < d; ++f) {
        const std::size_t m = vdm.values[std::size_t(f)].size();
        acc += vdm.table[std::size_t(f)][std::size_t(code(ra, f)) * m + std::size_t(code(rb, f))];
      }
      return acc;
    });
    const index_t off = plan.append(t.second, t.first);
    std::vector<index_t> flat(std::size_t(n_c * k));
    for (index_t r = 0; r < n_c; ++r)
      for (index_t c = 0; c < k; ++c) flat[std::size_t(r * k + c)] = rows[std::size_t(nn(r, c))];
    parallel_for(policy, t.second, detail::synthetic_grain, [&](index_t b, index_t e) {
      for (index_t j = b; j < e; ++j) {
        philox g(s, detail::synthetic_stream(detail::stream_smoten, t.first, j));
        const index_t r = uniform_index(g, n_c);
        plan.base[std::size_t(off + j)] = rows[std::size_t(r)];
        plan.neighbor[std::size_t(off + j)] = -1;
      }
    });
    class_nn.push_back(std::move(flat));
  }
  // Base row -> its k neighbours (input rows), for the classes that generate.
  std::vector<index_t> nbr_of =
      detail::make_buffer<index_t>(detail::checked_mul(X.extent(0), k, fn, "k"), fn, "k", -1);
  {
    std::size_t ti = 0;
    for (const auto& t : targets) {
      if (t.second == 0) continue;
      const auto& rows = by_class.at(t.first);
      for (std::size_t r = 0; r < rows.size(); ++r)
        for (index_t c = 0; c < k; ++c)
          nbr_of[std::size_t(rows[r]) * std::size_t(k) + std::size_t(c)] =
              class_nn[ti][r * std::size_t(k) + std::size_t(c)];
      ++ti;
    }
  }
  auto result = detail::allocate_result<T, std::remove_const_t<L>>(plan.shape(), d, fn);
  detail::write_plan(policy, X, y, plan, detail::output_of(result), [&](index_t sidx, T* dst) {
    const index_t base = plan.base[std::size_t(sidx)];
    std::vector<T> vals(std::size_t(k) + 1);
    for (index_t f = 0; f < d; ++f) {
      vals[0] = X(base, f);
      for (index_t c = 0; c < k; ++c)
        vals[std::size_t(c) + 1] = X(nbr_of[std::size_t(base) * std::size_t(k) + std::size_t(c)], f);
      std::sort(vals.begin(), vals.end());
      T best = vals[0];
      std::size_t best_n = 0;
      for (std::size_t a = 0; a < vals.size();) {
        std::size_t b = a;
        while (b < vals.size() && vals[b] == vals[a]) ++b;
        if (b - a > best_n) {
          best_n = b - a;
          best = vals[a];
        }
        a = b;
      }
      dst[f] = best;
    }
  });
  return result;
}

}  // namespace ladle
