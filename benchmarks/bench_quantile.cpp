// Quantile family benchmarks (single thread unless the name says par):
//   isotonic_1d/n          ladle::isotonic_regression::fit on n random points (sklearn's job)
//   sort_rows/n, isotonic_rows/n   repair of an [n, 9] float array (one call)
//   sort_isotonic_rows/n      sort_quantiles then isotonic_repair (two calls)
//   sort_then_isotonic_rows/n sort_then_isotonic_repair (one call, same result)
//                          n = 2e6, or LADLE_QUANTILE_ROWS (the size is 16000000)
//   aggregate/n            per-model-level aggregation predict of [16, n, 9] float (bw_frac)
//   fit_first_order        medium aggregator fit, M = 10, N = 1e5, K = 9 (pinball)
// benchmarks/compare/quantile_vs_peers.py runs these next to scikit-learn, numpy and HiGHS.
// LADLE_QUANTILE_FIT_DATA=prefix makes fit_first_order read prefix.preds (float64 [10, 1e5, 9])
// and prefix.y (float64 [1e5]) written by the compare script, so both solve the same problem,
// and prints the objective on stderr.
#include "bench_common.hpp"

#include <ladle/core/random.hpp>
#include <ladle/quantile.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

using ladle::index_t;

std::vector<float> random_rows(index_t n, index_t k, std::uint64_t seed) {
  ladle::philox g(ladle::seed{seed});
  std::vector<float> q(static_cast<std::size_t>(n * k));
  for (auto& v : q) v = static_cast<float>(ladle::normal(g));
  return q;
}

