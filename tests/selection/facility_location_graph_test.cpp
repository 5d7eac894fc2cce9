// Facility location over a kNN graph (options.neighbors = k): against an independent reference
// written here with plain loops (brute-force kNN by double loops with the distance formula
// knn.hpp documents, ties by index; the n x n similarity matrix restricted to the graph; naive
// greedy over it), lazy == naive bit for bit, stochastic covering every row == naive, threads
// and layouts, k = n - 1 against the dense form, duplicate rows, errors.
#include "../error_of.hpp"
#include "helpers.hpp"

#include <limits>
#include <numeric>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::facility_greedy;
using ladle::facility_location_options;
using ladle::index_t;
using ladle::seed;

namespace {

// The reference: the graph and the greedy written out.
template <class T>
struct graph_reference {
  index_t n, d, k;
  std::vector<std::vector<double>> sim;  // sim[i][j]: M_k - D(i, j) on edges, 0 elsewhere
  double M = 0;

  // knn.hpp's distance: eight fma chains (feature j into chain j mod 8), summed pairwise,
  // rounded once to T.
  static double D(const T* a, const T* b, index_t d) {
    double s[8] = {};
    for (index_t j = 0; j < d; ++j) {
      const double e = double(a[j]) - double(b[j]);
      s[j % 8] = std::fma(e, e, s[j % 8]);
    }
    return double(T(((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))));
  }

  graph_reference(const std::vector<T>& x, index_t n_, index_t d_, index_t k_)
      : n(n_), d(d_), k(k_), sim(std::size_t(n_), std::vector<double>(std::size_t(n_), 0.0)) {
    std::vector<std::vector<std::pair<double, index_t>>> nn(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) {
      std::vector<std::pair<double, index_t>> all;
      for (index_t j = 0; j < n; ++j)
        if (j != i) all.push_back({D(&x[std::size_t(i * d)], &x[std::size_t(j * d)], d), j});
      std::sort(all.begin(), all.end());  // by distance, then index
      all.resize(std::size_t(k));
      for (const auto& p : all) M = std::max(M, p.first);
      nn[std::size_t(i)] = all;
    }
    for (index_t i = 0; i < n; ++i) {
      sim[std::size_t(i)][std::size_t(i)] = M;
      for (const auto& p : nn[std::size_t(i)]) sim[std::size_t(i)][std::size_t(p.second)] = M - p.first;
    }
  }

  struct run {
    std::vector<index_t> order;
    std::vector<double> gains;
    double objective = 0;
  };
  run greedy(index_t budget) const {
    run r;
    std::vector<double> cur(std::size_t(n), 0.0);
    std::vector<bool> chosen(std::size_t(n), false);
    for (index_t t = 0; t < budget; ++t) {
      index_t best = -1;
      double best_gain = -1;
      for (index_t c = 0; c < n; ++c) {
        if (chosen[std::size_t(c)]) continue;
        double g = 0;
        for (index_t i = 0; i < n; ++i) {
          const double v = sim[std::size_t(i)][std::size_t(c)] - cur[std::size_t(i)];
          if (v > 0) g += v;
        }
        if (g > best_gain) best_gain = g, best = c;
      }
      chosen[std::size_t(best)] = true;
      r.order.push_back(best);
      r.gains.push_back(best_gain);
      for (index_t i = 0; i < n; ++i)
        cur[std::size_t(i)] = std::max(cur[std::size_t(i)], sim[std::size_t(i)][std::size_t(best)]);
    }
    for (auto v : cur) r.objective += v;
    return r;
  }
};

using st::view_of;
facility_location_options graph(facility_greedy m, index_t k, double eps = 0.01,
                                std::uint64_t s = 0) {
  facility_location_options o;
  o.method = m;
  o.neighbors = k;
  o.epsilon = eps;
  o.seed = seed{s};
  return o;
}

void check_same(const ladle::facility_location_result& a, const ladle::facility_location_result& b) {
  CHECK(a.order == b.order);
  CHECK(a.gains == b.gains);
  CHECK(a.objective == b.objective);
  CHECK(a.max_sq_distance == b.max_sq_distance);
}

template <class T>
void check_against_reference(const std::vector<T>& x, index_t n, index_t d, index_t k,
                             index_t budget) {
  const graph_reference<T> ref(x, n, d, k);
  const auto want = ref.greedy(budget);
  const auto r =
      ladle::facility_location(view_of(x, n, d), budget, graph(facility_greedy::naive, k));
  CHECK(r.max_sq_distance == ref.M);
  CHECK(r.order == want.order);
  REQUIRE(r.gains.size() == want.gains.size());
  const double tol = 1e-12 * double(n) * std::max(ref.M, 1.0);
  for (std::size_t t = 0; t < want.gains.size(); ++t)
    CHECK(std::abs(r.gains[t] - want.gains[t]) <= tol);
  CHECK(std::abs(r.objective - want.objective) <= tol);
  CHECK(r.evaluations == budget * n - budget * (budget - 1) / 2);  // every unchosen row, each step
}

}  // namespace

