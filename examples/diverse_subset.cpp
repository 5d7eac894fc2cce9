// Diverse subsets of a 2-D mixture of 12 Gaussians with very unequal sizes (the replication of
// algorithms.md 4.7 without quality scores): pick 36 points (1.5%) three ways and compare how
// many mixture components each one covers and how far its mean is from the data mean.
//   cluster-balanced  k-means with 12 clusters, equal shares, nearest to each centroid;
//   herding           36 points whose running mean tracks the data mean;
//   uniform           36 points uniformly at random (the baseline).
// Exits non-zero when cluster-balanced misses a component or herding's mean is not the closest.
#include <ladle/selection.hpp>

#include <cmath>
#include <cstdio>
#include <set>
#include <vector>

int main() {
  using ladle::index_t;
  // Component c has 10 + 50 c^2 / 4 points (10 .. 1522) around a centre near the node (c % 4,
  // c / 4) of a grid with spacing 6.
  ladle::philox g(ladle::seed{7});
  std::vector<double> x;
  std::vector<int> component;
  for (int c = 0; c < 12; ++c) {
    const double cx = 6 * (c % 4) + ladle::uniform_double(g), cy = 6 * (c / 4) + ladle::uniform_double(g);
    for (int i = 0; i < 10 + 50 * c * c / 4; ++i) {
      x.push_back(cx + 0.4 * ladle::normal(g));
      x.push_back(cy + 0.4 * ladle::normal(g));
      component.push_back(c);
    }
  }
  const index_t n = index_t(component.size()), budget = 36;
  const auto X = ladle::make_view(static_cast<const double*>(x.data()), {n, index_t(2)});

  ladle::cluster_balanced_options opts;
  opts.kmeans.restarts = 10;  // with 4, the best run merges two components (a local optimum)
  const auto balanced = ladle::cluster_balanced_selection(ladle::par, X, budget, 12, ladle::seed{1}, opts);
  const auto herd = ladle::herding(ladle::par, X, budget);
  const auto uniform = ladle::uniform_subset(n, budget, ladle::seed{1});

  double mx = 0, my = 0;
  for (index_t i = 0; i < n; ++i) mx += x[2 * i], my += x[2 * i + 1];
  mx /= double(n), my /= double(n);
  auto report = [&](const char* name, const std::vector<index_t>& rows) {
    std::set<int> covered;
    double sx = 0, sy = 0;
    for (index_t r : rows) {
      covered.insert(component[std::size_t(r)]);
      sx += x[2 * r], sy += x[2 * r + 1];
    }
    const double gap = std::hypot(sx / double(rows.size()) - mx, sy / double(rows.size()) - my);
    std::printf("%-17s components covered %2zu / 12   |mean - data mean| %.4f\n", name,
                covered.size(), gap);
    return std::make_pair(covered.size(), gap);
  };
  std::printf("n = %lld points, %lld picked (k-means inertia %.1f after %lld iterations)\n",
              static_cast<long long>(n), static_cast<long long>(budget), balanced.clustering.inertia,
              static_cast<long long>(balanced.clustering.iterations));
  const auto b = report("cluster-balanced", balanced.order);
  const auto h = report("herding", herd.order);
  const auto u = report("uniform", uniform);
  const bool ok = b.first == 12 && h.second < u.second && h.second < b.second;
  if (!ok) std::printf("unexpected: cluster-balanced must cover all 12, herding's mean be closest\n");
  return ok ? 0 : 1;
}
