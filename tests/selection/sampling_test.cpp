// Sampling primitives: every law is checked by a chi-square test against probabilities
// enumerated over all subsets (or draw orders) in tests/selection/helpers.hpp.
#include "helpers.hpp"

#include <limits>
#include <set>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;
using ladle::seed;

namespace {

template <class F>
std::map<std::vector<index_t>, long> tally(long trials, F&& draw) {
  std::map<std::vector<index_t>, long> counts;
  for (long t = 0; t < trials; ++t) ++counts[draw(static_cast<std::uint64_t>(t))];
  return counts;
}

bool strictly_ascending(const std::vector<index_t>& v) {
  for (std::size_t i = 1; i < v.size(); ++i)
    if (v[i - 1] >= v[i]) return false;
  return true;
}

}  // namespace

TEST_CASE("uniform_subset: every k-subset equally likely, ascending, both membership sets") {
  SUBCASE("bit set path (n small against k)") {
    const long trials = 20000;
    const auto counts = tally(trials, [](std::uint64_t t) {
      auto v = ladle::uniform_subset(6, 3, seed{t});
      REQUIRE(strictly_ascending(v));
      return v;
    });
    const auto r = st::chi_square(st::uniform_subsets(6, 3), counts, trials);
    CHECK(r.df == 19);
    CHECK(r.ok());
  }
  SUBCASE("hash set path (n > 128 k): inclusion of each index uniform") {
    const index_t n = 300, k = 2;
    const long trials = 30000;
    std::map<index_t, long> hits;
    std::map<index_t, double> expect;
    for (index_t i = 0; i < n; ++i) expect[i] = 1.0 / n;
    for (long t = 0; t < trials; ++t) {
      auto v = ladle::uniform_subset(n, k, seed{std::uint64_t(t)});
      REQUIRE(v.size() == 2);
      REQUIRE(v[0] < v[1]);
      REQUIRE(v[1] < n);
      for (auto i : v) ++hits[i];
    }
    // Each draw contributes k hits: compare the pooled counts (k * trials of them).
    const auto r = st::chi_square(expect, hits, trials * k);
    CHECK(r.ok());
  }
  SUBCASE("k = n and k = 0") {
    const auto all = ladle::uniform_subset(1000, 1000, seed{3});
    for (index_t i = 0; i < 1000; ++i) CHECK(all[std::size_t(i)] == i);
    CHECK(ladle::uniform_subset(10, 0, seed{3}).empty());
  }
  SUBCASE("_into equals the owning form; strided output") {
    const auto ref = ladle::uniform_subset(100000, 700, seed{9});
    std::vector<index_t> buf(1400, -7);
    ladle::uniform_subset_into(ladle::make_view(buf.data(), {index_t(700)}, {index_t(2)}), 100000,
                               seed{9});
    for (std::size_t i = 0; i < 700; ++i) {
      CHECK(buf[2 * i] == ref[i]);
      CHECK(buf[2 * i + 1] == -7);
    }
  }
  SUBCASE("errors") {
    CHECK_THROWS_WITH_AS(ladle::uniform_subset(5, 6, seed{1}),
                         doctest::Contains("ladle::uniform_subset: 'k' is 6 but only 5"),
                         ladle::invalid_argument);
    CHECK_THROWS_AS(ladle::uniform_subset(5, -1, seed{1}), ladle::error);
    CHECK_THROWS_AS(ladle::uniform_subset(-5, 0, seed{1}), ladle::error);
    // An absurd k is refused before any allocation.
    CHECK_THROWS_WITH_AS(ladle::uniform_subset(index_t(1) << 61, index_t(1) << 60, seed{1}),
                         doctest::Contains("ladle::uniform_subset: 'k'"), ladle::runtime_error);
  }
}

