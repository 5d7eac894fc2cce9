// k-center greedy against a naive O(n^2) implementation (full distance matrix, plain
// summation, ties to the lowest index), the Gonzalez 2-approximation against brute force,
// determinism over threads and layouts, merge-and-reduce.
#include "helpers.hpp"

#include <limits>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;
using ladle::seed;

namespace {

struct naive_result {
  std::vector<index_t> order;
  std::vector<double> gains;
  double radius;
};

// Textbook greedy over a precomputed n x n matrix of squared distances.
template <class T>
naive_result naive_k_center(const std::vector<T>& X, index_t n, index_t d,
                            const std::vector<index_t>& initial, index_t budget,
                            const std::vector<index_t>& cand_in = {}) {
  std::vector<index_t> cand = cand_in;
  if (cand.empty())
    for (index_t i = 0; i < n; ++i) cand.push_back(i);
  std::vector<double> D(std::size_t(n * n));
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) {
      double s = 0;
      for (index_t f = 0; f < d; ++f) {
        const double e = double(X[std::size_t(i * d + f)]) - double(X[std::size_t(j * d + f)]);
        s += e * e;
      }
      D[std::size_t(i * n + j)] = s;
    }
  std::vector<index_t> centres = initial;
  naive_result r;
  auto dist_to_set = [&](index_t i) {
    double best = INFINITY;
    for (auto c : centres) best = std::min(best, D[std::size_t(i * n + c)]);
    return best;
  };
  auto chosen = [&](index_t i) {
    return std::find(centres.begin(), centres.end(), i) != centres.end();
  };
  while (index_t(r.order.size()) < budget) {
    index_t arg = -1;
    double best = -1;
    for (auto i : cand)  // candidates in increasing position; first maximum wins
      if (!chosen(i) && dist_to_set(i) > best) {
        best = dist_to_set(i);
        arg = i;
      }
    r.order.push_back(arg);
    r.gains.push_back(std::sqrt(best));
    centres.push_back(arg);
  }
  double rad = 0;
  for (auto i : cand)
    if (!chosen(i)) rad = std::max(rad, dist_to_set(i));
  r.radius = std::sqrt(rad);
  return r;
}

template <class T>
std::vector<T> random_matrix(index_t n, index_t d, std::uint64_t s, bool grid) {
  ladle::philox g(seed{s});
  std::vector<T> X(std::size_t(n * d));
  for (auto& v : X) v = grid ? T(ladle::uniform_index(g, 4)) : T(ladle::normal(g));
  return X;
}

}  // namespace

TEST_CASE_TEMPLATE("exact squared distance: vector path gives the scalar path's bits", T, float,
                   double) {
  for (index_t d : {1, 7, 8, 9, 64 + 3, 128, 1000 + 5}) {
    CAPTURE(d);
    const auto a = random_matrix<T>(2, d, std::uint64_t(d), false);
    const double want = ladle::detail::exact_sq_distance_scalar(a.data(), a.data() + d, d);
    CHECK(ladle::detail::exact_sq_distance_rows(a.data(), a.data() + d, d) == want);
    const T* rows[4] = {a.data(), a.data() + d, a.data(), a.data() + d};
    double four[4];
    ladle::detail::exact_sq_distance_rows4(rows, a.data() + d, d, four);
    CHECK(four[0] == want);
    CHECK(four[1] == 0.0);
    CHECK(four[2] == want);
    double plain = 0;
    for (index_t j = 0; j < d; ++j) {
      const double e = double(a[std::size_t(j)]) - double(a[std::size_t(d + j)]);
      plain += e * e;
    }
    CHECK(want == doctest::Approx(plain).epsilon(1e-13));
  }
}

