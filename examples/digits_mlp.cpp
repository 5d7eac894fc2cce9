// examples/digits_mlp.cpp: trains a tiny two-layer perceptron on the digits data and saves it as a
// safetensors checkpoint, or evaluates a checkpoint (for instance one that went through
// `ladle quantize` and `ladle dequantize`).
//
//   example_digits_mlp [OUT.safetensors]        train (seeded, full-batch gradient descent), save
//   example_digits_mlp --evaluate MODEL         print the accuracy of MODEL on the digits data
//
// The model and data are in digits_mlp.hpp (64 -> 32 ReLU -> 10, float32). Without arguments it
// trains (150 epochs of full-batch gradient descent from seed 2024), saves digits_mlp.safetensors
// in the current folder and checks the training accuracy itself (exit 1 below 95%), so the test
// suite runs it as a test.
#include "digits_mlp.hpp"

#include <ladle/io/safetensors.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

digits::mlp load(const std::string& path) {
  const auto f = ladle::safetensors_file::open(path);
  digits::mlp m;
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
    const digits::data_set d = digits::load();
    const auto rows = digits::all_rows(d);
    if (argc == 3 && std::string(argv[1]) == "--evaluate") {
      std::printf("%s: accuracy %.4f on the 1797 digits\n", argv[2],
                  digits::accuracy(load(argv[2]), d, rows));
      return 0;
    }
    const std::string out = argc > 1 ? argv[1] : "digits_mlp.safetensors";
    digits::mlp m = digits::initialise(2024);
    digits::train_full_batch(m, d, rows, 150, 0.5f);
    const double acc = digits::accuracy(m, d, rows);
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