TEST_CASE("random_permutation_prefix: every ordered k-tuple equally likely") {
  for (index_t n : {5, 40}) {
    CAPTURE(n);
    const index_t k = 3;
    if (n == 5) {  // dense path: all 60 ordered triples
      const long trials = 30000;
      std::map<std::vector<index_t>, long> counts;
      std::map<std::vector<index_t>, double> expect;
      for (index_t a = 0; a < n; ++a)
        for (index_t b = 0; b < n; ++b)
          for (index_t c = 0; c < n; ++c)
            if (a != b && b != c && a != c) expect[{a, b, c}] = 1.0 / 60;
      for (long t = 0; t < trials; ++t)
        ++counts[ladle::random_permutation_prefix(n, k, seed{std::uint64_t(t)})];
      const auto r = st::chi_square(expect, counts, trials);
      CHECK(r.df == 59);
      CHECK(r.ok());
    } else {  // sparse (hash map) path: each position uniform, entries distinct
      const long trials = 20000;
      std::map<index_t, long> pos[3];
      std::map<index_t, double> expect;
      for (index_t i = 0; i < n; ++i) expect[i] = 1.0 / n;
      for (long t = 0; t < trials; ++t) {
        const auto v = ladle::random_permutation_prefix(n, k, seed{std::uint64_t(t)});
        REQUIRE(std::set<index_t>(v.begin(), v.end()).size() == 3);
        for (int j = 0; j < 3; ++j) ++pos[j][v[std::size_t(j)]];
      }
      for (int j = 0; j < 3; ++j) CHECK(st::chi_square(expect, pos[j], trials).ok());
    }
  }
  const auto full = ladle::random_permutation_prefix(1000, 1000, seed{5});
  CHECK(st::sorted_copy(full) == ladle::uniform_subset(1000, 1000, seed{0}));
  // A prefix of a longer prefix is the shorter prefix (same draws).
  const auto a = ladle::random_permutation_prefix(1000000, 50, seed{5});
  const auto b = ladle::random_permutation_prefix(1000000, 20, seed{5});
  CHECK(std::equal(b.begin(), b.end(), a.begin()));
}

TEST_CASE("subset_size rounds half to even and checks the fraction") {
  CHECK(ladle::subset_size(5, 0.5) == 2);    // 2.5 -> 2
  CHECK(ladle::subset_size(7, 0.5) == 4);    // 3.5 -> 4
  CHECK(ladle::subset_size(10, 0.26) == 3);  // 2.6 -> 3
  CHECK(ladle::subset_size(10, 1.0) == 10);
  CHECK(ladle::subset_size(10, 0.01) == 0);
  for (double bad : {0.0, -0.1, 1.5, std::numeric_limits<double>::quiet_NaN()})
    CHECK_THROWS_WITH_AS(ladle::subset_size(10, bad), doctest::Contains("'fraction'"),
                         ladle::invalid_argument);
}

TEST_CASE("stratified_quotas: Hamilton apportionment and water-filling") {
  using Q = std::vector<index_t>;
  CHECK(ladle::stratified_quotas({5, 3, 2}, 5, ladle::stratify::proportional) == Q{3, 1, 1});
  CHECK(ladle::stratified_quotas({10, 2, 5}, 12, ladle::stratify::balanced) == Q{5, 2, 5});
  CHECK(ladle::stratified_quotas({10, 2, 5}, 7, ladle::stratify::balanced) == Q{3, 2, 2});
  CHECK(ladle::stratified_quotas({4, 4}, 8, ladle::stratify::balanced) == Q{4, 4});
  CHECK(ladle::stratified_quotas({0, 3}, 2, ladle::stratify::balanced) == Q{0, 2});
  // total * n_c beyond 2^63 (exact 128-bit arithmetic; values from Python integers).
  CHECK(ladle::stratified_quotas({3000000000, 3000000001}, 5000000000,
                                 ladle::stratify::proportional) == Q{2500000000, 2500000000});
  // Properties that define the two rules, on random class sizes.
  ladle::philox g(seed{77});
  for (int trial = 0; trial < 500; ++trial) {
    const index_t C = 1 + ladle::uniform_index(g, 8);
    Q sizes(static_cast<std::size_t>(C));
    index_t n = 0;
    for (auto& s : sizes) n += (s = ladle::uniform_index(g, 30));
    if (n == 0) continue;
    const index_t total = ladle::uniform_index(g, n + 1);
    const auto p = ladle::stratified_quotas(sizes, total, ladle::stratify::proportional);
    const auto b = ladle::stratified_quotas(sizes, total, ladle::stratify::balanced);
    index_t sp = 0, sb = 0, bmax = 0;
    for (index_t c = 0; c < C; ++c) {
      const auto i = std::size_t(c);
      sp += p[i];
      sb += b[i];
      bmax = std::max(bmax, b[i]);
      // proportional: |q - total n_c / n| < 1, as integers: floor or floor + 1
      const index_t fl = total * sizes[i] / n;
      CHECK((p[i] == fl || p[i] == fl + 1));
      CHECK(b[i] <= sizes[i]);
    }
    CHECK(sp == total);
    CHECK(sb == total);
    for (index_t c = 0; c < C; ++c)
      for (index_t d = 0; d < C; ++d) {
        const auto i = std::size_t(c), j = std::size_t(d);
        // Hamilton: a class rounded up never has a smaller remainder than one rounded down.
        const index_t ri = total * sizes[i] % n, rj = total * sizes[j] % n;
        if (p[i] > total * sizes[i] / n && p[j] == total * sizes[j] / n) CHECK(ri >= rj);
      }
    // max-min fairness: a class not taken whole is within one of the largest quota.
    for (index_t c = 0; c < C; ++c)
      if (b[std::size_t(c)] < sizes[std::size_t(c)]) CHECK(b[std::size_t(c)] >= bmax - 1);
  }
  CHECK_THROWS_AS(ladle::stratified_quotas({3, 3}, 7, ladle::stratify::balanced),
                  ladle::invalid_argument);
}

