// SHA-256 against Python's hashlib for every length 0..300 (both backends), FIPS vectors, and
// DSIR buckets against int(sha256(s).hexdigest(), 16) % B (the reference's formula).
#include "fixtures/sha256_fixtures.hpp"
#include "helpers.hpp"

#include <string>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

using st::hex;

std::vector<std::uint8_t> data(int n) {
  std::vector<std::uint8_t> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[std::size_t(i)] = static_cast<std::uint8_t>((7 * i + n) % 256);
  return v;
}

}  // namespace

TEST_CASE("sha256 equals hashlib at every length 0..300, on both backends") {
  MESSAGE("sha256 backend: " << std::string(ladle::sha256_backend()));
  for (int n = 0; n <= 300; ++n) {
    CAPTURE(n);
    const auto v = data(n);
    CHECK(hex(ladle::sha256(v.data(), v.size())) == shafx::digests[n]);
    CHECK(hex(ladle::detail::sha256_with(&ladle::detail::sha256_blocks_portable, v.data(),
                                         v.size())) == shafx::digests[n]);
  }
  // FIPS 180-2 examples
  CHECK(hex(ladle::sha256("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(ladle::sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  CHECK(hex(ladle::sha256(million)) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("dsir_bucket equals the reference's big-integer modulo") {
  CHECK(ladle::dsir_bucket("alice") == 6720u);
  CHECK(ladle::dsir_bucket("alice went") == 114u);
  for (const auto& c : shafx::buckets) {
    CAPTURE(c.text);
    CAPTURE(c.buckets);
    CHECK(ladle::dsir_bucket(c.text, c.buckets) == c.bucket);
  }
  CHECK_THROWS_WITH_AS(ladle::dsir_bucket("x", 0), doctest::Contains("'buckets' must be positive"),
                       ladle::invalid_argument);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
