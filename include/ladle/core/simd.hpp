// ladle/core/simd.hpp (detail): the only file that includes <xsimd/xsimd.hpp>.
//
// It papers over the API differences between xsimd 8.1 (Debian) and 13.x/14.x (vcpkg, Conan)
// with a handful of shims, and offers LADLE_HAS_SIMD so each kernel can keep a scalar reference
// path. The architecture is chosen at compile time from the consumer's flags (default_arch);
// ladle never adds -m flags of its own.
//
// Kernels use only the subset of xsimd that behaves the same from 8.1 to 14.x: batch loads and
// stores, arithmetic, fma, min/max, comparisons with the batch on the left, select with batch
// operands, floor/ceil/trunc/round/nearbyint, integer shifts and masks, and the shims below.
// Floating `!=` is not in that subset: it is ordered (NaN != x is false) on 8.1's AVX and
// AVX-512 and unordered elsewhere; use nonfinite() or isnan() instead.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/fp_contract.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if !defined(LADLE_DISABLE_SIMD)
#  include <xsimd/xsimd.hpp>
#  if defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
#    define LADLE_HAS_SIMD 0
#  else
#    define LADLE_HAS_SIMD 1
#  endif
#else
#  define LADLE_HAS_SIMD 0
#endif

#if LADLE_HAS_SIMD
#  define LADLE_XSIMD_VERSION \
    (XSIMD_VERSION_MAJOR * 10000 + XSIMD_VERSION_MINOR * 100 + XSIMD_VERSION_PATCH)
static_assert(LADLE_XSIMD_VERSION >= 80100, "ladle needs xsimd 8.1 or newer");

namespace ladle {
namespace simd {

using arch = xsimd::default_arch;

template <class T>
using batch = xsimd::batch<T, arch>;

template <class T>
using batch_bool = xsimd::batch_bool<T, arch>;

/// Number of lanes of batch<T> on this build.
template <class T>
inline constexpr std::size_t lanes = batch<T>::size;

/// Name of the instruction set the kernels were compiled for ("avx2", "sse2", ...).
inline const char* arch_name() noexcept { return arch::name(); }

/// Sum of all lanes.
template <class T, class A>
LADLE_FORCE_INLINE T reduce_add(const xsimd::batch<T, A>& b) noexcept {
#  if XSIMD_VERSION_MAJOR >= 9
  return xsimd::reduce_add(b);
#  else
  return xsimd::hadd(b);
#  endif
}

namespace detail {

/// Horizontal max (Max) or min of a float or int32 batch in registers, for xsimd 8.x, which has
/// no reduce_max/min; false when this build has no intrinsic path for the batch.
template <bool Max, class T, class A>
LADLE_FORCE_INLINE bool reduce_extreme_x86(const xsimd::batch<T, A>& b, T& out) noexcept {
  constexpr std::size_t bytes = sizeof(typename xsimd::batch<T, A>::register_type);
  constexpr bool f32 = std::is_same<T, float>::value, i32 = std::is_same<T, std::int32_t>::value;
#  if defined(__AVX512F__)
  if constexpr (bytes == 64 && f32) {
    out = Max ? _mm512_reduce_max_ps(b) : _mm512_reduce_min_ps(b);
    return true;
  }
  if constexpr (bytes == 64 && i32) {
    out = Max ? _mm512_reduce_max_epi32(b) : _mm512_reduce_min_epi32(b);
    return true;
  }
#  endif
#  if defined(__AVX2__)
  if constexpr (bytes == 32 && f32) {
    const __m256 v = b;
    __m128 m = Max ? _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1))
                   : _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = Max ? _mm_max_ps(m, _mm_movehl_ps(m, m)) : _mm_min_ps(m, _mm_movehl_ps(m, m));
    m = Max ? _mm_max_ss(m, _mm_shuffle_ps(m, m, 1)) : _mm_min_ss(m, _mm_shuffle_ps(m, m, 1));
    out = _mm_cvtss_f32(m);
    return true;
  }
  if constexpr (bytes == 32 && i32) {
    const __m256i v = b;
    __m128i m = Max ? _mm_max_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1))
                    : _mm_min_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    m = Max ? _mm_max_epi32(m, _mm_shuffle_epi32(m, 0x4E)) : _mm_min_epi32(m, _mm_shuffle_epi32(m, 0x4E));
    m = Max ? _mm_max_epi32(m, _mm_shuffle_epi32(m, 0xB1)) : _mm_min_epi32(m, _mm_shuffle_epi32(m, 0xB1));
    out = _mm_cvtsi128_si32(m);
    return true;
  }
#  endif
  (void)b;
  (void)out;
  (void)bytes;
  (void)f32;
  (void)i32;
  return false;
}

}  // namespace detail

