// Facility location: the naive greedy's gains against a brute-force evaluation of f (plain
// double loops, kernel max(D^2) - D^2 computed here), an independent exact-arithmetic greedy on
// integer data (ties to the lowest index), lazy == naive bit for bit, the (1 - 1/e) bound
// against the exhaustive optimum, stochastic greedy's determinism and expected guarantee,
// thread counts, layouts, errors.
#include "../error_of.hpp"
#include "helpers.hpp"

#include <limits>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::facility_greedy;
using ladle::facility_location_options;
using ladle::index_t;
using ladle::seed;

namespace {

// The objective written out: f(S) = sum_i max_{j in S} (M - D(i, j)), M = max_{a,b} D(a, b).
template <class T>
struct brute {
  const std::vector<T>& x;
  index_t n, d;
  double M = 0;
  brute(const std::vector<T>& x_, index_t n_, index_t d_) : x(x_), n(n_), d(d_) {
    for (index_t a = 0; a < n; ++a)
      for (index_t b = 0; b < n; ++b) M = std::max(M, D(a, b));
  }
  double D(index_t a, index_t b) const {
    double s = 0;
    for (index_t f = 0; f < d; ++f) {
      const double e = double(x[std::size_t(a * d + f)]) - double(x[std::size_t(b * d + f)]);
      s += e * e;
    }
    return s;
  }
  double f(const std::vector<index_t>& S) const {
    if (S.empty()) return 0;
    double total = 0;
    for (index_t i = 0; i < n; ++i) {
      double best = -INFINITY;
      for (auto j : S) best = std::max(best, M - D(i, j));
      total += best;
    }
    return total;
  }
};

using st::view_of;
facility_location_options with(facility_greedy m, double eps = 0.01, std::uint64_t s = 0) {
  facility_location_options o;
  o.method = m;
  o.epsilon = eps;
  o.seed = seed{s};
  return o;
}

void check_same(const ladle::facility_location_result& a, const ladle::facility_location_result& b) {
  CHECK(a.order == b.order);
  CHECK(a.gains == b.gains);
  CHECK(a.objective == b.objective);
  CHECK(a.max_sq_distance == b.max_sq_distance);
}

}  // namespace

TEST_CASE_TEMPLATE("facility_location naive: gains, choices and objective by brute force", T,
                   float, double) {
  for (int kind : {0, 1, 2}) {
    const index_t n = 40, d = 5, budget = 8;
    CAPTURE(kind);
    const auto x = st::facility_features<T>(n, d, 11 + std::uint64_t(kind), kind);
    const brute<T> ref(x, n, d);
    const auto r = ladle::facility_location(view_of(x, n, d), budget, with(facility_greedy::naive));
    // Float X: D is a float32 sum (relative error below (d + 2) 2^-24 per distance).
    const double rel = std::is_same<T, float>::value ? double(d + 2) * 0x1p-23 : 1e-12;
    CHECK(r.max_sq_distance == doctest::Approx(ref.M).epsilon(rel));
    const double tol = std::max(1e-10, rel) * double(n) * ref.M;
    std::vector<index_t> S;
    for (index_t t = 0; t < budget; ++t) {
      const double fS = ref.f(S);
      const index_t c = r.order[std::size_t(t)];
      CHECK(std::find(S.begin(), S.end(), c) == S.end());
      auto Sc = S;
      Sc.push_back(c);
      const double want = ref.f(Sc) - fS;
      CHECK(std::abs(r.gains[std::size_t(t)] - want) <= tol);
      // The pick has the largest brute-force gain (up to rounding).
      for (index_t j = 0; j < n; ++j) {
        if (std::find(S.begin(), S.end(), j) != S.end()) continue;
        auto Sj = S;
        Sj.push_back(j);
        CHECK(ref.f(Sj) - fS <= want + tol);
      }
      S = Sc;
    }
    CHECK(std::abs(r.objective - ref.f(S)) <= tol);
    // Step 1 evaluates only the row nearest the mean; step t > 1 every unchosen row.
    CHECK(r.evaluations == 1 + (budget - 1) * n - budget * (budget - 1) / 2);
  }
}

