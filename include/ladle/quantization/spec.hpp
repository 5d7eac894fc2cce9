// ladle/quantization/spec.hpp: what an integer quantizer is (quant_spec) and its parameters
// (quant_params), plus the rule that turns an observed range into a scale and a zero point.
//
// A quantizer maps a real x to an integer code q and back:
//
//     t = x / Δ                      (or x * (1/Δ), see scale_division)
//     q = clamp(round(t) + z, qmin, qmax)
//     x̂ = (q − z) · Δ
//
// Δ (scale, a positive float) and z (zero point, an integer inside [qmin, qmax]) come from a
// range [lo, hi] (see qparams_for_range). Zero is always exactly representable: the range is
// widened to contain 0 first, and z is an integer code, so x = 0 gives q = z and x̂ = 0.
//
// Codes: `bits` in 2..8 or 16. Unsigned codes span [0, 2^b − 1]; signed codes are the same grid
// shifted by −2^(b−1), i.e. [−2^(b−1), 2^(b−1) − 1], with z shifted by the same amount, so a
// signed and an unsigned quantizer of the same spec produce the same x̂ (except torch-convention
// symmetric specs below 8 bits, whose unsigned z is torch's lower middle code; see the table).
// `narrow_range` drops
// the lowest code ([1, 2^b − 1] unsigned, [−2^(b−1) + 1, 2^(b−1) − 1] signed).
//
// Conventions (the libraries disagree; pick the one whose numbers you must reproduce):
//
//   convention | scale from range                       | z (unsigned codes)   | t computed as
//   -----------+----------------------------------------+----------------------+---------------
//   torch      | affine: (hi − lo)/(qmax − qmin)        | qmin − round(lo/Δ)   | x * (1.0f/Δ)
//              | symmetric: amax/((qmax − qmin)/2)      | 2^(b−1) at 8 and 16  |
//              |                                        | bits, else (qmin +   |
//              |                                        | qmax) // 2 (torch's  |
//              |                                        | custom quant ranges) |
//   gptq       | same formulas (GPTQ and BAQ "sym":     | affine as torch;     | x / Δ
//              |   Δ = 2·amax/(2^b − 1))                | symmetric 2^(b−1)    |
//   eqnet      | same formulas (EQ-Net base_uaq.py)     | affine as torch;     | x / Δ
//              |                                        | symmetric 2^(b−1) − 1|
//
// With narrow_range and the torch convention, symmetric becomes the whitepaper / TensorRT
// "restricted range": Δ = amax/(2^(b−1) − 1), codes ±(2^(b−1) − 1), z = 0 for signed codes.
// A zero-width range (all values equal to 0) never yields Δ = 0: torch and eqnet floor Δ at
// `eps` (torch's observers do the same); gptq widens the range to [−1, 1] as GPTQ does.
// Deliberate differences from the reference codes: GPTQ's find_params keeps lo = 0 for a
// symmetric row without negative values (halving its grid), and EQ-Net's initialiser sets
// z = 0 for such tensors; ladle always uses the symmetric grid above.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/dtype.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/view.hpp"

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

namespace ladle {

/// Affine: independent lo and hi, z anywhere in range. Symmetric: range [−amax, amax].
enum class quant_scheme : std::uint8_t { affine, symmetric };

/// Whose formulas to follow (see the table at the top of this file).
enum class quant_convention : std::uint8_t { torch, gptq, eqnet };

/// One (Δ, z) for the whole tensor, per slice along `axis`, or per group of `group_size`
/// consecutive elements along the last axis (the reduction axis of a row-major weight).
enum class quant_granularity : std::uint8_t { per_tensor, per_channel, per_group };

/// Round to nearest, ties to even; or stochastic rounding floor(t + u), u ~ U[0, 1) from Philox
/// keyed by (seed, flat element index), so results do not depend on thread count.
enum class rounding_mode : std::uint8_t { nearest_even, stochastic };

/// How t = x/Δ is formed. torch multiplies by the float reciprocal; GPTQ and EQ-Net divide.
/// The two differ in the last bit for some x, which moves ties.
enum class scale_division : std::uint8_t { multiply_by_inverse, divide };

/// What NaN and ±Inf inputs do. error: throw ladle::domain_error naming the first offending
/// element; the inputs are untouched, a separate output buffer's contents are then unspecified
/// (some elements may be written), and an output aliasing its input (in-place fake_quantize,
/// lsq grad_x over grad_out) is checked before any write, so it too is left unchanged.
/// saturate: ±Inf map to qmax/qmin, NaN maps to z (dequantizes to 0).
enum class nonfinite_policy : std::uint8_t { error, saturate };

/// A value describing one integer quantizer. Build it with the named constructors and refine
/// it with the chainable setters:
///   auto s = ladle::quant_spec::symmetric(4).per_group(64);
///   auto a = ladle::quant_spec::affine(8, /*is_signed=*/false).per_channel(0);
struct quant_spec {
  int bits = 8;
  bool is_signed = true;
  quant_scheme scheme = quant_scheme::affine;
  quant_convention convention = quant_convention::torch;
  bool narrow_range = false;
  quant_granularity granularity = quant_granularity::per_tensor;
  int axis = 0;             ///< per_channel: the channel axis (negative counts from the end)
  index_t group_size = 0;   ///< per_group: elements per group along the last axis
  rounding_mode rounding = rounding_mode::nearest_even;
  scale_division division = scale_division::multiply_by_inverse;
  nonfinite_policy nonfinite = nonfinite_policy::error;
  float eps = FLT_EPSILON;  ///< smallest scale a range can produce (torch's observer eps)

