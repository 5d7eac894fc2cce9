// Product quantization: k-means quality vs scikit-learn, monotone objective, determinism,
// ADC exactness, error trends, bad shapes.
#include <ladle/core/random.hpp>
#include <ladle/quantization/product_quantization.hpp>

#include "quantization/fixtures/pq_kmeans_fixture.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

// A table with structure: rows are noisy mixtures of a few prototypes, with decaying scales.
std::vector<float> make_table(ladle::index_t n, ladle::index_t d, std::uint64_t s) {
  ladle::philox g(ladle::seed{s});
  const ladle::index_t protos = 12;
  std::vector<double> p(static_cast<std::size_t>(protos * d));
  for (auto& v : p) v = ladle::normal(g);
  std::vector<float> x(static_cast<std::size_t>(n * d));
  for (ladle::index_t i = 0; i < n; ++i) {
    const ladle::index_t a = ladle::uniform_index(g, protos);
    for (ladle::index_t j = 0; j < d; ++j)
      x[static_cast<std::size_t>(i * d + j)] = static_cast<float>(
          (p[static_cast<std::size_t>(a * d + j)] + 0.5 * ladle::normal(g)) / (1.0 + 0.1 * double(j)));
  }
  return x;
}

double recon_mse(const ladle::product_quantizer& pq, const std::vector<float>& x, ladle::index_t n,
                 ladle::index_t d) {
  const auto xv = ladle::make_view(x.data(), {n, d});
  auto codes = ladle::pq_encode(pq, xv);
  std::vector<float> y(x.size());
  ladle::pq_decode(pq, codes.cview(), ladle::make_view(y.data(), {n, d}));
  double e = 0;
  for (std::size_t i = 0; i < x.size(); ++i) e += double(x[i] - y[i]) * double(x[i] - y[i]);
  return e / double(n);
}

}  // namespace

TEST_CASE("pq k-means (M = 1) is within a few percent of scikit-learn's inertia") {
  struct fx {
    const float* data;
    int rows, cols, k;
    double inertia;
  };
  for (const fx& f : {fx{pq_blobs_data, pq_blobs_rows, pq_blobs_cols, pq_blobs_k, pq_blobs_sklearn_inertia},
                      fx{pq_gauss_data, pq_gauss_rows, pq_gauss_cols, pq_gauss_k, pq_gauss_sklearn_inertia}}) {
    const auto xv = ladle::make_view(f.data, {ladle::index_t(f.rows), ladle::index_t(f.cols)});
    double best = std::numeric_limits<double>::infinity(), worst = 0;
    for (std::uint64_t s = 1; s <= 5; ++s) {
      const auto pq = ladle::pq_train(xv, {1, f.k, 300, 0}, ladle::seed{s});
      // inertia() is the objective of the final codebooks: recompute it independently.
      double direct = 0;
      const auto cb = pq.codebook(0);
      for (int i = 0; i < f.rows; ++i) {
        double bestd = std::numeric_limits<double>::infinity();
        for (ladle::index_t c = 0; c < cb.extent(0); ++c) {
          double dd = 0;
          for (int j = 0; j < f.cols; ++j) {
            const double t = double(f.data[i * f.cols + j]) - cb(c, j);
            dd += t * t;
          }
          bestd = std::min(bestd, dd);
        }
        direct += bestd;
      }
      CHECK(pq.inertia() == doctest::Approx(direct).epsilon(1e-9));
      best = std::min(best, pq.inertia());
      worst = std::max(worst, pq.inertia());
    }
    MESSAGE("ladle k-means inertia best/worst of 5 seeds ", best, " / ", worst, " vs sklearn (n_init=10) ", f.inertia);
    CHECK(best <= f.inertia * 1.02);   // as good as sklearn's best of 10 inits
    CHECK(worst <= f.inertia * 1.10);  // any single init within 10%
  }
}