TEST_CASE("facility_location on integer data equals an exact greedy written here") {
  // Integer coordinates: every D, M and gain is an exact integer in double, so the test's own
  // greedy (argmax of brute-force gains, first maximum = lowest index) is exact and full of ties.
  for (index_t d : {1, 2, 3}) {
    const index_t n = 45;
    CAPTURE(d);
    const auto x = st::facility_features<double>(n, d, 70 + std::uint64_t(d), 1);
    const brute<double> ref(x, n, d);
    std::vector<index_t> S;
    std::vector<double> gains;
    for (index_t t = 0; t < 15; ++t) {
      const double fS = ref.f(S);
      index_t arg = -1;
      double best = -1;
      for (index_t j = 0; j < n; ++j) {
        if (std::find(S.begin(), S.end(), j) != S.end()) continue;
        auto Sj = S;
        Sj.push_back(j);
        const double g = ref.f(Sj) - fS;
        if (g > best) best = g, arg = j;
      }
      S.push_back(arg);
      gains.push_back(best);
    }
    for (auto m : {facility_greedy::naive, facility_greedy::lazy}) {
      const auto r = ladle::facility_location(view_of(x, n, d), 15, with(m));
      CHECK(r.order == S);
      CHECK(r.gains == gains);
      CHECK(r.objective == ref.f(S));
    }
  }
}

TEST_CASE_TEMPLATE("facility_location lazy == naive, bit for bit", T, float, double) {
  struct setup {
    index_t n, d;
    int kind;
  };
  // d = 1, 7 only reach the kernel's tail, d = 67 its eight-wide body and tail; n = 1100 spans
  // two row chunks of the gain sum.
  for (const auto& c : {setup{200, 3, 1}, setup{150, 7, 2}, setup{260, 67, 0}, setup{90, 1, 1},
                        setup{1100, 3, 0}, setup{120, 2, 2}}) {
    CAPTURE(c.n);
    CAPTURE(c.d);
    CAPTURE(c.kind);
    const auto x = st::facility_features<T>(c.n, c.d, std::uint64_t(c.n * 7 + c.d), c.kind);
    const auto X = view_of(x, c.n, c.d);
    const index_t budget = c.n > 500 ? 6 : std::min<index_t>(25, c.n / 2);
    const auto naive = ladle::facility_location(X, budget, with(facility_greedy::naive));
    const auto lazy = ladle::facility_location(X, budget, with(facility_greedy::lazy));
    check_same(lazy, naive);
    CHECK(lazy.evaluations < naive.evaluations);
    // Gains never increase along the greedy order (submodularity, exact in floats here).
    for (std::size_t t = 1; t < naive.gains.size(); ++t)
      CHECK(naive.gains[t] <= naive.gains[t - 1]);
  }
  // Budget n: every row is chosen, the tail of zero gains in ascending row order.
  const auto x = st::facility_features<T>(30, 2, 5, 2);
  const auto all_n = ladle::facility_location(view_of(x, 30, 2), 30, with(facility_greedy::naive));
  const auto all_l = ladle::facility_location(view_of(x, 30, 2), 30, with(facility_greedy::lazy));
  check_same(all_l, all_n);
  CHECK(st::sorted_copy(all_n.order) == st::sorted_copy(std::vector<index_t>{
                                            0,  1,  2,  3,  4,  5,  6,  7,  8,  9,
                                            10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
                                            20, 21, 22, 23, 24, 25, 26, 27, 28, 29}));
  CHECK(all_n.gains.back() == 0);
}

TEST_CASE("facility_location greedy is within 1 - 1/e of the exhaustive optimum") {
  int strictly_below = 0;
  for (std::uint64_t trial = 0; trial < 30; ++trial) {
    const index_t n = 6 + index_t(trial % 5), d = 2, k = 2 + index_t(trial % 3);
    const auto x = st::facility_features<double>(n, d, 300 + trial, 0);
    const brute<double> ref(x, n, d);
    double opt = 0;
    for (unsigned mask = 0; mask < (1u << n); ++mask) {
      if (__builtin_popcount(mask) != int(k)) continue;
      std::vector<index_t> S;
      for (index_t i = 0; i < n; ++i)
        if (mask >> i & 1u) S.push_back(i);
      opt = std::max(opt, ref.f(S));
    }
    const auto g = ladle::facility_location(view_of(x, n, d), k);
    CHECK(g.objective >= (1 - std::exp(-1.0)) * opt);
    CHECK(g.objective <= opt * (1 + 1e-12));
    strictly_below += g.objective < opt * (1 - 1e-9);
  }
  CHECK(strictly_below < 30);  // greedy is optimal on many of these small cases, not all
}

