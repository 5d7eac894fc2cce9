// ladle/core/size.hpp: overflow-checked sizes and guarded allocation.
//
// DESIGN.md promises that no size computed from caller input overflows and that no allocation is
// sized by unchecked input. Every view, tensor, DLPack import and workspace computation goes
// through these helpers:
//  * checked_mul / checked_add / checked_size / check_layout: size arithmetic that throws a
//    ladle::error instead of wrapping;
//  * checked_bytes, allocate_aligned, make_buffer, reserve_buffer: requests that are negative,
//    larger than the machine's memory, or that the allocator refuses become a ladle::error
//    naming the function and the size (never std::length_error, std::bad_alloc or a sanitizer
//    abort).
// Each helper takes the *public* function's name (`fn`) and the caller's argument name.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/error.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#  include <unistd.h>
#endif
#if defined(__linux__)
#  include <sys/mman.h>
#endif

// LADLE_MAX_ALLOCATION_BYTES: the largest single buffer ladle will request. Requests above it are
// refused with a ladle::runtime_error before reaching the allocator (a sanitizer build would abort
// on them, and an overcommitting kernel would accept them and kill the process later). 0, the
// default, means "the machine's physical memory".
#ifndef LADLE_MAX_ALLOCATION_BYTES
#  define LADLE_MAX_ALLOCATION_BYTES 0
#endif

// LADLE_HUGE_PAGE_MIN_BYTES: buffers of at least this many bytes (default 2 MiB) are aligned to
// 2 MiB and, on Linux, advised as transparent huge pages (madvise MADV_HUGEPAGE), which the
// kernel honours where THP is "madvise" or "always". A fresh 64 MiB result otherwise takes 16 384
// page faults on first touch, which costs more than the kernel that fills it (docs/quantization.md).
// The request is rounded up to whole 2 MiB when that adds at most an eighth, so the tail gets a
// huge page too (not in sanitizer builds, which must see overflows past the exact size).
// Define it to 0 to turn the advice off.
#ifndef LADLE_HUGE_PAGE_MIN_BYTES
#  define LADLE_HUGE_PAGE_MIN_BYTES (std::size_t(2) << 20)
#endif

