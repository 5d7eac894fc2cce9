// k-means: Lloyd against scikit-learn 1.2's KMeans(init=array, n_init=1, algorithm='lloyd')
// (fixtures/make_kmeans_fixtures.py: labels exactly, centroids and inertia to 1e-12 relative,
// the same iteration count, on blobs, overlapping data, a capped run, tol = 0, k = 1, k = n and
// an empty cluster); k-means++ seeding against its exact first- and second-centre law
// (chi-square); restarts, thread counts, layouts, float input; errors.
#include "../error_of.hpp"
#include "fixtures/kmeans_fixtures.hpp"
#include "helpers.hpp"

#include <ladle/core/kmeans.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;
using ladle::seed;

namespace {

struct kmeans_sklearn_case {
  const char* name;
  long n, d, k, max_iter;
  double tol;
  const double *X, *init;
  const long* labels;
  const double* centroids;
  double inertia;
  long n_iter;
};
#define KMEANS_SKLEARN_CASE(ns)                                                               \
  kmeans_sklearn_case {                                                                       \
    #ns, kmeans_fixture::ns::n, kmeans_fixture::ns::d, kmeans_fixture::ns::k,                 \
        kmeans_fixture::ns::max_iter, kmeans_fixture::ns::tol, kmeans_fixture::ns::X,         \
        kmeans_fixture::ns::init, kmeans_fixture::ns::labels, kmeans_fixture::ns::centroids,  \
        kmeans_fixture::ns::inertia, kmeans_fixture::ns::n_iter                               \
  }

void kmeans_check_sklearn_case(const kmeans_sklearn_case& c) {
  CAPTURE(c.name);
  const index_t n = c.n, d = c.d, k = c.k;
  const auto X = ladle::make_view(c.X, {n, d});
  const auto C = ladle::make_view(c.init, {k, d});
  ladle::kmeans_options opts;
  opts.max_iterations = c.max_iter;
  opts.tolerance = c.tol;
  const auto r = ladle::kmeans(X, C, opts);
  CHECK(r.iterations == c.n_iter);
  REQUIRE(r.labels.size() == std::size_t(n));
  index_t label_mismatch = 0;
  for (index_t i = 0; i < n; ++i) label_mismatch += r.labels[std::size_t(i)] != c.labels[i];
  CHECK(label_mismatch == 0);
  double scale = 1, err = 0;
  for (index_t q = 0; q < k * d; ++q) scale = std::max(scale, std::fabs(c.centroids[q]));
  for (index_t q = 0; q < k * d; ++q)
    err = std::max(err, std::fabs(r.centroids.data()[q] - c.centroids[q]));
  CHECK(err <= 1e-12 * scale);
  CHECK(std::fabs(r.inertia - c.inertia) <= 1e-12 * std::max(1.0, c.inertia));
  // Same bits with threads and a column-major copy of X.
  std::vector<double> colmajor(std::size_t(n * d));
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < d; ++j) colmajor[std::size_t(j * n + i)] = c.X[i * d + j];
  const auto Xt = ladle::make_view(static_cast<const double*>(colmajor.data()), {n, d}, {index_t(1), n});
  const auto r2 = ladle::kmeans(ladle::par(3), Xt, C, opts);
  CHECK(r2.labels == r.labels);
  CHECK(std::memcmp(r2.centroids.data(), r.centroids.data(), sizeof(double) * std::size_t(k * d)) == 0);
  CHECK(r2.inertia == r.inertia);
  CHECK(r2.iterations == r.iterations);
}

// Deterministic pseudo-random rows for the property tests (splitmix64, independent of ladle).
std::vector<double> kmeans_test_rows(index_t n, index_t d, std::uint64_t s) {
  std::vector<double> v(std::size_t(n * d));
  for (auto& x : v) {
    s += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    x = double(z >> 11) / 9007199254740992.0 * 10.0 - 5.0;
  }
  // Shift some rows so there is cluster structure.
  for (index_t i = 0; i < n; ++i) v[std::size_t(i * d)] += 20.0 * double(i % 5);
  return v;
}

}  // namespace

TEST_CASE("kmeans: Lloyd equals scikit-learn from the same initial centres") {
  for (const auto& c : {KMEANS_SKLEARN_CASE(blobs), KMEANS_SKLEARN_CASE(overlap),
                        KMEANS_SKLEARN_CASE(capped), KMEANS_SKLEARN_CASE(strict),
                        KMEANS_SKLEARN_CASE(single), KMEANS_SKLEARN_CASE(every_row),
                        KMEANS_SKLEARN_CASE(empty)})
    kmeans_check_sklearn_case(c);
}

