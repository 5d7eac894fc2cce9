// ladle/quantization/detail/observers_impl.hpp: definitions for observers.hpp.
#pragma once

#include "ladle/core/fp_contract.hpp"
#include "ladle/quantization/detail/affine_impl.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace ladle {

// ---- min-max ----------------------------------------------------------------------------------

inline minmax_observer::minmax_observer(const quant_spec& spec) : spec_(spec) {
  spec_.validate("minmax_observer");
}

template <class Policy, class T, std::size_t R>
void minmax_observer::observe(const Policy& policy, tensor_view<T, R> x) {
  detail::aq::check_input_type<T>();
  detail::require_host(x, "minmax_observer::observe", "x");
  detail::require_contiguous(x, "minmax_observer::observe", "x");
  const auto l = detail::make_quant_layout(spec_, x.extents(), "minmax_observer::observe");
  detail::check_slot_count(static_cast<index_t>(lo_.size()), l.slots, "minmax_observer::observe");
  std::vector<float> blo, bhi;
  detail::aq::slot_minmax(policy, x, l, spec_.nonfinite, blo, bhi, "minmax_observer::observe");
  if (lo_.empty()) {
    lo_ = std::move(blo);
    hi_ = std::move(bhi);
  } else {
    for (std::size_t i = 0; i < lo_.size(); ++i) {
      lo_[i] = std::min(lo_[i], blo[i]);
      hi_[i] = std::max(hi_[i], bhi[i]);
    }
  }
  ++batches_;
}

inline void minmax_observer::merge(const minmax_observer& other) {
  if (other.lo_.empty()) return;
  detail::check_slot_count(static_cast<index_t>(lo_.size()), static_cast<index_t>(other.lo_.size()),
                           "minmax_observer::merge");
  if (lo_.empty()) {
    lo_ = other.lo_;
    hi_ = other.hi_;
  } else {
    for (std::size_t i = 0; i < lo_.size(); ++i) {
      lo_[i] = std::min(lo_[i], other.lo_[i]);
      hi_[i] = std::max(hi_[i], other.hi_[i]);
    }
  }
  batches_ += other.batches_;
}

inline quant_params minmax_observer::qparams() const {
  if (lo_.empty()) throw_invalid_argument("minmax_observer::qparams", "observer", "has seen no data");
  return qparams_from_ranges(spec_, lo_, hi_);
}

// ---- moving average ---------------------------------------------------------------------------

inline moving_average_minmax_observer::moving_average_minmax_observer(const quant_spec& spec,
                                                                      float averaging_constant)
    : spec_(spec), c_(averaging_constant) {
  spec_.validate("moving_average_minmax_observer");
  if (!(averaging_constant > 0.0f && averaging_constant <= 1.0f))
    throw_invalid_argument("moving_average_minmax_observer", "averaging_constant",
                           "must be in (0, 1], got ", averaging_constant);
}

template <class Policy, class T, std::size_t R>
void moving_average_minmax_observer::observe(const Policy& policy, tensor_view<T, R> x) {
  const char* fn = "moving_average_minmax_observer::observe";
  detail::aq::check_input_type<T>();
  detail::require_host(x, fn, "x");
  detail::require_contiguous(x, fn, "x");
  const auto l = detail::make_quant_layout(spec_, x.extents(), fn);
  detail::check_slot_count(static_cast<index_t>(lo_.size()), l.slots, fn);
  std::vector<float> blo, bhi;
  detail::aq::slot_minmax(policy, x, l, spec_.nonfinite, blo, bhi, fn);
  if (lo_.empty()) {
    lo_ = std::move(blo);
    hi_ = std::move(bhi);
  } else {
    for (std::size_t i = 0; i < lo_.size(); ++i) {
      if (!(blo[i] <= bhi[i])) continue;  // nothing finite in this slot
      if (!(lo_[i] <= hi_[i])) {
        lo_[i] = blo[i];
        hi_[i] = bhi[i];
        continue;
      }
      // torch rounds after each of sub, mul, add; the volatile keeps the compiler from fusing
      // the multiply and the add into one FMA.
      volatile float dlo = c_ * (blo[i] - lo_[i]);
      volatile float dhi = c_ * (bhi[i] - hi_[i]);
      lo_[i] = lo_[i] + dlo;
      hi_[i] = hi_[i] + dhi;
    }
  }
  ++batches_;
}

