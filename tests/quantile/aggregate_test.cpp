// Aggregators against direct sums; fitting against scipy's HiGHS optimum (make_lp_fixtures.py).
#include "fixtures/lp_fixtures.hpp"
#include "helpers.hpp"

#include <algorithm>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using namespace qt;

namespace {

ladle::tensor_view<const double, 3> pv(const std::vector<double>& p, index_t M, index_t N,
                                       index_t K) {
  return ladle::tensor_view<const double, 3>(p.data(), {M, N, K});
}

std::vector<double> random_simplex(ladle::philox& g, index_t n) {
  std::vector<double> w(static_cast<std::size_t>(n));
  double s = 0;
  for (auto& v : w) s += (v = ladle::exponential(g));
  for (auto& v : w) v /= s;
  return w;
}

// Objective of weights through the public aggregate + pinball path (independent of the solver).
double objective_of(const ladle::aggregator_weights& a, const std::vector<double>& preds,
                    const std::vector<double>& y, const std::vector<double>& levels,
                    const std::vector<double>& sw, index_t M, index_t N, index_t K) {
  std::vector<double> out(static_cast<std::size_t>(N * K));
  ladle::aggregate_into(mm(out, N, K), pv(preds, M, N, K), a);
  return ladle::pinball_loss(cm(out, N, K), cv(y), cv(levels),
                             sw.empty() ? ladle::vector_view<const double>{} : cv(sw));
}

}  // namespace

TEST_CASE("aggregate_into equals the direct weighted sums for every kind") {
  ladle::philox g(ladle::seed{11});
  const index_t M = 3, N = 67, K = 4;
  std::vector<double> preds(static_cast<std::size_t>(M * N * K));
  for (auto& v : preds) v = ladle::normal(g);
  for (auto kind : {ladle::aggregator_kind::per_model, ladle::aggregator_kind::per_model_level,
                    ladle::aggregator_kind::cross_level}) {
    auto a = ladle::aggregator_weights::uniform(kind, M, K);
    if (kind == ladle::aggregator_kind::per_model) a.w = random_simplex(g, M);
    if (kind == ladle::aggregator_kind::per_model_level)
      for (index_t k = 0; k < K; ++k) {
        const auto s = random_simplex(g, M);
        for (index_t m = 0; m < M; ++m) a.w[static_cast<std::size_t>(m * K + k)] = s[static_cast<std::size_t>(m)];
      }
    if (kind == ladle::aggregator_kind::cross_level)
      for (index_t k = 0; k < K; ++k) {
        const auto s = random_simplex(g, M * K);
        for (index_t p = 0; p < M * K; ++p) a.w[static_cast<std::size_t>(p * K + k)] = s[static_cast<std::size_t>(p)];
      }
    const auto W = a.cross_matrix();
    std::vector<double> out(static_cast<std::size_t>(N * K)), out2(out.size());
    ladle::aggregate_into(mm(out, N, K), pv(preds, M, N, K), a);
    ladle::aggregate_into(ladle::par, mm(out2, N, K), pv(preds, M, N, K), a);
    CHECK(out == out2);
    double worst = 0;
    for (index_t i = 0; i < N; ++i)
      for (index_t k = 0; k < K; ++k) {
        double s = 0;
        for (index_t m = 0; m < M; ++m)
          for (index_t j = 0; j < K; ++j)
            s += W[static_cast<std::size_t>((m * K + j) * K + k)] *
                 preds[static_cast<std::size_t>((m * N + i) * K + j)];
        worst = std::max(worst, std::abs(out[static_cast<std::size_t>(i * K + k)] - s));
      }
    CHECK(worst <= 1e-14);
    // A single model is reproduced exactly.
    ladle::aggregate_into(mm(out, N, K), pv(preds, M, N, K),
                          ladle::aggregator_weights::single(kind, M, K, 1));
    for (index_t i = 0; i < N * K; ++i)
      CHECK(out[static_cast<std::size_t>(i)] == preds[static_cast<std::size_t>(N * K + i)]);
  }
}

