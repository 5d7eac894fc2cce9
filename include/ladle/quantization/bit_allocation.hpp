// ladle/quantization/bit_allocation.hpp: spend an average-bit budget where it lowers error most
// (BAQ, Zhang et al. 2025: closed-form allocation from Hessian-proxy sensitivities).
//
// Model: item i (a column, a group, a layer) quantized with b_i bits costs s_i * 2^(-2 b_i),
// where s_i >= 0 is its sensitivity (e.g. GPTQ's error^2 / [H^-1]_ii^2 at some reference width,
// or a layer's weight variance times its Hessian trace). With item weights w_i (element counts;
// 1 by default) the problem
//
//     minimise  sum_i w_i s_i 2^(-2 b_i)   subject to  sum_i w_i b_i = avg_bits * sum_i w_i,
//               min_bits <= b_i <= max_bits
//
// is convex; without bounds its solution is b_i = avg_bits + 1/2 log2(s_i / G), G the (weighted)
// geometric mean of s, and every item then has the same loss s_i 2^(-2 b_i) ("equal loss").
// With bounds it is reverse water-filling: b_i = clamp(1/2 log2 s_i + theta, min, max) with the
// single level theta that meets the budget exactly (found by bisection, then solved exactly on
// the final free set). Items strictly between the bounds keep equal loss. Items with s_i = 0 sit
// at min_bits (if every other item is at max_bits they absorb the leftover budget).
//
// Rounding options (greedy by marginal gain per bit spent, from the floor of the continuous
// solution, never exceeding the budget):
//   none            real-valued bits;
//   integer_bits    whole bits; with unit weights and integer avg_bits * n the budget is met
//                   exactly and the greedy result is optimal (separable convex, unit costs);
//   integer_levels  b_i = log2(L_i) for an integer number of levels L_i (what BAQ uses: a column
//                   may get 5 or 6 levels); the model error is then s_i / L_i^2.
// The result reports the realised average, which for the integer modes may sit just below the
// target when no remaining step fits.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/view.hpp"

#include <cstdint>
#include <limits>
#include <vector>

namespace ladle {

enum class bit_rounding : std::uint8_t { none, integer_bits, integer_levels };

struct bit_allocation_options {
  double min_bits = 0.0;                                      ///< may be -inf (no lower bound)
  double max_bits = std::numeric_limits<double>::infinity();  ///< may be +inf
  bit_rounding rounding = bit_rounding::none;
};

struct bit_allocation {
  std::vector<double> bits;         ///< b_i
  std::vector<std::int64_t> levels; ///< integer_levels: L_i; integer_bits: 2^b_i; none: empty
  double average_bits = 0;          ///< realised weighted average of b_i
  double target_bits = 0;           ///< the requested average
  double water_level = 0;           ///< theta of the continuous solution
  index_t at_min = 0;               ///< items at min_bits (continuous solution)
  index_t at_max = 0;               ///< items at max_bits (continuous solution)
  double model_error = 0;           ///< sum_i w_i s_i 2^(-2 b_i) of the returned bits
};

/// Allocates bits to items of the given sensitivities (float or double, >= 0, finite) for an
/// average of `average_bits`. Throws invalid_argument for empty input, a bad bound or a budget
/// outside [min_bits, max_bits]; domain_error for a negative or non-finite sensitivity, or for a
/// zero sensitivity without a finite min_bits.
template <class T>
bit_allocation allocate_bits(vector_view<T> sensitivities, double average_bits,
                             bit_allocation_options options = {});

/// Weighted form: weights (> 0, finite, same length) are the items' element counts.
template <class T, class W>
bit_allocation allocate_bits(vector_view<T> sensitivities, vector_view<W> weights,
                             double average_bits, bit_allocation_options options = {});

/// sum_i s_i 2^(-2 b_i): the model error of any allocation (e.g. uniform bits, to compare).
template <class T>
double bit_allocation_error(vector_view<T> sensitivities, const std::vector<double>& bits);

}  // namespace ladle

#include "ladle/quantization/detail/bitalloc_impl.hpp"
