// Post-training weight quantization of a small classifier, the whitepaper's experiment in
// miniature: train a softmax (multinomial logistic) regression on scikit-learn's 8x8 digits with
// plain gradient descent, then quantize its 10 x 64 weight matrix several ways and compare test
// accuracy. Data: examples/data/digits.csv (written by examples/data/export_digits.py).
#include "digits_data.hpp"

#include <ladle/quantization/observers.hpp>
#include <ladle/quantization/quantize.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace {

constexpr int features = 64, classes = 10;

// Logits of row i: W x_i + b.
void logits(const std::vector<float>& w, const std::vector<float>& b, const float* x, double* out) {
  for (int c = 0; c < classes; ++c) {
    double s = b[static_cast<std::size_t>(c)];
    for (int j = 0; j < features; ++j) s += double(w[static_cast<std::size_t>(c * features + j)]) * x[j];
    out[c] = s;
  }
}

std::vector<int> predict(const std::vector<float>& w, const std::vector<float>& b, const digits::data_set& d,
                         const std::vector<int>& rows) {
  std::vector<int> out;
  double z[classes];
  for (int i : rows) {
    logits(w, b, &d.X[static_cast<std::size_t>(i) * features], z);
    int best = 0;
    for (int c = 1; c < classes; ++c)
      if (z[c] > z[best]) best = c;
    out.push_back(best);
  }
  return out;
}

double accuracy(const std::vector<int>& pred, const digits::data_set& d, const std::vector<int>& rows) {
  int ok = 0;
  for (std::size_t k = 0; k < rows.size(); ++k) ok += pred[k] == d.y[static_cast<std::size_t>(rows[k])];
  return double(ok) / double(rows.size());
}

int changed(const std::vector<int>& a, const std::vector<int>& b) {
  int n = 0;
  for (std::size_t k = 0; k < a.size(); ++k) n += a[k] != b[k];
  return n;
}

}  // namespace

