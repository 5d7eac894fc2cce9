// ladle/core/simd_memory.hpp (detail): moving batches to and from memory in forms that xsimd's
// portable subset does not offer (and that 8.1 would emulate through a stack buffer, which
// costs a store-forwarding stall per batch):
//
//   store_narrow(b, p)   int32 lanes -> int8 / uint8 / int16 / uint16 in memory
//   store_nibbles(b, p)  int32 lanes -> 4-bit fields, two per byte (either nibble first)
//   load_widen<Q>(p)     int8 / uint8 / int16 / uint16 in memory -> int32 lanes
//   load_nibbles(p)      4-bit fields, two per byte -> int32 lanes (inverse of store_nibbles)
//   lookup16(t, idx)     lanes t[idx] from a 16-entry float table (4-bit code books)
//   gather(t, idx)       lanes t[idx] from any float table (8-bit code books)
//   stream(p, b)         a store that bypasses the caches (p aligned to the batch), and
//   stream_fence()       which must follow such stores before another thread reads them.
//   store_floats(...)    the float store loop of every streaming kernel (aligning head)
//   stream_copy(d, s, n) n floats from s (any alignment) to d with streaming stores.
//   prefetch(p, ahead)   a read hint for the line `ahead` bytes past p (never faults).
//
// Each has an x86 path chosen by the batch's register width and the compiler's ISA macros
// (AVX-512F, AVX2, SSE2/SSE4.1) and a portable fallback through a small buffer, so results are
// identical on every build. Lane values handed to the narrowing stores must already fit the
// destination type; nothing here saturates on purpose.
#pragma once

#include "ladle/core/simd.hpp"

#if LADLE_HAS_SIMD

#  include <cstdint>
#  include <cstring>
#  include <type_traits>

#  if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#    include <immintrin.h>
#    define LADLE_SIMD_X86 1
#  else
#    define LADLE_SIMD_X86 0
#  endif

namespace ladle {
namespace simd {
namespace detail {

template <class T, class A>
constexpr std::size_t register_bytes() noexcept {
  return sizeof(typename xsimd::batch<T, A>::register_type);
}

}  // namespace detail

/// Writes the lanes of b, narrowed to Q, to p[0 .. size). Q is an integer type of 1 or 2 bytes
/// (or int32_t, stored as is); every lane must be representable in Q.
template <class Q, class A>
LADLE_FORCE_INLINE void store_narrow(const xsimd::batch<std::int32_t, A>& b, Q* p) noexcept {
  static_assert(std::is_integral<Q>::value && sizeof(Q) <= 4, "store_narrow: Q must be an integer of at most 32 bits");
  constexpr std::size_t n = xsimd::batch<std::int32_t, A>::size;
  if constexpr (sizeof(Q) == 4) {
    b.store_unaligned(reinterpret_cast<std::int32_t*>(p));
    return;
  }
#  if LADLE_SIMD_X86 && defined(__AVX512F__)
  if constexpr (detail::register_bytes<std::int32_t, A>() == 64) {
    const __m512i v = b;
    if constexpr (sizeof(Q) == 1)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(v));
    else
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtepi32_epi16(v));
    return;
  }
#  endif
#  if LADLE_SIMD_X86 && defined(__AVX2__)
  if constexpr (detail::register_bytes<std::int32_t, A>() == 32) {
    const __m256i v = b;
    const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
    if constexpr (sizeof(Q) == 2) {
      const __m128i w = std::is_signed<Q>::value ? _mm_packs_epi32(lo, hi) : _mm_packus_epi32(lo, hi);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), w);
    } else {
      const __m128i w = _mm_packs_epi32(lo, hi);  // exact: lanes fit in 8 bits
      const __m128i q = std::is_signed<Q>::value ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(p), q);
    }
    return;
  }
#  endif
#  if LADLE_SIMD_X86
  if constexpr (detail::register_bytes<std::int32_t, A>() == 16 && (sizeof(Q) == 1 || std::is_signed<Q>::value)) {
    const __m128i v = b;
    const __m128i w = _mm_packs_epi32(v, v);
    if constexpr (sizeof(Q) == 2) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(p), w);
    } else {
      const __m128i q = std::is_signed<Q>::value ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
      const std::int32_t bytes = _mm_cvtsi128_si32(q);
      std::memcpy(p, &bytes, 4);
    }
    return;
  }
#  endif
  alignas(64) std::int32_t tmp[n];
  b.store_aligned(tmp);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<Q>(tmp[i]);
}