inline void moving_average_minmax_observer::merge(const moving_average_minmax_observer& other) {
  if (other.lo_.empty()) return;
  detail::check_slot_count(static_cast<index_t>(lo_.size()), static_cast<index_t>(other.lo_.size()),
                           "moving_average_minmax_observer::merge");
  if (lo_.empty()) {
    lo_ = other.lo_;
    hi_ = other.hi_;
    batches_ = other.batches_;
    return;
  }
  const double wa = static_cast<double>(batches_), wb = static_cast<double>(other.batches_);
  for (std::size_t i = 0; i < lo_.size(); ++i) {
    if (!(other.lo_[i] <= other.hi_[i])) continue;
    if (!(lo_[i] <= hi_[i])) {
      lo_[i] = other.lo_[i];
      hi_[i] = other.hi_[i];
      continue;
    }
    lo_[i] = static_cast<float>((detail::mul_rounded(wa, double(lo_[i])) + detail::mul_rounded(wb, double(other.lo_[i]))) / (wa + wb));
    hi_[i] = static_cast<float>((detail::mul_rounded(wa, double(hi_[i])) + detail::mul_rounded(wb, double(other.hi_[i]))) / (wa + wb));
  }
  batches_ += other.batches_;
}

inline quant_params moving_average_minmax_observer::qparams() const {
  if (lo_.empty())
    throw_invalid_argument("moving_average_minmax_observer::qparams", "observer", "has seen no data");
  return qparams_from_ranges(spec_, lo_, hi_);
}

// ---- histograms -------------------------------------------------------------------------------