TEST_CASE("stratified_subset: quotas per class, uniform inside each class") {
  const std::vector<std::int32_t> y = {2, 0, 2, 1, 0, 2, 2, 0, 1, 2};  // sizes 0:3, 1:2, 2:5
  const auto yv = ladle::make_view(y.data(), y.size());
  const auto cs = ladle::census(yv);
  CHECK(cs.labels == std::vector<std::int32_t>{0, 1, 2});
  CHECK(cs.counts == std::vector<index_t>{3, 2, 5});
  // 0.5 * 10 = 5 over {3, 2, 5}: ideal 1.5, 1, 2.5 -> floors 1, 1, 2 -> class 0 (first tie).
  const long trials = 20000;
  std::map<index_t, long> hits;
  for (long t = 0; t < trials; ++t) {
    const auto v = ladle::stratified_subset(yv, 0.5, ladle::stratify::proportional,
                                            seed{std::uint64_t(t)});
    REQUIRE(v.size() == 5);
    REQUIRE(strictly_ascending(v));
    index_t per[3] = {0, 0, 0};
    for (auto i : v) ++per[y[std::size_t(i)]];
    REQUIRE(per[0] == 2);
    REQUIRE(per[1] == 1);
    REQUIRE(per[2] == 2);
    for (auto i : v) ++hits[i];
  }
  // Inclusion probability of each index = quota / class size.
  std::map<index_t, double> expect;
  const double q[3] = {2.0 / 3, 1.0 / 2, 2.0 / 5};
  for (index_t i = 0; i < 10; ++i) expect[i] = q[y[std::size_t(i)]] / 5.0;
  CHECK(st::chi_square(expect, hits, trials * 5).ok());

  const auto bal = ladle::stratified_subset(yv, index_t(6), ladle::stratify::balanced, seed{1});
  index_t per[3] = {0, 0, 0};
  for (auto i : bal) ++per[y[std::size_t(i)]];
  CHECK(per[0] == 2);
  CHECK(per[1] == 2);
  CHECK(per[2] == 2);
  const auto custom = ladle::stratified_subset(yv, std::vector<index_t>{0, 2, 1}, seed{1});
  CHECK(custom.size() == 3);

  const std::vector<std::int64_t> empty;
  CHECK_THROWS_WITH_AS(ladle::stratified_subset(ladle::make_view(empty.data(), 0), 0.5,
                                                ladle::stratify::balanced, seed{1}),
                       doctest::Contains("'labels' is empty"), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::stratified_subset(yv, 1.5, ladle::stratify::balanced, seed{1}),
                  ladle::invalid_argument);
  CHECK_THROWS_WITH_AS(ladle::stratified_subset(yv, std::vector<index_t>{0, 3, 1}, seed{1}),
                       doctest::Contains("asks 3 of class 1"), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::stratified_subset(yv, std::vector<index_t>{0, 1}, seed{1}),
                  ladle::invalid_argument);
}

