// Definitions for ladle/weighting/loss_reweighting.hpp.
#pragma once

#include "ladle/weighting/detail/common.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ladle {
namespace detail {

constexpr index_t loss_weight_grain = index_t(1) << 14;

struct loss_range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  index_t bad = -1;  // first non-finite index
};

template <class Policy, class T>
loss_range range_of_losses(const Policy& policy, vector_view<T> x) {
  return parallel_reduce(
      policy, x.extent(0), loss_weight_grain, loss_range{},
      [&](index_t b, index_t e) {
        // Eight lanes of min / max / "saw a non-finite value" without an early exit (so the
        // loop vectorises); the offending index is searched for only when one was seen.
        double lo[8], hi[8];
        bool bad[8];
        for (int l = 0; l < 8; ++l) {
          lo[l] = std::numeric_limits<double>::infinity();
          hi[l] = -std::numeric_limits<double>::infinity();
          bad[l] = false;
        }
        index_t i = b;
        if (x.stride(0) == 1) {
          const T* p = x.data();
          for (; i + 8 <= e; i += 8)
            for (int l = 0; l < 8; ++l) {
              const double v = static_cast<double>(p[i + l]);
              bad[l] = bad[l] | !(std::abs(v) <= std::numeric_limits<double>::max());
              lo[l] = v < lo[l] ? v : lo[l];
              hi[l] = v > hi[l] ? v : hi[l];
            }
        }
        for (; i < e; ++i) {
          const double v = static_cast<double>(x(i));
          bad[0] = bad[0] | !(std::abs(v) <= std::numeric_limits<double>::max());
          lo[0] = v < lo[0] ? v : lo[0];
          hi[0] = v > hi[0] ? v : hi[0];
        }
        loss_range r;
        bool any_bad = false;
        for (int l = 0; l < 8; ++l) {
          any_bad = any_bad || bad[l];
          r.lo = std::min(r.lo, lo[l]);
          r.hi = std::max(r.hi, hi[l]);
        }
        if (any_bad)
          for (index_t k = b; k < e; ++k)
            if (!std::isfinite(static_cast<double>(x(k)))) {
              r.bad = k;
              break;
            }
        return r;
      },
      [](loss_range acc, const loss_range& p) {
        if (acc.bad < 0 && p.bad >= 0) acc.bad = p.bad;
        acc.lo = std::min(acc.lo, p.lo);
        acc.hi = std::max(acc.hi, p.hi);
        return acc;
      });
}

// f(loss) after the [-delta, delta] mapping, one type per strategy so each inner loop is a
// straight-line body the compiler can vectorise.
struct mapped_h {
  double delta, lo, hi, denom;
  double operator()(double l) const noexcept { return delta * ((2.0 * l - hi) - lo) / denom; }
};
struct f_identity {
  double operator()(double l) const noexcept { return l; }
};
struct f_lin_upper {
  mapped_h h;
  double operator()(double l) const noexcept { return std::min(h(l) + h.delta, h.delta); }
};
struct f_quadratic {
  mapped_h h;
  double operator()(double l) const noexcept {
    const double v = h(l);
    return 1.0 - (v * v) / (h.delta * h.delta);
  }
};
struct f_extremes {
  mapped_h h;
  double operator()(double l) const noexcept { return std::abs(h(l)); }
};
struct f_upper {
  mapped_h h;
  double operator()(double l) const noexcept { return h(l) / 2.0 + h.delta / 2.0; }
};

