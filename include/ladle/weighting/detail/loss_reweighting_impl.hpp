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
  using TV = std::remove_const_t<T>;
  return parallel_reduce(
      policy, x.extent(0), loss_weight_grain, loss_range{},
      [&](index_t b, index_t e) {
        // Min, max and "saw a non-finite value" without an early exit, in the losses' own type
        // (widening to double afterwards is exact and monotone); the offending index is searched
        // for only when one was seen. (v - v) is NaN exactly for NaN and +-Inf.
        TV lo = std::numeric_limits<TV>::infinity(), hi = -lo, nan_seen = 0;
        index_t i = b;
#if LADLE_HAS_SIMD
        if (x.stride(0) == 1) {
          using B = simd::batch<TV>;
          constexpr index_t lanes = static_cast<index_t>(simd::lanes<TV>);
          const TV* p = x.data();
          // Four independent sets of accumulators, so the compare-and-blend chains overlap. Named
          // ones: GCC keeps an array of batches in memory, which ran this scan 4x slower.
          B lo0(lo), lo1(lo), lo2(lo), lo3(lo), hi0(hi), hi1(hi), hi2(hi), hi3(hi);
          B nan0(TV(0)), nan1(TV(0)), nan2(TV(0)), nan3(TV(0));
          const auto step = [](B& l, B& h, B& nn, const TV* q) {
            const B v = B::load_unaligned(q);
            nn = nn + (v - v);
            l = simd::select(v < l, v, l);
            h = simd::select(v > h, v, h);
          };
          for (; i + 4 * lanes <= e; i += 4 * lanes) {
            step(lo0, hi0, nan0, p + i);
            step(lo1, hi1, nan1, p + i + lanes);
            step(lo2, hi2, nan2, p + i + 2 * lanes);
            step(lo3, hi3, nan3, p + i + 3 * lanes);
          }
          for (; i + lanes <= e; i += lanes) step(lo0, hi0, nan0, p + i);
          nan0 = (nan0 + nan1) + (nan2 + nan3);
          lo0 = simd::select(lo1 < lo0, lo1, lo0);
          lo2 = simd::select(lo3 < lo2, lo3, lo2);
          lo0 = simd::select(lo2 < lo0, lo2, lo0);
          hi0 = simd::select(hi1 > hi0, hi1, hi0);
          hi2 = simd::select(hi3 > hi2, hi3, hi2);
          hi0 = simd::select(hi2 > hi0, hi2, hi0);
          if (!simd::count(xsimd::isnan(nan0))) {
            lo = simd::reduce_min(lo0);
            hi = simd::reduce_max(hi0);
          } else {
            nan_seen = std::numeric_limits<TV>::quiet_NaN();
          }
        }
#endif
        for (; i < e; ++i) {
          const TV v = x(i);
          nan_seen = nan_seen + (v - v);
          lo = v < lo ? v : lo;
          hi = v > hi ? v : hi;
        }
        loss_range r;
        r.lo = static_cast<double>(lo);
        r.hi = static_cast<double>(hi);
        if (std::isnan(nan_seen))
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

// f(loss) after the [-delta, delta] mapping, one type per strategy, each written once for a
// scalar double and a batch of doubles (the lane_* operations round alike), so a SIMD body and
// its scalar tail give the same bits.
// In float lanes the division by denom is a product with delta / denom (rounded once from
// double): a division costs about ten products there. The product is rounded on its own
// (lane_mul), or GCC would fuse it into lin_upper's "+ delta" where the ISA has an FMA only.
struct mapped_h {
  double delta, lo, hi, denom;
  template <class V>
  LADLE_FORCE_INLINE V operator()(V l) const noexcept {
    if constexpr (std::is_same<typename lane_scalar<V>::type, float>::value)
      return lane_mul((V(2.0f) * l - V(static_cast<float>(hi))) - V(static_cast<float>(lo)),
                      V(static_cast<float>(delta / denom)));
    else
      return V(delta) * ((V(2.0) * l - V(hi)) - V(lo)) / V(denom);
  }
};
struct f_identity {
  template <class V>
  LADLE_FORCE_INLINE V operator()(V l) const noexcept { return l; }
};
struct f_lin_upper {
  mapped_h h;
  template <class V>
  LADLE_FORCE_INLINE V operator()(V l) const noexcept {
    return lane_min(h(l) + V(h.delta), V(h.delta));
  }
};
struct f_quadratic {
  mapped_h h;
  template <class V>
  LADLE_FORCE_INLINE V operator()(V l) const noexcept {
    const V v = h(l);
    return V(1.0) - lane_mul(v, v) / V(h.delta * h.delta);
  }
};
struct f_extremes {
  mapped_h h;
  template <class V>
  LADLE_FORCE_INLINE V operator()(V l) const noexcept { return lane_abs(h(l)); }
};
struct f_upper {
  mapped_h h;
  template <class V>
  LADLE_FORCE_INLINE V operator()(V l) const noexcept { return h(l) / V(2.0) + V(h.delta / 2.0); }
};

#if LADLE_HAS_SIMD
template <class W>
struct lanes_of;
template <>
struct lanes_of<double> {
  using type = double_lanes;
  template <class T>
  static LADLE_FORCE_INLINE type load(const T* p) noexcept { return load_double_lanes(p); }
};
template <>
struct lanes_of<float> {
  using type = float_lanes;
  static LADLE_FORCE_INLINE type load(const float* p) noexcept { return load_float_lanes(p); }
};
#endif

// out = softmax(f(losses) / r) with m = max f given, computed in W (double; float for float
// losses and weights, see loss_reweighting.hpp). One pass per chunk of 2^14 computes each
// exponential, stores it and adds the stored value, widened to double, to eight partial sums
// (element i of the chunk to sum i mod 8; SIMD lanes of 2, 4 or 8 doubles hold the same eight
// sums), combined in a fixed tree; chunk sums are added in chunk order; a second pass scales in
// double. So the bits depend neither on the policy nor on the instruction set.
template <class W, class Policy, class T, class U, class F>
void transformed_softmax_into(const Policy& policy, vector_view<T> losses, vector_view<U> out,
                              const F& f, W m, double r) {
  const index_t n = losses.extent(0);
  [[maybe_unused]] const bool flat = losses.stride(0) == 1 && out.stride(0) == 1;
  // Float lanes multiply by 1 / r (rounded once from double) instead of dividing.
  const W r_inv = static_cast<W>(1.0 / r);
  const auto weight = [&](auto l) {
    using V = decltype(l);
    if constexpr (std::is_same<W, float>::value)
      return exp_nonpositive(lane_mul(f(l) - V(m), V(r_inv)));
    else
      return exp_nonpositive((f(l) - V(m)) / V(r));
  };
  const double sum = parallel_reduce(
      policy, n, loss_weight_grain, 0.0,
      [&](index_t b, index_t e) {
        double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        index_t i = b;
#if LADLE_HAS_SIMD
        if (flat) {
          using L = lanes_of<W>;
          constexpr index_t wl = static_cast<index_t>(simd::lanes<W>);
          constexpr index_t dl = static_cast<index_t>(simd::lanes<double>);
          static_assert(8 % dl == 0 && 32 % wl == 0, "blocks of 32 fill whole batches");
          constexpr index_t per_block = 8 / dl;
          const auto* LADLE_RESTRICT x = losses.data();
          U* LADLE_RESTRICT o = out.data();
          double_lanes acc[per_block];
          for (index_t k = 0; k < per_block; ++k) acc[k] = double_lanes(0.0);
          // 32 values per step: independent exponentials the core can overlap; the stored
          // values are read back (from L1) as doubles, element i at sum lane i % 8.
          for (; i + 32 <= e; i += 32) {
            typename L::type w[32 / wl];
            for (index_t k = 0; k < 32 / wl; ++k) w[k] = weight(L::load(x + i + k * wl));
            for (index_t k = 0; k < 32 / wl; ++k) store_lanes(w[k], o + i + k * wl);
            for (index_t k = 0; k < 32 / dl; ++k)
              acc[k % per_block] += load_double_lanes(o + i + k * dl);
          }
          for (index_t k = 0; k < per_block; ++k) acc[k].store_unaligned(s + k * dl);
        }
#endif
        for (; i < e; ++i) {
          const U w = static_cast<U>(weight(static_cast<W>(losses(i))));
          out(i) = w;
          s[(i - b) % 8] += static_cast<double>(w);
        }
        return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
      },
      [](double a, double b) { return a + b; });
  const double inv = 1.0 / sum;
  parallel_for(policy, n, loss_weight_grain, [&](index_t b, index_t e) {
    index_t i = b;
#if LADLE_HAS_SIMD
    if (flat) {
      constexpr index_t lanes = static_cast<index_t>(simd::lanes<double>);
      U* LADLE_RESTRICT o = out.data();
      const double_lanes vinv(inv);
      for (; i + lanes <= e; i += lanes)
        store_double_lanes(load_double_lanes(o + i) * vinv, o + i);
    }
#endif
    for (; i < e; ++i) out(i) = static_cast<U>(static_cast<double>(out(i)) * inv);
  });
}

// max_i f(l_i) in W: rounding is monotone, so a non-decreasing f peaks at the largest loss, |h|
// at one of the ends; the quadratic needs a scan.
template <class W, class Policy, class T, class F>
W max_of(const Policy& policy, vector_view<T> losses, const F& f) {
  return parallel_reduce(
      policy, losses.extent(0), loss_weight_grain, -std::numeric_limits<W>::infinity(),
      [&](index_t b, index_t e) {
        W mx = -std::numeric_limits<W>::infinity();
        for (index_t i = b; i < e; ++i) mx = std::max(mx, f(static_cast<W>(losses(i))));
        return mx;
      },
      [](W a, W b) { return std::max(a, b); });
}

// Float losses into float weights are computed in float (16 lanes per AVX-512 register instead
// of 8) when every constant and intermediate stays well inside float's range; otherwise, and for
// any double view, in double.
template <class T, class U>
inline constexpr bool float_io =
    std::is_same<std::remove_const_t<T>, float>::value && std::is_same<U, float>::value;

inline bool float_lanes_fit(const loss_range& range, double delta, double r) {
  const double big = 1e30, small = 1e-30;
  return std::max(std::abs(range.lo), std::abs(range.hi)) <= big && delta <= big &&
         delta >= small && r >= small && (r <= big || r == std::numeric_limits<double>::infinity());
}

// The loss-based weights for a strategy other than uniform, in W.
template <class W, class Policy, class T, class U>
void loss_weights_in(const Policy& policy, vector_view<T> losses, vector_view<U> out,
                     const loss_reweighting_options& opts, const loss_range& range) {
  const mapped_h h{opts.delta, range.lo, range.hi, std::max(range.hi - range.lo, 1e-6)};
  const W lo = static_cast<W>(range.lo), hi = static_cast<W>(range.hi);
  const double r = opts.r;
  switch (opts.strategy) {
    case loss_strategy::lin_upper: {
      const f_lin_upper f{h};
      transformed_softmax_into<W>(policy, losses, out, f, f(hi), r);
      break;
    }
    case loss_strategy::upper: {
      const f_upper f{h};
      transformed_softmax_into<W>(policy, losses, out, f, f(hi), r);
      break;
    }
    case loss_strategy::extremes: {
      const f_extremes f{h};
      transformed_softmax_into<W>(policy, losses, out, f, std::max(f(lo), f(hi)), r);
      break;
    }
    case loss_strategy::quadratic: {
      const f_quadratic f{h};
      transformed_softmax_into<W>(policy, losses, out, f, max_of<W>(policy, losses, f), r);
      break;
    }
    case loss_strategy::uniform: break;  // handled by the caller
  }
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
  if constexpr (detail::float_io<T, U>) {
    if (detail::float_lanes_fit(range, opts.delta, opts.r))
      return detail::loss_weights_in<float>(policy, losses, out, opts, range);
  }
  detail::loss_weights_in<double>(policy, losses, out, opts, range);
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
  if constexpr (detail::float_io<T, U>) {
    if (detail::float_lanes_fit(range, 1.0, r))
      return detail::transformed_softmax_into<float>(policy, losses, out, detail::f_identity{},
                                                     static_cast<float>(range.hi), r);
  }
  detail::transformed_softmax_into<double>(policy, losses, out, detail::f_identity{}, range.hi, r);
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