void isotonic_1d(benchmark::State& state) {
  const index_t n = state.range(0);
  ladle::philox g(ladle::seed{1});
  std::vector<double> x(static_cast<std::size_t>(n)), y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = ladle::uniform_double(g) * 10.0;
    y[i] = std::sin(x[i]) + x[i] * 0.3 + ladle::normal(g);
  }
  ladle::isotonic_regression ir;
  for (auto _ : state) {
    ir.fit(ladle::make_view(x.data(), n), ladle::make_view(y.data(), n));
    benchmark::DoNotOptimize(ir.y_thresholds().data());
  }
  state.counters["points/s"] = benchmark::Counter(double(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(isotonic_1d)->Arg(1000000)->Unit(benchmark::kMillisecond);

/// Rows of the repair benchmarks: LADLE_QUANTILE_ROWS, else 2e6 (the 1.6e7 rows need
/// 1.2 GB for the input and its working copy).
void repair_sizes(benchmark::internal::Benchmark* b) {
  const char* env = std::getenv("LADLE_QUANTILE_ROWS");
  const long long rows = env ? std::atoll(env) : 0;
  b->Arg(rows > 0 ? rows : 2000000);
}

template <int Kind>
void repair_rows(benchmark::State& state) {
  const index_t n = state.range(0), k = 9;
  const auto source = random_rows(n, k, 2);
  std::vector<float> q(source.size());
  for (auto _ : state) {
    state.PauseTiming();
    q = source;
    state.ResumeTiming();
    ladle::matrix_view<float> v(q.data(), {n, k});
    if (Kind == 0 || Kind == 2) ladle::sort_quantiles(v);
    if (Kind == 1 || Kind == 2) ladle::isotonic_repair(v);
    if (Kind == 3) ladle::sort_then_isotonic_repair(v);
    benchmark::DoNotOptimize(q.data());
  }
  state.counters["rows/s"] = benchmark::Counter(double(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(repair_rows<0>)->Name("sort_rows")->Apply(repair_sizes)->Unit(benchmark::kMillisecond);
BENCHMARK(repair_rows<1>)->Name("isotonic_rows")->Apply(repair_sizes)->Unit(benchmark::kMillisecond);
BENCHMARK(repair_rows<2>)->Name("sort_isotonic_rows")->Apply(repair_sizes)->Unit(benchmark::kMillisecond);
BENCHMARK(repair_rows<3>)
    ->Name("sort_then_isotonic_rows")
    ->Apply(repair_sizes)
    ->Unit(benchmark::kMillisecond);

void aggregate(benchmark::State& state) {
  const index_t M = 16, n = state.range(0), k = 9;
  const auto preds = random_rows(M * n, k, 3);
  std::vector<float> out(static_cast<std::size_t>(n * k));
  auto w = ladle::aggregator_weights::uniform(ladle::aggregator_kind::per_model_level, M, k);
  ladle::tensor_view<const float, 3> p(preds.data(), {M, n, k});
  for (auto _ : state) {
    ladle::aggregate_into(ladle::matrix_view<float>(out.data(), {n, k}), p, w);
    benchmark::DoNotOptimize(out.data());
  }
  const double bytes = double(preds.size() + out.size()) * sizeof(float);
  ladle_bench::report_bandwidth(state, bytes, static_cast<std::size_t>(bytes));
}
BENCHMARK(aggregate)->Arg(1000000)->Unit(benchmark::kMillisecond);

std::vector<double> read_doubles(const std::string& path, std::size_t n) {
  std::vector<double> v(n);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f || std::fread(v.data(), sizeof(double), n, f) != n) {
    std::fprintf(stderr, "cannot read %zu doubles from %s\n", n, path.c_str());
    std::exit(2);
  }
  std::fclose(f);
  return v;
}

void fit_first_order(benchmark::State& state) {
  const index_t M = 10, N = 100000, K = 9;
  std::vector<double> levels;
  for (int k = 1; k <= K; ++k) levels.push_back(0.1 * k);
  std::vector<double> preds, y;
  const char* prefix = std::getenv("LADLE_QUANTILE_FIT_DATA");
  if (prefix) {
    preds = read_doubles(std::string(prefix) + ".preds", static_cast<std::size_t>(M * N * K));
    y = read_doubles(std::string(prefix) + ".y", static_cast<std::size_t>(N));
  } else {
    ladle::philox g(ladle::seed{4});
    y.resize(static_cast<std::size_t>(N));
    preds.resize(static_cast<std::size_t>(M * N * K));
    const double z[9] = {-1.2816, -0.8416, -0.5244, -0.2533, 0, 0.2533, 0.5244, 0.8416, 1.2816};
    std::vector<double> mu(y.size()), sd(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) {
      const double x = 6 * ladle::uniform_double(g) - 3;
      mu[i] = std::sin(x);
      sd[i] = 0.3 + 0.4 * std::abs(x);
      y[i] = mu[i] + sd[i] * ladle::normal(g);
    }
    for (index_t m = 0; m < M; ++m)
      for (index_t i = 0; i < N; ++i)
        for (index_t k = 0; k < K; ++k)
          preds[static_cast<std::size_t>((m * N + i) * K + k)] =
              mu[static_cast<std::size_t>(i)] + 0.1 * (m % 3) +
              (0.6 + 0.1 * m) * sd[static_cast<std::size_t>(i)] * z[k] +
              0.05 * (m + 1) * ladle::normal(g);
  }
  ladle::fit_options o;
  o.method = ladle::fit_method::first_order;
  ladle::fit_result r;
  for (auto _ : state) {
    r = ladle::fit_aggregator(ladle::tensor_view<const double, 3>(preds.data(), {M, N, K}),
                              ladle::make_view(y.data(), N), ladle::make_view(levels.data(), K), o);
    benchmark::DoNotOptimize(r.weights.w.data());
  }
  state.counters["objective"] = r.objective;
  state.counters["gap_bound"] = r.gap_bound;
  state.counters["iterations"] = double(r.iterations);
  std::fprintf(stderr, "fit_first_order objective %.12g gap_bound %.3g status %d\n", r.objective,
               r.gap_bound, static_cast<int>(r.status));
}
BENCHMARK(fit_first_order)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