// out = softmax(f(losses) / r) with max f = m given, chunked so the bits do not depend on the
// policy: per chunk of 2^14 a fixed eight-way summation pattern, chunk sums in chunk order.
template <class Policy, class T, class U, class F>
void transformed_softmax_into(const Policy& policy, vector_view<T> losses, vector_view<U> out,
                              const F& f, double m, double r) {
  const index_t n = losses.extent(0);
  const bool flat = losses.stride(0) == 1 && out.stride(0) == 1;
  const double sum = parallel_reduce(
      policy, n, loss_weight_grain, 0.0,
      [&](index_t b, index_t e) {
        // Exponentials first (a loop the compiler can vectorise), then eight interleaved partial
        // sums in a fixed pattern, combined in a fixed tree.
        if (flat) {
          const T* LADLE_RESTRICT x = losses.data();
          U* LADLE_RESTRICT o = out.data();
          index_t i = b;
          // Blocks of eight straight-line lanes: GCC's -O2 SLP vectoriser turns them into SIMD
          // (each lane is the same sequence of correctly rounded operations, so the bits match
          // the scalar tail's).
          for (; i + 8 <= e; i += 8) {
            double t[8];
            for (int l = 0; l < 8; ++l)
              t[l] = exp_nonpositive((f(static_cast<double>(x[i + l])) - m) / r);
            for (int l = 0; l < 8; ++l) o[i + l] = static_cast<U>(t[l]);
          }
          for (; i < e; ++i)
            o[i] = static_cast<U>(exp_nonpositive((f(static_cast<double>(x[i])) - m) / r));
        } else {
          for (index_t i = b; i < e; ++i)
            out(i) = static_cast<U>(exp_nonpositive((f(static_cast<double>(losses(i))) - m) / r));
        }
        double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        index_t i = b;
        if (flat) {
          const U* LADLE_RESTRICT o = out.data();
          for (; i + 8 <= e; i += 8)
            for (int l = 0; l < 8; ++l) s[l] += static_cast<double>(o[i + l]);
        }
        for (; i < e; ++i) s[(i - b) % 8] += static_cast<double>(out(i));
        return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
      },
      [](double a, double b) { return a + b; });
  const double inv = 1.0 / sum;
  parallel_for(policy, n, loss_weight_grain, [&](index_t b, index_t e) {
    if (flat) {
      U* LADLE_RESTRICT o = out.data();
      index_t i = b;
      for (; i + 8 <= e; i += 8)
        for (int l = 0; l < 8; ++l) o[i + l] = static_cast<U>(static_cast<double>(o[i + l]) * inv);
      for (; i < e; ++i) o[i] = static_cast<U>(static_cast<double>(o[i]) * inv);
    } else {
      for (index_t i = b; i < e; ++i) out(i) = static_cast<U>(static_cast<double>(out(i)) * inv);
    }
  });
}

// max_i f(l_i): rounding is monotone, so a non-decreasing f peaks at the largest loss, |h| at
// one of the ends; the quadratic needs a scan.
template <class Policy, class T, class F>
double max_of(const Policy& policy, vector_view<T> losses, const F& f) {
  return parallel_reduce(
      policy, losses.extent(0), loss_weight_grain, -std::numeric_limits<double>::infinity(),
      [&](index_t b, index_t e) {
        double mx = -std::numeric_limits<double>::infinity();
        for (index_t i = b; i < e; ++i) mx = std::max(mx, f(static_cast<double>(losses(i))));
        return mx;
      },
      [](double a, double b) { return std::max(a, b); });
}

template <class Policy, class T, class U>
void check_loss_weight_io(const Policy&, vector_view<T> losses, vector_view<U> out, const char* fn) {
  require_float_input<T>(fn);
  require_writable_float<U>(fn);
  require_host(losses, fn, "losses");
  require_host(out, fn, "out");
  require_nonempty(losses, fn, "losses");
  require_extent(out.extent(0), losses.extent(0), fn, "out", "length");
  require_disjoint(out, "out", losses, "losses", fn);
}

inline void check_temperature_r(double r, const char* fn) {
  if (!(r > 0)) throw_domain_error(fn, "r", "must be > 0, got ", r);
}

}  // namespace detail