/// Largest lane (lanes must not be NaN).
template <class T, class A>
LADLE_FORCE_INLINE T reduce_max(const xsimd::batch<T, A>& b) noexcept {
#  if XSIMD_VERSION_MAJOR >= 9
  return xsimd::reduce_max(b);
#  else
  T r;
  if (detail::reduce_extreme_x86<true>(b, r)) return r;
  alignas(A::alignment()) T tmp[xsimd::batch<T, A>::size];
  b.store_aligned(tmp);
  return *std::max_element(tmp, tmp + xsimd::batch<T, A>::size);
#  endif
}

/// Smallest lane (lanes must not be NaN).
template <class T, class A>
LADLE_FORCE_INLINE T reduce_min(const xsimd::batch<T, A>& b) noexcept {
#  if XSIMD_VERSION_MAJOR >= 9
  return xsimd::reduce_min(b);
#  else
  T r;
  if (detail::reduce_extreme_x86<false>(b, r)) return r;
  alignas(A::alignment()) T tmp[xsimd::batch<T, A>::size];
  b.store_aligned(tmp);
  return *std::min_element(tmp, tmp + xsimd::batch<T, A>::size);
#  endif
}

/// Reinterprets the bits of each lane as To (same lane width).
template <class To, class T, class A>
LADLE_FORCE_INLINE xsimd::batch<To, A> bitwise_cast(const xsimd::batch<T, A>& b) noexcept {
  static_assert(sizeof(To) == sizeof(T), "ladle::simd::bitwise_cast: lane widths differ");
#  if XSIMD_VERSION_MAJOR >= 11
  return xsimd::bitwise_cast<To>(b);
#  else
  return xsimd::bitwise_cast<xsimd::batch<To, A>>(b);
#  endif
}

/// Bit i set when lane i of the mask is true.
template <class T, class A>
LADLE_FORCE_INLINE std::uint64_t mask_bits(const xsimd::batch_bool<T, A>& m) noexcept {
#  if XSIMD_VERSION_MAJOR >= 9
  return static_cast<std::uint64_t>(m.mask());
#  else
  // xsimd 8 has no mask(): read the register directly for floating lanes on x86 (a mask register
  // on AVX-512, one movemask on AVX and SSE; the generic loop below is a store and a branch per
  // lane, which dominated kNN's row rescans).
  if constexpr (std::is_floating_point<T>::value) {
    using R = typename xsimd::batch_bool<T, A>::register_type;
#    if defined(__AVX512F__)
    if constexpr (std::is_base_of<xsimd::avx512f, A>::value)
      return static_cast<std::uint64_t>(static_cast<R>(m));
#    endif
#    if defined(__AVX__)
    if constexpr (std::is_base_of<xsimd::avx, A>::value) {
      if constexpr (sizeof(T) == 4) {
        return static_cast<std::uint64_t>(static_cast<unsigned>(_mm256_movemask_ps(static_cast<R>(m))));
      } else {
        return static_cast<std::uint64_t>(static_cast<unsigned>(_mm256_movemask_pd(static_cast<R>(m))));
      }
    }
#    endif
#    if defined(__SSE2__)
    if constexpr (std::is_base_of<xsimd::sse2, A>::value) {
      if constexpr (sizeof(T) == 4) {
        return static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_ps(static_cast<R>(m))));
      } else {
        return static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_pd(static_cast<R>(m))));
      }
    }
#    endif
  }
  constexpr std::size_t n = xsimd::batch_bool<T, A>::size;
  alignas(A::alignment()) T tmp[n];
  xsimd::select(m, xsimd::batch<T, A>(T(1)), xsimd::batch<T, A>(T(0))).store_aligned(tmp);
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (tmp[i] != T(0)) bits |= std::uint64_t(1) << i;
  return bits;
#  endif
}

/// select(mask, a, b) for every lane type. xsimd 8.1's AVX-512BW select on 32-bit integer lanes
/// fails to compile without optimisation, so 8.x routes those through the float blend.
template <class T, class A>
LADLE_FORCE_INLINE xsimd::batch<T, A> select(const xsimd::batch_bool<T, A>& m,
                                             const xsimd::batch<T, A>& a,
                                             const xsimd::batch<T, A>& b) noexcept {
#  if XSIMD_VERSION_MAJOR < 9
  if constexpr (std::is_integral<T>::value && sizeof(T) == 4) {
    const auto fm = xsimd::bool_cast(xsimd::batch_bool<std::int32_t, A>(m));
    return ::ladle::simd::bitwise_cast<T>(xsimd::select(
        fm, ::ladle::simd::bitwise_cast<float>(a), ::ladle::simd::bitwise_cast<float>(b)));
  } else {
    return xsimd::select(m, a, b);
  }
#  else
  return xsimd::select(m, a, b);
#  endif
}

