// Stochastic rounding: the documented stream layout, pinned, and independence of neighbours.
// Layout: element e (flat index) rounds floor(t + u_e) with u_e = (w >> 8) * 2^-24, w = word
// (e mod 4) of Philox block e / 4 of stream "qunt_rnd" (0x71756e745f726e64) of the seed.
#include <ladle/core/random.hpp>
#include <ladle/quantization/quantize.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

using ladle::index_t;

ladle::quant_params unit_params() {
  ladle::quant_params p;
  p.spec = ladle::quant_spec::affine(8, /*is_signed=*/true).stochastic();
  p.scale = {1.0f};  // t = x exactly
  p.zero_point = {0};
  return p;
}

// The draw of element e under the documented layout.
double draw(std::uint64_t seed, std::uint64_t e) {
  const ladle::philox g(ladle::seed{seed}, 0x71756e745f726e64ull);
  const auto words = g.block_at(e >> 2);
  return double(words[e & 3u] >> 8) * (1.0 / 16777216.0);
}

}  // namespace

TEST_CASE("stochastic rounding follows the documented Philox stream layout") {
  const index_t n = 1003;  // not a multiple of 4: a partial last block
  std::vector<float> x(static_cast<std::size_t>(n));
  ladle::philox gx(ladle::seed{5});
  for (auto& v : x) v = static_cast<float>(std::round(ladle::uniform_double(gx) * 2000.0 - 1000.0) / 16.0);
  const auto xv = ladle::make_view(static_cast<const float*>(x.data()), n);
  const auto p = unit_params();
  for (std::uint64_t seed : {0ull, 77ull}) {
    int bad = 0;
    const auto q = ladle::quantize<std::int32_t>(xv, p, ladle::seed{seed});
    const auto qp = ladle::quantize<std::int32_t>(ladle::par(3), xv, p, ladle::seed{seed});
    const auto f = ladle::fake_quantize(xv, p, ladle::seed{seed});
    for (index_t i = 0; i < n; ++i) {
      const double t = x[std::size_t(i)];
      const double want = std::min(std::max(std::floor(t + draw(seed, std::uint64_t(i))), -128.0), 127.0);
      bad += q[i] != int(want);
      bad += qp[i] != int(want);
      bad += f[i] != float(want);
    }
    CHECK(bad == 0);
  }
}

TEST_CASE("stochastic rounding: neighbouring elements use independent draws") {
  // t = 0.5 everywhere rounds up iff u >= 1/2. If a draw were shared by a run of elements, runs
  // of four equal codes (probability 1/8 when independent) would be the rule.
  const index_t n = 4096;
  std::vector<float> x(static_cast<std::size_t>(n), 0.5f);
  const auto q = ladle::quantize<std::int32_t>(ladle::make_view(static_cast<const float*>(x.data()), n),
                                               unit_params(), ladle::seed{3});
  int ups = 0, same4 = 0, same_adjacent = 0;
  for (index_t i = 0; i < n; ++i) {
    REQUIRE((q[i] == 0 || q[i] == 1));
    ups += q[i];
    if (i > 0) same_adjacent += q[i] == q[i - 1];
  }
  for (index_t g = 0; g + 4 <= n; g += 4) same4 += q[g] == q[g + 1] && q[g] == q[g + 2] && q[g] == q[g + 3];
  CHECK(std::abs(ups - n / 2) < 200);                // 1/2 with sd 32
  CHECK(std::abs(same_adjacent - n / 2) < 200);      // adjacent pairs agree half the time
  CHECK(std::abs(same4 - (n / 4) / 8) < 60);         // 128 of 1024 groups, sd 10.6
}

}  // namespace LADLE_TEST_FILE
}  // namespace
