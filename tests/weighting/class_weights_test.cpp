// Class counts and class weights: golden values from scikit-learn (compute_class_weight /
// compute_sample_weight, repetition-equivalent integer sample weights, sklearn >= 1.6's weighted
// formula), effective-number limits and a 60-digit mpmath reference, normalisations, clipping,
// empty classes, the mergeable counter, policy determinism and every error path.
#include <ladle/weighting.hpp>
#include <ladle/core/random.hpp>

#include "weighting/fixtures/sklearn_class_weight.hpp"

#include <doctest/doctest.h>

#include "error_of.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <map>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;

namespace {


template <class T>
void check_close(const std::vector<T>& got, const std::vector<double>& want, double rel) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i)
    CHECK(std::abs(double(got[i]) - want[i]) <= rel * std::abs(want[i]));
}

std::vector<long long> formula_labels(long long n) {
  std::vector<long long> y(static_cast<std::size_t>(n));
  for (long long i = 0; i < n; ++i) y[std::size_t(i)] = ((i * i * 7 + i * 13) % 97) % 11 - 5;
  return y;
}

}  // namespace

TEST_CASE("balanced class weights equal scikit-learn's compute_class_weight") {
  struct set {
    const std::vector<long long>* y;
    const std::vector<long long>* classes;
    const std::vector<double>* weights;
    const std::vector<double>* per_sample;
  };
  const set sets[] = {
      {&fixtures::doc_y, &fixtures::doc_classes, &fixtures::doc_class_weight,
       &fixtures::doc_sample_weight},
      {&fixtures::skewed_y, &fixtures::skewed_classes, &fixtures::skewed_class_weight,
       &fixtures::skewed_sample_weight},
      {&fixtures::sparse_y, &fixtures::sparse_classes, &fixtures::sparse_class_weight,
       &fixtures::sparse_sample_weight},
      {&fixtures::single_y, &fixtures::single_classes, &fixtures::single_class_weight,
       &fixtures::single_sample_weight},
  };
  for (const auto& s : sets) {
    const auto y = ladle::make_view(s.y->data(), s.y->size());
    const auto t = ladle::class_weights(y);
    CHECK(t.labels == std::vector<std::int64_t>(s.classes->begin(), s.classes->end()));
    check_close(t.weights, *s.weights, 1e-15);
    // Expansion = compute_sample_weight; its mean is 1 (sklearn's "balanced" property).
    const auto per = ladle::sample_weights(ladle::seq, y);
    check_close(per, *s.per_sample, 1e-15);
    double sum = 0;
    for (double v : per) sum += v;
    CHECK(sum == doctest::Approx(double(s.y->size())).epsilon(1e-13));
    // float tables round the same values.
    const auto tf = ladle::class_weights<float>(y);
    for (std::size_t c = 0; c < tf.weights.size(); ++c)
      CHECK(tf.weights[c] == static_cast<float>((*s.weights)[c]));
  }
}

TEST_CASE("labels of every integer type count alike") {
  const std::vector<long long>& y64 = fixtures::skewed_y;
  std::vector<std::int8_t> y8(y64.begin(), y64.end());
  std::vector<std::uint16_t> y16(y64.begin(), y64.end());
  std::vector<int> y32(y64.begin(), y64.end());
  std::vector<unsigned long long> yu(y64.begin(), y64.end());
  const auto want = ladle::class_weights(ladle::make_view(y64.data(), y64.size())).weights;
  CHECK(ladle::class_weights(ladle::make_view(y8.data(), y8.size())).weights == want);
  CHECK(ladle::class_weights(ladle::make_view(y16.data(), y16.size())).weights == want);
  CHECK(ladle::class_weights(ladle::make_view(y32.data(), y32.size())).weights == want);
  CHECK(ladle::class_weights(ladle::make_view(yu.data(), yu.size())).weights == want);
  // Strided labels: every other element of an interleaved buffer.
  std::vector<int> inter(2 * y32.size(), 99);
  for (std::size_t i = 0; i < y32.size(); ++i) inter[2 * i] = y32[i];
  const ladle::vector_view<const int> strided(inter.data(), {index_t(y32.size())}, {2});
  CHECK(ladle::class_weights(strided).weights == want);
}

