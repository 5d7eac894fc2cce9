// ladle/quantile/detail/fit_impl.hpp: definitions for ladle/quantile/fit.hpp.
#pragma once

#include "ladle/quantile/detail/scores_impl.hpp"
#include "ladle/quantile/fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace ladle {
namespace detail {
namespace quantile {

/// One problem: min over the simplex of sum_r c_r rho_{tau_r}(y_r - x_r . w), x row-major [R, P].
struct lp_data {
  index_t R = 0, P = 0;
  std::vector<double> X, y, tau, c;
};

struct lp_solution {
  std::vector<double> w;
  double gap = 0.0;
  fit_status status = fit_status::optimal;
  index_t iterations = 0;
};

inline double dot(const double* a, const double* b, index_t n) noexcept {
  double s = 0.0;
  for (index_t p = 0; p < n; ++p) s = std::fma(a[p], b[p], s);
  return s;
}

inline double lp_objective(const lp_data& d, const std::vector<double>& w) {
  double s = 0.0;
  for (index_t r = 0; r < d.R; ++r) {
    const std::size_t ru = static_cast<std::size_t>(r);
    const double e = d.y[ru] - dot(&d.X[ru * static_cast<std::size_t>(d.P)], w.data(), d.P);
    s = std::fma(d.c[ru], pinball(e, d.tau[ru]), s);
  }
  return s;
}

inline void normalise_simplex(std::vector<double>& w) {
  double s = 0.0;
  for (double& v : w) {
    v = std::max(v, 0.0);
    s += v;
  }
  if (!(s > 0.0)) {
    std::fill(w.begin(), w.end(), 0.0);
    w[0] = 1.0;
    return;
  }
  for (double& v : w) v /= s;
}

/// Dense tableau simplex; see fit.hpp.
inline lp_solution solve_exact(const lp_data& d) {
  const index_t R = d.R, P = d.P, m = R + 1, n = P + 2 * R;
  const std::size_t W = static_cast<std::size_t>(n + 1);
  std::vector<double> T(static_cast<std::size_t>(m) * W, 0.0);
  std::vector<index_t> basis(static_cast<std::size_t>(m));
  auto at = [&](index_t i) { return T.data() + static_cast<std::size_t>(i) * W; };
  for (index_t r = 0; r < R; ++r) {
    double* row = at(r);
    const double* x = &d.X[static_cast<std::size_t>(r * P)];
    for (index_t p = 1; p < P; ++p) row[p] = x[p] - x[0];
    row[P + r] = 1.0;
    row[P + R + r] = -1.0;
    row[n] = d.y[static_cast<std::size_t>(r)] - x[0];
    if (row[n] < 0.0) {
      for (std::size_t j = 0; j < W; ++j) row[j] = -row[j] + 0.0;
      basis[static_cast<std::size_t>(r)] = P + R + r;
    } else {
      basis[static_cast<std::size_t>(r)] = P + r;
    }
  }
  for (index_t p = 0; p < P; ++p) at(R)[p] = 1.0;
  at(R)[n] = 1.0;
  basis[static_cast<std::size_t>(R)] = 0;
  auto cost = [&](index_t j) {
    if (j < P) return 0.0;
    const std::size_t r = static_cast<std::size_t>(j < P + R ? j - P : j - P - R);
    return j < P + R ? d.c[r] * d.tau[r] : d.c[r] * (1.0 - d.tau[r]);
  };
  std::vector<double> dv(W, 0.0);  // reduced costs; dv[n] = -objective
  double cmax = 0.0;
  for (index_t j = 0; j < n; ++j) {
    dv[static_cast<std::size_t>(j)] = cost(j);
    cmax = std::max(cmax, cost(j));
  }
  for (index_t i = 0; i < m; ++i) {
    const double cb = cost(basis[static_cast<std::size_t>(i)]);
    if (cb == 0.0) continue;
    const double* row = at(i);
    for (std::size_t j = 0; j < W; ++j) dv[j] = std::fma(-cb, row[j], dv[j]);
  }
  const double dtol = 1e-12 * std::max(cmax, std::numeric_limits<double>::min());
  const index_t max_pivots = 50 * (m + n) + 1000;
  lp_solution sol;
  index_t stall = 0;
  double last_obj = -dv[static_cast<std::size_t>(n)];
  for (;;) {
    const bool bland = stall > 50;
    index_t enter = -1;
    double best = -dtol;
    for (index_t j = 0; j < n; ++j) {
      const double v = dv[static_cast<std::size_t>(j)];
      if (v < best) {
        enter = j;
        if (bland) break;
        best = v;
      }
    }
    if (enter < 0) break;  // optimal
    if (sol.iterations >= max_pivots) {
      sol.status = fit_status::max_iterations;
      break;
    }
    index_t leave = -1;
    double ratio = 0.0;
    for (index_t i = 0; i < m; ++i) {
      const double a = at(i)[enter];
      if (!(a > 1e-12)) continue;
      const double t = std::max(at(i)[n], 0.0) / a;
      if (leave < 0 || t < ratio - 1e-12 * std::max(1.0, ratio) ||
          (t <= ratio + 1e-12 * std::max(1.0, ratio) &&
           basis[static_cast<std::size_t>(i)] < basis[static_cast<std::size_t>(leave)])) {
        if (leave < 0 || t < ratio) ratio = t;
        leave = i;
      }
    }
    if (leave < 0)
      throw_runtime_error("fit_aggregator", "", "the simplex found an unbounded direction "
                          "(numerical breakdown)");
    double* prow = at(leave);
    const double inv = 1.0 / prow[enter];
    for (std::size_t j = 0; j < W; ++j) prow[j] *= inv;
    prow[enter] = 1.0;
    for (index_t i = 0; i < m; ++i) {
      if (i == leave) continue;
      double* row = at(i);
      const double f = row[enter];
      if (f == 0.0) continue;
      for (std::size_t j = 0; j < W; ++j) row[j] = std::fma(-f, prow[j], row[j]);
      row[enter] = 0.0;
      if (row[n] < 0.0 && row[n] > -1e-11) row[n] = 0.0;
    }
    const double f = dv[static_cast<std::size_t>(enter)];
    for (std::size_t j = 0; j < W; ++j) dv[j] = std::fma(-f, prow[j], dv[j]);
    dv[static_cast<std::size_t>(enter)] = 0.0;
    basis[static_cast<std::size_t>(leave)] = enter;
    ++sol.iterations;
    const double obj = -dv[static_cast<std::size_t>(n)];
    if (obj < last_obj - 1e-14 * std::max(1.0, std::abs(last_obj))) {
      stall = 0;
      last_obj = obj;
    } else {
      ++stall;
    }
  }
  sol.w.assign(static_cast<std::size_t>(P), 0.0);
  for (index_t i = 0; i < m; ++i)
    if (basis[static_cast<std::size_t>(i)] < P)
      sol.w[static_cast<std::size_t>(basis[static_cast<std::size_t>(i)])] = at(i)[n];
  normalise_simplex(sol.w);
  return sol;
}

/// Smoothed objective, true objective and smoothed gradient at w (fixed chunks, folded in order).
struct smooth_eval {
  double jd = 0.0, j = 0.0;
  std::vector<double> g;
};

template <class Policy>
smooth_eval evaluate_smooth(const Policy& policy, const lp_data& d, const std::vector<double>& w,
                            double delta) {
  const index_t P = d.P;
  smooth_eval init;
  init.g.assign(static_cast<std::size_t>(P), 0.0);
  return parallel_reduce(
      policy, d.R, 4096, init,
      [&](index_t begin, index_t end) {
        smooth_eval e;
        e.g.assign(static_cast<std::size_t>(P), 0.0);
        for (index_t r = begin; r < end; ++r) {
          const std::size_t ru = static_cast<std::size_t>(r);
          const double* x = &d.X[ru * static_cast<std::size_t>(P)];
          const double res = d.y[ru] - dot(x, w.data(), P);
          const double tau = d.tau[ru], c = d.c[ru];
          const double scale = res >= 0.0 ? tau : 1.0 - tau;
          const double a = std::abs(res);
          const double h = a <= delta ? (res * res) / (2.0 * delta) : a - 0.5 * delta;
          e.jd = std::fma(c, scale * h, e.jd);
          e.j = std::fma(c, pinball(res, tau), e.j);
          const double psi = scale * std::max(-1.0, std::min(1.0, res / delta));
          const double f = -c * psi;
          if (f != 0.0)
            for (index_t p = 0; p < P; ++p)
              e.g[static_cast<std::size_t>(p)] = std::fma(f, x[p], e.g[static_cast<std::size_t>(p)]);
        }
        return e;
      },
      [P](smooth_eval acc, smooth_eval part) {
        acc.jd += part.jd;
        acc.j += part.j;
        for (index_t p = 0; p < P; ++p)
          acc.g[static_cast<std::size_t>(p)] += part.g[static_cast<std::size_t>(p)];
        return acc;
      });
}

/// Exponentiated gradient with backtracking and smoothing continuation; see fit.hpp.
template <class Policy>
lp_solution solve_first_order(const Policy& policy, const lp_data& d, double tol,
                              index_t max_iterations) {
  const index_t P = d.P;
  const std::size_t Pu = static_cast<std::size_t>(P);
  lp_solution sol;
  std::vector<double> w(Pu, 1.0 / static_cast<double>(P));
  double S = 0.0;
  for (index_t r = 0; r < d.R; ++r)
    S += d.c[static_cast<std::size_t>(r)] *
         std::max(d.tau[static_cast<std::size_t>(r)], 1.0 - d.tau[static_cast<std::size_t>(r)]);
  const double j0 = lp_objective(d, w);
  if (!(j0 > 0.0) || P == 1) {
    sol.w = w;
    return sol;  // the uniform point is optimal (zero loss, or a single input)
  }
  double delta = tol * j0 / S;
  smooth_eval e = evaluate_smooth(policy, d, w, delta);
  double lb = 0.0, best_j = std::numeric_limits<double>::infinity();
  std::vector<double> best_w = w, next(Pu);
  double eta = 0.0;
  {
    const auto mm = std::minmax_element(e.g.begin(), e.g.end());
    eta = 1.0 / std::max(*mm.second - *mm.first, std::numeric_limits<double>::min());
  }
  sol.status = fit_status::max_iterations;
  for (index_t it = 0; it < max_iterations; ++it) {
    sol.iterations = it + 1;
    const double gmin = *std::min_element(e.g.begin(), e.g.end());
    const double fw_gap = dot(e.g.data(), w.data(), P) - gmin;
    lb = std::max(lb, e.jd - fw_gap);
    if (e.j < best_j) {
      best_j = e.j;
      best_w = w;
    }
    if (best_j - lb <= tol * best_j) {
      sol.status = fit_status::converged;
      break;
    }
    const double smoothing_error = e.j - e.jd;
    if (smoothing_error > 0.25 * tol * e.j && fw_gap < smoothing_error) {
      delta *= 0.25;
      e = evaluate_smooth(policy, d, w, delta);
      continue;
    }
    for (;;) {
      double z = 0.0;
      for (std::size_t p = 0; p < Pu; ++p) {
        next[p] = w[p] * std::exp(-eta * (e.g[p] - gmin));
        z += next[p];
      }
      for (double& v : next) v /= z;
      smooth_eval en = evaluate_smooth(policy, d, next, delta);
      double lin = 0.0, kl = 0.0;
      for (std::size_t p = 0; p < Pu; ++p) {
        lin = std::fma(e.g[p], next[p] - w[p], lin);
        if (next[p] > 0.0 && w[p] > 0.0) kl = std::fma(next[p], std::log(next[p] / w[p]), kl);
      }
      if (en.jd <= e.jd + lin + kl / eta + 1e-15 * std::abs(e.jd) || eta < 1e-300) {
        w.swap(next);
        e = std::move(en);
        eta *= 1.5;
        break;
      }
      eta *= 0.5;
    }
  }
  if (e.j < best_j) {
    best_j = e.j;
    best_w = w;
  }
  sol.w = best_w;
  sol.gap = std::max(0.0, best_j - lb);
  return sol;
}

}  // namespace quantile
}  // namespace detail

