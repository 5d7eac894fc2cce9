// Exact kNN: equality with a naive all-pairs reference (random data, duplicates, tied integer
// grids, k = 1 / n - 1 / hundreds, odd tile sizes), self-exclusion by index, determinism across
// policies and tilings, the SIMD filter against its scalar path, and every error path.
#include <ladle/neighbors.hpp>
#include <ladle/core/random.hpp>

#include "neighbors/fixtures/sklearn_knn.hpp"

#include <doctest/doctest.h>

#include "neighbors/naive_knn.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;

namespace {
template <class T>
std::vector<T> random_points(index_t n, index_t d, std::uint64_t s, double offset = 0.0) {
  ladle::philox g(ladle::seed{s});
  std::vector<T> x(std::size_t(n * d));
  for (auto& v : x) v = static_cast<T>(offset + ladle::normal(g));
  return x;
}

// Integer grid coordinates in [0, side): many exact duplicates and tied distances.
template <class T>
std::vector<T> grid_points(index_t n, index_t d, int side, std::uint64_t s) {
  ladle::philox g(ladle::seed{s});
  std::vector<T> x(std::size_t(n * d));
  for (auto& v : x) v = static_cast<T>(ladle::uniform_u32(g, std::uint32_t(side)));
  return x;
}

template <class T>
void check_equal(const ladle::knn_result<T>& got, const naive_knn::result<T>& want) {
  REQUIRE(std::size_t(got.indices.size()) == want.idx.size());
  index_t bad = 0;
  for (std::size_t i = 0; i < want.idx.size(); ++i) {
    if (got.indices[index_t(i)] != want.idx[i] || got.sq_distances[index_t(i)] != want.dist[i])
      ++bad;
  }
  CHECK(bad == 0);
}

template <class T>
void check_knn(const std::vector<T>& q, index_t nq, const std::vector<T>& r, index_t nr, index_t d,
               ladle::knn_options opts) {
  const auto got = ladle::knn(ladle::make_view(q.data(), {nq, d}), ladle::make_view(r.data(), {nr, d}),
                              opts);
  check_equal(got, naive_knn::all_pairs(q, nq, r, nr, d, opts.k, false));
}

template <class T>
void check_self(const std::vector<T>& x, index_t n, index_t d, ladle::knn_options opts) {
  const auto got = ladle::knn_self(ladle::make_view(x.data(), {n, d}), opts);
  check_equal(got, naive_knn::all_pairs(x, n, x, n, d, opts.k, true));
}

template <class T>
bool same_bits(const ladle::knn_result<T>& a, const ladle::knn_result<T>& b) {
  return a.indices.size() == b.indices.size() &&
         std::memcmp(a.indices.data(), b.indices.data(), a.indices.bytes()) == 0 &&
         std::memcmp(a.sq_distances.data(), b.sq_distances.data(), a.sq_distances.bytes()) == 0;
}

}  // namespace

TEST_CASE_TEMPLATE("knn equals the naive reference on random data", T, float, double) {
  const index_t d = 7;
  const auto r = random_points<T>(331, d, 1);
  const auto q = random_points<T>(97, d, 2);
  for (index_t k : {1, 5, 40, 331}) {
    CAPTURE(k);
    check_knn(q, 97, r, 331, d, {k, 0, 0});
    check_knn(q, 97, r, 331, d, {k, 13, 50});  // tiles that divide nothing
    check_knn(q, 97, r, 331, d, {k, 1, 1});
  }
}

TEST_CASE_TEMPLATE("knn_self equals the naive reference, excluding self by index", T, float, double) {
  const index_t n = 257, d = 16;
  const auto x = random_points<T>(n, d, 3, 100.0);  // offset: exercises the centring
  for (index_t k : {index_t(1), index_t(6), index_t(200), n - 1}) {
    CAPTURE(k);
    check_self(x, n, d, {k, 0, 0});
    check_self(x, n, d, {k, 64, 37});
  }
}

TEST_CASE_TEMPLATE("duplicates and tied distances: smaller index wins, self excluded by index", T,
                   float, double) {
  // 400 points on a 4x4x4 grid: every point has ~6 exact duplicates and many tied distances.
  const index_t n = 400, d = 3;
  const auto x = grid_points<T>(n, d, 4, 4);
  for (index_t k : {index_t(1), index_t(3), index_t(10), index_t(120), n - 1}) {
    CAPTURE(k);
    check_self(x, n, d, {k, 0, 0});
    check_self(x, n, d, {k, 17, 29});
    check_knn(x, n, x, n, d, {k, 31, 64});  // not self: i finds itself first
  }
  // All points identical: every distance is 0, neighbours are the other indices in order.
  std::vector<T> same(std::size_t(50 * 5), T(2.5));
  const auto res = ladle::knn_self(ladle::make_view(same.data(), {50, 5}), {4, 8, 8});
  for (index_t i = 0; i < 50; ++i) {
    index_t want = 0;
    for (index_t c = 0; c < 4; ++c, ++want) {
      if (want == i) ++want;
      CHECK(res.indices(i, c) == want);
      CHECK(res.sq_distances(i, c) == T(0));
    }
  }
}