TEST_CASE("mean, median, local weights and float outputs") {
  const index_t M = 4, N = 3, K = 2;
  std::vector<double> preds(static_cast<std::size_t>(M * N * K));
  for (std::size_t i = 0; i < preds.size(); ++i) preds[i] = static_cast<double>((i * 7) % 11);
  std::vector<double> mean(6), med(6), uni(6);
  ladle::aggregate_mean_into(mm(mean, N, K), pv(preds, M, N, K));
  ladle::aggregate_median_into(mm(med, N, K), pv(preds, M, N, K));
  ladle::aggregate_into(mm(uni, N, K), pv(preds, M, N, K),
                        ladle::aggregator_weights::uniform(ladle::aggregator_kind::per_model, M, K));
  for (index_t i = 0; i < N; ++i)
    for (index_t k = 0; k < K; ++k) {
      std::vector<double> v;
      for (index_t m = 0; m < M; ++m) v.push_back(preds[static_cast<std::size_t>((m * N + i) * K + k)]);
      std::sort(v.begin(), v.end());
      const std::size_t c = static_cast<std::size_t>(i * K + k);
      CHECK(med[c] == 0.5 * (v[1] + v[2]));
      CHECK(mean[c] == doctest::Approx((v[0] + v[1] + v[2] + v[3]) / 4).epsilon(1e-15));
      CHECK(uni[c] == doctest::Approx(mean[c]).epsilon(1e-15));
    }
  // Local weights [N, M]: row i weights model (i % M) alone.
  std::vector<double> local(static_cast<std::size_t>(N * M), 0.0), out(6);
  for (index_t i = 0; i < N; ++i) local[static_cast<std::size_t>(i * M + i % M)] = 1.0;
  ladle::aggregate_local_into(mm(out, N, K), pv(preds, M, N, K), cm(local, N, M));
  for (index_t i = 0; i < N; ++i)
    for (index_t k = 0; k < K; ++k)
      CHECK(out[static_cast<std::size_t>(i * K + k)] ==
            preds[static_cast<std::size_t>(((i % M) * N + i) * K + k)]);
  // Local [N, M, K] with constant weights equals the per-model aggregate; float output.
  std::vector<double> local3(static_cast<std::size_t>(N * M * K));
  const std::vector<double> wm{0.1, 0.2, 0.3, 0.4};
  for (index_t i = 0; i < N; ++i)
    for (index_t m = 0; m < M; ++m)
      for (index_t k = 0; k < K; ++k) local3[static_cast<std::size_t>((i * M + m) * K + k)] = wm[static_cast<std::size_t>(m)];
  std::vector<float> outf(6);
  ladle::aggregate_local_into(mm(outf, N, K), pv(preds, M, N, K),
                              ladle::tensor_view<const double, 3>(local3.data(), {N, M, K}));
  auto a = ladle::aggregator_weights::uniform(ladle::aggregator_kind::per_model, M, K);
  a.w = wm;
  std::vector<double> ref(6);
  ladle::aggregate_into(mm(ref, N, K), pv(preds, M, N, K), a);
  for (std::size_t c = 0; c < 6; ++c) CHECK(outf[c] == static_cast<float>(ref[c]));
}

TEST_CASE("crossing penalty") {
  // Row (2, 1, 3): pairs (0,1): relu(2-1+m), (0,2): relu(2-3+m), (1,2): relu(1-3+m).
  const std::vector<double> q{2, 1, 3};
  CHECK(ladle::crossing_penalty(cm(q, 1, 3)) == doctest::Approx(1.0 / 3));
  CHECK(ladle::crossing_penalty(cm(q, 1, 3), {}, 0.5) == doctest::Approx((1.5 + 0 + 0) / 3));
  const std::vector<double> margins{0, 0.5, 1.5, 0, 0, 2.5, 0, 0, 0};
  CHECK(ladle::crossing_penalty(cm(q, 1, 3), cm(margins, 3, 3)) ==
        doctest::Approx((1.5 + 0.5 + 0.5) / 3));
}

