// ladle/core/random.hpp: counter-based random numbers (Philox-4x32-10) and portable draws.
//
// Every random decision in ladle is a pure function of (seed, stream, position):
//   * the seed (64 bits) is Philox's key;
//   * the stream (64 bits) names an independent sequence, e.g. derive_stream(class_id, row);
//   * the position counts 128-bit blocks inside the stream.
// A result therefore never depends on thread count or on the order work items run in.
//
// Draws never use std::*_distribution (their output differs between standard libraries).
// Integer and uniform draws are bit-identical on every platform; normal, exponential and Gumbel
// draws apply std::log/std::sqrt/std::cos to those uniforms, so they are identical across
// thread counts and runs of one build, and may differ in the last ulp across math libraries.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/error.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>

namespace ladle {

/// A seed, spelled out at call sites: `ladle::smote(X, y, opts, ladle::seed{42})`.
struct seed {
  std::uint64_t value = 0;
  constexpr seed() = default;
  constexpr explicit seed(std::uint64_t v) noexcept : value(v) {}
};

/// Philox-4x32-10 (Salmon et al., SC'11): one 128-bit counter + 64-bit key -> 128 random bits.
struct philox4x32 {
  using counter_type = std::array<std::uint32_t, 4>;
  using key_type = std::array<std::uint32_t, 2>;

