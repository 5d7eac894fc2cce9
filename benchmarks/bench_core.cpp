// Core benchmarks: 16-bit <-> float conversion (bandwidth-bound, reported as a fraction of the
// copy bandwidth measured in this binary), Philox throughput, parallel_for overhead, and the
// single-thread fp32 FMA peak (fma_peak, CPU time; the reference for every "fraction of peak").
#include "bench_common.hpp"

#include <ladle/core.hpp>

#include <vector>

namespace {

constexpr ladle::index_t kElems = ladle::index_t(1) << 24;  // 16M elements: far beyond the caches

void BM_copy_bandwidth_reference(benchmark::State& state) {
  std::vector<float> a(kElems, 1.f), b(kElems);
  for (auto _ : state) {
    std::memcpy(b.data(), a.data(), a.size() * sizeof(float));
    benchmark::DoNotOptimize(b.data());
    benchmark::ClobberMemory();
  }
  ladle_bench::report_bandwidth(state, 2.0 * kElems * sizeof(float));
}
BENCHMARK(BM_copy_bandwidth_reference)->Unit(benchmark::kMillisecond);
BENCHMARK(ladle_bench::BM_fma_peak)->Name("fma_peak")->Iterations(1);

template <class Src, class Dst>
void BM_convert(benchmark::State& state) {
  std::vector<Src> in(kElems);
  std::vector<Dst> out(kElems);
  ladle::philox g(ladle::seed{1});
  std::vector<float> f(kElems);
  for (auto& v : f) v = float(ladle::normal(g));
  ladle::convert_n(f.data(), in.data(), kElems);
  for (auto _ : state) {
    ladle::convert_n(in.data(), out.data(), kElems);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  ladle_bench::report_bandwidth(state, double(kElems) * (sizeof(Src) + sizeof(Dst)));
}
BENCHMARK_TEMPLATE(BM_convert, ladle::bfloat16, float)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_convert, float, ladle::bfloat16)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_convert, ladle::half, float)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_convert, float, ladle::half)->Unit(benchmark::kMillisecond);

// The scalar reference path, to show what the SIMD kernels buy.
void BM_convert_bf16_to_f32_scalar(benchmark::State& state) {
  std::vector<ladle::bfloat16> in(kElems, ladle::bfloat16(1.5f));
  std::vector<float> out(kElems);
  for (auto _ : state) {
    ladle::convert_n_scalar(in.data(), out.data(), kElems);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  ladle_bench::report_bandwidth(state, double(kElems) * 6);
}
BENCHMARK(BM_convert_bf16_to_f32_scalar)->Unit(benchmark::kMillisecond);

// Raw Philox blocks: 16 random bytes per block.
void BM_philox_blocks(benchmark::State& state) {
  const ladle::philox g(ladle::seed{42}, 7);
  std::uint64_t pos = 0;
  std::uint32_t acc = 0;
  for (auto _ : state) {
    for (int i = 0; i < 1024; ++i) {
      const auto b = g.block_at(pos++);
      acc ^= b[0] ^ b[1] ^ b[2] ^ b[3];
    }
    benchmark::DoNotOptimize(acc);
  }
  state.SetBytesProcessed(std::int64_t(state.iterations()) * 1024 * 16);
  state.counters["blocks/s"] =
      benchmark::Counter(double(state.iterations()) * 1024, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_philox_blocks);

void BM_philox_uniform_float(benchmark::State& state) {
  ladle::philox g(ladle::seed{42});
  float acc = 0;
  for (auto _ : state) {
    for (int i = 0; i < 1024; ++i) acc += ladle::uniform_float(g);
    benchmark::DoNotOptimize(acc);
  }
  state.counters["draws/s"] =
      benchmark::Counter(double(state.iterations()) * 1024, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_philox_uniform_float);

void BM_philox_normal(benchmark::State& state) {
  ladle::philox g(ladle::seed{42});
  double acc = 0;
  for (auto _ : state) {
    for (int i = 0; i < 1024; ++i) acc += ladle::normal(g);
    benchmark::DoNotOptimize(acc);
  }
  state.counters["draws/s"] =
      benchmark::Counter(double(state.iterations()) * 1024, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_philox_normal);

// Cost of one parallel_for dispatch on the internal pool (tiny body).
void BM_parallel_for_overhead(benchmark::State& state) {
  std::vector<int> sink(64);
  for (auto _ : state) {
    ladle::parallel_for(ladle::par(int(state.range(0))), 64, 1,
                        [&](ladle::index_t b, ladle::index_t) { sink[std::size_t(b)] += 1; });
    benchmark::DoNotOptimize(sink.data());
  }
}
BENCHMARK(BM_parallel_for_overhead)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
