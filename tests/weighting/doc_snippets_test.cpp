// The code shown in README.md and docs/weighting.md, verbatim, so the snippets build and run.
#include <ladle/weighting.hpp>

#include <doctest/doctest.h>

#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

TEST_CASE("README snippet") {
  std::vector<int> labels = {0, 0, 0, 1, 2, 2};
  auto y = ladle::make_view(labels.data(), labels.size());
  std::vector<double> group_sizes = {1000, 10};
  auto sizes = ladle::make_view(group_sizes.data(), group_sizes.size());
  std::vector<float> loss_values = {0.5f, 2.0f, 1.0f}, weight_values(3);
  auto losses = ladle::make_view(loss_values.data(), loss_values.size());
  auto weights = ladle::make_view(weight_values.data(), weight_values.size());

  ladle::class_counter counts;
  counts.add(ladle::par, y);                          // shards combine with counts.merge(other)
  auto w = ladle::class_weights(counts);              // n / (C n_c); or effective_number, power, ...
  auto p = ladle::temperature_probabilities(sizes, /*tau=*/3.0);
  ladle::loss_based_weights_into(ladle::par, losses, weights);   // LinUpper, delta 1, r 1

  CHECK(w.weights == std::vector<double>{6.0 / 9, 2.0, 1.0});
  CHECK(p[0] / p[1] == doctest::Approx(std::cbrt(100.0)));
  CHECK(weight_values[1] > weight_values[0]);
}

TEST_CASE("docs/weighting.md snippet") {
  std::vector<int> labels = {3, 3, 3, 3, 7, 7, 9};
  auto y = ladle::make_view(labels.data(), labels.size());

  ladle::class_counter counts;                                // mergeable across shards
  counts.add(ladle::par, y);
  auto balanced = ladle::class_weights(counts);               // n / (C n_c), as scikit-learn

  ladle::class_weight_options eo;
  eo.scheme = ladle::class_weight_scheme::effective_number;   // Cui et al., beta = 0.999
  auto effective = ladle::class_weights(counts, eo);

  std::vector<float> per_sample(y.size());                    // one weight per sample
  ladle::sample_weights_into(ladle::par, y, balanced, ladle::make_view(per_sample.data(), per_sample.size()));

  CHECK(per_sample[6] == doctest::Approx(7.0 / 3));
  CHECK(effective.weights[0] + effective.weights[1] + effective.weights[2] == doctest::Approx(3.0));
}

}  // namespace LADLE_TEST_FILE
}  // namespace
