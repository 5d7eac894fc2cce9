// Bit allocation (BAQ): closed form, water-filling vs independent solvers, equal loss, rounding.
#include <ladle/core/random.hpp>
#include <ladle/quantization/bit_allocation.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

std::vector<double> spread_sensitivities(std::size_t n, std::uint64_t s, double decades) {
  ladle::philox g(ladle::seed{s});
  std::vector<double> v(n);
  for (auto& x : v) x = std::pow(10.0, decades * ladle::uniform_double(g));
  return v;
}

double objective(const std::vector<double>& s, const std::vector<double>& b) {
  double e = 0;
  for (std::size_t i = 0; i < s.size(); ++i) e += s[i] * std::exp2(-2.0 * b[i]);
  return e;
}

// Independent reference: bisection on the Lagrange multiplier of the KKT conditions,
// b_i(lambda) = clamp(1/2 log2(2 ln2 s_i / lambda), lo, hi).
std::vector<double> kkt_reference(const std::vector<double>& s, double avg, double lo, double hi) {
  const double n = static_cast<double>(s.size());
  auto bits_at = [&](double log_lambda) {
    std::vector<double> b(s.size());
    for (std::size_t i = 0; i < s.size(); ++i)
      b[i] = std::min(hi, std::max(lo, 0.5 * (std::log2(2.0 * std::log(2.0) * s[i]) - log_lambda)));
    return b;
  };
  double l0 = -400, l1 = 400;  // larger lambda -> fewer bits
  for (int it = 0; it < 300; ++it) {
    const double mid = 0.5 * (l0 + l1);
    const auto b = bits_at(mid);
    (std::accumulate(b.begin(), b.end(), 0.0) > avg * n ? l0 : l1) = mid;
  }
  return bits_at(0.5 * (l0 + l1));
}

}  // namespace

TEST_CASE("bit allocation without bounds is BAQ's closed form; error ratio is GM/AM") {
  const auto s = spread_sensitivities(256, 1, 3.0);
  const auto sv = ladle::make_view(s.data(), 256);
  const auto r = ladle::allocate_bits(sv, 3.0, {-std::numeric_limits<double>::infinity()});
  double log_gm = 0, am = 0;
  for (double x : s) {
    log_gm += std::log2(x) / 256.0;
    am += x / 256.0;
  }
  for (std::size_t i = 0; i < s.size(); ++i)
    CHECK(r.bits[i] == doctest::Approx(3.0 + 0.5 * (std::log2(s[i]) - log_gm)).epsilon(1e-12));
  CHECK(r.average_bits == doctest::Approx(3.0).epsilon(1e-13));
  const std::vector<double> uniform(256, 3.0);
  const double e_uniform = ladle::bit_allocation_error(sv, uniform);
  CHECK(r.model_error / e_uniform == doctest::Approx(std::exp2(log_gm) / am).epsilon(1e-10));
  CHECK(r.model_error < 0.5 * e_uniform);
  // Equal loss everywhere.
  const double loss0 = s[0] * std::exp2(-2.0 * r.bits[0]);
  for (std::size_t i = 0; i < s.size(); ++i)
    CHECK(s[i] * std::exp2(-2.0 * r.bits[i]) == doctest::Approx(loss0).epsilon(1e-10));
}

TEST_CASE("water-filling with [0, 8] bounds: budget, equal loss on the free set, KKT reference") {
  for (double avg : {0.5, 2.0, 3.0, 7.5}) {
    const auto s = spread_sensitivities(300, 2, 8.0);  // 8 decades: many items hit a bound
    const auto sv = ladle::make_view(s.data(), 300);
    const auto r = ladle::allocate_bits(sv, avg, {0.0, 8.0});
    CHECK(r.average_bits == doctest::Approx(avg).epsilon(1e-12));
    CHECK(r.at_min + r.at_max > 0);
    double free_loss = -1;
    for (std::size_t i = 0; i < s.size(); ++i) {
      CHECK(r.bits[i] >= 0.0);
      CHECK(r.bits[i] <= 8.0);
      if (r.bits[i] > 0.0 && r.bits[i] < 8.0) {
        const double loss = s[i] * std::exp2(-2.0 * r.bits[i]);
        if (free_loss < 0) free_loss = loss;
        CHECK(loss == doctest::Approx(free_loss).epsilon(1e-9));
      }
      // KKT: bounded items are on the right side of the water level.
      if (r.bits[i] == 0.0) CHECK(0.5 * std::log2(s[i]) + r.water_level <= 1e-9);
      if (r.bits[i] == 8.0) CHECK(0.5 * std::log2(s[i]) + r.water_level >= 8.0 - 1e-9);
    }
    const auto ref = kkt_reference(s, avg, 0.0, 8.0);
    for (std::size_t i = 0; i < s.size(); ++i) CHECK(r.bits[i] == doctest::Approx(ref[i]).epsilon(1e-7));
    const std::vector<double> uniform(s.size(), avg);
    CHECK(r.model_error < objective(s, uniform));
  }
}

