// Packing driven by the quantizer's spec (width, range and signedness from quant_spec, not from
// the C++ code type), and the explicitly named spec factories.
#include <ladle/core/random.hpp>
#include <ladle/quantization/packing.hpp>
#include <ladle/quantization/spec.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

// Independent reference: the documented little-endian bit stream, one bit at a time.
std::vector<std::uint8_t> stream_pack(const std::vector<std::int64_t>& codes, int bits) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>((codes.size() * std::size_t(bits) + 7) / 8), 0);
  std::size_t k = 0;
  for (std::int64_t c : codes)
    for (int b = 0; b < bits; ++b, ++k)
      if ((static_cast<std::uint64_t>(c) >> b) & 1u) out[k / 8] |= std::uint8_t(1u << (k % 8));
  return out;
}

std::vector<std::int64_t> random_codes(std::size_t n, std::int64_t lo, std::int64_t hi, std::uint64_t seed) {
  ladle::philox g(ladle::seed{seed});
  std::vector<std::int64_t> c(n);
  for (auto& v : c) v = lo + static_cast<std::int64_t>(ladle::uniform_u64(g, static_cast<std::uint64_t>(hi - lo + 1)));
  return c;
}

template <class Q>
void round_trip(const ladle::quant_spec& spec, std::size_t n) {
  CAPTURE(spec.bits);
  CAPTURE(spec.is_signed);
  CAPTURE(n);
  const auto want = random_codes(n, spec.qmin(), spec.qmax(), 100 + n + std::size_t(spec.bits));
  std::vector<Q> codes(want.begin(), want.end());
  const auto packed = ladle::pack_codes(ladle::make_view(codes.data(), codes.size()), spec);
  const auto ref = stream_pack(want, spec.bits);
  REQUIRE(packed.size() == static_cast<ladle::index_t>(ref.size()));
  ladle::index_t diff = 0;
  for (std::size_t j = 0; j < ref.size(); ++j) diff += packed[ladle::index_t(j)] != ref[j];
  CHECK(diff == 0);
  const auto back = ladle::unpack_codes<Q>(packed.cview(), spec, static_cast<ladle::index_t>(n));
  diff = 0;
  for (std::size_t i = 0; i < n; ++i) diff += static_cast<std::int64_t>(back[ladle::index_t(i)]) != want[i];
  CHECK(diff == 0);
}

}  // namespace

TEST_CASE("pack_codes(spec): range and signedness come from the spec, not the code type") {
  // int8 codes of an unsigned 4-bit spec: 0..15. The type-driven form reads 8..15 as out of
  // range for a signed type; the spec form packs them as the unsigned fields the spec means.
  const std::vector<std::int8_t> c = {0, 15, 8, 9, 1};
  const auto spec = ladle::quant_spec::affine_unsigned(4);
  CHECK_THROWS_AS(ladle::pack_codes(ladle::make_view(c.data(), c.size()), 4), ladle::invalid_argument);
  const auto p = ladle::pack_codes(ladle::make_view(c.data(), c.size()), spec);
  REQUIRE(p.size() == 3);
  CHECK(p[0] == 0xf0);
  CHECK(p[1] == 0x98);
  CHECK(p[2] == 0x01);
  // And back into int16 without sign extension.
  const auto u = ladle::unpack_codes<std::int16_t>(p.cview(), spec, 5);
  for (ladle::index_t i = 0; i < 5; ++i) CHECK(u[i] == c[std::size_t(i)]);
  // uint32 holding signed 3-bit codes' values in range ([0, 3]) and int32 with negatives: the
  // signed spec stores two's complement fields and sign-extends on the way back.
  const auto s3 = ladle::quant_spec::symmetric_signed(3);
  const std::vector<std::int32_t> neg = {-4, 3, -1, 0, 2, -2, 1, -3, -4};
  const auto ps = ladle::pack_codes(ladle::make_view(neg.data(), neg.size()), s3);
  const auto ref = stream_pack(std::vector<std::int64_t>(neg.begin(), neg.end()), 3);
  for (std::size_t j = 0; j < ref.size(); ++j) CHECK(ps[ladle::index_t(j)] == ref[j]);
  const auto back = ladle::unpack_codes<std::int8_t>(ps.cview(), s3, ladle::index_t(neg.size()));
  for (std::size_t i = 0; i < neg.size(); ++i) CHECK(back[ladle::index_t(i)] == neg[i]);
}

