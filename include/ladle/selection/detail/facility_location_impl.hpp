// Definitions for ladle/selection/facility_location.hpp.
#pragma once

#include "ladle/core/checks.hpp"
#include "ladle/core/size.hpp"
#include "ladle/neighbors/knn.hpp"
#include "ladle/selection/detail/common.hpp"
#include "ladle/selection/detail/facility_float_kernel.hpp"
#include "ladle/selection/detail/facility_screen.hpp"
#include "ladle/selection/detail/k_center_impl.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <type_traits>

namespace ladle {
namespace detail {

/// Rows summed per chunk of a gain: fixed, so a gain has the same bits for every policy.
constexpr index_t facility_chunk = 1024;

template <class V>
struct facility_rows {
  const V* base;
  index_t ld, n, d;
  const V* row(index_t r) const noexcept { return base + r * ld; }
};

/// Candidates evaluated together: each row of X is read once per batch, not once per candidate.
constexpr index_t facility_batch = 8;

/// For candidates c[0..m) (m <= facility_batch, padded to a multiple of four by repeating the
/// last), s[q] = sum over rows i in [b, e) of max(0, mind[i] - D(i, c[q])), in row order. Rows
/// already at distance 0 (chosen rows, duplicates of them) add +0 and are skipped, which changes
/// no bit. D(i, c) is computed as D(c, i): the same bits ((a - b)^2 == (b - a)^2).
template <class V>
void facility_chunk_gains(const facility_rows<V>& X, const double* mind, const V* const* c,
                          index_t m, index_t b, index_t e, double* s) noexcept {
  const V* cp[facility_batch];
  const index_t padded = (m + 3) / 4 * 4;
  for (index_t q = 0; q < padded; ++q) cp[q] = c[std::min(q, m - 1)];
  double acc[facility_batch] = {};
  for (index_t i = b; i < e; ++i) {
    const double mi = mind[i];
    if (mi == 0) continue;
    const V* ri = X.row(i);
    double dist[facility_batch];
    for (index_t q = 0; q < padded; q += 4) exact_sq_distance_rows4(cp + q, ri, X.d, dist + q);
    for (index_t q = 0; q < m; ++q) {
      const double t = mi - dist[q];
      if (t > 0) acc[q] += t;
    }
  }
  for (index_t q = 0; q < m; ++q) s[q] = acc[q];
}

/// Gains of candidates c[0..m) (m <= facility_batch) into out: chunk partials folded in order.
template <class V>
void facility_batch_gains(const facility_rows<V>& X, const double* mind, const V* const* c,
                          index_t m, double* out) noexcept {
  for (index_t q = 0; q < m; ++q) out[q] = 0;
  for (index_t b = 0; b < X.n; b += facility_chunk) {
    double part[facility_batch];
    facility_chunk_gains(X, mind, c, m, b, std::min(X.n, b + facility_chunk), part);
    for (index_t q = 0; q < m; ++q) out[q] += part[q];
  }
}

/// The same numbers, the row chunks spread over the policy's threads (a lazy re-evaluation).
template <class Policy, class V>
void facility_batch_gains_parallel(const Policy& policy, const facility_rows<V>& X,
                                   const double* mind, const V* const* c, index_t m,
                                   double* out) {
  struct sums {
    double v[facility_batch];
  };
  const sums total = parallel_reduce(
      policy, X.n, facility_chunk, sums{},
      [&](index_t b, index_t e) {
        sums p;
        facility_chunk_gains(X, mind, c, m, b, e, p.v);
        return p;
      },
      [m](sums a, const sums& p) {
        for (index_t q = 0; q < m; ++q) a.v[q] += p.v[q];
        return a;
      });
  for (index_t q = 0; q < m; ++q) out[q] = total.v[q];
}

/// Gains of the rows cand[0..m) into out[0..m), batches of candidates spread over threads.
template <class Policy, class V>
void facility_gains(const Policy& policy, const facility_rows<V>& X, const double* mind,
                    const index_t* cand, index_t m, double* out) {
  const index_t batches = (m + facility_batch - 1) / facility_batch;
  const index_t grain = std::max<index_t>(1, 8192 / std::max<index_t>(1, X.n));
  parallel_for(policy, batches, grain, [&](index_t b, index_t e) {
    for (index_t g = b; g < e; ++g) {
      const index_t first = g * facility_batch;
      const index_t count = std::min(facility_batch, m - first);
      const V* c[facility_batch];
      for (index_t q = 0; q < count; ++q) c[q] = X.row(cand[first + q]);
      facility_batch_gains(X, mind, c, count, out + first);
    }
  });
}

/// M = max over pairs of D(a, b), over the pairs a < b (max is exact, so any order gives it).
template <class Policy, class V>
double facility_max_sq_distance(const Policy& policy, const facility_rows<V>& X) {
  return parallel_reduce(
      policy, X.n, 16, 0.0,
      [&](index_t b, index_t e) {
        double mx = 0;
        for (index_t a = b; a < e; ++a) {
          const V* ra = X.row(a);
          index_t j = a + 1;
          for (; j + 4 <= X.n; j += 4) {
            const V* rows4[4] = {X.row(j), X.row(j + 1), X.row(j + 2), X.row(j + 3)};
            double dist[4];
            exact_sq_distance_rows4(rows4, ra, X.d, dist);
            mx = std::max(mx, std::max(std::max(dist[0], dist[1]), std::max(dist[2], dist[3])));
          }
          for (; j < X.n; ++j) mx = std::max(mx, exact_sq_distance_rows(X.row(j), ra, X.d));
        }
        return mx;
      },
      [](double a, double p) { return std::max(a, p); });
}

/// mind[i] = min(mind[i], D(i, c)) for every row.
template <class Policy, class V>
void facility_add(const Policy& policy, const facility_rows<V>& X, double* mind, index_t c) {
  const V* rc = X.row(c);
  parallel_for(policy, X.n, facility_chunk, [&](index_t b, index_t e) {
    // Rows already at 0 are left out; the rest get the exact distance, four at a time.
    index_t need[4];
    index_t nn = 0;
    auto flush = [&] {
      if (nn == 4) {
        const V* rows4[4] = {X.row(need[0]), X.row(need[1]), X.row(need[2]), X.row(need[3])};
        double dist[4];
        exact_sq_distance_rows4(rows4, rc, X.d, dist);
        for (index_t r = 0; r < 4; ++r) mind[need[r]] = std::min(mind[need[r]], dist[r]);
      } else {
        for (index_t r = 0; r < nn; ++r)
          mind[need[r]] = std::min(mind[need[r]], exact_sq_distance_rows(X.row(need[r]), rc, X.d));
      }
      nn = 0;
    };
    for (index_t i = b; i < e; ++i) {
      if (mind[i] == 0) continue;
      need[nn++] = i;
      if (nn == 4) flush();
    }
    flush();
  });
  mind[c] = 0;  // D(c, c) is 0 already; explicit for clarity
}

/// Stale-gain heap entry; the heap's top is the largest gain, then the smallest row.
struct facility_entry {
  double gain;
  index_t row;
  index_t step;  // the step whose S the gain was computed for
};
struct facility_entry_below {
  bool operator()(const facility_entry& a, const facility_entry& b) const noexcept {
    return a.gain < b.gain || (a.gain == b.gain && a.row > b.row);
  }
};

/// Number of rows stochastic greedy evaluates per step, at most `remaining`.
inline index_t facility_sample_size(index_t n, index_t budget, double epsilon,
                                    index_t remaining) {
  const double want = std::ceil(double(n) / double(budget) * std::log(1.0 / epsilon));
  if (!(want < double(remaining))) return remaining;
  return std::max<index_t>(1, static_cast<index_t>(want));
}

/// Stochastic greedy's draws (shared by the dense and graph forms): rem holds the unchosen rows;
/// draw(t) puts step t's sample, uniform without replacement, in rem[0..s) and returns s.
struct facility_sampler {
  philox g;
  std::vector<index_t> rem;
  index_t n, budget;
  double epsilon;
  facility_sampler(ladle::seed seed, index_t n_, index_t budget_, double epsilon_)
      : g(seed, stream_facility_location), rem(static_cast<std::size_t>(n_)), n(n_),
        budget(budget_), epsilon(epsilon_) {
    for (index_t i = 0; i < n; ++i) rem[std::size_t(i)] = i;
  }
  index_t draw(index_t t) {
    const index_t m = n - t;
    const index_t s = facility_sample_size(n, budget, epsilon, m);
    for (index_t j = 0; j < s; ++j)  // partial Fisher-Yates: rem[0..s) is the sample
      std::swap(rem[std::size_t(j)], rem[std::size_t(j + uniform_index(g, m - j))]);
    return s;
  }
  /// The sampled row of largest gains[q] (ties to the smallest row), taken out of rem; its gain
  /// into `gain`.
  index_t take(index_t t, const double* gains, index_t s, double& gain) {
    index_t best = 0;
    for (index_t q = 1; q < s; ++q) {
      const double gq = gains[q], gb = gains[best];
      if (gq > gb || (gq == gb && rem[std::size_t(q)] < rem[std::size_t(best)])) best = q;
    }
    const index_t c = rem[std::size_t(best)];
    gain = gains[best];
    std::swap(rem[std::size_t(best)], rem[std::size_t(n - t - 1)]);
    return c;
  }
};

/// Double X: the exact double distance of k_center.hpp, the row-pointer kernels above.
struct facility_double_engine {
  facility_rows<double> X;
  template <class Policy>
  double max_sq_distance(const Policy& policy) const {
    return facility_max_sq_distance(policy, X);
  }
  /// out[i] = the gain of row i, for every row.
  static constexpr bool fuses_max = false;
  template <class Policy>
  void gains_all(const Policy& policy, const double* mind, double* out,
                 double* = nullptr) const {
    std::vector<index_t> all(static_cast<std::size_t>(X.n));
    for (index_t i = 0; i < X.n; ++i) all[std::size_t(i)] = i;
    facility_gains(policy, X, mind, all.data(), X.n, out);
  }
  template <class Policy>
  void gains_rows(const Policy& policy, const double* mind, const index_t* r, index_t m,
                  double* out) const {
    facility_gains(policy, X, mind, r, m, out);
  }
  /// m <= facility_panel rows, the row chunks spread over the threads.
  template <class Policy>
  void gains_few(const Policy& policy, const double* mind, const index_t* r, index_t m,
                 double* out) const {
    for (index_t q0 = 0; q0 < m; q0 += facility_batch) {
      const index_t k = std::min(facility_batch, m - q0);
      const double* c[facility_batch];
      for (index_t q = 0; q < k; ++q) c[q] = X.row(r[q0 + q]);
      facility_batch_gains_parallel(policy, X, mind, c, k, out + q0);
    }
  }
  template <class Policy>
  void add(const Policy& policy, double* mind, index_t c) const {
    facility_add(policy, X, mind, c);
  }
  void set_minima(const double*) {}
};

/// Float X: the float32 sequential-fma distance over packed panels (facility_float_kernel.hpp).
struct facility_float_engine {
  facility_rows<float> X;
  index_t panels = 0;
  aligned_ptr<float> packed;  // every row, in panels
  aligned_ptr<float> spare;   // panels of arbitrary rows (up to `spare_panels`)
  index_t spare_panels = 0;

