// Selection benchmarks, single thread (ladle::seq), CPU time.
//
//   bench_selection                                    all cases (Google Benchmark)
//   bench_selection --once weighted 10000000 1000000   one run: prints "cpu_s wall_s"
//   bench_selection --once uniform 10000000 1000000
//   bench_selection --once kcenter 50000 128 1000      (n, d, centres)
//   bench_selection --once facility 20000 64 1000      (n, d, budget; lazy greedy)
//   bench_selection --once kmeans 20000 64 64 30       (n, d, k, iterations; tol 0, 1 restart)
//   bench_selection --once dsir RAW.txt TARGET.txt     (featurise + log weights of every line of
//                                                      RAW; models fitted untimed; sink = bytes)
// benchmarks/compare/selection_vs_numpy.py runs the --once forms interleaved with numpy.
// Data: weights u in [0, 1) from splitmix64(i); features splitmix64 mapped to [-1, 1).
#include <benchmark/benchmark.h>

#include <ladle/selection.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

namespace {

std::uint64_t splitmix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::vector<double> make_weights(ladle::index_t n) {
  std::vector<double> w(static_cast<std::size_t>(n));
  for (ladle::index_t i = 0; i < n; ++i)
    w[std::size_t(i)] = double(splitmix64(std::uint64_t(i)) >> 11) * 0x1p-53;
  return w;
}

std::vector<float> make_features(ladle::index_t n, ladle::index_t d) {
  std::vector<float> x(static_cast<std::size_t>(n * d));
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = float(double(splitmix64(i) >> 11) * 0x1p-52 - 1.0);
  return x;
}

void bm_weighted(benchmark::State& state) {
  const auto w = make_weights(state.range(0));
  const auto wv = ladle::make_view(static_cast<const double*>(w.data()), w.size());
  std::uint64_t s = 0;
  for (auto _ : state) benchmark::DoNotOptimize(ladle::weighted_sample(wv, state.range(1), ladle::seed{s++}));
}
BENCHMARK(bm_weighted)->Args({10000000, 1000000})->Args({1000000, 1000})->Unit(benchmark::kMillisecond);

void bm_uniform(benchmark::State& state) {
  std::uint64_t s = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(ladle::uniform_subset(state.range(0), state.range(1), ladle::seed{s++}));
}
BENCHMARK(bm_uniform)->Args({10000000, 1000000})->Args({1000000000, 1000})->Unit(benchmark::kMillisecond);

void bm_kcenter(benchmark::State& state) {
  const auto x = make_features(state.range(0), state.range(1));
  const auto X = ladle::make_view(static_cast<const float*>(x.data()), {state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(ladle::k_center_greedy(X, state.range(2), ladle::seed{1}));
}
BENCHMARK(bm_kcenter)->Args({50000, 128, 100})->Unit(benchmark::kMillisecond);

void bm_facility_lazy(benchmark::State& state) {
  const auto x = make_features(state.range(0), state.range(1));
  const auto X = ladle::make_view(static_cast<const float*>(x.data()), {state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(ladle::facility_location(X, state.range(2)));
}
BENCHMARK(bm_facility_lazy)->Args({2000, 64, 100})->Unit(benchmark::kMillisecond);

void bm_kmeans(benchmark::State& state) {
  const auto x = make_features(state.range(0), state.range(1));
  const auto X = ladle::make_view(static_cast<const float*>(x.data()), {state.range(0), state.range(1)});
  ladle::kmeans_options o;
  o.tolerance = 0;
  o.max_iterations = 10;
  for (auto _ : state) benchmark::DoNotOptimize(ladle::kmeans(X, state.range(2), ladle::seed{1}, o));
}
BENCHMARK(bm_kmeans)->Args({20000, 64, 64})->Unit(benchmark::kMillisecond);

void bm_herding(benchmark::State& state) {
  const auto x = make_features(state.range(0), state.range(1));
  const auto X = ladle::make_view(static_cast<const float*>(x.data()), {state.range(0), state.range(1)});
  for (auto _ : state) benchmark::DoNotOptimize(ladle::herding(X, state.range(2)));
}
BENCHMARK(bm_herding)->Args({20000, 64, 200})->Unit(benchmark::kMillisecond);

void bm_rs2_round(benchmark::State& state) {
  const ladle::rs2_schedule s(state.range(0), 0.1, ladle::seed{1});
  std::uint64_t r = 0;
  for (auto _ : state) benchmark::DoNotOptimize(s.round(r++));
}
BENCHMARK(bm_rs2_round)->Arg(1000000)->Unit(benchmark::kMillisecond);

/// Synthetic text for the default run: lines of 30 pseudo-words over a 5 000-word vocabulary.
std::vector<std::string> make_text(ladle::index_t lines) {
  std::vector<std::string> out(static_cast<std::size_t>(lines));
  for (ladle::index_t l = 0; l < lines; ++l)
    for (int w = 0; w < 30; ++w) {
      std::uint64_t z = splitmix64(std::uint64_t(l) * 31 + std::uint64_t(w)) % 5000;
      std::string word;
      do {
        word += char('a' + z % 26);
        z /= 7;
      } while (z);
      out[std::size_t(l)] += (w ? " " : "") + word + (w % 9 == 8 ? "," : "");
    }
  return out;
}

void bm_dsir_score(benchmark::State& state) {
  const auto docs = make_text(state.range(0));
  const auto raw = ladle::dsir_fit_documents(ladle::seq, docs);
  const std::vector<std::string> target(docs.begin(), docs.begin() + 100);
  const auto ratios = ladle::dsir_log_ratios(raw, ladle::dsir_fit_documents(ladle::seq, target));
  std::size_t bytes = 0;
  for (const auto& d : docs) bytes += d.size() + 1;
  for (auto _ : state) benchmark::DoNotOptimize(ladle::dsir_score_documents(ladle::seq, docs, ratios));
  state.SetBytesProcessed(std::int64_t(bytes) * state.iterations());
}
BENCHMARK(bm_dsir_score)->Arg(20000)->Unit(benchmark::kMillisecond);

std::vector<std::string> read_lines(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> v;
  for (std::string line; std::getline(in, line);) v.push_back(line);
  return v;
}

int run_once(int argc, char** argv) {
  const std::string what = argv[2];
  auto arg = [&](int i) { return static_cast<ladle::index_t>(std::atoll(argv[i])); };
  std::vector<double> w;
  std::vector<float> x;
  std::vector<std::string> raw_docs;
  std::vector<double> ratios;
  if (what == "dsir") {
    raw_docs = read_lines(argv[3]);
    const auto target_docs = read_lines(argv[4]);
    ratios = ladle::dsir_log_ratios(ladle::dsir_fit_documents(ladle::seq, raw_docs),
                                    ladle::dsir_fit_documents(ladle::seq, target_docs));
  }
  if (what == "weighted") w = make_weights(arg(3));
  if (what == "kcenter" || what == "facility" || what == "kmeans") x = make_features(arg(3), arg(4));
  // Warm-up call (seed 6, untimed): fresh pages of a new process are slow on virtual machines.
  for (int pass = 0; pass < 2; ++pass) {
  const std::uint64_t sd = pass == 0 ? 6 : 7;
  const std::clock_t c0 = std::clock();
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t sink = 0;
  if (what == "weighted") {
    sink = ladle::weighted_sample(ladle::make_view(static_cast<const double*>(w.data()), w.size()),
                                  arg(4), ladle::seed{sd}).size();
  } else if (what == "uniform") {
    sink = ladle::uniform_subset(arg(3), arg(4), ladle::seed{sd}).size();
  } else if (what == "kcenter") {
    const auto X = ladle::make_view(static_cast<const float*>(x.data()), {arg(3), arg(4)});
    sink = ladle::k_center_greedy(X, arg(5), ladle::seed{sd}).order.size();
  } else if (what == "facility") {
    if (pass == 0) continue;  // one O(n^2 d) run is long enough to warm the pages itself
    const auto X = ladle::make_view(static_cast<const float*>(x.data()), {arg(3), arg(4)});
    const auto r = ladle::facility_location(X, arg(5));
    sink = r.order.size();
    std::fprintf(stderr, "objective %.9g evaluations %lld\n", r.objective,
                 static_cast<long long>(r.evaluations));
    if (std::FILE* f = std::fopen("/proc/self/status", "r")) {  // peak RSS (Linux)
      char line[256];
      while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, "VmHWM:", 6) == 0) std::fprintf(stderr, "peak %s", line + 6);
      std::fclose(f);
    }
  } else if (what == "dsir") {
    const auto sc = ladle::dsir_score_documents(ladle::seq, raw_docs, ratios);
    for (const auto& d : raw_docs) sink += d.size() + 1;
    if (pass == 1) {
      double sum = 0;
      for (double w : sc.log_weights) sum += w;
      std::fprintf(stderr, "documents %zu sum of log weights %.17g sha256 %s\n", sc.log_weights.size(), sum,
                   ladle::sha256_backend());
      // dsir_vs_python.py compares every document's weight: raw float64 to this file.
      if (const char* out = std::getenv("LADLE_DSIR_WEIGHTS_OUT"))
        if (std::FILE* f = std::fopen(out, "wb")) {
          std::fwrite(sc.log_weights.data(), sizeof(double), sc.log_weights.size(), f);
          std::fclose(f);
        }
    }
  } else if (what == "kmeans") {
    const auto X = ladle::make_view(static_cast<const float*>(x.data()), {arg(3), arg(4)});
    ladle::kmeans_options o;
    o.tolerance = 0;
    o.max_iterations = argc > 6 ? arg(6) : 30;
    const auto r = ladle::kmeans(X, arg(5), ladle::seed{sd}, o);
    sink = static_cast<std::size_t>(r.iterations);
    if (pass == 1) std::fprintf(stderr, "iterations %lld inertia %.9g\n", static_cast<long long>(r.iterations), r.inertia);
  } else {
    std::fprintf(stderr, "unknown case %s\n", what.c_str());
    return 2;
  }
  const double cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (pass == 1) std::printf("%.6f %.6f %zu\n", cpu, wall, sink);
  }
  (void)argc;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 5 && std::strcmp(argv[1], "--once") == 0) return run_once(argc, argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
