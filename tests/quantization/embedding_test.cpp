// Row-wise embedding quantization: bit-exact against FBGEMM (torch prepack ops), int16, lookups.
#include <ladle/core/random.hpp>
#include <ladle/quantization/embedding.hpp>

#include "quantization/fixtures/embedding_fixture.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

std::vector<float> random_table(ladle::index_t n, ladle::index_t d, std::uint64_t s) {
  ladle::philox g(ladle::seed{s});
  std::vector<float> x(static_cast<std::size_t>(n * d));
  for (auto& v : x) v = static_cast<float>(ladle::normal(g) * 0.05);
  return x;
}

}  // namespace

TEST_CASE("rowwise 8/4/2-bit bytes equal FBGEMM's fused prepack (torch 1.13) bit for bit") {
  const auto xv = ladle::make_view(emb_input, {ladle::index_t(emb_rows), ladle::index_t(emb_dim)});
  struct c {
    int bits;
    const unsigned char* want;
  };
  for (const c& k : {c{8, emb_q8}, c{4, emb_q4}, c{2, emb_q2}}) {
    const auto q = ladle::rowwise_quantize(xv, k.bits);
    REQUIRE(q.data.extent(1) == ladle::rowwise_row_bytes(emb_dim, k.bits));
    int mismatches = 0;
    for (ladle::index_t i = 0; i < q.data.size(); ++i) mismatches += q.data.data()[i] != k.want[i] ? 1 : 0;
    CHECK(mismatches == 0);
  }
  const auto q8 = ladle::rowwise_quantize(xv, 8);
  const auto q4 = ladle::rowwise_quantize(xv, 4);
  std::vector<float> d8(emb_rows * emb_dim), d4(emb_rows * emb_dim);
  ladle::rowwise_dequantize(q8, ladle::make_view(d8.data(), {ladle::index_t(emb_rows), ladle::index_t(emb_dim)}));
  ladle::rowwise_dequantize(q4, ladle::make_view(d4.data(), {ladle::index_t(emb_rows), ladle::index_t(emb_dim)}));
  for (std::size_t i = 0; i < d8.size(); ++i) {
    CHECK(d8[i] == emb_d8[i]);
    CHECK(d4[i] == emb_d4[i]);
  }
  // Layout: scale and bias follow the codes; the constant row decodes exactly.
  CHECK(q8.bias(1) == 0.75f);
  for (int j = 0; j < emb_dim; ++j) CHECK(d8[static_cast<std::size_t>(emb_dim + j)] == 0.75f);
  float scale;
  std::memcpy(&scale, q8.data.data() + emb_dim, 4);
  CHECK(scale == q8.scale(0));
}

TEST_CASE("rowwise int16 and int8 errors on a random table (paper replication numbers)") {
  const ladle::index_t n = 2000, d = 64;
  const auto x = random_table(n, d, 1);
  const auto xv = ladle::make_view(x.data(), {n, d});
  for (int bits : {16, 8, 4, 2}) {
    const auto q = ladle::rowwise_quantize(ladle::par(2), xv, bits);
    CHECK(q.data.extent(1) == ladle::rowwise_row_bytes(d, bits));
    std::vector<float> y(x.size());
    ladle::rowwise_dequantize(q, ladle::make_view(y.data(), {n, d}));
    double err = 0, energy = 0;
    int out_of_bound = 0;
    for (ladle::index_t i = 0; i < n; ++i) {
      const double step = q.scale(i);
      for (ladle::index_t j = 0; j < d; ++j) {
        const auto k = static_cast<std::size_t>(i * d + j);
        const double e = std::fabs(double(y[k]) - x[k]);
        // Within half a step (plus float rounding); 4 / 2 bits round bias and scale to fp16,
        // which can cost up to one more step at the row's ends.
        const double ulps = 1e-6 * (std::fabs(double(q.bias(i))) + step * ((1 << bits) - 1));
        const double bound = bits >= 8 ? 0.5 * step + ulps : 1.5 * step;
        if (e > bound) ++out_of_bound;
        err += e * e;
        energy += double(x[k]) * x[k];
      }
    }
    CHECK(out_of_bound == 0);
    const double rel = err / energy;
    MESSAGE(bits, "-bit row-wise relative MSE ", rel);
    if (bits == 16) CHECK(rel < 1e-8);
    if (bits == 8) CHECK(rel < 1e-3);
  }
}