TEST_CASE("k_center_greedy on a line: {0, 10, 5}") {
  std::vector<double> x;
  for (int i = 0; i <= 10; ++i) x.push_back(i);
  const auto X = ladle::make_view(static_cast<const double*>(x.data()), {index_t(11), index_t(1)});
  const auto r = ladle::k_center_greedy(X, 2, seed{1}, {0});
  CHECK(r.order == std::vector<index_t>{10, 5});
  CHECK(r.gains == std::vector<double>{10, 5});
  CHECK(r.radius == 2);
  const auto whole = ladle::k_center_greedy(X, 10, seed{1}, {0});
  CHECK(whole.radius == 0);
}

TEST_CASE_TEMPLATE("k_center_greedy equals the naive O(n^2) greedy", T, float, double) {
  struct setup {
    index_t n, d;
    bool grid;
  };
  // Grid data (integer coordinates in 0..3) is full of exact ties; d = 19 reaches the tail of
  // the eight-sum loop, d = 3 only the tail, d = 16 only the body.
  for (const auto& c : {setup{200, 3, true}, setup{150, 19, true}, setup{300, 19, false},
                        setup{257, 16, false}, setup{64 + 3, 1, true}}) {
    CAPTURE(c.n);
    CAPTURE(c.d);
    const auto x = random_matrix<T>(c.n, c.d, std::uint64_t(c.n * 31 + c.d), c.grid);
    const auto X = ladle::make_view(static_cast<const T*>(x.data()), {c.n, c.d});
    const index_t budget = std::min<index_t>(25, c.n / 3);
    // With an initial set.
    const std::vector<index_t> init = {7, 3};
    const auto got = ladle::k_center_greedy(X, budget, seed{5}, init);
    const auto want = naive_k_center(x, c.n, c.d, init, budget);
    CHECK(got.order == want.order);
    for (std::size_t t = 0; t < want.gains.size(); ++t)
      CHECK(got.gains[t] == doctest::Approx(want.gains[t]).epsilon(1e-12));
    CHECK(got.radius == doctest::Approx(want.radius).epsilon(1e-12));
    // Random first centre: the naive greedy from that centre on.
    const auto rnd = ladle::k_center_greedy(X, budget, seed{9});
    CHECK(rnd.gains[0] == std::numeric_limits<double>::infinity());
    const auto from = naive_k_center(x, c.n, c.d, {rnd.order[0]}, budget - 1);
    CHECK(std::vector<index_t>(rnd.order.begin() + 1, rnd.order.end()) == from.order);
    // Greedy gains never increase, and the final radius is below the last gain.
    for (std::size_t t = 1; t < rnd.gains.size(); ++t) CHECK(rnd.gains[t] <= rnd.gains[t - 1]);
    CHECK(rnd.radius <= rnd.gains.back());
  }
}

TEST_CASE("k-center float screen: never clears a row whose exact distance is below the minimum") {
  // sq_distance_screen (shared by k-center and facility location) may skip a row only when
  // est * shrink - d 2^-149 >= v proves the exact distance is not below v. Here v is the next double above the exact distance, the tightest threshold
  // the screen must still refuse, over lengths that reach the vector body and the tails, and
  // data with cancellation (a large offset), tiny (subnormal squares) and huge coordinates.
  ladle::philox g(seed{19});
  for (const index_t d : {index_t(1), index_t(3), index_t(17), index_t(64), index_t(129), index_t(300)}) {
    for (const double scale : {1.0, 1e-22, 1e17}) {
      for (const double offset : {0.0, 1000.0}) {
        CAPTURE(d);
        CAPTURE(scale);
        CAPTURE(offset);
        const ladle::detail::sq_distance_screen screen(d);
        REQUIRE(screen.shrink > 0.99);
        std::size_t cleared = 0, cleared_at_half = 0;
        for (int t = 0; t < 300; ++t) {
          std::vector<float> a(static_cast<std::size_t>(d)), b(static_cast<std::size_t>(d));
          for (index_t j = 0; j < d; ++j) {
            a[std::size_t(j)] = float((offset + ladle::normal(g)) * scale);
            b[std::size_t(j)] = float((offset + ladle::normal(g)) * scale);
          }
          const double exact = ladle::detail::exact_sq_distance_rows(a.data(), b.data(), d);
          const double v = std::nextafter(exact, std::numeric_limits<double>::infinity());
          cleared += screen.clears(a.data(), b.data(), d, v);
          cleared_at_half += screen.clears(a.data(), b.data(), d, exact / 2);
        }
        CHECK(cleared == 0);
        // And it is not vacuous: a threshold at half the distance is cleared whenever the float
        // squares neither overflow nor sink into subnormals.
        if (scale == 1.0) CHECK(cleared_at_half == 300);
      }
    }
  }
}

