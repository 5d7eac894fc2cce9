// The register-blocked filter kernel of the exact kNN: the whole search against a naive all-pairs
// reference at feature counts around the kernel's vector widths and panel sizes (d = 1, 3, 17,
// 255, 256, 257), point counts that fill no panel or query group evenly, several tilings, float
// and double; the kernel's values against a double dot product within the filter's error bound
// (panel and group layouts, padding rows never screened); the cache-derived tile sizes and their
// override. Built with LADLE_DISABLE_SIMD or for SSE2, the same expectations hold, so every build
// returns the same answer.
#include <ladle/core/random.hpp>
#include <ladle/neighbors.hpp>

#include <doctest/doctest.h>

#include "neighbors/naive_knn.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

using ladle::index_t;

// The file's own namespace: the suite also builds as unity batches, where LADLE_TEST_FILE names
// a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

// Normal points around `offset`, or small integers (many exact ties) when `grid` > 0.
template <class T>
std::vector<T> kernel_test_points(index_t n, index_t d, std::uint64_t s, double offset, int grid) {
  ladle::philox g(ladle::seed{s});
  std::vector<T> x(std::size_t(n * d));
  for (auto& v : x)
    v = grid > 0 ? static_cast<T>(ladle::uniform_u32(g, std::uint32_t(grid)))
                 : static_cast<T>(offset + ladle::normal(g));
  return x;
}

TEST_CASE_TEMPLATE("knn kernel: d around the vector widths equals the naive reference", T, float,
                   double) {
  // nq and nr fill no query group (4, 6, 8 rows) and no panel (2 .. 48 references) evenly.
  const index_t nq = 29, nr = 103;
  for (index_t d : {1, 3, 17, 255, 256, 257}) {
    CAPTURE(d);
    const auto r = kernel_test_points<T>(nr, d, 100 + std::uint64_t(d), 5.0, 0);
    const auto q = kernel_test_points<T>(nq, d, 200 + std::uint64_t(d), 5.0, 0);
    for (const ladle::knn_options o : {ladle::knn_options{1, 0, 0}, ladle::knn_options{7, 5, 1},
                                       ladle::knn_options{10, 13, 50},
                                       ladle::knn_options{nr, 64, 97}}) {
      CAPTURE(o.k);
      CAPTURE(o.query_block);
      CAPTURE(o.reference_block);
      CHECK(naive_knn::mismatches(q, nq, r, nr, d, false, o) == 0);
      CHECK(naive_knn::mismatches(r, nr, r, nr, d, true, {std::min(o.k, nr - 1), o.query_block,
                                                           o.reference_block}) == 0);
    }
  }
}

TEST_CASE_TEMPLATE("knn kernel: tied integer points at d = 1, 3, 17", T, float, double) {
  const index_t n = 150;
  for (index_t d : {1, 3, 17}) {
    CAPTURE(d);
    const auto x = kernel_test_points<T>(n, d, 300 + std::uint64_t(d), 0.0, d == 17 ? 2 : 5);
    for (index_t k : {1, 4, 30}) {
      CAPTURE(k);
      CHECK(naive_knn::mismatches(x, n, x, n, d, true, {k, 0, 0}) == 0);
      CHECK(naive_knn::mismatches(x, n, x, n, d, true, {k, 9, 2}) == 0);
    }
  }
}