  /// Affine quantizer with the torch conventions. NOTE the defaults differ between the two
  /// factories: affine() gives UNSIGNED codes ([0, 2^b - 1], like quint8) and symmetric() gives
  /// SIGNED codes ([-2^(b-1), 2^(b-1) - 1], like qint8). The explicit names below say which at
  /// the call site: affine_unsigned / affine_signed / symmetric_signed / symmetric_unsigned.
  static quant_spec affine(int bits = 8, bool is_signed = false) {
    quant_spec s;
    s.bits = bits;
    s.is_signed = is_signed;
    return s;
  }
  /// Symmetric quantizer (SIGNED codes by default, see affine()); convention gptq and eqnet also
  /// switch to division (x / Δ).
  static quant_spec symmetric(int bits = 8, quant_convention c = quant_convention::torch,
                              bool is_signed = true) {
    quant_spec s;
    s.bits = bits;
    s.is_signed = is_signed;
    s.scheme = quant_scheme::symmetric;
    return s.with_convention(c);
  }
  /// The factories with the code signedness in the name (same specs as affine(bits, false),
  /// affine(bits, true), symmetric(bits, c, true), symmetric(bits, c, false)).
  static quant_spec affine_unsigned(int bits = 8) { return affine(bits, false); }
  static quant_spec affine_signed(int bits = 8) { return affine(bits, true); }
  static quant_spec symmetric_signed(int bits = 8, quant_convention c = quant_convention::torch) {
    return symmetric(bits, c, true);
  }
  static quant_spec symmetric_unsigned(int bits = 8, quant_convention c = quant_convention::torch) {
    return symmetric(bits, c, false);
  }

  quant_spec with_convention(quant_convention c) const {
    quant_spec s = *this;
    s.convention = c;
    s.division = c == quant_convention::torch ? scale_division::multiply_by_inverse
                                              : scale_division::divide;
    return s;
  }
  quant_spec with_narrow_range(bool on = true) const { quant_spec s = *this; s.narrow_range = on; return s; }
  quant_spec with_signed(bool on = true) const { quant_spec s = *this; s.is_signed = on; return s; }
  quant_spec per_tensor() const { quant_spec s = *this; s.granularity = quant_granularity::per_tensor; return s; }
  quant_spec per_channel(int channel_axis = 0) const {
    quant_spec s = *this;
    s.granularity = quant_granularity::per_channel;
    s.axis = channel_axis;
    return s;
  }
  quant_spec per_group(index_t size) const {
    quant_spec s = *this;
    s.granularity = quant_granularity::per_group;
    s.group_size = size;
    return s;
  }
  quant_spec stochastic() const { quant_spec s = *this; s.rounding = rounding_mode::stochastic; return s; }
  quant_spec saturate_nonfinite() const { quant_spec s = *this; s.nonfinite = nonfinite_policy::saturate; return s; }

  /// Smallest and largest code.
  std::int32_t qmin() const noexcept {
    const std::int32_t base = narrow_range ? 1 : 0;
    return is_signed ? base - (std::int32_t(1) << (bits - 1)) : base;
  }
  std::int32_t qmax() const noexcept {
    const std::int32_t top = (std::int32_t(1) << bits) - 1;
    return is_signed ? top - (std::int32_t(1) << (bits - 1)) : top;
  }

