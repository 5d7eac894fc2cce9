// ladle/quantization/packing.hpp: sub-byte codes packed densely into bytes, and back.
//
// Layout (the same for every width b in 2..8): the codes form a little-endian bit stream.
// Code i occupies stream bits [i*b, (i+1)*b), its least significant bit first, and stream bit k
// is bit (k % 8) of byte k / 8. So
//   b = 4: two codes per byte, code 2j in the low nibble of byte j, code 2j+1 in the high nibble;
//   b = 2: four codes per byte, code 4j in bits 0-1;
//   b = 3: eight codes in three bytes; b = 6: four codes in three bytes.
// n codes take packed_size(n, b) = ceil(n*b / 8) bytes; unused high bits of the last byte are 0.
// Signed codes are stored as their low b bits (two's complement) and sign-extended on unpack.
// A code that does not fit in b bits (unsigned: outside [0, 2^b); signed: outside
// [-2^(b-1), 2^(b-1))) is rejected with ladle::invalid_argument, never truncated; `out` may then
// hold the codes packed before it (its contents are unspecified), `codes` is never modified.
#pragma once

#include "ladle/core/error.hpp"
#include "ladle/core/tensor.hpp"
#include "ladle/core/view.hpp"
#include "ladle/quantization/spec.hpp"

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace ladle {

/// Bytes needed to pack n codes of `bits` bits.
constexpr index_t packed_size(index_t n, int bits) noexcept {
  return (n * bits + 7) / 8;
}

/// Packs codes (any integer type; signed types store two's complement) into `out`, which must
/// hold exactly packed_size(codes.size(), bits) bytes. bits must be in 2..8.
template <class Q>
void pack_codes_into(vector_view<Q> codes, int bits, vector_view<std::uint8_t> out);

/// Owning form of pack_codes_into.
template <class Q>
tensor<std::uint8_t, 1> pack_codes(vector_view<Q> codes, int bits);

/// Unpacks out.size() codes from `packed` (at least packed_size(out.size(), bits) bytes).
/// Signed Q sign-extends each b-bit field; unsigned Q zero-extends.
template <class Q>
void unpack_codes_into(vector_view<const std::uint8_t> packed, int bits, vector_view<Q> out);

/// Owning form of unpack_codes_into: n codes of type Q.
template <class Q>
tensor<Q, 1> unpack_codes(vector_view<const std::uint8_t> packed, int bits, index_t n);

/// The same with width and range taken from the quantizer's spec instead of from Q: fields are
/// spec.bits wide (2..8), every code must lie in the spec's [qmin, qmax] (else
/// ladle::invalid_argument naming the first offending index and value, nothing written), and a
/// signed spec stores two's complement fields whatever Q is. So int8 codes of an unsigned 4-bit
/// spec (0..15) pack as the spec says, where pack_codes(codes, 4) would read them as signed.
template <class Q>
void pack_codes_into(vector_view<Q> codes, const quant_spec& spec, vector_view<std::uint8_t> out);
template <class Q>
tensor<std::uint8_t, 1> pack_codes(vector_view<Q> codes, const quant_spec& spec);

/// Unpacks n codes of `spec`: sign-extended when spec.is_signed, zero-extended otherwise, whatever
/// Q is; Q must hold [qmin, qmax] (else ladle::invalid_argument).
template <class Q>
void unpack_codes_into(vector_view<const std::uint8_t> packed, const quant_spec& spec, vector_view<Q> out);
template <class Q>
tensor<Q, 1> unpack_codes(vector_view<const std::uint8_t> packed, const quant_spec& spec, index_t n);

// ---- implementation -------------------------------------------------------------------------

namespace detail {

inline void check_pack_bits(int bits, const char* fn) {
  if (bits < 2 || bits > 8) throw_invalid_argument(fn, "bits", "must be in 2..8, got ", bits);
}

/// Packs n codes (n a multiple of 8, or the tail) from `in` into `out`; returns false when some
/// code does not fit in B bits.
template <int B, class Q>
bool pack_span(const Q* in, index_t n, std::uint8_t* out) noexcept {
  constexpr std::uint32_t mask = (1u << B) - 1u;
  // Codes are shifted into [0, 2^B) before the range test so signed and unsigned share it.
  constexpr std::int64_t bias = std::is_signed<Q>::value ? (std::int64_t(1) << (B - 1)) : 0;
  std::uint32_t overflow = 0;
  const index_t full = n / 8;
  if (B == 4) {
    for (index_t j = 0; j < full * 4; ++j) {
      const auto a = static_cast<std::uint32_t>(static_cast<std::int64_t>(in[2 * j]) + bias);
      const auto b = static_cast<std::uint32_t>(static_cast<std::int64_t>(in[2 * j + 1]) + bias);
      overflow |= (a | b) >> B;
      out[j] = static_cast<std::uint8_t>(((a - static_cast<std::uint32_t>(bias)) & mask) |
                                         (((b - static_cast<std::uint32_t>(bias)) & mask) << 4));
    }
  } else {
    for (index_t g = 0; g < full; ++g) {
      std::uint64_t w = 0;
      for (int k = 0; k < 8; ++k) {
        const auto c = static_cast<std::uint32_t>(static_cast<std::int64_t>(in[8 * g + k]) + bias);
        overflow |= c >> B;
        w |= std::uint64_t((c - static_cast<std::uint32_t>(bias)) & mask) << (k * B);
      }
      for (int j = 0; j < B; ++j) out[g * B + j] = static_cast<std::uint8_t>(w >> (8 * j));
    }
  }
  const index_t rest = n - full * 8;
  if (rest > 0) {
    std::uint64_t w = 0;
    for (index_t k = 0; k < rest; ++k) {
      const auto c = static_cast<std::uint32_t>(static_cast<std::int64_t>(in[full * 8 + k]) + bias);
      overflow |= c >> B;
      w |= std::uint64_t((c - static_cast<std::uint32_t>(bias)) & mask) << (k * B);
    }
    const index_t bytes = (rest * B + 7) / 8;
    for (index_t j = 0; j < bytes; ++j) out[full * B + j] = static_cast<std::uint8_t>(w >> (8 * j));
  }
  return overflow == 0;
}

/// pack_span for int32 codes already known to fit (two's complement low bits are kept): the
/// fused quantize+pack path. Written so the compiler vectorises the 4-bit and 2-bit cases.
template <int B>
void pack_span_unchecked(const std::int32_t* LADLE_RESTRICT in, index_t n, std::uint8_t* LADLE_RESTRICT out) noexcept {
  constexpr std::uint32_t mask = (1u << B) - 1u;
  const index_t full = n / 8;
  if (B == 4) {
    const index_t bytes = full * 4;
    index_t j = 0;
    for (; j < bytes; ++j)
      out[j] = static_cast<std::uint8_t>((static_cast<std::uint32_t>(in[2 * j]) & mask) |
                                         ((static_cast<std::uint32_t>(in[2 * j + 1]) & mask) << 4));
  } else if (B == 2) {
    for (index_t j = 0; j < full * 2; ++j)
      out[j] = static_cast<std::uint8_t>((static_cast<std::uint32_t>(in[4 * j]) & mask) |
                                         ((static_cast<std::uint32_t>(in[4 * j + 1]) & mask) << 2) |
                                         ((static_cast<std::uint32_t>(in[4 * j + 2]) & mask) << 4) |
                                         ((static_cast<std::uint32_t>(in[4 * j + 3]) & mask) << 6));
  } else if (B == 8) {
    for (index_t j = 0; j < full * 8; ++j) out[j] = static_cast<std::uint8_t>(in[j]);
  } else {
    for (index_t g = 0; g < full; ++g) {
      std::uint64_t w = 0;
      for (int k = 0; k < 8; ++k) w |= std::uint64_t(static_cast<std::uint32_t>(in[8 * g + k]) & mask) << (k * B);
      for (int j = 0; j < B; ++j) out[g * B + j] = static_cast<std::uint8_t>(w >> (8 * j));
    }
  }
  const index_t rest = n - full * 8;
  if (rest > 0) {
    std::uint64_t w = 0;
    for (index_t k = 0; k < rest; ++k)
      w |= std::uint64_t(static_cast<std::uint32_t>(in[full * 8 + k]) & mask) << (k * B);
    for (index_t j = 0; j < (rest * B + 7) / 8; ++j) out[full * B + j] = static_cast<std::uint8_t>(w >> (8 * j));
  }
}

template <int B, class Q>
void unpack_span(const std::uint8_t* in, index_t n, Q* out) noexcept {
  constexpr std::uint32_t mask = (1u << B) - 1u;
  auto extend = [](std::uint32_t v) -> Q {
    if (std::is_signed<Q>::value)
      return static_cast<Q>(static_cast<std::int32_t>(v) -
                            static_cast<std::int32_t>((v >> (B - 1)) << B));
    return static_cast<Q>(v);
  };
  const index_t full = n / 8;
  if (B == 4) {
    for (index_t j = 0; j < full * 4; ++j) {
      out[2 * j] = extend(in[j] & mask);
      out[2 * j + 1] = extend(std::uint32_t(in[j]) >> 4);
    }
  } else {
    for (index_t g = 0; g < full; ++g) {
      std::uint64_t w = 0;
      for (int j = 0; j < B; ++j) w |= std::uint64_t(in[g * B + j]) << (8 * j);
      for (int k = 0; k < 8; ++k) out[8 * g + k] = extend(static_cast<std::uint32_t>(w >> (k * B)) & mask);
    }
  }
  const index_t rest = n - full * 8;
  if (rest > 0) {
    std::uint64_t w = 0;
    const index_t bytes = (rest * B + 7) / 8;
    for (index_t j = 0; j < bytes; ++j) w |= std::uint64_t(in[full * B + j]) << (8 * j);
    for (index_t k = 0; k < rest; ++k)
      out[full * 8 + k] = extend(static_cast<std::uint32_t>(w >> (k * B)) & mask);
  }
}

template <class F>
decltype(auto) with_bits(int bits, F&& f) {
  switch (bits) {
    case 2: return f(std::integral_constant<int, 2>{});
    case 3: return f(std::integral_constant<int, 3>{});
    case 4: return f(std::integral_constant<int, 4>{});
    case 5: return f(std::integral_constant<int, 5>{});
    case 6: return f(std::integral_constant<int, 6>{});
    case 7: return f(std::integral_constant<int, 7>{});
    default: return f(std::integral_constant<int, 8>{});
  }
}

}  // namespace detail

template <class Q>
void pack_codes_into(vector_view<Q> codes, int bits, vector_view<std::uint8_t> out) {
  using C = std::remove_const_t<Q>;
  static_assert(std::is_integral<C>::value && sizeof(C) <= 4, "ladle::pack_codes: integer codes");
  detail::check_pack_bits(bits, "pack_codes");
  detail::require_host(codes, "pack_codes", "codes");
  detail::require_host(out, "pack_codes", "out");
  detail::require_contiguous(codes, "pack_codes", "codes");
  detail::require_contiguous(out, "pack_codes", "out");
  detail::require_extent(out.size(), packed_size(codes.size(), bits), "pack_codes", "out", "size");
  detail::require_disjoint(out, "out", codes, "codes", "pack_codes");
  const bool ok = detail::with_bits(bits, [&](auto b) {
    return detail::pack_span<decltype(b)::value>(codes.data(), codes.size(), out.data());
  });
  if (!ok)
    throw_invalid_argument("pack_codes", "codes", "hold a value that does not fit in ", bits,
                           " bits");
}

template <class Q>
tensor<std::uint8_t, 1> pack_codes(vector_view<Q> codes, int bits) {
  detail::check_pack_bits(bits, "pack_codes");
  tensor<std::uint8_t, 1> out({packed_size(codes.size(), bits)}, uninitialized);
  pack_codes_into(codes, bits, out.view());
  return out;
}

template <class Q>
void unpack_codes_into(vector_view<const std::uint8_t> packed, int bits, vector_view<Q> out) {
  static_assert(!std::is_const<Q>::value && std::is_integral<Q>::value && sizeof(Q) <= 4,
                "ladle::unpack_codes: out must be writable integer codes");
  detail::check_pack_bits(bits, "unpack_codes");
  detail::require_host(packed, "unpack_codes", "packed");
  detail::require_host(out, "unpack_codes", "out");
  detail::require_contiguous(packed, "unpack_codes", "packed");
  detail::require_contiguous(out, "unpack_codes", "out");
  if (packed.size() < packed_size(out.size(), bits))
    throw_invalid_argument("unpack_codes", "packed", "has ", packed.size(), " bytes but ",
                           packed_size(out.size(), bits), " are needed for ", out.size(),
                           " codes of ", bits, " bits");
  if (std::is_signed<Q>::value ? bits > 8 * static_cast<int>(sizeof(Q))
                               : bits > 8 * static_cast<int>(sizeof(Q)))
    throw_invalid_argument("unpack_codes", "out", "element type is narrower than ", bits, " bits");
  detail::require_disjoint(out, "out", packed, "packed", "unpack_codes");
  detail::with_bits(bits, [&](auto b) {
    detail::unpack_span<decltype(b)::value>(packed.data(), out.size(), out.data());
    return 0;
  });
}

template <class Q>
tensor<Q, 1> unpack_codes(vector_view<const std::uint8_t> packed, int bits, index_t n) {
  // n is checked against the packed bytes before the result is allocated.
  detail::check_pack_bits(bits, "unpack_codes");
  if (n < 0 || n / 8 > packed.size() / bits || packed_size(n, bits) > packed.size())
    throw_invalid_argument("unpack_codes", "n", "is ", n, " but ", packed.size(),
                           " packed bytes hold at most ", packed.size() * 8 / bits, " codes of ",
                           bits, " bits");
  tensor<Q, 1> out({n}, uninitialized, "unpack_codes", "n");
  unpack_codes_into(packed, bits, out.view());
  return out;
}

namespace detail {
inline void check_spec_pack_bits(const quant_spec& spec, const char* fn) {
  if (spec.bits < 2 || spec.bits > 8)
    throw_invalid_argument(fn, "spec.bits", "must be in 2..8 to pack, got ", spec.bits);
}
/// Codes per staging chunk of the spec forms: a multiple of 8, so every chunk starts on a byte.
inline constexpr index_t spec_pack_chunk = 4096;
}  // namespace detail

template <class Q>
void pack_codes_into(vector_view<Q> codes, const quant_spec& spec, vector_view<std::uint8_t> out) {
  using C = std::remove_const_t<Q>;
  static_assert(std::is_integral<C>::value && sizeof(C) <= 4, "ladle::pack_codes: integer codes");
  const char* fn = "pack_codes";
  detail::check_spec_pack_bits(spec, fn);
  detail::require_host(codes, fn, "codes");
  detail::require_host(out, fn, "out");
  detail::require_contiguous(codes, fn, "codes");
  detail::require_contiguous(out, fn, "out");
  const index_t n = codes.size();
  detail::require_extent(out.size(), packed_size(n, spec.bits), fn, "out", "size");
  const std::int64_t lo = spec.qmin(), hi = spec.qmax();
  const C* in = codes.data();
  for (index_t i = 0; i < n; ++i)  // checked before anything is written
    if (static_cast<std::int64_t>(in[i]) < lo || static_cast<std::int64_t>(in[i]) > hi)
      throw_invalid_argument(fn, "codes", "element ", i, " is ", static_cast<std::int64_t>(in[i]),
                             ", outside the spec's code range [", lo, ", ", hi, "]");
  std::int32_t stage[detail::spec_pack_chunk];
  for (index_t at = 0; at < n; at += detail::spec_pack_chunk) {
    const index_t len = std::min(detail::spec_pack_chunk, n - at);
    for (index_t i = 0; i < len; ++i) stage[i] = static_cast<std::int32_t>(in[at + i]);
    detail::with_bits(spec.bits, [&](auto b) {
      // The low b bits of the int32 value: two's complement for a signed spec, plain otherwise.
      detail::pack_span_unchecked<decltype(b)::value>(stage, len, out.data() + at / 8 * decltype(b)::value);
      return 0;
    });
  }
}

template <class Q>
tensor<std::uint8_t, 1> pack_codes(vector_view<Q> codes, const quant_spec& spec) {
  detail::check_spec_pack_bits(spec, "pack_codes");
  tensor<std::uint8_t, 1> out({packed_size(codes.size(), spec.bits)}, uninitialized);
  pack_codes_into(codes, spec, out.view());
  return out;
}

template <class Q>
void unpack_codes_into(vector_view<const std::uint8_t> packed, const quant_spec& spec, vector_view<Q> out) {
  static_assert(!std::is_const<Q>::value && std::is_integral<Q>::value && sizeof(Q) <= 4,
                "ladle::unpack_codes: out must be writable integer codes");
  const char* fn = "unpack_codes";
  detail::check_spec_pack_bits(spec, fn);
  detail::check_code_type<Q>(spec, fn, "out");
  detail::require_host(packed, fn, "packed");
  detail::require_host(out, fn, "out");
  detail::require_contiguous(packed, fn, "packed");
  detail::require_contiguous(out, fn, "out");
  const index_t n = out.size();
  if (packed.size() < packed_size(n, spec.bits))
    throw_invalid_argument(fn, "packed", "has ", packed.size(), " bytes but ",
                           packed_size(n, spec.bits), " are needed for ", n, " codes of ",
                           spec.bits, " bits");
  std::int32_t stage[detail::spec_pack_chunk];
  for (index_t at = 0; at < n; at += detail::spec_pack_chunk) {
    const index_t len = std::min(detail::spec_pack_chunk, n - at);
    detail::with_bits(spec.bits, [&](auto b) {
      constexpr int B = decltype(b)::value;
      const std::uint8_t* src = packed.data() + at / 8 * B;
      if (spec.is_signed) {
        detail::unpack_span<B>(src, len, stage);  // int32: sign-extends each field
      } else {
        auto* u = reinterpret_cast<std::uint32_t*>(stage);
        detail::unpack_span<B>(src, len, u);      // uint32: zero-extends
      }
      return 0;
    });
    for (index_t i = 0; i < len; ++i) out.data()[at + i] = static_cast<Q>(stage[i]);
  }
}

template <class Q>
tensor<Q, 1> unpack_codes(vector_view<const std::uint8_t> packed, const quant_spec& spec, index_t n) {
  tensor<Q, 1> out({n}, uninitialized);
  unpack_codes_into(packed, spec, out.view());
  return out;
}

}  // namespace ladle