int main() {
  const digits::data_set d = digits::load();
  const auto parts = digits::split(d, 2024, {d.n * 3 / 4});  // a seeded 75% train / 25% test
  const std::vector<int>&train = parts[0], &test = parts[1];
  const int n_train = static_cast<int>(train.size());
  // Full-batch gradient descent on the mean cross-entropy with a small L2 penalty. The weights
  // are kept transposed and padded to 16 classes so the inner loops run over a fixed 16 lanes.
  constexpr int pad = 16;
  std::vector<float> wt(features * pad, 0.0f), gt(features * pad), bias(pad, 0.0f), gbias(pad);
  const float lr = 0.5f, l2 = 1e-4f;
  for (int epoch = 0; epoch < 3000; ++epoch) {
    std::fill(gt.begin(), gt.end(), 0.0f);
    std::fill(gbias.begin(), gbias.end(), 0.0f);
    for (int i : train) {
      const float* x = &d.X[static_cast<std::size_t>(i) * features];
      float zz[pad];
      for (int c = 0; c < pad; ++c) zz[c] = bias[static_cast<std::size_t>(c)];
      for (int j = 0; j < features; ++j)
        for (int c = 0; c < pad; ++c) zz[c] += x[j] * wt[static_cast<std::size_t>(j * pad + c)];
      float mx = zz[0], sum = 0.0f;
      for (int c = 1; c < classes; ++c) mx = std::max(mx, zz[c]);
      for (int c = 0; c < pad; ++c) {
        zz[c] = c < classes ? std::exp(zz[c] - mx) : 0.0f;
        sum += zz[c];
      }
      for (int c = 0; c < pad; ++c) {
        zz[c] = zz[c] / sum - (d.y[static_cast<std::size_t>(i)] == c ? 1.0f : 0.0f);
        gbias[static_cast<std::size_t>(c)] += zz[c];
      }
      for (int j = 0; j < features; ++j)
        for (int c = 0; c < pad; ++c) gt[static_cast<std::size_t>(j * pad + c)] += x[j] * zz[c];
    }
    for (std::size_t k = 0; k < wt.size(); ++k) wt[k] -= lr * (gt[k] / static_cast<float>(n_train) + l2 * wt[k]);
    for (int c = 0; c < pad; ++c) bias[static_cast<std::size_t>(c)] -= lr * gbias[static_cast<std::size_t>(c)] / static_cast<float>(n_train);
  }
  std::vector<float> w(classes * features), b(bias.begin(), bias.begin() + classes);
  for (int c = 0; c < classes; ++c)
    for (int j = 0; j < features; ++j)
      w[static_cast<std::size_t>(c * features + j)] = wt[static_cast<std::size_t>(j * pad + c)];

  const auto wv = ladle::make_view(w.data(), {classes, features});
  const std::vector<int> base_pred = predict(w, b, d, test);
  const double base = accuracy(base_pred, d, test);
  std::printf("softmax regression on digits: %d train / %zu test images, W is %d x %d\n\n", n_train,
              test.size(), classes, features);
  std::printf("%-40s %9s %9s %9s %12s\n", "weights", "accuracy", "vs float", "changed", "weight MSE");
  std::printf("%-40s %8.2f%% %9s %9s %12s\n", "float32", 100 * base, "-", "-", "-");

  struct row {
    const char* name;
    ladle::quant_spec spec;
  };
  const row rows[] = {
      {"int8 symmetric, per channel (class)", ladle::quant_spec::symmetric(8).per_channel(0)},
      {"int8 affine, per tensor", ladle::quant_spec::affine(8, /*is_signed=*/true)},
      {"int4 symmetric, per group of 16 inputs", ladle::quant_spec::symmetric(4).per_group(16)},
      {"int4 symmetric, per channel", ladle::quant_spec::symmetric(4).per_channel(0)},
      {"int4 symmetric, per tensor", ladle::quant_spec::symmetric(4)},
      {"int3 symmetric, per group of 16 inputs", ladle::quant_spec::symmetric(3).per_group(16)},
      {"int3 symmetric, per tensor", ladle::quant_spec::symmetric(3)},
      {"int2 symmetric, per tensor", ladle::quant_spec::symmetric(2)},
  };
  for (const auto& r : rows) {
    const auto params = ladle::choose_qparams(r.spec, wv);
    const auto codes = ladle::quantize<std::int8_t>(wv, params);
    const auto back = ladle::dequantize(codes.cview(), params);
    std::vector<float> wq(back.begin(), back.end());
    double mse = 0;
    for (std::size_t k = 0; k < w.size(); ++k) mse += (wq[k] - w[k]) * (wq[k] - w[k]);
    const auto pred = predict(wq, b, d, test);
    const double acc = accuracy(pred, d, test);
    std::printf("%-40s %8.2f%% %+8.2f%% %9d %12.3g\n", r.name, 100 * acc, 100 * (acc - base),
                changed(pred, base_pred), mse / double(w.size()));
  }
  // The histogram observer's L2-optimal clipping rescues per-tensor int4.
  ladle::histogram_observer h(ladle::quant_spec::symmetric(4));
  h.observe(wv);
  const auto hp = h.qparams();
  const auto hq = ladle::fake_quantize(wv, hp);
  std::vector<float> wq(hq.begin(), hq.end());
  double mse = 0;
  for (std::size_t k = 0; k < w.size(); ++k) mse += (wq[k] - w[k]) * (wq[k] - w[k]);
  const auto pred = predict(wq, b, d, test);
  const double acc = accuracy(pred, d, test);
  std::printf("%-40s %8.2f%% %+8.2f%% %9d %12.3g\n", "int4 per tensor, histogram (L2) range", 100 * acc,
              100 * (acc - base), changed(pred, base_pred), mse / double(w.size()));
  std::printf("\n'changed': test images whose predicted class differs from the float model's.\n");
  return 0;
}
