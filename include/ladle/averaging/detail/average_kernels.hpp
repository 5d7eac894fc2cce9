// ladle/averaging/detail/average_kernels.hpp: the chunked float32 accumulation every average
// shares (in memory and file to file). One recurrence step (running_mean_update) in a scalar
// and a lane form that both round once (std::fma / simd::fma), so the bits never depend on the
// build: folded in registers across the inputs when they can be read in place, else one widened
// input chunk at a time.
#pragma once

#include "ladle/core/dtype.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/simd.hpp"
#include "ladle/core/simd_memory.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace ladle {
namespace detail {

/// How the running mean reads a tensor's inputs: in place when all of them are float32, or all
/// bfloat16, each aligned to its element (bfloat16 is widened in registers); otherwise chunk by
/// chunk through a widening buffer (half, float64, mixed dtypes, unaligned file data).
enum class input_read { in_place_float, in_place_bfloat16, widened };

struct average_input {
  const void* data;  ///< whole tensor, raw bytes (any alignment)
  dtype type;
  float coef;        ///< c_k (see average.hpp)
};

struct average_plan {
  std::string name;
  index_t elements = 0;
  bool integer = false;
  std::vector<average_input> inputs;  ///< models with non-zero weight, in order
  dtype out_type{dtype_code::float_, 32};
  void* out = nullptr;                ///< whole output tensor (in-memory forms)
  std::uint64_t stream = 0;           ///< Philox stream of stochastic rounding
  input_read read = input_read::widened;  ///< set by decide_input_read
  std::vector<const void*> in_place_data;  ///< in-place reads: the inputs' data, in order
  std::vector<float> in_place_coef;        ///< and their coefficients
};

struct average_scratch {
  std::vector<float> acc, buf, base, comp;
  std::vector<std::uint64_t> out;  // 8 bytes per element: room for any output dtype
  explicit average_scratch(index_t chunk)
      : acc(static_cast<std::size_t>(chunk)), buf(static_cast<std::size_t>(chunk)),
        base(static_cast<std::size_t>(chunk)), comp(static_cast<std::size_t>(chunk)),
        out(static_cast<std::size_t>(chunk)) {}
};

/// Decides once per tensor how the running mean reads p's inputs (p.read and the in-place lists).
inline void decide_input_read(average_plan& p) {
  p.read = input_read::widened;
  p.in_place_data.clear();
  p.in_place_coef.clear();
  if (p.integer || p.inputs.empty()) return;
  const dtype t = p.inputs[0].type;
  if (!(t == dtype_v<float>) && !(t == dtype_v<bfloat16>)) return;
  for (const auto& in : p.inputs)
    if (!(in.type == t) || reinterpret_cast<std::uintptr_t>(in.data) % (t.bits / 8u) != 0) return;
  for (const auto& in : p.inputs) {
    p.in_place_data.push_back(in.data);
    p.in_place_coef.push_back(in.coef);
  }
  p.read = t == dtype_v<float> ? input_read::in_place_float : input_read::in_place_bfloat16;
}

/// Elements [at, at + n) of a raw tensor as floats: a pointer into the tensor itself when it is
/// aligned float32, else widened into buf.
inline const float* load_floats(const average_input& in, index_t at, index_t n, float* buf) {
  const std::size_t esize = in.type.bits / 8u;
  const unsigned char* p = static_cast<const unsigned char*>(in.data) + static_cast<std::size_t>(at) * esize;
  const bool aligned = reinterpret_cast<std::uintptr_t>(p) % esize == 0;
  if (in.type == dtype_v<float>) {
    if (aligned) return reinterpret_cast<const float*>(p);
    std::memcpy(buf, p, static_cast<std::size_t>(n) * 4);
    return buf;
  }
  if (in.type == dtype_v<double>) {
    for (index_t i = 0; i < n; ++i) {
      double d;
      std::memcpy(&d, p + 8 * i, 8);
      buf[i] = static_cast<float>(d);
    }
    return buf;
  }
  if (!aligned) {  // rare: unpadded files; widen element by element
    for (index_t i = 0; i < n; ++i) {
      std::uint16_t b;
      std::memcpy(&b, p + 2 * i, 2);
      buf[i] = in.type == dtype_v<bfloat16> ? to_float(Eigen::numext::bit_cast<bfloat16>(b))
                                            : to_float(Eigen::numext::bit_cast<half>(b));
    }
    return buf;
  }
  if (in.type == dtype_v<bfloat16>)
    convert_n(reinterpret_cast<const bfloat16*>(p), buf, n);
  else
    convert_n(reinterpret_cast<const half*>(p), buf, n);
  return buf;
}

/// One step of the running mean: a + c (x - a) with one rounding, skipped where x == a (keeps -0
/// and identical models exact). The scalar form and the lane form (vector paths only where the
/// ISA has a fused multiply-add: xsimd emulates fma with two roundings elsewhere) round alike,
/// so the bits are the same on every build.
LADLE_FORCE_INLINE float running_mean_update(float a, float x, float c) noexcept {
  const float d = x - a;
  const float t = std::fma(c, d, a);
  return d == 0.0f ? a : t;
}
#if LADLE_HAS_SIMD && (defined(__FMA__) || defined(__AVX512F__))
template <class B>
LADLE_FORCE_INLINE B running_mean_update(const B& a, const B& x, const B& c) noexcept {
  const B d = x - a;
  return xsimd::select(d == B(0.0f), a, simd::fma(c, d, a));
}
#endif

/// acc <- running_mean_update(acc, x, c) over [0, n): the widening path's step, one input chunk
/// at a time.
LADLE_FORCE_INLINE void running_mean_step(float* LADLE_RESTRICT acc, const float* LADLE_RESTRICT x,
                                          float c, index_t n) noexcept {
  index_t i = 0;
#if LADLE_HAS_SIMD && (defined(__FMA__) || defined(__AVX512F__))
  using fb = simd::batch<float>;
  constexpr index_t lanes = static_cast<index_t>(fb::size);
  const fb cv(c);
  const index_t vector_end = n - n % lanes;
  for (; i < vector_end; i += lanes) {
    simd::prefetch(x + i);  // one input stream at a time: the prefetch keeps it coming
    running_mean_update(fb::load_unaligned(acc + i), fb::load_unaligned(x + i), cv).store_unaligned(acc + i);
  }
#endif
  for (; i < n; ++i) acc[i] = running_mean_update(acc[i], x[i], c);
}

LADLE_FORCE_INLINE float input_value(const float* p) noexcept { return *p; }
LADLE_FORCE_INLINE float input_value(const bfloat16* p) noexcept { return to_float(*p); }

/// The running mean of element i across the K inputs: m = x_0, then
/// m <- running_mean_update(m, x_k, c_k). One lane's arithmetic, shared by every path of running_mean_all.
template <class In>
LADLE_FORCE_INLINE float running_mean_scalar(const void* const* x, const float* c, std::size_t k,
                                             index_t i) noexcept {
  float a = input_value(static_cast<const In*>(x[0]) + i);
  for (std::size_t m = 1; m < k; ++m) a = running_mean_update(a, input_value(static_cast<const In*>(x[m]) + i), c[m]);
  return a;
}

#if LADLE_HAS_SIMD && (defined(__FMA__) || defined(__AVX512F__))
template <class B>
LADLE_FORCE_INLINE B input_lanes(const float* p) noexcept { return B::load_unaligned(p); }
template <class B>
LADLE_FORCE_INLINE B input_lanes(const bfloat16* p) noexcept {  // exact: bf16 is float's top half
  const auto u = simd::bitwise_cast<std::uint32_t>(simd::load_widen(reinterpret_cast<const std::uint16_t*>(p)));
  return simd::bitwise_cast<float>(u << 16);
}

/// running_mean_scalar for the U batches of lanes at i, i + B::size, ...: one pass over the
/// inputs, the U loads of each input issued together.
template <class In, class B, int U>
LADLE_FORCE_INLINE void running_mean_lanes(const void* const* x, const float* c, std::size_t k,
                                           index_t i, B (&a)[U]) noexcept {
  constexpr index_t lanes = static_cast<index_t>(B::size);
  const In* x0 = static_cast<const In*>(x[0]) + i;
  for (int u = 0; u < U; ++u) a[u] = input_lanes<B>(x0 + u * lanes);
  for (std::size_t m = 1; m < k; ++m) {
    const In* xm = static_cast<const In*>(x[m]) + i;
    const B cm(c[m]);
    for (int u = 0; u < U; ++u) a[u] = running_mean_update(a[u], input_lanes<B>(xm + u * lanes), cm);
  }
}
#endif

/// out[i] = the running mean of element at + i of the K inputs (all of type In, read in place),
/// for i in [0, n): the recurrence of running_mean_step element by element with the mean in a
/// register (the same operations in the same order, so the same bits), every input read once.
/// `streamed` writes out with cache-bypassing stores (a scalar head reaches the vector
/// boundary). No software prefetch: with nine streams in flight it only competed with the
/// hardware prefetchers (8 x 25M float32, one thread, Zen 5 VM: 20 ms without, 27 ms with a
/// 4 KiB-ahead prefetch). `out` may be one of the inputs exactly (every input of an element is
/// read before the element is written), never a partial overlap.
template <class In>
LADLE_FORCE_INLINE void running_mean_all(float* out, const void* const* x, const float* c,
                                         std::size_t k, index_t at, index_t n,
                                         bool streamed) noexcept {
  index_t i = 0;
#if LADLE_HAS_SIMD && (defined(__FMA__) || defined(__AVX512F__))
  using fb = simd::batch<float>;
  constexpr index_t lanes = static_cast<index_t>(fb::size);
  const auto put = [&](index_t j, const fb& v) {
    if (streamed) simd::stream(out + j, v);
    else v.store_unaligned(out + j);
  };
  if (streamed)
    for (; i < n && reinterpret_cast<std::uintptr_t>(out + i) % sizeof(fb) != 0; ++i)
      out[i] = running_mean_scalar<In>(x, c, k, at + i);
  for (; i + 2 * lanes <= n; i += 2 * lanes) {  // two vectors a step: more loads in flight
    fb a[2];
    running_mean_lanes<In>(x, c, k, at + i, a);
    put(i, a[0]);
    put(i + lanes, a[1]);
  }
  for (; i + lanes <= n; i += lanes) {
    fb a[1];
    running_mean_lanes<In>(x, c, k, at + i, a);
    put(i, a[0]);
  }
#else
  (void)streamed;
#endif
  for (; i < n; ++i) out[i] = running_mean_scalar<In>(x, c, k, at + i);
}

/// Neumaier-compensated s += c (x - base): the difference's rounding error (TwoSum) and the
/// product's (fma) go into comp.
LADLE_FORCE_INLINE void compensated_step(float* LADLE_RESTRICT s, float* LADLE_RESTRICT comp,
                                         const float* LADLE_RESTRICT x,
                                         const float* LADLE_RESTRICT base, float c,
                                         index_t n) noexcept {
  for (index_t i = 0; i < n; ++i) {
    const float a = x[i], b = -base[i];
    const float d = a + b;
    const float bb = d - a;
    const float de = (a - (d - bb)) + (b - bb);  // exact: a + b = d + de
    // Products rounded on their own (fma with 0) so no contraction choice changes the bits.
    const float p = std::fma(c, d, 0.0f);
    const float pe = std::fma(c, d, -p);  // exact: c * d = p + pe
    const float t = s[i] + p;
    const float te = std::fabs(s[i]) >= std::fabs(p) ? (s[i] - t) + p : (p - t) + s[i];
    s[i] = t;
    comp[i] = std::fma(c, de, comp[i] + (te + pe));
  }
}

/// Stochastic rounding of float32 to bfloat16 bits: add 16 Philox bits, truncate.
inline void stochastic_bf16(const float* acc, std::uint16_t* out, index_t at, index_t n,
                            const philox& g) noexcept {
  for (index_t i = 0; i < n; ++i) {
    const auto idx = static_cast<std::uint64_t>(at + i);
    std::uint32_t bits;
    std::memcpy(&bits, &acc[i], 4);
    if ((bits & 0x7f800000u) == 0x7f800000u) {  // Inf / NaN: nearest even
      out[i] = Eigen::numext::bit_cast<std::uint16_t>(from_float<bfloat16>(acc[i]));
      continue;
    }
    const std::uint32_t r = g.block_at(idx / 4)[idx % 4] >> 16;
    out[i] = static_cast<std::uint16_t>((bits + r) >> 16);
  }
}

/// Converts the float chunk to the output dtype into out (bytes).
inline void store_chunk(const average_plan& p, const average_options& o, const float* acc,
                        index_t at, index_t n, void* out) {
  if (p.out_type == dtype_v<float>) {
    std::memcpy(out, acc, static_cast<std::size_t>(n) * 4);
  } else if (p.out_type == dtype_v<bfloat16>) {
    if (o.rounding == output_rounding::stochastic)
      stochastic_bf16(acc, static_cast<std::uint16_t*>(out), at, n,
                      philox(o.rounding_seed, p.stream));
    else
      convert_n(acc, static_cast<bfloat16*>(out), n);
  } else if (p.out_type == dtype_v<half>) {
    convert_n(acc, static_cast<half*>(out), n);
  } else {
    convert_n(acc, static_cast<double*>(out), n);
  }
}

/// acc[0, n) = x[0, n), prefetching x ahead like running_mean_step.
LADLE_FORCE_INLINE void copy_first(float* LADLE_RESTRICT acc, const float* LADLE_RESTRICT x,
                                   index_t n) noexcept {
#if LADLE_HAS_SIMD
  for (index_t i = 0; i < n; i += 16) simd::prefetch(x + i);
#endif
  std::memcpy(acc, x, static_cast<std::size_t>(n) * 4);
}

template <index_t Block, class F>
LADLE_FORCE_INLINE void in_blocks(index_t n, F&& f) {
  index_t i = 0;
  for (; i + Block <= n; i += Block) f(i, Block);  // constant trip count: vectorised
  if (i < n) f(i, n - i);
}

/// The compensated accumulation of one chunk whose first input is already in s.acc.
inline void compensated_chunk(const average_plan& p, index_t at, index_t n, average_scratch& s) {
  float* acc = s.acc.data();
  float* base = s.base.data();
  float* comp = s.comp.data();
  std::memcpy(base, acc, static_cast<std::size_t>(n) * 4);
  std::fill(acc, acc + n, 0.0f);
  std::fill(comp, comp + n, 0.0f);
  for (std::size_t k = 1; k < p.inputs.size(); ++k) {
    const float* x = load_floats(p.inputs[k], at, n, s.buf.data());
    const float c = p.inputs[k].coef;
    in_blocks<64>(n, [&](index_t i, index_t m) { compensated_step(acc + i, comp + i, x + i, base + i, c, m); });
  }
  for (index_t i = 0; i < n; ++i) {
    const float delta = acc[i] + comp[i];
    acc[i] = delta == 0.0f ? base[i] : base[i] + delta;
  }
}

/// Averages elements [begin, end) of one tensor chunk by chunk; emit(at, bytes, nbytes) receives
/// each output chunk in order.
template <class Emit>
void average_range(const average_plan& p, index_t begin, index_t end, const average_options& o,
                   average_scratch& s, Emit&& emit) {
  const std::size_t osize = p.out_type.bits / 8u;
  for (index_t at = begin; at < end; at += o.chunk) {
    const index_t n = std::min(o.chunk, end - at);
    if (p.integer) {
      emit(at, static_cast<const unsigned char*>(p.inputs[0].data) + static_cast<std::size_t>(at) * osize,
           static_cast<std::size_t>(n) * osize);
      continue;
    }
    float* acc = s.acc.data();
    if (o.accumulation == average_accumulation::running_mean && p.read == input_read::in_place_float) {
      running_mean_all<float>(acc, p.in_place_data.data(), p.in_place_coef.data(),
                              p.in_place_data.size(), at, n, false);
    } else if (o.accumulation == average_accumulation::running_mean &&
               p.read == input_read::in_place_bfloat16) {
      running_mean_all<bfloat16>(acc, p.in_place_data.data(), p.in_place_coef.data(),
                                 p.in_place_data.size(), at, n, false);
    } else if (o.accumulation == average_accumulation::running_mean) {
      copy_first(acc, load_floats(p.inputs[0], at, n, s.buf.data()), n);
      for (std::size_t k = 1; k < p.inputs.size(); ++k) {
        const float* x = load_floats(p.inputs[k], at, n, s.buf.data());
        const float c = p.inputs[k].coef;
        in_blocks<64>(n, [&](index_t i, index_t m) { running_mean_step(acc + i, x + i, c, m); });
      }
    } else {
      copy_first(acc, load_floats(p.inputs[0], at, n, s.buf.data()), n);
      if (p.inputs.size() > 1) compensated_chunk(p, at, n, s);
    }
    if (p.out_type == dtype_v<float>) {  // already the output's bytes
      emit(at, static_cast<const void*>(acc), static_cast<std::size_t>(n) * 4);
      continue;
    }
    store_chunk(p, o, acc, at, n, s.out.data());
    emit(at, static_cast<const void*>(s.out.data()), static_cast<std::size_t>(n) * osize);
  }
}

/// The in-memory fast path: a running mean of float32 inputs read in place into a float32
/// output, written straight from registers (streamed when `streamed`) without the chunk buffer.
/// False, with nothing written, when p does not qualify: then average_range does the work.
inline bool average_range_direct(const average_plan& p, index_t begin, index_t end,
                                 const average_options& o, bool streamed) noexcept {
  if (o.accumulation != average_accumulation::running_mean || p.read != input_read::in_place_float ||
      !(p.out_type == dtype_v<float>) || reinterpret_cast<std::uintptr_t>(p.out) % 4 != 0)
    return false;
  running_mean_all<float>(static_cast<float*>(p.out) + begin, p.in_place_data.data(),
                          p.in_place_coef.data(), p.in_place_data.size(), begin, end - begin,
                          streamed);
  return true;
}

}  // namespace detail
}  // namespace ladle
