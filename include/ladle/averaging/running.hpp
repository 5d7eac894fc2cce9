// ladle/averaging/running.hpp: running averages over the caller's own buffers (EMA, SWA,
// Polyak), with no copy of the model and no state beyond a few scalars, so they work on any
// shard of a model (FSDP / ZeRO partitions, one tensor at a time).
//
// EMA:  avg <- avg + (1 - d_t) (x - avg), the update torch's lerp_ and timm's ModelEmaV3 do.
//   ema_decay(options, step) gives d_t:
//     none: d_t = decay;
//     timm: s = max(0, step - update_after_step - 1); d_t = 0 if s == 0 (the EMA copies the
//           model), else clamp(1 - (1 + s / warmup_gamma)^-warmup_power, min_decay, decay)
//           (timm ModelEmaV3.get_decay; gamma 1, power 2/3 reach 0.999 at ~31.6k steps);
//     tf:   d_t = min(decay, (1 + step) / (10 + step)) (tf.train.ExponentialMovingAverage with
//           num_updates), 0 before update_after_step.
//   ema_updates_at(options, step): step % update_every == 0 (others leave avg alone).
// Running mean (SWA, Polyak-Ruppert): avg_n = mean of the n snapshots seen;
//   avg <- avg + c (x - avg), c = w / (W + w), W the weight seen so far (1 per snapshot by
//   default); the first snapshot is copied. running_mean keeps W and hands out c, so each
//   shard applies the same c; merge() combines two running means of disjoint snapshot sets
//   (data-parallel ranks): avg_a <- avg_a + W_b / (W_a + W_b) (avg_b - avg_a), W = W_a + W_b,
//   equal to the mean over the union up to rounding.
// Kernel (all three): float32 arithmetic, one std::fma per element, skipped where x == avg (so
// a constant model leaves avg bit-identical); avg may be float32 / float16 / bfloat16 / float64
// (16-bit avg are widened, updated and rounded to nearest even), x any float type. Integer
// tensors of the state-dict forms are copied from the model (never averaged).
// Errors: length / shape / name mismatch (naming the tensor and both sources), decay outside
// [0, 1], c outside [0, 1], non-positive or non-finite weights. Extra memory: 2 KiB of stack.
#pragma once

#include "ladle/averaging/average.hpp"  // the shared float32 kernels
#include "ladle/averaging/state_dict.hpp"
#include "ladle/core/dtype.hpp"

#include <cstdint>

namespace ladle {

enum class ema_warmup { none, timm, tf };

struct ema_options {
  double decay = 0.9999;
  ema_warmup warmup = ema_warmup::none;
  double warmup_gamma = 1.0;
  double warmup_power = 2.0 / 3.0;
  double min_decay = 0.0;
  std::int64_t update_after_step = 0;
  std::int64_t update_every = 1;
};

/// The decay of step `step` (see the contract).
double ema_decay(const ema_options& options, std::int64_t step);
/// True when `step` is on the update grid (step % update_every == 0).
bool ema_updates_at(const ema_options& options, std::int64_t step);

/// avg <- avg + c (x - avg) elementwise (c in [0, 1]); the kernel EMA (c = 1 - d) and the
/// running means (c = w / (W + w)) share.
template <class A, class X, std::size_t R>
void lerp_update(tensor_view<A, R> avg, tensor_view<X, R> x, double c);
/// The same over every tensor of two matched state dicts (integer tensors copied from x).
void lerp_update(const mutable_state_dict& avg, const state_dict& x, double c);

/// One EMA step: d = ema_decay(options, step); nothing when !ema_updates_at(options, step).
template <class A, class X, std::size_t R>
void ema_update(tensor_view<A, R> avg, tensor_view<X, R> x, const ema_options& options,
                std::int64_t step);
void ema_update(const mutable_state_dict& avg, const state_dict& x, const ema_options& options,
                std::int64_t step);

/// The weight bookkeeping of a running (SWA / Polyak) mean.
class running_mean {
 public:
  running_mean() = default;
  /// Total weight seen (the snapshot count with unit weights).
  double weight() const noexcept { return weight_; }
  /// Registers one snapshot of weight w (> 0, finite) and returns its coefficient c = w/(W+w).
  double add(double w = 1.0);
  /// Convenience: add(w) then lerp_update over every tensor.
  void update(const mutable_state_dict& avg, const state_dict& x, double w = 1.0);
  /// Coefficient that folds another running mean of weight `other` into this one, and registers
  /// it: c = other / (W + other).
  double merge(const running_mean& other);
  /// Convenience: merge bookkeeping, then avg <- avg + c (other_avg - avg) for every tensor.
  void merge(const running_mean& other, const mutable_state_dict& avg, const state_dict& other_avg);

 private:
  double weight_ = 0.0;
};

}  // namespace ladle

#include "ladle/averaging/detail/running_impl.hpp"
