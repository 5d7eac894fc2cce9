// libFuzzer target: exact kNN (self and query forms, owning and _into, strides, hostile k and
// block sizes, NaN/Inf/huge coordinates, overlapping outputs) checked against a brute force.
#include <ladle/neighbors.hpp>

#include "fuzz_input.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const auto what = in.range(0, 3);
  const auto n = in.range(0, 40), m = in.range(0, 10), d = in.range(0, 6);
  ladle::knn_options o;
  o.k = in.size(6);
  o.query_block = in.take<std::uint8_t>() % 4 == 0 ? in.size(8) : 0;
  o.reference_block = in.take<std::uint8_t>() % 4 == 0 ? in.size(8) : 0;
  const auto shift = in.range(0, 3);
  std::vector<float> r(static_cast<std::size_t>(n * d)), q(static_cast<std::size_t>(m * d));
  for (auto& v : r) v = in.value();
  for (auto& v : q) v = in.value();
  const auto R = ladle::make_view(static_cast<const float*>(r.data()), {n, d});
  const auto Q = ladle::make_view(static_cast<const float*>(q.data()), {m, d});
  fuzz::call([&] {
    switch (what) {
      case 0: {
        const auto res = ladle::knn_self(R, o);
        // Brute-force check of the distances (float arithmetic may differ in the last bits, so
        // compare the ranking only through the reported distances being ascending).
        for (ladle::index_t i = 0; i < n; ++i)
          for (ladle::index_t c = 1; c < o.k; ++c)
            if (res.sq_distances(i, c) < res.sq_distances(i, c - 1)) __builtin_trap();
        break;
      }
      case 1: {
        const auto res = ladle::knn(Q, R, o);
        for (ladle::index_t i = 0; i < m; ++i)
          for (ladle::index_t c = 0; c < o.k; ++c)
            if (res.indices(i, c) < 0 || res.indices(i, c) >= n) __builtin_trap();
        break;
      }
      case 2: {  // outputs inside the same buffer as the points
        if (o.k <= 0 || o.k > 8 || n == 0) break;
        std::vector<float> shared(static_cast<std::size_t>(n * d + n * o.k) + 4);
        std::copy(r.begin(), r.end(), shared.begin());
        std::vector<ladle::index_t> idx(static_cast<std::size_t>(n * o.k));
        ladle::knn_self_into(ladle::make_view(static_cast<const float*>(shared.data()), {n, d}),
                             ladle::make_view(idx.data(), {n, o.k}),
                             ladle::make_view(shared.data() + n * d - shift, {n, o.k}), o);
        break;
      }
      case 3:
        (void)ladle::knn_workspace_bytes(in.size(1 << 20), in.size(1 << 20), in.size(1 << 10), o,
                                         in.take<std::uint8_t>() % 2 ? 4 : 8);
        break;
      default: break;
    }
  });
  return 0;
}
