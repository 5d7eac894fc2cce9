// quickstart: ladle's core in one page. Views over your own memory, seeded counter-based random
// numbers that do not depend on the thread count, parallel policies, and bf16 conversion.
#include <ladle/ladle.hpp>

#include <cstdio>
#include <vector>

int main() {
  std::printf("ladle %s (SIMD: %s)\n", LADLE_VERSION_STRING, ladle::simd::arch_name());

  // 1. A view over memory you own: 4 logits per row, 3 rows.
  std::vector<float> logits = {2.0f, 1.0f, 0.1f, -1.0f,   //
                               0.5f, 0.5f, 0.5f, 0.5f,    //
                               9.0f, 0.0f, 0.0f, 0.0f};
  auto x = ladle::make_view(logits.data(), {3, 4});
  std::vector<float> probs(4);
  for (int t : {1, 4}) {
    ladle::softmax(x.row(0), ladle::make_view(probs.data(), 4), float(t));
    std::printf("softmax(row 0 / T=%d) = %.3f %.3f %.3f %.3f\n", t, probs[0], probs[1], probs[2],
                probs[3]);
  }

  // 2. Random numbers keyed by (seed, stream, position): each item owns its stream, so the
  //    result is the same for ladle::seq and ladle::par.
  auto noise = [](auto policy) {
    std::vector<double> out(1000);
    ladle::parallel_for(policy, 1000, 100, [&](ladle::index_t b, ladle::index_t e) {
      for (ladle::index_t i = b; i < e; ++i) {
        ladle::philox g(ladle::seed{7}, ladle::derive_stream(/*purpose=*/1, std::uint64_t(i)));
        out[std::size_t(i)] = ladle::normal(g);
      }
    });
    return out;
  };
  const bool same = noise(ladle::seq) == noise(ladle::par);
  std::printf("normal draws identical for seq and par: %s\n", same ? "yes" : "no");

  // 3. bfloat16 storage, float math: vectorised round-to-nearest-even conversion.
  std::vector<ladle::bfloat16> stored(logits.size());
  ladle::convert_n(logits.data(), stored.data(), ladle::index_t(logits.size()));
  std::printf("0.1f as bfloat16 reads back as %.6f\n", ladle::to_float(stored[2]));

  // 4. Errors name the function, the argument and the value.
  try {
    ladle::softmax(x.row(0), ladle::make_view(probs.data(), 3));
  } catch (const ladle::error& e) {
    std::printf("error: %s\n", e.what());
  }
  return same ? 0 : 1;
}