/// True in lanes holding NaN or ±Inf. (v - v) is NaN exactly there; the test is an unordered
/// compare because xsimd 8.1's `!=` is ordered on AVX and AVX-512 (NaN != 0 is false there).
template <class T, class A>
LADLE_FORCE_INLINE xsimd::batch_bool<T, A> nonfinite(const xsimd::batch<T, A>& v) noexcept {
  return xsimd::isnan(v - v);
}

/// a * b rounded per lane, never fused with a later addition (see core/fp_contract.hpp).
template <class T, class A>
LADLE_FORCE_INLINE xsimd::batch<T, A> mul_rounded(const xsimd::batch<T, A>& a,
                                                  const xsimd::batch<T, A>& b) noexcept {
  typename xsimd::batch<T, A>::register_type p = a * b;
  return xsimd::batch<T, A>(::ladle::detail::fp_barrier(p));
}

/// Whether this build's SIMD fma is one fused instruction. xsimd::fma falls back to x * y + z
/// (two roundings) on targets without one, such as baseline x86-64 (SSE2).
#  if defined(__FMA__) || defined(__AVX512F__) || defined(__aarch64__) || defined(_M_ARM64)
inline constexpr bool has_fused_fma = true;
#  else
inline constexpr bool has_fused_fma = false;
#  endif

/// a * b + c rounded once in every lane, on every target: the fused instruction where the ISA
/// has one, a lane-wise std::fma (exact, slower) where it does not. Use it where a kernel means
/// a fused multiply-add, with std::fma in its scalar path, so both give the same bits.
template <class T, class A>
LADLE_FORCE_INLINE xsimd::batch<T, A> fma(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b,
                                          const xsimd::batch<T, A>& c) noexcept {
  if constexpr (has_fused_fma) {
#  if defined(__AVX512F__)
    // xsimd 8.1 has no AVX-512 fma kernel: its generic a * b + c is fused only when the compiler
    // contracts it (GCC at -O2, not at -O1). Call the instruction itself.
    if constexpr (sizeof(typename xsimd::batch<T, A>::register_type) == 64) {
      if constexpr (std::is_same<T, float>::value)
        return xsimd::batch<T, A>(_mm512_fmadd_ps(a, b, c));
      else if constexpr (std::is_same<T, double>::value)
        return xsimd::batch<T, A>(_mm512_fmadd_pd(a, b, c));
      else
        return xsimd::fma(a, b, c);
    } else {
      return xsimd::fma(a, b, c);
    }
#  else
    return xsimd::fma(a, b, c);
#  endif
  } else {
    constexpr std::size_t n = xsimd::batch<T, A>::size;
    alignas(A::alignment()) T ta[n], tb[n], tc[n];
    a.store_aligned(ta);
    b.store_aligned(tb);
    c.store_aligned(tc);
    for (std::size_t i = 0; i < n; ++i) ta[i] = std::fma(ta[i], tb[i], tc[i]);
    return xsimd::batch<T, A>::load_aligned(ta);
  }
}

/// acc + 1 in the int32 lanes where m is true: one masked add on AVX-512, a subtraction of the
/// all-ones compare result on SSE/AVX2 (xsimd 8's int32 select goes through a float blend).
template <class A>
LADLE_FORCE_INLINE xsimd::batch<std::int32_t, A> increment_where(
    const xsimd::batch_bool<std::int32_t, A>& m, const xsimd::batch<std::int32_t, A>& acc) noexcept {
  constexpr std::size_t bytes = sizeof(typename xsimd::batch<std::int32_t, A>::register_type);
#  if defined(__AVX512F__)
  if constexpr (bytes == 64) {
    return _mm512_mask_add_epi32(acc, static_cast<__mmask16>(m), acc, _mm512_set1_epi32(1));
  }
#  endif
#  if defined(__AVX2__)
  if constexpr (bytes == 32) {
    return _mm256_sub_epi32(acc, static_cast<__m256i>(m));
  }
#  endif
#  if defined(__SSE2__)
  if constexpr (bytes == 16) {
    return _mm_sub_epi32(acc, static_cast<__m128i>(m));
  }
#  endif
  (void)bytes;
  return ::ladle::simd::select(m, acc + xsimd::batch<std::int32_t, A>(1), acc);
}

/// Number of true lanes.
template <class T, class A>
LADLE_FORCE_INLINE int count(const xsimd::batch_bool<T, A>& m) noexcept {
  std::uint64_t bits = mask_bits(m);
  int n = 0;
  while (bits != 0) {
    bits &= bits - 1;
    ++n;
  }
  return n;
}

}  // namespace simd
}  // namespace ladle

#else  // !LADLE_HAS_SIMD

namespace ladle {
namespace simd {
inline const char* arch_name() noexcept { return "scalar"; }
}  // namespace simd
}  // namespace ladle

#endif