namespace ladle {

/// Alignment of every buffer ladle allocates (one cache line; enough for AVX-512).
inline constexpr std::size_t buffer_alignment = 64;

/// Tag for owning constructors that skip the zero fill: `tensor<float, 2>(ext, uninitialized)`.
struct uninitialized_t {
  explicit constexpr uninitialized_t() = default;
};
inline constexpr uninitialized_t uninitialized{};

namespace detail {

// ---- overflow-checked size arithmetic -----------------------------------------------------------

/// a * b for non-negative sizes; throws when the product does not fit index_t.
inline index_t checked_mul(index_t a, index_t b, const char* fn, const char* arg) {
  if (a < 0 || b < 0)
    throw_invalid_argument(fn, arg, "has a negative size (", a < 0 ? a : b, ")");
  if (a != 0 && b > std::numeric_limits<index_t>::max() / a)
    throw_invalid_argument(fn, arg, "describes ", a, " x ", b,
                           " elements, more than a 64-bit size can hold");
  return a * b;
}

/// a + b for non-negative sizes; throws when the sum does not fit index_t.
inline index_t checked_add(index_t a, index_t b, const char* fn, const char* arg) {
  if (a < 0 || b < 0)
    throw_invalid_argument(fn, arg, "has a negative size (", a < 0 ? a : b, ")");
  if (b > std::numeric_limits<index_t>::max() - a)
    throw_invalid_argument(fn, arg, "describes ", a, " + ", b,
                           " elements, more than a 64-bit size can hold");
  return a + b;
}

/// Product of extents, each checked to be non-negative, the product checked not to overflow.
template <std::size_t Rank>
index_t checked_size(const std::array<index_t, Rank>& extents, const char* fn, const char* arg) {
  for (std::size_t i = 0; i < Rank; ++i)
    if (extents[i] < 0)
      throw_invalid_argument(fn, arg, "extent ", i, " is negative (", extents[i], ")");
  for (std::size_t i = 0; i < Rank; ++i)
    if (extents[i] == 0) return 0;
  index_t n = 1;
  for (std::size_t i = 0; i < Rank; ++i) n = checked_mul(n, extents[i], fn, arg);
  return n;
}

/// Validates a strided layout: the element count fits index_t and the furthest element
/// (sum of (extent - 1) * |stride| elements of `element_size` bytes) is addressable.
template <std::size_t Rank>
void check_layout(const std::array<index_t, Rank>& extents, const std::array<index_t, Rank>& strides,
                  std::size_t element_size, const char* fn, const char* arg) {
  if (checked_size(extents, fn, arg) == 0) return;
  constexpr index_t max = std::numeric_limits<index_t>::max();
  // The byte just past the furthest element must be addressable: reach + 1 elements in bytes.
  const index_t max_elements = max / static_cast<index_t>(element_size) - 1;
  index_t reach = 0;
  for (std::size_t i = 0; i < Rank; ++i) {
    if (strides[i] == std::numeric_limits<index_t>::min())
      throw_invalid_argument(fn, arg, "stride ", i, " (", strides[i], ") is out of range");
    const index_t step = strides[i] < 0 ? -strides[i] : strides[i];
    const index_t span = extents[i] - 1;
    if (step != 0 && span > (max_elements - reach) / step)
      throw_invalid_argument(fn, arg, "extent ", i, " (", extents[i], ") with stride ", strides[i],
                             " reaches past the addressable range");
    reach += span * step;
  }
}

// ---- guarded allocation -------------------------------------------------------------------------

/// The largest single request ladle makes (LADLE_MAX_ALLOCATION_BYTES, else physical memory).
inline std::size_t max_allocation_bytes() noexcept {
  if (LADLE_MAX_ALLOCATION_BYTES != 0) return static_cast<std::size_t>(LADLE_MAX_ALLOCATION_BYTES);
  static const std::size_t limit = [] {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0 &&
        static_cast<unsigned long long>(pages) <=
            std::numeric_limits<std::size_t>::max() / static_cast<unsigned long long>(page))
      return static_cast<std::size_t>(pages) * static_cast<std::size_t>(page);
#endif
    return std::size_t{1} << 40;
  }();
  return limit;
}

/// Bytes of `count` elements of `element_size`, refusing negative counts and requests above
/// max_allocation_bytes() with an error naming fn, arg and the size.
inline std::size_t checked_bytes(index_t count, std::size_t element_size, const char* fn,
                                 const char* arg) {
  if (count < 0) throw_invalid_argument(fn, arg, "asks for a negative number of elements (", count, ")");
  const std::size_t limit = max_allocation_bytes();
  if (static_cast<std::size_t>(count) > limit / element_size)
    throw_runtime_error(fn, arg, "would need ", count, " elements of ", element_size,
                        " bytes, more than this machine's memory (", limit, " bytes)");
  return static_cast<std::size_t>(count) * element_size;
}

[[noreturn]] inline void allocation_failed(std::size_t bytes, const char* fn, const char* arg) {
  throw_runtime_error(fn, arg, "could not allocate ", bytes, " bytes");
}

/// Frees storage from allocate_aligned with the alignment it was allocated with.
struct aligned_deleter {
  std::size_t alignment = buffer_alignment;
  void operator()(void* p) const noexcept { ::operator delete(p, std::align_val_t(alignment)); }
};

/// Alignment allocate_aligned uses for a buffer of `bytes`: 2 MiB (a huge page) for large
/// buffers, buffer_alignment otherwise.
inline std::size_t allocation_alignment(std::size_t bytes) noexcept {
  constexpr std::size_t huge = std::size_t(2) << 20;
  const std::size_t min_bytes = LADLE_HUGE_PAGE_MIN_BYTES;
  return min_bytes != 0 && bytes >= min_bytes ? huge : buffer_alignment;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool exact_allocation_sizes = true;
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
      __has_feature(memory_sanitizer)
inline constexpr bool exact_allocation_sizes = true;
#  else
inline constexpr bool exact_allocation_sizes = false;
#  endif
#else
inline constexpr bool exact_allocation_sizes = false;
#endif

/// Bytes allocate_aligned requests for a buffer of `bytes` with `alignment`: a huge-page-aligned
/// buffer is rounded up to whole 2 MiB when that adds at most an eighth (a 46 MB buffer then
/// ends in a huge page instead of ~500 small ones); anything else exactly `bytes`.
inline std::size_t allocation_request(std::size_t bytes, std::size_t alignment) noexcept {
  constexpr std::size_t huge = std::size_t(2) << 20;
  if (alignment != huge || exact_allocation_sizes) return bytes;
  // bytes <= physical memory (checked_bytes), so rounding up cannot overflow.
  const std::size_t whole = (bytes + huge - 1) / huge * huge;
  return whole - bytes <= bytes / 8 ? whole : bytes;
}

/// Asks the kernel to back the whole 2 MiB pages inside [p, p + bytes) with transparent huge
/// pages (Linux; no-op elsewhere). Advice only: failure changes nothing but speed. Give it
/// before the pages are first touched.
inline void advise_huge_pages_within(void* p, std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t huge = std::uintptr_t(2) << 20;
  if (p == nullptr) return;
  const auto first = (reinterpret_cast<std::uintptr_t>(p) + huge - 1) & ~(huge - 1);
  const auto last = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(huge - 1);
  if (last > first) (void)::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

/// The advice for allocate_aligned's buffers: only those aligned to huge pages (large ones).
inline void advise_huge_pages(void* p, std::size_t bytes, std::size_t alignment) noexcept {
  if (alignment == (std::size_t(2) << 20)) advise_huge_pages_within(p, bytes);
}

template <class T>
using aligned_ptr = std::unique_ptr<T, aligned_deleter>;

/// Uninitialised storage for `count` trivially copyable elements (null for 0), aligned to
/// allocation_alignment(bytes) (at least 64 bytes) and advised as huge pages when large.
template <class T>
aligned_ptr<T> allocate_aligned(index_t count, const char* fn = "tensor",
                                const char* arg = "extents") {
  static_assert(std::is_trivially_copyable<T>::value, "allocate_aligned: trivially copyable only");
  const std::size_t bytes = checked_bytes(count, sizeof(T), fn, arg);
  if (bytes == 0) return nullptr;
  const std::size_t alignment = allocation_alignment(bytes);
  const std::size_t request = allocation_request(bytes, alignment);
  void* p = ::operator new(request, std::align_val_t(alignment), std::nothrow);
  if (p == nullptr) allocation_failed(bytes, fn, arg);
  advise_huge_pages(p, request, alignment);
  return aligned_ptr<T>(static_cast<T*>(p), aligned_deleter{alignment});
}

/// A std::vector of n value-initialised (or `value`) elements, the size checked first; a large
/// one is advised as huge pages before it is filled (a fresh 8 MB vector otherwise takes 2048
/// page faults, which cost more than most of the functions returning one).
template <class T>
std::vector<T> make_buffer(index_t n, const char* fn, const char* arg, const T& value = T{}) {
  const std::size_t bytes = checked_bytes(n, sizeof(T), fn, arg);
  auto make = [&] {
    std::vector<T> v;
    v.reserve(static_cast<std::size_t>(n));
    // From 4 MiB up, where a whole page lies inside and the faults saved outweigh the call.
    if constexpr (!std::is_same<T, bool>::value)
      if (bytes >= (std::size_t(4) << 20)) advise_huge_pages_within(v.data(), bytes);
    v.assign(static_cast<std::size_t>(n), value);
    return v;
  };
#if LADLE_HAS_EXCEPTIONS
  try {
    return make();
  } catch (const std::bad_alloc&) {
    allocation_failed(bytes, fn, arg);
  }
#else
  (void)bytes;
  return make();
#endif
}

/// v.reserve(n) with the size checked first (for buffers filled by push_back).
template <class T>
void reserve_buffer(std::vector<T>& v, index_t n, const char* fn, const char* arg) {
  const std::size_t bytes = checked_bytes(n, sizeof(T), fn, arg);
#if LADLE_HAS_EXCEPTIONS
  try {
    v.reserve(static_cast<std::size_t>(n));
  } catch (const std::bad_alloc&) {
    allocation_failed(bytes, fn, arg);
  }
#else
  (void)bytes;
  v.reserve(static_cast<std::size_t>(n));
#endif
}

}  // namespace detail
}  // namespace ladle