  template <class Policy>
  facility_float_engine(const Policy& policy, facility_rows<float> rows, index_t spare_rows,
                        const char* fn)
      : X(rows), panels((rows.n + facility_panel - 1) / facility_panel) {
    const index_t panel_floats = checked_mul(facility_panel, X.d, fn, "X");
    packed = allocate_aligned<float>(checked_mul(panels, panel_floats, fn, "X"), fn, "X");
    spare_panels = (spare_rows + facility_panel - 1) / facility_panel;
    spare = allocate_aligned<float>(spare_panels * panel_floats, fn, "X");
    parallel_for(policy, panels, 64, [&](index_t b, index_t e) {
      for (index_t g = b; g < e; ++g) {
        const float* r[facility_panel];
        const index_t first = g * facility_panel;
        const index_t m = std::min(facility_panel, X.n - first);
        for (index_t q = 0; q < m; ++q) r[q] = X.row(first + q);
        facility_pack_panel(r, m, X.d, panel(g));
      }
    });
  }
  float* panel(index_t g) const noexcept { return packed.get() + g * facility_panel * X.d; }

  // The int8 screen of the re-evaluations (facility_screen.hpp), where it is built: row codes,
  // their s, a, e and the thresholds t of the current minima.
  bool screened = false;
  index_t qstride = 0;
  aligned_ptr<std::uint8_t> qcodes;
  std::vector<double> qs, qa, qe;   // per row, as quantise_row gives them
  std::vector<float> fs, fa, ft;    // s, a and the threshold t, in float (the screen's)
  std::unique_ptr<facility_qpanel> qpanel;