/// Writes the low 4 bits of each lane of b into size/2 bytes at p, lanes 2k and 2k + 1 sharing
/// byte k. By default lane 2k takes the low nibble (the packing.hpp and MX layout); with
/// HighFirst it takes the high nibble (the bitsandbytes NF4 layout).
template <bool HighFirst = false, class A>
LADLE_FORCE_INLINE void store_nibbles(const xsimd::batch<std::int32_t, A>& b, std::uint8_t* p) noexcept {
  constexpr std::size_t n = xsimd::batch<std::int32_t, A>::size;
  // Lane pairs as 64-bit words (lane 2k in the low half): keep both nibbles, then bring the
  // wanted byte down to bits 0..7 of each word.
#  if LADLE_SIMD_X86 && defined(__AVX512F__)
  if constexpr (detail::register_bytes<std::int32_t, A>() == 64) {
    const __m512i m = _mm512_and_si512(b, _mm512_set1_epi64(0x0000000F0000000Fll));
    const __m512i r = HighFirst ? _mm512_or_si512(_mm512_slli_epi64(m, 4), _mm512_srli_epi64(m, 32))
                                : _mm512_or_si512(m, _mm512_srli_epi64(m, 28));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm512_cvtepi64_epi8(r));
    return;
  }
#  endif
#  if LADLE_SIMD_X86 && defined(__AVX2__)
  if constexpr (detail::register_bytes<std::int32_t, A>() == 32) {
    const __m256i m = _mm256_and_si256(b, _mm256_set1_epi64x(0x0000000F0000000Fll));
    const __m256i r = HighFirst ? _mm256_or_si256(_mm256_slli_epi64(m, 4), _mm256_srli_epi64(m, 32))
                                : _mm256_or_si256(m, _mm256_srli_epi64(m, 28));
    // The wanted byte is byte 0 of each 64-bit word: bytes 0 and 8 of each 128-bit half.
    const __m256i g = _mm256_shuffle_epi8(
        r, _mm256_setr_epi8(0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                            0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
    const std::uint32_t lo = static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm256_castsi256_si128(g))) & 0xFFFFu;
    const std::uint32_t hi = static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm256_extracti128_si256(g, 1))) & 0xFFFFu;
    const std::uint32_t bytes = lo | (hi << 16);
    std::memcpy(p, &bytes, 4);
    return;
  }
#  endif
  alignas(64) std::int32_t tmp[n];
  b.store_aligned(tmp);
  for (std::size_t k = 0; k < n / 2; ++k) {
    const int first = tmp[2 * k] & 15, second = tmp[2 * k + 1] & 15;
    p[k] = static_cast<std::uint8_t>(HighFirst ? (first << 4) | second : first | (second << 4));
  }
}

/// Loads size elements of Q (an integer of at most 32 bits) from p, widened to int32 lanes.
template <class Q, class A = arch>
LADLE_FORCE_INLINE xsimd::batch<std::int32_t, A> load_widen(const Q* p) noexcept {
  static_assert(std::is_integral<Q>::value && sizeof(Q) <= 4, "load_widen: Q must be an integer of at most 32 bits");
  using ib = xsimd::batch<std::int32_t, A>;
  constexpr std::size_t n = ib::size;
  if constexpr (sizeof(Q) == 4) {
    return ib::load_unaligned(reinterpret_cast<const std::int32_t*>(p));
  } else {
#  if LADLE_SIMD_X86 && defined(__AVX512F__)
    if constexpr (detail::register_bytes<std::int32_t, A>() == 64) {
      if constexpr (sizeof(Q) == 1) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        return ib(std::is_signed<Q>::value ? _mm512_cvtepi8_epi32(v) : _mm512_cvtepu8_epi32(v));
      } else {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        return ib(std::is_signed<Q>::value ? _mm512_cvtepi16_epi32(v) : _mm512_cvtepu16_epi32(v));
      }
    }
#  endif
#  if LADLE_SIMD_X86 && defined(__AVX2__)
    if constexpr (detail::register_bytes<std::int32_t, A>() == 32) {
      if constexpr (sizeof(Q) == 1) {
        const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
        return ib(std::is_signed<Q>::value ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v));
      } else {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        return ib(std::is_signed<Q>::value ? _mm256_cvtepi16_epi32(v) : _mm256_cvtepu16_epi32(v));
      }
    }
#  endif
#  if LADLE_SIMD_X86 && defined(__SSE4_1__)
    if constexpr (detail::register_bytes<std::int32_t, A>() == 16) {
      if constexpr (sizeof(Q) == 1) {
        std::int32_t bytes;
        std::memcpy(&bytes, p, 4);
        const __m128i v = _mm_cvtsi32_si128(bytes);
        return ib(std::is_signed<Q>::value ? _mm_cvtepi8_epi32(v) : _mm_cvtepu8_epi32(v));
      } else {
        const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
        return ib(std::is_signed<Q>::value ? _mm_cvtepi16_epi32(v) : _mm_cvtepu16_epi32(v));
      }
    }