TEST_CASE("integer sample weights are repetitions (sklearn on repeated labels)") {
  const auto y = ladle::make_view(fixtures::weighted_y.data(), fixtures::weighted_y.size());
  const auto sw = ladle::make_view(fixtures::weighted_sw.data(), fixtures::weighted_sw.size());
  const auto t = ladle::class_weights(y, sw);
  CHECK(t.labels == std::vector<std::int64_t>(fixtures::weighted_classes.begin(),
                                              fixtures::weighted_classes.end()));
  check_close(t.weights, fixtures::weighted_class_weight, 1e-15);
  std::vector<double> per(fixtures::weighted_y.size(), -1);
  ladle::sample_weights_into(ladle::seq, y, sw, t, ladle::make_view(per.data(), per.size()));
  check_close(per, fixtures::weighted_sample_weight, 1e-15);
  // Fractional weights: sum(sw) / (C * weighted count).
  const auto fw = ladle::make_view(fixtures::weighted_fw.data(), fixtures::weighted_fw.size());
  check_close(ladle::class_weights(y, fw).weights, fixtures::weighted_fw_class_weight, 1e-13);
}

TEST_CASE("long labels over several chunks: sklearn values, bit-identical for every policy") {
  const auto y = formula_labels(fixtures::long_n);
  std::vector<int> y32(y.begin(), y.end());
  std::vector<double> w(y.size());
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = double((i * 5 + 3) % 4);
  const auto yv = ladle::make_view(y32.data(), y32.size());
  const auto wv = ladle::make_view(w.data(), w.size());
  const auto t = ladle::class_weights(ladle::seq, yv);
  check_close(t.weights, fixtures::long_class_weight, 1e-15);
  const auto tw = ladle::class_weights(ladle::seq, yv, wv);
  check_close(tw.weights, fixtures::long_weighted_class_weight, 1e-15);
  // Fractional weights change the bits of the sums; those must not depend on threads.
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.1 + double(i % 7) * 0.3;
  ladle::class_counter c1;
  c1.add(ladle::seq, yv, wv);
  for (int threads : {2, 3, 8}) {
    CHECK(ladle::class_weights(ladle::par(threads), yv).weights == t.weights);
    ladle::class_counter cp;
    cp.add(ladle::par(threads), yv, wv);
    CHECK(cp.counts() == c1.counts());
    std::vector<double> a(y.size()), b(y.size());
    ladle::sample_weights_into(ladle::seq, yv, t, ladle::make_view(a.data(), a.size()));
    ladle::sample_weights_into(ladle::par(threads), yv, t, ladle::make_view(b.data(), b.size()));
    CHECK(a == b);
  }
}

TEST_CASE("int32 counts equal a brute-force count for label spans around the SIMD path's 16") {
  // Spans 1..17 take the compare-and-count path up to 16 and the histogram from 17; lengths reach
  // 2048-label blocks, SIMD bodies and scalar tails; the largest crosses a chunk boundary.
  ladle::philox g(ladle::seed{5});
  for (std::int32_t span : {1, 2, 3, 10, 15, 16, 17}) {
    for (std::size_t n : {1u, 15u, 33u, 2049u, 300001u}) {
      std::vector<std::int32_t> y(n);
      for (auto& v : y) v = -1000 + static_cast<std::int32_t>(ladle::uniform_u32(g, std::uint32_t(span)));
      if (n > 40) y[n - 1] = -1000 + span - 1;  // the top label in a tail
      std::map<std::int32_t, double> want;
      for (auto v : y) want[v] += 1;
      ladle::class_counter c;
      c.add(ladle::seq, ladle::make_view(y.data(), y.size()));
      std::vector<double> got_counts = c.counts(), want_counts;
      for (const auto& kv : want) want_counts.push_back(kv.second);
      CHECK(got_counts == want_counts);
      ladle::class_counter cp;
      cp.add(ladle::par(3), ladle::make_view(y.data(), y.size()));
      CHECK(cp.counts() == want_counts);
    }
  }
}

