// ladle/averaging/merges.hpp: merges relative to a base model (task arithmetic, TIES, DARE,
// DARE-TIES), SLERP of two models, WiSE-FT interpolation, and the interpolation barrier.
//
// Task vectors: tau_k = theta_k - base, computed in float32 per element (as torch does on float32
// weights); sums, norms and coefficients in double with explicit std::fma; the result is rounded
// once to float32 and then to the output dtype (nearest even). Per tensor of `base`, in its order.
//   task_arithmetic  theta = base + lambda * sum_k w_k tau_k
//   ties             trim: per model and tensor keep the floor(density * n) largest |tau_k|
//                    (ties at the threshold: lowest index first), zero the rest; elect:
//                    gamma = sign(sum_k w_k trimmed_k); disjoint mean over the models whose
//                    trimmed value is non-zero with sign gamma:
//                    theta = base + lambda * sum_agree w_k t_k / sum_agree w_k (0 if none)
//   dare_linear      drop: element i of model k is kept when u >= p, u = the Philox uniform
//                    (24-bit float) of word i mod 4, block i / 4, stream
//                    derive_stream(hash(name), k) under `seed`; kept values become tau / (1 - p);
//                    then task arithmetic. Masks depend on (seed, tensor name, model index,
//                    element index) only: never on thread count or chunking.
//   dare_ties        DARE drop-and-rescale, then TIES election and disjoint mean (no trim).
// Integer tensors are copied from base (integer_tensors::copy_first) or refused.
// slerp(a, b, t): per tensor, on the flattened vectors: cos = <a, b> / (|a| |b|) (in double);
//   |cos| > dot_threshold (0.9995) or a zero vector -> lerp (1 - t) a + t b; otherwise
//   omega = acos(cos), result = sin((1 - t) omega) / sin(omega) a + sin(t omega) / sin(omega) b
//   (mergekit's slerp: normalised copies give the angle, the unnormalised tensors are mixed).
// wise_ft(zero_shot, fine_tuned, alpha) = weighted_average({zero_shot, fine_tuned},
//   {1 - alpha, alpha}), alpha in [0, 1] (its bit-identity and ulp guarantees).
// interpolation_barrier(a, b, evaluate, points): L(lambda) = evaluate(theta(lambda)) on
//   `points` evenly spaced lambda in [0, 1] (endpoints included), theta(lambda) = wise_ft(a, b,
//   lambda) in float32; barrier = max_lambda L(lambda) - ((1 - lambda) L(0) + lambda L(1)).
// Errors: mismatched state dicts (naming tensor and both sources), density outside (0, 1],
// drop rate outside [0, 1), weights not finite, t / alpha outside [0, 1], points < 2.
// Memory: TIES and SLERP hold one float32 copy of the current tensor (|tau| for the threshold
// selection; the result); others stream. O(K * n) reads, TIES two passes.
//
// Chunked forms (merge_task_vectors_chunked, slerp_chunked): the same merges, bit for bit, with
// no tensor ever held whole: each tensor is processed in chunks of `chunk` elements and its
// output bytes are handed to `sink` in order (tensors in base's / a's order; integer tensors
// copied from the first dict). Memory: (K + 3) * chunk floats plus, for TIES with density < 1,
// 768 KiB of histogram per model. Passes over each tensor: task arithmetic / DARE / DARE-TIES
// one; SLERP two (norms and dot product in element order, then the mix); TIES with density < 1
// three (the trim threshold is the exact (n - keep)-th smallest |tau| found by a two-pass
// radix select over the float bit patterns, then the trim keeps the lowest-index ties as the
// whole-tensor form does). Bit-identical to the whole-tensor forms for tensors without NaN.
// After each chunk of each pass, `consumed(tensor, begin, end)` (if set) says that elements
// [begin, end) of every input were read in that pass (a file-backed caller releases them).
// Everything is validated before the sink is first called.
#pragma once

#include "ladle/averaging/average.hpp"
#include "ladle/averaging/state_dict.hpp"
#include "ladle/core/random.hpp"

#include <functional>
#include <string>
#include <vector>

namespace ladle {

enum class merge_method { task_arithmetic, ties, dare_linear, dare_ties };

struct merge_options {
  merge_method method = merge_method::task_arithmetic;
  std::vector<double> weights;  ///< one per model; empty = 1 each
  double lambda = 1.0;          ///< scale of the merged task vector
  double density = 1.0;         ///< TIES: fraction of each task vector kept, (0, 1]
  double drop_rate = 0.0;       ///< DARE: p in [0, 1)
  ladle::seed seed{0};          ///< DARE masks
  integer_tensors integers = integer_tensors::copy_first;
  output_dtype output = output_dtype::same_as_first;
};

/// Task arithmetic / TIES / DARE / DARE-TIES of `models` relative to `base`.
owned_state_dict merge_task_vectors(const state_dict& base, const std::vector<state_dict>& models,
                                    const merge_options& options = {});

/// DARE keep mask of element `index` of model `model`'s tensor `name` (true = kept).
bool dare_keeps(ladle::seed s, std::string_view name, std::uint64_t model, std::uint64_t index,
                double drop_rate) noexcept;

struct slerp_options {
  double dot_threshold = 0.9995;
  integer_tensors integers = integer_tensors::copy_first;
  output_dtype output = output_dtype::same_as_first;
};
/// Spherical interpolation of two models, t in [0, 1].
owned_state_dict slerp(const state_dict& a, const state_dict& b, double t,
                       const slerp_options& options = {});

struct chunked_merge_options {
  index_t chunk = index_t(1) << 20;  ///< elements per chunk, >= 1
  /// Called after each chunk of each pass: elements [begin, end) of tensor were read.
  std::function<void(const std::string& tensor, index_t begin, index_t end)> consumed;
};
/// Receives a tensor's output bytes, in order, in one or more calls.
using merge_sink = std::function<void(const std::string& tensor, const void* bytes, std::size_t count)>;

/// merge_task_vectors, chunk by chunk into `sink` (see the contract).
void merge_task_vectors_chunked(const state_dict& base, const std::vector<state_dict>& models,
                                const merge_options& options, const merge_sink& sink,
                                const chunked_merge_options& chunking = {});
/// slerp, chunk by chunk into `sink`.
void slerp_chunked(const state_dict& a, const state_dict& b, double t, const slerp_options& options,
                   const merge_sink& sink, const chunked_merge_options& chunking = {});
/// The dtype a merge writes for a tensor of dtype `in` (integers: unchanged).
dtype merged_dtype(dtype in, output_dtype output) noexcept;

/// WiSE-FT: (1 - alpha) zero_shot + alpha fine_tuned.
owned_state_dict wise_ft(const state_dict& zero_shot, const state_dict& fine_tuned, double alpha,
                         const average_options& options = {});

struct barrier_result {
  std::vector<double> lambdas;
  std::vector<double> losses;
  double barrier = 0;
  std::size_t worst = 0;  ///< index of the lambda where the barrier is reached
};
/// Loss along the linear path from a to b and its barrier (see the contract).
barrier_result interpolation_barrier(const state_dict& a, const state_dict& b,
                                     const std::function<double(const state_dict&)>& evaluate,
                                     std::size_t points = 25);

}  // namespace ladle

#include "ladle/averaging/detail/merges_impl.hpp"
#include "ladle/averaging/detail/merges_chunked_impl.hpp"