#  endif
    alignas(64) std::int32_t tmp[n];
    for (std::size_t i = 0; i < n; ++i) tmp[i] = static_cast<std::int32_t>(p[i]);
    return ib::load_aligned(tmp);
  }
}

/// Loads size/2 bytes at p as size int32 lanes of their 4-bit fields: lanes 2k and 2k + 1 come
/// from byte k, the low nibble first unless HighFirst. The inverse of store_nibbles.
template <bool HighFirst = false, class A = arch>
LADLE_FORCE_INLINE xsimd::batch<std::int32_t, A> load_nibbles(const std::uint8_t* p) noexcept {
  using ib = xsimd::batch<std::int32_t, A>;
  constexpr std::size_t n = ib::size;
  // Each byte is widened to a 64-bit word; its two nibbles then go to the word's two halves.
#  if LADLE_SIMD_X86 && defined(__AVX512F__)
  if constexpr (detail::register_bytes<std::int32_t, A>() == 64) {
    const __m512i t = _mm512_cvtepu8_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    const __m512i lo = _mm512_and_si512(t, _mm512_set1_epi64(0x0F)), hi = _mm512_srli_epi64(t, 4);
    return ib(HighFirst ? _mm512_or_si512(hi, _mm512_slli_epi64(lo, 32))
                        : _mm512_or_si512(lo, _mm512_slli_epi64(hi, 32)));
  }
#  endif
#  if LADLE_SIMD_X86 && defined(__AVX2__)
  if constexpr (detail::register_bytes<std::int32_t, A>() == 32) {
    std::int32_t bytes;
    std::memcpy(&bytes, p, 4);
    const __m256i t = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(bytes));
    const __m256i lo = _mm256_and_si256(t, _mm256_set1_epi64x(0x0F)), hi = _mm256_srli_epi64(t, 4);
    return ib(HighFirst ? _mm256_or_si256(hi, _mm256_slli_epi64(lo, 32))
                        : _mm256_or_si256(lo, _mm256_slli_epi64(hi, 32)));
  }
#  endif
  alignas(64) std::int32_t tmp[n];
  for (std::size_t k = 0; k < n / 2; ++k) {
    const int lo = p[k] & 15, hi = p[k] >> 4;
    tmp[2 * k] = HighFirst ? hi : lo;
    tmp[2 * k + 1] = HighFirst ? lo : hi;
  }
  return ib::load_aligned(tmp);
}

/// Lane i is table[idx[i]], for a 16-entry table and indices in [0, 16).
template <class A>
LADLE_FORCE_INLINE xsimd::batch<float, A> lookup16(const float* table, const xsimd::batch<std::int32_t, A>& idx) noexcept {
  using fb = xsimd::batch<float, A>;
  constexpr std::size_t n = fb::size;
#  if LADLE_SIMD_X86 && defined(__AVX512F__)
  if constexpr (detail::register_bytes<float, A>() == 64) {
    return fb(_mm512_permutexvar_ps(idx, _mm512_loadu_ps(table)));
  }
#  endif
#  if LADLE_SIMD_X86 && defined(__AVX2__)
  if constexpr (detail::register_bytes<float, A>() == 32) {
    const __m256i i = idx;
    const __m256 a = _mm256_permutevar8x32_ps(_mm256_loadu_ps(table), i);
    const __m256 b = _mm256_permutevar8x32_ps(_mm256_loadu_ps(table + 8), i);
    return fb(_mm256_blendv_ps(a, b, _mm256_castsi256_ps(_mm256_cmpgt_epi32(i, _mm256_set1_epi32(7)))));
  }
#  endif
  alignas(64) std::int32_t k[n];
  alignas(64) float out[n];
  idx.store_aligned(k);
  for (std::size_t j = 0; j < n; ++j) out[j] = table[k[j]];
  return fb::load_aligned(out);
}

/// Lane i is table[idx[i]], for indices inside the table: a hardware gather where there is one.
template <class A>
LADLE_FORCE_INLINE xsimd::batch<float, A> gather(const float* table, const xsimd::batch<std::int32_t, A>& idx) noexcept {
  using fb = xsimd::batch<float, A>;
  constexpr std::size_t n = fb::size;
#  if LADLE_SIMD_X86 && defined(__AVX512F__)
  if constexpr (detail::register_bytes<float, A>() == 64) {
    return fb(_mm512_i32gather_ps(idx, table, 4));
  }
#  endif
#  if LADLE_SIMD_X86 && defined(__AVX2__)
  if constexpr (detail::register_bytes<float, A>() == 32) {
    return fb(_mm256_i32gather_ps(table, idx, 4));
  }
#  endif
  alignas(64) std::int32_t k[n];
  alignas(64) float out[n];
  idx.store_aligned(k);
  for (std::size_t j = 0; j < n; ++j) out[j] = table[k[j]];
  return fb::load_aligned(out);
}