TEST_CASE_TEMPLATE("weighted_sample: subset law equals successive sampling", W, float, double) {
  struct setup {
    std::vector<double> w;
    index_t k;
  };
  // The second set spans 300 orders of magnitude, which switches the keys to log space.
  for (const auto& s : {setup{{1, 2, 3, 0, 4}, 2}, setup{{1, 2, 3, 0, 4}, 3},
                        setup{{5, 1, 0, 0.5, 2, 1}, 1}, setup{{1, 2, 3, 1e-300, 4}, 2}}) {
    if (std::is_same<W, float>::value && s.w[3] == 1e-300) continue;  // not a float
    CAPTURE(s.k);
    std::vector<W> w(s.w.begin(), s.w.end());
    const auto wv = ladle::make_view(static_cast<const W*>(w.data()), w.size());
    const long trials = 30000;
    std::map<std::vector<index_t>, long> subsets;
    std::map<std::vector<index_t>, long> firsts;
    for (long t = 0; t < trials; ++t) {
      const auto v = ladle::weighted_sample(wv, s.k, seed{std::uint64_t(t)});
      REQUIRE(strictly_ascending(v));
      ++subsets[v];
      const auto d = ladle::weighted_sample(wv, s.k, seed{std::uint64_t(t)},
                                            ladle::sample_order::draw);
      REQUIRE(st::sorted_copy(d) == v);  // same draws, other order
      ++firsts[{d[0]}];
    }
    const auto r = st::chi_square(st::subset_probabilities(s.w, s.k), subsets, trials);
    CHECK(r.ok());
    // The first drawn item follows w / sum(w).
    const auto f = st::chi_square(st::subset_probabilities(s.w, 1), firsts, trials);
    CHECK(f.ok());
  }
}

TEST_CASE("weighted_sample: same bits for every thread count; zero weights never chosen") {
  const index_t n = 300007;
  std::vector<double> w(static_cast<std::size_t>(n));
  ladle::philox g(seed{4});
  for (auto& v : w) v = ladle::uniform_double(g) < 0.2 ? 0.0 : ladle::exponential(g);
  const auto wv = ladle::make_view(static_cast<const double*>(w.data()), w.size());
  const auto a = ladle::weighted_sample(wv, 5000, seed{8}, ladle::sample_order::draw);
  for (int threads : {1, 2, 3, 7}) {
    CAPTURE(threads);
    CHECK(ladle::weighted_sample(ladle::par(threads), wv, 5000, seed{8},
                                 ladle::sample_order::draw) == a);
  }
  for (auto i : a) CHECK(w[std::size_t(i)] > 0);
  // A strided view of the same weights (the screening pass has its own strided loop).
  std::vector<double> spaced(2 * w.size(), -1.0);
  for (std::size_t i = 0; i < w.size(); ++i) spaced[2 * i] = w[i];
  const ladle::tensor_view<const double, 1> sv(spaced.data(), {n}, {2});
  CHECK(ladle::weighted_sample(sv, 5000, seed{8}, ladle::sample_order::draw) == a);
  // Every positive weight must be taken when k equals their number.
  index_t positive = 0;
  for (auto v : w) positive += v > 0;
  const auto all = ladle::weighted_sample(ladle::par(2), wv, positive, seed{8});
  CHECK(static_cast<index_t>(all.size()) == positive);
  for (auto i : all) CHECK(w[std::size_t(i)] > 0);
}

TEST_CASE("weighted_sample: a draw-order prefix is the smaller sample (pilot thresholds)") {
  // n >= 2^19 switches on the pilot threshold, which depends on k: the exact k smallest keys
  // must not. Weights sorted increasingly make the evenly spaced pilot as unrepresentative
  // of the chunks as possible.
  const index_t n = 700001;
  std::vector<double> w(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) w[std::size_t(i)] = i % 5 == 0 ? 0.0 : double(i) * 1e-3;
  const auto wv = ladle::make_view(static_cast<const double*>(w.data()), w.size());
  const auto big = ladle::weighted_sample(wv, n / 8, seed{21}, ladle::sample_order::draw);
  for (index_t k : {index_t(1), index_t(100), index_t(20000), n / 8 - 1}) {
    CAPTURE(k);
    const auto small = ladle::weighted_sample(ladle::par(2), wv, k, seed{21}, ladle::sample_order::draw);
    CHECK(std::equal(small.begin(), small.end(), big.begin()));
  }
  CHECK(ladle::weighted_sample(ladle::par(3), wv, n / 8, seed{21}, ladle::sample_order::draw) == big);
}