TEST_CASE("pq training objective never increases; runs are deterministic across policies") {
  const ladle::index_t n = 3000, d = 16;
  const auto x = make_table(n, d, 1);
  const auto xv = ladle::make_view(x.data(), {n, d});
  const ladle::pq_options o{4, 64, 30, 0};
  const auto a = ladle::pq_train(xv, o, ladle::seed{42});
  const auto& h = a.inertia_history();
  REQUIRE(h.size() >= 3);
  for (std::size_t t = 1; t < h.size(); ++t) CHECK(h[t] <= h[t - 1] * (1 + 1e-9));
  CHECK(h.back() < h.front());
  const auto b = ladle::pq_train(ladle::par(2), xv, o, ladle::seed{42});
  CHECK(std::equal(a.codebooks().data(), a.codebooks().data() + a.codebooks().size(), b.codebooks().data()));
  CHECK(a.inertia_history() == b.inertia_history());
  const auto c1 = ladle::pq_encode(a, xv);
  const auto c2 = ladle::pq_encode(ladle::par(2), b, xv);
  CHECK(std::equal(c1.data(), c1.data() + c1.size(), c2.data()));
  const auto other = ladle::pq_train(xv, o, ladle::seed{43});
  CHECK(!std::equal(a.codebooks().data(), a.codebooks().data() + a.codebooks().size(), other.codebooks().data()));
  // Training on a random subset is deterministic too.
  const auto s1 = ladle::pq_train(xv, {4, 64, 10, 500}, ladle::seed{5});
  const auto s2 = ladle::pq_train(ladle::par(2), xv, {4, 64, 10, 500}, ladle::seed{5});
  CHECK(std::equal(s1.codebooks().data(), s1.codebooks().data() + s1.codebooks().size(), s2.codebooks().data()));
}

TEST_CASE("pq reconstruction error falls with more centroids and more subspaces") {
  const ladle::index_t n = 4000, d = 32;
  const auto x = make_table(n, d, 2);
  const auto xv = ladle::make_view(x.data(), {n, d});
  double prev = std::numeric_limits<double>::infinity();
  for (ladle::index_t k : {4, 16, 64, 256}) {
    const double e = recon_mse(ladle::pq_train(xv, {8, k, 15, 0}, ladle::seed{1}), x, n, d);
    CHECK(e < prev);
    prev = e;
  }
  prev = std::numeric_limits<double>::infinity();
  for (ladle::index_t m : {1, 2, 4, 8, 16}) {
    const double e = recon_mse(ladle::pq_train(xv, {m, 64, 15, 0}, ladle::seed{1}), x, n, d);
    CHECK(e < prev);
    prev = e;
  }
  double energy = 0;
  for (float v : x) energy += double(v) * v;
  CHECK(prev < 0.1 * energy / double(n));
}

