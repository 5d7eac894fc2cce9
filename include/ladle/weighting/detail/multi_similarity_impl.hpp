// Definitions for ladle/weighting/multi_similarity.hpp.
#pragma once

#include "ladle/weighting/detail/common.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace ladle {
namespace detail {
namespace ms {

// The same eight-chain fma formula as the kNN's exact distance (neighbors/detail/knn_impl.hpp),
// for a dot product: symmetric and ISA-independent.
inline double dot(const double* LADLE_RESTRICT a, const double* LADLE_RESTRICT b, index_t d) noexcept {
  double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  index_t j = 0;
  for (; j + 8 <= d; j += 8)
    for (index_t l = 0; l < 8; ++l) s[l] = std::fma(a[j + l], b[j + l], s[l]);
  for (; j < d; ++j) s[j % 8] = std::fma(a[j], b[j], s[j % 8]);
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

struct anchor_stats {
  bool valid = false;
  double min_pos = 0, max_neg = 0;  // over P0 and N0 (mining thresholds)
  double pos_den = 1, neg_den = 1;  // 1 + sums of the kept pairs' exponentials
  double loss = 0;
};

struct problem {
  index_t b = 0, d = 0;
  std::vector<double> x;              // (b, d) compact double copy
  std::vector<std::int64_t> labels;
  multi_similarity_options o;
  const double* row(index_t i) const noexcept { return x.data() + i * d; }
};

constexpr double duplicate_eps = 1e-5;

template <class TX, class L>
problem prepare(matrix_view<TX> X, vector_view<L> y, const multi_similarity_options& o,
                const char* fn) {
  require_float_input<TX>(fn);
  static_assert(std::is_integral<std::remove_cv_t<L>>::value, "ladle MS: labels are integers");
  require_host(X, fn, "X");
  require_host(y, fn, "y");
  require_nonempty(X, fn, "X");
  require_extent(y.extent(0), X.extent(0), fn, "y", "length");
  if (!(o.alpha > 0) || !std::isfinite(o.alpha))
    throw_domain_error(fn, "alpha", "must be finite and > 0, got ", o.alpha);
  if (!(o.beta > 0) || !std::isfinite(o.beta))
    throw_domain_error(fn, "beta", "must be finite and > 0, got ", o.beta);
  if (!std::isfinite(o.lambda)) throw_domain_error(fn, "lambda", "must be finite, got ", o.lambda);
  if (!std::isfinite(o.margin)) throw_domain_error(fn, "margin", "must be finite, got ", o.margin);
  if (o.tile_rows < 1) throw_invalid_argument(fn, "tile_rows", "must be >= 1, got ", o.tile_rows);
  problem p;
  p.b = X.extent(0);
  p.d = X.extent(1);
  p.o = o;
  p.x.resize(static_cast<std::size_t>(checked_mul(p.b, p.d, fn, "X")));
  p.labels.resize(static_cast<std::size_t>(p.b));
  for (index_t i = 0; i < p.b; ++i) {
    double n2 = 0;
    for (index_t f = 0; f < p.d; ++f) {
      const double v = static_cast<double>(X(i, f));
      if (!std::isfinite(v))
        throw_domain_error(fn, "X", "element (", i, ", ", f, ") is not finite (", v, ")");
      p.x[static_cast<std::size_t>(i * p.d + f)] = v;
      n2 += v * v;
    }
    if (!(std::abs(n2 - 1.0) <= 1e-3))
      throw_domain_error(fn, "X", "row ", i, " has squared norm ", n2,
                         "; rows must be L2-normalised");
    p.labels[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(y(i));
  }
  return p;
}

// Fills s[0, b) with row i of S.
inline void similarity_row(const problem& p, index_t i, double* s) noexcept {
  const double* xi = p.row(i);
  for (index_t j = 0; j < p.b; ++j) s[j] = dot(xi, p.row(j), p.d);
}

inline bool is_pos_candidate(const problem& p, index_t i, index_t j, double s) noexcept {
  return j != i && p.labels[static_cast<std::size_t>(j)] == p.labels[static_cast<std::size_t>(i)] &&
         s < 1.0 - duplicate_eps;
}

// Anchor i's mining thresholds, normalisers and loss from its similarity row.
inline anchor_stats stats_of(const problem& p, index_t i, const double* s) noexcept {
  anchor_stats a;
  double min_pos = std::numeric_limits<double>::infinity();
  double max_neg = -std::numeric_limits<double>::infinity();
  const std::int64_t li = p.labels[static_cast<std::size_t>(i)];
  for (index_t j = 0; j < p.b; ++j) {
    if (p.labels[static_cast<std::size_t>(j)] != li) {
      max_neg = std::max(max_neg, s[j]);
    } else if (is_pos_candidate(p, i, j, s[j])) {
      min_pos = std::min(min_pos, s[j]);
    }
  }
  if (!std::isfinite(min_pos) || !std::isfinite(max_neg)) return a;
  double pos = 0, neg = 0;
  bool any_pos = false, any_neg = false;
  for (index_t j = 0; j < p.b; ++j) {
    if (p.labels[static_cast<std::size_t>(j)] != li) {
      if (s[j] + p.o.margin > min_pos) {
        neg += std::exp(p.o.beta * (s[j] - p.o.lambda));
        any_neg = true;
      }
    } else if (is_pos_candidate(p, i, j, s[j]) && s[j] - p.o.margin < max_neg) {
      pos += std::exp(-p.o.alpha * (s[j] - p.o.lambda));
      any_pos = true;
    }
  }
  if (!any_pos || !any_neg) return a;
  a.valid = true;
  a.min_pos = min_pos;
  a.max_neg = max_neg;
  a.pos_den = 1.0 + pos;
  a.neg_den = 1.0 + neg;
  a.loss = std::log1p(pos) / p.o.alpha + std::log1p(neg) / p.o.beta;
  return a;
}

// dLoss_i/dS_ij (before the 1/B): -w+ for a kept positive, +w- for a kept negative, else 0.
inline double pair_gradient(const problem& p, const anchor_stats& a, index_t i, index_t j,
                            double s, bool* positive) noexcept {
  if (!a.valid) return 0.0;
  if (p.labels[static_cast<std::size_t>(j)] != p.labels[static_cast<std::size_t>(i)]) {
    *positive = false;
    return s + p.o.margin > a.min_pos ? std::exp(p.o.beta * (s - p.o.lambda)) / a.neg_den : 0.0;
  }
  *positive = true;
  if (!is_pos_candidate(p, i, j, s) || !(s - p.o.margin < a.max_neg)) return 0.0;
  return -std::exp(-p.o.alpha * (s - p.o.lambda)) / a.pos_den;
}

template <class Policy>
std::vector<anchor_stats> all_stats(const Policy& policy, const problem& p) {
  std::vector<anchor_stats> st(static_cast<std::size_t>(p.b));
  const index_t tile = p.o.tile_rows;
  parallel_for(policy, p.b, tile, [&](index_t b, index_t e) {
    std::vector<double> s(static_cast<std::size_t>(p.b));
    for (index_t i = b; i < e; ++i) {
      similarity_row(p, i, s.data());
      st[static_cast<std::size_t>(i)] = stats_of(p, i, s.data());
    }
  });
  return st;
}

inline double total_loss(const problem& p, const std::vector<anchor_stats>& st) noexcept {
  double l = 0;
  for (const auto& a : st) l += a.loss;
  return l / static_cast<double>(p.b);
}

}  // namespace ms
}  // namespace detail

template <class Policy, class TX, class L>
double multi_similarity_loss(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                             const multi_similarity_options& opts) {
  const auto p = detail::ms::prepare(X, y, opts, "multi_similarity_loss");
  return detail::ms::total_loss(p, detail::ms::all_stats(policy, p));
}

template <class Policy, class TX, class L, class G>
double multi_similarity_loss_and_grad_into(const Policy& policy, matrix_view<TX> X,
                                           vector_view<L> y, matrix_view<G> grad,
                                           const multi_similarity_options& opts) {
  const char* fn = "multi_similarity_loss_and_grad_into";
  detail::require_writable_float<G>(fn);
  detail::require_host(grad, fn, "grad");
  detail::require_extent(grad.extent(0), X.extent(0), fn, "grad", "rows");
  detail::require_extent(grad.extent(1), X.extent(1), fn, "grad", "columns");
  detail::require_disjoint(grad, "grad", X, "X", fn);
  detail::require_disjoint(grad, "grad", y, "y", fn);
  const auto p = detail::ms::prepare(X, y, opts, fn);
  const auto st = detail::ms::all_stats(policy, p);
  const double inv_b = 1.0 / static_cast<double>(p.b);
  // dLoss/dx_k = sum_j (G_kj + G_jk) x_j with G = dLoss/dS; S_jk == S_kj bit for bit.
  parallel_for(policy, p.b, p.o.tile_rows, [&](index_t b, index_t e) {
    std::vector<double> s(static_cast<std::size_t>(p.b)), g(static_cast<std::size_t>(p.d));
    for (index_t k = b; k < e; ++k) {
      detail::ms::similarity_row(p, k, s.data());
      std::fill(g.begin(), g.end(), 0.0);
      for (index_t j = 0; j < p.b; ++j) {
        bool pos = false;
        const double c = (detail::ms::pair_gradient(p, st[static_cast<std::size_t>(k)], k, j, s[j], &pos) +
                          detail::ms::pair_gradient(p, st[static_cast<std::size_t>(j)], j, k, s[j], &pos)) *
                         inv_b;
        if (c == 0.0) continue;
        const double* xj = p.row(j);
        for (index_t f = 0; f < p.d; ++f) g[static_cast<std::size_t>(f)] = std::fma(c, xj[f], g[static_cast<std::size_t>(f)]);
      }
      for (index_t f = 0; f < p.d; ++f) grad(k, f) = static_cast<G>(g[static_cast<std::size_t>(f)]);
    }
  });
  return detail::ms::total_loss(p, st);
}

template <class Policy, class TX, class L, class Visit>
double multi_similarity_pair_weights(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                                     Visit&& visit, const multi_similarity_options& opts) {
  const auto p = detail::ms::prepare(X, y, opts, "multi_similarity_pair_weights");
  const auto st = detail::ms::all_stats(policy, p);
  // Anchors in waves of tiles: computed in parallel, visited in order on this thread.
  const index_t tile = p.o.tile_rows;
  const index_t wave = tile * std::max<index_t>(1, 2 * static_cast<index_t>(policy.threads()));
  std::vector<std::vector<multi_similarity_pair>> found;
  for (index_t w0 = 0; w0 < p.b; w0 += wave) {
    const index_t w1 = std::min(p.b, w0 + wave);
    found.assign(static_cast<std::size_t>(chunk_count(w1 - w0, tile)), {});
    parallel_for(policy, w1 - w0, tile, [&](index_t b, index_t e) {
      auto& out = found[static_cast<std::size_t>(b / tile)];
      std::vector<double> s(static_cast<std::size_t>(p.b));
      for (index_t i = w0 + b; i < w0 + e; ++i) {
        const auto& a = st[static_cast<std::size_t>(i)];
        if (!a.valid) continue;
        detail::ms::similarity_row(p, i, s.data());
        for (index_t j = 0; j < p.b; ++j) {
          bool pos = false;
          const double g = detail::ms::pair_gradient(p, a, i, j, s[j], &pos);
          if (g != 0.0) out.push_back({i, j, s[j], std::abs(g), pos});
        }
      }
    });
    for (const auto& v : found)
      for (const auto& pair : v) visit(pair);
  }
  return detail::ms::total_loss(p, st);
}

}  // namespace ladle