  /// The bijection itself: ten rounds over `counter` keyed by `key`.
  LADLE_HOST_DEVICE static constexpr counter_type block(counter_type ctr, key_type key) noexcept {
    for (int round = 0; round < 10; ++round) {
      const std::uint64_t p0 = std::uint64_t(0xD2511F53u) * ctr[0];
      const std::uint64_t p1 = std::uint64_t(0xCD9E8D57u) * ctr[2];
      ctr = {static_cast<std::uint32_t>(p1 >> 32) ^ ctr[1] ^ key[0], static_cast<std::uint32_t>(p1),
             static_cast<std::uint32_t>(p0 >> 32) ^ ctr[3] ^ key[1], static_cast<std::uint32_t>(p0)};
      key[0] += 0x9E3779B9u;
      key[1] += 0xBB67AE85u;
    }
    return ctr;
  }
};

/// Mixes two 64-bit values into one stream id (splitmix64 finaliser). Use it to key streams by
/// tuples such as (class, sample): distinct tuples collide with probability ~2^-64.
LADLE_HOST_DEVICE constexpr std::uint64_t derive_stream(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// A sequential generator over one Philox stream: 32 random bits per call, four per block.
/// Satisfies UniformRandomBitGenerator. Copying it forks the sequence (both copies continue
/// identically), so pass it by reference.
class philox {
 public:
  using result_type = std::uint32_t;
  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return 0xffffffffu; }

  /// Stream `stream` of seed `s`, starting at block `position`.
  constexpr explicit philox(seed s, std::uint64_t stream = 0, std::uint64_t position = 0) noexcept
      : key_{static_cast<std::uint32_t>(s.value), static_cast<std::uint32_t>(s.value >> 32)},
        stream_(stream), position_(position) {}

  /// The next 32 random bits.
  constexpr result_type operator()() noexcept {
    if (used_ == 4) refill();
    return buffer_[used_++];
  }

  /// The next 64 random bits.
  constexpr std::uint64_t next_u64() noexcept {
    const std::uint64_t lo = (*this)();
    return lo | (std::uint64_t((*this)()) << 32);
  }

  /// The 128-bit block at `position` of this stream, without moving the generator.
  constexpr philox4x32::counter_type block_at(std::uint64_t position) const noexcept {
    return philox4x32::block(counter(position), key_);
  }

  /// An independent generator for sub-stream `id` of this generator's stream.
  constexpr philox fork(std::uint64_t id) const noexcept {
    return philox(seed(std::uint64_t(key_[0]) | (std::uint64_t(key_[1]) << 32)),
                  derive_stream(stream_, id));
  }

  /// Skips `blocks` blocks (4 draws each) in O(1); a partly used block is discarded.
  constexpr void discard_blocks(std::uint64_t blocks) noexcept {
    position_ += blocks;
    used_ = 4;
  }

  constexpr std::uint64_t stream() const noexcept { return stream_; }
  constexpr philox4x32::key_type key() const noexcept { return key_; }
  constexpr std::uint64_t position() const noexcept { return position_; }

 private:
  constexpr philox4x32::counter_type counter(std::uint64_t position) const noexcept {
    return {static_cast<std::uint32_t>(position), static_cast<std::uint32_t>(position >> 32),
            static_cast<std::uint32_t>(stream_), static_cast<std::uint32_t>(stream_ >> 32)};
  }
  constexpr void refill() noexcept {
    buffer_ = philox4x32::block(counter(position_), key_);
    ++position_;
    used_ = 0;
  }

  philox4x32::key_type key_;
  std::uint64_t stream_;
  std::uint64_t position_;
  philox4x32::counter_type buffer_{};
  int used_ = 4;
};

// ---- portable draws ------------------------------------------------------------------------
// Each takes the generator by reference and consumes a documented number of 32-bit words.

/// Float in [0, 1) with 24 random bits (one word).
LADLE_HOST_DEVICE constexpr float u32_to_unit_float(std::uint32_t u) noexcept {
  return static_cast<float>(u >> 8) * (1.0f / 16777216.0f);
}
/// Double in [0, 1) with 53 random bits.
LADLE_HOST_DEVICE constexpr double u64_to_unit_double(std::uint64_t u) noexcept {
  return static_cast<double>(u >> 11) * (1.0 / 9007199254740992.0);
}

/// Uniform float in [0, 1) (one word).
constexpr float uniform_float(philox& g) noexcept { return u32_to_unit_float(g()); }

/// Uniform double in [0, 1) (two words).
constexpr double uniform_double(philox& g) noexcept { return u64_to_unit_double(g.next_u64()); }

/// Uniform double in the open interval (0, 1): never 0, so log() is finite (two words).
constexpr double uniform_double_open(philox& g) noexcept {
  return (static_cast<double>(g.next_u64() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

namespace detail {

// The integer draws over any source of 32-bit words with philox's next_u64 (philox itself, or
// detail::philox_words, which yields the same words faster).
template <class G>
std::uint32_t uniform_u32_from(G& g, std::uint32_t bound) noexcept {
  std::uint64_t m = std::uint64_t(g()) * bound;
  auto low = static_cast<std::uint32_t>(m);
  if (low < bound) {
    const std::uint32_t threshold = static_cast<std::uint32_t>(-bound) % bound;
    while (low < threshold) {
      m = std::uint64_t(g()) * bound;
      low = static_cast<std::uint32_t>(m);
    }
  }
  return static_cast<std::uint32_t>(m >> 32);
}

template <class G>
std::uint64_t uniform_u64_from(G& g, std::uint64_t bound) noexcept {
  if (bound <= 0xffffffffull) return uniform_u32_from(g, static_cast<std::uint32_t>(bound));
  // Smallest all-ones mask covering bound - 1, then reject: at most 2 draws expected.
  std::uint64_t mask = bound - 1;
  mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4;
  mask |= mask >> 8; mask |= mask >> 16; mask |= mask >> 32;
  for (;;) {
    const std::uint64_t x = g.next_u64() & mask;
    if (x < bound) return x;
  }
}

}  // namespace detail

/// Unbiased integer in [0, bound) by Lemire's multiply-and-reject (usually one word).
/// bound must be > 0.
inline std::uint32_t uniform_u32(philox& g, std::uint32_t bound) noexcept {
  return detail::uniform_u32_from(g, bound);
}

/// Unbiased integer in [0, bound) for 64-bit bounds (rejection on 64-bit words).
inline std::uint64_t uniform_u64(philox& g, std::uint64_t bound) noexcept {
  return detail::uniform_u64_from(g, bound);
}

/// Unbiased index in [0, n); throws ladle::invalid_argument when n <= 0.
inline index_t uniform_index(philox& g, index_t n) {
  if (n <= 0) throw_invalid_argument("uniform_index", "n", "must be positive, got ", n);
  return static_cast<index_t>(uniform_u64(g, static_cast<std::uint64_t>(n)));
}

/// Standard normal by Box-Muller (uses four words; the second variate is discarded so each
/// draw consumes a fixed amount of the stream).
inline double normal(philox& g) noexcept {
  const double u1 = uniform_double_open(g);
  const double u2 = uniform_double(g);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586476925 * u2);
}

/// Exponential with rate 1 (two words).
inline double exponential(philox& g) noexcept { return -std::log(uniform_double_open(g)); }

/// Standard Gumbel, -log(-log(U)) (two words).
inline double gumbel(philox& g) noexcept { return -std::log(-std::log(uniform_double_open(g))); }

/// Fisher-Yates shuffle of [first, last) driven by g (portable, unlike std::shuffle).
template <class RandomIt>
void shuffle(RandomIt first, RandomIt last, philox& g) {
  const auto n = static_cast<index_t>(last - first);
  for (index_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<index_t>(uniform_u64(g, static_cast<std::uint64_t>(i) + 1));
    using std::swap;
    swap(first[i], first[j]);
  }
}

}  // namespace ladle