TEST_CASE_TEMPLATE("facility_location graph naive == an independent reference greedy", T, float,
                   double) {
  const index_t n = 150, budget = 12;
  for (index_t d : {1, 17, 64})
    for (int kind : {0, 1, 2})
      for (index_t k : {1, 5, 10}) {
        CAPTURE(d);
        CAPTURE(kind);
        CAPTURE(k);
        check_against_reference(st::facility_features<T>(n, d, 40 + std::uint64_t(d + kind), kind), n, d, k,
                                budget);
      }
}

TEST_CASE("facility_location graph: exact greedy on integer data with duplicates") {
  // Integer rows, each three times: every distance, sim and gain is an exact double, so the
  // order (ties to the lowest index) and the gains must match the reference to the bit.
  const index_t m = 60, n = 3 * m, d = 17, budget = 20;
  ladle::philox g(seed{5});
  std::vector<double> x(std::size_t(n * d));
  for (index_t i = 0; i < m; ++i)
    for (index_t f = 0; f < d; ++f) {
      const double v = double(ladle::uniform_index(g, 5));
      for (index_t r = 0; r < 3; ++r) x[std::size_t((i + r * m) * d + f)] = v;
    }
  for (index_t k : {1, 2, 3, 7}) {
    CAPTURE(k);
    const graph_reference<double> ref(x, n, d, k);
    const auto want = ref.greedy(budget);
    for (auto method : {facility_greedy::naive, facility_greedy::lazy}) {
      const auto r = ladle::facility_location(view_of(x, n, d), budget, graph(method, k));
      CHECK(r.order == want.order);
      CHECK(r.gains == want.gains);
      CHECK(r.objective == want.objective);
    }
  }
}

TEST_CASE_TEMPLATE("facility_location graph: lazy == naive bit for bit, stochastic covering all == naive",
                   T, float, double) {
  const index_t n = 400, budget = 40;
  for (index_t d : {1, 17, 64})
    for (int kind : {0, 1, 2})
      for (index_t k : {3, 10}) {
        CAPTURE(d);
        CAPTURE(kind);
        CAPTURE(k);
        const auto x = st::facility_features<T>(n, d, 70 + std::uint64_t(d * 3 + kind), kind);
        const auto X = view_of(x, n, d);
        const auto naive = ladle::facility_location(X, budget, graph(facility_greedy::naive, k));
        const auto lazy = ladle::facility_location(X, budget, graph(facility_greedy::lazy, k));
        check_same(lazy, naive);
        CHECK(lazy.evaluations <= naive.evaluations);
        // epsilon so small that every step's sample is every unchosen row
        const auto all =
            ladle::facility_location(X, budget, graph(facility_greedy::stochastic, k, 1e-300, 9));
        check_same(all, naive);
        CHECK(all.evaluations == naive.evaluations);
        // gains never increase along the greedy order (submodularity, exact here)
        for (std::size_t t = 1; t < naive.gains.size(); ++t)
          CHECK(naive.gains[t] <= naive.gains[t - 1]);
      }
}

