// ladle/resampling/result.hpp: what every resampler returns, and the caller-buffer form.
//
// Row order of every result: the kept original rows first, in their original order (all of them
// for over-samplers), then the synthetic rows, class by class in ascending label order, each
// class's rows in synthetic-index order. For each synthetic row the audit columns say how it was
// made, so it can be checked:  X_new = fma(gap, X[neighbor] - X[base], X[base])  (per feature,
// one rounding; base and neighbor are row indices of the INPUT X). Methods without a neighbour
// (random over-sampling, SMOTEN) record neighbor = -1 and gap = 0.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/size.hpp"
#include "ladle/core/tensor.hpp"
#include "ladle/core/view.hpp"

namespace ladle {

/// Sizes of a resampling result.
struct resample_shape {
  index_t kept = 0;       ///< original rows kept (all of them for over-samplers)
  index_t synthetic = 0;  ///< rows generated
  index_t rows() const noexcept { return kept + synthetic; }
};

/// Caller-owned output buffers for the `_into` forms. X and y must have exactly the number of
/// rows the method reports (resampled_size, or the input's row count for cleaners, which return
/// how many rows they wrote). The index/audit views are optional: leave them empty to skip, or
/// give them `kept` / `synthetic` entries. Outputs must not overlap the inputs.
template <class T, class L>
struct resample_output {
  matrix_view<T> X;
  vector_view<L> y;
  vector_view<index_t> sample_indices;
  vector_view<index_t> base;
  vector_view<index_t> neighbor;
  vector_view<T> gap;
};

/// An owning resampling result. T is the feature type (float/double), L the label type.
template <class T, class L>
struct resample_result {
  tensor<T, 2> X;                      ///< (rows, d) resampled features
  tensor<L, 1> y;                      ///< (rows) resampled labels
  tensor<index_t, 1> sample_indices;   ///< (kept) input row of each leading original row
  tensor<index_t, 1> base;             ///< (synthetic) input row each synthetic row starts from
  tensor<index_t, 1> neighbor;         ///< (synthetic) input row it moves towards, or -1
  tensor<T, 1> gap;                    ///< (synthetic) step along base -> neighbor, in [0, 1)

  index_t kept() const noexcept { return sample_indices.extent(0); }
  index_t synthetic() const noexcept { return base.extent(0); }
  index_t rows() const noexcept { return X.extent(0); }
  resample_shape shape() const noexcept { return {kept(), synthetic()}; }
  /// Views of every field, in the form the `_into` functions take.
  resample_output<T, L> output() noexcept {
    return {X.view(), y.view(), sample_indices.view(), base.view(), neighbor.view(), gap.view()};
  }
};

/// Owning buffers for an `_into` form: X (shape.rows(), d), y (shape.rows()) and every audit
/// column sized by `shape` (sample_indices: kept; base / neighbor / gap: synthetic), left
/// uninitialised (the `_into` forms write every element they are given). Pass `.output()`:
///   auto shape = ladle::resampled_size(y, opts);
///   auto buf = ladle::allocate_resample_result<float, std::int64_t>(shape, X.extent(1));
///   ladle::smote_into(ladle::seq, X, y, buf.output(), opts, ladle::seed{0});
/// Throws ladle::invalid_argument for a negative count or d, or sizes that overflow index_t.
template <class T, class L>
resample_result<T, L> allocate_resample_result(resample_shape shape, index_t d) {
  const char* fn = "allocate_resample_result";
  if (shape.kept < 0) throw_invalid_argument(fn, "shape.kept", "must be >= 0, got ", shape.kept);
  if (shape.synthetic < 0)
    throw_invalid_argument(fn, "shape.synthetic", "must be >= 0, got ", shape.synthetic);
  if (d < 0) throw_invalid_argument(fn, "d", "must be >= 0, got ", d);
  const index_t rows = detail::checked_add(shape.kept, shape.synthetic, fn, "shape");
  detail::checked_mul(rows, d, fn, "d");
  resample_result<T, L> r;
  r.X = tensor<T, 2>({rows, d}, uninitialized);
  r.y = tensor<L, 1>({rows}, uninitialized);
  r.sample_indices = tensor<index_t, 1>({shape.kept}, uninitialized);
  r.base = tensor<index_t, 1>({shape.synthetic}, uninitialized);
  r.neighbor = tensor<index_t, 1>({shape.synthetic}, uninitialized);
  r.gap = tensor<T, 1>({shape.synthetic}, uninitialized);
  return r;
}

}  // namespace ladle
