// Definitions for ladle/weighting/multi_similarity.hpp.
#pragma once

#include "ladle/core/simd.hpp"
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

// The eight chains of dot() summed in its tree, after its scalar tail (d % 8 features) is added
// to chains 0, 1, ...: s holds the chains after the whole groups of eight.
inline double finish_dot(double* s, const double* LADLE_RESTRICT a, const double* LADLE_RESTRICT b,
                         index_t d8, index_t d) noexcept {
  for (index_t j = d8; j < d; ++j) s[j - d8] = std::fma(a[j], b[j], s[j - d8]);
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// g[f] = fma(c_t, x_{j_t}[f], g[f]) for t = 0, 1, ... in order, for every feature, starting from
// g = 0: the same fma sequence per feature as a loop over the pairs, but with a block of g held
// in registers (SIMD lanes across features) while every pair passes over it.
inline void accumulate_rows(const problem& p, const std::vector<double>& c,
                            const std::vector<index_t>& rows, double* LADLE_RESTRICT g) noexcept {
  const index_t d = p.d, n = static_cast<index_t>(c.size());
  index_t f = 0;
#if LADLE_HAS_SIMD
  using B = simd::batch<double>;
  constexpr index_t lanes = static_cast<index_t>(simd::lanes<double>);
  for (; f + 4 * lanes <= d; f += 4 * lanes) {
    B g0(0.0), g1(0.0), g2(0.0), g3(0.0);
    for (index_t t = 0; t < n; ++t) {
      const B ct(c[static_cast<std::size_t>(t)]);
      const double* x = p.row(rows[static_cast<std::size_t>(t)]) + f;
      g0 = simd::fma(ct, B::load_unaligned(x), g0);
      g1 = simd::fma(ct, B::load_unaligned(x + lanes), g1);
      g2 = simd::fma(ct, B::load_unaligned(x + 2 * lanes), g2);
      g3 = simd::fma(ct, B::load_unaligned(x + 3 * lanes), g3);
    }
    g0.store_unaligned(g + f);
    g1.store_unaligned(g + f + lanes);
    g2.store_unaligned(g + f + 2 * lanes);
    g3.store_unaligned(g + f + 3 * lanes);
  }
  for (; f + lanes <= d; f += lanes) {
    B g0(0.0);
    for (index_t t = 0; t < n; ++t)
      g0 = simd::fma(B(c[static_cast<std::size_t>(t)]),
                     B::load_unaligned(p.row(rows[static_cast<std::size_t>(t)]) + f), g0);
    g0.store_unaligned(g + f);
  }
#endif
  for (; f < d; ++f) {
    double acc = 0.0;
    for (index_t t = 0; t < n; ++t)
      acc = std::fma(c[static_cast<std::size_t>(t)], p.row(rows[static_cast<std::size_t>(t)])[f], acc);
    g[f] = acc;
  }
}

// Fills s[0, b) with row i of S.
inline void similarity_row(const problem& p, index_t i, double* s) noexcept {
  const double* xi = p.row(i);
  for (index_t j = 0; j < p.b; ++j) s[j] = dot(xi, p.row(j), p.d);
}

// Rows i0 .. i0 + count - 1 of S (count <= 4), columns [j_begin, j_end), into s + r * b. Where a SIMD batch holds eight
// doubles (AVX-512), lane l of a batch is dot()'s chain l, so a register-blocked kernel (four
// anchors against two rows: eight accumulators, each row of X loaded once per four anchors)
// yields dot()'s bits exactly; elsewhere, dot() per pair.
inline void similarity_rows(const problem& p, index_t i0, index_t count, double* s, index_t j_begin,
                            index_t j_end) noexcept {
#if LADLE_HAS_SIMD
  if constexpr (simd::lanes<double> == 8) {
    using B = simd::batch<double>;
    const index_t b = p.b, d = p.d, d8 = d / 8 * 8;
    // Missing anchors repeat the last one; their rows are computed and dropped.
    const double* a0 = p.row(i0);
    const double* a1 = p.row(i0 + std::min<index_t>(1, count - 1));
    const double* a2 = p.row(i0 + std::min<index_t>(2, count - 1));
    const double* a3 = p.row(i0 + std::min<index_t>(3, count - 1));
    alignas(64) double chains[8];
    const auto finish = [&](const B& acc, const double* a, const double* x, index_t r, index_t j) {
      if (r >= count) return;
      acc.store_aligned(chains);
      s[r * b + j] = finish_dot(chains, a, x, d8, d);
    };
    for (index_t j = j_begin; j < j_end; j += 2) {
      const index_t j1 = std::min(j + 1, j_end - 1);  // an odd last row pairs with itself
      const double* x0 = p.row(j);
      const double* x1 = p.row(j1);
      B c00(0.0), c10(0.0), c20(0.0), c30(0.0), c01(0.0), c11(0.0), c21(0.0), c31(0.0);
      for (index_t f = 0; f < d8; f += 8) {
        const B v0 = B::load_unaligned(x0 + f), v1 = B::load_unaligned(x1 + f);
        const B u0 = B::load_unaligned(a0 + f), u1 = B::load_unaligned(a1 + f);
        const B u2 = B::load_unaligned(a2 + f), u3 = B::load_unaligned(a3 + f);
        c00 = simd::fma(u0, v0, c00);
        c10 = simd::fma(u1, v0, c10);
        c20 = simd::fma(u2, v0, c20);
        c30 = simd::fma(u3, v0, c30);
        c01 = simd::fma(u0, v1, c01);
        c11 = simd::fma(u1, v1, c11);
        c21 = simd::fma(u2, v1, c21);
        c31 = simd::fma(u3, v1, c31);
      }
      finish(c00, a0, x0, 0, j);
      finish(c10, a1, x0, 1, j);
      finish(c20, a2, x0, 2, j);
      finish(c30, a3, x0, 3, j);
      if (j1 != j) {
        finish(c01, a0, x1, 0, j1);
        finish(c11, a1, x1, 1, j1);
        finish(c21, a2, x1, 2, j1);
        finish(c31, a3, x1, 3, j1);
      }
    }
    return;
  }
#endif
  for (index_t r = 0; r < count; ++r)
    for (index_t j = j_begin; j < j_end; ++j) s[r * p.b + j] = dot(p.row(i0 + r), p.row(j), p.d);
}

// Rows [i0, i0 + count) of S (any count) into s + r * b: the columns in blocks of about 256 KiB
// of X, so a block stays in L2 while every anchor of the tile passes over it (each anchor row
// streamed against all of X would read X from memory once per four anchors).
inline void similarity_tile(const problem& p, index_t i0, index_t count, double* s) noexcept {
  const index_t block =
      std::max<index_t>(2, static_cast<index_t>((std::size_t(256) << 10) / sizeof(double)) /
                               std::max<index_t>(1, p.d) / 2 * 2);
  for (index_t j0 = 0; j0 < p.b; j0 += block) {
    const index_t j1 = std::min(p.b, j0 + block);
    for (index_t r = 0; r < count; r += 4)
      similarity_rows(p, i0 + r, std::min<index_t>(4, count - r), s + r * p.b, j0, j1);
  }
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
    std::vector<double> s(static_cast<std::size_t>((e - b) * p.b));
    similarity_tile(p, b, e - b, s.data());
    for (index_t i = b; i < e; ++i)
      st[static_cast<std::size_t>(i)] = stats_of(p, i, s.data() + (i - b) * p.b);
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
    std::vector<double> rows(static_cast<std::size_t>((e - b) * p.b)), g(static_cast<std::size_t>(p.d));
    std::vector<double> coef;
    std::vector<index_t> used;
    detail::ms::similarity_tile(p, b, e - b, rows.data());
    for (index_t k = b; k < e; ++k) {
      const double* s = rows.data() + (k - b) * p.b;
      coef.clear();
      used.clear();
      for (index_t j = 0; j < p.b; ++j) {
        bool pos = false;
        const double c = (detail::ms::pair_gradient(p, st[static_cast<std::size_t>(k)], k, j, s[j], &pos) +
                          detail::ms::pair_gradient(p, st[static_cast<std::size_t>(j)], j, k, s[j], &pos)) *
                         inv_b;
        if (c != 0.0) {
          coef.push_back(c);
          used.push_back(j);
        }
      }
      detail::ms::accumulate_rows(p, coef, used, g.data());
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
      std::vector<double> rows(static_cast<std::size_t>((e - b) * p.b));
      detail::ms::similarity_tile(p, w0 + b, e - b, rows.data());
      for (index_t i = w0 + b; i < w0 + e; ++i) {
        const auto& a = st[static_cast<std::size_t>(i)];
        if (!a.valid) continue;
        const double* s = rows.data() + (i - w0 - b) * p.b;
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