TEST_CASE("kmeans: k = n puts every row in its own cluster with zero inertia") {
  namespace E = kmeans_fixture::every_row;
  const auto r = ladle::kmeans(ladle::make_view(E::X, {index_t(E::n), index_t(E::d)}),
                               ladle::make_view(E::init, {index_t(E::k), index_t(E::d)}));
  CHECK(r.inertia == 0);
  for (index_t i = 0; i < E::n; ++i)
    for (index_t j = 0; j < E::d; ++j)
      CHECK(r.centroids(r.labels[std::size_t(i)], j) == E::X[i * E::d + j]);
}

TEST_CASE("kmeans_plusplus: first centre uniform, next ones by the greedy D^2 law (chi-square)") {
  // Five points on a line; k = 2. For trials T, given first centre f, candidate j has potential
  // pot_j = sum_i min(D_i^2, (x_i - x_j)^2) and is drawn with p_j = D_j^2 / sum D^2; the best of T
  // draws (ties: the earlier draw) is j with probability sum_t P(pot > pot_j)^(t-1) p_j
  // P(pot >= pot_j)^(T-t): draws before the t-th beat j strictly, later ones do not beat it.
  const std::vector<double> xs = {0.0, 1.0, 3.0, 7.0, 15.0};
  const index_t n = 5;
  for (const index_t trials : {index_t(1), index_t(3)}) {
    CAPTURE(trials);
    std::map<std::vector<index_t>, double> expected;
    for (index_t f = 0; f < n; ++f) {
      std::vector<double> D2(5), pot(5), p(5);
      double total = 0;
      for (index_t i = 0; i < n; ++i) total += D2[i] = (xs[i] - xs[f]) * (xs[i] - xs[f]);
      for (index_t j = 0; j < n; ++j) {
        p[j] = D2[j] / total;
        for (index_t i = 0; i < n; ++i)
          pot[j] += std::min(D2[i], (xs[i] - xs[j]) * (xs[i] - xs[j]));
      }
      for (index_t j = 0; j < n; ++j) {
        if (p[j] == 0) continue;
        double ge = 0, gt = 0;
        for (index_t q = 0; q < n; ++q) {
          if (p[q] == 0) continue;
          ge += pot[q] >= pot[j] ? p[q] : 0;
          gt += pot[q] > pot[j] ? p[q] : 0;
        }
        double pj = 0;
        for (index_t t = 1; t <= trials; ++t)
          pj += std::pow(gt, double(t - 1)) * p[j] * std::pow(ge, double(trials - t));
        expected[{f, j}] = pj / n;
      }
    }
    std::map<std::vector<index_t>, long> observed;
    const long runs = 20000;
    for (long r = 0; r < runs; ++r) {
      const auto c = ladle::kmeans_plusplus(ladle::make_view(xs.data(), {n, index_t(1)}), 2,
                                            seed(std::uint64_t(r) * 7919 + 11), trials);
      ++observed[{c[0], c[1]}];
    }
    const auto chi = st::chi_square(expected, observed, runs);
    CHECK(chi.ok());
  }
}

TEST_CASE("kmeans_plusplus: centres are distinct rows; duplicates never drawn while mass is left") {
  const index_t n = 1000, d = 9, k = 20;
  const auto v = kmeans_test_rows(n, d, 3);
  const auto c = ladle::kmeans_plusplus(ladle::make_view(v.data(), {n, d}), k, seed(5));
  REQUIRE(c.size() == std::size_t(k));
  for (const index_t r : c) CHECK((r >= 0 && r < n));
  CHECK(st::sorted_copy(c).size() == std::size_t(k));
  auto sorted = st::sorted_copy(c);
  CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
  // Three distinct rows, each four times: the first three centres are the three values; then
  // every row coincides with a centre and the rest are uniform rows.
  std::vector<double> dup;
  for (int rep = 0; rep < 4; ++rep)
    for (double value : {-1.0, 2.0, 10.0}) dup.insert(dup.end(), {value, value * 0.5});
  for (std::uint64_t s = 0; s < 50; ++s) {
    const auto cd = ladle::kmeans_plusplus(ladle::make_view(dup.data(), {index_t(12), index_t(2)}),
                                           5, seed(s));
    std::vector<double> firsts = {dup[std::size_t(cd[0] * 2)], dup[std::size_t(cd[1] * 2)],
                                  dup[std::size_t(cd[2] * 2)]};
    std::sort(firsts.begin(), firsts.end());
    CHECK(firsts == std::vector<double>{-1.0, 2.0, 10.0});
  }
  const auto r = ladle::kmeans(ladle::make_view(dup.data(), {index_t(12), index_t(2)}), 5, seed(1));
  CHECK(r.inertia == 0);
}