TEST_CASE("facility_location stochastic greedy") {
  const index_t n = 400, d = 6, budget = 20;
  const auto x = st::facility_features<float>(n, d, 99, 0);
  const auto X = view_of(x, n, d);
  const auto a = ladle::facility_location(X, budget, with(facility_greedy::stochastic, 0.1, 5));
  const auto b = ladle::facility_location(X, budget, with(facility_greedy::stochastic, 0.1, 5));
  check_same(a, b);
  // ceil(400 / 20 * ln 10) = 47 rows per step
  CHECK(a.evaluations == 47 * budget);
  const auto other = ladle::facility_location(X, budget, with(facility_greedy::stochastic, 0.1, 6));
  CHECK(other.order != a.order);
  // Its gains are true marginal gains of its own order.
  const brute<float> ref(x, n, d);
  std::vector<index_t> S;
  for (index_t t = 0; t < 5; ++t) {
    auto Sc = S;
    Sc.push_back(a.order[std::size_t(t)]);
    // float32 distances: each of the n terms is off by at most (d + 2) 2^-24 M
    CHECK(std::abs(a.gains[std::size_t(t)] - (ref.f(Sc) - ref.f(S))) <=
          double(n) * double(d + 2) * 0x1p-23 * ref.M);
    S = Sc;
  }
  // A sample covering every unchosen row is the naive greedy.
  const auto naive = ladle::facility_location(X, budget, with(facility_greedy::naive));
  check_same(ladle::facility_location(X, budget, with(facility_greedy::stochastic, 1e-300, 1)),
             naive);
  // The same on tie-heavy integer data: the sample comes in random order, ties go to the row.
  const auto grid = st::facility_features<double>(150, 2, 17, 1);
  for (std::uint64_t s = 0; s < 3; ++s)
    check_same(ladle::facility_location(view_of(grid, 150, 2), 30,
                                        with(facility_greedy::stochastic, 1e-300, s)),
               ladle::facility_location(view_of(grid, 150, 2), 30, with(facility_greedy::naive)));
  // On average within (1 - 1/e - eps) of the optimum (exhaustive, n = 10, k = 3).
  const index_t tn = 10, tk = 3;
  const double eps = 0.5;  // sample ceil(10/3 ln 2) = 3 of the unchosen rows per step
  double ratio_sum = 0;
  int trials = 0;
  for (std::uint64_t data = 0; data < 6; ++data) {
    const auto tx = st::facility_features<double>(tn, 2, 500 + data, 0);
    const brute<double> tref(tx, tn, 2);
    double opt = 0;
    for (index_t i = 0; i < tn; ++i)
      for (index_t j = i + 1; j < tn; ++j)
        for (index_t l = j + 1; l < tn; ++l) opt = std::max(opt, tref.f({i, j, l}));
    for (std::uint64_t s = 0; s < 20; ++s) {
      const auto r = ladle::facility_location(view_of(tx, tn, 2), tk,
                                              with(facility_greedy::stochastic, eps, s));
      CHECK(r.evaluations == 3 * tk);
      ratio_sum += r.objective / opt;
      ++trials;
    }
  }
  CHECK(ratio_sum / trials >= 1 - std::exp(-1.0) - eps);
  CHECK(ratio_sum / trials < 1.0);  // 3 of 10 rows per step: it does miss the optimum sometimes
}

