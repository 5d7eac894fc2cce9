// ladle/quantization/detail/affine_kernels.hpp: the inner loops of quantize / dequantize /
// fake_quantize over one block of at most `block` floats sharing one (Δ, z).
//
// Each kernel has a scalar reference and an xsimd version with the same arithmetic:
//   t = x * inv (or x / Δ), NaN -> 0, t = clamp(t, qmin - z, qmax - z), code = nearbyint(t) + z.
// Clamping before rounding equals torch's clamp after rounding because the bounds are integers
// and rounding is monotone. No multiply is followed by an add, so FMA contraction cannot change
// results between the two paths.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/simd.hpp"
#include "ladle/core/simd_memory.hpp"
#include "ladle/quantization/packing.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace ladle {
namespace detail {
namespace aq {

/// Elements per block: buffers of this size live on the stack (a few KiB, L1 resident).
inline constexpr index_t block = 256;

/// Philox stream used by stochastic rounding (the seed is the caller's).
inline constexpr std::uint64_t stochastic_stream = 0x71756e745f726e64ull;  // "qunt_rnd"

/// One parameter slot, pre-digested for the kernels.
struct slot {
  float scale = 1.0f;
  float inv = 1.0f;         // 1.0f / scale, in float (torch's reciprocal)
  float lo = 0.0f, hi = 0.0f;  // qmin - z, qmax - z
  float zf = 0.0f;
  std::int32_t z = 0;
};

inline slot make_slot(float scale, std::int32_t z, std::int32_t qmin, std::int32_t qmax) noexcept {
  slot s;
  s.scale = scale;
  s.inv = 1.0f / scale;
  s.z = z;
  s.zf = static_cast<float>(z);
  s.lo = static_cast<float>(qmin - z);
  s.hi = static_cast<float>(qmax - z);
  return s;
}

// ---- scalar reference -------------------------------------------------------------------------

template <bool Divide>
LADLE_FORCE_INLINE float scaled(float v, const slot& s) noexcept {
  return Divide ? v / s.scale : v * s.inv;
}

/// Sanitises v (NaN -> 0) and reports whether it was non-finite.
LADLE_FORCE_INLINE float sanitize(float v, bool& bad) noexcept {
  if (!std::isfinite(v)) {
    bad = true;
    if (v != v) return 0.0f;
  }
  return v;
}

template <bool Divide>
inline bool quantize_block_scalar(const float* x, std::int32_t* q, index_t n, const slot& s) noexcept {
  bool bad = false;
  for (index_t i = 0; i < n; ++i) {
    float t = scaled<Divide>(sanitize(x[i], bad), s);
    t = std::min(std::max(t, s.lo), s.hi);
    q[i] = static_cast<std::int32_t>(std::nearbyint(t)) + s.z;
  }
  return bad;
}

/// out = clamp(nearbyint(t)) * Δ; mask (optional) = nearbyint(t) + z inside [qmin, qmax].
template <bool Divide>
inline bool fake_block_scalar(const float* x, float* out, std::uint8_t* mask, index_t n,
                              const slot& s) noexcept {
  bool bad = false;
  for (index_t i = 0; i < n; ++i) {
    const float r = std::nearbyint(scaled<Divide>(sanitize(x[i], bad), s));
    if (mask) mask[i] = static_cast<std::uint8_t>(r >= s.lo && r <= s.hi);
    out[i] = (std::min(std::max(r, s.lo), s.hi) + 0.0f) * s.scale;  // + 0 turns -0 into +0
  }
  return bad;
}

inline void dequantize_block_scalar(const float* codes, float* out, index_t n, const slot& s) noexcept {
  for (index_t i = 0; i < n; ++i) out[i] = (codes[i] - s.zf) * s.scale;
}

/// Stochastic rounding: floor(t + u), u from word (index % 4) of Philox block index / 4.
template <bool Divide, bool Fake>
inline bool stochastic_block(const float* x, std::int32_t* q, float* out, std::uint8_t* mask,
                             index_t n, const slot& s, seed sd, std::uint64_t first) noexcept {
  const philox g(sd, stochastic_stream);
  philox4x32::counter_type words{};
  bool bad = false;
  for (index_t i = 0; i < n; ++i) {
    const std::uint64_t e = first + static_cast<std::uint64_t>(i);
    if (i == 0 || (e & 3u) == 0) words = g.block_at(e >> 2);
    const double u = static_cast<double>(u32_to_unit_float(words[e & 3u]));
    const double t = static_cast<double>(scaled<Divide>(sanitize(x[i], bad), s));
    const double r = std::floor(t + u);  // exact: t has 24 bits, u 24 bits below 1
    const double c = std::min(std::max(r, static_cast<double>(s.lo)), static_cast<double>(s.hi));
    if (Fake) {
      if (mask) mask[i] = static_cast<std::uint8_t>(r >= s.lo && r <= s.hi);
      out[i] = (static_cast<float>(c) + 0.0f) * s.scale;
    } else {
      q[i] = static_cast<std::int32_t>(c) + s.z;
    }
  }
  return bad;
}

// ---- xsimd --------------------------------------------------------------------------------

#if LADLE_HAS_SIMD
/// Codes of one batch v: NaN -> 0, scaled, clamped to [lo, hi], rounded half to even, plus z.
/// Lanes holding NaN or Inf are or-ed into nf.
template <bool Divide, class Mask>
LADLE_FORCE_INLINE simd::batch<std::int32_t> code_batch(simd::batch<float> v, const simd::batch<float>& inv,
                                                        const simd::batch<float>& scale, const simd::batch<float>& lo,
                                                        const simd::batch<float>& hi, const simd::batch<std::int32_t>& z,
                                                        Mask& nf) noexcept {
  const simd::batch<float> zero(0.0f);
  nf = nf | simd::nonfinite(v);
  v = simd::select(xsimd::isnan(v), zero, v);
  const simd::batch<float> t = Divide ? v / scale : v * inv;
  return xsimd::nearbyint_as_int(xsimd::min(xsimd::max(t, lo), hi)) + z;
}

/// Codes of the full vectors among x[0, n): put(codes, i) receives the int32 codes of elements
/// [i, i + lanes). Sets `bad` on NaN/Inf and returns how many elements were done (n rounded
/// down to whole vectors); the caller finishes the tail with the scalar kernel.
template <bool Divide, class Put>
LADLE_FORCE_INLINE index_t quantize_vectors(const float* x, index_t n, const slot& s, bool& bad,
                                            Put&& put) noexcept {
  using fb = simd::batch<float>;
  using ib = simd::batch<std::int32_t>;
  constexpr index_t w = static_cast<index_t>(fb::size);
  const fb vinv(s.inv), vscale(s.scale), vlo(s.lo), vhi(s.hi), zero(0.0f);
  const ib vz(s.z);
  auto nf = simd::nonfinite(zero);  // all false
  index_t i = 0;
  for (; i + w <= n; i += w) {
    simd::prefetch(x + i);
    put(code_batch<Divide>(fb::load_unaligned(x + i), vinv, vscale, vlo, vhi, vz, nf), i);
  }
  bad = bad || xsimd::any(nf);
  return i;
}

/// quantize_vectors over groups g0 .. g1 of `group` elements each (a multiple of the lane
/// count), group g using scale[g] and zp[g]: one loop with no per-group calls. The parameters
/// of 16 groups at a time are digested into small tables first, so the inner loop only
/// broadcasts. put(codes, i) receives element offsets relative to x (group g0 starts at 0).
template <bool Divide, class Put>
LADLE_FORCE_INLINE void quantize_group_vectors(const float* x, index_t g0, index_t g1, index_t group,
                                               const float* scale, const std::int32_t* zp,
                                               std::int32_t qmin, std::int32_t qmax, bool& bad,
                                               Put&& put) noexcept {
  using fb = simd::batch<float>;
  using ib = simd::batch<std::int32_t>;
  constexpr index_t w = static_cast<index_t>(fb::size);
  constexpr index_t tile = 16;
  const fb zero(0.0f);
  auto nf = simd::nonfinite(zero);  // all false
  alignas(64) float t_inv[tile], t_scale[tile], t_lo[tile], t_hi[tile];
  for (index_t t0 = g0; t0 < g1; t0 += tile) {
    const index_t tn = std::min(tile, g1 - t0);
    for (index_t k = 0; k < tn; ++k) {
      const slot s = make_slot(scale[t0 + k], zp[t0 + k], qmin, qmax);
      t_inv[k] = s.inv;
      t_scale[k] = s.scale;
      t_lo[k] = s.lo;
      t_hi[k] = s.hi;
    }
    for (index_t k = 0; k < tn; ++k) {
      const fb vinv(t_inv[k]), vscale(t_scale[k]), vlo(t_lo[k]), vhi(t_hi[k]);
      const ib vz(zp[t0 + k]);
      const index_t base = (t0 + k - g0) * group;
      const float* xg = x + base;
      for (index_t i = 0; i < group; i += w) {
        simd::prefetch(xg + i);
        put(code_batch<Divide>(fb::load_unaligned(xg + i), vinv, vscale, vlo, vhi, vz, nf), base + i);
      }
    }
  }
  bad = bad || xsimd::any(nf);
}

/// out = (clamp(nearbyint(x / Δ), lo, hi) + 0) * Δ over x[0, n), and the clipped-STE mask when
/// mask is non-null. param(i, inv, scale, lo, hi) loads the parameters of the vector at i;
/// scalar(i, count) runs the scalar kernel on [i, i + count) and returns its non-finite flag
/// (called one element at a time for the alignment head and the tail).
/// With Stream the float stores bypass the caches (the caller fences). Returns whether any
/// input was NaN/Inf.
template <bool Divide, bool Stream, class Param, class Scalar>
LADLE_FORCE_INLINE bool fake_span_simd(const float* x, float* out, std::uint8_t* mask, index_t n,
                                       Param&& param, Scalar&& scalar) noexcept {
  using fb = simd::batch<float>;
  const fb zero(0.0f), one(1.0f);
  auto nf = simd::nonfinite(zero);  // all false
  bool bad = false;
  simd::store_floats(
      out, n, Stream,
      [&](index_t i) {
        simd::prefetch(x + i);
        fb vinv, vscale, vlo, vhi;
        param(i, vinv, vscale, vlo, vhi);
        fb v = fb::load_unaligned(x + i);
        nf = nf | simd::nonfinite(v);
        v = simd::select(xsimd::isnan(v), zero, v);
        const fb r = xsimd::nearbyint(Divide ? v / vscale : v * vinv);
        if (mask) simd::store_narrow(xsimd::nearbyint_as_int(simd::select((r >= vlo) && (r <= vhi), one, zero)), mask + i);
        return (xsimd::min(xsimd::max(r, vlo), vhi) + zero) * vscale;
      },
      [&](index_t i) { bad |= scalar(i, index_t(1)); });
  return bad || xsimd::any(nf);
}

template <bool Divide, bool Stream = false>
inline bool fake_block_simd(const float* x, float* out, std::uint8_t* mask, index_t n,
                            const slot& s) noexcept {
  using fb = simd::batch<float>;
  const fb vinv(s.inv), vscale(s.scale), vlo(s.lo), vhi(s.hi);
  return fake_span_simd<Divide, Stream>(
      x, out, mask, n,
      [&](index_t, fb& inv, fb& sc, fb& lo, fb& hi) {
        inv = vinv;
        sc = vscale;
        lo = vlo;
        hi = vhi;
      },
      [&](index_t i, index_t cnt) { return fake_block_scalar<Divide>(x + i, out + i, mask ? mask + i : nullptr, cnt, s); });
}

inline void dequantize_block_simd(const float* codes, float* out, index_t n, const slot& s) noexcept {
  using fb = simd::batch<float>;
  constexpr index_t w = static_cast<index_t>(fb::size);
  const fb vz(s.zf), vscale(s.scale);
  index_t i = 0;
  for (; i + w <= n; i += w) ((fb::load_unaligned(codes + i) - vz) * vscale).store_unaligned(out + i);
  dequantize_block_scalar(codes + i, out + i, n - i, s);
}
#endif

#if LADLE_HAS_SIMD
/// out[i] = (codes[i] - z) * Δ for i in [0, n), widening the codes in registers. With Stream the
/// stores bypass the caches (the caller fences before the output is read elsewhere).
/// param(i) gives the (zf, scale) batches of the vector at i; scalar(i) does one element.
template <bool Stream, class Q, class Param, class Scalar>
LADLE_FORCE_INLINE void dequantize_span_simd(const Q* codes, float* out, index_t n, Param&& param,
                                             Scalar&& scalar) noexcept {
  using fb = simd::batch<float>;
  simd::store_floats(
      out, n, Stream,
      [&](index_t i) {
        fb zf, sc;
        simd::prefetch(codes + i);
        param(i, zf, sc);
        return (xsimd::to_float(simd::load_widen<Q>(codes + i)) - zf) * sc;
      },
      scalar);
}
#endif

// ---- per-element parameters (per-channel along the last axis) -------------------------------

/// Parameters indexed by position inside a row: element i of a row uses entry c0 + i.
struct slot_arrays {
  std::vector<float> scale, inv, lo, hi, zf;
  std::vector<std::int32_t> z;
};

/// The parameters of a run of a varying layout: element i uses entry c0 + i of *a. It stands
/// where a uniform run passes its slot, so both share the quantize loops.
struct slot_row {
  const slot_arrays* a;
  index_t c0;
};

/// The parameters of the same run from its element d on.
inline slot_row shifted(slot_row r, index_t d) noexcept { return {r.a, r.c0 + d}; }
inline const slot& shifted(const slot& s, index_t) noexcept { return s; }

template <bool Divide>
inline bool quantize_block_scalar(const float* x, std::int32_t* q, index_t n, slot_row r) noexcept {
  const slot_arrays& a = *r.a;
  bool bad = false;
  for (index_t i = 0; i < n; ++i) {
    const auto c = static_cast<std::size_t>(r.c0 + i);
    const float v = sanitize(x[i], bad);
    float t = Divide ? v / a.scale[c] : v * a.inv[c];
    t = std::min(std::max(t, a.lo[c]), a.hi[c]);
    q[i] = static_cast<std::int32_t>(std::nearbyint(t)) + a.z[c];
  }
  return bad;
}

template <bool Divide>
inline bool fake_varying_scalar(const float* x, float* out, std::uint8_t* mask, index_t n,
                                const slot_arrays& a, index_t c0) noexcept {
  bool bad = false;
  for (index_t i = 0; i < n; ++i) {
    const auto c = static_cast<std::size_t>(c0 + i);
    const float v = sanitize(x[i], bad);
    const float r = std::nearbyint(Divide ? v / a.scale[c] : v * a.inv[c]);
    if (mask) mask[i] = static_cast<std::uint8_t>(r >= a.lo[c] && r <= a.hi[c]);
    out[i] = (std::min(std::max(r, a.lo[c]), a.hi[c]) + 0.0f) * a.scale[c];
  }
  return bad;
}

inline void dequantize_varying_scalar(const float* codes, float* out, index_t n, const slot_arrays& a,
                                      index_t c0) noexcept {
  for (index_t i = 0; i < n; ++i) {
    const auto c = static_cast<std::size_t>(c0 + i);
    out[i] = (codes[i] - a.zf[c]) * a.scale[c];
  }
}

#if LADLE_HAS_SIMD
/// quantize_vectors with the parameters of element i at entry r.c0 + i.
template <bool Divide, class Put>
LADLE_FORCE_INLINE index_t quantize_vectors(const float* x, index_t n, slot_row r, bool& bad,
                                            Put&& put) noexcept {
  const slot_arrays& a = *r.a;
  const index_t c0 = r.c0;
  using fb = simd::batch<float>;
  using ib = simd::batch<std::int32_t>;
  constexpr index_t w = static_cast<index_t>(fb::size);
  const fb zero(0.0f);
  auto nf = simd::nonfinite(zero);  // all false
  index_t i = 0;
  for (; i + w <= n; i += w) {
    const index_t c = c0 + i;
    simd::prefetch(x + i);
    put(code_batch<Divide>(fb::load_unaligned(x + i), fb::load_unaligned(a.inv.data() + c),
                           fb::load_unaligned(a.scale.data() + c), fb::load_unaligned(a.lo.data() + c),
                           fb::load_unaligned(a.hi.data() + c), ib::load_unaligned(a.z.data() + c), nf),
        i);
  }
  bad = bad || xsimd::any(nf);
  return i;
}

template <bool Divide, bool Stream = false>
inline bool fake_varying_simd(const float* x, float* out, std::uint8_t* mask, index_t n,
                              const slot_arrays& a, index_t c0) noexcept {
  using fb = simd::batch<float>;
  return fake_span_simd<Divide, Stream>(
      x, out, mask, n,
      [&](index_t i, fb& inv, fb& sc, fb& lo, fb& hi) {
        const index_t c = c0 + i;
        inv = fb::load_unaligned(a.inv.data() + c);
        sc = fb::load_unaligned(a.scale.data() + c);
        lo = fb::load_unaligned(a.lo.data() + c);
        hi = fb::load_unaligned(a.hi.data() + c);
      },
      [&](index_t i, index_t cnt) {
        return fake_varying_scalar<Divide>(x + i, out + i, mask ? mask + i : nullptr, cnt, a, c0 + i);
      });
}

inline void dequantize_varying_simd(const float* codes, float* out, index_t n, const slot_arrays& a,
                                    index_t c0) noexcept {
  using fb = simd::batch<float>;
  constexpr index_t w = static_cast<index_t>(fb::size);
  index_t i = 0;
  for (; i + w <= n; i += w)
    ((fb::load_unaligned(codes + i) - fb::load_unaligned(a.zf.data() + c0 + i)) *
     fb::load_unaligned(a.scale.data() + c0 + i)).store_unaligned(out + i);
  dequantize_varying_scalar(codes + i, out + i, n - i, a, c0 + i);
}
#endif

template <bool Simd, bool Divide>
LADLE_FORCE_INLINE bool fake_varying(const float* x, float* out, std::uint8_t* mask, index_t n,
                                     const slot_arrays& a, index_t c0) noexcept {
#if LADLE_HAS_SIMD
  if (Simd) return fake_varying_simd<Divide>(x, out, mask, n, a, c0);
#endif
  return fake_varying_scalar<Divide>(x, out, mask, n, a, c0);
}

template <bool Simd>
LADLE_FORCE_INLINE void dequantize_varying(const float* codes, float* out, index_t n, const slot_arrays& a,
                                           index_t c0) noexcept {
#if LADLE_HAS_SIMD
  if (Simd) return dequantize_varying_simd(codes, out, n, a, c0);
#endif
  dequantize_varying_scalar(codes, out, n, a, c0);
}

// ---- dispatch on path ---------------------------------------------------------------------

template <bool Simd, bool Divide>
LADLE_FORCE_INLINE bool fake_block(const float* x, float* out, std::uint8_t* mask, index_t n,
                                   const slot& s) noexcept {
#if LADLE_HAS_SIMD
  if (Simd) return fake_block_simd<Divide>(x, out, mask, n, s);
#endif
  return fake_block_scalar<Divide>(x, out, mask, n, s);
}

template <bool Simd>
LADLE_FORCE_INLINE void dequantize_block(const float* codes, float* out, index_t n, const slot& s) noexcept {
#if LADLE_HAS_SIMD
  if (Simd) return dequantize_block_simd(codes, out, n, s);
#endif
  dequantize_block_scalar(codes, out, n, s);
}

/// Packs n int32 codes (known to fit in 4 bits, two's complement kept) two per byte, low nibble
/// first (the packing.hpp layout). Written as two fixed-length byte loops (narrow, then pair up)
/// that compilers vectorise at -O2; xsimd's portable subset has no byte shuffles for this.
inline void pack4_codes(const std::int32_t* LADLE_RESTRICT in, index_t n, std::uint8_t* LADLE_RESTRICT out) noexcept {
  index_t i = 0;
  for (; i + 64 <= n; i += 64) {
    std::uint8_t b[64];
    for (int k = 0; k < 64; ++k) b[k] = static_cast<std::uint8_t>(in[i + k]);
    std::uint8_t* dst = out + i / 2;
    for (int k = 0; k < 32; ++k) dst[k] = static_cast<std::uint8_t>((b[2 * k] & 15) | (b[2 * k + 1] << 4));
  }
  pack_span_unchecked<4>(in + i, n - i, out + i / 2);
}

/// int32 codes -> Q (values already inside Q's range). Chunks of a constant 32 elements let the
/// compiler vectorise the narrowing at -O2 (GCC's cheap cost model refuses loops with epilogues).
template <class Q>
LADLE_FORCE_INLINE void narrow_codes(const std::int32_t* LADLE_RESTRICT in, Q* LADLE_RESTRICT out, index_t n) noexcept {
  index_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (index_t k = 0; k < 32; ++k) out[i + k] = static_cast<Q>(in[i + k]);
  for (; i < n; ++i) out[i] = static_cast<Q>(in[i]);
}

/// Q -> float (exact for codes of at most 24 bits).
template <class Q>
LADLE_FORCE_INLINE void widen_codes(const Q* LADLE_RESTRICT in, float* LADLE_RESTRICT out, index_t n) noexcept {
  index_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (index_t k = 0; k < 32; ++k) out[i + k] = static_cast<float>(in[i + k]);
  for (; i < n; ++i) out[i] = static_cast<float>(in[i]);
}

}  // namespace aq
}  // namespace detail
}  // namespace ladle
