// ladle/core/fp_contract.hpp (detail): products that are never fused into an FMA.
//
// GCC's default -ffp-contract=fast (any -std=gnu++NN, which is what consumers get) fuses a * b + c
// into one fused multiply-add wherever the target has one, even across statements and inlined
// calls. The fused result rounds once instead of twice, so the same source gives different bits
// on an FMA machine (AVX2, AVX-512, AArch64) and on one without (SSE2), or in a scalar tail and
// its SIMD body. ladle promises the same bits on every instruction set, so each kernel either
// writes std::fma / xsimd::fma where a fused result is meant, or forms the product with
// mul_rounded(a, b), which the compiler cannot see through: an empty asm statement that claims
// to modify the product pins it as a rounded value in a register. It costs no instruction.
// (A function-level optimize("fp-contract=off") attribute does not survive inlining in GCC 12,
// and volatile would cost a store and a load.) Clang contracts only within one expression by
// default, and MSVC not at all; the barrier is harmless there.
#pragma once

#include "ladle/config.hpp"

namespace ladle {
namespace detail {

/// Hides v from the optimiser's algebra (no contraction across it); no instruction is emitted.
template <class T>
LADLE_FORCE_INLINE T fp_barrier(T v) noexcept {
#if defined(__GNUC__) && (defined(__x86_64__) || (defined(__i386__) && defined(__SSE2__)))
#  if defined(__AVX512F__)
  __asm__("" : "+v"(v));
#  else
  __asm__("" : "+x"(v));
#  endif
#elif defined(__GNUC__) && defined(__aarch64__)
  __asm__("" : "+w"(v));
#elif defined(__GNUC__)
  __asm__("" : "+m"(v));  // other targets: through memory (slower, still exact)
#endif
  return v;
}

/// a * b rounded to T, never fused with a later addition or subtraction.
template <class T>
LADLE_FORCE_INLINE T mul_rounded(T a, T b) noexcept {
  return fp_barrier(a * b);
}

}  // namespace detail
}  // namespace ladle