TEST_CASE("k_center_greedy: the float screen defers every close call to the exact distance") {
  // Rows far from the origin and close to each other: a float32 sum of squared differences is
  // exact-ish here, but the rows' float coordinates carry the offset's rounding, so near-ties
  // between a row's minimum and its distance to a new centre abound (quantised coordinates:
  // many exact ties too). Any screen that cleared a row whose exact distance is below its
  // minimum would change the order the naive greedy finds.
  for (const double step : {1.0 / 1024, 1.0 / 3}) {
    CAPTURE(step);
    const index_t n = 240, d = 40;
    auto x = random_matrix<float>(n, d, 77, false);
    for (auto& v : x) v = float(1000.0 + std::round(double(v) / step) * step * 1e-3);
    const auto X = ladle::make_view(static_cast<const float*>(x.data()), {n, d});
    const std::vector<index_t> init = {5};
    const auto got = ladle::k_center_greedy(X, 60, seed{3}, init);
    const auto want = naive_k_center(x, n, d, init, 60);
    CHECK(got.order == want.order);
    for (std::size_t t = 0; t < want.gains.size(); ++t) CHECK(got.gains[t] == want.gains[t]);
  }
}

TEST_CASE("k_center_greedy: same bits for every thread count and layout") {
  const index_t n = 20000, d = 37;
  const auto x = random_matrix<float>(n, d, 3, false);
  const auto X = ladle::make_view(static_cast<const float*>(x.data()), {n, d});
  const auto a = ladle::k_center_greedy(X, 40, seed{2});
  for (int threads : {2, 3}) {
    const auto b = ladle::k_center_greedy(ladle::par(threads), X, 40, seed{2});
    CHECK(b.order == a.order);
    CHECK(b.gains == a.gains);
    CHECK(b.radius == a.radius);
  }
  // Column-major copy through a strided view (packed internally).
  std::vector<float> xt(x.size());
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < d; ++j) xt[std::size_t(j * n + i)] = x[std::size_t(i * d + j)];
  const auto Xt = ladle::make_view(static_cast<const float*>(xt.data()), {n, d}, {index_t(1), n});
  const auto c = ladle::k_center_greedy(Xt, 40, seed{2});
  CHECK(c.order == a.order);
  CHECK(c.gains == a.gains);
}

TEST_CASE("k_center_greedy is within twice the optimal radius (brute force)") {
  const index_t n = 12, d = 2, k = 3;
  for (std::uint64_t trial = 0; trial < 40; ++trial) {
    const auto x = random_matrix<double>(n, d, 100 + trial, false);
    const auto X = ladle::make_view(static_cast<const double*>(x.data()), {n, d});
    auto dist = [&](index_t i, index_t j) {
      const double a = x[std::size_t(i * d)] - x[std::size_t(j * d)];
      const double b = x[std::size_t(i * d + 1)] - x[std::size_t(j * d + 1)];
      return std::sqrt(a * a + b * b);
    };
    double opt = INFINITY;
    for (index_t a = 0; a < n; ++a)
      for (index_t b = a + 1; b < n; ++b)
        for (index_t c = b + 1; c < n; ++c) {
          double r = 0;
          for (index_t i = 0; i < n; ++i)
            r = std::max(r, std::min({dist(i, a), dist(i, b), dist(i, c)}));
          opt = std::min(opt, r);
        }
    const auto g = ladle::k_center_greedy(X, k, seed{trial});
    CHECK(g.radius <= 2 * opt * (1 + 1e-12));
    CHECK(g.radius >= opt * (1 - 1e-12));
  }
}

