// RS2 schedules: every index exactly once per pass, no repeats within a round, reproducible,
// any round reachable directly, class-balanced rounds.
#include "helpers.hpp"

#include <set>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;
using ladle::seed;

namespace {

// Checks rounds [first, first + count) of a plain schedule: no repeats inside a round, and
// every full pass inside the covered stream window is a permutation of [0, n).
void check_passes(const ladle::rs2_schedule& s, std::uint64_t first, std::uint64_t count) {
  const auto n = static_cast<std::uint64_t>(s.size());
  const auto m = static_cast<std::uint64_t>(s.round_size());
  std::vector<index_t> stream;
  for (std::uint64_t r = first; r < first + count; ++r) {
    const auto v = s.round(r);
    REQUIRE(v.size() == m);
    REQUIRE(std::set<index_t>(v.begin(), v.end()).size() == m);
    for (auto i : v) REQUIRE((i >= 0 && i < index_t(n)));
    stream.insert(stream.end(), v.begin(), v.end());
  }
  const std::uint64_t start = first * m;
  std::uint64_t pass_begin = (start + n - 1) / n * n;  // first pass boundary in the window
  int full_passes = 0;
  for (; pass_begin + n <= start + stream.size(); pass_begin += n, ++full_passes) {
    std::vector<index_t> pass(stream.begin() + std::ptrdiff_t(pass_begin - start),
                              stream.begin() + std::ptrdiff_t(pass_begin - start + n));
    std::sort(pass.begin(), pass.end());
    for (std::uint64_t i = 0; i < n; ++i) REQUIRE(pass[i] == index_t(i));
  }
  CHECK(full_passes >= 3);
}

}  // namespace

TEST_CASE("rs2_schedule: once per pass, no repeats within a round, any round directly") {
  struct setup {
    index_t n;
    double fraction;
    index_t m;
  };
  // m = round(fraction n), ties to even; the cases cover m dividing n, n >= 2m (direct
  // exchanges), 1/2 < fraction < 1 (general exchanges), single items.
  for (const auto& c : {setup{10, 0.3, 3}, setup{10, 0.7, 7}, setup{7, 0.5, 4}, setup{100, 0.1, 10},
                        setup{1000, 0.13, 130}, setup{1, 1.0, 1}, setup{9, 0.95, 9},
                        setup{12, 0.6, 7}, setup{5, 0.4, 2}, setup{3, 0.9, 3}, setup{6, 0.75, 4}}) {
    CAPTURE(c.n);
    CAPTURE(c.fraction);
    for (std::uint64_t sd : {1u, 2u, 3u}) {
      const ladle::rs2_schedule s(c.n, c.fraction, seed{sd});
      REQUIRE(s.round_size() == c.m);
      CHECK(s.rounds_per_pass() == (c.n + c.m - 1) / c.m);
      const std::uint64_t rounds = 6 * std::uint64_t(s.rounds_per_pass()) + 3;
      check_passes(s, 0, rounds);
      // Far out, reached without the earlier rounds. Reaching pass p costs O(p m) when the
      // schedule needs general exchanges (m < n < 2m, m not dividing n), so those go less far.
      const bool direct = c.n >= 2 * c.m || c.n % c.m == 0;
      check_passes(s, direct ? 1000003 : 20011, rounds);
    }
  }
  // Directly reachable far rounds (a pure function of (seed, r)).
  const ladle::rs2_schedule s(1000000, 0.01, seed{5});
  const auto far = s.round(1000000000000ull);
  CHECK(far == s.round(1000000000000ull));
  CHECK(std::set<index_t>(far.begin(), far.end()).size() == far.size());
  check_passes(s, 7777777, 330);
}