TEST_CASE("kmeans: seeding + Lloyd, restarts, threads, float input") {
  const index_t n = 700, d = 11, k = 7;
  const auto v = kmeans_test_rows(n, d, 9);
  const auto X = ladle::make_view(v.data(), {n, d});
  const auto one = ladle::kmeans(X, k, seed(42));
  // kmeans = Lloyd from kmeans_plusplus's rows (restart 0 uses the same stream).
  const auto rows = ladle::kmeans_plusplus(X, k, seed(42));
  std::vector<double> init;
  for (const index_t r : rows) init.insert(init.end(), v.begin() + r * d, v.begin() + (r + 1) * d);
  const auto from = ladle::kmeans(X, ladle::make_view(init.data(), {k, d}));
  CHECK(from.labels == one.labels);
  CHECK(from.inertia == one.inertia);
  CHECK(from.iterations == one.iterations);
  CHECK(one.restart == 0);
  // The inertia is the sum of squared distances to the assigned centroids, each the mean of its
  // rows (a converged Lloyd fixed point: no row is closer to another centroid).
  double inertia = 0;
  std::vector<double> sum(std::size_t(k * d), 0.0);
  std::vector<index_t> count(std::size_t(k), 0);
  for (index_t i = 0; i < n; ++i) {
    const index_t c = one.labels[std::size_t(i)];
    ++count[std::size_t(c)];
    double best = INFINITY, mine = 0;
    for (index_t q = 0; q < k; ++q) {
      double s = 0;
      for (index_t j = 0; j < d; ++j) {
        const double e = v[std::size_t(i * d + j)] - one.centroids(q, j);
        s += e * e;
      }
      best = std::min(best, s);
      if (q == c) mine = s;
    }
    CHECK(mine <= best * (1 + 1e-12));
    inertia += mine;
    for (index_t j = 0; j < d; ++j) sum[std::size_t(c * d + j)] += v[std::size_t(i * d + j)];
  }
  CHECK(std::fabs(inertia - one.inertia) <= 1e-10 * inertia);
  double shift = 0;
  for (index_t q = 0; q < k; ++q)
    for (index_t j = 0; j < d; ++j)
      shift = std::max(shift, std::fabs(sum[std::size_t(q * d + j)] / count[std::size_t(q)] -
                                        one.centroids(q, j)));
  CHECK(shift < 1e-2);  // converged within sklearn's tolerance, not necessarily strictly
  // Restarts: restart 0 is the single run, so the best of three is no worse.
  ladle::kmeans_options opts;
  opts.restarts = 3;
  const auto five = ladle::kmeans(X, k, seed(42), opts);
  CHECK(five.inertia <= one.inertia);
  CHECK((five.restart >= 0 && five.restart < 3));
  const auto five_par = ladle::kmeans(ladle::par(4), X, k, seed(42), opts);
  CHECK(five_par.labels == five.labels);
  CHECK(five_par.inertia == five.inertia);
  CHECK(std::memcmp(five_par.centroids.data(), five.centroids.data(),
                    sizeof(double) * std::size_t(k * d)) == 0);
  // float rows give the bits of the same values in double (distances widen to double).
  std::vector<float> vf(v.begin(), v.end());
  std::vector<double> vd(vf.begin(), vf.end());
  const auto rf = ladle::kmeans(ladle::make_view(vf.data(), {n, d}), k, seed(3), opts);
  const auto rd = ladle::kmeans(ladle::make_view(vd.data(), {n, d}), k, seed(3), opts);
  CHECK(rf.labels == rd.labels);
  CHECK(rf.inertia == rd.inertia);
  CHECK(std::memcmp(rf.centroids.data(), rd.centroids.data(), sizeof(double) * std::size_t(k * d)) == 0);
  // Another seed gives another seeding.
  CHECK(ladle::kmeans_plusplus(X, k, seed(43)) != rows);
}

