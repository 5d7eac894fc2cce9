// Weighting benchmarks: class counts + balanced weights over 1e8 int32 labels (against the copy
// bandwidth measured in this binary between the timed iterations), loss-based and KL-DRO weights
// over 1e6 losses, and Multi-Similarity loss + gradient (GFLOP/s against an FMA peak measured in
// this binary).
#include "bench_common.hpp"

#include <ladle/weighting.hpp>
#include <ladle/core/random.hpp>
#include <ladle/core/tensor.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <vector>

using ladle::index_t;

namespace {

// In a ladle::tensor, which advises buffers of 4 MiB or more as transparent huge pages, as NumPy
// does for its arrays: both sides of the comparison then read through the same page size.
const ladle::tensor<std::int32_t, 1>& labels_1e8() {
  static const ladle::tensor<std::int32_t, 1> y = [] {
    ladle::tensor<std::int32_t, 1> v(std::array<index_t, 1>{100000000}, ladle::uninitialized);
    ladle::philox g(ladle::seed{1});
    // 10 classes, geometric imbalance (class c < 9 with probability 2^-(c+1)): the trailing
    // zeros of a random word, capped by the bit set at 9.
    for (auto& x : v) {
      const std::uint32_t r = g() | 0x200u;
      x = std::min(9, __builtin_ctz(r));
    }
    return v;
  }();
  return y;
}

const std::vector<float>& losses_1e6() {
  static const std::vector<float> l = [] {
    std::vector<float> v(1000000);
    ladle::philox g(ladle::seed{2});
    for (auto& x : v) x = float(ladle::exponential(g) * 2.0);
    return v;
  }();
  return l;
}

template <class Policy>
void run_counts(benchmark::State& state, const Policy& policy) {
  const auto& y = labels_1e8();
  const auto yv = ladle::make_view(y.data(), y.size());
  ladle_bench::interleaved_copy ref(std::size_t(y.size()) * sizeof(std::int32_t));
  for (auto _ : state) {
    ladle::class_counter c;
    c.add(policy, yv);
    auto t = ladle::class_weights(c);
    benchmark::DoNotOptimize(t.weights.data());
    state.PauseTiming();
    ref.pass();
    state.ResumeTiming();
  }
  ladle_bench::report_bandwidth(state, double(y.size() * sizeof(std::int32_t)), ref);
}

void BM_class_counts_balanced_int32_1e8_seq(benchmark::State& state) { run_counts(state, ladle::seq); }
void BM_class_counts_balanced_int32_1e8_par(benchmark::State& state) { run_counts(state, ladle::par); }

void BM_sample_weights_expand_int32_1e8_par(benchmark::State& state) {
  const auto& y = labels_1e8();
  const auto yv = ladle::make_view(y.data(), y.size());
  const auto t = ladle::class_weights(ladle::par, yv);
  std::vector<float> out(y.size());
  for (auto _ : state) {
    ladle::sample_weights_into(ladle::par, yv, t, ladle::make_view(out.data(), out.size()));
    benchmark::DoNotOptimize(out.data());
  }
  ladle_bench::report_bandwidth(state, double(y.size() * 8));
}

template <class Policy>
void run_loss_weights(benchmark::State& state, const Policy& policy, bool dro) {
  const auto& l = losses_1e6();
  std::vector<float> out(l.size());
  const auto lv = ladle::make_view(l.data(), l.size());
  const auto ov = ladle::make_view(out.data(), out.size());
  ladle::loss_reweighting_options o;
  for (auto _ : state) {
    if (dro) ladle::kl_dro_weights_into(policy, lv, ov, 1.0);
    else ladle::loss_based_weights_into(policy, lv, ov, o);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(l.size()));
}

void BM_loss_based_weights_1e6_seq(benchmark::State& s) { run_loss_weights(s, ladle::seq, false); }
void BM_loss_based_weights_1e6_par(benchmark::State& s) { run_loss_weights(s, ladle::par, false); }
void BM_kl_dro_weights_1e6_par(benchmark::State& s) { run_loss_weights(s, ladle::par, true); }

void BM_multi_similarity_loss_and_grad(benchmark::State& state) {
  const index_t B = state.range(0), d = state.range(1);
  std::vector<float> x(static_cast<std::size_t>(B * d));
  std::vector<int> y(static_cast<std::size_t>(B));
  ladle::philox g(ladle::seed{3});
  for (index_t i = 0; i < B; ++i) {
    double n = 0;
    for (index_t f = 0; f < d; ++f) {
      x[std::size_t(i * d + f)] = float(ladle::normal(g));
      n += double(x[std::size_t(i * d + f)]) * x[std::size_t(i * d + f)];
    }
    for (index_t f = 0; f < d; ++f) x[std::size_t(i * d + f)] = float(x[std::size_t(i * d + f)] / std::sqrt(n));
    y[std::size_t(i)] = int(i % (B / 8));
  }
  std::vector<float> grad(x.size());
  for (auto _ : state) {
    const double l = ladle::multi_similarity_loss_and_grad_into(
        ladle::par, ladle::make_view(x.data(), {B, d}), ladle::make_view(y.data(), y.size()),
        ladle::make_view(grad.data(), {B, d}));
    benchmark::DoNotOptimize(l);
  }
  // Two similarity passes plus the gradient accumulation: about 3 B^2 d multiply-adds.
  const double flops = 2.0 * 3.0 * double(B) * double(B) * double(d);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * double(state.iterations()) / 1e9,
                                                 benchmark::Counter::kIsRate);
  // The kernel computes in double: its single-core peak is half bench_common's fp32 SIMD peak
  // (same register width, half the lanes). The run uses every core (par).
  state.counters["fp32_peak_1core_GFLOP/s"] = ladle_bench::fma_peak_gflops();
  state.counters["fp64_peak_1core_GFLOP/s"] = ladle_bench::fma_peak_gflops() / 2;
  state.counters["cores"] = double(ladle::par.threads());
}

}  // namespace


BENCHMARK(BM_class_counts_balanced_int32_1e8_seq)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5);
// par rows: CPU time of the whole process (all worker threads), not of the main thread only.
BENCHMARK(BM_class_counts_balanced_int32_1e8_par)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime()->MinWarmUpTime(0.5);
BENCHMARK(BM_sample_weights_expand_int32_1e8_par)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime()->MinWarmUpTime(0.5);
BENCHMARK(BM_loss_based_weights_1e6_seq)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_loss_based_weights_1e6_par)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_kl_dro_weights_1e6_par)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_multi_similarity_loss_and_grad)->Args({2048, 512})->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_multi_similarity_loss_and_grad)->Args({8192, 512})->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK_MAIN();
