// Averaging benchmarks (single thread).
//   uniform average of 8 x 25M float32 tensors (in memory), bfloat16 in -> float32 accumulation
//   -> bfloat16 out, and one EMA update of 25M float32 parameters. Each reports GB/s of memory
//   traffic (every input read once, the output written once; EMA: avg and x read, avg written)
//   and its fraction of the copy bandwidth measured in this binary between the timed iterations
//   (bench_common.hpp's interleaved_copy).
//   benchmarks/compare/averaging_vs_numpy.py runs this binary and numpy side by side.
//   linear_sum_assignment of an n x n matrix (n = 512, 2048; entry k = the uniform double of
//   derive_stream(7, k), minimised): benchmarks/compare/assignment_vs_scipy.py builds the same
//   matrix for scipy.optimize.linear_sum_assignment.
#include <ladle/averaging.hpp>
#include <ladle/core/tensor.hpp>

#include "bench_common.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace {

constexpr ladle::index_t n = 25'000'000;
constexpr int k = 8;

// Buffers come from ladle::tensor, which advises buffers of 4 MiB or more as transparent huge
// pages, as NumPy (>= 1.22) does for its arrays on Linux: both sides of the comparison script
// then run on the same page size (with 4 KiB pages, nine 100 MB streams cost TLB misses).
template <class T>
std::vector<ladle::tensor<T, 1>>& inputs() {
  static std::vector<ladle::tensor<T, 1>> v = [] {
    std::vector<ladle::tensor<T, 1>> out;
    ladle::philox g(ladle::seed{3});
    for (int m = 0; m < k; ++m) {
      out.emplace_back(std::array<ladle::index_t, 1>{n}, ladle::uninitialized);
      for (auto& x : out.back()) x = T(ladle::uniform_float(g) * 2.0f - 1.0f);
    }
    return out;
  }();
  return v;
}

template <class T>
void run_average(benchmark::State& state) {
  auto& in = inputs<T>();
  std::vector<ladle::state_dict> models;
  for (int m = 0; m < k; ++m) {
    models.emplace_back("m" + std::to_string(m));
    models.back().add("w", ladle::make_view(in[m].data(), n));
  }
  ladle::tensor<T, 1> out({n});
  ladle::mutable_state_dict o("out");
  o.add("w", ladle::make_view(out.data(), n));
  ladle_bench::interleaved_copy ref(std::size_t(n) * sizeof(float));
  for (auto _ : state) {
    ladle::weighted_average_into(models, {}, o);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
    state.PauseTiming();
    ref.pass();
    state.ResumeTiming();
  }
  ladle_bench::report_bandwidth(state, double(k + 1) * double(n) * sizeof(T), ref);
}

void BM_uniform_average_8x25M_f32(benchmark::State& state) { run_average<float>(state); }
void BM_uniform_average_8x25M_bf16(benchmark::State& state) { run_average<ladle::bfloat16>(state); }

void BM_ema_update_25M_f32(benchmark::State& state) {
  auto& in = inputs<float>();
  ladle::tensor<float, 1> avg = in[0];
  ladle::ema_options e;
  e.decay = 0.999;
  std::int64_t step = 0;
  ladle_bench::interleaved_copy ref(std::size_t(n) * sizeof(float));
  for (auto _ : state) {
    ladle::ema_update(ladle::make_view(avg.data(), n), ladle::make_view(in[1].data(), n), e, step++);
    benchmark::DoNotOptimize(avg.data());
    benchmark::ClobberMemory();
    state.PauseTiming();
    ref.pass();
    state.ResumeTiming();
  }
  ladle_bench::report_bandwidth(state, 3.0 * double(n) * sizeof(float), ref);
}

void BM_linear_sum_assignment(benchmark::State& state) {
  const ladle::index_t size = state.range(0);
  std::vector<double> c(static_cast<std::size_t>(size * size));
  for (std::size_t i = 0; i < c.size(); ++i)
    c[i] = ladle::u64_to_unit_double(ladle::derive_stream(7, i));
  std::vector<ladle::index_t> col(static_cast<std::size_t>(size));
  double total = 0;
  for (auto _ : state) {
    total = ladle::linear_sum_assignment(ladle::make_view(c.data(), {size, size}),
                                         ladle::make_view(col.data(), {size}));
    benchmark::DoNotOptimize(total);
  }
  state.counters["total"] = total;
}

}  // namespace

BENCHMARK(BM_linear_sum_assignment)->Arg(512)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_uniform_average_8x25M_f32)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5);
BENCHMARK(BM_uniform_average_8x25M_bf16)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5);
BENCHMARK(BM_ema_update_25M_f32)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5);

BENCHMARK_MAIN();
