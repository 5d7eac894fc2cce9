// Definitions for ladle/resampling/over_sampling.hpp.
#pragma once

#include "ladle/resampling/detail/common.hpp"
#include "ladle/resampling/over_sampling.hpp"

#include <cmath>

namespace ladle {
namespace detail {

inline void require_k(const char* fn, const char* name, index_t k) {
  if (k < 1) throw_invalid_argument(fn, name, "must be at least 1, got ", k);
}

inline index_t class_size(const std::vector<index_t>& rows) {
  return static_cast<index_t>(rows.size());
}
inline index_t class_size(index_t count) { return count; }

// Every targeted class needs more than k rows (k neighbours besides itself). by_class maps each
// label to its rows or to its count.
template <class ClassRows>
void require_class_sizes(const char* fn, const char* name, index_t k,
                         const std::map<std::int64_t, index_t>& targets,
                         const std::map<std::int64_t, ClassRows>& by_class) {
  // Whatever is generated, k can never reach the number of samples (and sizes buffers later).
  index_t n = 0;
  for (const auto& c : by_class) n += class_size(c.second);
  if (k >= n)
    throw_invalid_argument(fn, name, "must be < the number of samples ", n, ", got ", k);
  for (const auto& t : targets) {
    if (t.second == 0) continue;
    const auto n_c = class_size(by_class.at(t.first));
    if (k >= n_c)
      throw_invalid_argument(fn, name, "must be < the size of class ", t.first, " (", n_c,
                             " samples) to find ", k, " neighbours; got ", k);
  }
}

// Synthetic row j's draw over a bases x k grid, from its own stream: a uniform cell (base r,
// neighbour c), then the gap. SMOTE's sampling, also Borderline's.
template <class T>
struct pair_draw {
  index_t r, c;
  T gap;
};
template <class T>
pair_draw<T> draw_pair(seed s, std::uint64_t purpose, std::int64_t label, index_t j, index_t nb,
                       index_t k) {
  philox g(s, synthetic_stream(purpose, label, j));
  const index_t pair = uniform_index(g, nb * k);
  const T gap = draw_gap<T>(g);
  return {pair / k, pair % k, gap};
}

// draw_pair for every synthetic row of a class, into the plan. nbr(r, c) gives the input row of
// neighbour c of base r; half(n) halves the gap when true.
template <class Policy, class T, class Nbr, class Half>
void sample_pairs(const Policy& policy, resample_plan<T>& plan, index_t offset, index_t count,
                  std::uint64_t purpose, std::int64_t label, seed s,
                  const std::vector<index_t>& bases, index_t k, Nbr&& nbr, Half&& half) {
  const auto nb = static_cast<index_t>(bases.size());
  parallel_for(policy, count, synthetic_grain, [&](index_t b, index_t e) {
    for (index_t j = b; j < e; ++j) {
      const pair_draw<T> dr = draw_pair<T>(s, purpose, label, j, nb, k);
      const index_t r = dr.r;
      const index_t n = nbr(r, dr.c);
      T gap = dr.gap;
      if (half(n)) gap *= T(0.5);
      const auto at = std::size_t(offset + j);
      plan.base[at] = bases[std::size_t(r)];
      plan.neighbor[at] = n;
      plan.gap[at] = gap;
    }
  });
}

template <class Policy, class TX, class L>
resample_plan<std::remove_const_t<TX>> smote_plan(const Policy& policy, matrix_view<TX> X,
                                                  vector_view<L> y, const smote_options& opts,
                                                  seed s, const char* fn) {
  using T = std::remove_const_t<TX>;
  check_inputs(fn, X, y);
  require_k(fn, "k", opts.k);
  const auto targets =
      resolve_sampling_strategy(opts.strategy, count_classes(y), sampling_type::over_sampling, fn);
  const auto by_class = rows_by_class(y);
  require_class_sizes(fn, "k", opts.k, targets, by_class);
  resample_plan<T> plan;
  plan.keep_all(X.extent(0));
  index_t total = 0;
  for (const auto& t : targets) total = checked_add(total, t.second, fn, "sampling_strategy");
  plan.reserve_more(total, fn);
  for (const auto& t : targets) {
    if (t.second == 0) continue;
    const auto& rows = by_class.at(t.first);
    const tensor<T, 2> Xc = gather_rows(X, rows, fn);
    const tensor<index_t, 2> nn = self_knn(policy, Xc.cview(), opts.k, fn, rows.data());
    const index_t off = plan.append(t.second, t.first);
    sample_pairs(
        policy, plan, off, t.second, stream_smote, t.first, s, rows, opts.k,
        [&](index_t r, index_t c) { return rows[std::size_t(nn(r, c))]; },
        [](index_t) { return false; });
  }
  return plan;
}

// ---- SMOTE without a plan -----------------------------------------------------------------------
// smote and smote_into make each synthetic row straight into the output: the draw, the
// interpolation and the audit columns in one pass, with no per-row plan in between. Every
// class's neighbour table is computed first, so an error (the kNN's included) leaves the output
// untouched.

/// One targeted class: its rows and each row's k nearest rows of the class.
struct smote_class {
  std::int64_t label = 0;
  index_t count = 0;          // synthetic rows to make
  std::vector<index_t> rows;  // the class's input rows, ascending
  tensor<index_t, 2> nn;      // (rows, k): neighbours as positions in `rows`
};

template <class Policy, class TX, class L>
std::vector<smote_class> smote_classes(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                                       const smote_options& opts, const char* fn) {
  using T = std::remove_const_t<TX>;
  check_inputs(fn, X, y);
  require_k(fn, "k", opts.k);
  const auto counts = count_classes(y);
  const auto targets =
      resolve_sampling_strategy(opts.strategy, counts, sampling_type::over_sampling, fn);
  std::map<std::int64_t, index_t> sizes;
  for (const auto& c : counts) sizes[c.label] = c.count;
  require_class_sizes(fn, "k", opts.k, targets, sizes);
  index_t total = 0;
  for (const auto& t : targets) total = checked_add(total, t.second, fn, "sampling_strategy");
  std::vector<smote_class> classes;
  std::map<std::int64_t, std::size_t> slot;  // label -> position in `classes`
  for (const auto& t : targets) {
    if (t.second == 0) continue;
    slot[t.first] = classes.size();
    classes.emplace_back();
    classes.back().label = t.first;
    classes.back().count = t.second;
    reserve_buffer(classes.back().rows, sizes.at(t.first), fn, "y");
  }
  // Rows of the targeted classes only, in one pass (labels usually come in runs: look up once
  // per change of label).
  std::vector<index_t>* dst = nullptr;
  std::int64_t last = 0;
  for (index_t i = 0; i < y.extent(0); ++i) {
    const auto label = static_cast<std::int64_t>(y(i));
    if (i == 0 || label != last) {
      const auto it = slot.find(label);
      dst = it == slot.end() ? nullptr : &classes[it->second].rows;
      last = label;
    }
    if (dst != nullptr) dst->push_back(i);
  }
  for (auto& c : classes) {
    const tensor<T, 2> Xc = gather_rows(X, c.rows, fn);
    c.nn = self_knn(policy, Xc.cview(), opts.k, fn, c.rows.data());
  }
  return classes;
}

inline resample_shape smote_shape(index_t n, const std::vector<smote_class>& classes) {
  resample_shape sh{n, 0};
  for (const auto& c : classes) sh.synthetic += c.count;  // bounded by smote_classes
  return sh;
}

/// The output of smote: every input row, then each class's synthetic rows (draw_pair with
/// stream_smote, exactly as sample_pairs draws them for the plan of smote_plan).
template <class Policy, class TX, class L, class T, class LO>
void write_smote(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                 const std::vector<smote_class>& classes, index_t k, seed s,
                 const resample_output<T, LO>& out) {
  write_original_rows(policy, X, y, out);
  const index_t n = X.extent(0), d = X.extent(1);
  index_t first = 0;  // synthetic index of the class's first row
  for (const auto& c : classes) {
    const auto nb = static_cast<index_t>(c.rows.size());
    const auto label = static_cast<std::remove_const_t<LO>>(c.label);
    parallel_for(policy, c.count, synthetic_grain / 8, [&](index_t b, index_t e) {
      // A strided output row is made in a scratch row first.
      std::vector<T> scratch(out.X.stride(1) == 1 ? 0 : std::size_t(d));
      // Draws go a batch ahead of the interpolation, so the rows they pick can be prefetched.
      constexpr index_t batch = 16;
      index_t base[batch], nbr[batch];
      T gap[batch];
      for (index_t j0 = b; j0 < e; j0 += batch) {
        const index_t m = std::min(batch, e - j0);
        for (index_t q = 0; q < m; ++q) {
          const pair_draw<T> dr = draw_pair<T>(s, stream_smote, c.label, j0 + q, nb, k);
          base[q] = c.rows[std::size_t(dr.r)];
          nbr[q] = c.rows[std::size_t(c.nn(dr.r, dr.c))];
          gap[q] = dr.gap;
          prefetch_row(X, base[q]);
          prefetch_row(X, nbr[q]);
        }
        for (index_t q = 0; q < m; ++q) {
          const index_t sidx = first + j0 + q, r = n + sidx;
          if (scratch.empty()) {
            interpolate_row(X, base[q], nbr[q], gap[q], &out.X(r, 0));
          } else {
            interpolate_row(X, base[q], nbr[q], gap[q], scratch.data());
            for (index_t f = 0; f < d; ++f) out.X(r, f) = scratch[std::size_t(f)];
          }
          out.y(r) = label;
          if (out.base.extent(0) != 0) out.base(sidx) = base[q];
          if (out.neighbor.extent(0) != 0) out.neighbor(sidx) = nbr[q];
          if (out.gap.extent(0) != 0) out.gap(sidx) = gap[q];
        }
      }
    });
    first += c.count;
  }
}

template <class T, class L>
std::vector<index_t> other_class_counts(const tensor<index_t, 2>& nn, vector_view<L> y,
                                        std::int64_t label) {
  std::vector<index_t> out(std::size_t(nn.extent(0)), 0);
  for (index_t i = 0; i < nn.extent(0); ++i)
    for (index_t c = 0; c < nn.extent(1); ++c)
      out[std::size_t(i)] += static_cast<std::int64_t>(y(nn(i, c))) != label;
  return out;
}

template <class Policy, class TX, class L>
resample_plan<std::remove_const_t<TX>> borderline_plan(const Policy& policy, matrix_view<TX> X,
                                                       vector_view<L> y,
                                                       const borderline_smote_options& opts,
                                                       seed s, const char* fn) {
  using T = std::remove_const_t<TX>;
  check_inputs(fn, X, y);
  require_k(fn, "k", opts.k);
  require_k(fn, "m", opts.m);
  const index_t n = X.extent(0);
  if (opts.m >= n)
    throw_invalid_argument(fn, "m", "must be < the number of samples ", n, ", got ", opts.m);
  const auto targets =
      resolve_sampling_strategy(opts.strategy, count_classes(y), sampling_type::over_sampling, fn);
  const auto by_class = rows_by_class(y);
  if (opts.kind == borderline_kind::borderline1)
    require_class_sizes(fn, "k", opts.k, targets, by_class);
  else if (opts.k >= n)
    throw_invalid_argument(fn, "k", "must be < the number of samples ", n, ", got ", opts.k);
  tensor<T, 2> storage;
  const matrix_view<const T> Xa = compact(X, storage);
  resample_plan<T> plan;
  plan.keep_all(n);
  for (const auto& t : targets) {
    if (t.second == 0) continue;
    const auto& rows = by_class.at(t.first);
    const auto others = other_class_counts<T>(knn_of_rows(policy, Xa, rows, opts.m, fn), y, t.first);
    std::vector<index_t> danger, danger_local;
    for (std::size_t i = 0; i < rows.size(); ++i)
      if (2 * others[i] >= opts.m && others[i] < opts.m) {
        danger.push_back(rows[i]);
        danger_local.push_back(static_cast<index_t>(i));
      }
    if (danger.empty()) continue;  // imblearn: nothing generated for this class
    const index_t off = plan.append(t.second, t.first);
    if (opts.kind == borderline_kind::borderline1) {
      const tensor<T, 2> Xc = gather_rows(X, rows, fn);
      const tensor<index_t, 2> nn =
          knn_of_rows(policy, Xc.cview(), danger_local, opts.k, fn, rows.data());
      sample_pairs(
          policy, plan, off, t.second, stream_borderline, t.first, s, danger, opts.k,
          [&](index_t r, index_t c) { return rows[std::size_t(nn(r, c))]; },
          [](index_t) { return false; });
    } else {
      const tensor<index_t, 2> nn = knn_of_rows(policy, Xa, danger, opts.k, fn);
      const std::int64_t label = t.first;
      sample_pairs(
          policy, plan, off, t.second, stream_borderline, t.first, s, danger, opts.k,
          [&](index_t r, index_t c) { return nn(r, c); },
          [&](index_t nbr) { return static_cast<std::int64_t>(y(nbr)) != label; });
    }
  }
  return plan;
}

/// rint(g * d / s) with ties to even, exactly, for 0 <= g, 0 <= d <= s, 0 < s < 2^62: the
/// quotient and remainder of g * d by s by binary long multiplication (no 128-bit type needed).
inline index_t round_half_even_ratio(index_t g, index_t d, std::int64_t s) {
  const std::int64_t gq = g / s, gr = g % s;  // g*d/s = gq*d + gr*d/s, gr*d < s*d
  std::int64_t q = 0, r = 0;
  for (int bit = 62; bit >= 0; --bit) {  // (q, r) = divmod(gr * (d >> bit), s), bit by bit
    q <<= 1;
    r <<= 1;
    if (r >= s) { r -= s; ++q; }
    if ((d >> bit) & 1) {
      r += gr;
      if (r >= s) { r -= s; ++q; }
    }
  }
  q += gq * d;
  return q + ((2 * r > s || (2 * r == s && (q & 1))) ? 1 : 0);
}

template <class Policy, class T, class L>
adasyn_allocation adasyn_allocation_impl(const Policy& policy, matrix_view<const T> Xa,
                                         vector_view<L> y, std::int64_t label,
                                         const std::vector<index_t>& rows, index_t n_generate,
                                         index_t k, const char* fn) {
  adasyn_allocation a;
  a.rows = rows;
  a.other_neighbors = other_class_counts<T>(knn_of_rows(policy, Xa, rows, k, fn), y, label);
  // generate_i = rint(G * Delta_i / sum(Delta)), half to even, from integers: imblearn's
  // floating-point Delta_i/k normalised by its sum lands on either side of an exact .5.
  std::int64_t sum = 0;
  for (auto d : a.other_neighbors) sum += d;
  if (sum == 0)
    throw_domain_error(fn, "X", "no sample of class ", label,
                       " has a neighbour of another class, so ADASYN's weights are undefined "
                       "(use SMOTE)");
  a.weight.resize(rows.size());
  a.generate.resize(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    a.weight[i] = double(a.other_neighbors[i]) / double(sum);
    a.generate[i] = round_half_even_ratio(n_generate, a.other_neighbors[i], sum);
  }
  return a;
}

template <class Policy, class TX, class L>
resample_plan<std::remove_const_t<TX>> adasyn_plan(const Policy& policy, matrix_view<TX> X,
                                                   vector_view<L> y, const adasyn_options& opts,
                                                   seed s, const char* fn) {
  using T = std::remove_const_t<TX>;
  check_inputs(fn, X, y);
  require_k(fn, "k", opts.k);
  const auto targets =
      resolve_sampling_strategy(opts.strategy, count_classes(y), sampling_type::over_sampling, fn);
  const auto by_class = rows_by_class(y);
  require_class_sizes(fn, "k", opts.k, targets, by_class);
  tensor<T, 2> storage;
  const matrix_view<const T> Xa = compact(X, storage);
  resample_plan<T> plan;
  plan.keep_all(X.extent(0));
  for (const auto& t : targets) {
    if (t.second == 0) continue;
    const auto& rows = by_class.at(t.first);
    const adasyn_allocation a =
        adasyn_allocation_impl(policy, Xa, y, t.first, rows, t.second, opts.k, fn);
    index_t count = 0;
    for (auto g : a.generate) count += g;
    if (count == 0)
      throw_domain_error(fn, "sampling_strategy", "ADASYN's rounded allocation for class ",
                         t.first, " generates no sample");
    const tensor<T, 2> Xc = gather_rows(X, rows, fn);
    const tensor<index_t, 2> nn = self_knn(policy, Xc.cview(), opts.k, fn, rows.data());
    const index_t off = plan.append(count, t.first);
    // Bases are fixed by the allocation (row i repeated generate_i times), in row order.
    std::vector<index_t> base_local(static_cast<std::size_t>(count));
    for (std::size_t i = 0, w = 0; i < rows.size(); ++i)
      for (index_t r = 0; r < a.generate[i]; ++r) base_local[w++] = static_cast<index_t>(i);
    const index_t k = opts.k;
    parallel_for(policy, count, synthetic_grain, [&](index_t b, index_t e) {
      for (index_t j = b; j < e; ++j) {
        philox g(s, synthetic_stream(stream_adasyn, t.first, j));
        const index_t r = base_local[std::size_t(j)];
        const index_t c = uniform_index(g, k);
        const auto at = std::size_t(off + j);
        plan.base[at] = rows[std::size_t(r)];
        plan.neighbor[at] = rows[std::size_t(nn(r, c))];
        plan.gap[at] = draw_gap<T>(g);
      }
    });
  }
  return plan;
}

template <class Policy, class TX, class L>
resample_plan<std::remove_const_t<TX>> random_over_plan(const Policy& policy, matrix_view<TX> X,
                                                        vector_view<L> y,
                                                        const random_over_options& opts, seed s,
                                                        const char* fn) {
  using T = std::remove_const_t<TX>;
  check_inputs(fn, X, y);
  if (opts.shrinkage && !(*opts.shrinkage >= 0.0 && std::isfinite(*opts.shrinkage)))
    throw_invalid_argument(fn, "shrinkage", "must be finite and >= 0, got ", *opts.shrinkage);
  const auto targets =
      resolve_sampling_strategy(opts.strategy, count_classes(y), sampling_type::over_sampling, fn);
  const auto by_class = rows_by_class(y);
  resample_plan<T> plan;
  plan.keep_all(X.extent(0));
  for (const auto& t : targets) {
    if (t.second == 0) continue;
    const auto& rows = by_class.at(t.first);
    const index_t off = plan.append(t.second, t.first);
    parallel_for(policy, t.second, synthetic_grain, [&](index_t b, index_t e) {
      for (index_t j = b; j < e; ++j) {
        philox g(s, synthetic_stream(stream_random_over, t.first, j));
        plan.base[std::size_t(off + j)] =
            rows[std::size_t(uniform_index(g, static_cast<index_t>(rows.size())))];
      }
    });
  }
  return plan;
}

// Per-class per-feature noise scale of the smoothed bootstrap: shrinkage * h * std_c.
template <class TX, class L>
std::map<std::int64_t, std::vector<double>> shrinkage_scales(matrix_view<TX> X, vector_view<L> y,
                                                             double shrinkage) {
  const index_t n = X.extent(0), d = X.extent(1);
  const double h = std::pow(4.0 / (double(d + 2) * double(n)), 1.0 / double(d + 4));
  std::map<std::int64_t, std::vector<double>> out;
  for (const auto& c : rows_by_class(y)) {
    std::vector<double> mean(std::size_t(d), 0.0), m2(std::size_t(d), 0.0);
    for (index_t r : c.second)
      for (index_t j = 0; j < d; ++j) mean[std::size_t(j)] += double(X(r, j));
    for (auto& v : mean) v /= double(c.second.size());
    for (index_t r : c.second)
      for (index_t j = 0; j < d; ++j) {
        const double dv = double(X(r, j)) - mean[std::size_t(j)];
        m2[std::size_t(j)] += mul_rounded(dv, dv);
      }
    for (auto& v : m2) v = shrinkage * h * std::sqrt(v / double(c.second.size()));
    out[c.first] = std::move(m2);
  }
  return out;
}

template <class Policy, class TX, class L, class T, class LO>
void write_random_over(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                       const resample_plan<T>& plan, const resample_output<T, LO>& out,
                       const random_over_options& opts, seed s) {
  if (!opts.shrinkage) {
    write_interpolated(policy, X, y, plan, out);
    return;
  }
  const auto scales = shrinkage_scales(X, y, *opts.shrinkage);
  // Synthetic index within its class, for the noise stream.
  std::vector<index_t> first(plan.label.size());
  for (std::size_t i = 0; i < plan.label.size(); ++i)
    first[i] = (i > 0 && plan.label[i] == plan.label[i - 1]) ? first[i - 1] : index_t(i);
  const index_t d = X.extent(1);
  write_plan(policy, X, y, plan, out, [&](index_t sidx, T* dst) {
    const auto i = std::size_t(sidx);
    const std::int64_t label = plan.label[i];
    const index_t j = sidx - first[i];
    philox g(s, derive_stream(synthetic_stream(stream_random_over, label, j), 1));
    const auto& sc = scales.at(label);
    for (index_t f = 0; f < d; ++f)
      dst[f] = static_cast<T>(double(X(plan.base[i], f)) + mul_rounded(sc[std::size_t(f)], normal(g)));
  });
}

template <class T, class L, class Policy, class TX, class LI, class Plan, class Write>
resample_result<T, L> run_owning(const Policy& policy, matrix_view<TX> X, vector_view<LI> y,
                                 const Plan& plan, Write&& write, const char* fn) {
  auto result = allocate_result<T, L>(plan.shape(), X.extent(1), fn);
  write(policy, X, y, plan, output_of(result));
  return result;
}

// Rows an over-sampler returns: every input row plus the strategy's synthetic counts.
template <class L>
resample_shape over_sampled_shape(vector_view<L> y, const sampling_strategy& strategy,
                                  const char* fn) {
  const auto targets = resolve_sampling_strategy(strategy, count_classes(y),
                                                 sampling_type::over_sampling, fn);
  resample_shape sh{y.extent(0), 0};
  for (const auto& t : targets) sh.synthetic = checked_add(sh.synthetic, t.second, fn, "sampling_strategy");
  return sh;
}


}  // namespace detail

template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> smote(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const smote_options& opts,
    seed s) {
  using T = std::remove_const_t<TX>;
  const char* fn = "smote";
  const auto classes = detail::smote_classes(policy, X, y, opts, fn);
  auto result = detail::allocate_result<T, std::remove_const_t<L>>(
      detail::smote_shape(X.extent(0), classes), X.extent(1), fn);
  detail::write_smote(policy, X, y, classes, opts.k, s, detail::output_of(result));
  return result;
}

template <class L>
resample_shape resampled_size(vector_view<L> y, const smote_options& opts) {
  return detail::over_sampled_shape(y, opts.strategy, "smote");
}

template <class Policy, class TX, class L, class T, class LO>
resample_shape smote_into(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                          const resample_output<T, LO>& out, const smote_options& opts, seed s) {
  static_assert(std::is_same<std::remove_const_t<TX>, T>::value,
                "ladle::smote_into: output features must have the input's type");
  const resample_shape sh = resampled_size(y, opts);
  detail::check_output("smote_into", out, sh, X.extent(1));
  detail::check_output_against("smote_into", X, y, out);
  const auto classes = detail::smote_classes(policy, X, y, opts, "smote_into");
  detail::write_smote(policy, X, y, classes, opts.k, s, out);
  return sh;
}

template <class Policy, class TX, class L>
std::vector<borderline_status> borderline_status_of(const Policy& policy, matrix_view<TX> X,
                                                    vector_view<L> y, std::int64_t label,
                                                    index_t m) {
  using T = std::remove_const_t<TX>;
  const char* fn = "borderline_status_of";
  detail::check_inputs(fn, X, y);
  detail::require_k(fn, "m", m);
  if (m >= X.extent(0))
    throw_invalid_argument(fn, "m", "must be < the number of samples ", X.extent(0), ", got ", m);
  const auto by_class = detail::rows_by_class(y);
  const auto it = by_class.find(label);
  if (it == by_class.end())
    throw_invalid_argument(fn, "label", "class ", label, " is not present in y");
  tensor<T, 2> storage;
  const auto Xa = detail::compact(X, storage);
  const auto others =
      detail::other_class_counts<T>(detail::knn_of_rows(policy, Xa, it->second, m, fn), y, label);
  std::vector<borderline_status> out(others.size());
  for (std::size_t i = 0; i < others.size(); ++i)
    out[i] = others[i] == m          ? borderline_status::noise
             : (2 * others[i] >= m) ? borderline_status::danger
                                     : borderline_status::safe;
  return out;
}

template <class Policy, class TX, class L>
borderline_rows borderline_status_by_row(const Policy& policy, matrix_view<TX> X,
                                         vector_view<L> y, std::int64_t label, index_t m) {
  borderline_rows r;
  r.status = borderline_status_of(policy, X, y, label, m);
  r.rows = detail::rows_by_class(y).at(label);
  return r;
}

template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> borderline_smote(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y,
    const borderline_smote_options& opts, seed s) {
  using T = std::remove_const_t<TX>;
  const char* fn = "borderline_smote";
  const auto plan = detail::borderline_plan(policy, X, y, opts, s, fn);
  return detail::run_owning<T, std::remove_const_t<L>>(
      policy, X, y, plan, [](auto&&... a) { detail::write_interpolated(a...); }, fn);
}

template <class Policy, class TX, class L>
adasyn_allocation adasyn_allocation_of(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                                       std::int64_t label, index_t n_generate, index_t k) {
  using T = std::remove_const_t<TX>;
  const char* fn = "adasyn_allocation_of";
  detail::check_inputs(fn, X, y);
  detail::require_k(fn, "k", k);
  if (k >= X.extent(0))
    throw_invalid_argument(fn, "k", "must be < the number of samples ", X.extent(0), ", got ", k);
  if (n_generate < 0)
    throw_invalid_argument(fn, "n_generate", "must be >= 0, got ", n_generate);
  const auto by_class = detail::rows_by_class(y);
  const auto it = by_class.find(label);
  if (it == by_class.end())
    throw_invalid_argument(fn, "label", "class ", label, " is not present in y");
  tensor<T, 2> storage;
  const auto Xa = detail::compact(X, storage);
  return detail::adasyn_allocation_impl(policy, Xa, y, label, it->second, n_generate, k, fn);
}

template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> adasyn(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const adasyn_options& opts,
    seed s) {
  using T = std::remove_const_t<TX>;
  const char* fn = "adasyn";
  const auto plan = detail::adasyn_plan(policy, X, y, opts, s, fn);
  return detail::run_owning<T, std::remove_const_t<L>>(
      policy, X, y, plan, [](auto&&... a) { detail::write_interpolated(a...); }, fn);
}

template <class L>
resample_shape resampled_size(vector_view<L> y, const random_over_options& opts) {
  return detail::over_sampled_shape(y, opts.strategy, "random_over_sample");
}

template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> random_over_sample(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const random_over_options& opts,
    seed s) {
  using T = std::remove_const_t<TX>;
  const auto plan = detail::random_over_plan(policy, X, y, opts, s, "random_over_sample");
  auto result = detail::allocate_result<T, std::remove_const_t<L>>(plan.shape(), X.extent(1),
                                                                   "random_over_sample");
  detail::write_random_over(policy, X, y, plan, detail::output_of(result), opts, s);
  return result;
}

template <class Policy, class TX, class L, class T, class LO>
resample_shape random_over_sample_into(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                                       const resample_output<T, LO>& out,
                                       const random_over_options& opts, seed s) {
  static_assert(std::is_same<std::remove_const_t<TX>, T>::value,
                "ladle::random_over_sample_into: output features must have the input's type");
  const resample_shape sh = resampled_size(y, opts);
  detail::check_output("random_over_sample_into", out, sh, X.extent(1));
  detail::check_output_against("random_over_sample_into", X, y, out);
  const auto plan = detail::random_over_plan(policy, X, y, opts, s, "random_over_sample_into");
  detail::write_random_over(policy, X, y, plan, out, opts, s);
  return sh;
}

}  // namespace ladle
