// ladle/quantization/quantize.hpp: choose_qparams, quantize, dequantize, fake_quantize.
//
// Inputs are contiguous row-major host views of float, ladle::half, ladle::bfloat16 (or double,
// rounded to float first); arithmetic is float. Codes are any integer type that can hold the
// spec's [qmin, qmax] (int8_t, uint8_t, int16_t, ...); a narrower type is an error, not a
// truncation. Each function has an `_into` form writing into caller memory (no allocation
// beyond a few KiB of stack) and an owning form. A leading ladle::par splits the work over
// rows / channels / groups; results are bit-identical for every policy.
//
// Bit-exactness with PyTorch 1.13 (torch convention, nearest-even rounding): quantize matches
// torch.quantize_per_tensor / quantize_per_channel, fake_quantize matches
// torch.fake_quantize_per_tensor_affine / fake_quantize_per_channel_affine (float scale,
// t = x * (1.0f/scale), nearbyint, clamp; output (q - z) * scale). The tests check this on
// fixtures produced by tests/quantization/fixtures/make_affine_fixtures.py.
//
// NaN / Inf (spec.nonfinite): `error` throws ladle::domain_error after the pass (the output is
// then unspecified, the input untouched); `saturate` sends +Inf to qmax, -Inf to qmin and NaN to
// the zero point. Finite values too large for the grid clamp to qmin / qmax in both policies.
// Peak extra memory: O(block) stack per thread, plus O(slots) for the parameter table.
#pragma once

#include "ladle/core/dtype.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/tensor.hpp"
#include "ladle/core/view.hpp"
#include "ladle/quantization/spec.hpp"

#include <cstdint>

namespace ladle {

// Argument order: functions that MAKE parameters take the configuration first and the data
// second (choose_qparams(spec, x), qparams_from_ranges(spec, lo, hi)); kernels that USE them take
// the data first and the parameters second (quantize(x, params), dequantize(codes, params),
// fake_quantize(x, params)), with the output of an `_into` form after both. The swapped spellings
// do not compile (a quant_spec is not a view), so a mix-up is caught at build time.

/// Min-max quantization parameters of x under `spec` (one (Δ, z) per tensor, channel or group),
/// the way torch's MinMaxObserver / PerChannelMinMaxObserver compute them for the torch
/// convention. Non-finite values follow spec.nonfinite (saturate: they are ignored).
template <class Policy, class T, std::size_t R>
quant_params choose_qparams(const Policy& policy, const quant_spec& spec, tensor_view<T, R> x);
template <class T, std::size_t R>
quant_params choose_qparams(const quant_spec& spec, tensor_view<T, R> x);

/// Parameters from per-slot ranges lo[i] <= hi[i] (e.g. an observer's state); an empty slot
/// (lo = +inf, hi = -inf) is treated as [0, 0].
quant_params qparams_from_ranges(const quant_spec& spec, const std::vector<float>& lo,
                                 const std::vector<float>& hi);

/// codes = clamp(round(x / Δ) + z, qmin, qmax). `s` keys stochastic rounding (ignored for
/// nearest-even): the draw for element i (flat row-major index) is a pure function of (s, i).
template <class Policy, class T, class Q, std::size_t R>
void quantize_into(const Policy& policy, tensor_view<T, R> x, const quant_params& params,
                   tensor_view<Q, R> codes, seed s = seed{0});
template <class T, class Q, std::size_t R>
void quantize_into(tensor_view<T, R> x, const quant_params& params, tensor_view<Q, R> codes,
                   seed s = seed{0});
/// Owning form: `auto q = ladle::quantize<std::int8_t>(x, params);`
template <class Q, class Policy, class T, std::size_t R>
tensor<Q, R> quantize(const Policy& policy, tensor_view<T, R> x, const quant_params& params,
                      seed s = seed{0});
template <class Q, class T, std::size_t R>
tensor<Q, R> quantize(tensor_view<T, R> x, const quant_params& params, seed s = seed{0});

/// Quantizes and packs in one pass: `packed` receives packed_size(x.size(), bits) bytes in the
/// layout of packing.hpp (codes in flat row-major order). Needs spec.bits <= 8.
template <class Policy, class T, std::size_t R>
void quantize_packed_into(const Policy& policy, tensor_view<T, R> x, const quant_params& params,
                          vector_view<std::uint8_t> packed, seed s = seed{0});
template <class T, std::size_t R>
void quantize_packed_into(tensor_view<T, R> x, const quant_params& params,
                          vector_view<std::uint8_t> packed, seed s = seed{0});

/// x̂ = (codes - z) * Δ, computed as one float multiply of an exact difference.
template <class Policy, class Q, class T, std::size_t R>
void dequantize_into(const Policy& policy, tensor_view<Q, R> codes, const quant_params& params,
                     tensor_view<T, R> out);
template <class Q, class T, std::size_t R>
void dequantize_into(tensor_view<Q, R> codes, const quant_params& params, tensor_view<T, R> out);
template <class T = float, class Policy, class Q, std::size_t R>
tensor<T, R> dequantize(const Policy& policy, tensor_view<Q, R> codes, const quant_params& params);
template <class T = float, class Q, std::size_t R>
tensor<T, R> dequantize(tensor_view<Q, R> codes, const quant_params& params);

/// out = dequantize(quantize(x)) without materialising codes. `mask`, when non-empty, receives
/// the clipped straight-through mask: 1 where round(x/Δ) + z lies inside [qmin, qmax] (torch's
/// cachemask), 0 where the value was clipped. out may alias x exactly (in place).
template <class Policy, class T, class U, std::size_t R>
void fake_quantize_into(const Policy& policy, tensor_view<T, R> x, const quant_params& params,
                        tensor_view<U, R> out, tensor_view<std::uint8_t, R> mask = {},
                        seed s = seed{0});
template <class T, class U, std::size_t R>
void fake_quantize_into(tensor_view<T, R> x, const quant_params& params, tensor_view<U, R> out,
                        tensor_view<std::uint8_t, R> mask = {}, seed s = seed{0});
template <class Policy, class T, std::size_t R>
tensor<std::remove_const_t<T>, R> fake_quantize(const Policy& policy, tensor_view<T, R> x,
                                                const quant_params& params, seed s = seed{0});
template <class T, std::size_t R>
tensor<std::remove_const_t<T>, R> fake_quantize(tensor_view<T, R> x, const quant_params& params,
                                                seed s = seed{0});

}  // namespace ladle

#include "ladle/quantization/detail/affine_impl.hpp"