namespace detail {

inline slot_histograms::slot_histograms(const quant_spec& spec, index_t bins, const char* who)
    : spec_(spec), who_(who), bins_(bins) {
  spec_.validate(who);
  if (bins < 16 || bins > (index_t(1) << 20))
    throw_invalid_argument(who, "bins", "must be in [16, 2^20], got ", bins);
}

/// Re-bins `bins` counts over [a, b] into `bins` counts over [a2, b2] ⊇ [a, b] (into dst, which
/// must be zeroed), splitting each bin's mass in proportion to overlap.
inline void rebin(const double* src, index_t bins, double a, double b, double* dst, double a2, double b2) {
  const double w = (b - a) / static_cast<double>(bins), w2 = (b2 - a2) / static_cast<double>(bins);
  for (index_t i = 0; i < bins; ++i) {
    const double m = src[i];
    if (m == 0.0) continue;
    const double l = a + detail::mul_rounded(static_cast<double>(i), w), r = l + w;
    auto j = static_cast<index_t>(std::floor((l - a2) / w2));
    j = std::min(std::max<index_t>(j, 0), bins - 1);
    double pos = l;
    while (pos < r && j < bins) {
      const double edge = j == bins - 1 ? r : std::min(r, a2 + detail::mul_rounded(static_cast<double>(j + 1), w2));
      dst[j] += m * (edge - pos) / w;
      pos = edge;
      ++j;
    }
  }
}

inline void slot_histograms::grow(index_t s, float new_lo, float new_hi) {
  const auto k = static_cast<std::size_t>(s);
  double* c = counts_.data() + s * bins_;
  std::vector<double> fresh(static_cast<std::size_t>(bins_), 0.0);
  rebin(c, bins_, lo_[k], hi_[k], fresh.data(), new_lo, new_hi);
  std::copy(fresh.begin(), fresh.end(), c);
  lo_[k] = new_lo;
  hi_[k] = new_hi;
}

inline void slot_histograms::start(index_t s, float nlo, float nhi) {
  // A (nearly) single-valued range is padded so the bins have a positive width.
  if (nhi - nlo <= 1e-6f * std::max(std::abs(nlo), std::abs(nhi))) {
    const float pad = std::max(std::max(std::abs(nlo), std::abs(nhi)) * 1e-4f, 1e-20f);
    nlo -= pad;
    nhi += pad;
  }
  lo_[static_cast<std::size_t>(s)] = nlo;
  hi_[static_cast<std::size_t>(s)] = nhi;
}

inline void slot_histograms::set_ranges(const std::vector<float>& lo, const std::vector<float>& hi) {
  if (!lo_.empty()) throw_invalid_argument(who_, "set_ranges", "must come before any observe or merge");
  if (lo.empty() || hi.size() != lo.size())
    throw_invalid_argument(who_, "hi", "has ", hi.size(), " entries, lo ", lo.size(), " (at least one each)");
  for (std::size_t k = 0; k < lo.size(); ++k)
    if (!(std::isfinite(lo[k]) && std::isfinite(hi[k]) && lo[k] <= hi[k]))
      throw_invalid_argument(who_, "lo", "entry ", k, ": [", lo[k], ", ", hi[k],
                             "] is not a finite range with lo <= hi");
  const index_t slots = static_cast<index_t>(lo.size());
  lo_.assign(lo.size(), std::numeric_limits<float>::infinity());
  hi_.assign(lo.size(), -std::numeric_limits<float>::infinity());
  counts_.assign(static_cast<std::size_t>(slots * bins_), 0.0);
  for (index_t s = 0; s < slots; ++s) start(s, lo[static_cast<std::size_t>(s)], hi[static_cast<std::size_t>(s)]);
}

template <class Policy, class T, std::size_t R>
void slot_histograms::observe(const Policy& policy, tensor_view<T, R> x) {
  using V = std::remove_const_t<T>;
  aq::check_input_type<T>();
  require_host(x, who_, "x");
  require_contiguous(x, who_, "x");
  const auto l = make_quant_layout(spec_, x.extents(), who_);
  check_slot_count(slots(), l.slots, who_);
  std::vector<float> blo, bhi;
  aq::slot_minmax(policy, x, l, spec_.nonfinite, blo, bhi, who_);
  if (lo_.empty()) {
    lo_.assign(static_cast<std::size_t>(l.slots), std::numeric_limits<float>::infinity());
    hi_.assign(static_cast<std::size_t>(l.slots), -std::numeric_limits<float>::infinity());
    counts_.assign(static_cast<std::size_t>(l.slots * bins_), 0.0);
  }
  // Widen ranges first (per slot, serial: cheap), then count in parallel.
  for (index_t s = 0; s < l.slots; ++s) {
    const auto k = static_cast<std::size_t>(s);
    if (!(blo[k] <= bhi[k])) continue;
    const float nlo = blo[k], nhi = bhi[k];
    if (empty(s)) start(s, nlo, nhi);
    else if (nlo < lo_[k] || nhi > hi_[k]) grow(s, std::min(nlo, lo_[k]), std::max(nhi, hi_[k]));
  }
  const V* in = x.data();
  for_each_slot_segment(policy, l, [&](index_t s, index_t first, index_t len) {
    const auto k = static_cast<std::size_t>(s);
    if (empty(s)) return;
    double* c = counts_.data() + s * bins_;
    const double a = lo_[k];
    const double inv_w = static_cast<double>(bins_) / (static_cast<double>(hi_[k]) - a);
    alignas(64) float fbuf[aq::block];
    for (index_t off = 0; off < len; off += aq::block) {
      const index_t n = std::min(aq::block, len - off);
      const float* xf = aq::as_floats(in + first + off, n, fbuf);
      for (index_t i = 0; i < n; ++i) {
        const float v = xf[i];
        if (!std::isfinite(v)) continue;
        auto b = static_cast<index_t>((static_cast<double>(v) - a) * inv_w);
        c[std::min(std::max<index_t>(b, 0), bins_ - 1)] += 1.0;
      }
    }
  });
}

inline void slot_histograms::merge(const slot_histograms& other) {
  if (other.lo_.empty()) return;
  if (other.bins_ != bins_)
    throw_invalid_argument(who_, "other", "has ", other.bins_, " bins, this observer ", bins_);
  check_slot_count(slots(), other.slots(), who_);
  if (lo_.empty()) {
    lo_ = other.lo_;
    hi_ = other.hi_;
    counts_ = other.counts_;
    return;
  }
  for (index_t s = 0; s < slots(); ++s) {
    if (other.empty(s)) continue;
    const auto k = static_cast<std::size_t>(s);
    if (empty(s)) {
      lo_[k] = other.lo_[k];
      hi_[k] = other.hi_[k];
      std::copy(other.counts(s), other.counts(s) + bins_, counts_.data() + s * bins_);
      continue;
    }
    const float nlo = std::min(lo_[k], other.lo_[k]), nhi = std::max(hi_[k], other.hi_[k]);
    if (nlo < lo_[k] || nhi > hi_[k]) grow(s, nlo, nhi);
    std::vector<double> o(static_cast<std::size_t>(bins_), 0.0);
    rebin(other.counts(s), bins_, other.lo_[k], other.hi_[k], o.data(), nlo, nhi);
    double* c = counts_.data() + s * bins_;
    for (index_t i = 0; i < bins_; ++i) c[i] += o[static_cast<std::size_t>(i)];
  }
}

/// Prefix sums of n, n·c, n·c² over bin centres, for O(1) clipping errors.
struct hist_moments {
  std::vector<double> n, s1, s2;
  double a, w;
  hist_moments(const double* counts, index_t bins, double lo, double hi)
      : n(static_cast<std::size_t>(bins + 1), 0.0), s1(n), s2(n), a(lo), w((hi - lo) / static_cast<double>(bins)) {
    for (index_t k = 0; k < bins; ++k) {
      const double c = a + detail::mul_rounded(static_cast<double>(k) + 0.5, w), m = counts[k];
      const auto i = static_cast<std::size_t>(k);
      n[i + 1] = n[i] + m;
      s1[i + 1] = s1[i] + detail::mul_rounded(m, c);
      s2[i + 1] = s2[i] + detail::mul_rounded(m * c, c);
    }
  }
  index_t bins() const { return static_cast<index_t>(n.size()) - 1; }
  /// Number of bins whose centre lies below v.
  index_t below(double v) const {
    const double k = std::ceil((v - a) / w - 0.5);
    return static_cast<index_t>(std::min(std::max(k, 0.0), static_cast<double>(bins())));
  }
  /// Σ n (c − v)² + n w²/12 over bins [i, j).
  double clip_error(index_t i, index_t j, double v) const {
    const auto I = static_cast<std::size_t>(i), J = static_cast<std::size_t>(j);
    const double m = n[J] - n[I];
    return (s2[J] - s2[I]) - detail::mul_rounded(2.0 * v, s1[J] - s1[I]) + detail::mul_rounded(v * v, m) +
           m * w * w / 12.0;
  }
  /// Expected squared error of quantizing to [lo, hi] with step delta.
  double error(double lo, double hi, double delta) const {
    const index_t i = below(lo), j = below(hi);
    const double inside = n[static_cast<std::size_t>(j)] - n[static_cast<std::size_t>(i)];
    return clip_error(0, i, lo) + clip_error(j, bins(), hi) + inside * delta * delta / 12.0;
  }
};

}  // namespace detail