/// Stores b at p (aligned to the batch size) without keeping the line in cache. Worth it only
/// for outputs much larger than the last-level cache that are not read back soon.
template <class A>
LADLE_FORCE_INLINE void stream(float* p, const xsimd::batch<float, A>& b) noexcept {
#  if LADLE_SIMD_X86 && defined(__AVX512F__)
  if constexpr (detail::register_bytes<float, A>() == 64) {
    _mm512_stream_ps(p, b);
    return;
  }
#  endif
#  if LADLE_SIMD_X86 && defined(__AVX__)
  if constexpr (detail::register_bytes<float, A>() == 32) {
    _mm256_stream_ps(p, b);
    return;
  }
#  endif
#  if LADLE_SIMD_X86
  if constexpr (detail::register_bytes<float, A>() == 16) {
    _mm_stream_ps(p, b);
    return;
  }
#  endif
  b.store_aligned(p);
}

/// Writes out[0, n): make(i) returns the batch for [i, i + size), scalar(i) writes element i
/// for whatever batches do not cover. With `streamed`, scalar elements first bring out to batch
/// alignment and the batches go out with streaming stores (the caller fences before another
/// thread reads them); otherwise they are plain unaligned stores. Every streaming kernel writes
/// through here, so the alignment head is handled in one place.
template <class Make, class Scalar>
LADLE_FORCE_INLINE void store_floats(float* out, index_t n, bool streamed, Make&& make, Scalar&& scalar) noexcept {
  using fb = batch<float>;
  constexpr index_t w = static_cast<index_t>(fb::size);
  // Counts fixed up front (head, whole batches, tail): loops bounded by running sums or by the
  // address made GCC 12 warn of an overflowing iteration count once n was a known constant.
  index_t head = 0;
  if (streamed) {
    // Elements before the first batch-aligned one (out is float-aligned).
    const std::size_t gap = (sizeof(fb) - reinterpret_cast<std::uintptr_t>(out) % sizeof(fb)) % sizeof(fb);
    head = std::min(n, static_cast<index_t>(gap / sizeof(float)));
  }
  const index_t body_end = head + (n - head) / w * w;
  for (index_t i = 0; i < head; ++i) scalar(i);
  if (streamed) {
    for (index_t i = head; i < body_end; i += w) stream(out + i, make(i));
  } else {
    for (index_t i = head; i < body_end; i += w) make(i).store_unaligned(out + i);
  }
  for (index_t i = body_end; i < n; ++i) scalar(i);
}

/// Copies n floats from src (any alignment) to dst with streaming stores. Kernels whose natural
/// stores would be misaligned or scattered decode into an L1-sized tile and hand it here.
LADLE_FORCE_INLINE void stream_copy(float* dst, const float* src, std::size_t n) noexcept {
  store_floats(
      dst, static_cast<index_t>(n), true, [&](index_t i) { return batch<float>::load_unaligned(src + i); },
      [&](index_t i) { dst[i] = src[i]; });
}

/// Streaming kernels prefetch this many bytes ahead of their reads. Hardware prefetchers alone
/// leave single-thread streams well short of memory bandwidth on some machines (virtual
/// machines especially); 4 KiB ahead recovers it without running past small inputs by much.
inline constexpr std::ptrdiff_t prefetch_distance = 4096;

/// Hints that the cache line at p + ahead bytes will be read soon. The address is formed as an
/// integer, so it may lie past the end of the caller's array; a prefetch never faults.
LADLE_FORCE_INLINE void prefetch(const void* p, std::ptrdiff_t ahead = prefetch_distance) noexcept {
  const auto* q = reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(p) + static_cast<std::uintptr_t>(ahead));
#  if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(q, 0, 3);
#  elif LADLE_SIMD_X86
  _mm_prefetch(q, _MM_HINT_T0);
#  else
  (void)q;
#  endif
}

/// Orders earlier streaming stores before later stores (x86 sfence; nothing elsewhere).
LADLE_FORCE_INLINE void stream_fence() noexcept {
#  if LADLE_SIMD_X86
  _mm_sfence();
#  endif
}

}  // namespace simd
}  // namespace ladle

#endif  // LADLE_HAS_SIMD
