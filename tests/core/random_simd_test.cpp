#include <ladle/core/random.hpp>
#include <ladle/core/random_simd.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

namespace {
namespace LADLE_TEST_FILE {

using ladle::philox;
using ladle::seed;

// The reference is the scalar bijection (checked against Random123's known answers in
// random_test.cpp), one block at a time.
std::vector<std::uint32_t> scalar_blocks(const philox& g, std::uint64_t first, std::size_t count) {
  std::vector<std::uint32_t> out;
  for (std::size_t b = 0; b < count; ++b)
    for (std::uint32_t w : ladle::philox4x32::block(
             {static_cast<std::uint32_t>(first + b), static_cast<std::uint32_t>((first + b) >> 32),
              static_cast<std::uint32_t>(g.stream()), static_cast<std::uint32_t>(g.stream() >> 32)},
             g.key()))
      out.push_back(w);
  return out;
}

bool same_blocks(const philox& g, std::uint64_t first, std::size_t count) {
  std::vector<std::uint32_t> got(4 * count + 4, 0xdeadbeefu);
  ladle::detail::philox_blocks(g, first, count, got.data());
  if (got[4 * count] != 0xdeadbeefu) return false;  // nothing written past the end
  got.resize(4 * count);
  return got == scalar_blocks(g, first, count);
}

TEST_CASE("philox_blocks equals the scalar block for every lane, body and tail") {
  const std::uint64_t seeds[] = {0, 1, 42, 0xffffffffffffffffull, 0x243f6a8885a308d3ull};
  const std::uint64_t streams[] = {0, 7, 0xffffffff00000001ull, ladle::derive_stream(3, 9)};
  const std::uint64_t firsts[] = {0, 1, 5, 31, 1000003, (1ull << 40) + 17};
  for (auto s : seeds)
    for (auto st : streams)
      for (auto first : firsts)
        for (std::size_t count : {0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100}) {
          CAPTURE(s);
          CAPTURE(st);
          CAPTURE(first);
          CAPTURE(count);
          CHECK(same_blocks(philox(seed{s}, st), first, count));
        }
}

TEST_CASE("philox_blocks carries the counter across the 32-bit and 64-bit word boundaries") {
  const philox g(seed{0x9E3779B97F4A7C15ull}, 12345);
  // Every start from 40 below to 40 above 2^32 (and 2 * 2^32): each vector width meets the
  // wrap at each lane; the high word must step by one exactly where the low word wraps.
  for (std::uint64_t top : {1ull << 32, 2ull << 32, 0xffffffff00000000ull})
    for (std::uint64_t d = 0; d < 80; ++d) {
      CAPTURE(top);
      CAPTURE(d);
      CHECK(same_blocks(g, top - 40 + d, 49));
    }
  // The 64-bit counter wraps like the scalar generator's position.
  CHECK(same_blocks(g, ~0ull - 20, 40));
}

TEST_CASE("philox_words yields the generator's words, also through the integer draws") {
  for (std::uint64_t s : {0ull, 77ull}) {
    philox g(seed{s}, 5);
    ladle::detail::philox_words w(g);
    for (int i = 0; i < 1000; ++i) REQUIRE(w() == g());
    for (std::uint64_t bound : {1ull, 3ull, 1000ull, 3ull << 30, 0xffffffffull, (1ull << 40) + 3, ~0ull >> 1})
      for (int i = 0; i < 300; ++i) {
        CAPTURE(bound);
        REQUIRE(ladle::detail::uniform_u64_from(w, bound) == ladle::uniform_u64(g, bound));
      }
    // A generator that starts further along its stream.
    philox h(seed{s}, 6, (1ull << 32) - 3);
    ladle::detail::philox_words hw(h);
    for (int i = 0; i < 2000; ++i) REQUIRE(hw() == h());
  }
}

}  // namespace LADLE_TEST_FILE
}  // namespace
