// Resampling benchmarks: float32, 10% minority, k = 5, single thread (ladle::seq).
//
//   bench_resampling                                  all cases (Google Benchmark)
//   bench_resampling --benchmark_filter='smote/100000/64'
//   bench_resampling --once smote 100000 64           one run, prints wall and CPU seconds
//                                                     (for peak RSS: /usr/bin/time -v)
// Times are CPU time (Google Benchmark's default): these machines are shared.
//
// The data are the ones benchmarks/compare/resampling_vs_imblearn.py gives imbalanced-learn:
// x[i][j] = splitmix64(i * d + j) mapped to [0, 1), plus 0.05 on every feature of minority rows
// (rows with i % 10 == 0).
#include "bench_common.hpp"

#include <ladle/resampling.hpp>

#include <chrono>
#include <ctime>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

std::uint64_t splitmix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct dataset {
  ladle::tensor<float, 2> X;
  ladle::tensor<std::int64_t, 1> y;
};

dataset make_data(ladle::index_t n, ladle::index_t d) {
  dataset D{ladle::tensor<float, 2>({n, d}), ladle::tensor<std::int64_t, 1>({n})};
  for (ladle::index_t i = 0; i < n; ++i) {
    const bool minority = i % 10 == 0;
    D.y(i) = minority ? 1 : 0;
    for (ladle::index_t j = 0; j < d; ++j) {
      const std::uint64_t u = splitmix64(std::uint64_t(i * d + j));
      D.X(i, j) = float(u >> 40) * (1.0f / 16777216.0f) + (minority ? 0.05f : 0.0f);
    }
  }
  return D;
}

ladle::index_t run(const std::string& method, const dataset& D) {
  const auto X = D.X.cview();
  const auto y = D.y.cview();
  const ladle::seed s{0};
  if (method == "smote") return ladle::smote(ladle::seq, X, y, {}, s).rows();
  if (method == "borderline") return ladle::borderline_smote(ladle::seq, X, y, {}, s).rows();
  if (method == "adasyn") return ladle::adasyn(ladle::seq, X, y, {}, s).rows();
  if (method == "random_over") return ladle::random_over_sample(ladle::seq, X, y, {}, s).rows();
  if (method == "smote_tomek") return ladle::smote_tomek(ladle::seq, X, y, {}, s).rows();
  std::fprintf(stderr, "unknown method %s\n", method.c_str());
  std::exit(2);
}

template <int Method>
void bm(benchmark::State& state) {
  static const char* names[] = {"smote", "borderline", "adasyn", "random_over"};
  const dataset D = make_data(state.range(0), state.range(1));
  for (auto _ : state) benchmark::DoNotOptimize(run(names[Method], D));
  state.counters["rows/s"] =
      benchmark::Counter(double(state.range(0)) * double(state.iterations()),
                         benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(bm<0>)->Name("smote")->Args({100000, 64})->Args({400000, 256})
    ->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(bm<1>)->Name("borderline_smote")->Args({100000, 64})
    ->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(bm<2>)->Name("adasyn")->Args({100000, 64})
    ->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(bm<3>)->Name("random_over")->Args({100000, 64})
    ->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "--once") == 0) {
    const dataset D = make_data(std::stol(argv[3]), std::stol(argv[4]));
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    const ladle::index_t rows = run(argv[2], D);
    const double cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
    const double sec =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s %s %s rows=%td seconds=%.4f cpu_seconds=%.4f\n", argv[2], argv[3], argv[4],
                rows, sec, cpu);
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
