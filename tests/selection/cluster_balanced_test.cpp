// Cluster-balanced selection: on four well separated blobs (sizes 50, 30, 15, 5) k-means finds
// the blobs; quotas against an independent water level / Hamilton computation; nearest picks
// against a brute-force sort by distance to the centroid; random picks uniform inside a
// cluster (chi-square over all 3-subsets); seeds, threads; errors.
#include "../error_of.hpp"
#include "helpers.hpp"

#include <cmath>
#include <map>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;
using ladle::seed;

namespace {

constexpr index_t cb_blob_sizes[4] = {50, 30, 15, 5};

// 100 rows, d = 3: blob b centred at (100 b, 0, 0), jitter in [-1, 1) (splitmix64).
std::vector<double> cb_blobs() {
  std::vector<double> v;
  std::uint64_t s = 77;
  for (index_t b = 0; b < 4; ++b)
    for (index_t i = 0; i < cb_blob_sizes[b]; ++i)
      for (index_t j = 0; j < 3; ++j) {
        s += 0x9E3779B97F4A7C15ull;
        std::uint64_t z = s;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        v.push_back((j == 0 ? 100.0 * double(b) : 0.0) + double(z >> 11) / 4503599627370496.0 - 1.0);
      }
  return v;
}

index_t cb_blob_of(index_t row) { return row < 50 ? 0 : row < 80 ? 1 : row < 95 ? 2 : 3; }

}  // namespace

TEST_CASE("cluster_balanced_selection: quotas, nearest picks, clusters are the blobs") {
  const auto v = cb_blobs();
  const auto X = ladle::make_view(v.data(), {index_t(100), index_t(3)});
  ladle::cluster_balanced_options opts;
  opts.kmeans.restarts = 3;
  const auto r = ladle::cluster_balanced_selection(X, 40, 4, seed(8), opts);
  // Each cluster is exactly one blob.
  std::vector<index_t> blob_of_cluster(4, -1), size(4, 0);
  for (index_t i = 0; i < 100; ++i) {
    const index_t c = r.clustering.labels[std::size_t(i)];
    if (blob_of_cluster[std::size_t(c)] < 0) blob_of_cluster[std::size_t(c)] = cb_blob_of(i);
    CHECK(blob_of_cluster[std::size_t(c)] == cb_blob_of(i));
    ++size[std::size_t(c)];
  }
  // Water level: the largest L with sum min(size, L) <= 40, then one more for the first
  // clusters (by index) with room until the total is 40.
  index_t level = 0;
  auto filled = [&](index_t L) {
    index_t t = 0;
    for (auto s : size) t += std::min(s, L);
    return t;
  };
  while (filled(level + 1) <= 40) ++level;
  std::vector<index_t> want(4);
  index_t total = 0;
  for (index_t c = 0; c < 4; ++c) total += want[std::size_t(c)] = std::min(size[std::size_t(c)], level);
  for (index_t c = 0; c < 4 && total < 40; ++c)
    if (size[std::size_t(c)] > level) ++want[std::size_t(c)], ++total;
  CHECK(r.quotas == want);
  // Nearest: each block is its cluster's quota rows closest to the centroid, nearest first.
  std::size_t at = 0;
  for (index_t c = 0; c < 4; ++c) {
    std::vector<std::pair<double, index_t>> by_distance;
    for (index_t i = 0; i < 100; ++i) {
      if (r.clustering.labels[std::size_t(i)] != c) continue;
      double s = 0;
      for (index_t j = 0; j < 3; ++j) {
        const double e = v[std::size_t(i * 3 + j)] - r.clustering.centroids(c, j);
        s += e * e;
      }
      by_distance.push_back({s, i});
    }
    std::sort(by_distance.begin(), by_distance.end());
    for (index_t t = 0; t < want[std::size_t(c)]; ++t, ++at)
      CHECK(r.order[at] == by_distance[std::size_t(t)].second);
  }
  CHECK(at == r.order.size());
  // Proportional: 20 * (50, 30, 15, 5) / 100 = (10, 6, 3, 1) per blob.
  opts.quota = ladle::stratify::proportional;
  const auto p = ladle::cluster_balanced_selection(ladle::par(3), X, 20, 4, seed(8), opts);
  for (index_t c = 0; c < 4; ++c)
    CHECK(p.quotas[std::size_t(c)] == 20 * cb_blob_sizes[blob_of_cluster[std::size_t(c)]] / 100);
  CHECK(p.clustering.labels == r.clustering.labels);
}

