// Sub-byte packing: documented layout, round trips for every width, range errors.
#include <ladle/core/random.hpp>
#include <ladle/quantization/packing.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

TEST_CASE("packing: documented bit layout") {
  // 4-bit: code 2j in the low nibble of byte j.
  const std::vector<std::uint8_t> c4 = {0x1, 0x2, 0xf, 0x0, 0x7};
  const auto p4 = ladle::pack_codes(ladle::make_view(c4.data(), c4.size()), 4);
  REQUIRE(p4.size() == 3);
  CHECK(p4[0] == 0x21);
  CHECK(p4[1] == 0x0f);
  CHECK(p4[2] == 0x07);
  // 2-bit: four codes per byte from bit 0 up.
  const std::vector<std::uint8_t> c2 = {3, 0, 1, 2, 1};
  const auto p2 = ladle::pack_codes(ladle::make_view(c2.data(), c2.size()), 2);
  REQUIRE(p2.size() == 2);
  CHECK(p2[0] == (3 | (0 << 2) | (1 << 4) | (2 << 6)));
  CHECK(p2[1] == 1);
  // 3-bit: eight codes in three bytes, little-endian stream.
  const std::vector<std::uint8_t> c3 = {1, 2, 3, 4, 5, 6, 7, 0};
  const auto p3 = ladle::pack_codes(ladle::make_view(c3.data(), c3.size()), 3);
  std::uint32_t stream = 0;
  for (int k = 0; k < 8; ++k) stream |= std::uint32_t(c3[static_cast<std::size_t>(k)]) << (3 * k);
  REQUIRE(p3.size() == 3);
  for (int j = 0; j < 3; ++j) CHECK(p3[j] == static_cast<std::uint8_t>(stream >> (8 * j)));
  // 6-bit: four codes in three bytes.
  const std::vector<std::uint8_t> c6 = {63, 1, 32, 5};
  const auto p6 = ladle::pack_codes(ladle::make_view(c6.data(), c6.size()), 6);
  const std::uint32_t s6 = 63u | (1u << 6) | (32u << 12) | (5u << 18);
  for (int j = 0; j < 3; ++j) CHECK(p6[j] == static_cast<std::uint8_t>(s6 >> (8 * j)));
  // Signed codes store two's complement fields and sign-extend on the way back.
  const std::vector<std::int8_t> s4 = {-8, 7, -1, 0};
  const auto ps = ladle::pack_codes(ladle::make_view(s4.data(), s4.size()), 4);
  CHECK(ps[0] == 0x78);
  CHECK(ps[1] == 0x0f);
  const auto back = ladle::unpack_codes<std::int8_t>(ps.cview(), 4, 4);
  for (int i = 0; i < 4; ++i) CHECK(back[i] == s4[static_cast<std::size_t>(i)]);
}

TEST_CASE("packing: round trip for every width, signed and unsigned, any length") {
  ladle::philox g(ladle::seed{3});
  for (int bits = 2; bits <= 8; ++bits) {
    for (ladle::index_t n : {1, 7, 8, 9, 63, 64, 65, 1000}) {
      std::vector<std::uint8_t> u(static_cast<std::size_t>(n));
      std::vector<std::int16_t> s(static_cast<std::size_t>(n));
      for (ladle::index_t i = 0; i < n; ++i) {
        u[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ladle::uniform_u32(g, 1u << bits));
        s[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(
            static_cast<std::int32_t>(ladle::uniform_u32(g, 1u << bits)) - (1 << (bits - 1)));
      }
      const auto pu = ladle::pack_codes(ladle::make_view(u.data(), u.size()), bits);
      const auto ps = ladle::pack_codes(ladle::make_view(s.data(), s.size()), bits);
      REQUIRE(pu.size() == (n * bits + 7) / 8);
      const auto bu = ladle::unpack_codes<std::uint8_t>(pu.cview(), bits, n);
      const auto bs = ladle::unpack_codes<std::int16_t>(ps.cview(), bits, n);
      for (ladle::index_t i = 0; i < n; ++i) {
        REQUIRE(bu[i] == u[static_cast<std::size_t>(i)]);
        REQUIRE(bs[i] == s[static_cast<std::size_t>(i)]);
      }
      // Unused high bits of the last byte are zero.
      if ((n * bits) % 8 != 0) CHECK((pu[pu.size() - 1] >> ((n * bits) % 8)) == 0);
    }
  }
}

TEST_CASE("packing: out-of-range codes and bad sizes raise ladle::invalid_argument") {
  const std::vector<std::uint8_t> big = {16};
  CHECK_THROWS_AS(ladle::pack_codes(ladle::make_view(big.data(), 1), 4), ladle::invalid_argument);
  const std::vector<std::int8_t> neg = {-9};
  CHECK_THROWS_AS(ladle::pack_codes(ladle::make_view(neg.data(), 1), 4), ladle::invalid_argument);
  const std::vector<std::uint8_t> ok = {1, 2, 3};
  CHECK_THROWS_AS(ladle::pack_codes(ladle::make_view(ok.data(), 3), 1), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::pack_codes(ladle::make_view(ok.data(), 3), 9), ladle::invalid_argument);
  std::vector<std::uint8_t> out(1);
  CHECK_THROWS_AS(ladle::pack_codes_into(ladle::make_view(ok.data(), 3), 4, ladle::make_view(out.data(), 1)),
                  ladle::invalid_argument);
  std::vector<std::uint8_t> codes(10);
  CHECK_THROWS_AS(ladle::unpack_codes_into(ladle::vector_view<const std::uint8_t>(out.data(), {1}), 4,
                                           ladle::make_view(codes.data(), codes.size())),
                  ladle::invalid_argument);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