TEST_CASE("aggregator errors: off the simplex, shapes, NaN; nothing written") {
  const index_t M = 2, N = 2, K = 2;
  std::vector<double> preds{1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<double> out(4, -9.0);
  auto a = ladle::aggregator_weights::uniform(ladle::aggregator_kind::per_model, M, K);
  a.w = {0.7, 0.4};
  expect_error<ladle::domain_error>(
      [&] { ladle::aggregate_into(mm(out, N, K), pv(preds, M, N, K), a); },
      "ladle::aggregate_into: 'weights' weights of group 0 sum to 1.1");
  a.w = {1.5, -0.5};
  expect_error<ladle::domain_error>(
      [&] { ladle::aggregate_into(mm(out, N, K), pv(preds, M, N, K), a); }, "is -0.5, negative");
  a.simplex = false;  // unconstrained: allowed, extrapolates
  ladle::aggregate_into(mm(out, N, K), pv(preds, M, N, K), a);
  CHECK(out[0] == 1.5 * 1 - 0.5 * 5);
  std::fill(out.begin(), out.end(), -9.0);
  a.w = {1.0};
  expect_error<ladle::invalid_argument>(
      [&] { ladle::aggregate_into(mm(out, N, K), pv(preds, M, N, K), a); },
      "'weights' has size 1 but 2 was expected");
  std::vector<double> small(2);
  expect_error<ladle::invalid_argument>(
      [&] { ladle::aggregate_mean_into(mm(small, 1, 2), pv(preds, M, N, K)); },
      "'out' has row count (N of preds) 1 but 2 was expected");
  auto bad = preds;
  bad[5] = INFINITY;
  expect_error<ladle::domain_error>(
      [&] { ladle::aggregate_median_into(mm(out, N, K), pv(bad, M, N, K)); },
      "'preds' has inf at index (1, 0, 1)");
  expect_error<ladle::invalid_argument>(
      [&] {
        ladle::aggregate_mean_into(mm(preds, N, K), pv(preds, M, N, K));
      },
      "overlaps 'preds'");
  for (double v : out) CHECK(v == -9.0);
  CHECK(preds == std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8});
}

TEST_CASE("exact fit matches scipy linprog(highs) to 1e-6 relative; first order within its bound") {
  for (const auto& c : lpfx::cases) {
    const auto kind = static_cast<ladle::aggregator_kind>(c.kind);
    INFO("kind=" << c.kind << " M=" << c.M << " N=" << c.N << " K=" << c.K);
    ladle::fit_options o;
    o.kind = kind;
    o.method = ladle::fit_method::exact;
    const auto sw = c.weighted ? cv(c.sw) : ladle::vector_view<const double>{};
    const auto r = ladle::fit_aggregator(pv(c.preds, c.M, c.N, c.K), cv(c.y), cv(c.levels), o, sw);
    CHECK(r.status == ladle::fit_status::optimal);
    CHECK(r.method == ladle::fit_method::exact);
    INFO("exact kind " << c.kind << ": " << r.objective << " vs highs " << c.optimum
                          << " rel " << (r.objective - c.optimum) / c.optimum << " pivots "
                          << r.iterations);
    CHECK(std::abs(r.objective - c.optimum) <= 1e-6 * c.optimum);
    // The reported objective is the objective of the returned weights.
    const double check = objective_of(r.weights, c.preds, c.y, c.levels,
                                      c.weighted ? c.sw : std::vector<double>{}, c.M, c.N, c.K);
    CHECK(close(check, r.objective, 1e-12));
    // WIS is twice the pinball mean for symmetric levels (linspace(0.1, 0.9, K)).
    o.objective = ladle::fit_objective::wis;
    const auto rw = ladle::fit_aggregator(pv(c.preds, c.M, c.N, c.K), cv(c.y), cv(c.levels), o, sw);
    CHECK(close(rw.objective, 2 * c.optimum, 1e-6));
    // First order: the certificate holds and, when converged, meets the tolerance.
    o.objective = ladle::fit_objective::pinball;
    o.method = ladle::fit_method::first_order;
    o.tolerance = 1e-3;
    o.max_iterations = 20000;
    const auto f = ladle::fit_aggregator(pv(c.preds, c.M, c.N, c.K), cv(c.y), cv(c.levels), o, sw);
    INFO("first order kind " << c.kind << ": " << f.objective << " gap bound " << f.gap_bound
                                << " true gap " << f.objective - c.optimum << " iterations "
                                << f.iterations << " status " << static_cast<int>(f.status));
    CHECK(f.objective - c.optimum <= f.gap_bound + 1e-12);
    CHECK(f.objective >= c.optimum * (1 - 1e-9));
    CHECK(f.status == ladle::fit_status::converged);
    CHECK(f.gap_bound <= 1e-3 * f.objective * (1 + 1e-9));
  }
}

