// examples/digits_mlp.cpp: trains a tiny two-layer perceptron on the digits data and saves it as a
// safetensors checkpoint, or evaluates a checkpoint (for instance one that went through
// `ladle quantize` and `ladle dequantize`).
//
//   example_digits_mlp [OUT.safetensors]        train (seeded, full-batch gradient descent), save
//   example_digits_mlp --evaluate MODEL         print the accuracy of MODEL on the digits data
//
// Model: 64 pixels -> 32 ReLU units -> 10 classes (fc1.weight [32, 64], fc1.bias [32],
// fc2.weight [10, 32], fc2.bias [10], float32), softmax cross-entropy. Data:
// examples/data/digits.csv (1797 images, label first; see export_digits.py). Without arguments it
// trains, saves digits_mlp.safetensors in the current folder and checks the training accuracy
// itself (exit 1 below 95%), so the test suite runs it as a test.
#include <ladle/core/random.hpp>
#include <ladle/io/safetensors.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct data_set {
  std::vector<float> X;  // n x 64, pixels / 16
  std::vector<int> y;
  int n = 0;
};

data_set load_digits() {
  const std::string src = __FILE__;
  std::ifstream in(src.substr(0, src.find_last_of("/\\") + 1) + "data/digits.csv");
  data_set d;
  std::string line;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    std::getline(ss, cell, ',');
    d.y.push_back(std::stoi(cell));
    while (std::getline(ss, cell, ',')) d.X.push_back(std::stof(cell) / 16.0f);
    ++d.n;
  }
  return d;
}

struct mlp {
  std::vector<float> w1 = std::vector<float>(32 * 64), b1 = std::vector<float>(32),
                     w2 = std::vector<float>(10 * 32), b2 = std::vector<float>(10);
};

// Forward pass of row i: hidden activations h (32) and class probabilities p (10).
void forward(const mlp& m, const float* x, float* h, float* p) {
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

double accuracy(const mlp& m, const data_set& d) {
  int right = 0;
  float h[32], p[10];
  for (int i = 0; i < d.n; ++i) {
    forward(m, &d.X[static_cast<std::size_t>(i) * 64], h, p);
    right += static_cast<int>(std::max_element(p, p + 10) - p) == d.y[static_cast<std::size_t>(i)];
  }
  return static_cast<double>(right) / d.n;
}

mlp train(const data_set& d) {
  mlp m;
  ladle::philox rng(ladle::seed{2024}, 0);
  for (float& w : m.w1) w = static_cast<float>(ladle::normal(rng) * std::sqrt(2.0 / 64));
  for (float& w : m.w2) w = static_cast<float>(ladle::normal(rng) * std::sqrt(1.0 / 32));
  const float lr = 0.5f;
  std::vector<float> g1(m.w1.size()), gb1(32), g2(m.w2.size()), gb2(10);
  float h[32], p[10], dh[32];
  for (int epoch = 0; epoch < 150; ++epoch) {
    std::fill(g1.begin(), g1.end(), 0.0f);
    std::fill(gb1.begin(), gb1.end(), 0.0f);
    std::fill(g2.begin(), g2.end(), 0.0f);
    std::fill(gb2.begin(), gb2.end(), 0.0f);
    for (int i = 0; i < d.n; ++i) {
      const float* x = &d.X[static_cast<std::size_t>(i) * 64];
      forward(m, x, h, p);
      p[d.y[static_cast<std::size_t>(i)]] -= 1.0f;  // d loss / d logits
      std::fill(dh, dh + 32, 0.0f);
      for (int c = 0; c < 10; ++c) {
        gb2[c] += p[c];
        for (int j = 0; j < 32; ++j) {
          g2[c * 32 + j] += p[c] * h[j];
          dh[j] += p[c] * m.w2[c * 32 + j];
        }
      }
      for (int j = 0; j < 32; ++j) {
        if (h[j] <= 0.0f) continue;
        gb1[j] += dh[j];
        for (int k = 0; k < 64; ++k) g1[j * 64 + k] += dh[j] * x[k];
      }
    }
    const float step = lr / d.n;
    for (std::size_t k = 0; k < m.w1.size(); ++k) m.w1[k] -= step * g1[k];
    for (std::size_t k = 0; k < m.b1.size(); ++k) m.b1[k] -= step * gb1[k];
    for (std::size_t k = 0; k < m.w2.size(); ++k) m.w2[k] -= step * g2[k];
    for (std::size_t k = 0; k < m.b2.size(); ++k) m.b2[k] -= step * gb2[k];
  }
  return m;
}

mlp load(const std::string& path) {
  const auto f = ladle::safetensors_file::open(path);
  mlp m;
  auto get = [&](const char* name, std::vector<float>& out) {
    const auto v = f.flat_view<float>(name);  // refuses a dtype other than F32
    if (static_cast<std::size_t>(v.size()) != out.size())
      throw std::runtime_error(path + ": tensor " + name + " has the wrong size");
    std::copy(v.data(), v.data() + v.size(), out.begin());
  };
  get("fc1.weight", m.w1);
  get("fc1.bias", m.b1);
  get("fc2.weight", m.w2);
  get("fc2.bias", m.b2);
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const data_set d = load_digits();
    if (d.n != 1797) {
      std::fprintf(stderr, "digits.csv: expected 1797 rows, read %d\n", d.n);
      return 1;
    }
    if (argc == 3 && std::string(argv[1]) == "--evaluate") {
      std::printf("%s: accuracy %.4f on the 1797 digits\n", argv[2], accuracy(load(argv[2]), d));
      return 0;
    }
    const std::string out = argc > 1 ? argv[1] : "digits_mlp.safetensors";
    const mlp m = train(d);
    const double acc = accuracy(m, d);
    ladle::save_safetensors(out,
                            {{"fc1.weight", ladle::safetensors_dtype::f32, {32, 64}, m.w1.data()},
                             {"fc1.bias", ladle::safetensors_dtype::f32, {32}, m.b1.data()},
                             {"fc2.weight", ladle::safetensors_dtype::f32, {10, 32}, m.w2.data()},
                             {"fc2.bias", ladle::safetensors_dtype::f32, {10}, m.b2.data()}},
                            {{"model", "digits MLP 64-32-10"}, {"training_accuracy", std::to_string(acc)}});
    std::printf("trained a 64-32-10 MLP on digits: accuracy %.4f, saved %s\n", acc, out.c_str());
    return acc >= 0.95 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
