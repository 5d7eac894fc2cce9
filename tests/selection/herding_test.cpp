// Herding: the order and distances of a naive numpy herding (fixtures/make_kmeans_fixtures.py:
// argmin |t mu - S - x_i|^2, first minimum), overall and per class; ties to the lowest index on
// exact integer data; thread counts, float input, strided rows; errors.
#include "../error_of.hpp"
#include "fixtures/kmeans_fixtures.hpp"
#include "helpers.hpp"

#include <ladle/selection/herding.hpp>

#include <cmath>
#include <limits>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;

TEST_CASE("herding: equals a naive numpy herding (order and distances)") {
  namespace H = kmeans_fixture::herding;
  const auto X = ladle::make_view(H::F, {index_t(H::n), index_t(H::d)});
  const auto r = ladle::herding(X, H::budget);
  REQUIRE(r.order.size() == std::size_t(H::budget));
  double err = 0;
  for (index_t t = 0; t < H::budget; ++t) {
    CHECK(r.order[std::size_t(t)] == H::order[t]);
    err = std::max(err, std::fabs(r.distances[std::size_t(t)] - H::distances[t]) / H::distances[t]);
  }
  CHECK(err < 1e-12);
  // The distance to the full mean shrinks far below a single row's (herding's point).
  CHECK(r.distances.back() < 0.1 * r.distances.front());
  // Threads, float input of the same values, strided rows: same picks.
  const auto rp = ladle::herding(ladle::par(3), X, H::budget);
  CHECK(rp.order == r.order);
  CHECK(rp.distances == r.distances);
  std::vector<double> colmajor(std::size_t(H::n * H::d));
  for (index_t i = 0; i < H::n; ++i)
    for (index_t j = 0; j < H::d; ++j) colmajor[std::size_t(j * H::n + i)] = H::F[i * H::d + j];
  const auto rt = ladle::herding(
      ladle::make_view(colmajor.data(), {index_t(H::n), index_t(H::d)}, {index_t(1), index_t(H::n)}),
      H::budget);
  CHECK(rt.order == r.order);
  CHECK(rt.distances == r.distances);
  std::vector<float> f32(H::F, H::F + H::n * H::d);
  std::vector<double> f64(f32.begin(), f32.end());
  const auto rf = ladle::herding(ladle::make_view(f32.data(), {index_t(H::n), index_t(H::d)}), 30);
  const auto rd = ladle::herding(ladle::make_view(f64.data(), {index_t(H::n), index_t(H::d)}), 30);
  CHECK(rf.order == rd.order);
  CHECK(rf.distances == rd.distances);
  // budget = n picks every row once; the last distance is 0 up to rounding.
  const auto all = ladle::herding(X, H::n);
  CHECK(st::sorted_copy(all.order).size() == std::size_t(H::n));
  auto s = st::sorted_copy(all.order);
  for (index_t i = 0; i < H::n; ++i) CHECK(s[std::size_t(i)] == i);
  CHECK(all.distances.back() < 1e-12);
}

TEST_CASE("herding: per class equals the numpy per-class herding") {
  namespace H = kmeans_fixture::herding;
  const auto X = ladle::make_view(H::F, {index_t(H::n), index_t(H::d)});
  std::vector<std::int32_t> y32(H::labels, H::labels + H::n);
  const auto r = ladle::herding(X, ladle::make_view(y32.data(), index_t(H::n)), 8);
  REQUIRE(r.order.size() == 24);
  for (std::size_t t = 0; t < 24; ++t) CHECK(r.order[t] == H::per_class_order[t]);
  std::vector<std::int64_t> y64(H::labels, H::labels + H::n);
  const auto r64 = ladle::herding(ladle::par(2), X, ladle::make_view(y64.data(), index_t(H::n)), 8);
  CHECK(r64.order == r.order);
  CHECK(r64.distances == r.distances);
}

TEST_CASE("herding: ties go to the lowest row index") {
  // Rows -1, +1, -1, +1, 0 (1-D, mean 0). t = 1: row 4 (0). t = 2: target 0 - 0 = 0: rows 0..3
  // tie at distance 1 -> row 0. t = 3: target 0 - (-1) = 1: rows 1 and 3 tie at 0 -> row 1.
  // t = 4: target 0 - 0 = 0: rows 2, 3 tie at 1 -> row 2. t = 5: row 3.
  const std::vector<double> x = {-1, 1, -1, 1, 0};
  const auto r = ladle::herding(ladle::make_view(x.data(), {index_t(5), index_t(1)}), 5);
  CHECK(r.order == std::vector<index_t>{4, 0, 1, 2, 3});
  CHECK(r.distances == std::vector<double>{0.0, 0.5, 0.0, 0.25, 0.0});
  // Two identical rows: the lower one first.
  const std::vector<double> dup = {3, 1, 2, 1, 3};
  const auto rd = ladle::herding(ladle::make_view(dup.data(), {index_t(5), index_t(1)}), 2);
  // Mean 2: row 2 first; then target 4 - 2 = 2: rows 0, 1, 3, 4 all at distance 1 -> row 0.
  CHECK(rd.order == std::vector<index_t>{2, 0});
}

TEST_CASE("herding: errors name the function, the argument and the value") {
  std::vector<double> x = {0, 1, 2, 3, 4, 5};
  const auto before = x;
  const auto X = ladle::make_view(static_cast<const double*>(x.data()), {index_t(3), index_t(2)});
  CHECK(error_of([&] { ladle::herding(X, 4); }).find("ladle::herding: 'budget' is 4 but only 3") !=
        std::string::npos);
  CHECK(error_of([&] { ladle::herding(X, -1); }).find("'budget' must not be negative") !=
        std::string::npos);
  std::vector<std::int32_t> y = {0, 1, 1};
  CHECK(error_of([&] { ladle::herding(X, ladle::make_view(y.data(), index_t(3)), 2); })
            .find("'per_class' is 2 but class 0 has only 1 rows") != std::string::npos);
  CHECK(error_of([&] { ladle::herding(X, ladle::make_view(y.data(), index_t(2)), 1); })
            .find("'labels'") != std::string::npos);
  CHECK(error_of([&] { ladle::herding(X, ladle::make_view(y.data(), index_t(3)), -1); })
            .find("'per_class' must not be negative") != std::string::npos);
  std::vector<double> bad = x;
  bad[3] = std::nan("");
  CHECK(error_of<ladle::domain_error>([&] {
          ladle::herding(ladle::make_view(bad.data(), {index_t(3), index_t(2)}), 1);
        }).find("row 1, column 1") != std::string::npos);
  CHECK(error_of([&] { ladle::herding(ladle::make_view(x.data(), {index_t(0), index_t(2)}), 0); })
            .find("'X'") != std::string::npos);
  CHECK(x == before);
  CHECK(ladle::herding(X, 0).order.empty());
  CHECK(ladle::herding_workspace_bytes(10, 4, 4, true) > ladle::herding_workspace_bytes(10, 4, 8, true));
}

}  // namespace LADLE_TEST_FILE
}  // namespace
