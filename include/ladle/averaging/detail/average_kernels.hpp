// ladle/averaging/detail/average_kernels.hpp: the chunked float32 accumulation every average
// shares (in memory and file to file). Plain loops over float arrays with std::fma: the compiler
// vectorises them (the chunk length is a compile-time multiple of the vector width in the body),
// and std::fma is correctly rounded on every ISA, so the bits never depend on the build.
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
};

struct average_scratch {
  std::vector<float> acc, buf, base, comp;
  std::vector<std::uint64_t> out;  // 8 bytes per element: room for any output dtype
  std::vector<const float*> x;     // in_place: the inputs' chunk pointers
  std::vector<float> c;            // in_place: their coefficients
  explicit average_scratch(index_t chunk)
      : acc(static_cast<std::size_t>(chunk)), buf(static_cast<std::size_t>(chunk)),
        base(static_cast<std::size_t>(chunk)), comp(static_cast<std::size_t>(chunk)),
        out(static_cast<std::size_t>(chunk)) {}

  /// True when every input is float32 aligned to 4 bytes, so elements [at, at + n) can be read
  /// in place; then x and c hold the chunk pointers and coefficients.
  bool in_place(const average_plan& p, index_t at, index_t n) {
    (void)n;
    x.clear();
    c.clear();
    for (const auto& in : p.inputs) {
      const auto* q = static_cast<const unsigned char*>(in.data) + static_cast<std::size_t>(at) * 4;
      if (!(in.type == dtype_v<float>) || reinterpret_cast<std::uintptr_t>(q) % 4 != 0) return false;
      x.push_back(reinterpret_cast<const float*>(q));
      c.push_back(in.coef);
    }
    return true;
  }
};

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

/// acc <- acc + c (x - acc), skipped where x == acc (keeps -0 and identical models exact).
/// Vector body only where the ISA has a fused multiply-add (xsimd emulates fma with two
/// roundings elsewhere); both paths round once, so the bits are the same on every build.
LADLE_FORCE_INLINE void running_mean_step(float* LADLE_RESTRICT acc, const float* LADLE_RESTRICT x,
                                          float c, index_t n) noexcept {
  index_t i = 0;
#if LADLE_HAS_SIMD && (defined(__FMA__) || defined(__AVX512F__))
  using fb = simd::batch<float>;
  constexpr index_t lanes = static_cast<index_t>(fb::size);
  const fb cv(c), zero(0.0f);
  const index_t vector_end = n - n % lanes;
  for (; i < vector_end; i += lanes) {
    simd::prefetch(x + i);  // the inputs are K interleaved streams: keep each one coming
    const fb a = fb::load_unaligned(acc + i);
    const fb d = fb::load_unaligned(x + i) - a;
    xsimd::select(d == zero, a, xsimd::fma(cv, d, a)).store_unaligned(acc + i);
  }
#endif
  for (; i < n; ++i) {
    const float d = x[i] - acc[i];
    const float t = std::fma(c, d, acc[i]);
    acc[i] = d == 0.0f ? acc[i] : t;
  }
}

/// acc = x_0, then acc <- acc + c_k (x_k - acc) for k = 1 .. K-1 as in running_mean_step, but
/// element by element with acc in a register: the same operations in the same order (the same
/// bits), without K - 1 round trips of acc through memory. For inputs that are all aligned
/// float32, read in place.
LADLE_FORCE_INLINE void running_mean_all(float* LADLE_RESTRICT acc, const float* const* x,
                                         const float* c, std::size_t k, index_t n) noexcept {
  index_t i = 0;
#if LADLE_HAS_SIMD && (defined(__FMA__) || defined(__AVX512F__))
  using fb = simd::batch<float>;
  constexpr index_t lanes = static_cast<index_t>(fb::size);
  const fb zero(0.0f);
  const index_t vector_end = n - n % lanes;
  for (; i < vector_end; i += lanes) {
    simd::prefetch(x[0] + i);
    fb a = fb::load_unaligned(x[0] + i);
    for (std::size_t m = 1; m < k; ++m) {
      simd::prefetch(x[m] + i);
      const fb d = fb::load_unaligned(x[m] + i) - a;
      a = xsimd::select(d == zero, a, xsimd::fma(fb(c[m]), d, a));
    }
    a.store_unaligned(acc + i);
  }
#endif
  for (; i < n; ++i) {
    float a = x[0][i];
    for (std::size_t m = 1; m < k; ++m) {
      const float d = x[m][i] - a;
      const float t = std::fma(c[m], d, a);
      a = d == 0.0f ? a : t;
    }
    acc[i] = a;
  }
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
    if (o.accumulation == average_accumulation::running_mean && s.in_place(p, at, n)) {
      running_mean_all(acc, s.x.data(), s.c.data(), p.inputs.size(), n);
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

}  // namespace detail
}  // namespace ladle