  template <class Policy>
  void build_screen(const Policy& policy, const char* fn) {
    screened = facility_screen_built && X.d >= facility_screen_min_d &&
               X.d <= quantised_screen_max_d;
    if (!screened) return;
    qstride = quantised_stride(X.d);
    qcodes = allocate_aligned<std::uint8_t>(checked_mul(X.n, qstride, fn, "X"), fn, "X");
    qs = make_buffer<double>(X.n, fn, "X");
    qa = make_buffer<double>(X.n, fn, "X");
    qe = make_buffer<double>(X.n, fn, "X");
    fs = make_buffer<float>(X.n, fn, "X");
    fa = make_buffer<float>(X.n, fn, "X");
    ft = make_buffer<float>(X.n, fn, "X");
    qpanel = std::make_unique<facility_qpanel>(X.d);
    parallel_for(policy, X.n, 2048, [&](index_t b, index_t e) {
      for (index_t i = b; i < e; ++i) {
        const auto u = std::size_t(i);
        quantise_row(X.row(i), X.d, qcodes.get() + i * qstride, qs[u], qa[u], qe[u]);
        fs[u] = static_cast<float>(qs[u]);
        fa[u] = static_cast<float>(qa[u]);
      }
    });
  }
  /// The thresholds of mind (every row).
  void set_minima(const double* mind) {
    if (!screened) return;
    for (index_t i = 0; i < X.n; ++i)
      ft[std::size_t(i)] =
          static_cast<float>(facility_screen_threshold(mind[i], qe[std::size_t(i)], X.d));
  }

