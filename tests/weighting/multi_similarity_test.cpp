// Multi-Similarity: loss and gradient against the authors' recipe run in torch (autograd), pair
// weights equal to the loss gradient (assembled from the visited weights vs central finite
// differences of the loss), tile-size and policy independence, skipped anchors, and errors.
#include <ladle/weighting.hpp>
#include <ladle/core/random.hpp>

#include "weighting/fixtures/torch_reference.hpp"

#include <doctest/doctest.h>

#include "error_of.hpp"

#include <cmath>
#include <string>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;

TEST_CASE("MS loss and gradient equal the torch reference") {
  struct set {
    const std::vector<double>* x;
    const std::vector<long long>* y;
    double loss;
    const std::vector<double>* grad;
    long long b, d;
  };
  const set sets[] = {
      {&fixtures::ms_small_x, &fixtures::ms_small_y, fixtures::ms_small_loss, &fixtures::ms_small_grad,
       fixtures::ms_small_b, fixtures::ms_small_d},
      {&fixtures::ms_mid_x, &fixtures::ms_mid_y, fixtures::ms_mid_loss, &fixtures::ms_mid_grad,
       fixtures::ms_mid_b, fixtures::ms_mid_d},
  };
  for (const auto& s : sets) {
    const auto X = ladle::make_view(s.x->data(), {index_t(s.b), index_t(s.d)});
    const auto y = ladle::make_view(s.y->data(), s.y->size());
    CHECK(ladle::multi_similarity_loss(ladle::seq, X, y) == doctest::Approx(s.loss).epsilon(1e-13));
    std::vector<double> g(s.x->size());
    const double l = ladle::multi_similarity_loss_and_grad_into(
        ladle::seq, X, y, ladle::make_view(g.data(), {index_t(s.b), index_t(s.d)}));
    CHECK(l == doctest::Approx(s.loss).epsilon(1e-13));
    double gmax = 0;
    for (double v : *s.grad) gmax = std::max(gmax, std::abs(v));
    for (std::size_t i = 0; i < g.size(); ++i) CHECK(std::abs(g[i] - (*s.grad)[i]) <= 1e-12 * gmax);
    // Every tile size and policy: identical bits.
    for (index_t tile : {1, 5, 64}) {
      ladle::multi_similarity_options o;
      o.tile_rows = tile;
      std::vector<double> g2(g.size());
      const double l2 = ladle::multi_similarity_loss_and_grad_into(
          ladle::par(3), X, y, ladle::make_view(g2.data(), {index_t(s.b), index_t(s.d)}), o);
      CHECK(l2 == l);
      CHECK(g2 == g);
    }
    // float embeddings (renormalised in float are still unit within 1e-3).
    std::vector<float> xf(s.x->begin(), s.x->end());
    CHECK(ladle::multi_similarity_loss(ladle::seq, ladle::make_view(xf.data(), {index_t(s.b), index_t(s.d)}), y) ==
          doctest::Approx(s.loss).epsilon(1e-5));
  }
}