TEST_CASE("facility_location: same bits for every thread count and layout") {
  const index_t n = 1100, d = 5;  // two row chunks of the gain sum
  const auto x = st::facility_features<float>(n, d, 8, 0);
  const auto X = view_of(x, n, d);
  std::vector<float> xt(x.size());
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < d; ++j) xt[std::size_t(j * n + i)] = x[std::size_t(i * d + j)];
  const auto Xt = ladle::make_view(static_cast<const float*>(xt.data()), {n, d}, {index_t(1), n});
  for (auto m : {facility_greedy::naive, facility_greedy::lazy, facility_greedy::stochastic}) {
    const index_t budget = m == facility_greedy::naive ? 2 : 10;
    const auto o = with(m, 0.3, 3);
    const auto a = ladle::facility_location(X, budget, o);
    for (int threads : {2, 3}) check_same(ladle::facility_location(ladle::par(threads), X, budget, o), a);
    check_same(ladle::facility_location(Xt, budget, o), a);
  }
}

TEST_CASE("facility_location errors") {
  std::vector<double> x = {0, 1, 2, 3, 4, 5};
  const auto before = x;
  const auto X = ladle::make_view(static_cast<const double*>(x.data()), {index_t(3), index_t(2)});
  auto fl = [&](index_t budget, facility_location_options o = {}) {
    return error_of([&] { ladle::facility_location(X, budget, o); });
  };
  CHECK(fl(0).find("facility_location") != std::string::npos);
  CHECK(fl(0).find("'budget' is 0 but must be in [1, 3]") != std::string::npos);
  CHECK(fl(4).find("'budget' is 4") != std::string::npos);
  CHECK(fl(-2).find("'budget' is -2") != std::string::npos);
  CHECK(fl(2, with(facility_greedy::stochastic, 0.0)).find("'options.epsilon' is 0") !=
        std::string::npos);
  CHECK(fl(2, with(facility_greedy::stochastic, 1.0)).find("'options.epsilon' is 1") !=
        std::string::npos);
  CHECK(fl(2, with(facility_greedy::stochastic, std::nan(""))).find("'options.epsilon'") !=
        std::string::npos);
  CHECK(fl(2, with(facility_greedy::lazy, 0.0)) == "<no error>");  // epsilon is stochastic's only
  CHECK_THROWS_AS(ladle::facility_location(X, 4), ladle::invalid_argument);
  x[3] = std::numeric_limits<double>::quiet_NaN();
  CHECK(fl(1).find("'X' has nan at row 1, column 1") != std::string::npos);
  CHECK_THROWS_AS(ladle::facility_location(X, 1), ladle::domain_error);
  x[3] = 3;
  CHECK(x == before);
  std::vector<double> huge = {1e200, 0, -1e200, 0};
  CHECK(error_of([&] {
          ladle::facility_location(ladle::make_view(static_cast<const double*>(huge.data()),
                                                    {index_t(2), index_t(2)}),
                                   1);
        }).find("overflow") != std::string::npos);
  // Distances fit a double (M = 4e304) but n * x - column sum (1e155) squared does not.
  std::vector<double> spread(1000);
  for (std::size_t i = 0; i < spread.size(); ++i) spread[i] = i % 2 ? -1e152 : 1e152;
  const std::string spread_error = error_of([&] {
    ladle::facility_location(
        ladle::make_view(static_cast<const double*>(spread.data()), {index_t(1000), index_t(1)}), 1);
  });
  CHECK(spread_error.find("'X' has n * x - column sum overflowing a double") != std::string::npos);
  const std::vector<float> none;
  CHECK(error_of([&] {
          ladle::facility_location(ladle::make_view(none.data(), {index_t(0), index_t(3)}), 1);
        }).find("'X' has no elements") != std::string::npos);
  // Workspace: O(n) per method for double X; float X adds its rows in 16-row panels (and, for
  // lazy greedy where the int8 screen is built, one byte per feature and row); the packed copy
  // of a strided X on top.
  const auto o = with(facility_greedy::lazy);
  const auto dbl = ladle::facility_location_workspace_bytes(1000, 64, 8, true, o, 10);
  CHECK(dbl >= 1000 * (8 + 24));
  CHECK(dbl < 1000 * 64 * 4);
  const auto contiguous = ladle::facility_location_workspace_bytes(1000, 64, 4, true, o, 10);
  CHECK(contiguous >= 1008 * 64 * 4 + 1000 * (8 + 24));
  CHECK(contiguous < 3 * 1000 * 64 * 4);
  CHECK(ladle::facility_location_workspace_bytes(1000, 64, 4, false, o, 10) ==
        contiguous + 1000 * 64 * 4);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