  /// M = max over pairs: panel g against the rows from its first on (D is symmetric).
  template <class Policy>
  double max_sq_distance(const Policy& policy) const {
    const float mx = parallel_reduce(
        policy, panels, 1, 0.0f,
        [&](index_t b, index_t e) {
          float m = 0;
          for (index_t g = b; g < e; ++g)
            m = std::max(m, facility_panel_max(panel(g), X.d, X.base, X.ld, g * facility_panel, X.n));
          return m;
        },
        [](float a, float p) { return std::max(a, p); });
    return static_cast<double>(mx);
  }
  /// out[16 g .. 16 g + 16) for the candidates of panel p (all row chunks in order).
  void panel_all_rows(const float* p, const double* mind, double* out,
                      float* mx = nullptr) const noexcept {
    for (index_t q = 0; q < facility_panel; ++q) out[q] = 0;
    for (index_t b = 0; b < X.n; b += facility_chunk) {
      double part[facility_panel];
      facility_panel_gains(p, X.d, X.base, X.ld, mind, nullptr, b, std::min(X.n, b + facility_chunk),
                           part, mx);
      for (index_t q = 0; q < facility_panel; ++q) out[q] += part[q];
    }
  }
  /// Every row's gain; with max_D, also the largest D over all pairs (every pair is computed).
  template <class Policy>
  void gains_all(const Policy& policy, const double* mind, double* out,
                 double* max_D = nullptr) const {
    const float mx = parallel_reduce(
        policy, panels, 1, 0.0f,
        [&](index_t b, index_t e) {
          float m = 0;
          for (index_t g = b; g < e; ++g) {
            double s[facility_panel];
            panel_all_rows(panel(g), mind, s, max_D != nullptr ? &m : nullptr);
            const index_t k = std::min(facility_panel, X.n - g * facility_panel);
            for (index_t q = 0; q < k; ++q) out[g * facility_panel + q] = s[q];
          }
          return m;
        },
        [](float a, float p) { return std::max(a, p); });
    if (max_D != nullptr) *max_D = static_cast<double>(mx);
  }
  static constexpr bool fuses_max = true;
  void pack(const index_t* r, index_t m, float* dst) const noexcept {
    const float* rows[facility_panel];
    for (index_t q = 0; q < m; ++q) rows[q] = X.row(r[q]);
    facility_pack_panel(rows, m, X.d, dst);
  }
  /// m <= 16 * spare_panels rows.
  template <class Policy>
  void gains_rows(const Policy& policy, const double* mind, const index_t* r, index_t m,
                  double* out) const {
    const index_t groups = (m + facility_panel - 1) / facility_panel;
    parallel_for(policy, groups, 1, [&](index_t b, index_t e) {
      for (index_t g = b; g < e; ++g) {
        float* p = spare.get() + g * facility_panel * X.d;
        const index_t first = g * facility_panel;
        const index_t k = std::min(facility_panel, m - first);
        pack(r + first, k, p);
        double s[facility_panel];
        panel_all_rows(p, mind, s);
        for (index_t q = 0; q < k; ++q) out[first + q] = s[q];
      }
    });
  }
  /// m <= facility_panel rows (spare_panels >= 1), the row chunks spread over the threads.
  template <class Policy>
  void gains_few(const Policy& policy, const double* mind, const index_t* r, index_t m,
                 double* out) const {
    float* p = spare.get();
    pack(r, m, p);
    if (screened) qpanel->set(qcodes.get(), qstride, qs.data(), qa.data(), qe.data(), r, m);
    struct sums {
      double v[facility_panel];
    };
    const sums total = parallel_reduce(
        policy, X.n, facility_chunk, sums{},
        [&](index_t b, index_t e) {
          sums s;
          if (screened) {
            index_t left[facility_chunk];
            const index_t k = facility_screen_rows(*qpanel, qcodes.get(), qstride, fs.data(),
                                                   fa.data(), ft.data(), b, e, left);
            facility_panel_gains(p, X.d, X.base, X.ld, mind, left, 0, k, s.v);
          } else {
            facility_panel_gains(p, X.d, X.base, X.ld, mind, nullptr, b, e, s.v);
          }
          return s;
        },
        [](sums a, const sums& s) {
          for (index_t q = 0; q < facility_panel; ++q) a.v[q] += s.v[q];
          return a;
        });
    for (index_t q = 0; q < m; ++q) out[q] = total.v[q];
  }
  /// mind[i] = min(mind[i], D(i, c)) for every row.
  template <class Policy>
  void add(const Policy& policy, double* mind, index_t c) {
    const float* rc = X.row(c);
    parallel_for(policy, panels, 64, [&](index_t b, index_t e) {
      constexpr index_t step = 4;  // panels per kernel call
      for (index_t g0 = b; g0 < e; g0 += step) {
        const index_t cnt = std::min(step, e - g0);
        float dist[step * facility_panel];
        facility_panels_to(panel(g0), cnt, X.d, rc, dist);
        const index_t first = g0 * facility_panel;
        const index_t m = std::min(cnt * facility_panel, X.n - first);
        for (index_t q = 0; q < m; ++q) {
          double& v = mind[std::size_t(first + q)];
          const double w = static_cast<double>(dist[q]);
          if (!(w < v)) continue;
          v = w;
          if (screened)
            ft[std::size_t(first + q)] = static_cast<float>(
                facility_screen_threshold(w, qe[std::size_t(first + q)], X.d));
        }
      }
    });
  }
};

/// The first pick: the row nearest the mean, i.e. argmin_c sum_j (n x_cj - s_j)^2 with
/// s_j = sum_i x_ij (double, row order); n^2 times |x_c - mean|^2, and sum_i D(i, c) =
/// n |x_c - mean|^2 + const, so in exact arithmetic this is the row of largest first gain
/// (every m_i = M >= D). Feature order, one std::fma per operation; ties to the smallest row.
template <class V>
index_t facility_first_pick(const facility_rows<V>& X) {
  std::vector<double> s(static_cast<std::size_t>(X.d), 0.0);
  for (index_t i = 0; i < X.n; ++i) {
    const V* r = X.row(i);
    for (index_t j = 0; j < X.d; ++j) s[std::size_t(j)] += static_cast<double>(r[j]);
  }
  const double nn = static_cast<double>(X.n);
  index_t best = 0;
  double best_score = std::numeric_limits<double>::infinity();
  for (index_t c = 0; c < X.n; ++c) {
    const V* r = X.row(c);
    double score = 0;
    for (index_t j = 0; j < X.d; ++j) {
      const double e = std::fma(nn, static_cast<double>(r[j]), -s[std::size_t(j)]);
      score = std::fma(e, e, score);
    }
    if (score < best_score) best_score = score, best = c;
  }
  // Every score overflowed (|x| near 1e150 with many rows while the distances themselves fit):
  // no row can be told nearest, so say so rather than pick row 0.
  if (!(best_score < std::numeric_limits<double>::infinity()))
    throw_domain_error("facility_location", "X", "has n * x - column sum overflowing a double "
                       "(the first pick, the row nearest the mean, cannot be found); scale X");
  return best;
}

// Over a kNN graph (options.neighbors > 0; facility_graph_impl.hpp): arguments checked.
template <class Policy, class T>
facility_location_result facility_graph_location(const Policy& policy, matrix_view<T> X,
                                                 index_t budget,
                                                 const facility_location_options& opt,
                                                 const char* fn);

template <class Policy, class T>
facility_location_result facility_location_impl(const Policy& policy, matrix_view<T> X,
                                                index_t budget,
                                                const facility_location_options& opt) {
  using value_t = std::remove_const_t<T>;
  static_assert(std::is_same<value_t, float>::value || std::is_same<value_t, double>::value,
                "ladle::facility_location: X must be float or double");
  static_assert(is_execution_policy_v<Policy>, "ladle::facility_location: not a policy");
  const char* fn = "facility_location";
  require_host(X, fn, "X");
  require_nonempty(X, fn, "X");
  const index_t n = X.extent(0), d = X.extent(1);
  if (budget < 1 || budget > n)
    throw_invalid_argument(fn, "budget", "is ", budget, " but must be in [1, ", n,
                           "] (the number of rows of X)");
  if (opt.method != facility_greedy::naive && opt.method != facility_greedy::lazy &&
      opt.method != facility_greedy::stochastic)
    throw_invalid_argument(fn, "options.method", "is not a facility_greedy value (",
                           static_cast<int>(opt.method), ")");
  if (opt.method == facility_greedy::stochastic && !(opt.epsilon > 0 && opt.epsilon < 1))
    throw_domain_error(fn, "options.epsilon", "is ", opt.epsilon, " but must be in (0, 1)");
  if (opt.neighbors < 0 || opt.neighbors >= n)
    throw_invalid_argument(fn, "options.neighbors", "is ", opt.neighbors,
                           " but must be 0 (dense) or in [1, ", n - 1,
                           "] (fewer than the rows of X)");
  require_finite(X, fn, "X");
  if (opt.neighbors > 0) return facility_graph_location(policy, X, budget, opt, fn);

  // Rows as contiguous vectors: X itself when its rows are, else a packed copy.
  std::vector<value_t> packed;
  const value_t* base = X.data();
  index_t ld = X.stride(0);
  if (X.stride(1) != 1 && d > 1) {
    packed.resize(static_cast<std::size_t>(checked_mul(n, d, fn, "X")));
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < d; ++j) packed[std::size_t(i * d + j)] = X(i, j);
    base = packed.data();
    ld = d;
  }
  const facility_rows<value_t> rows{base, ld, n, d};
  const index_t sample_max = opt.method == facility_greedy::stochastic
                                 ? facility_sample_size(n, budget, opt.epsilon, n)
                                 : facility_panel;
  auto engine = [&] {
    if constexpr (std::is_same<value_t, float>::value)
      return facility_float_engine(policy, rows, std::max(sample_max, facility_panel), fn);
    else
      return facility_double_engine{rows};
  }();
  if constexpr (std::is_same<value_t, float>::value) {
    if (opt.method == facility_greedy::lazy) engine.build_screen(policy, fn);
  }

