// Facility-location coreset of a 2-D mixture of 10 Gaussians with unequal sizes (the check of
// algorithms.md 4.5): pick 5% of the points with lazy greedy, see that every cluster is
// covered and that the objective beats the best of 1000 random subsets of the same size;
// stochastic greedy for comparison. Exits non-zero when a check fails.
#include <ladle/selection.hpp>

#include <algorithm>
#include <cstdio>
#include <set>
#include <vector>

int main() {
  using ladle::index_t;
  // Cluster c has 20 + 30 c points around a centre on a 10 x 10 square.
  ladle::philox g(ladle::seed{42});
  std::vector<float> x;
  std::vector<int> cluster;
  for (int c = 0; c < 10; ++c) {
    const double cx = 10 * ladle::uniform_double(g), cy = 10 * ladle::uniform_double(g);
    for (int i = 0; i < 20 + 30 * c; ++i) {
      x.push_back(float(cx + 0.3 * ladle::normal(g)));
      x.push_back(float(cy + 0.3 * ladle::normal(g)));
      cluster.push_back(c);
    }
  }
  const index_t n = index_t(cluster.size()), budget = n / 20;
  const auto X = ladle::make_view(static_cast<const float*>(x.data()), {n, index_t(2)});

  const auto lazy = ladle::facility_location(ladle::par, X, budget);  // lazy greedy by default
  ladle::facility_location_options sto;
  sto.method = ladle::facility_greedy::stochastic;
  sto.epsilon = 0.05;
  sto.seed = ladle::seed{1};
  const auto stoch = ladle::facility_location(ladle::par, X, budget, sto);

  // f(S) for a random subset, written out: sum_i max_j (M - |x_i - x_j|^2).
  const double M = lazy.max_sq_distance;
  auto objective = [&](const std::vector<index_t>& S) {
    double f = 0;
    for (index_t i = 0; i < n; ++i) {
      double best = 0;
      for (index_t j : S) {
        const double dx = double(x[2 * i]) - x[2 * j], dy = double(x[2 * i + 1]) - x[2 * j + 1];
        best = std::max(best, M - (dx * dx + dy * dy));
      }
      f += best;
    }
    return f;
  };
  double best_random = 0;
  for (std::uint64_t r = 0; r < 1000; ++r)
    best_random = std::max(best_random, objective(ladle::uniform_subset(n, budget, ladle::seed{r})));

  std::set<int> covered;
  for (index_t i : lazy.order) covered.insert(cluster[std::size_t(i)]);
  std::printf("%lld points, budget %lld\n", static_cast<long long>(n),
              static_cast<long long>(budget));
  std::printf("lazy greedy:        f = %.1f (%lld gain evaluations), clusters covered %zu / 10\n",
              lazy.objective, static_cast<long long>(lazy.evaluations), covered.size());
  std::printf("stochastic greedy:  f = %.1f (%lld gain evaluations)\n", stoch.objective,
              static_cast<long long>(stoch.evaluations));
  std::printf("best of 1000 random subsets: f = %.1f\n", best_random);
  const bool ok = covered.size() == 10 && lazy.objective > best_random &&
                  stoch.objective > best_random && stoch.evaluations < lazy.evaluations * 2;
  std::printf("%s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