TEST_CASE("pack_codes(spec): every width, both signs, chunk boundaries, several code types") {
  for (int bits = 2; bits <= 8; ++bits)
    for (bool is_signed : {false, true}) {
      const auto spec = is_signed ? ladle::quant_spec::symmetric_signed(bits)
                                  : ladle::quant_spec::affine_unsigned(bits);
      for (std::size_t n : {std::size_t(1), std::size_t(7), std::size_t(67), std::size_t(1005),
                            std::size_t(4096 + 13), std::size_t(3 * 4096)}) {
        round_trip<std::int16_t>(spec, n);
        round_trip<std::int32_t>(spec, n);
        if (is_signed) round_trip<std::int8_t>(spec, n);
        else round_trip<std::uint8_t>(spec, n);
      }
    }
  // narrow_range: qmin is -127 for signed 8 bits; -128 is refused.
  const auto narrow = ladle::quant_spec::symmetric_signed(8).with_narrow_range();
  round_trip<std::int8_t>(narrow, 300);
  const std::vector<std::int8_t> bad = {0, -128};
  CHECK_THROWS_AS(ladle::pack_codes(ladle::make_view(bad.data(), bad.size()), narrow),
                  ladle::invalid_argument);
}

TEST_CASE("pack_codes(spec) / unpack_codes(spec): errors name the argument, nothing written") {
  const auto spec = ladle::quant_spec::affine_unsigned(4);
  const std::vector<std::int16_t> codes = {1, 2, 16, 3};
  std::vector<std::uint8_t> out(2, 0xab);
  try {
    ladle::pack_codes_into(ladle::make_view(codes.data(), codes.size()), spec,
                           ladle::make_view(out.data(), out.size()));
    FAIL("no error");
  } catch (const ladle::invalid_argument& e) {
    const std::string m = e.what();
    CHECK(m.find("pack_codes") != std::string::npos);
    CHECK(m.find("codes") != std::string::npos);
    CHECK(m.find("element 2") != std::string::npos);
    CHECK(m.find("16") != std::string::npos);
  }
  CHECK(out[0] == 0xab);
  CHECK(out[1] == 0xab);
  CHECK(codes[2] == 16);
  // A 16-bit spec does not pack.
  CHECK_THROWS_AS(ladle::pack_codes(ladle::make_view(codes.data(), codes.size()),
                                    ladle::quant_spec::affine_unsigned(16)),
                  ladle::invalid_argument);
  // Unpacking an unsigned 8-bit spec into int8 cannot hold 255.
  const std::vector<std::uint8_t> packed = {0xff};
  try {
    ladle::unpack_codes<std::int8_t>(ladle::make_view(packed.data(), packed.size()),
                                     ladle::quant_spec::affine_unsigned(8), 1);
    FAIL("no error");
  } catch (const ladle::invalid_argument& e) {
    CHECK(std::string(e.what()).find("unpack_codes") != std::string::npos);
  }
  // Too few bytes.
  CHECK_THROWS_AS(ladle::unpack_codes<std::int16_t>(ladle::make_view(packed.data(), packed.size()), spec, 3),
                  ladle::invalid_argument);
}

TEST_CASE("quant_spec: explicitly named factories and the documented defaults") {
  using S = ladle::quant_spec;
  CHECK_FALSE(S::affine().is_signed);  // affine() defaults to unsigned codes
  CHECK(S::symmetric().is_signed);     // symmetric() to signed ones
  CHECK(S::affine_unsigned(4).qmin() == 0);
  CHECK(S::affine_unsigned(4).qmax() == 15);
  CHECK(S::affine_signed(4).qmin() == -8);
  CHECK(S::affine_signed(4).qmax() == 7);
  CHECK(S::affine_signed(4).scheme == ladle::quant_scheme::affine);
  CHECK(S::symmetric_signed(4).qmin() == -8);
  CHECK(S::symmetric_signed(4).scheme == ladle::quant_scheme::symmetric);
  CHECK(S::symmetric_unsigned(4).qmin() == 0);
  CHECK(S::symmetric_unsigned(4).qmax() == 15);
  CHECK(S::symmetric_unsigned(4).scheme == ladle::quant_scheme::symmetric);
  const auto g = S::symmetric_signed(4, ladle::quant_convention::gptq);
  CHECK(g.convention == ladle::quant_convention::gptq);
  CHECK(g.division == ladle::scale_division::divide);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