TEST_CASE("weighted_sample beyond 2^24 items: a tiny weight at the end stays reachable") {
  const index_t n = (index_t(1) << 24) + 100;
  std::vector<float> w(static_cast<std::size_t>(n), 0.0f);
  w[1] = 1.0f;
  w[std::size_t(n - 1)] = 1.0f;
  w[std::size_t(n - 50)] = 1e-30f;
  const auto wv = ladle::make_view(static_cast<const float*>(w.data()), w.size());
  // k = 3 positive weights: all of them, including the 1e-30 one.
  CHECK(ladle::weighted_sample(wv, 3, seed{1}) == std::vector<index_t>{1, n - 50, n - 1});
  // k = 1 between two equal weights, the second beyond 2^24: about half each (a float
  // cumulative sum cannot even represent index n - 1).
  long last = 0;
  const long trials = 24;  // each scans 2^24 weights
  for (long t = 0; t < trials; ++t) {
    const auto v = ladle::weighted_sample(wv, 1, seed{std::uint64_t(t)});
    REQUIRE((v[0] == 1 || v[0] == n - 1 || v[0] == n - 50));
    last += v[0] == n - 1;
  }
  CHECK(last >= 4);  // binomial(24, 1/2): P(< 4) < 2e-4, and symmetrically
  CHECK(last <= 20);
  CHECK_THROWS_WITH_AS(ladle::weighted_sample(wv, 4, seed{1}),
                       doctest::Contains("'k' is 4 but only 3 of"), ladle::invalid_argument);
}

TEST_CASE("weighted_sample errors leave the output untouched") {
  std::vector<double> w = {1, 2, -1, 3};
  const auto wv = ladle::make_view(static_cast<const double*>(w.data()), w.size());
  std::vector<index_t> out(2, -1);
  CHECK_THROWS_WITH_AS(
      ladle::weighted_sample_into(ladle::seq, ladle::make_view(out.data(), 2), wv, seed{1}),
      doctest::Contains("'weights' has -1 at index 2"), ladle::domain_error);
  CHECK(out == std::vector<index_t>{-1, -1});
  w[2] = 1;
  // out aliasing the weights' bytes is refused
  std::vector<double> both = {1, 2, 3, 4};
  CHECK_THROWS_WITH_AS(
      ladle::weighted_sample_into(ladle::seq,
                                  ladle::make_view(reinterpret_cast<index_t*>(both.data()), 2),
                                  ladle::make_view(static_cast<const double*>(both.data()), 4), seed{1}),
      doctest::Contains("'out' overlaps 'weights'"), ladle::invalid_argument);
  w[2] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(ladle::weighted_sample(wv, 1, seed{1}), ladle::domain_error);
  w[2] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(ladle::weighted_sample(wv, 1, seed{1}), ladle::domain_error);
  w[2] = 0;
  CHECK_THROWS_WITH_AS(ladle::weighted_sample(wv, 5, seed{1}),
                       doctest::Contains("'k' is 5 but only 4"), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::weighted_sample(wv, 4, seed{1}), ladle::invalid_argument);  // 3 positive
  CHECK(w == std::vector<double>{1, 2, 0, 3});
}