TEST_CASE("water-filling equals a brute-force grid search on three items") {
  const std::vector<double> s = {50.0, 1.0, 0.001};
  const double lo = 0.0, hi = 4.0, avg = 2.0, budget = 6.0;
  const auto r = ladle::allocate_bits(ladle::make_view(s.data(), 3), avg, {lo, hi});
  double best = std::numeric_limits<double>::infinity();
  std::vector<double> arg;
  for (int i = 0; i <= 400; ++i)
    for (int j = 0; j <= 400; ++j) {
      const double b0 = i * 0.01, b1 = j * 0.01, b2 = budget - b0 - b1;
      if (b2 < lo || b2 > hi) continue;
      const double e = objective(s, {b0, b1, b2});
      if (e < best) {
        best = e;
        arg = {b0, b1, b2};
      }
    }
  CHECK(r.model_error <= best + 1e-12);
  for (std::size_t k = 0; k < 3; ++k) CHECK(std::fabs(r.bits[k] - arg[k]) <= 0.02);
  CHECK(r.bits[2] == 0.0);  // the insensitive item gets nothing
}

TEST_CASE("integer bits: budget met exactly and optimal vs exhaustive enumeration") {
  const std::vector<double> s = {9.0, 3.0, 0.2, 40.0};
  for (int budget = 4; budget <= 20; budget += 4) {
    const double avg = budget / 4.0;
    const auto r = ladle::allocate_bits(ladle::make_view(s.data(), 4), avg,
                                        {0.0, 8.0, ladle::bit_rounding::integer_bits});
    CHECK(r.average_bits == doctest::Approx(avg).epsilon(1e-15));
    double best = std::numeric_limits<double>::infinity();
    for (int a = 0; a <= 8; ++a)
      for (int b = 0; b <= 8; ++b)
        for (int c = 0; c <= 8; ++c) {
          const int d = budget - a - b - c;
          if (d < 0 || d > 8) continue;
          best = std::min(best, objective(s, {double(a), double(b), double(c), double(d)}));
        }
    CHECK(r.model_error == doctest::Approx(best).epsilon(1e-12));
    for (std::size_t i = 0; i < 4; ++i) {
      CHECK(r.bits[i] == std::floor(r.bits[i]));
      CHECK(r.levels[i] == (std::int64_t(1) << static_cast<int>(r.bits[i])));
    }
  }
}

TEST_CASE("integer levels (BAQ's rounding): integer L_i, within budget, lower error than uniform") {
  const auto s = spread_sensitivities(128, 3, 3.0);
  const auto sv = ladle::make_view(s.data(), 128);
  const auto cont = ladle::allocate_bits(sv, 3.0);
  const auto r = ladle::allocate_bits(sv, 3.0, {0.0, 8.0, ladle::bit_rounding::integer_levels});
  CHECK(r.average_bits <= 3.0 + 1e-12);
  CHECK(r.average_bits >= 3.0 - 0.02);  // the last unaffordable step is small
  for (std::size_t i = 0; i < s.size(); ++i) {
    CHECK(r.levels[i] >= 1);
    CHECK(r.levels[i] <= 256);
    CHECK(r.bits[i] == doctest::Approx(std::log2(double(r.levels[i]))).epsilon(1e-15));
  }
  const std::vector<double> uniform(s.size(), 3.0);
  CHECK(r.model_error < ladle::bit_allocation_error(sv, uniform));
  CHECK(r.model_error >= cont.model_error * (1 - 1e-12));  // rounding cannot beat the relaxation
  CHECK(r.model_error <= cont.model_error * 1.3);
  const auto ib = ladle::allocate_bits(sv, 3.0, {0.0, 8.0, ladle::bit_rounding::integer_bits});
  CHECK(r.model_error <= ib.model_error);  // finer steps: no worse than whole bits here
}