TEST_CASE("fitted weights never lose to the best single model or the uniform mean (60 trials)") {
  index_t violations = 0, trials = 0;
  for (int t = 0; t < 60; ++t) {
    ladle::philox g(ladle::seed{500u + static_cast<std::uint64_t>(t)});
    const index_t M = 2 + t % 4, N = 20 + 7 * (t % 5), K = 1 + 2 * (t % 3);
    std::vector<double> levels;
    for (index_t k = 0; k < K; ++k) levels.push_back((static_cast<double>(k) + 1) / static_cast<double>(K + 1));
    std::vector<double> y(static_cast<std::size_t>(N)), preds(static_cast<std::size_t>(M * N * K)),
        sw(y.size());
    for (auto& v : y) v = ladle::normal(g);
    for (auto& v : sw) v = 0.1 + ladle::uniform_double(g);
    for (auto& v : preds) v = 0.7 * ladle::normal(g);
    for (auto kind : {ladle::aggregator_kind::per_model, ladle::aggregator_kind::per_model_level,
                      ladle::aggregator_kind::cross_level}) {
      ladle::fit_options o;
      o.kind = kind;
      for (auto method : {ladle::fit_method::exact, ladle::fit_method::first_order}) {
        o.method = method;
        const auto r = ladle::fit_aggregator(pv(preds, M, N, K), cv(y), cv(levels), o, cv(sw));
        const double slack = method == ladle::fit_method::exact ? 1e-12 : r.gap_bound + 1e-12;
        const double uni = objective_of(ladle::aggregator_weights::uniform(kind, M, K), preds, y,
                                        levels, sw, M, N, K);
        if (r.objective > uni + slack) ++violations;
        for (index_t m = 0; m < M; ++m)
          if (r.objective > objective_of(ladle::aggregator_weights::single(kind, M, K, m), preds,
                                         y, levels, sw, M, N, K) + slack)
            ++violations;
        ++trials;
      }
    }
  }
  CHECK(trials == 360);
  CHECK(violations == 0);
}

TEST_CASE("first-order fitting is deterministic for every thread count; automatic picks it") {
  ladle::philox g(ladle::seed{77});
  const index_t M = 5, N = 20000, K = 3;
  const std::vector<double> levels{0.1, 0.5, 0.9};
  std::vector<double> y(static_cast<std::size_t>(N)), preds(static_cast<std::size_t>(M * N * K));
  for (auto& v : y) v = ladle::normal(g);
  for (index_t m = 0; m < M; ++m)
    for (index_t i = 0; i < N; ++i)
      for (index_t k = 0; k < K; ++k)
        preds[static_cast<std::size_t>((m * N + i) * K + k)] =
            y[static_cast<std::size_t>(i)] * (0.2 * static_cast<double>(m)) +
            (levels[static_cast<std::size_t>(k)] - 0.5) * 2.0 + 0.5 * ladle::normal(g);
  ladle::fit_options o;
  const auto a = ladle::fit_aggregator(pv(preds, M, N, K), cv(y), cv(levels), o);
  const auto b = ladle::fit_aggregator(ladle::par, pv(preds, M, N, K), cv(y), cv(levels), o);
  const auto c = ladle::fit_aggregator(ladle::parallel_policy{2}, pv(preds, M, N, K), cv(y),
                                       cv(levels), o);
  CHECK(a.method == ladle::fit_method::first_order);
  CHECK(a.status == ladle::fit_status::converged);
  CHECK(a.weights.w == b.weights.w);
  CHECK(a.weights.w == c.weights.w);
  CHECK(a.objective == b.objective);
  CHECK(a.gap_bound <= 1e-3 * a.objective * (1 + 1e-9));
}

