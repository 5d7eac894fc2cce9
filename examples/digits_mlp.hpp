// examples/digits_mlp.hpp: the tiny perceptron the digits examples train (digits_mlp.cpp,
// soup_digits.cpp, prune_digits.cpp): the model, its forward pass, accuracy, two trainers and the
// conversion to and from a ladle::state_dict. The data and splits: digits_data.hpp.
//
// Model: 64 pixels -> 32 ReLU units -> 10 classes (fc1.weight [32, 64], fc1.bias [32],
// fc2.weight [10, 32], fc2.bias [10], float32), softmax cross-entropy. Data:
// examples/data/digits.csv (1797 images, label first; see data/export_digits.py).
#pragma once

#include "digits_data.hpp"

#include <ladle/averaging/state_dict.hpp>
#include <ladle/core/random.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace digits {

struct mlp {
  std::vector<float> w1 = std::vector<float>(32 * 64), b1 = std::vector<float>(32),
                     w2 = std::vector<float>(10 * 32), b2 = std::vector<float>(10);
};

/// He-style random initialisation from a seed.
inline mlp initialise(std::uint64_t seed) {
  mlp m;
  ladle::philox rng(ladle::seed{seed}, 0);
  for (float& w : m.w1) w = static_cast<float>(ladle::normal(rng) * std::sqrt(2.0 / 64));
  for (float& w : m.w2) w = static_cast<float>(ladle::normal(rng) * std::sqrt(1.0 / 32));
  return m;
}

/// Forward pass of one image: hidden activations h (32) and class probabilities p (10).
inline void forward(const mlp& m, const float* x, float* h, float* p) {
  for (int j = 0; j < 32; ++j) {
    float s = m.b1[j];
    for (int k = 0; k < 64; ++k) s += m.w1[j * 64 + k] * x[k];
    h[j] = std::max(s, 0.0f);
  }
  float top = -INFINITY;
  for (int c = 0; c < 10; ++c) {
    float s = m.b2[c];
    for (int j = 0; j < 32; ++j) s += m.w2[c * 32 + j] * h[j];
    p[c] = s;
    top = std::max(top, s);
  }
  float z = 0;
  for (int c = 0; c < 10; ++c) z += (p[c] = std::exp(p[c] - top));
  for (int c = 0; c < 10; ++c) p[c] /= z;
}

/// Fraction of `rows` classified correctly.
inline double accuracy(const mlp& m, const data_set& d, const std::vector<int>& rows) {
  int right = 0;
  float h[32], p[10];
  for (int i : rows) {
    forward(m, d.row(i), h, p);
    right += static_cast<int>(std::max_element(p, p + 10) - p) == d.y[static_cast<std::size_t>(i)];
  }
  return static_cast<double>(right) / static_cast<double>(rows.size());
}

/// Gradients of the summed cross-entropy over `batch`.
struct gradients {
  std::vector<float> w1 = std::vector<float>(32 * 64), b1 = std::vector<float>(32),
                     w2 = std::vector<float>(10 * 32), b2 = std::vector<float>(10);
};

inline void accumulate_gradients(const mlp& m, const data_set& d, const int* batch, std::size_t size,
                                 gradients& g) {
  for (auto* v : {&g.w1, &g.b1, &g.w2, &g.b2}) std::fill(v->begin(), v->end(), 0.0f);
  float h[32], p[10], dh[32];
  for (std::size_t r = 0; r < size; ++r) {
    const int i = batch[r];
    const float* x = d.row(i);
    forward(m, x, h, p);
    p[d.y[static_cast<std::size_t>(i)]] -= 1.0f;  // d loss / d logits
    std::fill(dh, dh + 32, 0.0f);
    for (int c = 0; c < 10; ++c) {
      g.b2[c] += p[c];
      for (int j = 0; j < 32; ++j) {
        g.w2[c * 32 + j] += p[c] * h[j];
        dh[j] += p[c] * m.w2[c * 32 + j];
      }
    }
    for (int j = 0; j < 32; ++j) {
      if (h[j] <= 0.0f) continue;
      g.b1[j] += dh[j];
      for (int k = 0; k < 64; ++k) g.w1[j * 64 + k] += dh[j] * x[k];
    }
  }
}

/// m <- m - step * g; then the weights (not the biases) shrink by the factor 1 - decay.
inline void apply(mlp& m, const gradients& g, float step, float decay = 0.0f) {
  for (std::size_t k = 0; k < m.w1.size(); ++k) m.w1[k] -= step * g.w1[k];
  for (std::size_t k = 0; k < m.b1.size(); ++k) m.b1[k] -= step * g.b1[k];
  for (std::size_t k = 0; k < m.w2.size(); ++k) m.w2[k] -= step * g.w2[k];
  for (std::size_t k = 0; k < m.b2.size(); ++k) m.b2[k] -= step * g.b2[k];
  if (decay == 0.0f) return;
  for (float& w : m.w1) w -= decay * w;
  for (float& w : m.w2) w -= decay * w;
}

/// Full-batch gradient descent on `rows`.
inline void train_full_batch(mlp& m, const data_set& d, const std::vector<int>& rows, int epochs,
                             float lr) {
  gradients g;
  const float step = lr / static_cast<float>(rows.size());
  for (int epoch = 0; epoch < epochs; ++epoch) {
    accumulate_gradients(m, d, rows.data(), rows.size(), g);
    apply(m, g, step);
  }
}

struct sgd_options {
  int epochs = 5;
  float lr = 0.1f;
  std::size_t batch = 32;
  float weight_decay = 0.0f;  ///< per step
  std::uint64_t seed = 0;     ///< order of the mini-batches
};

/// Mini-batch SGD on `rows`, reshuffled every epoch.
inline void train_sgd(mlp& m, const data_set& d, std::vector<int> rows, const sgd_options& o) {
  gradients g;
  ladle::philox rng(ladle::seed{o.seed}, 1);
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    ladle::shuffle(rows.begin(), rows.end(), rng);
    for (std::size_t at = 0; at < rows.size(); at += o.batch) {
      const std::size_t size = std::min(o.batch, rows.size() - at);
      accumulate_gradients(m, d, rows.data() + at, size, g);
      apply(m, g, o.lr / static_cast<float>(size), o.weight_decay);
    }
  }
}

/// The model's tensors as a read-only state dict over its own memory.
inline ladle::state_dict as_state_dict(const mlp& m, const std::string& source) {
  ladle::state_dict s(source);
  s.add("fc1.weight", ladle::make_view(m.w1.data(), {32, 64}));
  s.add("fc1.bias", ladle::make_view(m.b1.data(), {32}));
  s.add("fc2.weight", ladle::make_view(m.w2.data(), {10, 32}));
  s.add("fc2.bias", ladle::make_view(m.b2.data(), {10}));
  return s;
}

/// A copy of a state dict's float32 tensors of the model's names and sizes.
inline mlp from_state_dict(const ladle::state_dict& s) {
  mlp m;
  auto get = [&](const char* name, std::vector<float>& out) {
    const auto& t = s.at(name);
    if (!(t.type == ladle::dtype_v<float>) || static_cast<std::size_t>(t.elements()) != out.size())
      throw std::runtime_error(s.source() + ": tensor " + name + " is not float32 of " +
                               std::to_string(out.size()) + " elements");
    const float* p = static_cast<const float*>(t.data);
    std::copy(p, p + out.size(), out.begin());
  };
  get("fc1.weight", m.w1);
  get("fc1.bias", m.b1);
  get("fc2.weight", m.w2);
  get("fc2.bias", m.b2);
  return m;
}

}  // namespace digits
