// KMeans-SMOTE: exact counts, synthetic rows inside one cluster between the base and one of its
// k nearest same-class rows of that cluster, clustering quality on separated blobs, determinism.
#include "helpers.hpp"

#include <doctest/doctest.h>

#include <set>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

using ladle::index_t;

// Three well separated blobs; the minority (label 1) lives in blobs 0 and 2.
std::pair<ladle::tensor<double, 2>, ladle::tensor<std::int32_t, 1>> blobs() {
  const index_t n = 600;
  ladle::tensor<double, 2> X({n, 2});
  ladle::tensor<std::int32_t, 1> y({n});
  ladle::philox g(ladle::seed{4});
  for (index_t i = 0; i < n; ++i) {
    const index_t blob = i % 3;
    X(i, 0) = 20.0 * double(blob) + ladle::normal(g);
    X(i, 1) = ladle::normal(g);
    y(i) = (blob != 1 && i % 7 == 0) ? 1 : 0;
  }
  return {std::move(X), std::move(y)};
}

}  // namespace

TEST_CASE("kmeans_assign separates well separated blobs") {
  const auto D = blobs();
  const auto a = ladle::kmeans_assign(ladle::seq, D.first.cview(), 3, 100, ladle::seed{1});
  std::set<std::pair<index_t, index_t>> pairs;  // (blob, cluster)
  for (index_t i = 0; i < D.first.extent(0); ++i) pairs.insert({i % 3, a[std::size_t(i)]});
  CHECK(pairs.size() == 3);  // each blob maps to one cluster
  CHECK(a == ladle::kmeans_assign(ladle::par(2), D.first.cview(), 3, 100, ladle::seed{1}));
  CHECK_THROWS_AS(ladle::kmeans_assign(ladle::seq, D.first.cview(), 0, 100, ladle::seed{1}),
                  ladle::invalid_argument);
}

TEST_CASE("KMeans-SMOTE rows stay inside one cluster, on SMOTE segments") {
  const auto D = blobs();
  const auto X = D.first.cview();
  const auto y = D.second.cview();
  ladle::kmeans_smote_options o;
  o.clusters = 3;
  // "auto" would be G / G_total / 2 = 0.5 here, above the minority's share (1/7) of its blobs.
  CHECK_THROWS_AS(ladle::kmeans_smote(X, y, o, ladle::seed{2}), ladle::runtime_error);
  o.cluster_balance_threshold = 0.1;
  const auto r = ladle::kmeans_smote(X, y, o, ladle::seed{2});
  const auto counts = rt::class_counts_flat(r.y.cview());
  CHECK(counts[1] == counts[3]);  // balanced exactly
  const auto assign = ladle::kmeans_assign(ladle::seq, X, 3, 100, ladle::seed{2});
  index_t bad = 0;
  std::set<index_t> used_clusters;
  for (index_t s = 0; s < r.synthetic(); ++s) {
    const index_t b = r.base(s), nb = r.neighbor(s);
    const index_t cl = assign[std::size_t(b)];
    used_clusters.insert(cl);
    bad += assign[std::size_t(nb)] != cl || y(nb) != 1 || y(b) != 1;
    std::vector<index_t> cand;
    for (index_t i = 0; i < X.extent(0); ++i)
      if (y(i) == 1 && assign[std::size_t(i)] == cl) cand.push_back(i);
    const auto nn = rt::naive_knn<double>(X, b, cand, o.k);
    bad += std::find(nn.begin(), nn.end(), nb) == nn.end();
    for (index_t f = 0; f < 2; ++f)
      bad += r.X(X.extent(0) + s, f) != std::fma(r.gap(s), X(nb, f) - X(b, f), X(b, f));
  }
  CHECK(bad == 0);
  CHECK(used_clusters.size() == 2);  // the minority's two blobs
  CHECK(rt::bit_identical(r, ladle::kmeans_smote(ladle::par(2), X, y, o, ladle::seed{2})));
}

}  // namespace LADLE_TEST_FILE
}  // namespace