TEST_CASE("MS similarity rows: the blocked kernel gives the eight-chain dot's bits") {
  // The formula written out here: chain l sums features l, l + 8, ... by fma in feature order,
  // the d % 8 tail features go to chains 0, 1, ..., and the chains add in a fixed tree. The
  // AVX-512 kernel computes four anchors against two rows at once; counts 1 to 4, odd row
  // counts and every tail length must reproduce the formula exactly.
  const auto eight_chain_dot = [](const double* a, const double* b, index_t d) {
    double c[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (index_t f = 0; f < d; ++f) c[f % 8] = std::fma(a[f], b[f], c[f % 8]);
    return ((c[0] + c[1]) + (c[2] + c[3])) + ((c[4] + c[5]) + (c[6] + c[7]));
  };
  ladle::philox g(ladle::seed{21});
  for (index_t d : {1, 7, 8, 9, 15, 16, 17, 64, 255, 256, 257}) {
    for (index_t b : {1, 2, 3, 5, 9}) {
      ladle::detail::ms::problem p;
      p.b = b;
      p.d = d;
      p.x.resize(static_cast<std::size_t>(b * d));
      for (auto& v : p.x) v = ladle::uniform_double(g) * 2.0 - 1.0;
      // similarity_rows: up to four anchors over a column range; entries outside stay alone.
      std::vector<double> rows(static_cast<std::size_t>(4 * b), -7.0);
      for (index_t i0 = 0; i0 < b; ++i0)
        for (index_t count = 1; count <= std::min<index_t>(4, b - i0); ++count)
          for (index_t jb : {index_t(0), std::min<index_t>(1, b - 1)}) {
            std::fill(rows.begin(), rows.end(), -7.0);
            ladle::detail::ms::similarity_rows(p, i0, count, rows.data(), jb, b);
            for (index_t r = 0; r < 4; ++r)
              for (index_t j = 0; j < b; ++j) {
                const double got = rows[static_cast<std::size_t>(r * b + j)];
                if (r >= count || j < jb) {
                  CHECK(got == -7.0);
                  continue;
                }
                INFO("d " << d << " b " << b << " i0 " << i0 << " count " << count << " r " << r << " j " << j);
                CHECK(got == eight_chain_dot(p.row(i0 + r), p.row(j), d));
              }
          }
      // similarity_tile: any number of anchors, columns in L2-sized blocks.
      std::vector<double> tile(static_cast<std::size_t>(b * b), -7.0);
      ladle::detail::ms::similarity_tile(p, 0, b, tile.data());
      for (index_t i = 0; i < b; ++i)
        for (index_t j = 0; j < b; ++j)
          CHECK(tile[static_cast<std::size_t>(i * b + j)] == eight_chain_dot(p.row(i), p.row(j), d));
    }
  }
  // A tile whose columns span several blocks (d = 512: 64 rows of X per 256 KiB block).
  {
    ladle::detail::ms::problem p;
    p.b = 150;
    p.d = 512;
    p.x.resize(static_cast<std::size_t>(p.b * p.d));
    for (auto& v : p.x) v = ladle::uniform_double(g) * 2.0 - 1.0;
    std::vector<double> tile(static_cast<std::size_t>(7 * p.b));
    ladle::detail::ms::similarity_tile(p, 140, 7, tile.data());
    for (index_t i = 0; i < 7; ++i)
      for (index_t j = 0; j < p.b; ++j)
        CHECK(tile[static_cast<std::size_t>(i * p.b + j)] == eight_chain_dot(p.row(140 + i), p.row(j), p.d));
  }
}

TEST_CASE("MS pair weights are the loss gradient (finite differences on a hand-sized batch)") {
  const index_t B = fixtures::ms_small_b, d = fixtures::ms_small_d;
  std::vector<double> x = fixtures::ms_small_x;
  const auto y = ladle::make_view(fixtures::ms_small_y.data(), fixtures::ms_small_y.size());
  // dL/dx_k from the visited weights: dL/dS_ij = (-w+ or +w-) / B, S_ij = x_i . x_j.
  std::vector<double> g(x.size(), 0.0);
  index_t visited = 0, last_anchor = -1, last_other = -1;
  const double loss = ladle::multi_similarity_pair_weights(
      ladle::par(2), ladle::make_view(x.data(), {B, d}), y,
      [&](const ladle::multi_similarity_pair& p) {
        CHECK((p.anchor > last_anchor || (p.anchor == last_anchor && p.other > last_other)));
        last_anchor = p.anchor;
        last_other = p.other;
        CHECK(p.weight > 0);
        CHECK(p.positive == (fixtures::ms_small_y[p.anchor] == fixtures::ms_small_y[p.other]));
        const double c = (p.positive ? -p.weight : p.weight) / double(B);
        for (index_t f = 0; f < d; ++f) {
          g[p.anchor * d + f] += c * x[p.other * d + f];
          g[p.other * d + f] += c * x[p.anchor * d + f];
        }
        ++visited;
      });
  CHECK(visited > 10);
  CHECK(loss == doctest::Approx(fixtures::ms_small_loss).epsilon(1e-13));
  const double h = 1e-6;
  for (std::size_t e = 0; e < x.size(); ++e) {
    const double keep = x[e];
    x[e] = keep + h;
    const double up = ladle::multi_similarity_loss(ladle::seq, ladle::make_view(x.data(), {B, d}), y);
    x[e] = keep - h;
    const double down = ladle::multi_similarity_loss(ladle::seq, ladle::make_view(x.data(), {B, d}), y);
    x[e] = keep;
    CHECK(std::abs((up - down) / (2 * h) - g[e]) <= 1e-7);
  }
}

TEST_CASE("MS: skipped anchors, all-skipped batch, errors") {
  // Every label distinct: no positives, every anchor skipped, loss 0 and zero gradient.
  const index_t B = 4, d = 2;
  const double c = std::sqrt(0.5);
  std::vector<double> x = {1, 0, 0, 1, c, c, -c, c};
  std::vector<int> y = {0, 1, 2, 3};
  const auto X = ladle::make_view(x.data(), {B, d});
  const auto yv = ladle::make_view(y.data(), 4);
  CHECK(ladle::multi_similarity_loss(ladle::seq, X, yv) == 0.0);
  std::vector<double> g(8, 5);
  ladle::multi_similarity_loss_and_grad_into(ladle::seq, X, yv, ladle::make_view(g.data(), {B, d}));
  CHECK(g == std::vector<double>(8, 0.0));
  // Hand example: anchors 0 and 2 share label 0; 1 and 3 share label 1.
  // S_02 = c, S_01 = 0, S_03 = -c; for anchor 0: min_pos = c, max_neg = 0; negative 1 kept
  // iff 0 + 0.1 > c (no), negative 3 no: anchor 0 skipped. Anchor 1 (pos 3, S_13 = c; negs 0, 2
  // with S = 0, c): max_neg = c; positive kept (c - 0.1 < c), negatives kept iff S + 0.1 > c:
  // only 2. loss_1 = log(1 + e^{-2(c - .5)})/2 + log(1 + e^{40(c - .5)})/40.
  y = {0, 1, 0, 1};
  const double l1 = std::log(1 + std::exp(-2 * (c - 0.5))) / 2 + std::log(1 + std::exp(40 * (c - 0.5))) / 40;
  // Anchor 2: pos 0 (S = c), negs 1 (S = c), 3 (S = 0): min_pos = c, negatives kept iff S > c - .1: 1.
  // max_neg = c; positive 0 kept: same as anchor 1. Anchor 3: pos 1 (c), negs 0 (-c), 2 (0):
  // max_neg = 0, positive kept iff c - .1 < 0: no -> skipped.
  CHECK(ladle::multi_similarity_loss(ladle::seq, X, yv) == doctest::Approx(2 * l1 / 4).epsilon(1e-14));
  // Errors.
  std::vector<double> bad = {1, 0, 0.5, 0.5};
  CHECK(error_of<ladle::domain_error>([&] {
          ladle::multi_similarity_loss(ladle::seq, ladle::make_view(bad.data(), {2, 2}), yv.slice(0, 2));
        }).find("ladle::multi_similarity_loss: 'X' row 1 has squared norm 0.5") != std::string::npos);
  bad[2] = std::nan("");
  CHECK(error_of<ladle::domain_error>([&] {
          ladle::multi_similarity_loss(ladle::seq, ladle::make_view(bad.data(), {2, 2}), yv.slice(0, 2));
        }).find("'X' element (1, 0) is not finite") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::multi_similarity_loss(ladle::seq, X, yv.slice(0, 3)); })
            .find("'y' has length 3 but 4") != std::string::npos);
  ladle::multi_similarity_options o;
  o.beta = 0;
  CHECK(error_of<ladle::domain_error>([&] { ladle::multi_similarity_loss(ladle::seq, X, yv, o); })
            .find("'beta' must be finite and > 0") != std::string::npos);
  g.assign(8, 5);
  CHECK(error_of<ladle::invalid_argument>([&] {
          ladle::multi_similarity_loss_and_grad_into(ladle::seq, X, yv, ladle::make_view(g.data(), {B, 1}));
        }).find("'grad' has columns 1 but 2") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([&] {
          ladle::multi_similarity_loss_and_grad_into(ladle::seq, X, yv, X);
        }).find("'grad' overlaps") != std::string::npos);
  CHECK(g == std::vector<double>(8, 5));
}

}  // namespace LADLE_TEST_FILE
}  // namespace