TEST_CASE("int32 block counting: new extremes, wide blocks, sorted runs and too-wide spans") {
  // The one-pass int32 count works in 2048-label blocks over a histogram that grows as labels
  // outside the first block's span appear. Each layout below is checked against a plain tally,
  // with seq and par (chunks of 2^18), so a stale base, a missed re-base or a dropped tail fails.
  const auto check = [](const std::vector<std::int32_t>& y, const char* what) {
    std::map<std::int32_t, double> want;
    for (auto v : y) want[v] += 1;
    std::vector<double> want_counts;
    for (const auto& kv : want) want_counts.push_back(kv.second);
    for (int threads : {1, 3}) {
      ladle::class_counter c;
      if (threads == 1) c.add(ladle::seq, ladle::make_view(y.data(), y.size()));
      else c.add(ladle::par(threads), ladle::make_view(y.data(), y.size()));
      INFO(what << ", threads " << threads);
      CHECK(c.counts() == want_counts);
      REQUIRE(c.labels().size() == want.size());
      std::size_t k = 0;
      for (const auto& kv : want) CHECK(c.labels()[k++] == kv.first);
    }
  };
  ladle::philox g(ladle::seed{8});
  const std::size_t n = 3 * 2048 + 1000;  // three whole blocks and a partial one with a tail
  std::vector<std::int32_t> y(n);
  // Later blocks reach below and above the first block's span, still narrow each.
  for (std::size_t i = 0; i < n; ++i)
    y[i] = static_cast<std::int32_t>(i / 2048) * 7 - 9 + static_cast<std::int32_t>(ladle::uniform_u32(g, 10));
  y[2048 + 5] = -40;  // a lower label in the second block
  check(y, "narrow blocks, moving span");
  // A middle block spanning more than 16 labels is counted by scalar increments.
  for (std::size_t i = 2048; i < 4096; ++i) y[i] = static_cast<std::int32_t>(ladle::uniform_u32(g, 300)) - 150;
  check(y, "one wide block");
  // Sorted labels: one label per block, 40 labels in all.
  std::vector<std::int32_t> sorted(40 * 3000);
  for (std::size_t i = 0; i < sorted.size(); ++i) sorted[i] = static_cast<std::int32_t>(i / 3000);
  check(sorted, "sorted runs");
  // A narrow first block, then a label far away: too wide for a dense histogram, so the chunk
  // falls back to the sorting path.
  std::vector<std::int32_t> far(5000, 3);
  far[4321] = 2000000000;
  far[4999] = -2000000000;
  check(far, "far labels after a narrow block");
  // Labels at the top of int32: a block packed against the previous block's minimum must not
  // accept a label that only wraps into [guess, guess + 15] (INT32_MIN + 2 against a guess near
  // INT32_MAX); the far label then sends the chunk to the sorting path.
  std::vector<std::int32_t> top(4 * 2048);
  for (auto& v : top)
    v = std::numeric_limits<std::int32_t>::max() - static_cast<std::int32_t>(ladle::uniform_u32(g, 10));
  top[3 * 2048 + 77] = std::numeric_limits<std::int32_t>::min() + 2;
  check(top, "labels near INT32_MAX, then one that wraps");
  // A first block wider than 16 labels takes the interleaved histograms from the start.
  std::vector<std::int32_t> wide(5000);
  for (auto& v : wide) v = static_cast<std::int32_t>(ladle::uniform_u32(g, 100));
  check(wide, "wide first block");
}

TEST_CASE("class_counter merges shards and streams into the same counts") {
  const auto y = formula_labels(300007);
  const auto yv = ladle::make_view(y.data(), y.size());
  ladle::class_counter whole;
  whole.add(yv);
  ladle::class_counter a, b, stream;
  a.add(yv.slice(0, 100000));
  b.add(yv.slice(100000, 300007));
  a.merge(b);
  CHECK(a.labels() == whole.labels());
  CHECK(a.counts() == whole.counts());
  for (index_t s = 0; s < 300007; s += 777) stream.add(yv.slice(s, std::min<index_t>(s + 777, 300007)));
  CHECK(stream.counts() == whole.counts());
  CHECK(whole.total() == 300007.0);
  // Sparse labels (range >> length) take the sorting path; counts agree with a plain tally.
  std::vector<long long> sparse = {5000000000LL, -3, 5000000000LL, 7, -3, -3, 1LL << 50};
  ladle::class_counter s;
  s.add(ladle::make_view(sparse.data(), sparse.size()));
  CHECK(s.labels() == std::vector<std::int64_t>{-3, 7, 5000000000LL, 1LL << 50});
  CHECK(s.counts() == std::vector<double>{3, 1, 2, 1});
  CHECK(s.count_of(7) == 1.0);
  CHECK(s.count_of(8) == 0.0);
  ladle::class_counter self = s;
  self.merge(self);
  CHECK(self.counts() == std::vector<double>{6, 2, 4, 2});
}