TEST_CASE("k_center_greedy merge-and-reduce over shards") {
  const index_t n = 3000, d = 8, k = 20;
  const auto x = random_matrix<double>(n, d, 44, false);
  const auto X = ladle::make_view(static_cast<const double*>(x.data()), {n, d});
  std::vector<index_t> pooled;
  double shard_radius = 0;
  for (index_t s = 0; s < 3; ++s) {
    std::vector<index_t> rows;
    for (index_t i = s; i < n; i += 3) rows.push_back(i);  // interleaved shards
    const auto r = ladle::k_center_greedy(ladle::seq, X, rows, k, seed{std::uint64_t(s)});
    for (auto i : r.order) CHECK(i % 3 == s);
    shard_radius = std::max(shard_radius, r.radius);
    pooled.insert(pooled.end(), r.order.begin(), r.order.end());
  }
  const auto red = ladle::k_center_greedy(ladle::seq, X, pooled, k, seed{7});
  // The reduce step equals the naive greedy over the pooled rows from the same first centre.
  const auto want = naive_k_center(x, n, d, {red.order[0]}, k - 1, pooled);
  CHECK(std::vector<index_t>(red.order.begin() + 1, red.order.end()) == want.order);
  // Covering radius of the final centres over ALL rows, computed directly.
  double full = 0;
  for (index_t i = 0; i < n; ++i) {
    double best = INFINITY;
    for (auto c : red.order) {
      double s2 = 0;
      for (index_t f = 0; f < d; ++f) {
        const double e = x[std::size_t(i * d + f)] - x[std::size_t(c * d + f)];
        s2 += e * e;
      }
      best = std::min(best, std::sqrt(s2));
    }
    full = std::max(full, best);
  }
  CHECK(full <= shard_radius + red.radius + 1e-9);
  const auto direct = ladle::k_center_greedy(X, k, seed{7});
  CHECK(full <= 2 * (shard_radius + red.radius));
  CHECK(direct.radius > 0);
}

TEST_CASE("k_center_greedy errors") {
  std::vector<double> x = {0, 1, 2, 3};
  const auto X = ladle::make_view(static_cast<const double*>(x.data()), {index_t(4), index_t(1)});
  CHECK_THROWS_WITH_AS(ladle::k_center_greedy(X, 5, seed{1}),
                       doctest::Contains("'budget' is 5 but only 4"), ladle::invalid_argument);
  CHECK_THROWS_WITH_AS(ladle::k_center_greedy(X, 4, seed{1}, {1}),
                       doctest::Contains("'budget' is 4 but only 3"), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::k_center_greedy(X, -1, seed{1}), ladle::invalid_argument);
  CHECK_THROWS_WITH_AS(ladle::k_center_greedy(X, 1, seed{1}, {1, 1}),
                       doctest::Contains("'initial' repeats row 1"), ladle::invalid_argument);
  CHECK_THROWS_WITH_AS(ladle::k_center_greedy(X, 1, seed{1}, {4}),
                       doctest::Contains("'initial' has 4 at position 0"), ladle::invalid_argument);
  CHECK_THROWS_WITH_AS(ladle::k_center_greedy(ladle::seq, X, std::vector<index_t>{0, 9}, 1, seed{1}),
                       doctest::Contains("'candidates' has 9"), ladle::invalid_argument);
  x[2] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH_AS(ladle::k_center_greedy(X, 1, seed{1}),
                       doctest::Contains("row 2, column 0"), ladle::domain_error);
  const std::vector<double> none;
  CHECK_THROWS_WITH_AS(ladle::k_center_greedy(ladle::make_view(none.data(), {index_t(0), index_t(3)}), 0, seed{1}),
                       doctest::Contains("'X' has no elements (shape 0 x 3)"), ladle::invalid_argument);
  CHECK(ladle::k_center_workspace_bytes(100, 100, 8, 4, true) >= 800);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
