// ladle/quantization/detail/bitalloc_impl.hpp (detail): definitions for bit_allocation.hpp.
#pragma once

#include "ladle/core/fp_contract.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <queue>
#include <utility>

namespace ladle {
namespace detail {

struct bitalloc_problem {
  std::vector<double> a;  // 1/2 log2 s_i (-inf for s_i = 0)
  std::vector<double> s;
  std::vector<double> w;
  double budget = 0;      // avg * sum w
  double wsum = 0;
};

inline double bitalloc_fill(const bitalloc_problem& p, double theta, double lo, double hi) {
  double f = 0;
  for (std::size_t i = 0; i < p.a.size(); ++i) f += mul_rounded(p.w[i], std::min(hi, std::max(lo, p.a[i] + theta)));
  return f;
}

// Continuous water-filling; fills bits, theta and the bound counts.
inline void bitalloc_continuous(const bitalloc_problem& p, double avg, double lo, double hi,
                                bit_allocation& r) {
  const std::size_t n = p.a.size();
  r.bits.assign(n, 0.0);
  if (!std::isfinite(lo) && !std::isfinite(hi)) {
    // Closed form: theta = avg - weighted mean of a (all a finite here).
    double wa = 0;
    for (std::size_t i = 0; i < n; ++i) wa += mul_rounded(p.w[i], p.a[i]);
    r.water_level = avg - wa / p.wsum;
    for (std::size_t i = 0; i < n; ++i) r.bits[i] = p.a[i] + r.water_level;
    return;
  }
  double amin = std::numeric_limits<double>::infinity(), amax = -amin;
  double w_zero = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isfinite(p.a[i])) {
      amin = std::min(amin, p.a[i]);
      amax = std::max(amax, p.a[i]);
    } else {
      w_zero += p.w[i];
    }
  }
  if (!std::isfinite(amin)) {  // every sensitivity is zero: any feasible split; use uniform
    r.water_level = 0;
    std::fill(r.bits.begin(), r.bits.end(), avg);
    return;
  }
  // Bracket theta: f(t_lo) <= budget <= f(t_hi) (or f(t_hi) is the most the positive items take).
  double t_lo = (std::isfinite(lo) ? lo : avg - 1.0) - amax - 1.0;
  double t_hi = (std::isfinite(hi) ? hi : avg + 1.0) - amin + 1.0;
  while (bitalloc_fill(p, t_lo, lo, hi) > p.budget) t_lo -= mul_rounded(2.0, t_hi - t_lo);  // lo = -inf case
  while (!std::isfinite(hi) && bitalloc_fill(p, t_hi, lo, hi) < p.budget) t_hi += mul_rounded(2.0, t_hi - t_lo);
  if (bitalloc_fill(p, t_hi, lo, hi) < p.budget) {
    // Positive items all at max_bits; zero-sensitivity items take the rest (they cost nothing).
    r.water_level = t_hi;
    const double rest = (p.budget - mul_rounded(p.wsum - w_zero, hi)) / w_zero;
    for (std::size_t i = 0; i < n; ++i) r.bits[i] = std::isfinite(p.a[i]) ? hi : rest;
    r.at_max = static_cast<index_t>(std::count_if(p.a.begin(), p.a.end(), [](double x) { return std::isfinite(x); }));
    return;
  }
  for (int it = 0; it < 200 && t_hi - t_lo > 0; ++it) {
    const double mid = 0.5 * (t_lo + t_hi);
    if (mid <= t_lo || mid >= t_hi) break;
    (bitalloc_fill(p, mid, lo, hi) < p.budget ? t_lo : t_hi) = mid;
  }
  // Exact solve on the free set at the final bracket.
  double theta = 0.5 * (t_lo + t_hi);
  double fixed = 0, wfree = 0, afree = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = p.a[i] + theta;
    if (v <= lo) fixed += mul_rounded(p.w[i], lo);
    else if (v >= hi) fixed += mul_rounded(p.w[i], hi);
    else {
      wfree += p.w[i];
      afree += mul_rounded(p.w[i], p.a[i]);
    }
  }
  if (wfree > 0) {
    const double exact = (p.budget - fixed - afree) / wfree;
    if (std::fabs(exact - theta) <= mul_rounded(1e-6, 1.0 + std::fabs(theta))) theta = exact;
  }
  r.water_level = theta;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = p.a[i] + theta;
    if (v <= lo) {
      r.bits[i] = lo;
      ++r.at_min;
    } else if (v >= hi) {
      r.bits[i] = hi;
      ++r.at_max;
    } else {
      r.bits[i] = v;
    }
  }
}

