// ladle/quantization/observers.hpp: range estimation as streaming, mergeable reducers.
//
// Every observer is built from a quant_spec (its granularity decides the slots: one for the
// tensor, one per channel along spec.axis, or one per group) and offers
//
//   observe(x)            fold a batch (contiguous host view of float / half / bfloat16);
//                         observe(ladle::par, x) spreads the work over channels
//   merge(other)          fold another observer of the same spec and slot count (data-parallel
//                         workers, shards, ...); merging is associative
//   qparams()             quant_params for the current state
//   lo(), hi()            the per-slot range the parameters are computed from
//
//   minmax_observer                 running min and max (torch MinMaxObserver; exact)
//   moving_average_minmax_observer  m <- m + c (batch - m), c = 0.01 (torch's default); the first
//                                   batch initialises; merge takes the batch-count-weighted mean
//   histogram_observer              histogram of `bins` bins per slot, then the range that
//                                   minimises the expected squared error (rounding noise Δ²/12
//                                   inside, squared distance to the clip edge outside), searched
//                                   exhaustively over bin edges (torch's HistogramObserver uses a
//                                   greedy version of the same idea)
//   percentile_observer             range [quantile(1 − p), quantile(p)], p = 99.99 % by default,
//                                   interpolated inside the histogram bins
//   lp_observer                     GPTQ / BAQ grid: shrink the observed range by
//                                   1 − i/grid, i < maxshrink·grid, and keep the shrink with the
//                                   smallest Σ |x̂ − x|^norm (norm = 2.4, grid = 100,
//                                   maxshrink = 0.8, the GPTQ defaults), evaluated on the histogram
//
// Histograms grow their range as new data arrive: old counts are re-binned into the wider
// range, splitting each bin's mass in proportion to overlap (so a histogram is an
// approximation once its range has grown; the min-max observers are exact).
// set_ranges(lo, hi), called before any data, fixes each slot's range as a first batch with
// that min and max would: a tensor observed in pieces after set_ranges(its exact per-slot min
// and max, e.g. from a minmax_observer pass) gets the histogram, and so the qparams, of one
// observe() of the whole tensor (counts are integers; no re-binning happens). Bounded-memory
// callers (`ladle quantize`) read the tensor twice this way.
// Non-finite inputs follow spec.nonfinite: error throws, saturate skips them.
// Memory: minmax 2 floats per slot; histogram-based ones `bins` doubles per slot.
#pragma once

#include "ladle/core/parallel.hpp"
#include "ladle/core/view.hpp"
#include "ladle/quantization/quantize.hpp"
#include "ladle/quantization/spec.hpp"

#include <cstdint>
#include <vector>

namespace ladle {

class minmax_observer {
 public:
  explicit minmax_observer(const quant_spec& spec);

  template <class T, std::size_t R>
  void observe(tensor_view<T, R> x) { observe(seq, x); }
  template <class Policy, class T, std::size_t R>
  void observe(const Policy& policy, tensor_view<T, R> x);
  void merge(const minmax_observer& other);
  quant_params qparams() const;

  const std::vector<float>& lo() const noexcept { return lo_; }
  const std::vector<float>& hi() const noexcept { return hi_; }
  const std::vector<float>& min() const noexcept { return lo_; }
  const std::vector<float>& max() const noexcept { return hi_; }
  const quant_spec& spec() const noexcept { return spec_; }
  index_t batches() const noexcept { return batches_; }

 private:
  quant_spec spec_;
  std::vector<float> lo_, hi_;
  index_t batches_ = 0;
};

class moving_average_minmax_observer {
 public:
  /// averaging_constant c in (0, 1].
  explicit moving_average_minmax_observer(const quant_spec& spec, float averaging_constant = 0.01f);

  template <class T, std::size_t R>
  void observe(tensor_view<T, R> x) { observe(seq, x); }
  template <class Policy, class T, std::size_t R>
  void observe(const Policy& policy, tensor_view<T, R> x);
  void merge(const moving_average_minmax_observer& other);
  quant_params qparams() const;

  const std::vector<float>& lo() const noexcept { return lo_; }
  const std::vector<float>& hi() const noexcept { return hi_; }
  const std::vector<float>& min() const noexcept { return lo_; }
  const std::vector<float>& max() const noexcept { return hi_; }
  index_t batches() const noexcept { return batches_; }

