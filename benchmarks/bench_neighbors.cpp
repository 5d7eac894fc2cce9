// Blocked exact kNN, all points as queries (self), single thread, float.
//
// Rates use CPU time (Google Benchmark's default), as does the peak.
// Counters: GFLOP/s of the filter kernel (2 * n^2 * d flops per run, over the whole run time)
// and peak_frac, its fraction of
// the core's fp32 FMA peak measured in this binary (BM_fma_peak: a register-resident loop of
// independent simd::batch<float> FMAs). Args: n, d, k.
//   bench_neighbors --benchmark_filter='knn_self/100000/64/6'
//   bench_neighbors --once query 10000 1000000 128 10   (see run_once below; the environment
//   variables LADLE_KNN_QUERY_BLOCK, LADLE_KNN_REFERENCE_BLOCK, LADLE_KNN_CANDIDATE_BUFFER set
//   knn_options for tuning runs)
#include "bench_common.hpp"

#include <ladle/core/random.hpp>
#include <ladle/core/simd.hpp>
#include <ladle/core/tensor.hpp>
#include <ladle/neighbors.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
#if defined(__unix__) || defined(__APPLE__)
#  include <time.h>
#endif

namespace {

using ladle_bench::fma_peak_gflops;
using ladle_bench::thread_seconds;

BENCHMARK(ladle_bench::BM_fma_peak)->Name("fma_peak")->Iterations(1);

// The points live in a ladle::tensor, whose buffers of 4 MiB or more are advised as transparent
// huge pages, as NumPy (>= 1.22) does for the arrays FAISS and scikit-learn read in the compare
// scripts: both sides then run on the same page size (the exact re-measures read rows at random,
// and with 4 KiB pages each one costs a TLB miss).
ladle::tensor<float, 1> random_points(ladle::index_t n, ladle::index_t d, std::uint64_t seed = 2024) {
  ladle::philox g(ladle::seed{seed});
  ladle::tensor<float, 1> x(std::array<ladle::index_t, 1>{n * d}, ladle::uninitialized);
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

// One timed run for the peer comparisons (benchmarks/compare/knn_vs_*.py), which interleave it
// with the peer's runs:
//   bench_neighbors --once self N D K          knn_self of N random normal float rows
//   bench_neighbors --once query NQ NR D K     knn of NQ query rows against NR reference rows
// prints `cpu_seconds=... seconds=... GFLOPs=... peak_GFLOPs=...` (CPU time of this thread; the
// FMA peak measured in this process, before the run).
int run_once(int argc, char** argv) {
  const bool self = argc == 6 && std::string(argv[2]) == "self";
  const bool query = argc == 7 && std::string(argv[2]) == "query";
  if (!self && !query) {
    std::fprintf(stderr, "usage: --once self N D K | --once query NQ NR D K\n");
    return 2;
  }
  const long nq = std::atol(argv[3]), nr = self ? nq : std::atol(argv[4]);
  const long d = std::atol(argv[self ? 4 : 5]), k = std::atol(argv[self ? 5 : 6]);
  if (nq < 1 || nr <= k || d < 1 || k < 1) {
    std::fprintf(stderr, "need NQ >= 1, NR > K >= 1, D >= 1\n");
    return 2;
  }
  const double peak = fma_peak_gflops();
  const auto ref = random_points(nr, d);
  const auto qs = random_points(self ? 0 : nq, d, 7);
  ladle::knn_options opts;
  opts.k = k;
  // Tile overrides for tuning runs (unset: the automatic choice).
  if (const char* v = std::getenv("LADLE_KNN_QUERY_BLOCK")) opts.query_block = std::atol(v);
  if (const char* v = std::getenv("LADLE_KNN_REFERENCE_BLOCK")) opts.reference_block = std::atol(v);
  if (const char* v = std::getenv("LADLE_KNN_CANDIDATE_BUFFER")) opts.candidate_buffer = std::atol(v);
  ladle::tensor<ladle::index_t, 2> idx({nq, k});
  ladle::tensor<float, 2> dist({nq, k});
  const auto w0 = std::chrono::steady_clock::now();
  const double c0 = thread_seconds();
  if (self)
    ladle::knn_self_into(ladle::seq, ladle::make_view(ref.data(), {nr, d}), idx.view(), dist.view(), opts);
  else
    ladle::knn_into(ladle::seq, ladle::make_view(qs.data(), {nq, d}), ladle::make_view(ref.data(), {nr, d}),
                    idx.view(), dist.view(), opts);
  const double cpu = thread_seconds() - c0;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  benchmark::DoNotOptimize(idx.data());
  const double gflops = 2.0 * double(nq) * double(nr) * double(d) / cpu / 1e9;
  std::printf("knn %s nq=%ld nr=%ld d=%ld k=%ld cpu_seconds=%.4f seconds=%.4f GFLOPs=%.1f peak_GFLOPs=%.1f\n",
              self ? "self" : "query", nq, nr, d, k, cpu, wall, gflops, peak);
  return 0;
}

}  // namespace

// An extra size from the environment, LADLE_KNN_BENCH="n,d,k", registered as knn_self/n/d/k.
int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "--once") return run_once(argc, argv);
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
