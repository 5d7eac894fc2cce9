// ladle/core/checks.hpp: the argument checks every family shares.
//
// One place for each rule DESIGN.md promises, so every public function enforces it the same way:
//  * views are on the host, contiguous, non-empty and of the expected extents where required;
//  * an output never partially overlaps an input (require_disjoint, require_disjoint_or_same);
//  * data errors name the caller's index (require_finite, index_text).
// Every helper takes the *public* function's name (`fn`) and the caller's argument name, so the
// message points at what the caller wrote, not at an internal helper.
// Included at the bottom of core/view.hpp: every header that sees views sees these.
#pragma once

#include "ladle/core/error.hpp"
#include "ladle/core/size.hpp"
#include "ladle/core/view.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

namespace ladle {
namespace detail {

template <class T, std::size_t R>
void require_host(const tensor_view<T, R>& v, const char* fn, const char* arg) {
  if (!v.is_host())
    throw_invalid_argument(fn, arg, "is device memory (cuda:", v.device().ordinal,
                           ") but this routine runs on the host; use ladle/cuda/ or copy first");
}

template <class T, std::size_t R>
void require_contiguous(const tensor_view<T, R>& v, const char* fn, const char* arg) {
  if (!v.is_contiguous())
    throw_invalid_argument(fn, arg, "must be contiguous row-major");
}

template <class T, std::size_t R>
void require_nonempty(const tensor_view<T, R>& v, const char* fn, const char* arg) {
  if (v.empty()) {
    if (R == 1) throw_invalid_argument(fn, arg, "is empty");
    std::string shape;
    for (std::size_t i = 0; i < R; ++i) shape += concat(i ? " x " : "", v.extent(i));
    throw_invalid_argument(fn, arg, "has no elements (shape ", shape, ")");
  }
}

inline void require_extent(index_t got, index_t want, const char* fn, const char* arg,
                           const char* what) {
  if (got != want)
    throw_invalid_argument(fn, arg, "has ", what, " ", got, " but ", want, " was expected");
}

/// A view whose layout is validated under the caller's names: adaptors (DLPack, Eigen, mdspan)
/// call this so a bad shape is reported as `fn`'s `arg`, not as the tensor_view constructor's.
template <class T, std::size_t R>
tensor_view<T, R> checked_view(T* data, const std::array<index_t, R>& extents,
                               const std::array<index_t, R>& strides, device dev, const char* fn,
                               const char* arg) {
  check_layout(extents, strides, sizeof(T), fn, arg);
  if (data == nullptr && checked_size(extents, fn, arg) != 0)
    throw_invalid_argument(fn, arg, "has a null data pointer but ",
                           checked_size(extents, fn, arg), " elements");
  return tensor_view<T, R>(data, extents, strides, dev);
}

// ---- overlap ------------------------------------------------------------------------------------

/// Byte range [lo, hi) touched by a non-empty host view.
template <class T, std::size_t R>
std::array<std::uintptr_t, 2> byte_range(const tensor_view<T, R>& v) noexcept {
  std::uintptr_t lo = reinterpret_cast<std::uintptr_t>(v.data()), hi = lo;
  for (std::size_t i = 0; i < R; ++i) {
    const index_t reach = (v.extent(i) - 1) * v.stride(i);
    const std::uintptr_t bytes = static_cast<std::uintptr_t>(reach < 0 ? -reach : reach) * sizeof(T);
    (reach < 0 ? lo -= bytes : hi += bytes);
  }
  return {lo, hi + sizeof(T)};
}

/// Greatest common divisor of the byte strides of the axes that move (0 when none moves).
template <class T, std::size_t R>
std::uintptr_t stride_gcd(const tensor_view<T, R>& v, std::uintptr_t g) noexcept {
  for (std::size_t i = 0; i < R; ++i) {
    if (v.extent(i) <= 1 || v.stride(i) == 0) continue;
    std::uintptr_t s = static_cast<std::uintptr_t>(v.stride(i) < 0 ? -v.stride(i) : v.stride(i)) *
                       sizeof(T);
    while (s != 0) {
      const std::uintptr_t t = g % s;
      g = s;
      s = t;
    }
  }
  return g;
}

/// True when a and b may share a byte. Extent- and stride-aware: two views whose byte ranges
/// interleave without touching (the columns of one row-major matrix, the real and imaginary
/// halves of complex data) do not overlap; the test is exact for such lattices and conservative
/// otherwise (it never reports disjoint memory that is shared).
template <class T, std::size_t R, class U, std::size_t S>
bool overlaps(const tensor_view<T, R>& a, const tensor_view<U, S>& b) noexcept {
  if (a.empty() || b.empty()) return false;
  const auto ra = byte_range(a), rb = byte_range(b);
  if (!(ra[0] < rb[1] && rb[0] < ra[1])) return false;
  // Every element of a starts at a.data() + a multiple of g bytes, and likewise for b; if the
  // residues [start mod g, start mod g + size) of the two never meet, no byte is shared.
  const std::uintptr_t g = stride_gcd(b, stride_gcd(a, 0));
  if (g == 0 || g < sizeof(T) || g < sizeof(U)) return true;
  const std::uintptr_t pa = reinterpret_cast<std::uintptr_t>(a.data()) % g;
  const std::uintptr_t pb = reinterpret_cast<std::uintptr_t>(b.data()) % g;
  const std::uintptr_t d = pb >= pa ? pb - pa : pb + g - pa;  // b's residue relative to a's
  return d < sizeof(T) || g - d < sizeof(U);
}

/// True when a and b are the same elements of the same type in the same order (exact aliasing).
template <class T, std::size_t R, class U, std::size_t S>
bool same_memory(const tensor_view<T, R>& a, const tensor_view<U, S>& b) noexcept {
  if (R != S || !std::is_same<std::remove_cv_t<T>, std::remove_cv_t<U>>::value) return false;
  if (static_cast<const void*>(a.data()) != static_cast<const void*>(b.data())) return false;
  for (std::size_t i = 0; i < R; ++i)
    if (a.extent(i) != b.extent(i) || (a.extent(i) > 1 && a.stride(i) != b.stride(i)))
      return false;
  return true;
}

/// Refuses any shared memory between `out` and `in`.
template <class T, std::size_t R, class U, std::size_t S>
void require_disjoint(const tensor_view<T, R>& out, const char* out_name,
                      const tensor_view<U, S>& in, const char* in_name, const char* fn) {
  if (overlaps(out, in))
    throw_invalid_argument(fn, out_name, "overlaps '", in_name,
                           "'; this function does not work in place");
}

/// Accepts `out` aliasing `in` exactly (a documented in-place call); refuses partial overlap.
template <class T, std::size_t R, class U, std::size_t S>
void require_disjoint_or_same(const tensor_view<T, R>& out, const char* out_name,
                              const tensor_view<U, S>& in, const char* in_name, const char* fn) {
  if (overlaps(out, in) && !same_memory(out, in))
    throw_invalid_argument(fn, out_name, "partially overlaps '", in_name,
                           "'; it may alias it only exactly, element for element");
}

// ---- data errors name the caller's index --------------------------------------------------------

/// "element 7" (rank 1), "row 3, column 2" (rank 2), "index (1, 0, 4)" (higher ranks).
template <std::size_t Rank>
std::string index_text(const std::array<index_t, Rank>& idx) {
  if (Rank == 1) return concat("element ", idx[0]);
  if (Rank == 2) return concat("row ", idx[0], ", column ", idx[1]);
  std::string s = "index (";
  for (std::size_t i = 0; i < Rank; ++i) s += concat(i ? ", " : "", idx[i]);
  return s + ")";
}

/// Row-major multi-index of flat position `flat` in `extents`.
template <std::size_t Rank>
std::array<index_t, Rank> unflatten(index_t flat, const std::array<index_t, Rank>& extents) {
  std::array<index_t, Rank> idx{};
  for (std::size_t r = Rank; r-- > 0;) {
    idx[r] = extents[r] > 0 ? flat % extents[r] : 0;
    flat = extents[r] > 0 ? flat / extents[r] : 0;
  }
  return idx;
}

/// Whether p[0, n) holds no NaN or infinity, for float or double: an all-ones exponent field
/// is the test, on the bits, in a loop the compiler vectorises (no early exit inside a chunk).
template <class T>
bool all_finite_contiguous(const T* p, index_t n) noexcept {
  static_assert(std::is_floating_point<T>::value && (sizeof(T) == 4 || sizeof(T) == 8), "");
  using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  constexpr U exponent = sizeof(T) == 4 ? U(0x7F800000u) : U(0x7FF0000000000000ull);
  constexpr index_t chunk = 4096;
  for (index_t i = 0; i < n; i += chunk) {
    const index_t e = n - i < chunk ? n : i + chunk;
    U bad = 0;
    for (index_t j = i; j < e; ++j) {
      U b;
      std::memcpy(&b, p + j, sizeof b);
      bad |= static_cast<U>((b & exponent) == exponent);
    }
    if (bad) return false;
  }
  return true;
}

/// Throws a domain_error naming the first NaN or infinity of `v` by its index; returns otherwise.
template <class T, std::size_t R>
void require_finite(const tensor_view<T, R>& v, const char* fn, const char* arg) {
  using E = std::remove_cv_t<T>;
  if constexpr (std::is_floating_point<E>::value && (sizeof(E) == 4 || sizeof(E) == 8)) {
    // The common case, a contiguous all-finite view, in one vectorised pass; the indexed walk
    // below finds and names the offender otherwise.
    if (v.is_contiguous() && all_finite_contiguous(v.data(), v.size())) return;
  }
  std::array<index_t, R> idx{};
  const index_t n = v.size();
  for (index_t flat = 0; flat < n; ++flat) {
    index_t offset = 0;
    for (std::size_t r = 0; r < R; ++r) offset += idx[r] * v.stride(r);
    const double x = static_cast<double>(v.data()[offset]);
    if (!std::isfinite(x))
      throw_domain_error(fn, arg, "has ", x, " at ", index_text(idx), "; finite values only");
    for (std::size_t r = R; r-- > 0;) {
      if (++idx[r] < v.extent(r)) break;
      idx[r] = 0;
    }
  }
}

}  // namespace detail
}  // namespace ladle