// Greedy rounding: steps with the best gain per weighted bit first, within the budget.
inline void bitalloc_round(const bitalloc_problem& p, double lo, double hi, bool levels,
                           bit_allocation& r) {
  const std::size_t n = p.a.size();
  // Slack for the rounding of the running sum of n weighted bit counts (about n ulps of the
  // budget), never more than 1e-9 of it: a larger slack would let the greedy overspend by
  // millions of tiny level steps when items hold 2^40 levels or more.
  const double sum_rounding = mul_rounded(4.0 * static_cast<double>(n) * std::numeric_limits<double>::epsilon(),
                                          1.0 + std::fabs(p.budget));
  const double tol = std::min(mul_rounded(1e-9, 1.0 + std::fabs(p.budget)), sum_rounding);
  std::vector<double> units(n);  // bits (integer_bits) or levels (integer_levels)
  double u_lo, u_hi;
  if (levels) {
    u_lo = std::max(1.0, std::ceil(std::exp2(lo) - 1e-9));
    u_hi = std::min(std::isfinite(hi) ? std::floor(std::exp2(hi) + 1e-9) : 9.0e15, 9.0e15);  // < 2^53
  } else {
    u_lo = std::ceil(lo - 1e-12);
    u_hi = std::min(std::isfinite(hi) ? std::floor(hi + 1e-12) : 1.0e6, 1.0e6);
  }
  auto bits_of = [&](double u) { return levels ? std::log2(u) : u; };
  double spent = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double start = levels ? std::floor(std::exp2(r.bits[i]) + 1e-9) : std::floor(r.bits[i] + 1e-9);
    units[i] = std::min(u_hi, std::max(u_lo, start));
    spent += mul_rounded(p.w[i], bits_of(units[i]));
  }
  using entry = std::pair<double, std::size_t>;
  auto cmp = [](const entry& x, const entry& y) {
    return x.first < y.first || (x.first == y.first && x.second > y.second);  // ties: lower index
  };
  std::priority_queue<entry, std::vector<entry>, decltype(cmp)> heap(cmp);
  // Gain per weighted bit of item i's next unit at u units. With levels the gain is
  // s (1/u^2 - 1/(u+1)^2) = s (2u + 1) / (u^2 (u+1)^2) and the cost log2(1 + 1/u), both written
  // without cancellation: near 2^40 levels the naive differences keep three digits and let one
  // item of a tied group win hundreds of steps.
  auto ratio_at = [&](std::size_t i, double u) {
    if (!levels) return p.s[i] * 0.75 * std::exp2(-2.0 * u);
    const double gain = p.s[i] * (u + u + 1) / mul_rounded(mul_rounded(u, u), mul_rounded(u + 1, u + 1));
    return gain / (std::log1p(1.0 / u) / std::log(2.0));  // weights cancel in gain / cost
  };
  std::vector<char> active(n, 0);  // still in the running: not at max, not dropped
  auto push = [&](std::size_t i) {
    active[i] = units[i] + 1 <= u_hi && p.s[i] != 0;
    if (active[i]) heap.push({ratio_at(i, units[i]), i});
  };
  for (std::size_t i = 0; i < n; ++i) push(i);
  auto cost_of = [&](std::size_t i, double t) {  // weighted bits of t more units of item i
    return mul_rounded(p.w[i], levels ? std::log1p(t / units[i]) / std::log(2.0) : t);
  };
  // Units of active item i whose ratio is at least lambda (ratios fall as units grow).
  auto count_at = [&](std::size_t i, double lambda) {
    const double room = u_hi - units[i];
    if (!active[i] || ratio_at(i, units[i]) < lambda) return 0.0;
    double good = 1, bad = 2;
    while (bad <= room && ratio_at(i, units[i] + bad - 1) >= lambda) {
      good = bad;
      bad *= 2;
    }
    bad = std::min(bad, room + 1);
    while (bad - good > 1) {  // counts stay below 2^53: every midpoint is exact
      const double mid = std::floor((good + bad) / 2);
      (ratio_at(i, units[i] + mid - 1) >= lambda ? good : bad) = mid;
    }
    return good;
  };
  // The one-unit loop below is the textbook greedy: best ratio first, an item whose next unit
  // does not fit leaves the running (cheaper items may still fit). On ordinary inputs it ends
  // after about n pops. But the units left over by rounding can be worth millions of steps: a
  // nearly weightless item, or items near 2^30 levels sharing the bits a small item could not
  // use, and tied items then take them one at a time, in turn. So past a fixed number of pops
  // (and whenever a single step is below the resolution of the running sum, where one-unit
  // accounting cannot work) the loop jumps: every active item takes all its units with a ratio
  // of at least lambda, the smallest threshold whose total cost fits the budget. Those are
  // exactly the next steps the one-unit loop would take (every one of them fits, as all do
  // together), summed in closed form. The switch point depends only on n: results stay
  // deterministic.
  auto jump = [&]() {
    const double left = p.budget + tol - spent;
    if (heap.empty() || !(left > 0)) return false;
    auto total = [&](double lambda) {
      double c = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double m = count_at(i, lambda);
        if (m > 0) c += cost_of(i, m);
      }
      return c;
    };
    const double top = heap.top().first;
    if (!(top > 0) || !std::isfinite(top) || total(top) > left) return false;
    // Smallest positive double lambda with total(lambda) <= left, by bisection on its bits.
    std::uint64_t lo_bits = 0, hi_bits;  // total(lo) > left (or lo = 0), total(hi) <= left
    std::memcpy(&hi_bits, &top, sizeof top);
    while (hi_bits - lo_bits > 1) {
      const std::uint64_t mid_bits = lo_bits + (hi_bits - lo_bits) / 2;
      double mid;
      std::memcpy(&mid, &mid_bits, sizeof mid);
      (total(mid) <= left ? hi_bits : lo_bits) = mid_bits;
    }
    double lambda;
    std::memcpy(&lambda, &hi_bits, sizeof lambda);
    const double before = spent;
    for (std::size_t i = 0; i < n; ++i) {
      const double m = count_at(i, lambda);
      if (m > 0) {
        spent += cost_of(i, m);
        units[i] += m;
      }
    }
    if (spent == before) return false;
    while (!heap.empty()) heap.pop();
    for (std::size_t i = 0; i < n; ++i)
      if (active[i]) push(i);
    return true;
  };
  const std::size_t jump_after = 64 * n + 4096;
  std::size_t since_jump = 0;
  for (std::size_t pops = 0; !heap.empty(); ++pops) {
    if (pops >= jump_after && ++since_jump > n) {
      since_jump = 0;
      if (jump()) continue;
    }
    const std::size_t i = heap.top().second;
    const double step = cost_of(i, 1);
    if (spent + step > p.budget + tol) {  // does not fit; cheaper items may
      heap.pop();
      active[i] = 0;
      continue;
    }
    if (spent + step == spent) {  // below the sum's resolution: jump, or leave the item be
      if (jump()) continue;
      heap.pop();
      active[i] = 0;
      continue;
    }
    heap.pop();
    spent += step;
    units[i] += 1;
    push(i);
  }
  r.levels.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    r.bits[i] = bits_of(units[i]);
    r.levels[i] = levels ? static_cast<std::int64_t>(units[i])
                         : (units[i] >= 0 && units[i] < 62 ? std::int64_t(1) << static_cast<int>(units[i]) : 0);
  }
}