  /// Throws ladle::invalid_argument naming `fn` when a field is out of its domain.
  void validate(const char* fn) const {
    if (!((bits >= 2 && bits <= 8) || bits == 16))
      throw_invalid_argument(fn, "spec.bits", "must be in 2..8 or 16, got ", bits);
    if (!(eps > 0.0f) || !std::isfinite(eps))
      throw_invalid_argument(fn, "spec.eps", "must be positive and finite, got ", eps);
    // Enumerations may hold any value of their underlying type (a cast, a memcpy'd struct).
    if (static_cast<unsigned>(scheme) > 1)
      throw_invalid_argument(fn, "spec.scheme", "is not a quant_scheme (", unsigned(scheme), ")");
    if (static_cast<unsigned>(convention) > 2)
      throw_invalid_argument(fn, "spec.convention", "is not a quant_convention (",
                             unsigned(convention), ")");
    if (static_cast<unsigned>(granularity) > 2)
      throw_invalid_argument(fn, "spec.granularity", "is not a quant_granularity (",
                             unsigned(granularity), ")");
    if (static_cast<unsigned>(rounding) > 1)
      throw_invalid_argument(fn, "spec.rounding", "is not a rounding_mode (", unsigned(rounding), ")");
    if (static_cast<unsigned>(division) > 1)
      throw_invalid_argument(fn, "spec.division", "is not a scale_division (", unsigned(division), ")");
    if (static_cast<unsigned>(nonfinite) > 1)
      throw_invalid_argument(fn, "spec.nonfinite", "is not a nonfinite_policy (",
                             unsigned(nonfinite), ")");
    if (granularity == quant_granularity::per_group && group_size <= 0)
      throw_invalid_argument(fn, "spec.group_size", "must be positive for per_group, got ",
                             group_size);
  }
};

/// The parameters of a quantizer for one tensor: the spec plus one (Δ, z) per tensor, per
/// channel (index c along spec.axis) or per group (index row * groups_per_row + g, rows in
/// row-major order over all axes but the last).
struct quant_params {
  quant_spec spec;
  std::vector<float> scale;
  std::vector<std::int32_t> zero_point;