  facility_location_result res;
  res.order.reserve(static_cast<std::size_t>(budget));
  res.gains.reserve(static_cast<std::size_t>(budget));
  auto check_M = [&](double M) {
    if (!std::isfinite(M))
      throw_domain_error(fn, "X", "has squared distances that overflow a ",
                         std::is_same<value_t, float>::value ? "float" : "double");
    res.max_sq_distance = M;
  };

  // mind[i]: squared distance of row i to the chosen set (M for the empty set, sim = 0).
  std::vector<double> mind(static_cast<std::size_t>(n), std::numeric_limits<double>::infinity());
  std::vector<char> chosen(static_cast<std::size_t>(n), 0);
  auto pick = [&](index_t c, double gain) {
    res.order.push_back(c);
    res.gains.push_back(gain);
    chosen[std::size_t(c)] = 1;
    engine.add(policy, mind.data(), c);
    mind[std::size_t(c)] = 0;  // D(c, c) is 0 already (add set it); explicit for clarity
  };
  // The gains of step 2 for every row into `gains` (naive and lazy). Step 1 picks the row c1
  // nearest the mean; m_i = min(M, D(i, c1)) = D(i, c1) does not depend on M, so for float X
  // the pass over all pairs of step 2 also yields M (no pass of its own). c1's gain is
  // sum_i max(0, M - D(i, c1)) = sum_i max(0, M - m_i), summed like any gain.
  auto first_two_steps = [&](std::vector<double>& gains) {
    const index_t c1 = facility_first_pick(rows);
    double M = 0;
    if (!(decltype(engine)::fuses_max && budget > 1)) check_M(M = engine.max_sq_distance(policy));
    engine.set_minima(mind.data());
    pick(c1, 0.0);
    engine.set_minima(mind.data());
    if (budget > 1) {
      gains.resize(static_cast<std::size_t>(n));
      engine.gains_all(policy, mind.data(), gains.data(),
                       decltype(engine)::fuses_max ? &M : nullptr);
      if (decltype(engine)::fuses_max) check_M(M);
      res.evaluations += n - 1;
    }
    double g1 = 0;
    for (index_t b = 0; b < n; b += facility_chunk) {
      double part = 0;
      for (index_t i = b; i < std::min(n, b + facility_chunk); ++i) {
        const double t = M - mind[std::size_t(i)];
        if (t > 0) part += t;
      }
      g1 += part;
    }
    res.gains[0] = g1;
    res.evaluations += 1;
  };

