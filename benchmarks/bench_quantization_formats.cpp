// Storage formats, single thread: FP8 / MX / NF4 encode and decode on a 4096 x 4096 float matrix
// (GB/s counts bytes read + written, next to the copy bandwidth measured in this binary), row-wise
// embedding quantization, and product-quantization encode / ADC scan throughput.
#include "bench_common.hpp"

#include <ladle/core/random.hpp>
#include <ladle/quantization/embedding.hpp>
#include <ladle/quantization/formats.hpp>
#include <ladle/quantization/product_quantization.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

namespace {

constexpr ladle::index_t kRows = 4096, kCols = 4096, kN = kRows * kCols;

const std::vector<float>& weights() {
  static const std::vector<float> w = [] {
    std::vector<float> v(static_cast<std::size_t>(kN));
    ladle::philox g(ladle::seed{1});
    for (auto& x : v) x = static_cast<float>(ladle::normal(g) * 0.02);
    return v;
  }();
  return w;
}

void BM_fp8_encode(benchmark::State& state) {
  const auto fmt = static_cast<ladle::fp8_format>(state.range(0));
  const auto& w = weights();
  std::vector<std::uint8_t> q(static_cast<std::size_t>(kN));
  for (auto _ : state) {
    ladle::fp8_encode_n(w.data(), q.data(), kN, {fmt, ladle::fp8_overflow::saturate});
    benchmark::DoNotOptimize(q.data());
  }
  ladle_bench::report_bandwidth(state, double(kN) * 5.0);
}
BENCHMARK(BM_fp8_encode)->Arg(0)->Arg(1)->ArgName("e4m3=0,e5m2=1")->Unit(benchmark::kMillisecond);

void BM_fp8_encode_scalar(benchmark::State& state) {
  const auto& w = weights();
  std::vector<std::uint8_t> q(static_cast<std::size_t>(kN));
  for (auto _ : state) {
    ladle::fp8_encode_n_scalar(w.data(), q.data(), kN, {ladle::fp8_format::e4m3});
    benchmark::DoNotOptimize(q.data());
  }
  ladle_bench::report_bandwidth(state, double(kN) * 5.0);
}
BENCHMARK(BM_fp8_encode_scalar)->Unit(benchmark::kMillisecond);

void BM_fp8_decode(benchmark::State& state) {
  const auto& w = weights();
  std::vector<std::uint8_t> q(static_cast<std::size_t>(kN));
  ladle::fp8_encode_n(w.data(), q.data(), kN, {ladle::fp8_format::e4m3});
  std::vector<float> out(static_cast<std::size_t>(kN));
  for (auto _ : state) {
    ladle::fp8_decode_n(q.data(), out.data(), kN, ladle::fp8_format::e4m3);
    benchmark::DoNotOptimize(out.data());
  }
  ladle_bench::report_bandwidth(state, double(kN) * 5.0);
}
BENCHMARK(BM_fp8_decode)->Unit(benchmark::kMillisecond);

void BM_mx_encode(benchmark::State& state) {
  const auto e = static_cast<ladle::mx_element>(state.range(0));
  const auto& w = weights();
  const auto x = ladle::make_view(w.data(), {kRows, kCols});
  ladle::tensor<std::uint8_t, 2> scales({kRows, kCols / 32}),
      data({kRows, ladle::mx_packed_row_bytes(kCols, e)});
  for (auto _ : state) {
    ladle::mx_quantize_into(x, scales.view(), data.view(), {e});
    benchmark::DoNotOptimize(data.data());
  }
  ladle_bench::report_bandwidth(state, double(kN) * 4.0 + double(data.size() + scales.size()));
}
BENCHMARK(BM_mx_encode)
    ->Arg(int(ladle::mx_element::fp8_e4m3))
    ->Arg(int(ladle::mx_element::fp6_e2m3))
    ->Arg(int(ladle::mx_element::fp4_e2m1))
    ->Arg(int(ladle::mx_element::int8))
    ->ArgName("element")
    ->Unit(benchmark::kMillisecond);

void BM_mx_encode_owning(benchmark::State& state) {  // mx_quantize: a fresh result per call
  const auto e = static_cast<ladle::mx_element>(state.range(0));
  const auto x = ladle::make_view(weights().data(), {kRows, kCols});
  double bytes = 0;
  for (auto _ : state) {
    auto q = ladle::mx_quantize(x, {e});
    benchmark::DoNotOptimize(q.data.data());
    bytes = double(q.data.size() + q.scales.size());
  }
  ladle_bench::report_bandwidth(state, double(kN) * 4.0 + bytes);
}
BENCHMARK(BM_mx_encode_owning)
    ->Arg(int(ladle::mx_element::fp8_e4m3))
    ->ArgName("element")
    ->Unit(benchmark::kMillisecond);

void BM_mx_decode(benchmark::State& state) {
  const auto e = static_cast<ladle::mx_element>(state.range(0));
  const auto& w = weights();
  const auto q = ladle::mx_quantize(ladle::make_view(w.data(), {kRows, kCols}), {e});
  std::vector<float> out(static_cast<std::size_t>(kN));
  for (auto _ : state) {
    ladle::mx_dequantize(q, ladle::make_view(out.data(), {kRows, kCols}));
    benchmark::DoNotOptimize(out.data());
  }
  ladle_bench::report_bandwidth(state, double(kN) * 4.0 + double(q.data.size() + q.scales.size()));
}
BENCHMARK(BM_mx_decode)
    ->Arg(int(ladle::mx_element::fp8_e4m3))
    ->Arg(int(ladle::mx_element::fp4_e2m1))
    ->ArgName("element")
    ->Unit(benchmark::kMillisecond);

void BM_nf4_encode(benchmark::State& state) {
  const auto& w = weights();
  const auto x = ladle::make_view(w.data(), kN);
  const ladle::nf4_options o{64, state.range(0) != 0, 256};
  for (auto _ : state) {
    auto q = ladle::nf4_quantize(x, o);
    benchmark::DoNotOptimize(q.codes.data());
  }
  ladle_bench::report_bandwidth(state, double(kN) * (4.0 + 0.5 + 4.0 / 64));
}
BENCHMARK(BM_nf4_encode)->Arg(0)->Arg(1)->ArgName("double_quant")->Unit(benchmark::kMillisecond);

void BM_nf4_decode(benchmark::State& state) {
  const auto& w = weights();
  const auto q = ladle::nf4_quantize(ladle::make_view(w.data(), kN));
  std::vector<float> out(static_cast<std::size_t>(kN));
  for (auto _ : state) {
    ladle::nf4_dequantize(q, ladle::make_view(out.data(), kN));
    benchmark::DoNotOptimize(out.data());
  }
  ladle_bench::report_bandwidth(state, double(kN) * (4.0 + 0.5 + 4.0 / 64));
}
BENCHMARK(BM_nf4_decode)->Unit(benchmark::kMillisecond);

void BM_rowwise_quantize_owning(benchmark::State& state) {  // rowwise_quantize: fresh result
  const int bits = static_cast<int>(state.range(0));
  const auto x = ladle::make_view(weights().data(), {kN / 128, ladle::index_t(128)});
  double bytes = 0;
  for (auto _ : state) {
    auto t = ladle::rowwise_quantize(x, bits);
    benchmark::DoNotOptimize(t.data.data());
    bytes = double(t.data.size());
  }
  ladle_bench::report_bandwidth(state, double(kN) * 4.0 + bytes);
}
BENCHMARK(BM_rowwise_quantize_owning)->Arg(8)->ArgName("bits")->Unit(benchmark::kMillisecond);

void BM_rowwise_quantize(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  const auto& w = weights();
  const auto x = ladle::make_view(w.data(), {kN / 128, ladle::index_t(128)});
  ladle::tensor<std::uint8_t, 2> out({kN / 128, ladle::rowwise_row_bytes(128, bits)});
  for (auto _ : state) {
    ladle::rowwise_quantize_into(x, out.view(), bits);
    benchmark::DoNotOptimize(out.data());
  }
  ladle_bench::report_bandwidth(state, double(kN) * 4.0 + double(out.size()));
}
BENCHMARK(BM_rowwise_quantize)->Arg(8)->Arg(4)->ArgName("bits")->Unit(benchmark::kMillisecond);

struct pq_fixture {
  ladle::index_t n = 65536, d = 128;
  std::vector<float> x;
  ladle::product_quantizer pq;
  ladle::tensor<std::uint8_t, 2> codes;
  pq_fixture() : x(static_cast<std::size_t>(n * d)) {
    ladle::philox g(ladle::seed{3});
    for (auto& v : x) v = static_cast<float>(ladle::normal(g));
    pq = ladle::pq_train(ladle::par, ladle::make_view(x.data(), {n, d}), {16, 256, 4, 8192}, ladle::seed{1});
    codes = ladle::pq_encode(pq, ladle::make_view(x.data(), {n, d}));
  }
};

pq_fixture& pqf() {
  static pq_fixture f;
  return f;
}

void BM_pq_encode(benchmark::State& state) {  // d = 128, M = 16, ksub = 256
  auto& f = pqf();
  const ladle::index_t rows = 8192;
  ladle::tensor<std::uint8_t, 2> codes({rows, 16});
  for (auto _ : state) {
    ladle::pq_encode(f.pq, ladle::make_view(f.x.data(), {rows, f.d}), codes.view());
    benchmark::DoNotOptimize(codes.data());
  }
  state.counters["rows/s"] = benchmark::Counter(double(rows) * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_pq_encode)->Unit(benchmark::kMillisecond);

void BM_pq_adc_scan(benchmark::State& state) {  // table + 65536 x 16 lookups per query
  auto& f = pqf();
  ladle::tensor<float, 2> table({16, 256});
  std::vector<float> dist(static_cast<std::size_t>(f.n));
  for (auto _ : state) {
    ladle::pq_distance_table(f.pq, ladle::make_view(f.x.data(), f.d), table.view());
    ladle::pq_adc_distances(table.cview(), f.codes.cview(), ladle::make_view(dist.data(), f.n));
    benchmark::DoNotOptimize(dist.data());
  }
  state.counters["rows/s"] = benchmark::Counter(double(f.n) * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_pq_adc_scan)->Unit(benchmark::kMillisecond);

void BM_pq_train(benchmark::State& state) {  // 8192 rows x 128, M = 16, ksub = 256, 4 Lloyd steps
  auto& f = pqf();
  for (auto _ : state) {
    auto pq = ladle::pq_train(ladle::make_view(f.x.data(), {8192, f.d}), {16, 256, 4, 0}, ladle::seed{2});
    benchmark::DoNotOptimize(pq.codebooks().data());
  }
}
BENCHMARK(BM_pq_train)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