TEST_CASE("exact re-measure: near points far from the origin keep their exact order") {
  // Offsets of 1e4 with spreads of 1e-3: the GEMM expansion in float loses every digit of the
  // distance, the exact formula does not.
  const index_t n = 300, d = 8;
  auto x = random_points<float>(n, d, 5);
  for (auto& v : x) v = 1e4f + 1e-3f * v;
  check_self(x, n, d, {5, 0, 0});
  auto y = random_points<double>(n, d, 6);
  for (auto& v : y) v = 1e8 + 1e-6 * v;
  check_self(y, n, d, {5, 0, 0});
  // Two tight clusters far apart: centring cannot help (the mean lies between them), so the
  // GEMM's rounding error dwarfs the in-cluster distances and only the filter's error margin
  // keeps the true neighbours.
  auto z = random_points<float>(n, d, 16);
  for (index_t i = 0; i < n; ++i)
    for (index_t f = 0; f < d; ++f)
      z[std::size_t(i * d + f)] = (i % 2 ? 1e3f : -1e3f) + 1e-2f * z[std::size_t(i * d + f)];
  check_self(z, n, d, {5, 0, 0});
  check_knn(z, n, z, n, d, {7, 32, 64});
}

TEST_CASE("a few hundred neighbours and a larger problem") {
  const index_t n = 1500, d = 33;
  const auto x = random_points<float>(n, d, 7);
  check_self(x, n, d, {300, 0, 0});
  const auto g = grid_points<float>(n, 4, 3, 8);
  check_self(g, n, 4, {250, 128, 512});
}

TEST_CASE("results do not depend on policy, tiling or thread count") {
  const index_t n = 2000, d = 12;
  const auto x = random_points<float>(n, d, 9);
  const auto v = ladle::make_view(x.data(), {n, d});
  const auto a = ladle::knn_self(ladle::seq, v, {8, 0, 0});
  const auto b = ladle::knn_self(ladle::par(2), v, {8, 0, 0});
  const auto c = ladle::knn_self(ladle::par, v, {8, 100, 333});
  const auto e = ladle::knn_self(ladle::par(3), v, {8, 7, 2000});
  CHECK(same_bits(a, b));
  CHECK(same_bits(a, c));
  CHECK(same_bits(a, e));
  const auto g = grid_points<double>(n, 3, 5, 10);
  const auto gv = ladle::make_view(g.data(), {n, 3});
  CHECK(same_bits(ladle::knn_self(gv, {20, 0, 0}), ladle::knn_self(ladle::par(2), gv, {20, 64, 64})));
}

TEST_CASE("strided inputs and outputs, int32 indices, double distances for float points") {
  const index_t n = 120, d = 5;
  const auto x = random_points<float>(n, d, 11);
  // Column-major copy of the same points: strides (1, n).
  std::vector<float> cm(std::size_t(n * d));
  for (index_t i = 0; i < n; ++i)
    for (index_t f = 0; f < d; ++f) cm[std::size_t(f * n + i)] = x[std::size_t(i * d + f)];
  const auto want = naive_knn::all_pairs(x, n, x, n, d, 4, true);
  // Outputs interleaved in wider buffers (row stride 9, column stride 2).
  std::vector<std::int32_t> ib(std::size_t(n * 9), -1);
  std::vector<double> db(std::size_t(n * 9), -1.0);
  auto iv = ladle::make_view(ib.data(), {n, 4}, {9, 2});
  auto dv = ladle::make_view(db.data(), {n, 4}, {9, 2});
  ladle::knn_self_into(ladle::par(2), ladle::make_view(cm.data(), {n, d}, {1, n}), iv, dv, {4, 16, 16});
  for (index_t i = 0; i < n; ++i)
    for (index_t c = 0; c < 4; ++c) {
      CHECK(iv(i, c) == want.idx[std::size_t(i * 4 + c)]);
      CHECK(dv(i, c) == double(want.dist[std::size_t(i * 4 + c)]));
    }
  for (index_t i = 0; i < n; ++i) CHECK(ib[std::size_t(i * 9 + 1)] == -1);  // gaps untouched
}