  if (opt.method == facility_greedy::naive) {
    std::vector<double> gains;
    first_two_steps(gains);
    for (index_t t = 1; t < budget; ++t) {
      if (t > 1) {
        engine.gains_all(policy, mind.data(), gains.data());  // chosen rows' gains unused
        res.evaluations += n - t;
      }
      index_t best = -1;  // ascending rows: the first maximum is the smallest row
      for (index_t q = 0; q < n; ++q)
        if (!chosen[std::size_t(q)] && (best < 0 || gains[std::size_t(q)] > gains[std::size_t(best)]))
          best = q;
      pick(best, gains[std::size_t(best)]);
    }
  } else if (opt.method == facility_greedy::lazy) {
    std::vector<double> gains;
    first_two_steps(gains);  // step 2 evaluates every row (no stale bound exists yet)
    if (budget > 1) {
      std::vector<facility_entry> heap;
      heap.reserve(static_cast<std::size_t>(n - 1));
      for (index_t i = 0; i < n; ++i)
        if (!chosen[std::size_t(i)]) heap.push_back({gains[std::size_t(i)], i, 1});
      std::vector<double>().swap(gains);
      const facility_entry_below below;
      std::make_heap(heap.begin(), heap.end(), below);
      std::vector<facility_entry> fresh_aside;
      for (index_t t = 1; t < budget; ++t) {
        for (;;) {
          std::pop_heap(heap.begin(), heap.end(), below);
          if (heap.back().step == t) break;  // fresh: at least every other entry's upper bound
          // Re-evaluate the stale top together with the next stale entries in heap order (a
          // full panel costs the screen no more than one row; fresh entries met on the way go
          // back): extra fresh gains are still upper bounds, so the choice is unchanged.
          index_t m = 0;
          index_t batch_rows[facility_panel];
          batch_rows[m++] = heap.back().row;
          heap.pop_back();
          fresh_aside.clear();
          while (m < facility_panel && !heap.empty()) {
            std::pop_heap(heap.begin(), heap.end(), below);
            if (heap.back().step == t)
              fresh_aside.push_back(heap.back());
            else
              batch_rows[m++] = heap.back().row;
            heap.pop_back();
          }
          for (const auto& f : fresh_aside) {
            heap.push_back(f);
            std::push_heap(heap.begin(), heap.end(), below);
          }
          double fresh[facility_panel];
          engine.gains_few(policy, mind.data(), batch_rows, m, fresh);
          res.evaluations += m;
          for (index_t q = 0; q < m; ++q) {
            heap.push_back({fresh[q], batch_rows[q], t});
            std::push_heap(heap.begin(), heap.end(), below);
          }
        }
        const facility_entry top = heap.back();
        heap.pop_back();
        pick(top.row, top.gain);
      }
    }
  } else {
    const double M = engine.max_sq_distance(policy);
    check_M(M);
    std::fill(mind.begin(), mind.end(), M);
    engine.set_minima(mind.data());
    facility_sampler sampler(opt.seed, n, budget, opt.epsilon);
    std::vector<double> gains;
    for (index_t t = 0; t < budget; ++t) {
      const index_t s = sampler.draw(t);
      gains.resize(static_cast<std::size_t>(s));
      engine.gains_rows(policy, mind.data(), sampler.rem.data(), s, gains.data());
      res.evaluations += s;
      double gain = 0;
      const index_t c = sampler.take(t, gains.data(), s, gain);
      pick(c, gain);
    }
  }