TEST_CASE("schemes, normalisations and clipping") {
  const std::vector<double> n = {100, 10, 1, 0};
  const auto nv = ladle::make_view(n.data(), n.size());
  using S = ladle::class_weight_scheme;
  using N = ladle::weight_normalization;
  ladle::class_weight_options o;
  o.normalization = N::none;
  o.scheme = S::inverse;
  CHECK(ladle::class_weights_from_counts(nv, o) == std::vector<double>{0.01, 0.1, 1, 0});
  o.scheme = S::inverse_sqrt;
  CHECK(ladle::class_weights_from_counts(nv, o) == std::vector<double>{0.1, 1 / std::sqrt(10.0), 1, 0});
  o.scheme = S::power;
  o.power = 0.25;
  const auto pw = ladle::class_weights_from_counts(nv, o);
  CHECK(pw[0] == doctest::Approx(1 / std::sqrt(10.0)).epsilon(1e-15));
  o.scheme = S::balanced;  // C = 3 present classes, N = 111
  CHECK(ladle::class_weights_from_counts(nv, o) ==
        std::vector<double>{111 / 300.0, 111 / 30.0, 111 / 3.0, 0});
  o.scheme = S::uniform;
  // Built element by element: GCC 12.2 at -O3 (and at -O2 in a unity unit with
  // loss_reweighting_test.cpp) builds the literal {1, 1, 1, 0} as four ones, a vectoriser bug on
  // the test's side (the library's result is right).
  std::vector<double> ones_then_zero(3, 1.0);
  ones_then_zero.push_back(0.0);
  CHECK(ladle::class_weights_from_counts(nv, o) == ones_then_zero);
  o.scheme = S::inverse;
  o.normalization = N::sum_to_one;
  auto w = ladle::class_weights_from_counts(nv, o);
  CHECK(w[0] + w[1] + w[2] == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(w[0] == doctest::Approx(0.01 / 1.11).epsilon(1e-15));
  o.normalization = N::sum_to_classes;
  w = ladle::class_weights_from_counts(nv, o);
  CHECK(w[0] + w[1] + w[2] == doctest::Approx(3.0).epsilon(1e-15));
  o.normalization = N::mean_one_over_samples;
  w = ladle::class_weights_from_counts(nv, o);
  CHECK(100 * w[0] + 10 * w[1] + w[2] == doctest::Approx(111.0).epsilon(1e-15));
  CHECK(w[0] == doctest::Approx(111.0 / 300).epsilon(1e-15));  // inverse + mean-one = balanced
  o.clip_min = 0.5;
  o.clip_max = 2.0;
  w = ladle::class_weights_from_counts(nv, o);
  CHECK(w == std::vector<double>{0.5, 2.0, 2.0, 0.0});  // clipped, empty class stays 0
  // Integer counts and float outputs.
  const std::vector<int> ni = {6, 2};
  std::vector<float> wf(2);
  ladle::class_weights_from_counts_into(ladle::make_view(ni.data(), ni.size()),
                                        ladle::make_view(wf.data(), wf.size()));
  CHECK(wf == std::vector<float>{8.0f / 12, 8.0f / 4});
}

TEST_CASE("effective number: limits and a 60-digit reference") {
  for (const auto& r : fixtures::effective_number) {
    const double got = ladle::inverse_effective_number(r.n, r.beta);
    CHECK(std::abs(got - r.inverse_effective) <= 4e-16 * r.inverse_effective);
  }
  // beta = 0: uniform (every class 1); beta -> 1: inverse frequency.
  const std::vector<double> n = {1e9, 1000, 3};
  const auto nv = ladle::make_view(n.data(), n.size());
  ladle::class_weight_options o;
  o.scheme = ladle::class_weight_scheme::effective_number;
  o.normalization = ladle::weight_normalization::none;
  o.beta = 0;
  CHECK(ladle::class_weights_from_counts(nv, o) == std::vector<double>{1, 1, 1});
  o.beta = 1 - 0x1p-52;
  const auto w = ladle::class_weights_from_counts(nv, o);
  for (std::size_t c = 0; c < n.size(); ++c)
    CHECK(w[c] * n[c] == doctest::Approx(1.0).epsilon(1e-6));
  // automatic normalisation = Cui et al.'s sum to C.
  o.normalization = ladle::weight_normalization::automatic;
  o.beta = 0.999;
  const auto a = ladle::class_weights_from_counts(nv, o);
  CHECK(a[0] + a[1] + a[2] == doctest::Approx(3.0).epsilon(1e-15));
  CHECK(a[2] / a[1] == doctest::Approx((1 - std::pow(0.999, 1000)) / (1 - std::pow(0.999, 3))));
}

TEST_CASE("class weight errors name the function and argument and write nothing") {
  std::vector<int> y = {0, 1, 1};
  std::vector<double> sw = {1, -1, 1};
  const auto yv = ladle::make_view(y.data(), y.size());
  auto msg = error_of<ladle::domain_error>(
      [&] { ladle::class_weights(yv, ladle::make_view(sw.data(), sw.size())); });
  CHECK(msg.find("ladle::class_weights: 'sample_weight' element 1 (-1)") != std::string::npos);
  sw[1] = std::nan("");
  CHECK(error_of<ladle::domain_error>([&] {
          ladle::class_weights(yv, ladle::make_view(sw.data(), sw.size()));
        }).find("element 1") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([&] {
          ladle::class_weights(yv, ladle::make_view(sw.data(), 2));
        }).find("'sample_weight' has length 2 but 3") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::class_weights(yv.slice(0, 0)); })
            .find("ladle::class_weights: 'y' is empty") != std::string::npos);
  ladle::class_weight_options o;
  o.scheme = ladle::class_weight_scheme::effective_number;
  for (double beta : {1.0, -0.1, std::nan("")})
    CHECK(error_of<ladle::domain_error>([&] {
            o.beta = beta;
            ladle::class_weights(yv, o);
          }).find("'beta' must be in [0, 1)") != std::string::npos);
  o = {};
  o.clip_min = 2;
  o.clip_max = 1;
  CHECK(error_of<ladle::domain_error>([&] { ladle::class_weights(yv, o); }).find("clip_min") !=
        std::string::npos);
  // Counts: negative, all zero, empty class refused on request; out untouched.
  std::vector<double> counts = {3, -1}, out = {7, 7};
  CHECK(error_of<ladle::domain_error>([&] {
          ladle::class_weights_from_counts_into(ladle::make_view(counts.data(), 2),
                                                ladle::make_view(out.data(), 2));
        }).find("'counts' element 1 (-1)") != std::string::npos);
  counts = {0, 0};
  CHECK(error_of<ladle::domain_error>([&] {
          ladle::class_weights_from_counts_into(ladle::make_view(counts.data(), 2),
                                                ladle::make_view(out.data(), 2));
        }).find("every class count is zero") != std::string::npos);
  counts = {4, 0};
  o = {};
  o.empty = ladle::empty_class::error;
  CHECK(error_of<ladle::domain_error>([&] {
          ladle::class_weights_from_counts_into(ladle::make_view(counts.data(), 2),
                                                ladle::make_view(out.data(), 2), o);
        }).find("class 1 is empty") != std::string::npos);
  CHECK(out == std::vector<double>{7, 7});
  CHECK(error_of<ladle::invalid_argument>([&] {
          ladle::class_weights_from_counts_into(ladle::make_view(counts.data(), 2),
                                                ladle::make_view(counts.data(), 2));
        }).find("'out' overlaps") != std::string::npos);
  // Expansion: unknown label, wrong length, overlap; out untouched.
  const auto t = ladle::class_weights(yv);
  std::vector<int> y2 = {0, 1, 5, 1};
  std::vector<double> per(4, -3);
  CHECK(error_of<ladle::invalid_argument>([&] {
          ladle::sample_weights_into(ladle::par(2), ladle::make_view(y2.data(), 4), t,
                                     ladle::make_view(per.data(), 4));
        }).find("'y' element 2 has label 5") != std::string::npos);
  CHECK(per == std::vector<double>(4, -3));
  CHECK(error_of<ladle::invalid_argument>([&] {
          ladle::sample_weights_into(ladle::seq, yv, t, ladle::make_view(per.data(), 2));
        }).find("'out' has length 2 but 3") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([&] { t.at(9); }).find("9 is not in the table") !=
        std::string::npos);
  std::vector<unsigned long long> huge = {1, ~0ULL};
  CHECK(error_of<ladle::invalid_argument>([&] {
          ladle::class_weights(ladle::make_view(huge.data(), 2));
        }).find("does not fit int64") != std::string::npos);
  CHECK(error_of<ladle::domain_error>([] {
          ladle::class_counter c;
          c.add_count(3, -2);
        }).find("class_counter::add_count: 'count'") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([] { ladle::class_weights(ladle::class_counter{}); })
            .find("holds no classes") != std::string::npos);
  CHECK(y == std::vector<int>{0, 1, 1});
}

}  // namespace LADLE_TEST_FILE
}  // namespace