TEST_CASE("fit errors") {
  std::vector<double> preds{1, 2, 3, 4}, y{1, 2};
  const std::vector<double> levels{0.3, 0.6};
  const auto P = pv(preds, 1, 2, 2);
  expect_error<ladle::invalid_argument>(
      [&] { (void)ladle::fit_aggregator(P, cv(y), cv(std::vector<double>{0.6, 0.3})); },
      "ladle::fit_aggregator: 'levels' is not strictly increasing");
  expect_error<ladle::invalid_argument>(
      [&] { (void)ladle::fit_aggregator(P, cv(std::vector<double>{1}), cv(levels)); },
      "'y' has length (N of preds) 1 but 2 was expected");
  ladle::fit_options o;
  o.objective = ladle::fit_objective::wis;
  expect_error<ladle::invalid_argument>([&] { (void)ladle::fit_aggregator(P, cv(y), cv(levels), o); },
                                        "not symmetric");
  o = {};
  o.tolerance = 0;
  expect_error<ladle::invalid_argument>([&] { (void)ladle::fit_aggregator(P, cv(y), cv(levels), o); },
                                        "'opts.tolerance' is 0");
  y[1] = NAN;
  expect_error<ladle::domain_error>([&] { (void)ladle::fit_aggregator(P, cv(y), cv(levels)); },
                                    "'y' has nan at element 1");
}

TEST_CASE("strided predictions take the general path and give the same bits as the flat one") {
  ladle::philox g(ladle::seed{21});
  const index_t M = 3, N = 130, K = 5;
  std::vector<double> flat(static_cast<std::size_t>(M * N * K)), nmk(flat.size());
  for (auto& v : flat) v = ladle::normal(g);
  // The same numbers stored sample-major: element (m, i, k) at (i * M + m) * K + k.
  for (index_t m = 0; m < M; ++m)
    for (index_t i = 0; i < N; ++i)
      for (index_t k = 0; k < K; ++k)
        nmk[static_cast<std::size_t>((i * M + m) * K + k)] = flat[static_cast<std::size_t>((m * N + i) * K + k)];
  ladle::tensor_view<const double, 3> strided(nmk.data(), {M, N, K}, {K, M * K, 1});
  auto a = ladle::aggregator_weights::uniform(ladle::aggregator_kind::per_model_level, M, K);
  for (index_t k = 0; k < K; ++k) {
    const auto s = random_simplex(g, M);
    for (index_t m = 0; m < M; ++m) a.w[static_cast<std::size_t>(m * K + k)] = s[static_cast<std::size_t>(m)];
  }
  std::vector<double> o1(static_cast<std::size_t>(N * K)), o2(o1.size());
  ladle::aggregate_into(mm(o1, N, K), pv(flat, M, N, K), a);
  ladle::aggregate_into(mm(o2, N, K), strided, a);
  CHECK(o1 == o2);
  // Fitting reads the same numbers through either layout.
  std::vector<double> y(static_cast<std::size_t>(N));
  for (auto& v : y) v = ladle::normal(g);
  const std::vector<double> levels{0.1, 0.3, 0.5, 0.7, 0.9};
  const auto f1 = ladle::fit_aggregator(pv(flat, M, N, K), cv(y), cv(levels));
  const auto f2 = ladle::fit_aggregator(strided, cv(y), cv(levels));
  CHECK(f1.weights.w == f2.weights.w);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