inline histogram_observer::histogram_observer(const quant_spec& spec, index_t bins)
    : h_(spec, bins, "histogram_observer") {}

inline void histogram_observer::ranges(std::vector<float>& lo, std::vector<float>& hi) const {
  const quant_spec& spec = h_.spec();
  const double levels = static_cast<double>(spec.qmax() - spec.qmin());
  lo.assign(static_cast<std::size_t>(h_.slots()), 0.0f);
  hi.assign(lo.size(), 0.0f);
  for (index_t s = 0; s < h_.slots(); ++s) {
    if (h_.empty(s)) continue;
    const double a = h_.range_lo(s), b = h_.range_hi(s);
    const index_t B = h_.bins();
    const detail::hist_moments m(h_.counts(s), B, a, b);
    const double w = m.w;
    double best = std::numeric_limits<double>::infinity(), blo = a, bhi = b;
    if (h_.spec().scheme == quant_scheme::symmetric) {
      const double amax = std::max(std::abs(a), std::abs(b));
      for (index_t k = 1; k <= B; ++k) {
        const double t = amax * static_cast<double>(k) / static_cast<double>(B);
        const double e = m.error(-t, t, t / (levels / 2.0));
        if (e < best) { best = e; blo = -t; bhi = t; }
      }
    } else {
      auto eval = [&](index_t i, index_t j) {
        const double l = a + detail::mul_rounded(static_cast<double>(i), w);
        const double r = a + detail::mul_rounded(static_cast<double>(j), w);
        const double e = m.error(l, r, (std::max(r, 0.0) - std::min(l, 0.0)) / levels);
        if (e < best) { best = e; blo = l; bhi = r; }
      };
      // Coarse pass on a stride, then a full-resolution pass around the coarse optimum.
      const index_t stride = std::max<index_t>(1, B / 256);
      for (index_t i = 0; i < B; i += stride)
        for (index_t j = i + stride; j <= B; j += stride) eval(i, j);
      eval(0, B);
      const auto ci = static_cast<index_t>(std::llround((blo - a) / w));
      const auto cj = static_cast<index_t>(std::llround((bhi - a) / w));
      for (index_t i = std::max<index_t>(0, ci - stride); i <= std::min(B - 1, ci + stride); ++i)
        for (index_t j = std::max(i + 1, cj - stride); j <= std::min(B, cj + stride); ++j) eval(i, j);
    }
    lo[static_cast<std::size_t>(s)] = static_cast<float>(blo);
    hi[static_cast<std::size_t>(s)] = static_cast<float>(bhi);
  }
}

