// ladle/quantization/detail/affine_impl.hpp: drivers behind quantize.hpp. The tensor is cut into
// runs of consecutive elements that share one parameter slot (a chunk of the tensor, one
// (outer, channel) slice, or one group); runs are processed in blocks by the kernels of
// affine_kernels.hpp and distributed over threads with ladle::parallel_for.
#pragma once

#include "ladle/core/dtype.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/simd_memory.hpp"
#include "ladle/quantization/detail/affine_kernels.hpp"
#include "ladle/quantization/packing.hpp"
#include "ladle/quantization/spec.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

namespace ladle {
namespace detail {
namespace aq {

/// Elements per run for per-tensor work (a parallel chunk).
inline constexpr index_t tensor_run = 16384;

/// Elements a thread should get at least, so tiny runs are batched.
inline constexpr index_t min_work = 32768;

/// Ends a chunk of parallel work: kernels may have used streaming stores, which must be fenced
/// before the thread reports the chunk done.
LADLE_FORCE_INLINE void chunk_done() noexcept {
#if LADLE_HAS_SIMD
  simd::stream_fence();
#endif
}

/// Calls f(first_element, length, slot_index) for every run of the layout, over threads.
template <class Policy, class F>
void for_each_run(const Policy& policy, const quant_layout& l, F&& f) {
  if (l.size == 0) return;
  if (l.granularity == quant_granularity::per_tensor) {
    const index_t runs = (l.size + tensor_run - 1) / tensor_run;
    parallel_for(policy, runs, 2, [&](index_t b, index_t e) {
      for (index_t r = b; r < e; ++r) {
        const index_t first = r * tensor_run;
        f(first, std::min(tensor_run, l.size - first), index_t(0));
      }
      chunk_done();
    });
    return;
  }
  const index_t len = l.granularity == quant_granularity::per_group ? l.group : l.inner;
  const index_t runs = l.size / len;
  const index_t grain = std::max<index_t>(1, min_work / std::max<index_t>(len, 1));
  parallel_for(policy, runs, grain, [&](index_t b, index_t e) {
    for (index_t r = b; r < e; ++r)
      f(r * len, len,
        l.granularity == quant_granularity::per_group ? r : r % l.channels);
    chunk_done();
  });
}

inline std::vector<slot> make_slots(const quant_params& p) {
  std::vector<slot> s(p.scale.size());
  const std::int32_t qmin = p.spec.qmin(), qmax = p.spec.qmax();
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = make_slot(p.scale[i], p.zero_point[i], qmin, qmax);
  return s;
}

/// Per-channel along the last axis: parameters change with every element, so rows are processed
/// with per-element parameter arrays instead of one-element runs.
inline bool use_varying(const quant_layout& l, const quant_spec& spec) noexcept {
  return l.granularity == quant_granularity::per_channel && l.inner == 1 && l.channels >= 8 &&
         spec.rounding == rounding_mode::nearest_even;
}

inline slot_arrays make_slot_arrays(const quant_params& p) {
  slot_arrays a;
  const std::int32_t qmin = p.spec.qmin(), qmax = p.spec.qmax();
  for (std::size_t i = 0; i < p.scale.size(); ++i) {
    const slot s = make_slot(p.scale[i], p.zero_point[i], qmin, qmax);
    a.scale.push_back(s.scale);
    a.inv.push_back(s.inv);
    a.lo.push_back(s.lo);
    a.hi.push_back(s.hi);
    a.zf.push_back(s.zf);
    a.z.push_back(s.z);
  }
  return a;
}

/// Calls f(row_first, row_length) for every row of a varying layout, over threads.
template <class Policy, class F>
void for_each_row(const Policy& policy, const quant_layout& l, F&& f) {
  const index_t grain = std::max<index_t>(1, min_work / l.channels);
  parallel_for(policy, l.outer, grain, [&](index_t b, index_t e) {
    for (index_t r = b; r < e; ++r) f(r * l.channels, l.channels);
    chunk_done();
  });
}

/// A pointer to n floats of x: x itself when T is float, else converted into buf.
template <class T>
LADLE_FORCE_INLINE const float* as_floats(const T* x, index_t n, float* buf) noexcept {
  if constexpr (std::is_same<T, float>::value) {
    (void)buf;
    (void)n;
    return x;
  } else {
    convert_n(x, buf, n);
    return buf;
  }
}

template <class T, std::size_t R, class U, std::size_t S>
void check_pair(const tensor_view<T, R>& in, const tensor_view<U, S>& out, const char* fn,
                const char* in_name, const char* out_name) {
  require_host(in, fn, in_name);
  require_host(out, fn, out_name);
  require_contiguous(in, fn, in_name);
  require_contiguous(out, fn, out_name);
  if (R == S)
    for (std::size_t r = 0; r < R; ++r) require_extent(out.extent(r), in.extent(r), fn, out_name, "extent");
}

/// Raises the NaN/Inf error after a kernel flagged one, naming the first offending element of
/// the input (`in`, `n` elements, row-major): the scan runs only on this error path.
template <class V>
void report_nonfinite(bool bad, const quant_spec& spec, const char* fn, const V* in, index_t n) {
  if (!bad || spec.nonfinite != nonfinite_policy::error) return;
  for (index_t i = 0; i < n; ++i) {
    const float v = to_float(in[i]);
    if (!std::isfinite(v))
      throw_domain_error(fn, "x", "has ", v, " at element ", i, " (row-major); set spec.nonfinite "
                         "= saturate to map NaN and Inf to the code range");
  }
  throw_domain_error(fn, "x", "contains NaN or Inf (set spec.nonfinite = saturate to map "
                     "them to the code range)");
}

/// An output that aliases its input is checked for NaN/Inf before anything is written, so an
/// error under nonfinite_policy::error leaves the caller's data untouched.
template <class T, std::size_t R, class U, std::size_t S>
void precheck_in_place(const tensor_view<T, R>& x, const tensor_view<U, S>& out,
                       const quant_spec& spec, const char* fn) {
  if (spec.nonfinite == nonfinite_policy::error && overlaps(x, out)) require_finite(x, fn, "x");
}

// ---- where codes go ---------------------------------------------------------------------
// quantize and quantize_packed share their loops and differ only in a sink:
//   sink.write(codes, at, n)   stores n int32 codes of elements [at, at + n) (any path);
//   sink.put(batch, at)        stores one batch of codes straight from registers, when
//                              Sink::direct (the SIMD path then skips the int32 buffer).

/// Codes of type Q, one per element.
template <class Q>
struct code_sink {
  static constexpr bool direct = true;
  Q* out;
  void write(const std::int32_t* codes, index_t at, index_t n) const noexcept { narrow_codes(codes, out + at, n); }
#if LADLE_HAS_SIMD
  LADLE_FORCE_INLINE void put(const simd::batch<std::int32_t>& c, index_t at) const noexcept {
    simd::store_narrow(c, out + at);
  }
#endif
};

/// 4-bit fields, two per byte (`at` is always even: runs start on byte boundaries).
struct nibble_sink {
  static constexpr bool direct = true;
  std::uint8_t* out;
  void write(const std::int32_t* codes, index_t at, index_t n) const noexcept { pack4_codes(codes, n, out + at / 2); }
#if LADLE_HAS_SIMD
  LADLE_FORCE_INLINE void put(const simd::batch<std::int32_t>& c, index_t at) const noexcept {
    simd::store_nibbles(c, out + at / 2);
  }
#endif
};

/// B-bit fields for the other widths (`at * B` is always a multiple of 8).
template <int B>
struct field_sink {
  static constexpr bool direct = false;
  std::uint8_t* out;
  void write(const std::int32_t* codes, index_t at, index_t n) const noexcept {
    pack_span_unchecked<B>(codes, n, out + at * B / 8);
  }
};

/// Quantizes n floats with parameters s (a slot, or a slot_row of a varying layout) into the
/// sink; returns whether any was NaN/Inf. ibuf holds `block` codes: n may exceed it only when
/// the SIMD kernel writes straight to a direct sink.
template <bool Simd, bool Divide, class Params, class Sink>
LADLE_FORCE_INLINE bool quantize_block_into(const float* xf, index_t n, const Params& s, const Sink& sink,
                                            index_t at, std::int32_t* ibuf) noexcept {
  bool bad = false;
  index_t done = 0;
#if LADLE_HAS_SIMD
  if constexpr (Simd && Sink::direct) {
    done = quantize_vectors<Divide>(xf, n, s, bad, [&](const simd::batch<std::int32_t>& c, index_t i) {
      sink.put(c, at + i);
    });
  } else if constexpr (Simd) {
    done = quantize_vectors<Divide>(xf, n, s, bad, [&](const simd::batch<std::int32_t>& c, index_t i) {
      c.store_unaligned(ibuf + i);
    });
  }
#endif
  if constexpr (Sink::direct) {
    // Only the tail is left (fewer than `block` elements; ibuf holds `block`).
    if (done < n) {
      bad |= quantize_block_scalar<Divide>(xf + done, ibuf, n - done, shifted(s, done));
      sink.write(ibuf, at + done, n - done);
    }
  } else {
    bad |= quantize_block_scalar<Divide>(xf + done, ibuf + done, n - done, shifted(s, done));
    sink.write(ibuf, at, n);
  }
  return bad;
}

/// The run loop shared by quantize and quantize_packed. Non-finite inputs are reported once,
/// after all runs, per spec.nonfinite.
template <bool Simd, bool Divide, class Policy, class V, class Sink>
void quantize_runs(const Policy& policy, const V* in, const quant_params& p, const quant_layout& l,
                   seed sd, const char* fn, const Sink& sink) {
  const std::int32_t qmin = p.spec.qmin(), qmax = p.spec.qmax();
  const bool stochastic = p.spec.rounding == rounding_mode::stochastic;
  std::atomic<bool> bad{false};
  if (use_varying(l, p.spec)) {
    const slot_arrays a = make_slot_arrays(p);
    for_each_row(policy, l, [&](index_t first, index_t len) {
      alignas(64) float fbuf[block];
      alignas(64) std::int32_t ibuf[block];
      bool b = false;
      for (index_t off = 0; off < len; off += block) {
        const index_t n = std::min(block, len - off);
        b |= quantize_block_into<Simd, Divide>(as_floats(in + first + off, n, fbuf), n, slot_row{&a, off}, sink,
                                               first + off, ibuf);
      }
      if (b) bad.store(true, std::memory_order_relaxed);
    });
    report_nonfinite(bad.load(), p.spec, fn, in, l.size);
    return;
  }
#if LADLE_HAS_SIMD
  if constexpr (Simd && std::is_same<V, float>::value && Sink::direct) {
    if (!stochastic && l.granularity == quant_granularity::per_group &&
        l.group % static_cast<index_t>(simd::lanes<float>) == 0) {
      // Small groups: one loop over many groups, so per-group overhead stays a few instructions.
      const index_t grain = std::max<index_t>(1, min_work / l.group);
      parallel_for(policy, l.slots, grain, [&](index_t g0, index_t g1) {
        bool b = false;
        const index_t at = g0 * l.group;
        quantize_group_vectors<Divide>(in + at, g0, g1, l.group, p.scale.data(), p.zero_point.data(), qmin,
                                       qmax, b, [&](const simd::batch<std::int32_t>& c, index_t i) {
                                         sink.put(c, at + i);
                                       });
        if (b) bad.store(true, std::memory_order_relaxed);
        chunk_done();
      });
      report_nonfinite(bad.load(), p.spec, fn, in, l.size);
      return;
    }
  }
#endif
  for_each_run(policy, l, [&](index_t first, index_t len, index_t si) {
    alignas(64) float fbuf[block];
    alignas(64) std::int32_t ibuf[block];
    const slot s = make_slot(p.scale[static_cast<std::size_t>(si)], p.zero_point[static_cast<std::size_t>(si)], qmin, qmax);
    bool b = false;
    if constexpr (Simd && LADLE_HAS_SIMD && std::is_same<V, float>::value && Sink::direct) {
      if (!stochastic) {
        // Floats in, codes out, the whole run in one kernel call: the hot path.
        b = quantize_block_into<Simd, Divide>(in + first, len, s, sink, first, ibuf);
        if (b) bad.store(true, std::memory_order_relaxed);
        return;
      }
    }
    for (index_t off = 0; off < len; off += block) {
      const index_t n = std::min(block, len - off);
      const float* xf = as_floats(in + first + off, n, fbuf);
      if (stochastic) {
        b |= stochastic_block<Divide, false>(xf, ibuf, nullptr, nullptr, n, s, sd,
                                             static_cast<std::uint64_t>(first + off));
        sink.write(ibuf, first + off, n);
      } else {
        b |= quantize_block_into<Simd, Divide>(xf, n, s, sink, first + off, ibuf);
      }
    }
    if (b) bad.store(true, std::memory_order_relaxed);
  });
  report_nonfinite(bad.load(), p.spec, fn, in, l.size);
}

template <bool Simd, bool Divide, class Policy, class T, class Q, std::size_t R>
void quantize_impl(const Policy& policy, tensor_view<T, R> x, const quant_params& p,
                   tensor_view<Q, R> codes, seed sd) {
  const char* fn = "quantize";
  check_pair(x, codes, fn, "x", "codes");
  require_disjoint(codes, "codes", x, "x", fn);
  const quant_layout l = make_quant_layout(p.spec, x.extents(), fn);
  check_params(p, l, fn);
  check_code_type<Q>(p.spec, fn, "codes");
  quantize_runs<Simd, Divide>(policy, x.data(), p, l, sd, fn, code_sink<Q>{codes.data()});
}

template <bool Simd, bool Divide, class Policy, class T, std::size_t R>
void quantize_packed_impl(const Policy& policy, tensor_view<T, R> x, const quant_params& p,
                          vector_view<std::uint8_t> packed, seed sd) {
  const char* fn = "quantize_packed";
  require_host(x, fn, "x");
  require_contiguous(x, fn, "x");
  require_host(packed, fn, "packed");
  require_contiguous(packed, fn, "packed");
  const quant_layout l = make_quant_layout(p.spec, x.extents(), fn);
  check_params(p, l, fn);
  const int bits = p.spec.bits;
  if (bits > 8) throw_invalid_argument(fn, "spec.bits", "must be at most 8 to pack, got ", bits);
  require_extent(packed.size(), packed_size(l.size, bits), fn, "packed", "size");
  require_disjoint(packed, "packed", x, "x", fn);
  const index_t len = l.granularity == quant_granularity::per_tensor ? tensor_run
                      : l.granularity == quant_granularity::per_group ? l.group
                      : use_varying(l, p.spec)                       ? l.channels
                                                                      : l.inner;
  if (((len % 8) * bits) % 8 != 0) {  // len may be a group size near INT64_MAX
    // Runs do not start on byte boundaries: quantize to bytes, then pack the whole stream.
    // Signed specs pack two's complement fields, unsigned ones plain fields.
    if (p.spec.is_signed) {
      tensor<std::int16_t, R> tmp(x.extents(), uninitialized);
      quantize_impl<Simd, Divide>(policy, x, p, tmp.view(), sd);
      pack_codes_into(vector_view<const std::int16_t>(tmp.data(), {l.size}), bits, packed);
    } else {
      tensor<std::uint16_t, R> tmp(x.extents(), uninitialized);
      quantize_impl<Simd, Divide>(policy, x, p, tmp.view(), sd);
      pack_codes_into(vector_view<const std::uint16_t>(tmp.data(), {l.size}), bits, packed);
    }
    return;
  }
  std::uint8_t* out = packed.data();
  const auto* in = x.data();
  switch (bits) {
    case 4:
      return quantize_runs<Simd, Divide>(policy, in, p, l, sd, fn, nibble_sink{out});
    case 8:
      // Signed codes are stored as their two's complement byte, unsigned ones as is.
      if (p.spec.is_signed)
        return quantize_runs<Simd, Divide>(policy, in, p, l, sd, fn, code_sink<std::int8_t>{reinterpret_cast<std::int8_t*>(out)});
      return quantize_runs<Simd, Divide>(policy, in, p, l, sd, fn, code_sink<std::uint8_t>{out});
    default:
      with_bits(bits, [&](auto bb) {
        quantize_runs<Simd, Divide>(policy, in, p, l, sd, fn, field_sink<decltype(bb)::value>{out});
        return 0;
      });
  }
}

#if LADLE_HAS_SIMD
/// Float dequantization straight from the codes (no staging buffers). Stream picks cache-
/// bypassing stores for outputs too large to stay cached.
template <bool Stream, class Policy, class Q>
void dequantize_float_direct(const Policy& policy, const Q* in, const quant_params& p,
                             const quant_layout& l, float* dst) {
  using fb = simd::batch<float>;
  if (use_varying(l, p.spec)) {
    const slot_arrays a = make_slot_arrays(p);
    for_each_row(policy, l, [&](index_t first, index_t len) {
      const Q* c = in + first;
      float* o = dst + first;
      dequantize_span_simd<Stream>(
          c, o, len,
          [&](index_t i, fb& zf, fb& sc) {
            zf = fb::load_unaligned(a.zf.data() + i);
            sc = fb::load_unaligned(a.scale.data() + i);
          },
          [&](index_t i) {
            const auto k = static_cast<std::size_t>(i);
            o[i] = (static_cast<float>(c[i]) - a.zf[k]) * a.scale[k];
          });
    });
    return;
  }
  const std::int32_t qmin = p.spec.qmin(), qmax = p.spec.qmax();
  for_each_run(policy, l, [&](index_t first, index_t len, index_t si) {
    const slot s = make_slot(p.scale[static_cast<std::size_t>(si)], p.zero_point[static_cast<std::size_t>(si)], qmin, qmax);
    const fb vz(s.zf), vs(s.scale);
    const Q* c = in + first;
    float* o = dst + first;
    dequantize_span_simd<Stream>(
        c, o, len,
        [&](index_t, fb& zf, fb& sc) {
          zf = vz;
          sc = vs;
        },
        [&](index_t i) { o[i] = (static_cast<float>(c[i]) - s.zf) * s.scale; });
  });
}
#endif

template <bool Simd, class Policy, class Q, class T, std::size_t R>
void dequantize_impl(const Policy& policy, tensor_view<Q, R> codes, const quant_params& p,
                     tensor_view<T, R> out, [[maybe_unused]] std::size_t stream_min = LADLE_STREAM_MIN_BYTES) {
  static_assert(!std::is_const<T>::value, "ladle::dequantize: out must be writable");
  static_assert(is_float_like_v<T>, "ladle::dequantize: out must be float, double, half or bfloat16");
  const char* fn = "dequantize";
  check_pair(codes, out, fn, "codes", "out");
  require_disjoint(out, "out", codes, "codes", fn);
  const quant_layout l = make_quant_layout(p.spec, codes.extents(), fn);
  check_params(p, l, fn);
  check_code_type<std::remove_const_t<Q>>(p.spec, fn, "codes");
  const std::int32_t qmin = p.spec.qmin(), qmax = p.spec.qmax();
  const auto* in = codes.data();
  T* dst = out.data();
#if LADLE_HAS_SIMD
  if constexpr (Simd && std::is_same<T, float>::value) {
    if (static_cast<std::size_t>(l.size) * sizeof(float) >= stream_min)
      dequantize_float_direct<true>(policy, in, p, l, dst);
    else
      dequantize_float_direct<false>(policy, in, p, l, dst);
    return;
  }
#endif
  if (use_varying(l, p.spec)) {
    const slot_arrays a = make_slot_arrays(p);
    for_each_row(policy, l, [&](index_t first, index_t len) {
      alignas(64) float cbuf[block];
      alignas(64) float obuf[block];
      for (index_t off = 0; off < len; off += block) {
        const index_t n = std::min(block, len - off);
        widen_codes(in + first + off, cbuf, n);
        if constexpr (std::is_same<T, float>::value) {
          dequantize_varying<Simd>(cbuf, dst + first + off, n, a, off);
        } else {
          dequantize_varying<Simd>(cbuf, obuf, n, a, off);
          convert_n(static_cast<const float*>(obuf), dst + first + off, n);
        }
      }
    });
    return;
  }
  for_each_run(policy, l, [&](index_t first, index_t len, index_t si) {
    alignas(64) float cbuf[block];
    alignas(64) float obuf[block];
    const slot s = make_slot(p.scale[static_cast<std::size_t>(si)], p.zero_point[static_cast<std::size_t>(si)], qmin, qmax);
    for (index_t off = 0; off < len; off += block) {
      const index_t n = std::min(block, len - off);
      widen_codes(in + first + off, cbuf, n);
      if constexpr (std::is_same<T, float>::value) {
        dequantize_block<Simd>(cbuf, dst + first + off, n, s);
      } else {
        dequantize_block<Simd>(cbuf, obuf, n, s);
        convert_n(static_cast<const float*>(obuf), dst + first + off, n);
      }
    }
  });
}

#if LADLE_HAS_SIMD
/// Float fake-quantization straight from x to out (and mask), nearest rounding.
template <bool Divide, bool Stream, class Policy>
void fake_quantize_float_direct(const Policy& policy, const float* in, const quant_params& p,
                                const quant_layout& l, float* dst, std::uint8_t* m,
                                std::atomic<bool>& bad) {
  if (use_varying(l, p.spec)) {
    const slot_arrays a = make_slot_arrays(p);
    for_each_row(policy, l, [&](index_t first, index_t len) {
      if (fake_varying_simd<Divide, Stream>(in + first, dst + first, m ? m + first : nullptr, len, a, 0))
        bad.store(true, std::memory_order_relaxed);
    });
    return;
  }
  const std::int32_t qmin = p.spec.qmin(), qmax = p.spec.qmax();
  for_each_run(policy, l, [&](index_t first, index_t len, index_t si) {
    const slot s = make_slot(p.scale[static_cast<std::size_t>(si)], p.zero_point[static_cast<std::size_t>(si)], qmin, qmax);
    if (fake_block_simd<Divide, Stream>(in + first, dst + first, m ? m + first : nullptr, len, s))
      bad.store(true, std::memory_order_relaxed);
  });
}
#endif

/// stream_min: float outputs of at least this many bytes are written with streaming stores
/// (a parameter so the tests can reach both paths).
template <bool Simd, bool Divide, class Policy, class T, class U, std::size_t R>
void fake_quantize_impl(const Policy& policy, tensor_view<T, R> x, const quant_params& p,
                        tensor_view<U, R> out, tensor_view<std::uint8_t, R> mask, seed sd,
                        [[maybe_unused]] std::size_t stream_min = LADLE_STREAM_MIN_BYTES) {
  using V = std::remove_const_t<T>;
  static_assert(!std::is_const<U>::value, "ladle::fake_quantize: out must be writable");
  static_assert(is_float_like_v<U>, "ladle::fake_quantize: out must be float, double, half or bfloat16");
  const char* fn = "fake_quantize";
  check_pair(x, out, fn, "x", "out");
  const bool with_mask = mask.data() != nullptr;
  if (with_mask) check_pair(x, mask, fn, "x", "mask");
  require_disjoint_or_same(out, "out", x, "x", fn);  // documented: in place is allowed
  if (with_mask) {
    require_disjoint(mask, "mask", x, "x", fn);
    require_disjoint(mask, "mask", out, "out", fn);
  }
  const quant_layout l = make_quant_layout(p.spec, x.extents(), fn);
  check_params(p, l, fn);
  precheck_in_place(x, out, p.spec, fn);
  const std::int32_t qmin = p.spec.qmin(), qmax = p.spec.qmax();
  const bool stochastic = p.spec.rounding == rounding_mode::stochastic;
  std::atomic<bool> bad{false};
  const V* in = x.data();
  U* dst = out.data();
  std::uint8_t* m = mask.data();
#if LADLE_HAS_SIMD
  if constexpr (Simd && std::is_same<V, float>::value && std::is_same<U, float>::value) {
    if (!stochastic) {
      if (static_cast<std::size_t>(l.size) * sizeof(float) >= stream_min)
        fake_quantize_float_direct<Divide, true>(policy, in, p, l, dst, m, bad);
      else
        fake_quantize_float_direct<Divide, false>(policy, in, p, l, dst, m, bad);
      report_nonfinite(bad.load(), p.spec, fn, in, l.size);
      return;
    }
  }
#endif
  if (use_varying(l, p.spec)) {
    const slot_arrays a = make_slot_arrays(p);
    for_each_row(policy, l, [&](index_t first, index_t len) {
      alignas(64) float fbuf[block];
      alignas(64) float obuf[block];
      bool b = false;
      for (index_t off = 0; off < len; off += block) {
        const index_t n = std::min(block, len - off);
        float* o = obuf;
        if constexpr (std::is_same<U, float>::value) o = dst + first + off;
        b |= fake_varying<Simd, Divide>(as_floats(in + first + off, n, fbuf), o,
                                        with_mask ? m + first + off : nullptr, n, a, off);
        if constexpr (!std::is_same<U, float>::value) convert_n(static_cast<const float*>(obuf), dst + first + off, n);
      }
      if (b) bad.store(true, std::memory_order_relaxed);
    });
    report_nonfinite(bad.load(), p.spec, fn, in, l.size);
    return;
  }
  for_each_run(policy, l, [&](index_t first, index_t len, index_t si) {
    alignas(64) float fbuf[block];
    alignas(64) float obuf[block];
    const slot s = make_slot(p.scale[static_cast<std::size_t>(si)], p.zero_point[static_cast<std::size_t>(si)], qmin, qmax);
    bool b = false;
    for (index_t off = 0; off < len; off += block) {
      const index_t n = std::min(block, len - off);
      const float* xf = as_floats(in + first + off, n, fbuf);
      float* o = obuf;
      if constexpr (std::is_same<U, float>::value) o = dst + first + off;
      std::uint8_t* mk = with_mask ? m + first + off : nullptr;
      if (stochastic)
        b |= stochastic_block<Divide, true>(xf, nullptr, o, mk, n, s, sd,
                                            static_cast<std::uint64_t>(first + off));
      else
        b |= fake_block<Simd, Divide>(xf, o, mk, n, s);
      if constexpr (!std::is_same<U, float>::value) convert_n(static_cast<const float*>(obuf), dst + first + off, n);
    }
    if (b) bad.store(true, std::memory_order_relaxed);
  });
  report_nonfinite(bad.load(), p.spec, fn, in, l.size);
}

/// Per-slot [min, max] of x; non-finite values raise (error policy) or are skipped.
template <class Policy, class T, std::size_t R>
void slot_minmax(const Policy& policy, tensor_view<T, R> x, const quant_layout& l,
                 nonfinite_policy nf, std::vector<float>& lo, std::vector<float>& hi,
                 const char* fn) {
  using V = std::remove_const_t<T>;
  constexpr float inf = std::numeric_limits<float>::infinity();
  lo.assign(static_cast<std::size_t>(l.slots), inf);
  hi.assign(static_cast<std::size_t>(l.slots), -inf);
  std::atomic<bool> bad{false};
  const V* in = x.data();
  auto scan = [&](const V* p, index_t len, float& mn, float& mx) {
    alignas(64) float fbuf[block];
    bool b = false;
    for (index_t off = 0; off < len; off += block) {
      const index_t n = std::min(block, len - off);
      const float* xf = as_floats(p + off, n, fbuf);
      index_t i = 0;
#if LADLE_HAS_SIMD
      using fb = simd::batch<float>;
      constexpr index_t w = static_cast<index_t>(fb::size);
      if (n >= w) {
        const fb zero(0.0f), pinf(inf), ninf(-inf);
        fb vmn(inf), vmx(-inf);
        auto vb = simd::nonfinite(zero);  // all false
        for (; i + w <= n; i += w) {
          simd::prefetch(xf + i);
          const fb v = fb::load_unaligned(xf + i);
          const auto nf_mask = simd::nonfinite(v);
          vb = vb | nf_mask;
          vmn = xsimd::min(vmn, simd::select(nf_mask, pinf, v));
          vmx = xsimd::max(vmx, simd::select(nf_mask, ninf, v));
        }
        mn = std::min(mn, simd::reduce_min(vmn));
        mx = std::max(mx, simd::reduce_max(vmx));
        b |= xsimd::any(vb);
      }
#endif
      for (; i < n; ++i) {
        const float v = xf[i];
        if (!std::isfinite(v)) {
          b = true;
          continue;
        }
        mn = std::min(mn, v);
        mx = std::max(mx, v);
      }
    }
    if (b) bad.store(true, std::memory_order_relaxed);
  };
  if (l.granularity == quant_granularity::per_tensor) {
    struct mm { float lo, hi; };
    const index_t runs = (l.size + tensor_run - 1) / tensor_run;
    const mm r = parallel_reduce(
        policy, runs, 2, mm{inf, -inf},
        [&](index_t b, index_t e) {
          mm acc{inf, -inf};
          for (index_t k = b; k < e; ++k)
            scan(in + k * tensor_run, std::min(tensor_run, l.size - k * tensor_run), acc.lo, acc.hi);
          return acc;
        },
        [](mm a, mm b) { return mm{std::min(a.lo, b.lo), std::max(a.hi, b.hi)}; });
    lo[0] = r.lo;
    hi[0] = r.hi;
  } else if (l.granularity == quant_granularity::per_group) {
    const index_t grain = std::max<index_t>(1, min_work / l.group);
    parallel_for(policy, l.slots, grain, [&](index_t b, index_t e) {
      for (index_t g = b; g < e; ++g)
        scan(in + g * l.group, l.group, lo[static_cast<std::size_t>(g)], hi[static_cast<std::size_t>(g)]);
    });
  } else {
    // One task per channel, so each slot has a single writer.
    const index_t per_channel = l.outer * l.inner;
    const index_t grain = std::max<index_t>(1, min_work / std::max<index_t>(per_channel, 1));
    parallel_for(policy, l.channels, grain, [&](index_t b, index_t e) {
      for (index_t c = b; c < e; ++c)
        for (index_t o = 0; o < l.outer; ++o)
          scan(in + (o * l.channels + c) * l.inner, l.inner, lo[static_cast<std::size_t>(c)],
               hi[static_cast<std::size_t>(c)]);
    });
  }
  if (bad.load() && nf == nonfinite_policy::error)
    throw_domain_error(fn, "x", "contains NaN or Inf (set spec.nonfinite = saturate to skip them)");
}

template <class T>
void check_input_type() {
  static_assert(is_float_like_v<std::remove_const_t<T>>,
                "ladle quantization: inputs must be float, double, half or bfloat16");
}

}  // namespace aq
}  // namespace detail

namespace detail {

/// Calls f(slot, first, length) for every contiguous segment of x, with all segments of one slot
/// handled by the same task (so per-slot state needs no locking).
template <class Policy, class F>
void for_each_slot_segment(const Policy& policy, const quant_layout& l, F&& f) {
  if (l.size == 0) return;
  switch (l.granularity) {
    case quant_granularity::per_tensor:
      f(index_t(0), index_t(0), l.size);
      return;
    case quant_granularity::per_group:
      parallel_for(policy, l.slots, std::max<index_t>(1, aq::min_work / l.group),
                   [&](index_t b, index_t e) {
                     for (index_t g = b; g < e; ++g) f(g, g * l.group, l.group);
                   });
      return;
    case quant_granularity::per_channel:
      parallel_for(policy, l.channels, std::max<index_t>(1, aq::min_work / std::max<index_t>(1, l.outer * l.inner)),
                   [&](index_t b, index_t e) {
                     for (index_t c = b; c < e; ++c)
                       for (index_t o = 0; o < l.outer; ++o) f(c, (o * l.channels + c) * l.inner, l.inner);
                   });
      return;
  }
}

inline void check_slot_count(index_t have, index_t got, const char* who) {
  if (have != 0 && have != got)
    throw_invalid_argument(who, "x", "has ", got, " parameter slots but the observer holds ", have,
                           " (same spec, different shape?)");
}

}  // namespace detail

// ---- public entry points ----------------------------------------------------------------------

inline quant_params qparams_from_ranges(const quant_spec& spec, const std::vector<float>& lo,
                                        const std::vector<float>& hi) {
  spec.validate("qparams_from_ranges");
  if (lo.size() != hi.size())
    throw_invalid_argument("qparams_from_ranges", "hi", "has ", hi.size(), " entries but lo has ",
                           lo.size());
  quant_params p;
  p.spec = spec;
  p.scale.resize(lo.size());
  p.zero_point.resize(lo.size());
  for (std::size_t i = 0; i < lo.size(); ++i) {
    const bool empty = lo[i] > hi[i];
    if (!empty && !(std::isfinite(lo[i]) && std::isfinite(hi[i])))
      throw_domain_error("qparams_from_ranges", std::isfinite(lo[i]) ? "hi" : "lo", "entry ", i,
                         " of the range [", lo[i], ", ", hi[i], "] is not finite");
    const auto sz = qparams_for_range(spec, empty ? 0.0f : lo[i], empty ? 0.0f : hi[i]);
    p.scale[i] = sz.first;
    p.zero_point[i] = sz.second;
  }
  return p;
}

template <class Policy, class T, std::size_t R>
quant_params choose_qparams(const Policy& policy, const quant_spec& spec, tensor_view<T, R> x) {
  detail::aq::check_input_type<T>();
  detail::require_host(x, "choose_qparams", "x");
  detail::require_contiguous(x, "choose_qparams", "x");
  const detail::quant_layout l = detail::make_quant_layout(spec, x.extents(), "choose_qparams");
  std::vector<float> lo, hi;
  detail::aq::slot_minmax(policy, x, l, spec.nonfinite, lo, hi, "choose_qparams");
  return qparams_from_ranges(spec, lo, hi);
}
template <class T, std::size_t R>
quant_params choose_qparams(const quant_spec& spec, tensor_view<T, R> x) {
  return choose_qparams(seq, spec, x);
}

template <class Policy, class T, class Q, std::size_t R>
void quantize_into(const Policy& policy, tensor_view<T, R> x, const quant_params& params,
                   tensor_view<Q, R> codes, seed s) {
  static_assert(is_execution_policy_v<Policy>, "ladle::quantize_into: not an execution policy");
  static_assert(!std::is_const<Q>::value, "ladle::quantize_into: codes must be writable");
  detail::aq::check_input_type<T>();
  if (params.spec.division == scale_division::divide)
    detail::aq::quantize_impl<true, true>(policy, x, params, codes, s);
  else
    detail::aq::quantize_impl<true, false>(policy, x, params, codes, s);
}
template <class T, class Q, std::size_t R>
void quantize_into(tensor_view<T, R> x, const quant_params& params, tensor_view<Q, R> codes, seed s) {
  quantize_into(seq, x, params, codes, s);
}
template <class Q, class Policy, class T, std::size_t R>
tensor<Q, R> quantize(const Policy& policy, tensor_view<T, R> x, const quant_params& params, seed s) {
  tensor<Q, R> out(x.extents(), uninitialized);
  quantize_into(policy, x, params, out.view(), s);
  return out;
}
template <class Q, class T, std::size_t R>
tensor<Q, R> quantize(tensor_view<T, R> x, const quant_params& params, seed s) {
  return quantize<Q>(seq, x, params, s);
}

template <class Policy, class T, std::size_t R>
void quantize_packed_into(const Policy& policy, tensor_view<T, R> x, const quant_params& params,
                          vector_view<std::uint8_t> packed, seed s) {
  static_assert(is_execution_policy_v<Policy>, "ladle::quantize_packed_into: not an execution policy");
  detail::aq::check_input_type<T>();
  if (params.spec.division == scale_division::divide)
    detail::aq::quantize_packed_impl<true, true>(policy, x, params, packed, s);
  else
    detail::aq::quantize_packed_impl<true, false>(policy, x, params, packed, s);
}
template <class T, std::size_t R>
void quantize_packed_into(tensor_view<T, R> x, const quant_params& params,
                          vector_view<std::uint8_t> packed, seed s) {
  quantize_packed_into(seq, x, params, packed, s);
}

template <class Policy, class Q, class T, std::size_t R>
void dequantize_into(const Policy& policy, tensor_view<Q, R> codes, const quant_params& params,
                     tensor_view<T, R> out) {
  static_assert(is_execution_policy_v<Policy>, "ladle::dequantize_into: not an execution policy");
  detail::aq::dequantize_impl<true>(policy, codes, params, out);
}
template <class Q, class T, std::size_t R>
void dequantize_into(tensor_view<Q, R> codes, const quant_params& params, tensor_view<T, R> out) {
  dequantize_into(seq, codes, params, out);
}
template <class T, class Policy, class Q, std::size_t R>
tensor<T, R> dequantize(const Policy& policy, tensor_view<Q, R> codes, const quant_params& params) {
  tensor<T, R> out(codes.extents(), uninitialized);
  dequantize_into(policy, codes, params, out.view());
  return out;
}
template <class T, class Q, std::size_t R>
tensor<T, R> dequantize(tensor_view<Q, R> codes, const quant_params& params) {
  return dequantize<T>(seq, codes, params);
}

template <class Policy, class T, class U, std::size_t R>
void fake_quantize_into(const Policy& policy, tensor_view<T, R> x, const quant_params& params,
                        tensor_view<U, R> out, tensor_view<std::uint8_t, R> mask, seed s) {
  static_assert(is_execution_policy_v<Policy>, "ladle::fake_quantize_into: not an execution policy");
  detail::aq::check_input_type<T>();
  if (params.spec.division == scale_division::divide)
    detail::aq::fake_quantize_impl<true, true>(policy, x, params, out, mask, s);
  else
    detail::aq::fake_quantize_impl<true, false>(policy, x, params, out, mask, s);
}
template <class T, class U, std::size_t R>
void fake_quantize_into(tensor_view<T, R> x, const quant_params& params, tensor_view<U, R> out,
                        tensor_view<std::uint8_t, R> mask, seed s) {
  fake_quantize_into(seq, x, params, out, mask, s);
}
template <class Policy, class T, std::size_t R>
tensor<std::remove_const_t<T>, R> fake_quantize(const Policy& policy, tensor_view<T, R> x,
                                                const quant_params& params, seed s) {
  tensor<std::remove_const_t<T>, R> out(x.extents(), uninitialized);
  fake_quantize_into(policy, x, params, out.view(), tensor_view<std::uint8_t, R>{}, s);
  return out;
}
template <class T, std::size_t R>
tensor<std::remove_const_t<T>, R> fake_quantize(tensor_view<T, R> x, const quant_params& params, seed s) {
  return fake_quantize(seq, x, params, s);
}

}  // namespace ladle