template <class T, class W>
bit_allocation allocate_bits_impl(vector_view<T> s, const W* weights, index_t wn, double avg,
                                  const bit_allocation_options& o) {
  const char* fn = "allocate_bits";
  require_host(s, fn, "sensitivities");
  require_nonempty(s, fn, "sensitivities");
  const index_t n = s.extent(0);
  if (weights != nullptr && wn != n)
    throw_invalid_argument(fn, "weights", "has ", wn, " entries but sensitivities has ", n);
  const double lo = o.min_bits, hi = o.max_bits;
  if (std::isnan(lo) || std::isnan(hi) || lo > hi || lo == std::numeric_limits<double>::infinity() ||
      hi == -std::numeric_limits<double>::infinity())
    throw_invalid_argument(fn, "options", "needs min_bits <= max_bits, got [", lo, ", ", hi, "]");
  if (!std::isfinite(avg) || avg < lo || avg > hi)
    throw_invalid_argument(fn, "average_bits", "must lie in [min_bits, max_bits] = [", lo, ", ", hi,
                           "], got ", avg);
  if (static_cast<unsigned>(o.rounding) > static_cast<unsigned>(bit_rounding::integer_levels))
    throw_invalid_argument(fn, "options.rounding", "is not a bit_rounding (", unsigned(o.rounding),
                           ")");
  if (o.rounding != bit_rounding::none && !std::isfinite(lo))
    throw_invalid_argument(fn, "options", "integer rounding needs a finite min_bits");
  detail::bitalloc_problem p;
  p.a.resize(static_cast<std::size_t>(n));
  p.s.resize(static_cast<std::size_t>(n));
  p.w.assign(static_cast<std::size_t>(n), 1.0);
  for (index_t i = 0; i < n; ++i) {
    const double si = static_cast<double>(s(i));
    if (!std::isfinite(si) || si < 0)
      throw_domain_error(fn, "sensitivities", "element ", i, " must be finite and >= 0, got ", si);
    if (si == 0 && !std::isfinite(lo))
      throw_domain_error(fn, "sensitivities", "element ", i, " is 0, which needs a finite min_bits");
    p.s[static_cast<std::size_t>(i)] = si;
    p.a[static_cast<std::size_t>(i)] = si > 0 ? 0.5 * std::log2(si) : -std::numeric_limits<double>::infinity();
    if (weights != nullptr) {
      const double wi = static_cast<double>(weights[i]);
      if (!std::isfinite(wi) || wi <= 0)
        throw_domain_error(fn, "weights", "element ", i, " must be finite and > 0, got ", wi);
      p.w[static_cast<std::size_t>(i)] = wi;
    }
  }
  for (double wi : p.w) p.wsum += wi;
  p.budget = avg * p.wsum;
  bit_allocation r;
  r.target_bits = avg;
  bitalloc_continuous(p, avg, lo, hi, r);
  // Integer levels are counted exactly in double and int64: at most 2^53 of them.
  constexpr double max_integer_bits = 53;
  if (o.rounding != bit_rounding::none)
    for (std::size_t i = 0; i < r.bits.size(); ++i)
      if (r.bits[i] > max_integer_bits)
        throw_domain_error(fn, "average_bits", "of ", avg, " gives element ", i, " ", r.bits[i],
                           " bits; integer rounding supports at most ", max_integer_bits,
                           " (2^53 levels)");
  if (o.rounding != bit_rounding::none)
    bitalloc_round(p, lo, hi, o.rounding == bit_rounding::integer_levels, r);
  double total = 0, err = 0;
  for (std::size_t i = 0; i < p.a.size(); ++i) {
    total += mul_rounded(p.w[i], r.bits[i]);
    err += mul_rounded(p.w[i] * p.s[i], std::exp2(-2.0 * r.bits[i]));
  }
  r.average_bits = total / p.wsum;
  r.model_error = err;
  return r;
}

}  // namespace detail

