// first_program: the program docs/getting-started.md walks through. It draws one class label per
// row of a logits matrix from softmax(row / temperature), on several threads, with ladle's seeded
// counter-based generator, and checks that the labels do not depend on the thread count.
#include <ladle/ladle.hpp>

#include <cstdint>
#include <cstdio>
#include <vector>

// One label per row of `logits` (rows x classes), drawn from softmax(row / temperature).
template <class Policy>
std::vector<int> sample_labels(const Policy& policy, ladle::matrix_view<const float> logits,
                               float temperature, ladle::seed seed) {
  const ladle::index_t rows = logits.extent(0), classes = logits.extent(1);
  std::vector<int> labels(static_cast<std::size_t>(rows));
  ladle::parallel_for(policy, rows, /*grain=*/256, [&](ladle::index_t begin, ladle::index_t end) {
    std::vector<float> probs(static_cast<std::size_t>(classes));
    auto p = ladle::make_view(probs.data(), classes);
    for (ladle::index_t i = begin; i < end; ++i) {
      ladle::softmax(logits.row(i), p, temperature);
      // Row i draws from its own stream, so its label is the same whichever thread runs it.
      ladle::philox gen(seed, ladle::derive_stream(/*purpose=*/1, static_cast<std::uint64_t>(i)));
      const float u = ladle::uniform_float(gen);
      float cumulative = 0;
      int label = static_cast<int>(classes) - 1;
      for (ladle::index_t c = 0; c < classes; ++c) {
        cumulative += p(c);
        if (u < cumulative) {
          label = static_cast<int>(c);
          break;
        }
      }
      labels[static_cast<std::size_t>(i)] = label;
    }
  });
  return labels;
}

int main() {
  // Logits for 10000 rows and 4 classes, in a buffer we own; class c gets a bias of c / 2.
  const ladle::index_t rows = 10000, classes = 4;
  std::vector<float> buffer(static_cast<std::size_t>(rows * classes));
  ladle::philox gen(ladle::seed{42});
  for (std::size_t k = 0; k < buffer.size(); ++k)
    buffer[k] = static_cast<float>(ladle::normal(gen)) + 0.5f * static_cast<float>(k % 4);
  ladle::matrix_view<const float> logits = ladle::make_view(buffer.data(), {rows, classes});

  for (float temperature : {0.25f, 1.0f, 4.0f}) {
    const auto labels = sample_labels(ladle::par, logits, temperature, ladle::seed{7});
    int counts[4] = {0, 0, 0, 0};
    for (int label : labels) ++counts[label];
    std::printf("T=%.2f  label counts: %5d %5d %5d %5d\n", temperature, counts[0], counts[1],
                counts[2], counts[3]);
  }

  const bool same = sample_labels(ladle::seq, logits, 1.0f, ladle::seed{7}) ==
                    sample_labels(ladle::par(3), logits, 1.0f, ladle::seed{7});
  std::printf("same labels on 1 and 3 threads: %s\n", same ? "yes" : "no");

  try {
    sample_labels(ladle::seq, logits, 0.0f, ladle::seed{7});
  } catch (const ladle::error& e) {
    std::printf("caught: %s\n", e.what());
  }
  return same ? 0 : 1;
}
