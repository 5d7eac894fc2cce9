// Storage formats side by side on one weight matrix, a bit budget spread over its columns, and a
// product-quantized embedding table searched by asymmetric distances.
//
//   example_quantization_formats        (no arguments)
#include <ladle/core/random.hpp>
#include <ladle/quantization/bit_allocation.hpp>
#include <ladle/quantization/embedding.hpp>
#include <ladle/quantization/formats.hpp>
#include <ladle/quantization/product_quantization.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace {

double rel_mse(const std::vector<float>& a, const std::vector<float>& b) {
  double e = 0, s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    e += double(a[i] - b[i]) * double(a[i] - b[i]);
    s += double(a[i]) * a[i];
  }
  return e / s;
}

}  // namespace

int main() {
  // A 256 x 512 "layer" whose input columns differ in scale by up to 100x.
  const ladle::index_t rows = 256, cols = 512;
  std::vector<float> w(static_cast<std::size_t>(rows * cols));
  ladle::philox g(ladle::seed{2024});
  std::vector<double> col_scale(static_cast<std::size_t>(cols));
  for (auto& c : col_scale) c = std::pow(10.0, 2.0 * ladle::uniform_double(g)) * 1e-3;
  for (ladle::index_t i = 0; i < rows; ++i)
    for (ladle::index_t j = 0; j < cols; ++j)
      w[static_cast<std::size_t>(i * cols + j)] = static_cast<float>(ladle::normal(g) * col_scale[static_cast<std::size_t>(j)]);
  const auto wv = ladle::make_view(w.data(), {rows, cols});
  std::vector<float> back(w.size());
  const auto bv = ladle::make_view(back.data(), {rows, cols});

  std::printf("format              bits/weight   relative MSE\n");
  {  // FP8 E4M3 needs a tensor scale to use its range: map max|w| to 448.
    float amax = 0;
    for (float v : w) amax = std::max(amax, std::fabs(v));
    std::vector<float> scaled(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) scaled[i] = w[i] * (448.0f / amax);
    std::vector<std::uint8_t> q(w.size());
    ladle::fp8_encode_n(scaled.data(), q.data(), ladle::index_t(w.size()), {ladle::fp8_format::e4m3});
    ladle::fp8_decode_n(q.data(), back.data(), ladle::index_t(w.size()), ladle::fp8_format::e4m3);
    for (auto& v : back) v *= amax / 448.0f;
    std::printf("FP8 E4M3 (tensor)   %8.3f      %.3e\n", 8.0, rel_mse(w, back));
  }
  for (auto e : {ladle::mx_element::fp8_e4m3, ladle::mx_element::fp6_e2m3, ladle::mx_element::fp4_e2m1,
                 ladle::mx_element::int8}) {
    const auto q = ladle::mx_quantize(wv, {e});
    ladle::mx_dequantize(q, bv);
    const double bpw = double(q.data.size() + q.scales.size()) * 8.0 / double(w.size());
    const char* name = e == ladle::mx_element::fp8_e4m3   ? "MXFP8 E4M3"
                       : e == ladle::mx_element::fp6_e2m3 ? "MXFP6 E2M3"
                       : e == ladle::mx_element::fp4_e2m1 ? "MXFP4 E2M1"
                                                          : "MXINT8";
    std::printf("%-19s %8.3f      %.3e\n", name, bpw, rel_mse(w, back));
  }
  for (bool dq : {false, true}) {
    const auto q = ladle::nf4_quantize(wv, {64, dq});
    ladle::nf4_dequantize(q, bv);
    std::printf("%-19s %8.3f      %.3e\n", dq ? "NF4 + double quant" : "NF4 (block 64)", q.bits_per_element(),
                rel_mse(w, back));
  }

  // Spend an average of 3 bits per column where the model error s_i 2^(-2 b_i) says it pays.
  std::vector<double> sens(static_cast<std::size_t>(cols));
  for (ladle::index_t j = 0; j < cols; ++j) {
    double s = 0;
    for (ladle::index_t i = 0; i < rows; ++i) s += double(w[static_cast<std::size_t>(i * cols + j)]) * w[static_cast<std::size_t>(i * cols + j)];
    sens[static_cast<std::size_t>(j)] = s;
  }
  const auto sv = ladle::make_view(sens.data(), cols);
  const auto alloc = ladle::allocate_bits(sv, 3.0, {0.0, 8.0, ladle::bit_rounding::integer_bits});
  const std::vector<double> uniform(static_cast<std::size_t>(cols), 3.0);
  std::printf("\nbit allocation, 3 bits/column on average: realised %.3f, model error %.3e vs uniform %.3e\n",
              alloc.average_bits, alloc.model_error, ladle::bit_allocation_error(sv, uniform));

  // A 20000 x 64 embedding table: PQ with 8 subspaces (8 bytes per row, 32x smaller than fp32)
  // and FBGEMM-layout row-wise int8 (72 bytes per row).
  const ladle::index_t n = 20000, d = 64;
  std::vector<float> table(static_cast<std::size_t>(n * d));
  for (auto& v : table) v = static_cast<float>(ladle::normal(g));
  const auto tv = ladle::make_view(table.data(), {n, d});
  const auto pq = ladle::pq_train(ladle::par, tv, {8, 256, 10, 20000}, ladle::seed{7});
  const auto codes = ladle::pq_encode(ladle::par, pq, tv);
  std::vector<float> dec(table.size());
  ladle::pq_decode(pq, codes.cview(), ladle::make_view(dec.data(), {n, d}));
  const auto r8 = ladle::rowwise_quantize(tv, 8);
  std::vector<float> dec8(table.size());
  ladle::rowwise_dequantize(r8, ladle::make_view(dec8.data(), {n, d}));
  std::printf("\nembeddings: PQ(8x256) %d B/row rel MSE %.3f;  row-wise int8 %d B/row rel MSE %.2e\n",
              int(codes.extent(1)), rel_mse(table, dec), int(r8.data.extent(1)), rel_mse(table, dec8));
  const auto hits = ladle::pq_search(pq, ladle::make_view(table.data() + 123 * d, d), codes.cview(), 5);
  std::printf("ADC search for row 123, top 5:");
  for (std::size_t i = 0; i < hits.indices.size(); ++i)
    std::printf(" %lld (%.1f)", static_cast<long long>(hits.indices[i]), double(hits.scores[i]));
  std::printf("\n");
  return 0;
}