inline quant_params histogram_observer::qparams() const {
  if (h_.slots() == 0) throw_invalid_argument("histogram_observer::qparams", "observer", "has seen no data");
  std::vector<float> lo, hi;
  ranges(lo, hi);
  return qparams_from_ranges(h_.spec(), lo, hi);
}

inline percentile_observer::percentile_observer(const quant_spec& spec, double percentile, index_t bins)
    : h_(spec, bins, "percentile_observer"), pct_(percentile) {
  if (!(percentile > 50.0 && percentile <= 100.0))
    throw_invalid_argument("percentile_observer", "percentile", "must be in (50, 100], got ", percentile);
}

inline void percentile_observer::ranges(std::vector<float>& lo, std::vector<float>& hi) const {
  lo.assign(static_cast<std::size_t>(h_.slots()), 0.0f);
  hi.assign(lo.size(), 0.0f);
  for (index_t s = 0; s < h_.slots(); ++s) {
    if (h_.empty(s)) continue;
    const double* c = h_.counts(s);
    const index_t B = h_.bins();
    const double a = h_.range_lo(s), w = (static_cast<double>(h_.range_hi(s)) - a) / static_cast<double>(B);
    double total = 0;
    for (index_t k = 0; k < B; ++k) total += c[k];
    auto value_at = [&](double mass) {
      double cum = 0;
      for (index_t k = 0; k < B; ++k) {
        if (c[k] > 0 && cum + c[k] >= mass)
          return a + detail::mul_rounded(static_cast<double>(k) + std::min(1.0, std::max(0.0, (mass - cum) / c[k])), w);
        cum += c[k];
      }
      return a + static_cast<double>(B) * w;
    };
    lo[static_cast<std::size_t>(s)] = static_cast<float>(value_at(total * (1.0 - pct_ / 100.0)));
    hi[static_cast<std::size_t>(s)] = static_cast<float>(value_at(total * pct_ / 100.0));
  }
}

