// ladle/averaging/average.hpp: uniform and weighted averages of N state dicts (model soups,
// checkpoint averaging, WiSE-FT between two models).
//
// Inputs: models[0..K) matched by match_state_dicts (names, shapes, dtypes; float dtypes may
// mix when options.floats says so); weights: empty (uniform) or K finite values >= 0 with a
// positive sum; they are normalised, so {2, 1} means 2/3 and 1/3. Zero-weight models are
// still matched but never read.
// Output: per tensor of models[0], in its order. Float tensors: the weighted mean, computed in
// float32 element by element, written as options.output (float32 / float16 / bfloat16, or the
// first model's dtype). Integer tensors: copied from models[0] (integer_tensors::copy_first,
// default) or refused (integer_tensors::refuse); never averaged.
//
// Accumulation (float32, one pass over the models in order, each input read once):
//   running_mean (default)  m_1 = x_1; m_k = m_{k-1} + c_k (x_k - m_{k-1}), c_k = w_k / (w_1 + ..
//                           + w_k), one std::fma per step, the step skipped where x_k == m_{k-1}.
//                           Identical models give back their bits (any weights, -0 and NaN
//                           payloads aside), whatever K. Error <= (2K - 1) ulp of max_k |x_k|.
//   compensated             m = x_1 + sum_k c_k (x_k - x_1) with c_k = w_k / sum(w): the exact
//                           products' and differences' rounding errors are carried in a second
//                           float (Neumaier), so the error is about 1 ulp of max_k |x_k| for any
//                           K; identical models again give back their bits.
// float64 inputs are rounded to float32 first (documented double rounding).
// Rounding of the output: nearest_even (float16 / bfloat16 = RNE of the float32 result, bit for
// bit the same as ladle::convert_n) or stochastic (bfloat16 output only): element i of tensor
// `name` adds 16 random bits to the float32 bits and truncates; the bits are Philox word
// (i mod 4) of block i / 4 of stream hash(name) under options.rounding_seed, so results depend on
// (seed, name, index) only — never on chunking or thread count. NaN / Inf keep RNE.
//
// Streaming: every tensor is processed in chunks of `chunk` elements (4096): the chunk of each
// model is widened (if needed) into one float buffer and folded into one float accumulator, so
// peak extra memory is two chunks per thread, independent of K and of tensor sizes.
// `weighted_average_into` writes into caller tensors (matched by name and shape; any float dtype
// for float tensors, the integer dtype of the models for integer ones; no overlap with inputs).
// Parallel: ladle::par splits tensors into chunk ranges; the bits are the same for any policy.
// Complexity: O(K * parameters) reads, O(parameters) writes.
#pragma once

#include "ladle/averaging/state_dict.hpp"
#include "ladle/core/dtype.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/random.hpp"

#include <cstdint>
#include <vector>

namespace ladle {

enum class integer_tensors { copy_first, refuse };
enum class average_accumulation { running_mean, compensated };
enum class output_dtype { same_as_first, float32, float16, bfloat16 };
enum class output_rounding { nearest_even, stochastic };

struct average_options {
  integer_tensors integers = integer_tensors::copy_first;
  average_accumulation accumulation = average_accumulation::running_mean;
  output_dtype output = output_dtype::same_as_first;
  output_rounding rounding = output_rounding::nearest_even;
  ladle::seed rounding_seed{0};
  float_dtypes floats = float_dtypes::must_match;
  index_t chunk = 4096;  ///< elements per streamed chunk (>= 1)
};

/// The dtype a float tensor of `first` gets under `o` (integer tensors keep theirs).
dtype averaged_dtype(dtype first, output_dtype o) noexcept;

/// Weighted average (weights empty = uniform) into a new owned_state_dict.
template <class Policy>
owned_state_dict weighted_average(const Policy& policy, const std::vector<state_dict>& models,
                                  const std::vector<double>& weights,
                                  const average_options& options = {});
owned_state_dict weighted_average(const std::vector<state_dict>& models,
                                  const std::vector<double>& weights,
                                  const average_options& options = {});
/// Uniform soup: weighted_average with equal weights.
owned_state_dict uniform_average(const std::vector<state_dict>& models,
                                 const average_options& options = {});

/// Writes the average into `out` (see the contract; options.output is ignored: out's dtypes rule).
template <class Policy>
void weighted_average_into(const Policy& policy, const std::vector<state_dict>& models,
                           const std::vector<double>& weights, const mutable_state_dict& out,
                           const average_options& options = {});
void weighted_average_into(const std::vector<state_dict>& models,
                           const std::vector<double>& weights, const mutable_state_dict& out,
                           const average_options& options = {});

namespace detail {
/// 64-bit FNV-1a of a tensor name: the stream key of its random draws.
constexpr std::uint64_t name_hash(std::string_view name) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}
}  // namespace detail

}  // namespace ladle

#include "ladle/averaging/detail/average_impl.hpp"