TEST_CASE("kmeans: errors name the function, the argument and the value; inputs unchanged") {
  std::vector<double> v = {0, 0, 1, 1, 2, 2, 3, 3};
  const auto before = v;
  const auto X = ladle::make_view(static_cast<const double*>(v.data()), {index_t(4), index_t(2)});
  CHECK(error_of([&] { ladle::kmeans(X, 0, seed(1)); }).find("ladle::kmeans: 'k' must be in [1, 4], got 0") !=
        std::string::npos);
  CHECK(error_of([&] { ladle::kmeans(X, 5, seed(1)); }).find("got 5") != std::string::npos);
  CHECK(error_of([&] { ladle::kmeans_plusplus(X, 9, seed(1)); }).find("kmeans_plusplus: 'k'") !=
        std::string::npos);
  ladle::kmeans_options bad;
  bad.max_iterations = 0;
  CHECK(error_of([&] { ladle::kmeans(X, 2, seed(1), bad); }).find("max_iterations") != std::string::npos);
  bad = {};
  bad.tolerance = -1;
  CHECK(error_of([&] { ladle::kmeans(X, 2, seed(1), bad); }).find("tolerance") != std::string::npos);
  bad.tolerance = std::nan("");
  CHECK(error_of([&] { ladle::kmeans(X, 2, seed(1), bad); }).find("tolerance") != std::string::npos);
  bad = {};
  bad.restarts = 0;
  CHECK(error_of([&] { ladle::kmeans(X, 2, seed(1), bad); }).find("restarts") != std::string::npos);
  bad = {};
  bad.local_trials = -2;
  CHECK(error_of([&] { ladle::kmeans(X, 2, seed(1), bad); }).find("'local_trials' must not be negative, got -2") !=
        std::string::npos);
  CHECK(error_of([&] { ladle::kmeans_plusplus(X, 2, seed(1), -1); }).find("local_trials") !=
        std::string::npos);
  // Non-finite data: domain error naming the row and column.
  std::vector<double> nan_rows = v;
  nan_rows[5] = std::numeric_limits<double>::infinity();
  const auto msg = error_of<ladle::domain_error>(
      [&] { ladle::kmeans(ladle::make_view(nan_rows.data(), {index_t(4), index_t(2)}), 2, seed(1)); });
  CHECK(msg.find("kmeans: 'X'") != std::string::npos);
  CHECK(msg.find("row 2, column 1") != std::string::npos);
  // Empty X.
  CHECK(error_of([&] { ladle::kmeans(ladle::make_view(v.data(), {index_t(0), index_t(2)}), 1, seed(1)); })
            .find("X") != std::string::npos);
  // Magnitudes whose squared distances could overflow.
  std::vector<double> huge = {1e160, 0, -1e160, 0};
  CHECK(error_of<ladle::domain_error>([&] {
          ladle::kmeans(ladle::make_view(huge.data(), {index_t(2), index_t(2)}), 2, seed(1));
        }).find("overflow") != std::string::npos);
  // Initial centroids: shape, rows, values.
  std::vector<double> init = {0, 0, 1, 1, 2, 2};
  CHECK(error_of([&] { ladle::kmeans(X, ladle::make_view(init.data(), {index_t(2), index_t(3)})); })
            .find("'initial_centroids' has 3 columns but X has 2") != std::string::npos);
  CHECK(error_of([&] { ladle::kmeans(X, ladle::make_view(init.data(), {index_t(0), index_t(2)})); })
            .find("'initial_centroids' has 0 rows") != std::string::npos);
  init[3] = std::nan("");
  CHECK(error_of<ladle::domain_error>([&] {
          ladle::kmeans(X, ladle::make_view(init.data(), {index_t(3), index_t(2)}));
        }).find("initial_centroids") != std::string::npos);
  init[3] = 1e300;
  CHECK(error_of<ladle::domain_error>([&] {
          ladle::kmeans(X, ladle::make_view(init.data(), {index_t(3), index_t(2)}));
        }).find("overflow") != std::string::npos);
  CHECK(v == before);
  CHECK(ladle::kmeans_workspace_bytes(100, 8, 4, 8, false) >
        ladle::kmeans_workspace_bytes(100, 8, 4, 8, true));
}

}  // namespace LADLE_TEST_FILE
}  // namespace