TEST_CASE("rs2_schedule: reproducible by seed, different seeds differ, round 0 uniform") {
  const ladle::rs2_schedule a(500, 0.2, seed{7}), b(500, 0.2, seed{7}), c(500, 0.2, seed{8});
  for (std::uint64_t r : {0u, 3u, 4u, 5u, 99u}) CHECK(a.round(r) == b.round(r));
  CHECK(a.round(0) != c.round(0));
  // Inclusion in round 0 over many seeds: every index with probability m / n; also in the
  // straddling round 3 (n = 20, m = 6: positions 18..23).
  const index_t n = 20;
  const long trials = 20000;
  for (std::uint64_t r : {0u, 3u}) {
    std::map<index_t, long> hits;
    std::map<index_t, double> expect;
    for (index_t i = 0; i < n; ++i) expect[i] = 1.0 / n;
    for (long t = 0; t < trials; ++t) {
      const ladle::rs2_schedule s(n, 0.3, seed{std::uint64_t(t)});
      for (auto i : s.round(r)) ++hits[i];
    }
    CAPTURE(r);
    CHECK(st::chi_square(expect, hits, trials * 6).ok());
  }
}

TEST_CASE("rs2_schedule: class-balanced rounds") {
  std::vector<std::int64_t> y;
  for (int i = 0; i < 50; ++i) y.push_back(i % 5 == 0 ? 7 : (i % 5 == 1 ? -2 : 3));  // 10/10/30
  const auto yv = ladle::make_view(static_cast<const std::int64_t*>(y.data()), y.size());
  const ladle::rs2_schedule s(yv, 0.15, seed{3});
  // m_c = round(0.15 n_c): class -2: 1.5 -> 2, class 3: 4.5 -> 4, class 7: 1.5 -> 2.
  CHECK(s.round_size() == 8);
  CHECK(s.rounds_per_pass() == 8);  // ceil(30 / 4)
  std::map<std::int64_t, std::vector<index_t>> seen;
  for (std::uint64_t r = 0; r < 60; ++r) {
    const auto v = s.round(r);
    REQUIRE(std::set<index_t>(v.begin(), v.end()).size() == 8);
    std::map<std::int64_t, int> per;
    for (auto i : v) {
      ++per[y[std::size_t(i)]];
      seen[y[std::size_t(i)]].push_back(i);
    }
    CHECK(per[-2] == 2);
    CHECK(per[3] == 4);
    CHECK(per[7] == 2);
  }
  // Per class, each pass (n_c consecutive picks of that class) is a permutation of its members.
  for (auto& kv : seen) {
    const std::size_t nc = kv.first == 3 ? 30 : 10;
    for (std::size_t p = 0; (p + 1) * nc <= kv.second.size(); ++p) {
      std::set<index_t> pass(kv.second.begin() + std::ptrdiff_t(p * nc),
                             kv.second.begin() + std::ptrdiff_t((p + 1) * nc));
      CHECK(pass.size() == nc);
      for (auto i : pass) CHECK(y[std::size_t(i)] == kv.first);
    }
  }
}

TEST_CASE("rs2_schedule errors") {
  for (double bad : {0.0, -0.5, 1.01, std::numeric_limits<double>::quiet_NaN()})
    CHECK_THROWS_WITH_AS(ladle::rs2_schedule(10, bad, seed{1}), doctest::Contains("'fraction'"),
                         ladle::invalid_argument);
  CHECK_THROWS_WITH_AS(ladle::rs2_schedule(3, 0.1, seed{1}), doctest::Contains("rounds to 0"),
                       ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::rs2_schedule(0, 0.5, seed{1}), ladle::invalid_argument);
  const std::vector<std::int32_t> none;
  CHECK_THROWS_WITH_AS(ladle::rs2_schedule(ladle::make_view(none.data(), 0), 0.5, seed{1}),
                       doctest::Contains("'labels' is empty"), ladle::invalid_argument);
  const ladle::rs2_schedule s(10, 0.5, seed{1});
  std::vector<index_t> out(4, -1);
  CHECK_THROWS_AS(s.round_into(0, ladle::make_view(out.data(), 4)), ladle::invalid_argument);
  CHECK(out == std::vector<index_t>(4, -1));
  CHECK_THROWS_WITH_AS(s.round(std::uint64_t(1) << 62), doctest::Contains("overflow"),
                       ladle::invalid_argument);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