TEST_CASE_TEMPLATE("knn kernel: filter values within the error bound, padding rows not screened",
                   T, float, double) {
  using shape = ladle::detail::knn::kernel_shape<T>;
  constexpr index_t MR = shape::mr, NR = shape::nr;
  const T inf = std::numeric_limits<T>::infinity();
  const double u = double(std::numeric_limits<T>::epsilon()) / 2.0;
  for (index_t d : {1, 3, 17, 257}) {
    CAPTURE(d);
    const auto qv = kernel_test_points<T>(MR, d, 400 + std::uint64_t(d), 0.0, 0);
    const auto rv = kernel_test_points<T>(NR, d, 500 + std::uint64_t(d), 0.0, 0);
    auto group = ladle::detail::allocate_aligned<T>(MR * d);
    auto panel = ladle::detail::allocate_aligned<T>(NR * d);
    auto a = ladle::detail::allocate_aligned<T>(NR);
    auto lane = ladle::detail::allocate_aligned<T>(NR);
    for (index_t f = 0; f < d; ++f) {
      for (index_t i = 0; i < MR; ++i) group.get()[f * MR + i] = qv[std::size_t(i * d + f)];
      for (index_t l = 0; l < NR; ++l) panel.get()[f * NR + l] = rv[std::size_t(l * d + f)];
    }
    for (index_t l = 0; l < NR; ++l) a.get()[l] = T(l);  // distinct per column: catches a mix-up
    for (index_t rows : {MR, MR - 1, index_t(1)}) {
      CAPTURE(rows);
      std::vector<T> th(std::size_t(MR), inf);
      std::vector<index_t> seen;
      index_t out_of_bound = 0;
      ladle::detail::knn::filter_panel<T>(
          group.get(), panel.get(), a.get(), d, th.data(), rows, lane.get(), [&](index_t i) {
            seen.push_back(i);
            for (index_t l = 0; l < NR; ++l) {
              double dot = 0.0, mag = 0.0;
              for (index_t f = 0; f < d; ++f) {
                const double p = double(qv[std::size_t(i * d + f)]) * double(rv[std::size_t(l * d + f)]);
                dot += p;
                mag += std::fabs(p);
              }
              const double bound = 1.01 * double(d) * u * mag / (1.0 - double(d) * u);
              if (!(std::fabs(double(lane.get()[l]) - dot) <= bound)) ++out_of_bound;
            }
          });
      CHECK(out_of_bound == 0);
      std::vector<index_t> want(static_cast<std::size_t>(rows));
      for (index_t i = 0; i < rows; ++i) want[std::size_t(i)] = i;
      CHECK(seen == want);  // every real row (an infinite threshold passes everything), in order
      // A threshold of -inf screens every column out: nothing is reported.
      std::vector<T> closed(std::size_t(MR), -inf);
      index_t calls = 0;
      ladle::detail::knn::filter_panel<T>(group.get(), panel.get(), a.get(), d, closed.data(),
                                          rows, lane.get(), [&](index_t) { ++calls; });
      CHECK(calls == 0);
    }
  }
}

TEST_CASE("knn kernel: tile sizes follow the documented cache constants; options override") {
  using namespace ladle::detail::knn;
  ladle::knn_options o;
  o.k = 5;
  for (std::size_t elem : {std::size_t(4), std::size_t(8)}) {
    const index_t np = panel_rows(elem);
    CAPTURE(elem);
    for (index_t d : {1, 16, 64, 256, 4096}) {
      CAPTURE(d);
      const auto t = ladle::knn_tile_sizes(1000000, 1000000, d, o, elem);
      // Reference tile: whole panels, half of L1 unless one panel is already larger, <= 1024 rows.
      CHECK(t.reference_block % np == 0);
      CHECK(t.reference_block <= 1024);
      CHECK((t.reference_block == np ||
             std::size_t(t.reference_block) * std::size_t(d) * elem <= assumed_l1_bytes / 2));
      const bool next_too_big =
          std::size_t(t.reference_block + np) * std::size_t(d) * elem > assumed_l1_bytes / 2 ||
          t.reference_block + np > 1024;
      CHECK(next_too_big);  // and no smaller than that allows
      // Query tile: a quarter of L2 when that is 64 to 1024 rows.
      CHECK(t.query_block >= 64);
      CHECK(t.query_block <= 1024);
      CHECK((t.query_block == 64 ||
             std::size_t(t.query_block) * std::size_t(d) * elem <= assumed_l2_bytes / 4));
    }
    // Explicit options win; the reference tile is rounded up to whole panels, never past n.
    const auto e = ladle::knn_tile_sizes(100000, 100000, 64, {5, 37, 1}, elem);
    CHECK(e.query_block == 37);
    CHECK(e.reference_block == np);
    const auto e2 = ladle::knn_tile_sizes(100000, 100000, 64, {5, 3000, 5 * np}, elem);
    CHECK(e2.query_block == 3000);
    CHECK(e2.reference_block == 5 * np);
    const auto small = ladle::knn_tile_sizes(9, np + 1, 64, {5, 100, np}, elem);
    CHECK(small.query_block == 9);
    CHECK(small.reference_block == np);
    CHECK(ladle::knn_tile_sizes(9, np + 1, 64, {5, 100, np + 1}, elem).reference_block == np + 1);
  }
}

}  // namespace LADLE_TEST_FILE
}  // namespace