  // f(S) = sum_i (M - mind[i]), chunks of rows folded in order.
  const double M = res.max_sq_distance;
  res.objective = 0;
  for (index_t b = 0; b < n; b += facility_chunk) {
    double s = 0;
    for (index_t i = b; i < std::min(n, b + facility_chunk); ++i) s += M - mind[std::size_t(i)];
    res.objective += s;
  }
  return res;
}

}  // namespace detail

template <class Policy, class T>
facility_location_result facility_location(const Policy& policy, matrix_view<T> X,
                                           index_t budget,
                                           const facility_location_options& options) {
  return detail::facility_location_impl(policy, X, budget, options);
}

template <class T>
facility_location_result facility_location(matrix_view<T> X, index_t budget,
                                           const facility_location_options& options) {
  return detail::facility_location_impl(seq, X, budget, options);
}

inline std::size_t facility_location_workspace_bytes(index_t n, index_t d,
                                                     std::size_t element_size,
                                                     bool rows_contiguous,
                                                     const facility_location_options& options,
                                                     index_t budget) {
  const auto un = static_cast<std::size_t>(n);
  const auto ud = static_cast<std::size_t>(d);
  auto aligned = [](std::size_t bytes) {
    return detail::allocation_request(bytes, detail::allocation_alignment(bytes));
  };
  if (options.neighbors > 0) {
    // Summed although they do not all live at once: the kNN result (n k indices and
    // distances), one thread's kNN workspace and the shared packed rows, the reverse graph
    // (offsets, 16 bytes per edge, a fill cursor per row), cur + chosen, then per method the
    // gains, the heap, or the sampler's rows and sample gains.
    const auto uk = static_cast<std::size_t>(options.neighbors);
    knn_options ko;
    ko.k = options.neighbors;
    std::size_t g = un * uk * (sizeof(index_t) + element_size);
    g += knn_workspace_bytes(n, n, d, ko, element_size);
    g += aligned((un + 48) * (ud + 1) * element_size) + un * sizeof(double) + ud * sizeof(double);
    g += (un + 1) * sizeof(index_t) + un * (uk + 1) * (sizeof(index_t) + sizeof(double)) +
         un * sizeof(index_t);
    g += un * sizeof(double) + un;
    switch (options.method) {
      case facility_greedy::naive:
        g += un * sizeof(double);
        break;
      case facility_greedy::lazy:
        g += un * (sizeof(double) + sizeof(detail::facility_entry));
        break;
      case facility_greedy::stochastic: {
        const index_t s = budget >= 1 && budget <= n
                              ? detail::facility_sample_size(n, budget, options.epsilon, n)
                              : n;
        g += un * sizeof(index_t) + static_cast<std::size_t>(s) * sizeof(double);
        break;
      }
    }
    return g;
  }
  std::size_t bytes = un * sizeof(double) + un;  // mind + chosen flags
  bytes += ud * sizeof(double);                   // column sums of the first pick
  // partials and error slots of the largest parallel loop (grain 16 rows or one panel), and
  // the per-chunk sums of a lazy re-evaluation
  bytes += static_cast<std::size_t>(chunk_count(n, 16)) * (sizeof(double) + sizeof(void*));
  bytes += static_cast<std::size_t>(chunk_count(n, detail::facility_chunk)) *
           (detail::facility_panel * sizeof(double) + sizeof(void*));
  const index_t s = options.method == facility_greedy::stochastic && budget >= 1 && budget <= n
                        ? detail::facility_sample_size(n, budget, options.epsilon, n)
                        : options.method == facility_greedy::stochastic ? n : 0;
  switch (options.method) {
    case facility_greedy::naive:
      bytes += un * (sizeof(index_t) + sizeof(double));  // every row's gain (+ row list)
      break;
    case facility_greedy::lazy:
      // the second step's gains (+ row list), then the heap and the fresh entries set aside
      bytes += un * (sizeof(index_t) + sizeof(double) + 2 * sizeof(detail::facility_entry));
      break;
    case facility_greedy::stochastic:
      bytes += un * sizeof(index_t) + static_cast<std::size_t>(s) * sizeof(double);
      break;
  }
  if (element_size == sizeof(float)) {
    // every row in panels, and panels of arbitrary rows (the sample, or one lazy panel)
    const auto panel = static_cast<std::size_t>(detail::facility_panel);
    bytes += aligned((un + panel - 1) / panel * panel * ud * sizeof(float));
    const std::size_t spare = std::max<std::size_t>(static_cast<std::size_t>(s), panel);
    bytes += aligned((spare + panel - 1) / panel * panel * ud * sizeof(float));
    if (options.method == facility_greedy::lazy && detail::facility_screen_built &&
        d >= detail::facility_screen_min_d && d <= detail::quantised_screen_max_d) {
      const auto stride = static_cast<std::size_t>(detail::quantised_stride(d));
      bytes += aligned(un * stride);                              // row codes
      bytes += un * (3 * sizeof(double) + 3 * sizeof(float));     // s, a, e; s, a, t in float
      bytes += sizeof(detail::facility_qpanel) + aligned((ud + 3) / 4 * 64);  // panel codes
    }
  }
  if (!rows_contiguous) bytes += un * ud * element_size;
  return bytes;
}

}  // namespace ladle

#include "ladle/selection/detail/facility_graph_impl.hpp"