template <class Policy, class T, class U>
fit_result fit_aggregator(const Policy& policy, tensor_view<T, 3> preds, vector_view<U> y,
                          vector_view<const double> levels, const fit_options& opts,
                          vector_view<const double> sample_weight) {
  namespace dq = detail::quantile;
  const char* fn = "fit_aggregator";
  dq::check_levels(levels, fn);
  detail::require_host(preds, fn, "preds");
  const index_t M = preds.extent(0), N = preds.extent(1), K = preds.extent(2);
  if (M == 0) throw_invalid_argument(fn, "preds", "has no models (M = 0)");
  if (N == 0) throw_invalid_argument(fn, "preds", "has no samples (N = 0)");
  detail::require_extent(K, levels.extent(0), fn, "preds", "level count (extent 2)");
  detail::require_extent(y.extent(0), N, fn, "y", "length (N of preds)");
  dq::check_finite(preds, fn, "preds");
  dq::check_finite(y, fn, "y");
  dq::check_weights(sample_weight, N, fn, "sample_weight");
  if (opts.objective == fit_objective::wis) dq::check_symmetric(levels, fn);
  if (!(opts.tolerance > 0.0 && opts.tolerance < 1.0))
    throw_invalid_argument(fn, "opts.tolerance", "is ", opts.tolerance, ", outside (0, 1)");
  if (opts.max_iterations < 1)
    throw_invalid_argument(fn, "opts.max_iterations", "is ", opts.max_iterations);
  const int kind = static_cast<int>(opts.kind);
  if (kind < 0 || kind > 2) throw_invalid_argument(fn, "opts.kind", "is unknown (", kind, ")");
  const bool per_level = opts.kind != aggregator_kind::per_model;
  const index_t rows = per_level ? N : detail::checked_mul(N, K, fn, "preds");
  const index_t P = opts.kind == aggregator_kind::cross_level ? M * K : M;
  fit_method method = opts.method;
  if (method == fit_method::automatic)
    method = rows <= opts.exact_max_rows ? fit_method::exact : fit_method::first_order;
  if (method == fit_method::exact && rows > 8 * std::max<index_t>(opts.exact_max_rows, 1))
    throw_invalid_argument(fn, "opts.method", "is exact but a problem has ", rows,
                           " rows, past 8 * exact_max_rows (", opts.exact_max_rows,
                           "); use first_order or raise exact_max_rows");
  const double wsum = dq::weight_sum(sample_weight, N);
  fit_result res;
  res.method = method;
  res.weights = aggregator_weights::uniform(opts.kind, M, K);
  const index_t problems = per_level ? K : 1;
  double objective = 0.0, gap = 0.0;
  res.status = method == fit_method::exact ? fit_status::optimal : fit_status::converged;
  for (index_t k = 0; k < problems; ++k) {
    dq::lp_data d;
    d.R = rows;
    d.P = P;
    d.X.resize(static_cast<std::size_t>(rows) * static_cast<std::size_t>(P));
    d.y.resize(static_cast<std::size_t>(rows));
    d.tau.resize(d.y.size());
    d.c.resize(d.y.size());
    for (index_t r = 0; r < rows; ++r) {
      const index_t i = per_level ? r : r / K, lev = per_level ? k : r % K;
      const std::size_t ru = static_cast<std::size_t>(r);
      d.y[ru] = static_cast<double>(y(i));
      d.tau[ru] = levels(lev);
      d.c[ru] = dq::weight_at(sample_weight, i) / (wsum * static_cast<double>(K));
      double* x = &d.X[ru * static_cast<std::size_t>(P)];
      if (opts.kind == aggregator_kind::cross_level) {
        for (index_t m = 0; m < M; ++m)
          for (index_t j = 0; j < K; ++j) x[m * K + j] = static_cast<double>(preds(m, i, j));
      } else {
        for (index_t m = 0; m < M; ++m) x[m] = static_cast<double>(preds(m, i, lev));
      }
    }
    dq::lp_solution s = method == fit_method::exact
                            ? dq::solve_exact(d)
                            : dq::solve_first_order(policy, d, opts.tolerance, opts.max_iterations);
    res.iterations += s.iterations;
    if (s.status == fit_status::max_iterations) res.status = fit_status::max_iterations;
    objective += dq::lp_objective(d, s.w);
    gap += s.gap;
    for (index_t p = 0; p < P; ++p) {
      const double v = s.w[static_cast<std::size_t>(p)];
      if (opts.kind == aggregator_kind::per_model) res.weights.w[static_cast<std::size_t>(p)] = v;
      else if (opts.kind == aggregator_kind::per_model_level)
        res.weights.w[static_cast<std::size_t>(p * K + k)] = v;
      else res.weights.w[static_cast<std::size_t>(p * K + k)] = v;  // p = m * K + j
    }
  }
  const double scale = opts.objective == fit_objective::wis ? 2.0 : 1.0;
  res.objective = scale * objective;
  res.gap_bound = scale * gap;
  return res;
}

template <class T, class U>
fit_result fit_aggregator(tensor_view<T, 3> preds, vector_view<U> y,
                          vector_view<const double> levels, const fit_options& opts,
                          vector_view<const double> sample_weight) {
  return fit_aggregator(seq, preds, y, levels, opts, sample_weight);
}

}  // namespace ladle
