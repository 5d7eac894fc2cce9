// Smallest program that proves ladle's headers and its dependencies (xsimd, Eigen) resolve:
// a Philox draw, a softmax, and a bfloat16 round trip (SIMD conversion path).
#include <ladle/ladle.hpp>

#include <cmath>
#include <cstdio>

int main() {
  float logits[8], probs[8], back[8];
  ladle::bfloat16 packed[8];
  ladle::philox gen(ladle::seed{7});
  for (float& x : logits) x = ladle::uniform_float(gen);
  ladle::softmax(ladle::make_view(logits, 8), ladle::make_view(probs, 8));
  ladle::convert_n(probs, packed, 8);
  ladle::convert_n(packed, back, 8);
  float total = 0;
  for (float p : back) total += p;
  std::printf("ladle %s: bfloat16 softmax sums to %.3f\n", LADLE_VERSION_STRING, total);
  return std::abs(total - 1.0f) < 0.02f ? 0 : 1;
}