TEST_CASE("the SIMD filter scan visits the same candidates as the scalar path") {
  using ladle::detail::knn::scan_row;
  ladle::philox g(ladle::seed{12});
  for (index_t n : {1, 7, 16, 33, 100, 257}) {
    std::vector<float> a(static_cast<std::size_t>(n)), c(static_cast<std::size_t>(n));
    for (index_t j = 0; j < n; ++j) {
      a[std::size_t(j)] = ladle::uniform_float(g);
      c[std::size_t(j)] = -ladle::uniform_float(g);
    }
    for (float t0 : {-2.0f, -0.1f, 0.0f, 0.3f, 2.0f}) {
      auto run = [&](auto use_simd) {
        std::vector<index_t> seen;
        std::vector<float> cc = c;
        float t = t0;
        scan_row<decltype(use_simd)::value>(cc.data(), a.data(), n, t, [&](index_t j) {
          seen.push_back(j);
          t -= 0.01f;  // the threshold drops as candidates arrive
        });
        CHECK(std::all_of(cc.begin(), cc.end(), [](float v) { return v == 0.0f; }));
        return seen;
      };
      CHECK(run(std::true_type{}) == run(std::false_type{}));
    }
  }
}

TEST_CASE("the exact distance is the documented formula (vectorised or not)") {
  using ladle::detail::knn::exact_sq_distance;
  ladle::philox g(ladle::seed{17});
  for (index_t d : {1, 5, 8, 13, 64, 100}) {
    std::vector<double> a(static_cast<std::size_t>(d)), b(static_cast<std::size_t>(d));
    for (index_t j = 0; j < d; ++j) {
      a[std::size_t(j)] = 1e3 * ladle::normal(g);
      b[std::size_t(j)] = a[std::size_t(j)] + ladle::normal(g);
    }
    double s[8] = {};
    for (index_t j = 0; j < d; ++j) {
      const double e = a[std::size_t(j)] - b[std::size_t(j)];
      s[j % 8] = std::fma(e, e, s[j % 8]);
    }
    const double want = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    CHECK(exact_sq_distance(a.data(), b.data(), d) == want);
  }
}

TEST_CASE("workspace bound and tile sizes") {
  ladle::knn_options o;
  o.k = 6;
  const auto t = ladle::knn_tile_sizes(100000, 100000, 64, o, 4);
  CHECK(t.query_block >= 1);
  CHECK(t.reference_block >= 1);
  const std::size_t w = ladle::knn_workspace_bytes(100000, 100000, 64, o, 4);
  const std::size_t qb = std::size_t(t.query_block), rb = std::size_t(t.reference_block);
  CHECK(w >= qb * rb * 4 + (qb + rb) * 64 * 4);  // at least the distance tile and both tiles
  CHECK(w < std::size_t(16) << 20);               // bounded, independent of n for fixed tiles
  CHECK(ladle::knn_workspace_bytes(1000000, 1000000, 64, o, 4) == w);
  // Tiles never exceed the problem.
  const auto small = ladle::knn_tile_sizes(10, 20, 3, o, 8);
  CHECK(small.query_block == 10);
  CHECK(small.reference_block == 20);
  CHECK_THROWS_AS(ladle::knn_workspace_bytes(10, 10, 3, o, 3), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::knn_workspace_bytes(-1, 10, 3, o, 4), ladle::invalid_argument);
}