template <class T>
bit_allocation allocate_bits(vector_view<T> sensitivities, double average_bits,
                             bit_allocation_options options) {
  return detail::allocate_bits_impl<T, double>(sensitivities, nullptr, 0, average_bits, options);
}

template <class T, class W>
bit_allocation allocate_bits(vector_view<T> sensitivities, vector_view<W> weights,
                             double average_bits, bit_allocation_options options) {
  detail::require_host(weights, "allocate_bits", "weights");
  if (weights.extent(0) > 1 && weights.stride(0) != 1)
    throw_invalid_argument("allocate_bits", "weights", "must be contiguous");
  return detail::allocate_bits_impl(sensitivities, weights.data(), weights.extent(0), average_bits,
                                    options);
}

template <class T>
double bit_allocation_error(vector_view<T> sensitivities, const std::vector<double>& bits) {
  detail::require_host(sensitivities, "bit_allocation_error", "sensitivities");
  detail::require_extent(static_cast<index_t>(bits.size()), sensitivities.extent(0),
                         "bit_allocation_error", "bits", "length");
  double e = 0;
  for (index_t i = 0; i < sensitivities.extent(0); ++i)
    e += detail::mul_rounded(static_cast<double>(sensitivities(i)), std::exp2(-2.0 * bits[static_cast<std::size_t>(i)]));
  return e;
}

}  // namespace ladle