template <class Policy, class T, class U>
void loss_based_weights_into(const Policy& policy, vector_view<T> losses, vector_view<U> out,
                             const loss_reweighting_options& opts, std::int64_t step) {
  const char* fn = "loss_based_weights_into";
  detail::check_loss_weight_io(policy, losses, out, fn);
  detail::check_temperature_r(opts.r, fn);
  detail::require_positive_finite(opts.delta, fn, "delta");
  const auto range = detail::range_of_losses(policy, losses);
  if (range.bad >= 0)
    throw_domain_error(fn, "losses", "element ", range.bad, " is not finite (", losses(range.bad),
                       ")");
  const index_t n = losses.extent(0);
  if (step < opts.warmup_steps || opts.strategy == loss_strategy::uniform) {
    const U u = static_cast<U>(1.0 / static_cast<double>(n));
    parallel_for(policy, n, detail::loss_weight_grain, [&](index_t b, index_t e) {
      for (index_t i = b; i < e; ++i) out(i) = u;
    });
    return;
  }
  const detail::mapped_h h{opts.delta, range.lo, range.hi, std::max(range.hi - range.lo, 1e-6)};
  switch (opts.strategy) {
    case loss_strategy::lin_upper: {
      const detail::f_lin_upper f{h};
      detail::transformed_softmax_into(policy, losses, out, f, f(range.hi), opts.r);
      break;
    }
    case loss_strategy::upper: {
      const detail::f_upper f{h};
      detail::transformed_softmax_into(policy, losses, out, f, f(range.hi), opts.r);
      break;
    }
    case loss_strategy::extremes: {
      const detail::f_extremes f{h};
      detail::transformed_softmax_into(policy, losses, out, f,
                                       std::max(f(range.lo), f(range.hi)), opts.r);
      break;
    }
    case loss_strategy::quadratic: {
      const detail::f_quadratic f{h};
      detail::transformed_softmax_into(policy, losses, out, f, detail::max_of(policy, losses, f),
                                       opts.r);
      break;
    }
    case loss_strategy::uniform: break;  // handled above
  }
}

template <class T>
std::vector<std::remove_const_t<T>> loss_based_weights(vector_view<T> losses,
                                                       const loss_reweighting_options& opts,
                                                       std::int64_t step) {
  std::vector<std::remove_const_t<T>> out(static_cast<std::size_t>(losses.extent(0)));
  loss_based_weights_into(seq, losses, make_view(out.data(), out.size()), opts, step);
  return out;
}

template <class Policy, class T, class U>
void kl_dro_weights_into(const Policy& policy, vector_view<T> losses, vector_view<U> out, double r) {
  const char* fn = "kl_dro_weights_into";
  detail::check_loss_weight_io(policy, losses, out, fn);
  detail::check_temperature_r(r, fn);
  const auto range = detail::range_of_losses(policy, losses);
  if (range.bad >= 0)
    throw_domain_error(fn, "losses", "element ", range.bad, " is not finite (", losses(range.bad),
                       ")");
  detail::transformed_softmax_into(policy, losses, out, detail::f_identity{}, range.hi, r);
}

template <class T>
std::vector<std::remove_const_t<T>> kl_dro_weights(vector_view<T> losses, double r) {
  std::vector<std::remove_const_t<T>> out(static_cast<std::size_t>(losses.extent(0)));
  kl_dro_weights_into(seq, losses, make_view(out.data(), out.size()), r);
  return out;
}

inline double data_parallel_loss_scale(index_t world_size, index_t local_batch_size,
                                       loss_reduction reduction) {
  const char* fn = "data_parallel_loss_scale";
  if (world_size < 1) throw_invalid_argument(fn, "world_size", "must be >= 1, got ", world_size);
  if (local_batch_size < 1)
    throw_invalid_argument(fn, "local_batch_size", "must be >= 1, got ", local_batch_size);
  const double w = static_cast<double>(world_size);
  return reduction == loss_reduction::sum ? w : w * static_cast<double>(local_batch_size);
}

}  // namespace ladle