TEST_CASE("alias_table: table probabilities and draw frequencies equal w / sum") {
  const std::vector<double> w = {0, 1, 2, 3, 0, 10, 0.5};
  const auto table = ladle::alias_table(ladle::make_view(w.data(), w.size()));
  const double sum = 16.5;
  std::map<std::vector<index_t>, double> expect;
  for (index_t i = 0; i < 7; ++i) {
    CHECK(table.probability(i) == doctest::Approx(w[std::size_t(i)] / sum).epsilon(1e-12));
    expect[{i}] = w[std::size_t(i)] / sum;
  }
  const long draws = 200000;
  const auto v = table.sample(draws, seed{12});
  CHECK(table.sample(ladle::par(3), draws, seed{12}) == v);
  std::map<std::vector<index_t>, long> counts;
  for (auto i : v) ++counts[{i}];
  const auto r = st::chi_square(expect, counts, draws);
  CHECK(r.df == 4);
  CHECK(r.ok());
  const std::vector<double> zeros = {0, 0};
  CHECK_THROWS_WITH_AS(ladle::alias_table(ladle::make_view(zeros.data(), 2)),
                       doctest::Contains("no positive weight"), ladle::invalid_argument);
}

TEST_CASE("weighted_reservoir: the law of weighted_sample, alone and merged across shards") {
  const std::vector<double> w = {1, 2, 3, 0, 4, 0.5};
  const index_t k = 2;
  const auto expect = st::subset_probabilities(w, k);
  const long trials = 30000;
  std::map<std::vector<index_t>, long> single, merged;
  for (long t = 0; t < trials; ++t) {
    ladle::weighted_reservoir<index_t> r(k, seed{std::uint64_t(t)});
    for (index_t i = 0; i < 6; ++i) r.push(i, w[std::size_t(i)]);
    ++single[st::sorted_copy(r.items())];
    ladle::weighted_reservoir<index_t> a(k, seed{std::uint64_t(t)}, 1), b(k, seed{std::uint64_t(t)}, 2);
    for (index_t i : {0, 4, 5}) a.push(i, w[std::size_t(i)]);
    for (index_t i : {1, 2, 3}) b.push(i, w[std::size_t(i)]);
    a.merge(b);
    REQUIRE(a.seen() == 6);
    ++merged[st::sorted_copy(a.items())];
  }
  CHECK(st::chi_square(expect, single, trials).ok());
  CHECK(st::chi_square(expect, merged, trials).ok());
  ladle::weighted_reservoir<int> x(2, seed{1}), y(3, seed{1}, 5), z(2, seed{1});
  CHECK_THROWS_WITH_AS(x.merge(y), doctest::Contains("capacity 3"), ladle::invalid_argument);
  CHECK_THROWS_WITH_AS(x.merge(z), doctest::Contains("same seed and stream"),
                       ladle::invalid_argument);
  CHECK_THROWS_AS(x.push(1, -1.0), ladle::domain_error);
  CHECK_THROWS_AS(x.push(1, std::numeric_limits<double>::quiet_NaN()), ladle::domain_error);
  CHECK(x.seen() == 0);
}

TEST_CASE("reservoir: long streams (exponential jumps) keep every item equally likely") {
  const index_t n = 60, k = 4;
  const long trials = 20000;
  std::map<index_t, long> hits, hits_merged;
  std::map<index_t, double> expect;
  for (index_t i = 0; i < n; ++i) expect[i] = 1.0 / n;
  for (long t = 0; t < trials; ++t) {
    ladle::reservoir<index_t> r(k, seed{std::uint64_t(t)});
    for (index_t i = 0; i < n; ++i) r.push(i);
    REQUIRE(r.size() == k);
    for (auto i : r.items()) ++hits[i];
    // Three shards of unequal length.
    ladle::reservoir<index_t> s0(k, seed{std::uint64_t(t)}, 0), s1(k, seed{std::uint64_t(t)}, 1),
        s2(k, seed{std::uint64_t(t)}, 2);
    for (index_t i = 0; i < n; ++i) (i < 7 ? s0 : i < 40 ? s1 : s2).push(i);
    s1.merge(s2);
    s0.merge(s1);
    REQUIRE(st::sorted_copy(s0.items()).size() == std::size_t(k));
    for (auto i : s0.items()) ++hits_merged[i];
  }
  CHECK(st::chi_square(expect, hits, trials * k).ok());
  CHECK(st::chi_square(expect, hits_merged, trials * k).ok());
  // The subset law itself on a small stream (all 15 pairs of 6).
  std::map<std::vector<index_t>, long> pairs;
  for (long t = 0; t < trials; ++t) {
    ladle::reservoir<index_t> r(2, seed{std::uint64_t(t)});
    for (index_t i = 0; i < 6; ++i) r.push(i);
    ++pairs[st::sorted_copy(r.items())];
  }
  CHECK(st::chi_square(st::uniform_subsets(6, 2), pairs, trials).ok());
}