TEST_CASE("cluster_balanced_selection: random picks are uniform inside a cluster") {
  const std::vector<double> x = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const auto X = ladle::make_view(x.data(), {index_t(10), index_t(1)});
  ladle::cluster_balanced_options opts;
  opts.pick = ladle::cluster_pick::random;
  std::map<std::vector<index_t>, long> observed;
  const long runs = 3000;
  for (long t = 0; t < runs; ++t) {
    const auto r = ladle::cluster_balanced_selection(X, 3, 1, seed(std::uint64_t(t) + 1000), opts);
    ++observed[st::sorted_copy(r.order)];
  }
  CHECK(st::chi_square(st::uniform_subsets(10, 3), observed, runs).ok());
  // Random picks on the blobs: inside their clusters, distinct, reproducible, thread-independent.
  const auto v = cb_blobs();
  const auto B = ladle::make_view(v.data(), {index_t(100), index_t(3)});
  const auto a = ladle::cluster_balanced_selection(B, 30, 4, seed(2), opts);
  const auto b = ladle::cluster_balanced_selection(ladle::par(4), B, 30, 4, seed(2), opts);
  CHECK(a.order == b.order);
  CHECK(st::sorted_copy(a.order).size() == 30);
  auto s = st::sorted_copy(a.order);
  CHECK(std::adjacent_find(s.begin(), s.end()) == s.end());
  std::size_t at = 0;
  for (index_t c = 0; c < 4; ++c)
    for (index_t t = 0; t < a.quotas[std::size_t(c)]; ++t, ++at)
      CHECK(a.clustering.labels[std::size_t(a.order[at])] == c);
  CHECK(ladle::cluster_balanced_selection(B, 30, 4, seed(3), opts).order != a.order);
}

TEST_CASE("cluster_balanced_selection: errors") {
  std::vector<double> x = {0, 1, 2, 3, 4, 5};
  const auto before = x;
  const auto X = ladle::make_view(static_cast<const double*>(x.data()), {index_t(3), index_t(2)});
  CHECK(error_of([&] { ladle::cluster_balanced_selection(X, 4, 2, seed(1)); })
            .find("cluster_balanced_selection: 'budget' is 4 but only 3") != std::string::npos);
  CHECK(error_of([&] { ladle::cluster_balanced_selection(X, -1, 2, seed(1)); })
            .find("'budget' must not be negative") != std::string::npos);
  CHECK(error_of([&] { ladle::cluster_balanced_selection(X, 2, 0, seed(1)); })
            .find("cluster_balanced_selection: 'clusters' must be in [1, 3], got 0") != std::string::npos);
  CHECK(error_of([&] { ladle::cluster_balanced_selection(X, 2, 4, seed(1)); })
            .find("'clusters'") != std::string::npos);
  std::vector<double> bad = x;
  bad[0] = std::nan("");
  CHECK(error_of<ladle::domain_error>([&] {
          ladle::cluster_balanced_selection(ladle::make_view(bad.data(), {index_t(3), index_t(2)}), 1, 1, seed(1));
        }).find("cluster_balanced_selection: 'X'") != std::string::npos);
  CHECK(x == before);
  CHECK(ladle::cluster_balanced_selection(X, 0, 2, seed(1)).order.empty());
}

}  // namespace LADLE_TEST_FILE
}  // namespace
