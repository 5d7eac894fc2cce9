// Class weighting on a heavily imbalanced split of the digits data (8x8 images, 10 classes).
//
// Training keeps 150 rows of digit 0, then about 0.6x fewer of each next digit down to 2 rows of
// digit 9 (imbalance 75:1); every other row is held out. A softmax-regression (linear) model is
// trained by minibatch SGD four ways:
//   uniform            rows sampled uniformly, every loss weight 1;
//   balanced           rows sampled uniformly, loss weight n / (C n_c)   (scikit-learn's rule);
//   effective number   rows sampled uniformly, loss weight (1-b)/(1-b^n_c), b = 0.99, sum to C;
//   temperature tau=3  a class drawn with p_k ~ q_k^(1/3), then a row of it, loss weight 1.
// It prints the held-out accuracy of each class, the mean over classes and the worst class.
//
// Data: examples/data/digits.csv (label first, then 64 pixels 0..16; export_digits.py).
#include "digits_data.hpp"

#include <ladle/weighting.hpp>
#include <ladle/core/random.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace {

constexpr int C = 10, D = 64;

struct dataset {
  std::vector<double> X;  // (n, D), pixels / 16
  std::vector<int> y;
  std::size_t n() const { return y.size(); }
};

// One SGD run of softmax regression; `draw` returns (row, loss weight) for each batch slot.
template <class Draw>
std::vector<double> train(const dataset& tr, Draw&& draw) {
  std::vector<double> W((D + 1) * C, 0.0), G(W.size());
  const int steps = 3000, batch = 32;
  const double lr = 0.5;
  for (int s = 0; s < steps; ++s) {
    std::fill(G.begin(), G.end(), 0.0);
    for (int b = 0; b < batch; ++b) {
      const auto [i, w] = draw();
      const double* x = &tr.X[i * D];
      double z[C], m = -1e300, sum = 0;
      for (int c = 0; c < C; ++c) {
        z[c] = W[D * C + c];
        for (int f = 0; f < D; ++f) z[c] += x[f] * W[f * C + c];
        m = std::max(m, z[c]);
      }
      for (int c = 0; c < C; ++c) sum += (z[c] = std::exp(z[c] - m));
      for (int c = 0; c < C; ++c) {
        const double g = w * (z[c] / sum - (c == tr.y[i] ? 1.0 : 0.0));
        for (int f = 0; f < D; ++f) G[f * C + c] += g * x[f];
        G[D * C + c] += g;
      }
    }
    for (std::size_t k = 0; k < W.size(); ++k) W[k] -= lr * (G[k] / batch + 1e-4 * W[k]);
  }
  return W;
}

std::vector<double> class_accuracy(const dataset& te, const std::vector<double>& W) {
  std::vector<double> hit(C, 0), tot(C, 0);
  for (std::size_t i = 0; i < te.n(); ++i) {
    int best = 0;
    double bz = -1e300;
    for (int c = 0; c < C; ++c) {
      double z = W[D * C + c];
      for (int f = 0; f < D; ++f) z += te.X[i * D + f] * W[f * C + c];
      if (z > bz) bz = z, best = c;
    }
    tot[te.y[i]] += 1;
    hit[te.y[i]] += best == te.y[i];
  }
  for (int c = 0; c < C; ++c) hit[c] /= tot[c];
  return hit;
}

}  // namespace

int main() {
  const digits::data_set pixels = digits::load();
  dataset all;  // the same data in double (pixels / 16 are exact in both)
  all.X.assign(pixels.X.begin(), pixels.X.end());
  all.y = pixels.y;
  // Imbalanced training split: the first n_c rows of digit c, n_c = 150 * 0.6^c (at least 2).
  dataset tr, te;
  int keep[C], seen[C] = {};
  for (int c = 0; c < C; ++c) keep[c] = std::max(2, int(std::lround(150 * std::pow(0.6, c))));
  for (std::size_t i = 0; i < all.n(); ++i) {
    dataset& to = seen[all.y[i]]++ < keep[all.y[i]] ? tr : te;
    to.y.push_back(all.y[i]);
    to.X.insert(to.X.end(), all.X.begin() + std::ptrdiff_t(i * D), all.X.begin() + std::ptrdiff_t((i + 1) * D));
  }
  std::printf("digits: %zu training rows (", tr.n());
  for (int c = 0; c < C; ++c) std::printf("%d%s", keep[c], c + 1 < C ? ":" : ")");
  std::printf(", %zu held out\n\n", te.n());

  // Counts and the three weight tables.
  const auto yv = ladle::make_view(tr.y.data(), tr.y.size());
  ladle::class_counter counts;
  counts.add(yv);
  const auto balanced = ladle::class_weights(counts);
  ladle::class_weight_options eo;
  eo.scheme = ladle::class_weight_scheme::effective_number;
  eo.beta = 0.99;
  const auto effective = ladle::class_weights(counts, eo);
  const auto p_tau = ladle::temperature_probabilities(
      ladle::make_view(counts.counts().data(), counts.counts().size()), 3.0);
  std::vector<std::vector<int>> rows_of(C);
  for (std::size_t i = 0; i < tr.n(); ++i) rows_of[tr.y[i]].push_back(int(i));

  // The balanced weights average to 1 over the training rows (scikit-learn's property).
  std::vector<double> per(tr.n());
  ladle::sample_weights_into(ladle::seq, yv, balanced, ladle::make_view(per.data(), per.size()));
  double mean = 0;
  for (double v : per) mean += v / double(per.size());
  if (std::abs(mean - 1.0) > 1e-12) {
    std::printf("balanced weights do not average to 1 (%.17g)\n", mean);
    return 1;
  }

  const char* names[] = {"uniform", "balanced", "effective number", "temperature tau=3"};
  std::printf("%-18s", "scheme");
  for (int c = 0; c < C; ++c) std::printf("    %d", c);
  std::printf("   mean  worst\n");
  double worst_of[4];
  for (int scheme = 0; scheme < 4; ++scheme) {
    ladle::philox g(ladle::seed{2024}, std::uint64_t(scheme));
    auto draw = [&]() -> std::pair<int, double> {
      if (scheme == 3) {  // class by p(tau), then a row of it
        const double u = ladle::uniform_double(g);
        int k = 0;
        for (double acc = p_tau[0]; k + 1 < C && u >= acc; acc += p_tau[std::size_t(++k)]) {
        }
        const auto& r = rows_of[std::size_t(k)];
        return {r[std::size_t(ladle::uniform_index(g, ladle::index_t(r.size())))], 1.0};
      }
      const int i = int(ladle::uniform_index(g, ladle::index_t(tr.n())));
      const double w = scheme == 0 ? 1.0 : (scheme == 1 ? balanced : effective).at(tr.y[std::size_t(i)]);
      return {i, w};
    };
    const auto acc = class_accuracy(te, train(tr, draw));
    double m = 0, worst = 1;
    std::printf("%-18s", names[scheme]);
    for (double a : acc) {
      std::printf(" %4.0f", 100 * a);
      m += a / C;
      worst = std::min(worst, a);
    }
    std::printf("  %5.1f  %5.1f\n", 100 * m, 100 * worst);
    worst_of[scheme] = worst;
  }
  std::printf("\n(held-out accuracy per digit, %%; 'worst' is the worst digit)\n");
  // Sanity: every scheme learns something on the well-represented digits.
  for (double w : worst_of)
    if (!(w >= 0.0 && w <= 1.0)) return 1;
  return 0;
}
