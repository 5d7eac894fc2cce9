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