TEST_CASE("facility_location graph: same bits for every thread count and layout") {
  const index_t n = 5000, d = 17, k = 8;  // more than one parallel chunk of candidates
  const auto x = st::facility_features<float>(n, d, 8, 0);
  const auto X = view_of(x, n, d);
  std::vector<float> xt(x.size());
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < d; ++j) xt[std::size_t(j * n + i)] = x[std::size_t(i * d + j)];
  const auto Xt = ladle::make_view(static_cast<const float*>(xt.data()), {n, d}, {index_t(1), n});
  for (auto m : {facility_greedy::naive, facility_greedy::lazy, facility_greedy::stochastic}) {
    const index_t budget = m == facility_greedy::naive ? 5 : 50;
    const auto o = graph(m, k, 0.3, 3);
    const auto a = ladle::facility_location(X, budget, o);
    for (int threads : {2, 3}) check_same(ladle::facility_location(ladle::par(threads), X, budget, o), a);
    check_same(ladle::facility_location(Xt, budget, o), a);
    if (m == facility_greedy::stochastic) {
      auto o2 = o;
      o2.seed = seed{4};
      CHECK(ladle::facility_location(X, budget, o2).order != a.order);
    }
  }
}

TEST_CASE_TEMPLATE("facility_location graph with k = n - 1 is the dense form", T, float, double) {
  // The complete graph: M_k is the dense M and every sim is the dense kernel's. On small
  // integers every distance is exact in both forms, so results agree to the bit (the dense
  // first pick, nearest the mean, is the largest first gain with the same ties).
  const index_t n = 90, budget = 15;
  for (index_t d : {1, 17, 64}) {
    CAPTURE(d);
    const auto x = st::facility_features<T>(n, d, 3 + std::uint64_t(d), 1);
    const auto X = view_of(x, n, d);
    const auto dense = ladle::facility_location(X, budget, graph(facility_greedy::naive, 0));
    for (auto m : {facility_greedy::naive, facility_greedy::lazy}) {
      const auto full = ladle::facility_location(X, budget, graph(m, n - 1));
      check_same(full, dense);
    }
    check_against_reference(st::facility_features<T>(n, d, 30 + std::uint64_t(d), 0), n, d, n - 1, budget);
  }
}

TEST_CASE("facility_location graph errors") {
  std::vector<double> x = {0, 1, 2, 3, 4, 5};
  const auto before = x;
  const auto X = ladle::make_view(static_cast<const double*>(x.data()), {index_t(3), index_t(2)});
  auto fl = [&](index_t budget, index_t k, facility_greedy m = facility_greedy::lazy) {
    return error_of([&] { ladle::facility_location(X, budget, graph(m, k)); });
  };
  CHECK(fl(1, -1).find("facility_location") != std::string::npos);
  CHECK(fl(1, -1).find("'options.neighbors' is -1 but must be 0 (dense) or in [1, 2]") !=
        std::string::npos);
  CHECK(fl(1, 3).find("'options.neighbors' is 3") != std::string::npos);
  CHECK(fl(1, 2) == "<no error>");
  CHECK(fl(0, 1).find("'budget' is 0 but must be in [1, 3]") != std::string::npos);
  CHECK(fl(4, 1, facility_greedy::naive).find("'budget' is 4") != std::string::npos);
  CHECK(fl(-1, 1, facility_greedy::stochastic).find("'budget' is -1") != std::string::npos);
  CHECK_THROWS_AS(ladle::facility_location(X, 1, graph(facility_greedy::naive, 3)),
                  ladle::invalid_argument);
  x[3] = std::numeric_limits<double>::quiet_NaN();
  CHECK(fl(1, 1).find("facility_location") != std::string::npos);
  CHECK(fl(1, 1).find("'X' has nan at row 1, column 1") != std::string::npos);
  x[3] = 3;
  CHECK(x == before);
  std::vector<double> huge = {1e200, 0, -1e200, 0};
  const auto err = error_of([&] {
    ladle::facility_location(
        ladle::make_view(static_cast<const double*>(huge.data()), {index_t(2), index_t(2)}), 1,
        graph(facility_greedy::lazy, 1));
  });
  CHECK(err.find("facility_location") != std::string::npos);
  CHECK(err.find("overflow") != std::string::npos);
  // Workspace: O(n k) for the graph (16 bytes per edge at least), no n x n term.
  const index_t n = 100000, k = 10;
  const auto w = ladle::facility_location_workspace_bytes(n, 64, 4, true,
                                                          graph(facility_greedy::lazy, k), 1000);
  CHECK(w >= std::size_t(n * (k + 1) * 16));
  CHECK(w < std::size_t(n) * std::size_t(n));
}

}  // namespace LADLE_TEST_FILE
}  // namespace
