// Bad-input matrix for the neighbors family: knn, knn_self, their _into forms and size queries.
#include <ladle/neighbors.hpp>

#include "bad_input.hpp"

#include <cstdint>
#include <limits>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;
using bad::kind;

namespace {
constexpr index_t big = std::numeric_limits<index_t>::max();
}

TEST_CASE("neighbors bad-input matrix") {
  const index_t n = 10, d = 2;
  std::vector<float> x(n * d);
  for (index_t i = 0; i < n * d; ++i) x[std::size_t(i)] = float(i * 7 % 11) * 0.5f;
  std::vector<float> with_nan = x, with_inf = x, far = x;
  with_nan[7] = std::numeric_limits<float>::quiet_NaN();  // row 3, column 1
  with_inf[4] = -std::numeric_limits<float>::infinity();  // row 2, column 0
  far[4] = 1e30f;
  std::vector<index_t> ib(n * 3);
  std::vector<float> db(n * 3);
  std::vector<std::int8_t> ib8(300 * 3);
  std::vector<float> many(300 * 2, 1.f);
  const auto X = ladle::make_view(static_cast<const float*>(x.data()), {n, d});
  auto I = ladle::make_view(ib.data(), {n, 3});
  auto D = ladle::make_view(db.data(), {n, 3});
  std::vector<float> shared(n * d + n * 3);  // points followed by distances in one buffer
  const ladle::knn_options k3{3, 0, 0};

  std::vector<bad::row> rows = {
      {"knn_self k huge", kind::invalid, {"ladle::knn_self", "'k'"},
       [&] { ladle::knn_self(X, {big, 0, 0}); }, {bad::of(x)}},
      {"knn_self k = n", kind::invalid, {"ladle::knn_self", "'k'", "n - 1 = 9"},
       [&] { ladle::knn_self(X, {n, 0, 0}); }, {bad::of(x)}},
      {"knn_self k 0", kind::invalid, {"ladle::knn_self", "'k'"},
       [&] { ladle::knn_self(X, {0, 0, 0}); }, {bad::of(x)}},
      {"knn k negative", kind::invalid, {"ladle::knn", "'k'"},
       [&] { ladle::knn(X, X, {-3, 0, 0}); }, {bad::of(x)}},
      {"knn k > references", kind::invalid, {"ladle::knn", "'k'"},
       [&] { ladle::knn(X, X.slice(0, 2), k3); }, {bad::of(x)}},
      {"knn negative block", kind::invalid, {"ladle::knn", "'query_block'"},
       [&] { ladle::knn(X, X, {3, -1, 0}); }, {bad::of(x)}},
      {"knn negative reference block", kind::invalid, {"ladle::knn", "'reference_block'"},
       [&] { ladle::knn(X, X, {3, 0, -1}); }, {bad::of(x)}},
      {"knn feature mismatch", kind::invalid, {"ladle::knn", "'queries'", "features"},
       [&] { ladle::knn(ladle::make_view(x.data(), {5, 4}), X, k3); }, {bad::of(x)}},
      {"knn_self zero features", kind::invalid, {"ladle::knn_self", "'points'", "10 x 0"},
       [&] { ladle::knn_self(ladle::make_view(x.data(), {n, 0}), k3); }, {bad::of(x)}},
      {"knn_self single row", kind::invalid, {"ladle::knn_self", "'k'"},
       [&] { ladle::knn_self(X.slice(0, 1), {1, 0, 0}); }, {bad::of(x)}},
      {"knn_self NaN names row and column", kind::domain, {"ladle::knn_self", "'points'", "row 3, column 1"},
       [&] { ladle::knn_self(ladle::make_view(with_nan.data(), {n, d}), k3); }, {bad::of(with_nan)}},
      {"knn queries Inf", kind::domain, {"ladle::knn", "'queries'", "row 2, column 0"},
       [&] { ladle::knn(ladle::make_view(with_inf.data(), {n, d}), X, k3); }, {bad::of(with_inf), bad::of(x)}},
      {"knn references Inf", kind::domain, {"ladle::knn", "'references'", "row 2"},
       [&] { ladle::knn(X, ladle::make_view(with_inf.data(), {n, d}), k3); }, {bad::of(with_inf), bad::of(x)}},
      {"knn_self overflowing distances", kind::domain, {"ladle::knn_self", "'points'", "lies too far"},
       [&] { ladle::knn_self(ladle::make_view(far.data(), {n, d}), k3); }, {bad::of(far)}},
      {"knn_self device", kind::invalid, {"ladle::knn_self", "'points'", "device"},
       [&] { ladle::knn_self(ladle::make_view(x.data(), {n, d}, ladle::device::cuda(0)), k3); }, {bad::of(x)}},
      {"knn_self_into wrong rows", kind::invalid, {"ladle::knn_self", "'indices'", "rows"},
       [&] { ladle::knn_self_into(X, I.slice(0, 9), D, k3); }, {bad::of(x)}},
      {"knn_self_into wrong k", kind::invalid, {"ladle::knn_self", "'sq_distances'", "columns"},
       [&] { ladle::knn_self_into(X, I, ladle::make_view(db.data(), {n, 2}), k3); }, {bad::of(x)}},
      {"knn_self_into index type too small", kind::invalid, {"ladle::knn_self", "'indices'", "299"},
       [&] { ladle::knn_self_into(ladle::make_view(static_cast<const float*>(many.data()), {300, 2}),
                                  ladle::make_view(ib8.data(), {300, 3}), ladle::make_view(db.data(), {10, 3}), k3); },
       {bad::of(many)}},
      {"knn_self_into distances overlap points", kind::invalid, {"ladle::knn_self", "'sq_distances'", "'points'"},
       [&] {
         ladle::knn_self_into(ladle::make_view(static_cast<const float*>(shared.data()), {n, d}), I,
                              ladle::make_view(shared.data() + n * d - 1, {n, 3}), k3);
       },
       {bad::of(ib)}},
      {"knn_into indices overlap distances", kind::invalid, {"ladle::knn", "'indices'", "'sq_distances'"},
       [&] {
         std::vector<double> both(n * 3 + 1);
         ladle::knn_into(X, X, ladle::make_view(reinterpret_cast<std::int64_t*>(both.data()), {n, 3}),
                         ladle::make_view(both.data() + 1, {n, 3}), k3);
       },
       {bad::of(x)}},
      {"knn_workspace_bytes huge", kind::invalid, {"ladle::knn_workspace_bytes", "'workspace'"},
       [&] { ladle::knn_workspace_bytes(big, big, big / 4, k3, 8); }, {}},
      {"knn_workspace_bytes k huge", kind::invalid, {"ladle::knn_workspace_bytes", "'workspace'"},
       [&] { ladle::knn_workspace_bytes(100, 100, 4, {big, 0, 0}, 4); }, {}},
      {"knn_workspace_bytes elem", kind::invalid, {"ladle::knn_workspace_bytes", "'elem_size'"},
       [&] { ladle::knn_workspace_bytes(100, 100, 4, k3, 2); }, {}},
      {"knn_tile_sizes negative", kind::invalid, {"ladle::knn_tile_sizes", "'n_queries'"},
       [&] { ladle::knn_tile_sizes(-1, 100, 4, k3, 4); }, {}},
  };
  const std::size_t cases = bad::run_matrix(rows);
  MESSAGE("neighbors bad-input matrix: " << cases << " cases");
  // A huge dim no longer divides by a wrapped zero in the tile choice.
  CHECK(ladle::knn_tile_sizes(10, 10, index_t(1) << 61, k3, 8).reference_block >= 1);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
