// ladle/config.hpp: every LADLE_ knob and feature test, in one place.
//
// Each knob follows one pattern: if the user defined it, it is used as given; otherwise it is
// detected. Nothing here includes a third-party header.
#pragma once

#include "ladle/version.hpp"

#include <cstddef>
#include <cstdint>

#if __cplusplus < 201703L && !(defined(_MSVC_LANG) && _MSVC_LANG >= 201703L)
#  error "ladle needs C++17 or newer"
#endif

// Exceptions: on unless the compiler says they are off (-fno-exceptions). Without them every
// ladle::error prints its message to stderr and aborts.
#ifndef LADLE_HAS_EXCEPTIONS
#  if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#    define LADLE_HAS_EXCEPTIONS 1
#  else
#    define LADLE_HAS_EXCEPTIONS 0
#  endif
#endif

#ifndef LADLE_FORCE_INLINE
#  if defined(__GNUC__) || defined(__clang__)
#    define LADLE_FORCE_INLINE inline __attribute__((always_inline))
#  elif defined(_MSC_VER)
#    define LADLE_FORCE_INLINE __forceinline
#  else
#    define LADLE_FORCE_INLINE inline
#  endif
#endif

#ifndef LADLE_RESTRICT
#  if defined(__GNUC__) || defined(__clang__) || defined(_MSC_VER)
#    define LADLE_RESTRICT __restrict
#  else
#    define LADLE_RESTRICT
#  endif
#endif

// Functions usable from both host and CUDA device code (only dependency-free scalar helpers).
#ifndef LADLE_HOST_DEVICE
#  if defined(__CUDACC__) || defined(__HIPCC__)
#    define LADLE_HOST_DEVICE __host__ __device__
#  else
#    define LADLE_HOST_DEVICE
#  endif
#endif

// <span> (C++20) for the std::span adaptors.
#ifndef LADLE_HAS_STD_SPAN
#  if defined(__has_include)
#    if __has_include(<version>)
#      include <version>
#    endif
#  endif
#  if defined(__cpp_lib_span) && __cpp_lib_span >= 202002L
#    define LADLE_HAS_STD_SPAN 1
#  else
#    define LADLE_HAS_STD_SPAN 0
#  endif
#endif

// <mdspan> (C++23).
#ifndef LADLE_HAS_STD_MDSPAN
#  if defined(__cpp_lib_mdspan) && __cpp_lib_mdspan >= 202207L
#    define LADLE_HAS_STD_MDSPAN 1
#  else
#    define LADLE_HAS_STD_MDSPAN 0
#  endif
#endif

// LADLE_DISABLE_SIMD: define it to force every kernel onto its scalar reference path.

// Streaming kernels whose float output reaches this many bytes write it with cache-bypassing
// stores: such an output will not stay cached anyway, and a normal store would first read each
// line it overwrites. Set it to 0 to always stream, or very high to never stream.
#ifndef LADLE_STREAM_MIN_BYTES
#  define LADLE_STREAM_MIN_BYTES (std::size_t(32) << 20)
#endif

namespace ladle {
/// Signed index type used for extents, strides and counts throughout ladle.
using index_t = std::ptrdiff_t;
}  // namespace ladle
