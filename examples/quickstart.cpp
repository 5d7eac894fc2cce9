// quickstart: ladle in one page. Views over your own memory, seeded counter-based random numbers
// that do not depend on the thread count, bf16 conversion, then a taste of two families:
// SMOTE over-sampling and per-channel int8 quantization.
#include <ladle/ladle.hpp>

#include <algorithm>
#include <cmath>
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

  // 5. Resampling: SMOTE lifts a 4:16 minority class to 16:16; each synthetic row records the
  //    base row, the neighbour and the gap it was made from.
  std::vector<float> feats;
  std::vector<std::int32_t> labels;
  ladle::philox data_rng(ladle::seed{3});
  for (int i = 0; i < 20; ++i) {
    const bool minority = i < 4;
    feats.push_back(float(ladle::normal(data_rng)) + (minority ? 3.f : 0.f));
    feats.push_back(float(ladle::normal(data_rng)));
    labels.push_back(minority ? 1 : 0);
  }
  auto X = ladle::make_view(static_cast<const float*>(feats.data()), {20, 2});
  auto y = ladle::make_view(static_cast<const std::int32_t*>(labels.data()), 20);
  ladle::smote_options sm;
  sm.k = 3;
  auto res = ladle::smote(ladle::par, X, y, sm, ladle::seed{42});
  int ones = 0;
  for (ladle::index_t i = 0; i < res.rows(); ++i) ones += res.y[i] == 1;
  std::printf("smote: %td rows (%td synthetic), class 1 now has %d; row 20 = base %td + %.3f * "
              "(neighbour %td - base)\n",
              res.rows(), res.synthetic(), ones, res.base[0], double(res.gap[0]), res.neighbor[0]);

  // 6. Quantization: symmetric int8, one scale per row; the error stays within half a step.
  std::vector<float> weights(4 * 64);
  for (std::size_t i = 0; i < weights.size(); ++i)
    weights[i] = float(ladle::normal(data_rng)) * (i < 64 ? 0.01f : 1.0f);  // row 0 is 100x smaller
  auto W = ladle::make_view(static_cast<const float*>(weights.data()), {4, 64});
  const auto qp = ladle::choose_qparams(ladle::quant_spec::symmetric(8).per_channel(0), W);
  const auto codes = ladle::quantize<std::int8_t>(W, qp);
  const auto back = ladle::dequantize(codes.cview(), qp);
  float worst = 0.f;
  for (ladle::index_t i = 0; i < 4 * 64; ++i)
    worst = std::max(worst, std::abs(back.data()[i] - weights[std::size_t(i)]) /
                                qp.scale[std::size_t(i / 64)]);
  std::printf("int8 per-channel: scales %.5f .. %.5f, worst error %.3f steps\n", qp.scale[0],
              qp.scale[1], worst);
  return same && ones == 16 && worst <= 0.5f + 1e-3f ? 0 : 1;  // float rounding of the check itself
}
