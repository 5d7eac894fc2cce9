// Blocked exact kNN, all points as queries (self), single thread, float.
//
// Rates use CPU time (Google Benchmark's default), as does the peak.
// Counters: GFLOP/s of the GEMM part (2 * n^2 * d flops per run) and peak_frac, its fraction of
// the core's fp32 FMA peak measured in this binary (BM_fma_peak: a register-resident loop of
// independent simd::batch<float> FMAs). Args: n, d, k.
//   bench_neighbors --benchmark_filter='knn_self/100000/64/6'
#include "bench_common.hpp"

#include <ladle/core/random.hpp>
#include <ladle/core/simd.hpp>
#include <ladle/neighbors.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>
#if defined(__unix__) || defined(__APPLE__)
#  include <time.h>
#endif

namespace {

// Seconds of CPU time of this thread (wall time where unavailable): the machines these run on
// are shared, and CPU time keeps the peak and the kNN rate comparable under contention.
double thread_seconds() {
#if defined(CLOCK_THREAD_CPUTIME_ID)
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
#else
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
#endif
}

// Single-thread fp32 FMA peak (GFLOP/s): 12 independent accumulators cover FMA latency x ports
// (4 x 2 = 8) on current x86 cores; measured once, best of 5. (xsimd 8 spells fma on AVX-512 as
// a multiply and an add, which GCC and Clang contract back into vfmadd: checked in the binary.)
double fma_peak_gflops() {
  static const double peak = [] {
    double best = 0;
    const long iters = 20'000'000;
    for (int rep = 0; rep < 5; ++rep) {
#if LADLE_HAS_SIMD
      using B = ladle::simd::batch<float>;
      constexpr int lanes = static_cast<int>(ladle::simd::lanes<float>);
#else
      using B = float;
      constexpr int lanes = 1;
#endif
      // Twelve named accumulators (an array would be kept in memory once its address escapes).
      B a0(1.0f), a1(1.1f), a2(1.2f), a3(1.3f), a4(1.4f), a5(1.5f);
      B a6(1.6f), a7(1.7f), a8(1.8f), a9(1.9f), a10(2.0f), a11(2.1f);
      B x(0.999999f), y(1e-7f);
      benchmark::DoNotOptimize(x);
      benchmark::DoNotOptimize(y);
      const double t0 = thread_seconds();
      for (long it = 0; it < iters; ++it) {
#if LADLE_HAS_SIMD
#  define LADLE_BENCH_FMA(a) a = xsimd::fma(a, x, y)
#else
#  define LADLE_BENCH_FMA(a) a = a * x + y
#endif
        LADLE_BENCH_FMA(a0); LADLE_BENCH_FMA(a1); LADLE_BENCH_FMA(a2); LADLE_BENCH_FMA(a3);
        LADLE_BENCH_FMA(a4); LADLE_BENCH_FMA(a5); LADLE_BENCH_FMA(a6); LADLE_BENCH_FMA(a7);
        LADLE_BENCH_FMA(a8); LADLE_BENCH_FMA(a9); LADLE_BENCH_FMA(a10); LADLE_BENCH_FMA(a11);
#undef LADLE_BENCH_FMA
      }
      B total = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
      benchmark::DoNotOptimize(total);
      const double s = thread_seconds() - t0;
      best = std::max(best, 2.0 * lanes * 12.0 * double(iters) / s / 1e9);
    }
    return best;
  }();
  return peak;
}

void BM_fma_peak(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(fma_peak_gflops());
  state.counters["peak_GFLOPs"] = fma_peak_gflops();
}
BENCHMARK(BM_fma_peak)->Iterations(1);

std::vector<float> random_points(ladle::index_t n, ladle::index_t d) {
  ladle::philox g(ladle::seed{2024});
  std::vector<float> x(static_cast<std::size_t>(n * d));
  for (auto& v : x) v = static_cast<float>(ladle::normal(g));
  return x;
}

void BM_knn_self(benchmark::State& state) {
  const ladle::index_t n = state.range(0), d = state.range(1), k = state.range(2);
  const auto x = random_points(n, d);
  const auto view = ladle::make_view(x.data(), {n, d});
  ladle::knn_options opts;
  opts.k = k;
  if (state.range(3) > 0) opts.query_block = state.range(3);
  if (state.range(4) > 0) opts.reference_block = state.range(4);
  ladle::tensor<ladle::index_t, 2> idx({n, k});
  ladle::tensor<float, 2> dist({n, k});
  const double peak = fma_peak_gflops();
  for (auto _ : state) {
    ladle::knn_self_into(ladle::seq, view, idx.view(), dist.view(), opts);
    benchmark::DoNotOptimize(idx.data());
  }
  const double flops = 2.0 * double(n) * double(n) * double(d) * double(state.iterations());
  state.counters["GFLOPs"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsRate);
  state.counters["peak_frac"] = benchmark::Counter(flops / 1e9 / peak, benchmark::Counter::kIsRate);
  const auto tiles = ladle::knn_tile_sizes(n, n, d, opts, sizeof(float));
  state.counters["qb"] = double(tiles.query_block);
  state.counters["rb"] = double(tiles.reference_block);
  state.counters["workspace_MiB"] =
      double(ladle::knn_workspace_bytes(n, n, d, opts, sizeof(float))) / double(1 << 20);
}
// n, d, k, query_block, reference_block (0 = auto)
BENCHMARK(BM_knn_self)->Name("knn_self")->Args({10000, 64, 6, 0, 0})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_knn_self)->Name("knn_self")->Args({20000, 256, 6, 0, 0})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_knn_self)->Name("knn_self")->Args({100000, 64, 6, 0, 0})->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

// An extra size from the environment, LADLE_KNN_BENCH="n,d,k" (used by
// benchmarks/compare/knn_vs_sklearn.py to time ladle on the shape it gives scikit-learn).
int main(int argc, char** argv) {
  if (const char* extra = std::getenv("LADLE_KNN_BENCH")) {
    long n = 0, d = 0, k = 0;
    if (std::sscanf(extra, "%ld,%ld,%ld", &n, &d, &k) == 3 && n > k && d > 0 && k > 0) {
      benchmark::RegisterBenchmark("knn_self", BM_knn_self)
          ->Args({n, d, k, 0, 0})
          ->Unit(benchmark::kSecond)
          ->Iterations(1);
    } else {
      std::fprintf(stderr, "LADLE_KNN_BENCH must be \"n,d,k\" with n > k > 0, d > 0\n");
      return 2;
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