  index_t count() const noexcept { return static_cast<index_t>(scale.size()); }
};

/// (Δ, z) for the range [lo, hi] under `spec` (the formulas of the table above, in float
/// arithmetic as torch's observers compute them). lo > hi is rejected; non-finite bounds too.
inline std::pair<float, std::int32_t> qparams_for_range(const quant_spec& spec, float lo,
                                                        float hi) {
  spec.validate("qparams_for_range");
  if (!std::isfinite(lo) || !std::isfinite(hi))
    throw_domain_error("qparams_for_range", "range", "bounds must be finite, got [", lo, ", ",
                       hi, "]");
  if (lo > hi)
    throw_invalid_argument("qparams_for_range", "range", "lo ", lo, " exceeds hi ", hi);
  const std::int32_t qmin = spec.qmin(), qmax = spec.qmax();
  float lo0 = std::min(lo, 0.0f), hi0 = std::max(hi, 0.0f);
  if (spec.convention == quant_convention::gptq && lo0 == 0.0f && hi0 == 0.0f) {
    lo0 = -1.0f;  // GPTQ: an all-zero row gets the range [-1, 1]
    hi0 = 1.0f;
  }
  const float levels = static_cast<float>(qmax - qmin);
  if (spec.scheme == quant_scheme::symmetric) {
    const float amax = std::max(-lo0, hi0);
    const float scale = std::max(amax / (levels / 2.0f), spec.eps);
    // Unsigned middle code, shifted like the codes when signed. torch's observers give quint8
    // its default 128 at 8 bits, but (quant_min + quant_max) // 2 for the custom ranges that
    // express fewer bits: 2^(b-1) - 1 for [0, 2^b - 1].
    std::int32_t z = std::int32_t(1) << (spec.bits - 1);
    if (spec.convention == quant_convention::eqnet) z -= 1;
    if (spec.convention == quant_convention::torch && !spec.is_signed && spec.bits < 8)
      z = (qmin + qmax) / 2;
    if (spec.is_signed) z -= std::int32_t(1) << (spec.bits - 1);
    return {scale, z};
  }
  // A range wider than FLT_MAX (hi0 - lo0 overflows) splits the division; same value otherwise.
  const float width = hi0 - lo0;
  const float scale = std::max(std::isfinite(width) ? width / levels : hi0 / levels - lo0 / levels,
                               spec.eps);
  const float shift = std::nearbyint(lo0 / scale);
  float zf = static_cast<float>(qmin) - shift;
  zf = std::min(std::max(zf, static_cast<float>(qmin)), static_cast<float>(qmax));
  return {scale, static_cast<std::int32_t>(zf)};
}

namespace detail {

/// How a contiguous row-major tensor splits into parameter slots: per element index i,
/// slot = ((i / inner) % channels) for per_channel, i / group for per_group, 0 per tensor.
struct quant_layout {
  quant_granularity granularity = quant_granularity::per_tensor;
  index_t size = 0;       // elements
  index_t outer = 1;      // per_channel: product of extents before the axis
  index_t channels = 1;   // per_channel: extent of the axis
  index_t inner = 1;      // per_channel: product of extents after the axis
  index_t group = 1;      // per_group: group size
  index_t slots = 1;      // number of (Δ, z) pairs
};

template <std::size_t R>
quant_layout make_quant_layout(const quant_spec& spec, const std::array<index_t, R>& extents,
                               const char* fn) {
  spec.validate(fn);
  quant_layout l;
  l.granularity = spec.granularity;
  l.size = 1;
  for (auto e : extents) l.size *= e;
  switch (spec.granularity) {
    case quant_granularity::per_tensor: break;
    case quant_granularity::per_channel: {
      const int rank = static_cast<int>(R);
      const int a = spec.axis < 0 ? spec.axis + rank : spec.axis;
      if (a < 0 || a >= rank)
        throw_invalid_argument(fn, "spec.axis", "must be in [", -rank, ", ", rank,
                               ") for a rank-", rank, " tensor, got ", spec.axis);
      for (int r = 0; r < a; ++r) l.outer *= extents[static_cast<std::size_t>(r)];
      l.channels = extents[static_cast<std::size_t>(a)];
      for (int r = a + 1; r < rank; ++r) l.inner *= extents[static_cast<std::size_t>(r)];
      l.slots = l.channels;
      break;
    }
    case quant_granularity::per_group: {
      const index_t last = extents[R - 1];
      if (last % spec.group_size != 0)
        throw_invalid_argument(fn, "spec.group_size", "must divide the last extent ", last,
                               ", got ", spec.group_size, " (pad the tensor first)");
      l.group = spec.group_size;
      l.slots = l.size / spec.group_size;
      break;
    }
  }
  return l;
}

/// Checks that params fit a tensor of this layout: slot count, positive finite scales,
/// zero points inside [qmin, qmax].
inline void check_params(const quant_params& p, const quant_layout& l, const char* fn) {
  if (p.count() != l.slots || static_cast<index_t>(p.zero_point.size()) != l.slots)
    throw_invalid_argument(fn, "params", "hold ", p.count(), " scales and ",
                           p.zero_point.size(), " zero points, but the tensor needs ", l.slots);
  const std::int32_t qmin = p.spec.qmin(), qmax = p.spec.qmax();
  for (index_t i = 0; i < l.slots; ++i) {
    const float s = p.scale[static_cast<std::size_t>(i)];
    if (!(s > 0.0f) || !std::isfinite(s) || !std::isfinite(1.0f / s))
      throw_invalid_argument(fn, "params.scale", "entry ", i,
                             " must be positive, finite and have a finite reciprocal, got ", s);
    const std::int32_t z = p.zero_point[static_cast<std::size_t>(i)];
    if (z < qmin || z > qmax)
      throw_invalid_argument(fn, "params.zero_point", "entry ", i, " = ", z,
                             " is outside the code range [", qmin, ", ", qmax, "]");
  }
}

/// Integer code type Q must hold [qmin, qmax].
template <class Q>
void check_code_type(const quant_spec& spec, const char* fn, const char* arg) {
  static_assert(std::is_integral<Q>::value && !std::is_same<Q, bool>::value && sizeof(Q) <= 4,
                "ladle: quantized codes must be an integer type of at most 32 bits");
  if (spec.qmin() < static_cast<std::int64_t>(std::numeric_limits<Q>::min()) ||
      spec.qmax() > static_cast<std::int64_t>(std::numeric_limits<Q>::max()))
    throw_invalid_argument(fn, arg, "has element type ", dtype_name(dtype_v<Q>),
                           " which cannot hold the code range [", spec.qmin(), ", ",
                           spec.qmax(), "]");
}

}  // namespace detail
}  // namespace ladle