TEST_CASE("bad input raises ladle errors and leaves the inputs untouched") {
  const index_t n = 10, d = 3;
  auto x = random_points<float>(n, d, 13);
  const auto copy = x;
  const auto xv = ladle::make_view(x.data(), {n, d});
  std::vector<index_t> ib(std::size_t(n * 12));
  std::vector<float> db(std::size_t(n * 12));
  auto iv = [&](index_t rows, index_t k) { return ladle::make_view(ib.data(), {rows, k}); };
  auto dv = [&](index_t rows, index_t k) { return ladle::make_view(db.data(), {rows, k}); };

  CHECK_THROWS_AS(ladle::knn_self(xv, {0, 0, 0}), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::knn_self(xv, {n, 0, 0}), ladle::invalid_argument);  // k > n - 1
  CHECK_NOTHROW(ladle::knn_self(xv, {n - 1, 0, 0}));
  CHECK_THROWS_AS(ladle::knn(xv, xv, {n + 1, 0, 0}), ladle::invalid_argument);
  CHECK_NOTHROW(ladle::knn(xv, xv, {n, 0, 0}));
  CHECK_THROWS_AS(ladle::knn_self(xv, {3, -1, 0}), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::knn_self(xv, {3, 0, -4}), ladle::invalid_argument);
  // dimension mismatch
  const auto q4 = random_points<float>(2, 4, 14);
  CHECK_THROWS_AS(ladle::knn(ladle::make_view(q4.data(), {2, 4}), xv, {3, 0, 0}),
                  ladle::invalid_argument);
  // zero features, one point
  CHECK_THROWS_AS(ladle::knn_self(ladle::make_view(x.data(), {n, 0}), {1, 0, 0}),
                  ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::knn_self(ladle::make_view(x.data(), {1, d}), {1, 0, 0}),
                  ladle::invalid_argument);
  // output shapes
  CHECK_THROWS_AS(ladle::knn_self_into(xv, iv(n, 3), dv(n, 2), {3, 0, 0}), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::knn_self_into(xv, iv(n - 1, 3), dv(n, 3), {3, 0, 0}),
                  ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::knn_self_into(xv, iv(n, 3), dv(n, 3), {4, 0, 0}), ladle::invalid_argument);
  // outputs overlapping each other or the input
  CHECK_THROWS_AS(ladle::knn_self_into(xv, iv(n, 3),
                                       ladle::make_view(reinterpret_cast<float*>(ib.data()), {n, 3}),
                                       {3, 0, 0}),
                  ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::knn_self_into(ladle::as_const(xv), iv(n, 3), ladle::make_view(x.data(), {n, 3}),
                                       {3, 0, 0}),
                  ladle::invalid_argument);
  // index type too narrow for the references
  std::vector<float> big(std::size_t(300 * 1), 0.f);
  std::vector<std::int8_t> i8(300);
  std::vector<float> d8(300);
  CHECK_THROWS_AS(ladle::knn_self_into(ladle::make_view(big.data(), {300, 1}),
                                       ladle::make_view(i8.data(), {300, 1}),
                                       ladle::make_view(d8.data(), {300, 1}), {1, 0, 0}),
                  ladle::invalid_argument);
  // device memory
  const auto dev = ladle::make_view(x.data(), {n, d}, ladle::device::cuda(0));
  CHECK_THROWS_AS(ladle::knn_self(dev, {3, 0, 0}), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::knn_self_into(xv, ladle::make_view(ib.data(), {n, 3}, ladle::device::cuda(0)),
                                       dv(n, 3), {3, 0, 0}),
                  ladle::invalid_argument);
  CHECK(x == copy);

  // NaN / Inf, in queries or references
  auto bad = x;
  bad[7] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(ladle::knn_self(ladle::make_view(bad.data(), {n, d}), {3, 0, 0}), ladle::domain_error);
  CHECK_THROWS_AS(ladle::knn(ladle::make_view(bad.data(), {n, d}), xv, {3, 0, 0}), ladle::domain_error);
  bad[7] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_AS(ladle::knn(xv, ladle::make_view(bad.data(), {n, d}), {3, 0, 0}), ladle::domain_error);
  // squared distances that overflow float
  bad = x;
  bad[4] = 1e30f;
  CHECK_THROWS_AS(ladle::knn_self(ladle::make_view(bad.data(), {n, d}), {3, 0, 0}), ladle::domain_error);
  try {
    (void)ladle::knn_self(xv, {n, 0, 0});
    FAIL("no throw");
  } catch (const ladle::error& e) {
    CHECK(std::string(e.what()).find("ladle::knn_self: 'k'") != std::string::npos);
  }
}

TEST_CASE("zero queries is a no-op") {
  const auto r = random_points<double>(5, 2, 15);
  std::vector<double> q;
  const auto res = ladle::knn(ladle::make_view(q.data(), {0, 2}), ladle::make_view(r.data(), {5, 2}),
                              {2, 0, 0});
  CHECK(res.indices.extent(0) == 0);
  CHECK(res.indices.extent(1) == 2);
}

TEST_CASE_TEMPLATE("matches scikit-learn NearestNeighbors(algorithm='brute') on integer data", T,
                   float, double) {
  namespace f = sklearn_knn;
  std::vector<T> ref(std::begin(f::references), std::end(f::references));
  std::vector<T> qry(std::begin(f::queries), std::end(f::queries));
  const auto rv = ladle::make_view(ref.data(), {f::n_ref, f::dim});
  const auto qv = ladle::make_view(qry.data(), {f::n_query, f::dim});
  const auto a = ladle::knn(qv, rv, {f::k_query, 0, 0});
  for (index_t i = 0; i < f::n_query * f::k_query; ++i) {
    CHECK(a.indices[i] == f::query_indices[i]);
    CHECK(a.sq_distances[i] == T(f::query_sq_distances[i]));
  }
  const auto b = ladle::knn_self(ladle::par(2), rv, {f::k_self, 0, 0});
  for (index_t i = 0; i < f::n_ref * f::k_self; ++i) {
    CHECK(b.indices[i] == f::self_indices[i]);
    CHECK(b.sq_distances[i] == T(f::self_sq_distances[i]));
  }
}

}  // namespace LADLE_TEST_FILE
}  // namespace
