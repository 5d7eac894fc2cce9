// The memory shims (narrowing / nibble stores, widening loads, streaming stores, prefetch) equal
// their scalar definitions for every lane type, at the edges of each type's range.
#include <ladle/core/simd_memory.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

#if LADLE_HAS_SIMD
namespace {

using ib = ladle::simd::batch<std::int32_t>;
constexpr std::size_t lanes = ib::size;

// Values spanning Q's whole range, edges first, then a walk through the middle.
template <class Q>
std::vector<std::int32_t> values_of() {
  const std::int32_t lo = std::numeric_limits<Q>::min(), hi = std::numeric_limits<Q>::max();
  std::vector<std::int32_t> v = {lo, hi, 0, lo + 1, hi - 1, 1};
  if (lo < 0) v.push_back(-1);
  for (std::int64_t x = lo; x <= hi && v.size() < 4 * lanes + 3; x += (std::int64_t(hi) - lo) / 29 + 1)
    v.push_back(static_cast<std::int32_t>(x));
  while (v.size() % lanes != 0) v.push_back(hi);
  return v;
}

template <class Q>
void check_narrow_widen() {
  const std::vector<std::int32_t> v = values_of<Q>();
  std::vector<Q> got(v.size() + 1, Q(0x5A));
  for (std::size_t i = 0; i < v.size(); i += lanes)
    ladle::simd::store_narrow(ib::load_unaligned(v.data() + i), got.data() + i);
  for (std::size_t i = 0; i < v.size(); ++i) REQUIRE(got[i] == static_cast<Q>(v[i]));
  CHECK(got.back() == Q(0x5A));  // nothing written past the batch
  for (std::size_t i = 0; i < v.size(); i += lanes) {
    const ib w = ladle::simd::load_widen<Q>(got.data() + i);
    for (std::size_t k = 0; k < lanes; ++k) REQUIRE(w.get(k) == v[i + k]);
  }
}

}  // namespace

TEST_CASE("simd memory: store_narrow and load_widen round trip every code type") {
  check_narrow_widen<std::int8_t>();
  check_narrow_widen<std::uint8_t>();
  check_narrow_widen<std::int16_t>();
  check_narrow_widen<std::uint16_t>();
  check_narrow_widen<std::int32_t>();
}

TEST_CASE("simd memory: store_nibbles packs low nibble first, two's complement kept") {
  std::vector<std::int32_t> v;
  for (int i = 0; i < int(4 * lanes); ++i) v.push_back((i * 7) % 16 - 8);  // -8 .. 7
  for (int i = 0; i < int(lanes); ++i) v.push_back(i % 16);              // 0 .. 15
  std::vector<std::uint8_t> got(v.size() / 2 + 1, 0xA5);
  for (std::size_t i = 0; i < v.size(); i += lanes)
    ladle::simd::store_nibbles(ib::load_unaligned(v.data() + i), got.data() + i / 2);
  for (std::size_t k = 0; k < v.size() / 2; ++k)
    REQUIRE(got[k] == static_cast<std::uint8_t>((v[2 * k] & 15) | ((v[2 * k + 1] & 15) << 4)));
  CHECK(got.back() == 0xA5);
}

TEST_CASE("simd memory: load_nibbles inverts store_nibbles; lookup16 indexes a 16-entry table") {
  std::vector<std::uint8_t> bytes(4 * lanes);
  for (std::size_t k = 0; k < bytes.size(); ++k) bytes[k] = static_cast<std::uint8_t>(k * 37 + 11);
  float table[16];
  for (int k = 0; k < 16; ++k) table[k] = 0.25f * float(k * k) - 3.0f;
  for (std::size_t at = 0; at + lanes / 2 <= bytes.size(); at += lanes / 2) {
    const ib lo_first = ladle::simd::load_nibbles(bytes.data() + at);
    const ib hi_first = ladle::simd::load_nibbles<true>(bytes.data() + at);
    for (std::size_t k = 0; k < lanes / 2; ++k) {
      const int lo = bytes[at + k] & 15, hi = bytes[at + k] >> 4;
      REQUIRE(lo_first.get(2 * k) == lo);
      REQUIRE(lo_first.get(2 * k + 1) == hi);
      REQUIRE(hi_first.get(2 * k) == hi);
      REQUIRE(hi_first.get(2 * k + 1) == lo);
    }
    std::uint8_t back[lanes / 2];
    ladle::simd::store_nibbles(lo_first, back);
    for (std::size_t k = 0; k < lanes / 2; ++k) REQUIRE(back[k] == bytes[at + k]);
    ladle::simd::store_nibbles<true>(hi_first, back);
    for (std::size_t k = 0; k < lanes / 2; ++k) REQUIRE(back[k] == bytes[at + k]);
    const auto v = ladle::simd::lookup16(table, lo_first);
    for (std::size_t k = 0; k < lanes; ++k) REQUIRE(v.get(k) == table[lo_first.get(k)]);
  }
}

TEST_CASE("simd memory: streaming stores land after the fence; prefetch past the end is harmless") {
  using fb = ladle::simd::batch<float>;
  alignas(64) float out[4 * fb::size] = {};
  for (std::size_t i = 0; i < 4 * fb::size; i += fb::size) ladle::simd::stream(out + i, fb(float(i) + 0.5f));
  ladle::simd::stream_fence();
  for (std::size_t i = 0; i < 4 * fb::size; ++i) REQUIRE(out[i] == float(i - i % fb::size) + 0.5f);
  ladle::simd::prefetch(out + 4 * fb::size);  // 4 KiB past the array: a hint, never a fault
  ladle::simd::prefetch(nullptr, 0);
}
#else
TEST_CASE("SIMD memory shims (skipped: this build has no SIMD architecture)" * doctest::skip()) {}
#endif

}  // namespace LADLE_TEST_FILE
}  // namespace
