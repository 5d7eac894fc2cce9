#include <ladle/core/parallel.hpp>
#include <ladle/core/random.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::philox4x32;

// Known-answer vectors published with Random123 (kat_vectors): counter, key -> output.
TEST_CASE("philox4x32-10 matches the Random123 known-answer vectors") {
  CHECK(philox4x32::block({0, 0, 0, 0}, {0, 0}) ==
        philox4x32::counter_type{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  CHECK(philox4x32::block({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                          {0xffffffffu, 0xffffffffu}) ==
        philox4x32::counter_type{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  CHECK(philox4x32::block({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                          {0xa4093822u, 0x299f31d0u}) ==
        philox4x32::counter_type{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
  static_assert(philox4x32::block({0, 0, 0, 0}, {0, 0})[0] == 0x6627e8d5u,
                "philox is usable at compile time");
}

TEST_CASE("philox generator: counter layout, streams, forks, discards") {
  const ladle::seed s{0x299f31d0a4093822ull};
  ladle::philox g(s, /*stream=*/0x0370734413198a2eull, /*position=*/0x85a308d3243f6a88ull);
  // The generator's first block is the third known-answer vector.
  CHECK(g() == 0xd16cfe09u);
  CHECK(g() == 0x94fdccebu);
  CHECK(g() == 0x5001e420u);
  CHECK(g() == 0x24126ea1u);

  ladle::philox a(ladle::seed{7}, 1), b(ladle::seed{7}, 1), c(ladle::seed{7}, 2),
      d(ladle::seed{8}, 1);
  std::vector<std::uint32_t> va, vb, vc, vd;
  for (int i = 0; i < 64; ++i) {
    va.push_back(a());
    vb.push_back(b());
    vc.push_back(c());
    vd.push_back(d());
  }
  CHECK(va == vb);
  CHECK(va != vc);
  CHECK(va != vd);

  ladle::philox e(ladle::seed{7}, 1);
  e.discard_blocks(3);
  CHECK(e() == va[12]);
  CHECK(ladle::philox(ladle::seed{7}, 1).block_at(5)[2] == va[22]);

  auto f1 = a.fork(10), f2 = a.fork(10), f3 = a.fork(11);
  CHECK(f1() == f2());
  CHECK(f1() != f3());
  CHECK(ladle::derive_stream(1, 2) != ladle::derive_stream(2, 1));
}

TEST_CASE("uniform draws: ranges and moments") {
  ladle::philox g(ladle::seed{123});
  const int n = 200000;
  double sf = 0, sd = 0;
  float minf = 1, maxf = 0;
  for (int i = 0; i < n; ++i) {
    const float f = ladle::uniform_float(g);
    const double d = ladle::uniform_double(g);
    REQUIRE(f >= 0.f);
    REQUIRE(f < 1.f);
    REQUIRE(d >= 0.0);
    REQUIRE(d < 1.0);
    minf = std::min(minf, f);
    maxf = std::max(maxf, f);
    sf += f;
    sd += d;
  }
  CHECK(sf / n == doctest::Approx(0.5).epsilon(0.01));
  CHECK(sd / n == doctest::Approx(0.5).epsilon(0.01));
  CHECK(ladle::u32_to_unit_float(0xffffffffu) < 1.f);
  CHECK(ladle::u64_to_unit_double(~0ull) < 1.0);
  CHECK(ladle::u32_to_unit_float(0) == 0.f);
}

TEST_CASE("bounded integers are unbiased (chi-square) and in range") {
  ladle::philox g(ladle::seed{99});
  for (std::uint32_t bound : {1u, 3u, 7u, 10u, 1000u}) {
    std::vector<double> counts(bound, 0.0);
    const int n = 20000 * static_cast<int>(std::min(bound, 10u));
    for (int i = 0; i < n; ++i) {
      const auto v = ladle::uniform_u32(g, bound);
      REQUIRE(v < bound);
      counts[v] += 1;
    }
    if (bound == 1) continue;
    const double expected = double(n) / bound;
    double chi2 = 0;
    for (double c : counts) chi2 += (c - expected) * (c - expected) / expected;
    // 99.9% quantile of chi-square with (bound - 1) dof is below dof + 5 * sqrt(2 dof) + 10.
    const double dof = bound - 1;
    CHECK(chi2 < dof + 5 * std::sqrt(2 * dof) + 10);
  }
  // A bound that makes plain modulo visibly biased: 3 * 2^30.
  const std::uint32_t big = 3u << 30;
  int low = 0;
  const int n = 300000;
  for (int i = 0; i < n; ++i) low += ladle::uniform_u32(g, big) < (1u << 30);
  CHECK(double(low) / n == doctest::Approx(1.0 / 3).epsilon(0.02));

  const std::uint64_t huge = (1ull << 40) + 12345;
  for (int i = 0; i < 1000; ++i) CHECK(ladle::uniform_u64(g, huge) < huge);
  CHECK_THROWS_AS(ladle::uniform_index(g, 0), ladle::invalid_argument);
}

TEST_CASE("normal, exponential, gumbel: moments") {
  ladle::philox g(ladle::seed{5});
  const int n = 200000;
  double m1 = 0, m2 = 0, e1 = 0, g1 = 0;
  for (int i = 0; i < n; ++i) {
    const double z = ladle::normal(g);
    m1 += z;
    m2 += z * z;
    const double e = ladle::exponential(g);
    REQUIRE(e >= 0);
    e1 += e;
    g1 += ladle::gumbel(g);
  }
  CHECK(std::abs(m1 / n) < 0.01);
  CHECK(m2 / n == doctest::Approx(1.0).epsilon(0.02));
  CHECK(e1 / n == doctest::Approx(1.0).epsilon(0.02));
  CHECK(g1 / n == doctest::Approx(0.5772156649).epsilon(0.02));  // Euler-Mascheroni
}

TEST_CASE("shuffle is a permutation and is reproducible") {
  std::vector<int> a(100), b;
  std::iota(a.begin(), a.end(), 0);
  b = a;
  ladle::philox g1(ladle::seed{1}), g2(ladle::seed{1});
  ladle::shuffle(a.begin(), a.end(), g1);
  ladle::shuffle(b.begin(), b.end(), g2);
  CHECK(a == b);
  std::vector<int> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 100; ++i) CHECK(sorted[i] == i);
  int fixed = 0;
  for (int i = 0; i < 100; ++i) fixed += a[i] == i;
  CHECK(fixed < 10);
}

TEST_CASE("per-item streams give the same draws for any thread count") {
  auto run = [](auto policy) {
    std::vector<double> out(10000);
    ladle::parallel_for(policy, 10000, 64, [&](ladle::index_t b, ladle::index_t e) {
      for (ladle::index_t i = b; i < e; ++i) {
        ladle::philox g(ladle::seed{2024}, ladle::derive_stream(3, static_cast<std::uint64_t>(i)));
        out[static_cast<std::size_t>(i)] = ladle::normal(g) + ladle::uniform_double(g);
      }
    });
    return out;
  };
  const auto s = run(ladle::seq);
  CHECK(run(ladle::par(1)) == s);
  CHECK(run(ladle::par(2)) == s);
  CHECK(run(ladle::par(7)) == s);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
