// Consumer of ladle through add_subdirectory: draws logits from a Philox stream, applies a
// temperature softmax, and round-trips the probabilities through bfloat16 (xsimd and Eigen).
// Exits non-zero if anything is off, so ctest sees a failure.
#include <ladle/ladle.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>

int main() {
  constexpr int n = 16;
  float logits[n], probs[n], back[n];
  ladle::bfloat16 packed[n];

  ladle::philox gen(ladle::seed{2026}, ladle::derive_stream(/*purpose=*/1, /*item=*/0));
  for (float& x : logits) x = 4.0f * ladle::uniform_float(gen) - 2.0f;
  ladle::softmax(ladle::make_view(logits, n), ladle::make_view(probs, n), 0.5f);
  ladle::convert_n(probs, packed, n);
  ladle::convert_n(packed, back, n);

  // The same sum on the calling thread and on two threads: bit-identical by design.
  const auto sum = [&](const auto& policy) {
    return ladle::parallel_reduce(
        policy, n, 4, 0.0,
        [&](ladle::index_t b, ladle::index_t e) {
          double s = 0;
          for (ladle::index_t i = b; i < e; ++i) s += probs[i];
          return s;
        },
        [](double a, double b) { return a + b; });
  };
  const double total = sum(ladle::seq);
  bool ok = std::abs(total - 1.0) < 1e-6 && total == sum(ladle::par(2));
  for (int i = 0; i < n; ++i) ok = ok && std::abs(back[i] - probs[i]) <= probs[i] / 256;
  const auto top = ladle::top_k(ladle::make_view(probs, n), 1);

#ifdef CONSUMER_EXPECTED_VERSION
  // The CMake package version (ladleConfigVersion.cmake) must match the installed headers.
  ok = ok && std::strcmp(CONSUMER_EXPECTED_VERSION, LADLE_VERSION_STRING) == 0;
#endif
  std::printf("ladle %s (simd: %s): softmax of %d Philox logits sums to %.6f, top class %td: %s\n",
              LADLE_VERSION_STRING, ladle::simd::arch_name(), n, total, top[0],
              ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
