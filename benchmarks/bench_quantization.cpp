// Quantization benchmarks (single thread): 4096 x 4096 float32 weights.
//   quantize / dequantize per-channel int8, int4 per-group(64) quantize+pack, fake_quantize
//   per-channel, min-max qparams; the owning forms of quantize / dequantize / fake_quantize
//   (fresh result each call) next to first_touch, the cost of writing a fresh allocation of the
//   result's size once (page faults: the floor every owning form pays over its _into form).
//   Each reports GB/s and the fraction of the copy bandwidth
//   measured in this binary (bench_common.hpp). Each case warms up for 0.5 s first: the first
//   passes over fresh buffers are slow on virtual machines and would skew the fractions. benchmarks/compare/quantization_vs_torch.py runs
//   torch 1.13 on the same shape and prints ratios.
#include <ladle/quantization/observers.hpp>
#include <ladle/quantization/quantize.hpp>

#include "bench_common.hpp"

#include <cstdint>
#include <cstring>
#include <vector>

namespace {

constexpr ladle::index_t rows = 4096, cols = 4096, n = rows * cols;
// The copy reference runs on a working set of the same size as the weights (64 MiB).
constexpr std::size_t input_bytes = std::size_t(n) * sizeof(float);

const std::vector<float>& weights() {
  static const std::vector<float> w = [] {
    std::vector<float> v(static_cast<std::size_t>(n));
    ladle::philox g(ladle::seed{1});
    for (ladle::index_t r = 0; r < rows; ++r) {
      const float s = 0.01f + 0.001f * static_cast<float>(r % 97);
      for (ladle::index_t c = 0; c < cols; ++c)
        v[static_cast<std::size_t>(r * cols + c)] = (ladle::uniform_float(g) * 2.0f - 1.0f) * s;
    }
    return v;
  }();
  return w;
}

ladle::tensor_view<const float, 2> wview() { return ladle::make_view(weights().data(), {rows, cols}); }

void BM_quantize_per_channel_int8(benchmark::State& state) {
  const auto p = ladle::choose_qparams(ladle::quant_spec::symmetric(8).per_channel(0), wview());
  std::vector<std::int8_t> q(static_cast<std::size_t>(n));
  for (auto _ : state) {
    ladle::quantize_into(wview(), p, ladle::make_view(q.data(), {rows, cols}));
    benchmark::DoNotOptimize(q.data());
    benchmark::ClobberMemory();
  }
  ladle_bench::report_bandwidth(state, double(n) * (4 + 1), input_bytes);
}

void BM_dequantize_per_channel_int8(benchmark::State& state) {
  const auto p = ladle::choose_qparams(ladle::quant_spec::symmetric(8).per_channel(0), wview());
  const auto q = ladle::quantize<std::int8_t>(wview(), p);
  std::vector<float> out(static_cast<std::size_t>(n));
  for (auto _ : state) {
    ladle::dequantize_into(q.cview(), p, ladle::make_view(out.data(), {rows, cols}));
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  ladle_bench::report_bandwidth(state, double(n) * (1 + 4), input_bytes);
}

void BM_quantize_pack_int4_group64(benchmark::State& state) {
  const auto p = ladle::choose_qparams(ladle::quant_spec::symmetric(4).per_group(64), wview());
  std::vector<std::uint8_t> packed(static_cast<std::size_t>(ladle::packed_size(n, 4)));
  for (auto _ : state) {
    ladle::quantize_packed_into(wview(), p, ladle::make_view(packed.data(), packed.size()));
    benchmark::DoNotOptimize(packed.data());
    benchmark::ClobberMemory();
  }
  ladle_bench::report_bandwidth(state, double(n) * 4 + double(n) / 2, input_bytes);
}

void BM_fake_quantize_per_channel_int8(benchmark::State& state) {
  const auto p = ladle::choose_qparams(ladle::quant_spec::affine(8).per_channel(0), wview());
  std::vector<float> out(static_cast<std::size_t>(n));
  for (auto _ : state) {
    ladle::fake_quantize_into(wview(), p, ladle::make_view(out.data(), {rows, cols}));
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  ladle_bench::report_bandwidth(state, double(n) * (4 + 4), input_bytes);
}

template <class Q>
void BM_first_touch(benchmark::State& state) {  // allocate, write once, free: n elements of Q
  for (auto _ : state) {
    ladle::tensor<Q, 2> t({rows, cols}, ladle::uninitialized);
    std::memset(static_cast<void*>(t.data()), 1, t.bytes());
    benchmark::DoNotOptimize(t.data());
    benchmark::ClobberMemory();
  }
  ladle_bench::report_bandwidth(state, double(n) * sizeof(Q), input_bytes);
}

void BM_quantize_owning_per_channel_int8(benchmark::State& state) {
  const auto p = ladle::choose_qparams(ladle::quant_spec::symmetric(8).per_channel(0), wview());
  for (auto _ : state) {
    auto q = ladle::quantize<std::int8_t>(wview(), p);
    benchmark::DoNotOptimize(q.data());
    benchmark::ClobberMemory();
  }
  ladle_bench::report_bandwidth(state, double(n) * (4 + 1), input_bytes);
}

void BM_dequantize_owning_per_channel_int8(benchmark::State& state) {
  const auto p = ladle::choose_qparams(ladle::quant_spec::symmetric(8).per_channel(0), wview());
  const auto q = ladle::quantize<std::int8_t>(wview(), p);
  for (auto _ : state) {
    auto out = ladle::dequantize<float>(q.cview(), p);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  ladle_bench::report_bandwidth(state, double(n) * (1 + 4), input_bytes);
}

void BM_fake_quantize_owning_per_channel_int8(benchmark::State& state) {
  const auto p = ladle::choose_qparams(ladle::quant_spec::affine(8).per_channel(0), wview());
  for (auto _ : state) {
    auto out = ladle::fake_quantize(wview(), p);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  ladle_bench::report_bandwidth(state, double(n) * (4 + 4), input_bytes);
}

void BM_choose_qparams_per_channel(benchmark::State& state) {
  const auto spec = ladle::quant_spec::affine(8).per_channel(0);
  for (auto _ : state) {
    auto p = ladle::choose_qparams(spec, wview());
    benchmark::DoNotOptimize(p.scale.data());
  }
  ladle_bench::report_bandwidth(state, double(n) * 4, input_bytes);
}

}  // namespace

BENCHMARK(BM_quantize_per_channel_int8)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5);
BENCHMARK(BM_dequantize_per_channel_int8)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5);
BENCHMARK(BM_quantize_pack_int4_group64)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5);
BENCHMARK(BM_fake_quantize_per_channel_int8)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5);
BENCHMARK(BM_quantize_owning_per_channel_int8)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5);
BENCHMARK(BM_dequantize_owning_per_channel_int8)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5);
BENCHMARK(BM_fake_quantize_owning_per_channel_int8)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5);
BENCHMARK_TEMPLATE(BM_first_touch, std::int8_t)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5);
BENCHMARK_TEMPLATE(BM_first_touch, float)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5);
BENCHMARK(BM_choose_qparams_per_channel)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5);

BENCHMARK_MAIN();
