// The pending-candidate buffer of the exact kNN (detail/knn_candidates.hpp): references that pass
// the filter wait there, and only those the bounds cannot rule out are re-measured. Checked:
// the whole search against a naive all-pairs reference with the buffer forced tiny (1, 2, 3, 8
// entries: every overflow, prune and early-flush path) on continuous data, heavily tied integer
// data, exact duplicates, k = nr and k = n - 1; the buffer's own rules on hand-made values (the
// bound, which entries a prune keeps, index-order flushes, the skip rule); the option's errors
// and its share of knn_workspace_bytes.
#include <ladle/core/random.hpp>
#include <ladle/neighbors.hpp>

#include "error_of.hpp"

#include <doctest/doctest.h>

#include "neighbors/naive_knn.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

using ladle::index_t;

namespace {
namespace LADLE_TEST_FILE {

// Normal points (grid == 0) or integers in [0, grid) (many exact ties), `copies` times each row.
template <class T>
std::vector<T> points(index_t n, index_t d, std::uint64_t s, int grid, index_t copies = 1) {
  ladle::philox g(ladle::seed{s});
  std::vector<T> x(std::size_t(n * d));
  for (index_t i = 0; i < n; ++i)
    for (index_t f = 0; f < d; ++f) {
      T& v = x[std::size_t(i * d + f)];
      if (i % copies != 0) {
        v = x[std::size_t((i - i % copies) * d + f)];
      } else {
        v = grid > 0 ? static_cast<T>(ladle::uniform_u32(g, std::uint32_t(grid)))
                     : static_cast<T>(3.0 + ladle::normal(g));
      }
    }
  return x;
}

using naive_knn::mismatches;

ladle::knn_options opts(index_t k, index_t buffer, index_t query_block = 0,
                        index_t reference_block = 0) {
  ladle::knn_options o;
  o.k = k;
  o.query_block = query_block;
  o.reference_block = reference_block;
  o.candidate_buffer = buffer;
  return o;
}

TEST_CASE_TEMPLATE("knn candidates: tiny buffers give the naive answer on continuous data", T,
                   float, double) {
  const index_t nq = 37, nr = 150;
  // Automatic (buffer = 0): immediate re-measures below candidate_buffer_min_dim, the buffer at
  // d = 100 and up; forced sizes use the buffer at every d.
  for (index_t d : {3, 40, 100}) {
    CAPTURE(d);
    const auto r = points<T>(nr, d, 10 + std::uint64_t(d), 0);
    const auto q = points<T>(nq, d, 20 + std::uint64_t(d), 0);
    for (index_t k : {1, 5, 20}) {
      for (index_t buffer : {1, 2, 3, 8, 0}) {
        CAPTURE(k);
        CAPTURE(buffer);
        CHECK(mismatches(q, nq, r, nr, d, false, opts(k, buffer)) == 0);
        CHECK(mismatches(r, nr, r, nr, d, true, opts(k, buffer, 16, 1)) == 0);
      }
    }
    // Every reference a neighbour: k = nr (and n - 1 for the self query).
    for (index_t buffer : {1, 4, 0}) {
      CAPTURE(buffer);
      CHECK(mismatches(q, nq, r, nr, d, false, opts(nr, buffer)) == 0);
      CHECK(mismatches(r, nr, r, nr, d, true, opts(nr - 1, buffer)) == 0);
    }
  }
}

TEST_CASE_TEMPLATE("knn candidates: heavy ties and duplicates with tiny buffers", T, float,
                   double) {
  const index_t n = 120;
  // Integers in {0, 1, 2} at d = 4: 81 distinct points, distances in a handful of values.
  const auto tied = points<T>(n, 4, 31, 3);
  // Each continuous row three times: the two copies of a row come out at distance 0, by index.
  const auto dup = points<T>(n, 5, 32, 0, 3);
  for (index_t k : {1, 4, 13}) {
    for (index_t buffer : {1, 2, 5, 0}) {
      CAPTURE(k);
      CAPTURE(buffer);
      CHECK(mismatches(tied, n, tied, n, 4, true, opts(k, buffer)) == 0);
      CHECK(mismatches(tied, n, tied, n, 4, true, opts(k, buffer, 7, 3)) == 0);
      CHECK(mismatches(dup, n, dup, n, 5, true, opts(k, buffer)) == 0);
      CHECK(mismatches(dup, 40, tied, n, 4, false, opts(k, buffer)) == 0);
    }
  }
}

TEST_CASE_TEMPLATE("knn candidates: re-measures read padded and column-major query rows", T, float,
                   double) {
  // Contiguous query rows are re-measured in place (row stride beyond d here), strided ones from a
  // widened copy; both over several query tiles, with the buffer (d >= 96) and without, d with a
  // tail past the eight-lane chains. A wrong row offset or a missing copy shows up as mismatches.
  const index_t nq = 45, nr = 130, k = 6;
  for (index_t d : {9, 100, 257}) {
    CAPTURE(d);
    const auto q = points<T>(nq, d, 60 + std::uint64_t(d), 0);
    const auto r = points<T>(nr, d, 70 + std::uint64_t(d), 0);
    const auto want = naive_knn::all_pairs(q, nq, r, nr, d, k, false);
    const index_t ld = d + 3;
    std::vector<T> padded(std::size_t(nq * ld), T(1e30)), cm(std::size_t(nq * d));
    for (index_t i = 0; i < nq; ++i)
      for (index_t f = 0; f < d; ++f) {
        padded[std::size_t(i * ld + f)] = q[std::size_t(i * d + f)];
        cm[std::size_t(f * nq + i)] = q[std::size_t(i * d + f)];
      }
    const auto R = ladle::make_view(r.data(), {nr, d});
    for (index_t buffer : {0, 3}) {
      CAPTURE(buffer);
      const auto a = ladle::knn(ladle::make_view(padded.data(), {nq, d}, {ld, 1}), R, opts(k, buffer, 16));
      const auto b = ladle::knn(ladle::par(2), ladle::make_view(cm.data(), {nq, d}, {1, nq}), R,
                                opts(k, buffer, 8));
      index_t bad = 0;
      for (index_t i = 0; i < nq; ++i)
        for (index_t c = 0; c < k; ++c) {
          const std::size_t w = std::size_t(i * k + c);
          bad += a.indices(i, c) != want.idx[w] || a.sq_distances(i, c) != want.dist[w];
          bad += b.indices(i, c) != want.idx[w] || b.sq_distances(i, c) != want.dist[w];
        }
      CHECK(bad == 0);
    }
  }
}

TEST_CASE("knn candidates: the buffer's bound, prune, flush order and skip rule") {
  using buffer_t = ladle::detail::knn::candidate_buffer<double>;
  using list_t = ladle::detail::knn::candidate_list<double>;
  const index_t k = 3, cap = 8;
  std::vector<ladle::detail::knn::pending_entry<double>> ent(cap);
  std::vector<double> ub(k), vals(k);
  std::vector<index_t> lids(k);
  auto pending_ids = [&](index_t n) {
    std::vector<index_t> v;
    for (index_t r = 0; r < n; ++r) v.push_back(ent[std::size_t(r)].id);
    return v;
  };
  // base = 0 and no margins: L = U = the filter value, so the bound is plain order statistics.
  buffer_t b{ent.data(), 0, cap, ub.data(), 0, k, 0.0, 0.0, 0.0};
  list_t list{vals.data(), lids.data(), 0, k};
  CHECK(b.bound() == std::numeric_limits<double>::infinity());
  CHECK_FALSE(b.record(5.0, 10, 0.0));
  CHECK_FALSE(b.record(1.0, 11, 0.0));
  CHECK(b.record(4.0, 12, 0.0));  // third value: the bound becomes finite
  CHECK(b.bound() == 5.0);
  CHECK(b.record(2.0, 13, 0.0));
  CHECK(b.bound() == 4.0);
  CHECK(b.record(3.0, 14, 0.0));
  CHECK(b.bound() == 3.0);
  CHECK_FALSE(b.record(3.0, 15, 0.0));  // equal upper bound: the bound stays
  CHECK(b.bound() == 3.0);
  // Prune keeps L <= bound (an entry equal to the bound may still tie the final k-th value and
  // win on its smaller index), in recording order.
  CHECK(b.prune() == 4);
  CHECK(pending_ids(4) == std::vector<index_t>{11, 13, 14, 15});
  // Exact values: filter value + 0.25 (known by id), except id 14 at 1.5.
  auto exact = [](index_t id) {
    switch (id) {
      case 11: return 1.25;
      case 13: return 2.25;
      case 14: return 1.5;
      case 15: return 3.25;
      case 21: return 2.5;
      case 31: return 9.25;
      case 32: return 8.25;
      case 33: return 7.25;
      default: return -1.0;  // never measured
    }
  };
  std::vector<index_t> order, touched;
  auto measure = [&](index_t id) {
    order.push_back(id);
    return exact(id);
  };
  auto touch = [&](index_t id) { touched.push_back(id); };
  // Measured in index order. Id 15 (L = 3) reaches the full list's k-th value 2.25 by its turn:
  // skipped, though touched while the list was still empty.
  CHECK(b.flush(list, measure, touch) == 3);
  CHECK(order == std::vector<index_t>{11, 13, 14});
  CHECK(touched == std::vector<index_t>{11, 13, 14, 15});
  CHECK(list.count == 3);
  CHECK(std::vector<index_t>(lids.begin(), lids.end()) == std::vector<index_t>{11, 14, 13});
  CHECK(std::vector<double>(vals.begin(), vals.end()) == std::vector<double>{1.25, 1.5, 2.25});
  CHECK(b.count == 0);
  CHECK(b.bound() == 2.25);  // restarted from the exact list
  // Skip rule: an entry whose lower bound reaches the list's k-th value is never measured (its
  // index is larger, so a tie loses); one just below is.
  order.clear();
  touched.clear();
  b.record(2.25, 20, 0.0);
  b.record(std::nextafter(2.25, 0.0), 21, 0.0);
  CHECK(b.flush(list, measure, touch) == 1);
  CHECK(order == std::vector<index_t>{21});
  CHECK(touched == order);
  // Compaction: more than cap / 2 survivors force an early flush; fewer only prune.
  list_t list2{vals.data(), lids.data(), 0, k};
  buffer_t c{ent.data(), 0, 4, ub.data(), 0, k, 0.0, 0.0, 0.0};
  for (index_t j = 0; j < 4; ++j) c.record(double(10 - j), 30 + j, 0.0);  // 10, 9, 8, 7
  CHECK(c.full());
  order.clear();
  c.compact(list2, measure, touch);  // bound 9: keeps 9, 8, 7 (3 > 2): flushed
  CHECK(order == std::vector<index_t>{31, 32, 33});
  CHECK(c.count == 0);
  c.record(1.0, 40, 0.0);
  c.record(20.0, 41, 0.0);
  c.record(30.0, 42, 0.0);
  c.record(0.5, 43, 0.0);
  order.clear();
  c.compact(list2, measure, touch);  // bound: 3rd of {7.25, 8.25, 9.25} and {1, 20, 30, 0.5}
  CHECK(order.empty());
  CHECK(c.count == 2);  // 1.0 and 0.5 stay pending
  CHECK(pending_ids(2) == std::vector<index_t>{40, 43});
  // Upper bounds: U = L + 3 (margin_q + cu_r); L = f + base.
  buffer_t u{ent.data(), 0, cap, ub.data(), 0, 1, -1.0, 0.5, 0.0};
  u.record(4.0, 50, 0.25);
  CHECK(u.bound() == 3.0 + 3 * 0.75);
}

TEST_CASE("knn candidates: the option's errors and its share of the workspace") {
  const index_t n = 12, d = 3;
  const auto x = points<float>(n, d, 40, 0);
  const std::vector<float> x0 = x;
  std::vector<index_t> ib(std::size_t(n * 2), -7);
  std::vector<float> db(std::size_t(n * 2), -1.f);
  const auto X = ladle::make_view(x.data(), {n, d});
  const std::string msg = error_of<ladle::invalid_argument>([&] {
    ladle::knn_self_into(X, ladle::make_view(ib.data(), {n, 2}), ladle::make_view(db.data(), {n, 2}),
                         opts(2, -3));
  });
  CHECK(msg.find("ladle::knn_self") != std::string::npos);
  CHECK(msg.find("'candidate_buffer'") != std::string::npos);
  CHECK(msg.find("-3") != std::string::npos);
  CHECK(x == x0);
  CHECK(std::all_of(ib.begin(), ib.end(), [](index_t v) { return v == -7; }));
  CHECK(std::all_of(db.begin(), db.end(), [](float v) { return v == -1.f; }));
  CHECK(error_of<ladle::invalid_argument>([&] {
          ladle::knn_workspace_bytes(100, 100, 4, opts(3, -1), 4);
        }).find("'candidate_buffer'") != std::string::npos);

  // Each buffer entry is a filter value and an index (16 bytes with padding) per query row of a
  // tile, each row's block rounded up to whole 64-byte lines; capped at nr.
  const auto qb = std::size_t(ladle::knn_tile_sizes(5000, 5000, 128, opts(5, 0), 4).query_block);
  const std::size_t w1 = ladle::knn_workspace_bytes(5000, 5000, 128, opts(5, 1), 4);
  const std::size_t w1000 = ladle::knn_workspace_bytes(5000, 5000, 128, opts(5, 1000), 4);
  const std::size_t entry = sizeof(ladle::detail::knn::pending_entry<float>);
  CHECK(entry >= sizeof(float) + sizeof(index_t));
  CHECK(w1000 - w1 + qb * 64 > qb * 999 * entry);
  CHECK(w1000 - w1 < qb * (999 * entry + 64));
  const std::size_t wauto = ladle::knn_workspace_bytes(5000, 5000, 128, opts(5, 0), 4);
  CHECK(wauto == ladle::knn_workspace_bytes(5000, 5000, 128, opts(5, 2 * 5 + 16), 4));
  // Below candidate_buffer_min_dim the automatic mode has no buffer: less than even 1 entry.
  static_assert(ladle::detail::knn::candidate_buffer_min_dim == 96, "the documented crossover");
  CHECK(ladle::knn_workspace_bytes(5000, 5000, 95, opts(5, 0), 4) <
        ladle::knn_workspace_bytes(5000, 5000, 95, opts(5, 1), 4));
  CHECK(ladle::knn_workspace_bytes(5000, 5000, 96, opts(5, 0), 4) ==
        ladle::knn_workspace_bytes(5000, 5000, 96, opts(5, 26), 4));
  CHECK(ladle::knn_workspace_bytes(100, 40, 16, opts(5, 1000000), 8) ==
        ladle::knn_workspace_bytes(100, 40, 16, opts(5, 40), 8));
  // A huge k overflows the automatic size: an error, not a wrapped size.
  CHECK(error_of<ladle::invalid_argument>([&] {
          ladle::knn_workspace_bytes(100, std::numeric_limits<index_t>::max(), 4,
                                     opts(std::numeric_limits<index_t>::max() / 2 + 1, 0), 4);
        }).find("'workspace'") != std::string::npos);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