TEST_CASE("weighted (per-layer) allocation and zero sensitivities") {
  const std::vector<double> s = {1.0, 4.0, 16.0, 0.0};
  const std::vector<double> w = {1000.0, 10.0, 100.0, 50.0};
  const auto r = ladle::allocate_bits(ladle::make_view(s.data(), 4), ladle::make_view(w.data(), 4), 4.0);
  double total = 0, wsum = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    total += w[i] * r.bits[i];
    wsum += w[i];
  }
  CHECK(total / wsum == doctest::Approx(4.0).epsilon(1e-12));
  CHECK(r.average_bits == doctest::Approx(4.0).epsilon(1e-12));
  CHECK(r.bits[3] == 0.0);
  CHECK(r.bits[1] - r.bits[0] == doctest::Approx(1.0).epsilon(1e-12));  // 1/2 log2(4)
  CHECK(r.bits[2] - r.bits[0] == doctest::Approx(2.0).epsilon(1e-12));
  // All items capped: the zero-sensitivity item absorbs the leftover budget.
  const auto c = ladle::allocate_bits(ladle::make_view(s.data(), 4), 6.0, {0.0, 7.0});
  CHECK(c.bits[0] == 7.0);
  CHECK(c.bits[3] == doctest::Approx(3.0));
  CHECK(c.average_bits == doctest::Approx(6.0));
}

TEST_CASE("bit allocation errors") {
  std::vector<double> s = {1.0, 2.0};
  const auto sv = ladle::make_view(s.data(), 2);
  CHECK_THROWS_AS(ladle::allocate_bits(ladle::make_view(s.data(), 0), 3.0), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::allocate_bits(sv, -1.0), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::allocate_bits(sv, 9.0, {0.0, 8.0}), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::allocate_bits(sv, 3.0, {4.0, 2.0}), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::allocate_bits(sv, 3.0, {-std::numeric_limits<double>::infinity(), 8.0,
                                                 ladle::bit_rounding::integer_bits}),
                  ladle::invalid_argument);
  std::vector<double> w = {1.0};
  CHECK_THROWS_AS(ladle::allocate_bits(sv, ladle::make_view(w.data(), 1), 3.0), ladle::invalid_argument);
  w = {1.0, 0.0};
  CHECK_THROWS_AS(ladle::allocate_bits(sv, ladle::make_view(w.data(), 2), 3.0), ladle::domain_error);
  s[1] = -1.0;
  CHECK_THROWS_AS(ladle::allocate_bits(sv, 3.0), ladle::domain_error);
  s[1] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(ladle::allocate_bits(sv, 3.0), ladle::domain_error);
  s[1] = 0.0;
  CHECK_THROWS_AS(ladle::allocate_bits(sv, 3.0, {-std::numeric_limits<double>::infinity()}),
                  ladle::domain_error);
  std::vector<float> sf = {1.0f, 0.5f};
  CHECK(ladle::allocate_bits(ladle::make_view(sf.data(), 2), 2.0).average_bits == doctest::Approx(2.0));
}

TEST_CASE("integer rounding ends quickly when weights span many orders of magnitude") {
  // The one-unit greedy would add ~2^40 levels to the nearly weightless item one at a time (a
  // libFuzzer timeout); the bulk step must give an allocation with the greedy's properties: within
  // budget, and no item can take one more unit without exceeding it.
  const std::vector<double> s = {1.0, 3.0, 2.0};
  const std::vector<double> w = {1.0, 1e-12, 5.0};
  const ladle::bit_allocation_options o{0.0, 40.0, ladle::bit_rounding::integer_levels};
  const auto r = ladle::allocate_bits(ladle::make_view(s.data(), 3), ladle::make_view(w.data(), 3),
                                      6.0, o);
  const double wsum = 1.0 + 1e-12 + 5.0, budget = 6.0 * wsum;
  double spent = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(r.levels[i] >= 1);
    CHECK(r.bits[i] == std::log2(static_cast<double>(r.levels[i])));
    spent += w[i] * r.bits[i];
  }
  CHECK(spent <= budget * (1 + 1e-9));
  for (std::size_t i = 0; i < 3; ++i) {
    if (r.levels[i] >= (std::int64_t{1} << 40)) continue;  // at max_bits
    const double more = w[i] * (std::log2(static_cast<double>(r.levels[i] + 1)) - r.bits[i]);
    CHECK(spent + more > budget - 1e-6);  // nothing left that one more unit of i could use
  }
  // The nearly weightless item is worth many bits at almost no cost.
  CHECK(r.bits[1] > 30.0);
}

