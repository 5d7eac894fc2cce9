// ladle/quantization/formats/fp8.hpp: OCP 8-bit floating point, E4M3 ("fn") and E5M2.
//
//   format   bias  largest finite        smallest normal  smallest subnormal  inf        NaN
//   e4m3     7     448   (S.1111.110)    2^-6             2^-9                none       S.1111.111
//   e5m2     15    57344 (S.11110.11)    2^-14            2^-16               S.11111.00 S.11111.{01,10,11}
//
// Encoding rounds the exact input value to nearest, ties to even (also into the subnormal
// range); -0 keeps its sign and NaN stays NaN (all ones: 0x7f, with the input's sign, as
// PyTorch's casts; E5M2 decodes 0x7d and 0x7e as NaN too).
// What happens to a value beyond the largest finite one (after rounding) is the caller's choice:
//
//   fp8_overflow::saturate   clamp to ±max, ±inf included. The default: what CUDA's
//                            __NV_SATFINITE conversions and most ML code do.
//   fp8_overflow::nonfinite  NaN (E4M3, which has no inf) or ±inf (E5M2). This is the OCP
//                            spec's non-saturating mode and what PyTorch's plain casts
//                            `x.to(torch.float8_e4m3fn / float8_e5m2)` produce.
//
// With round-to-nearest-even the overflow thresholds are: E4M3 |x| > 464 (464 itself is the tie
// between 448 and the would-be 480 and goes to the even 448), E5M2 |x| >= 61440.
//
// Decoding is exact and goes through a 256-entry table. Every FP8 value is exactly representable
// in float, half and bfloat16, so decoding to those is exact too. Inputs may be float, double,
// half or bfloat16; 16-bit inputs are widened exactly, doubles are encoded from their own bits
// (never narrowed to float first, which could double-round).
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/dtype.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/view.hpp"

#include <array>
#include <cstdint>

namespace ladle {

/// Which OCP FP8 encoding.
enum class fp8_format : std::uint8_t { e4m3, e5m2 };

/// What an overflowing value becomes (see the header comment). Default: saturate.
enum class fp8_overflow : std::uint8_t { saturate, nonfinite };

/// Options of the bulk FP8 conversions.
struct fp8_options {
  fp8_format format = fp8_format::e4m3;
  fp8_overflow overflow = fp8_overflow::saturate;
};

/// Largest finite value of a format (448 or 57344).
constexpr float fp8_max(fp8_format f) noexcept { return f == fp8_format::e4m3 ? 448.0f : 57344.0f; }

/// Encodes one value (float, double, half or bfloat16).
template <class T>
std::uint8_t fp8_encode(T x, fp8_format format,
                        fp8_overflow overflow = fp8_overflow::saturate) noexcept;

/// Exact float value of a code (NaN / inf where the format has them).
float fp8_decode(std::uint8_t code, fp8_format format) noexcept;

/// The 256-entry decode table of a format (built once, thread-safe).
const std::array<float, 256>& fp8_decode_table(fp8_format format) noexcept;

/// Encodes `in` into `out` (same extents; both contiguous). Policy-first overload runs chunks in
/// parallel; the codes do not depend on the policy.
template <class T, std::size_t Rank>
void fp8_encode(tensor_view<T, Rank> in, tensor_view<std::uint8_t, Rank> out,
                fp8_options options = {});
template <class Policy, class T, std::size_t Rank,
          class = std::enable_if_t<is_execution_policy_v<Policy>>>
void fp8_encode(const Policy& policy, tensor_view<T, Rank> in,
                tensor_view<std::uint8_t, Rank> out, fp8_options options = {});

/// Decodes `in` into `out` (float, double, half or bfloat16; same extents; both contiguous).
/// `in` may be a view of uint8_t or const uint8_t.
template <class Code, class T, std::size_t Rank>
void fp8_decode(tensor_view<Code, Rank> in, tensor_view<T, Rank> out, fp8_format format);
template <class Policy, class Code, class T, std::size_t Rank,
          class = std::enable_if_t<is_execution_policy_v<Policy>>>
void fp8_decode(const Policy& policy, tensor_view<Code, Rank> in, tensor_view<T, Rank> out,
                fp8_format format);

/// Raw-pointer forms over n contiguous values; fp8_encode_n_scalar is the reference path the
/// vectorised fp8_encode_n is tested against (identical codes).
template <class T>
void fp8_encode_n(const T* in, std::uint8_t* out, index_t n, fp8_options options = {}) noexcept;
template <class T>
void fp8_encode_n_scalar(const T* in, std::uint8_t* out, index_t n,
                         fp8_options options = {}) noexcept;
template <class T>
void fp8_decode_n(const std::uint8_t* in, T* out, index_t n, fp8_format format) noexcept;

}  // namespace ladle

#include "ladle/quantization/detail/formats_fp8_impl.hpp"