inline quant_params percentile_observer::qparams() const {
  if (h_.slots() == 0) throw_invalid_argument("percentile_observer::qparams", "observer", "has seen no data");
  std::vector<float> lo, hi;
  ranges(lo, hi);
  return qparams_from_ranges(h_.spec(), lo, hi);
}

inline lp_observer::lp_observer(const quant_spec& spec, const lp_observer_options& opts)
    : h_(spec, opts.bins, "lp_observer"), opts_(opts) {
  if (!(opts.norm > 0.0)) throw_invalid_argument("lp_observer", "norm", "must be positive, got ", opts.norm);
  if (opts.grid < 1) throw_invalid_argument("lp_observer", "grid", "must be at least 1, got ", opts.grid);
  if (!(opts.maxshrink >= 0.0 && opts.maxshrink < 1.0))
    throw_invalid_argument("lp_observer", "maxshrink", "must be in [0, 1), got ", opts.maxshrink);
}

inline void lp_observer::ranges(std::vector<float>& lo, std::vector<float>& hi) const {
  const quant_spec& spec = h_.spec();
  lo.assign(static_cast<std::size_t>(h_.slots()), 0.0f);
  hi.assign(lo.size(), 0.0f);
  const double qmin = spec.qmin(), qmax = spec.qmax();
  constexpr int sub = 4;  // evaluation points per bin (uniform mass inside a bin)
  for (index_t s = 0; s < h_.slots(); ++s) {
    if (h_.empty(s)) continue;
    const double* c = h_.counts(s);
    const index_t B = h_.bins();
    const float a = h_.range_lo(s), b = h_.range_hi(s);
    const double w = (static_cast<double>(b) - a) / static_cast<double>(B);
    double best = std::numeric_limits<double>::infinity();
    float blo = a, bhi = b;
    const int steps = std::max(1, static_cast<int>(opts_.maxshrink * opts_.grid));
    for (int i = 0; i < steps; ++i) {
      const float p = static_cast<float>(1.0 - static_cast<double>(i) / opts_.grid);
      const float l = p * std::min(a, 0.0f), r = p * std::max(b, 0.0f);
      const auto sz = qparams_for_range(spec, l, r);
      const double d = sz.first, z = sz.second;
      double err = 0;
      for (index_t k = 0; k < B && err < best; ++k) {
        if (c[k] == 0) continue;
        double e = 0;
        for (int j = 0; j < sub; ++j) {
          const double x = a + detail::mul_rounded(static_cast<double>(k) + (j + 0.5) / sub, w);
          const double q = std::min(std::max(std::nearbyint(x / d) + z, qmin), qmax);
          const double diff = std::abs(detail::mul_rounded(q - z, d) - x);
          e += opts_.norm == 2.0 ? detail::mul_rounded(diff, diff) : std::pow(diff, opts_.norm);
        }
        err += c[k] * e / sub;
      }
      if (err < best) {
        best = err;
        blo = l;
        bhi = r;
      }
    }
    lo[static_cast<std::size_t>(s)] = blo;
    hi[static_cast<std::size_t>(s)] = bhi;
  }
}

inline quant_params lp_observer::qparams() const {
  if (h_.slots() == 0) throw_invalid_argument("lp_observer::qparams", "observer", "has seen no data");
  std::vector<float> lo, hi;
  ranges(lo, hi);
  return qparams_from_ranges(h_.spec(), lo, hi);
}

}  // namespace ladle