TEST_CASE("integer levels near 2^53 per item end and stay within budget (libFuzzer timeout)") {
  // 33 items at about 42 bits each: one level there costs ~4e-14 bits, below the resolution of a
  // running sum near 1400 bits. The greedy once charged such steps nothing and looped for ever.
  std::vector<double> s;
  for (int i = 0; i < 14; ++i) s.push_back(0x1.a1bp+6);
  for (double v : {0x1.ccp+1, 0x1p-6, 0x1p-6, 0x1.cce8p+8, 0x1p-149, 0x1.241p+6, 0x1.28dp+8, 0x1.c9p+7,
                   0x1.ffcp+13, 0x1.fep+7})
    s.push_back(v);
  for (int i = 0; i < 9; ++i) s.push_back(0x1.0508p+8);
  const auto n = static_cast<ladle::index_t>(s.size());
  const auto r = ladle::allocate_bits(ladle::make_view(s.data(), n), 42.0,
                                      {0.0, 291.0, ladle::bit_rounding::integer_levels});
  double spent = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    CHECK(r.levels[i] >= 1);
    spent += std::log2(static_cast<double>(r.levels[i]));
  }
  CHECK(spent <= 42.0 * static_cast<double>(n) * (1 + 1e-12));
  CHECK(spent >= 42.0 * static_cast<double>(n) - 1e-6);  // the leftover is below a level's cost
  // Equal sensitivities get level counts within one step of each other.
  for (std::size_t i = 1; i < 14; ++i) CHECK(std::llabs(r.levels[i] - r.levels[0]) <= 1);
}

TEST_CASE("integer levels: a leftover worth millions of steps for tied items is spent at once") {
  // libFuzzer: one item floors from 2^3.10 to 8 levels, and the 0.1 bit it gives up buys ~2e6
  // levels for each of 16 tied items near 2^28.7, which the one-unit greedy handed out in turn.
  std::vector<double> s = {0x1.e1bp+6, 0x1.a1bp+6, 0x1.a1bp+6, 0x1.a1bp+6, 0x1.a1bp+6, 0x1.a1bp+6,
                           0x1.a1bp+6, 0x1.a1bp+6, 0x1.a1bp+6, 0x1.bp-2,   0x1.cbcbcap+76, 0x1.a1bp+6,
                           0x1.a1bp+6, 0x1.a1bp+6, 0x1.a1fp+6, 0x1p+2,     0x1.00cp+4};
  for (int i = 0; i < 16; ++i) s.push_back(0x1.fffffep+127);
  const auto n = static_cast<ladle::index_t>(s.size());
  const auto r = ladle::allocate_bits(ladle::make_view(s.data(), n), 14.0,
                                      {0.0, 145.0, ladle::bit_rounding::integer_levels});
  const double budget = 14.0 * static_cast<double>(n);
  long double spent = 0;
  for (auto l : r.levels) spent += std::log2(static_cast<long double>(l));
  CHECK(spent <= budget * (1 + 1e-12));
  // Greedy-maximal: no item can take one more level within the budget.
  for (std::size_t i = 0; i < s.size(); ++i) {
    const long double more = std::log2(static_cast<long double>(r.levels[i] + 1)) -
                             std::log2(static_cast<long double>(r.levels[i]));
    CHECK(spent + more > budget - 1e-9);
  }
  // The tied items end within one level of each other, the extra level going to lower indices.
  CHECK(r.levels[17] > 430379408 + 1000000);  // far above the floor of 2^28.681
  for (std::size_t i = 18; i < s.size(); ++i) {
    CHECK(r.levels[i] <= r.levels[i - 1]);
    CHECK(r.levels[17] - r.levels[i] <= 1);
  }
}

}  // namespace LADLE_TEST_FILE
}  // namespace