TEST_CASE("pq ADC: table entries, distances equal distances to decoded rows; search matches brute force") {
  const ladle::index_t n = 1500, d = 24;
  const auto x = make_table(n, d, 3);
  const auto xv = ladle::make_view(x.data(), {n, d});
  const auto pq = ladle::pq_train(xv, {6, 100, 10, 0}, ladle::seed{9});  // ksub not a SIMD multiple
  const auto codes = ladle::pq_encode(pq, xv);
  std::vector<float> dec(x.size());
  ladle::pq_decode(pq, codes.cview(), ladle::make_view(dec.data(), {n, d}));
  const auto q = make_table(1, d, 77);
  for (ladle::pq_metric metric : {ladle::pq_metric::l2, ladle::pq_metric::inner_product}) {
    ladle::tensor<float, 2> t({6, 100}), ts({6, 100});
    ladle::pq_distance_table(pq, ladle::make_view(q.data(), d), t.view(), metric);
    ladle::pq_distance_table_scalar(pq, ladle::make_view(q.data(), d), ts.view(), metric);
    for (ladle::index_t i = 0; i < t.size(); ++i)
      CHECK(t.data()[i] == doctest::Approx(ts.data()[i]).epsilon(1e-5).scale(1e-3));
    std::vector<float> adc(static_cast<std::size_t>(n)), adc2(static_cast<std::size_t>(n));
    ladle::pq_adc_distances(t.cview(), codes.cview(), ladle::make_view(adc.data(), n));
    ladle::pq_adc_distances(ladle::par(2), t.cview(), codes.cview(), ladle::make_view(adc2.data(), n));
    CHECK(adc == adc2);
    std::vector<double> exact(static_cast<std::size_t>(n));
    for (ladle::index_t i = 0; i < n; ++i) {
      double s = 0;
      for (ladle::index_t j = 0; j < d; ++j) {
        const double a = q[static_cast<std::size_t>(j)], b = dec[static_cast<std::size_t>(i * d + j)];
        s += metric == ladle::pq_metric::l2 ? (a - b) * (a - b) : a * b;
      }
      exact[static_cast<std::size_t>(i)] = s;
      CHECK(adc[static_cast<std::size_t>(i)] == doctest::Approx(s).epsilon(1e-5).scale(1e-2));
    }
    const auto r = ladle::pq_search(ladle::par(2), pq, ladle::make_view(q.data(), d), codes.cview(), 10, metric);
    REQUIRE(r.indices.size() == 10);
    std::vector<ladle::index_t> order(static_cast<std::size_t>(n));
    for (ladle::index_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
    std::stable_sort(order.begin(), order.end(), [&](ladle::index_t a, ladle::index_t b) {
      return metric == ladle::pq_metric::l2 ? adc[static_cast<std::size_t>(a)] < adc[static_cast<std::size_t>(b)]
                                            : adc[static_cast<std::size_t>(a)] > adc[static_cast<std::size_t>(b)];
    });
    for (std::size_t i = 0; i < 10; ++i) {
      CHECK(r.indices[i] == order[i]);
      CHECK(r.scores[i] == adc[static_cast<std::size_t>(order[i])]);
    }
  }
}

TEST_CASE("pq encode: SIMD scores equal the scalar reference; codes are the exact nearest") {
  const ladle::index_t n = 400, d = 12;
  const auto x = make_table(n, d, 4);
  const auto xv = ladle::make_view(x.data(), {n, d});
  const auto pq = ladle::pq_train(xv, {3, 37, 5, 0}, ladle::seed{2});
  const auto codes = ladle::pq_encode(pq, xv);
  int wrong = 0;
  for (ladle::index_t i = 0; i < n; ++i)
    for (ladle::index_t m = 0; m < 3; ++m) {
      const auto cb = pq.codebook(m);
      double best = std::numeric_limits<double>::infinity();
      std::vector<double> dist(37);
      for (ladle::index_t c = 0; c < 37; ++c) {
        double s = 0;
        for (ladle::index_t j = 0; j < 4; ++j) {
          const double t = double(x[static_cast<std::size_t>(i * d + m * 4 + j)]) - cb(c, j);
          s += t * t;
        }
        dist[static_cast<std::size_t>(c)] = s;
        best = std::min(best, s);
      }
      // The chosen centroid is the nearest up to float rounding of the distance.
      if (dist[codes.data()[i * 3 + m]] > best * (1 + 1e-5) + 1e-7) ++wrong;
    }
  CHECK(wrong == 0);
  // bf16 input encodes like its widened floats.
  std::vector<ladle::bfloat16> xb(x.size());
  ladle::convert_n(x.data(), xb.data(), static_cast<ladle::index_t>(x.size()));
  std::vector<float> xw(x.size());
  ladle::convert_n(xb.data(), xw.data(), static_cast<ladle::index_t>(x.size()));
  const auto cb16 = ladle::pq_encode(pq, ladle::make_view(xb.data(), {n, d}));
  const auto cw = ladle::pq_encode(pq, ladle::make_view(xw.data(), {n, d}));
  CHECK(std::equal(cb16.data(), cb16.data() + cb16.size(), cw.data()));
}

TEST_CASE("pq argmin: SIMD search equals the scalar first-minimum scan") {
  ladle::philox g(ladle::seed{12});
  for (ladle::index_t k : {1, 3, 16, 37, 100, 256}) {
    for (int rep = 0; rep < 50; ++rep) {
      std::vector<float> v(static_cast<std::size_t>(k));
      for (auto& x : v) x = static_cast<float>(ladle::uniform_index(g, 8));  // many ties
      CHECK(ladle::detail::pq_argmin(v.data(), k) == ladle::detail::pq_argmin_scalar(v.data(), k));
    }
  }
}

TEST_CASE("pq with fewer distinct points than centroids still trains (degenerate clusters)") {
  std::vector<float> x;
  for (int r = 0; r < 200; ++r)
    for (int j = 0; j < 4; ++j) x.push_back(static_cast<float>((r % 5) * 10 + j));
  const auto xv = ladle::make_view(x.data(), {200, 4});
  const auto pq = ladle::pq_train(xv, {2, 8, 10, 0}, ladle::seed{1});
  CHECK(pq.inertia() == 0.0);
  CHECK(recon_mse(pq, x, 200, 4) == 0.0);
}

TEST_CASE("pq errors: shapes, ksub, non-finite data, codes out of range") {
  const auto x = make_table(300, 12, 5);
  const auto xv = ladle::make_view(x.data(), {300, 12});
  CHECK_THROWS_AS(ladle::pq_train(xv, {5, 16}, ladle::seed{1}), ladle::invalid_argument);   // 12 % 5
  CHECK_THROWS_AS(ladle::pq_train(xv, {4, 257}, ladle::seed{1}), ladle::invalid_argument);  // > 256
  CHECK_THROWS_AS(ladle::pq_train(xv, {4, 0}, ladle::seed{1}), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::pq_train(ladle::make_view(x.data(), {100, 12}), {4, 101}, ladle::seed{1}),
                  ladle::invalid_argument);  // ksub > n
  CHECK_THROWS_AS(ladle::pq_train(xv, {4, 200, 5, 150}, ladle::seed{1}), ladle::invalid_argument);  // > subset
  CHECK_THROWS_AS(ladle::pq_train(xv, {4, 16, -1}, ladle::seed{1}), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::pq_train(ladle::make_view(x.data(), {0, 12}), {4, 16}, ladle::seed{1}),
                  ladle::invalid_argument);
  auto bad = x;
  bad[100] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(ladle::pq_train(ladle::make_view(bad.data(), {300, 12}), {4, 16}, ladle::seed{1}),
                  ladle::domain_error);
  const auto pq = ladle::pq_train(xv, {4, 16, 3}, ladle::seed{1});
  CHECK_THROWS_AS(ladle::pq_encode(pq, ladle::make_view(x.data(), {200, 18})), ladle::invalid_argument);
  ladle::tensor<std::uint8_t, 2> codes({300, 4});
  codes.data()[5] = 16;  // >= ksub
  std::vector<float> out(300 * 12);
  CHECK_THROWS_AS(ladle::pq_decode(pq, codes.cview(), ladle::make_view(out.data(), {300, 12})),
                  ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::pq_decode(pq, codes.cview(), ladle::make_view(out.data(), {299, 12})),
                  ladle::invalid_argument);
  codes.data()[5] = 0;
  CHECK_THROWS_AS(ladle::pq_search(pq, ladle::make_view(x.data(), 12), codes.cview(), 301),
                  ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::pq_search(pq, ladle::make_view(x.data(), 11), codes.cview(), 3),
                  ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::product_quantizer(ladle::tensor<float, 3>({2, 300, 4})), ladle::invalid_argument);
  ladle::product_quantizer empty;
  CHECK_THROWS_AS(ladle::pq_encode(empty, xv), ladle::invalid_argument);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