 private:
  quant_spec spec_;
  float c_;
  std::vector<float> lo_, hi_;
  index_t batches_ = 0;
};

namespace detail {

/// Per-slot histograms over a growing range; the shared state of the histogram observers.
class slot_histograms {
 public:
  slot_histograms(const quant_spec& spec, index_t bins, const char* who);

  template <class Policy, class T, std::size_t R>
  void observe(const Policy& policy, tensor_view<T, R> x);
  void merge(const slot_histograms& other);
  /// Fixes every slot's range before any data (see the contract above).
  void set_ranges(const std::vector<float>& lo, const std::vector<float>& hi);

  index_t slots() const noexcept { return static_cast<index_t>(lo_.size()); }
  index_t bins() const noexcept { return bins_; }
  float range_lo(index_t s) const { return lo_[static_cast<std::size_t>(s)]; }
  float range_hi(index_t s) const { return hi_[static_cast<std::size_t>(s)]; }
  const double* counts(index_t s) const { return counts_.data() + s * bins_; }
  bool empty(index_t s) const { return !(lo_[static_cast<std::size_t>(s)] <= hi_[static_cast<std::size_t>(s)]); }
  const quant_spec& spec() const noexcept { return spec_; }

 private:
  void grow(index_t s, float new_lo, float new_hi);
  void start(index_t s, float lo, float hi);
  quant_spec spec_;
  const char* who_;
  index_t bins_;
  std::vector<float> lo_, hi_;
  std::vector<double> counts_;
};

}  // namespace detail

class histogram_observer {
 public:
  explicit histogram_observer(const quant_spec& spec, index_t bins = 2048);
  template <class T, std::size_t R>
  void observe(tensor_view<T, R> x) { h_.observe(seq, x); }
  template <class Policy, class T, std::size_t R>
  void observe(const Policy& policy, tensor_view<T, R> x) { h_.observe(policy, x); }
  void merge(const histogram_observer& other) { h_.merge(other.h_); }
  /// Per-slot ranges fixed before any data (exact piecewise observation; see above).
  void set_ranges(const std::vector<float>& lo, const std::vector<float>& hi) { h_.set_ranges(lo, hi); }
  /// The L2-optimal range of each slot.
  void ranges(std::vector<float>& lo, std::vector<float>& hi) const;
  quant_params qparams() const;

 private:
  detail::slot_histograms h_;
};

class percentile_observer {
 public:
  /// percentile in (50, 100].
  explicit percentile_observer(const quant_spec& spec, double percentile = 99.99, index_t bins = 2048);
  template <class T, std::size_t R>
  void observe(tensor_view<T, R> x) { h_.observe(seq, x); }
  template <class Policy, class T, std::size_t R>
  void observe(const Policy& policy, tensor_view<T, R> x) { h_.observe(policy, x); }
  void merge(const percentile_observer& other) { h_.merge(other.h_); }
  /// Per-slot ranges fixed before any data (exact piecewise observation; see above).
  void set_ranges(const std::vector<float>& lo, const std::vector<float>& hi) { h_.set_ranges(lo, hi); }
  void ranges(std::vector<float>& lo, std::vector<float>& hi) const;
  quant_params qparams() const;

 private:
  detail::slot_histograms h_;
  double pct_;
};

struct lp_observer_options {
  double norm = 2.4;       ///< the p of Σ |x̂ − x|^p (2 = MSE)
  int grid = 100;          ///< shrink step 1/grid
  double maxshrink = 0.8;  ///< largest shrink tried
  index_t bins = 2048;
};

class lp_observer {
 public:
  explicit lp_observer(const quant_spec& spec, const lp_observer_options& opts = {});
  template <class T, std::size_t R>
  void observe(tensor_view<T, R> x) { h_.observe(seq, x); }
  template <class Policy, class T, std::size_t R>
  void observe(const Policy& policy, tensor_view<T, R> x) { h_.observe(policy, x); }
  void merge(const lp_observer& other) { h_.merge(other.h_); }
  /// Per-slot ranges fixed before any data (exact piecewise observation; see above).
  void set_ranges(const std::vector<float>& lo, const std::vector<float>& hi) { h_.set_ranges(lo, hi); }
  void ranges(std::vector<float>& lo, std::vector<float>& hi) const;
  quant_params qparams() const;

 private:
  detail::slot_histograms h_;
  lp_observer_options opts_;
};

}  // namespace ladle

#include "ladle/quantization/detail/observers_impl.hpp"
