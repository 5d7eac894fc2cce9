// A bounded memo of DSIR n-gram -> bucket, so frequent words and word pairs skip SHA-256.
//
// The bucket is a pure function of the n-gram's bytes (and the bucket count, fixed per memo), so
// a memo hit returns exactly what hashing would: features, weights and lengths are the same bits
// with or without it, for every thread count. Text is Zipfian, so a few thousand tokens cover
// most occurrences.
//
// - Tokens: keyed by their bytes (tokens of at most 24 bytes; longer ones are always hashed),
//   insert-only into 2^15 slots of 32 bytes until half of them are used (16 384 distinct
//   tokens, first come first kept). A slot never changes owner, so its index is a stable token id.
// - Bigrams: keyed by the pair of token ids, direct-mapped into 2^17 slots of 8 bytes (a newer
//   pair replaces an older one in its slot), so frequent pairs stay and rare ones rotate.
// - Memory: 1 MiB + 1 MiB per memo, allocated once; one memo per featurizer.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace ladle {
namespace detail {

struct dsir_memo {
  static constexpr int token_bits = 15, pair_bits = 17;
  static constexpr std::size_t token_slots = std::size_t(1) << token_bits;
  static constexpr std::size_t pair_slots = std::size_t(1) << pair_bits;
  static constexpr std::size_t max_tokens = token_slots / 2;  // keeps every probe sequence short
  static constexpr std::size_t max_len = 24;
  static constexpr std::uint32_t no_pair = 0xffffffffu;  // token ids < 2^15: pair keys < 2^30

  struct token_entry {  // len 0: empty (tokens are never empty)
    std::uint64_t w[3];
    std::uint32_t bucket, len;
  };
  struct pair_entry {
    std::uint32_t key, bucket;
  };
  static_assert(sizeof(token_entry) == 32 && sizeof(pair_entry) == 8, "memo entry sizes");

  std::vector<token_entry> tokens;
  std::vector<pair_entry> pairs;
  std::size_t used = 0;

  dsir_memo() : tokens(token_slots, token_entry{{0, 0, 0}, 0, 0}), pairs(pair_slots, pair_entry{no_pair, 0}) {}

  /// The key words of token p[0, len <= max_len): its bytes, zero-padded, so equal keys mean
  /// equal tokens. p[0, max_len) must be readable (the caller pads its text).
  static void key_of(const char* p, std::size_t len, std::uint64_t* w) noexcept {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    std::memcpy(w, p, max_len);  // fixed size: three loads, no call
    for (std::size_t k = 0; k < 3; ++k) {
      const std::size_t keep = len > 8 * k ? std::min<std::size_t>(len - 8 * k, 8) : 0;
      w[k] &= keep == 8 ? ~std::uint64_t(0) : (std::uint64_t(1) << (8 * keep)) - 1;
    }
#else
    w[0] = w[1] = w[2] = 0;
    std::memcpy(w, p, len);
#endif
  }

  /// Where token p[0, len <= max_len) starts probing (the caller may prefetch that slot).
  static std::size_t home(const char* p, std::size_t len) noexcept {
    std::uint64_t w[3];
    key_of(p, len, w);
    const std::uint64_t h =
        (w[0] ^ (w[1] * 0x9E3779B97F4A7C15ull) ^ (w[2] * 0xC2B2AE3D27D4EB4Full) ^ len) *
        0xFF51AFD7ED558CCDull;
    return static_cast<std::size_t>(h >> (64 - token_bits));
  }

  /// The id of token p[0, len <= max_len), probing from i = home(p, len): found, or newly
  /// added (added = true: its bucket is still to be stored); -1 when the memo is full.
  /// p[0, max_len) must be readable.
  long find_or_add(std::size_t i, const char* p, std::size_t len, bool& added) noexcept {
    added = false;
    std::uint64_t w[3];
    key_of(p, len, w);
    while (true) {
      token_entry& e = tokens[i];
      if (e.len == 0) {
        if (used >= max_tokens) return -1;
        ++used;
        e.w[0] = w[0];
        e.w[1] = w[1];
        e.w[2] = w[2];
        e.len = static_cast<std::uint32_t>(len);
        added = true;
        return static_cast<long>(i);
      }
      if (e.len == len && e.w[0] == w[0] && e.w[1] == w[1] && e.w[2] == w[2])
        return static_cast<long>(i);
      i = (i + 1) & (token_slots - 1);
    }
  }

  /// A read hint (no effect on results; in every build, SIMD or not).
  static void prefetch(const void* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p, 0, 3);
#else
    (void)p;
#endif
  }

  static std::uint32_t pair_key(long a, long b) noexcept {
    return static_cast<std::uint32_t>((std::uint32_t(a) << token_bits) | std::uint32_t(b));
  }
  static std::size_t pair_slot(std::uint32_t key) noexcept {
    return static_cast<std::size_t>(std::uint32_t(key * 0x9E3779B1u) >> (32 - pair_bits));
  }
};

}  // namespace detail
}  // namespace ladle