TEST_CASE("rowwise: SIMD codes equal the scalar path; policies and input types agree; lookup") {
  const ladle::index_t n = 300, d = 37;
  auto x = random_table(n, d, 2);
  x[5] = 0.25f;
  const auto xv = ladle::make_view(x.data(), {n, d});
  for (int bits : {16, 8, 4, 2}) {
    const auto q = ladle::rowwise_quantize(xv, bits);
    const auto qp = ladle::rowwise_quantize(ladle::par(2), xv, bits);
    CHECK(std::equal(q.data.data(), q.data.data() + q.data.size(), qp.data.data()));
    std::vector<std::uint8_t> ref(static_cast<std::size_t>(ladle::rowwise_row_bytes(d, bits)));
    std::vector<std::int32_t> codes(static_cast<std::size_t>(d));
    for (ladle::index_t i = 0; i < n; ++i) {
      REQUIRE(ladle::detail::embedding_quantize_row(x.data() + i * d, d, bits, ref.data(), codes.data(), false));
      CHECK(std::equal(ref.begin(), ref.end(), q.data.data() + i * q.data.extent(1)));
    }
    std::vector<ladle::half> xh(x.size());
    ladle::convert_n(x.data(), xh.data(), static_cast<ladle::index_t>(x.size()));
    std::vector<float> xw(x.size());
    ladle::convert_n(xh.data(), xw.data(), static_cast<ladle::index_t>(x.size()));
    const auto qh = ladle::rowwise_quantize(ladle::make_view(xh.data(), {n, d}), bits);
    const auto qw = ladle::rowwise_quantize(ladle::make_view(xw.data(), {n, d}), bits);
    CHECK(std::equal(qh.data.data(), qh.data.data() + qh.data.size(), qw.data.data()));
    // Lookup equals full dequantization of the chosen rows.
    std::vector<float> full(x.size());
    ladle::rowwise_dequantize(q, ladle::make_view(full.data(), {n, d}));
    const std::vector<int> idx = {7, 0, 299, 7};
    std::vector<float> got(4 * static_cast<std::size_t>(d));
    ladle::rowwise_lookup(q, ladle::make_view(idx.data(), 4), ladle::make_view(got.data(), {4, d}));
    for (std::size_t r = 0; r < 4; ++r)
      for (ladle::index_t j = 0; j < d; ++j)
        CHECK(got[r * static_cast<std::size_t>(d) + static_cast<std::size_t>(j)] ==
              full[static_cast<std::size_t>(idx[r] * d + j)]);
  }
}

TEST_CASE("rowwise errors") {
  std::vector<float> x(40, 1.0f);
  const auto xv = ladle::make_view(x.data(), {4, 10});
  CHECK_THROWS_AS(ladle::rowwise_quantize(xv, 3), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::rowwise_quantize(ladle::make_view(x.data(), {4, 5}, {10, 2})), ladle::invalid_argument);
  std::vector<std::uint8_t> out(4 * 17);
  CHECK_THROWS_AS(ladle::rowwise_quantize_into(xv, ladle::make_view(out.data(), {4, 17}), 8), ladle::invalid_argument);
  x[13] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_AS(ladle::rowwise_quantize(xv, 8), ladle::domain_error);
  x[13] = 1.0f;
  const auto q = ladle::rowwise_quantize(xv, 8);
  std::vector<float> y(40);
  CHECK_THROWS_AS(ladle::rowwise_dequantize(q, ladle::make_view(y.data(), {4, 9})), ladle::invalid_argument);
  const std::vector<long> bad = {4};
  CHECK_THROWS_AS(ladle::rowwise_lookup(q, ladle::make_view(bad.data(), 1), ladle::make_view(y.data(), {1, 10})),
                  ladle::invalid_argument);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