// The reference draws item i's key the naive way, one scalar Philox block per item: u_i from the
// 64 bits of block i / 2 (half i % 2) of the weighted stream, key E_i / (w_i 2^-e) with
// E_i = -log(u_i) and 2^e just above the largest weight; the sample is the k smallest (key, index).
// The windows of 64 uniforms from vector Philox must give exactly these items in this order,
// also when a thread's part starts inside a window (odd grains) and for a strided view.
template <class W>
std::vector<index_t> naive_weighted(const std::vector<W>& w, index_t k, std::uint64_t s) {
  const ladle::philox g(seed{s}, ladle::detail::stream_weighted);
  double wmax = 0;
  for (W v : w) wmax = std::max(wmax, static_cast<double>(v));
  int e = 0;
  std::frexp(wmax, &e);
  const double scale = std::ldexp(1.0, -e);
  std::vector<std::pair<double, index_t>> keys;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (!(w[i] > 0)) continue;
    const auto blk = g.block_at(i / 2);
    const std::uint64_t bits = blk[2 * (i % 2)] | (std::uint64_t(blk[2 * (i % 2) + 1]) << 32);
    const double u = (static_cast<double>(bits >> 11) + 0.5) / 9007199254740992.0;
    keys.emplace_back(-std::log(u) / (static_cast<double>(w[i]) * scale), static_cast<index_t>(i));
  }
  std::sort(keys.begin(), keys.end());
  std::vector<index_t> out;
  for (index_t j = 0; j < k; ++j) out.push_back(keys[std::size_t(j)].second);
  return out;
}

TEST_CASE_TEMPLATE("weighted_sample: the keys of a naive per-item draw, any split", W, float, double) {
  for (index_t n : {index_t(1), index_t(63), index_t(64), index_t(65), index_t(1000), index_t(70001),
                    index_t(600011)}) {
    std::vector<W> w(static_cast<std::size_t>(n));
    ladle::philox g(seed{static_cast<std::uint64_t>(n)});
    for (auto& v : w) v = ladle::uniform_double(g) < 0.3 ? W(0) : static_cast<W>(ladle::exponential(g) + 1e-3);
    w[0] = W(1);
    index_t positive = 0;
    for (W v : w) positive += v > 0;
    const auto wv = ladle::make_view(static_cast<const W*>(w.data()), w.size());
    std::vector<W> spaced(2 * w.size(), W(7));
    for (std::size_t i = 0; i < w.size(); ++i) spaced[2 * i] = w[i];
    const ladle::tensor_view<const W, 1> sv(spaced.data(), {n}, {2});
    for (index_t k : {index_t(1), positive / 7 + 1, positive}) {
      CAPTURE(n);
      CAPTURE(k);
      const auto expected = naive_weighted(w, k, 5);
      for (int threads : {1, 3}) {
        CAPTURE(threads);
        CHECK(ladle::weighted_sample(ladle::par(threads), wv, k, seed{5}, ladle::sample_order::draw) == expected);
      }
      CHECK(ladle::weighted_sample(sv, k, seed{5}, ladle::sample_order::draw) == expected);
    }
  }
}

TEST_CASE("weighted_sample: bad weights are reported at their first index") {
  for (std::size_t at : {std::size_t(0), std::size_t(5), std::size_t(64), std::size_t(1000)}) {
    for (double bad : {-1.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
      std::vector<double> w(1001, 1.0);
      w[at] = bad;
      if (at + 7 < w.size()) w[at + 7] = -2.0;  // a later bad weight is not the one named
      const auto wv = ladle::make_view(static_cast<const double*>(w.data()), w.size());
      CAPTURE(at);
      const std::string where = "at index " + std::to_string(at) + ";";
      CHECK_THROWS_WITH_AS(ladle::weighted_sample(wv, 3, seed{1}), doctest::Contains(where.c_str()),
                           ladle::domain_error);
    }
  }
}

}  // namespace LADLE_TEST_FILE
}  // namespace
