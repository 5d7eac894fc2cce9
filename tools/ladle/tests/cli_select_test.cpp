// End-to-end tests of `ladle select`: the written indices are checked against properties computed
// here without ladle (distinct, in range, K of them; class counts; the zero-weight rows; a naive
// O(n^2) k-center greedy; a naive facility-location greedy; a sort of the scores), and bad input fails cleanly.
#include "cli_support.hpp"
#include "../../../tests/selection/fixtures/dsir_fixtures.hpp"

#include <ladle/io/npy.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using namespace ladle_cli_test;

namespace {

/// The indices of an output file: a 1-d int64 .npy, or a CSV with one `index` column.
std::vector<std::int64_t> read_indices(const std::string& path) {
  std::vector<std::int64_t> v;
  if (path.size() > 4 && path.substr(path.size() - 4) == ".csv") {
    const std::string text = slurp(path);
    REQUIRE(text.compare(0, 6, "index\n") == 0);
    std::size_t pos = 6;
    while (pos < text.size()) {
      const std::size_t end = text.find('\n', pos);
      REQUIRE(end != std::string::npos);
      v.push_back(std::stoll(text.substr(pos, end - pos)));
      pos = end + 1;
    }
    return v;
  }
  ladle::npy_file f(path);
  REQUIRE(f.header().dtype == ladle::npy_dtype::int64);
  REQUIRE(f.header().shape.size() == 1);
  v.resize(static_cast<std::size_t>(f.header().shape[0]));
  f.copy_to(v.data(), f.header().shape[0]);
  return v;
}

/// Distinct, in [0, n), exactly k.
void check_subset(const std::vector<std::int64_t>& idx, std::int64_t n, std::size_t k) {
  CHECK(idx.size() == k);
  CHECK(std::set<std::int64_t>(idx.begin(), idx.end()).size() == idx.size());
  for (std::int64_t i : idx) {
    CHECK(i >= 0);
    CHECK(i < n);
  }
}

/// The last column of the breast-cancer CSV, parsed line by line here.
std::vector<std::string> csv_last_column(const std::string& path) {
  std::vector<std::string> out;
  const std::string text = slurp(path);
  std::size_t pos = text.find('\n') + 1;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(line.substr(line.rfind(',') + 1));
    pos = end + 1;
  }
  return out;
}

/// Deterministic pseudo-random doubles in [0, 1) (an LCG, independent of ladle's Philox).
std::vector<double> lcg_values(std::size_t count, std::uint64_t state) {
  std::vector<double> v(count);
  for (double& x : v) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    x = static_cast<double>(state >> 11) * 0x1p-53;
  }
  return v;
}

void save(const std::string& path, const std::vector<double>& v, std::vector<ladle::index_t> shape) {
  ladle::save_npy(path, ladle::npy_dtype::float64, shape, v.data(), true);
}

double number_after(const std::string& s, const std::string& key) {
  const auto p = s.find(key);
  REQUIRE(p != std::string::npos);
  return std::strtod(s.c_str() + p + key.size(), nullptr);
}

std::string q(const std::string& p) { return "'" + p + "'"; }

/// Squared Euclidean distance of rows a and b of a row-major n x d matrix, in plain double.
double squared_distance(const std::vector<double>& X, int d, int a, int b) {
  double s = 0;
  for (int j = 0; j < d; ++j) {
    const double e = X[std::size_t(a) * d + j] - X[std::size_t(b) * d + j];
    s += e * e;
  }
  return s;
}

}  // namespace

TEST_CASE("cli select random: K distinct ascending rows; seeds; fractions round half to even; CSV output") {
  const std::int64_t n = static_cast<std::int64_t>(csv_last_column(breast).size());
  REQUIRE(n == 402);
  const std::string before = slurp(breast);
  auto r = cli("select " + q(breast) + " -o " + q(at("rand_a.npy")) + " --method random --size 40 --seed 7");
  REQUIRE(r.rc == 0);
  CHECK(contains(r.out, "select: "));
  CHECK(contains(r.out, "n=402"));
  CHECK(contains(r.out, "k=40"));
  CHECK(contains(r.out, "(random, seed 7"));
  const auto a = read_indices(at("rand_a.npy"));
  check_subset(a, n, 40);
  CHECK(std::is_sorted(a.begin(), a.end()));

  // Same seed: the same bytes (at another thread count too); another seed: another subset.
  REQUIRE(cli("select " + q(breast) + " -o " + q(at("rand_b.npy")) + " --method random --size 40 --seed 7 --threads 1 -q").rc == 0);
  CHECK(slurp(at("rand_a.npy")) == slurp(at("rand_b.npy")));
  REQUIRE(cli("select " + q(breast) + " -o " + q(at("rand_c.npy")) + " --method random --size 40 --seed 8 -q").rc == 0);
  CHECK(read_indices(at("rand_c.npy")) != a);

  // CSV output: the same indices under an `index` header.
  REQUIRE(cli("select " + q(breast) + " -o " + q(at("rand_a.csv")) + " --method random --size 40 --seed 7 -q").rc == 0);
  CHECK(read_indices(at("rand_a.csv")) == a);

  // Fractions: 0.1 * 402 = 40.2 -> 40; 0.25 * 402 = 100.5 -> 100 (ties to even, Python's round).
  REQUIRE(cli("select " + q(breast) + " -o " + q(at("frac_a.npy")) + " --method random --size 0.1 --seed 7 -q").rc == 0);
  CHECK(read_indices(at("frac_a.npy")) == a);
  REQUIRE(cli("select " + q(breast) + " -o " + q(at("frac_b.npy")) + " --method random --size 0.25 -q").rc == 0);
  check_subset(read_indices(at("frac_b.npy")), n, 100);
  // 0.75 * 402 = 301.5 -> 302 (ties to even upwards this time).
  REQUIRE(cli("select " + q(breast) + " -o " + q(at("frac_c.npy")) + " --method random --size 0.75 -q").rc == 0);
  check_subset(read_indices(at("frac_c.npy")), n, 302);
  // The whole set, and a single row.
  REQUIRE(cli("select " + q(breast) + " -o " + q(at("all.npy")) + " --method random --size 402 -q").rc == 0);
  std::vector<std::int64_t> every(402);
  std::iota(every.begin(), every.end(), 0);
  CHECK(read_indices(at("all.npy")) == every);
  REQUIRE(cli("select " + q(breast) + " -o " + q(at("one.npy")) + " --method random --size 1 -q").rc == 0);
  check_subset(read_indices(at("one.npy")), n, 1);
  CHECK(slurp(breast) == before);
}

TEST_CASE("cli select stratified: class counts within one of proportional (CSV and .npy + labels)") {
  const auto labels = csv_last_column(breast);
  std::map<std::string, double> counts;
  for (const auto& l : labels) ++counts[l];
  const double n = static_cast<double>(labels.size());
  for (int k : {1, 10, 37, 100, 401}) {
    CAPTURE(k);
    const std::string out = at("strat_" + std::to_string(k) + ".npy");
    auto r = cli("select " + q(breast) + " -o " + q(out) + " --method stratified --size " + std::to_string(k) +
                 " --seed 3 -q");
    REQUIRE(r.rc == 0);
    const auto idx = read_indices(out);
    check_subset(idx, static_cast<std::int64_t>(n), static_cast<std::size_t>(k));
    CHECK(std::is_sorted(idx.begin(), idx.end()));
    std::map<std::string, double> got;
    for (auto i : idx) ++got[labels[static_cast<std::size_t>(i)]];
    for (const auto& kv : counts) {
      CAPTURE(kv.first);
      CHECK(std::abs(got[kv.first] - k * kv.second / n) < 1.0);
    }
  }
  // Named label column: the breast CSV's label is `malignant` (the default, the last column).
  REQUIRE(cli("select " + q(breast) + " -o " + q(at("strat_named.npy")) +
              " --method stratified --size 37 --seed 3 --label malignant -q").rc == 0);
  CHECK(slurp(at("strat_named.npy")) == slurp(at("strat_37.npy")));

  // .npy features with three classes of 50, 30 and 20 rows (interleaved), K = 33:
  // quotas 16.5, 9.9, 6.6 -> each within one.
  std::vector<double> X = lcg_values(100 * 2, 5);
  std::vector<std::int64_t> y(100);
  for (int i = 0; i < 100; ++i) y[std::size_t(i)] = i % 10 < 5 ? 0 : i % 10 < 8 ? 1 : 2;
  save(at("feat3.npy"), X, {100, 2});
  ladle::save_npy(at("feat3_y.npy"), ladle::npy_dtype::int64, {100}, y.data(), true);
  REQUIRE(cli("select " + q(at("feat3.npy")) + " --labels " + q(at("feat3_y.npy")) + " -o " +
              q(at("strat3.npy")) + " --method stratified --size 33 --seed 1 -q").rc == 0);
  const auto idx = read_indices(at("strat3.npy"));
  check_subset(idx, 100, 33);
  double c[3] = {0, 0, 0};
  for (auto i : idx) ++c[y[std::size_t(i)]];
  CHECK(std::abs(c[0] - 16.5) < 1.0);
  CHECK(std::abs(c[1] - 9.9) < 1.0);
  CHECK(std::abs(c[2] - 6.6) < 1.0);
  CHECK(c[0] + c[1] + c[2] == 33);
}

TEST_CASE("cli select weighted: zero weights never chosen; CSV column or .npy weights") {
  // Weights: 0 on even rows, 1 + (i % 7) on odd rows; 201 positive weights.
  const int n = 402;
  std::string csv = "other,w\n";
  std::vector<double> w(n);
  for (int i = 0; i < n; ++i) {
    w[std::size_t(i)] = i % 2 == 0 ? 0.0 : 1.0 + i % 7;
    csv += "9," + std::to_string(w[std::size_t(i)]) + "\n";
  }
  spit(at("w.csv"), csv);
  save(at("w.npy"), w, {n});
  for (int k : {1, 50, 201}) {
    CAPTURE(k);
    const std::string out = at("weighted_" + std::to_string(k) + ".npy");
    auto r = cli("select " + q(breast) + " -o " + q(out) + " --method weighted --weights " + q(at("w.csv")) +
                 " --weights-column w --size " + std::to_string(k) + " --seed 11 -q");
    REQUIRE(r.rc == 0);
    const auto idx = read_indices(out);
    check_subset(idx, n, static_cast<std::size_t>(k));
    CHECK(std::is_sorted(idx.begin(), idx.end()));
    for (auto i : idx) CHECK(i % 2 == 1);
    // The same weights from .npy: the same bytes.
    REQUIRE(cli("select " + q(breast) + " -o " + q(at("weighted_npy.npy")) + " --method weighted --weights " +
                q(at("w.npy")) + " --size " + std::to_string(k) + " --seed 11 -q --force").rc == 0);
    CHECK(slurp(at("weighted_npy.npy")) == slurp(out));
  }
  CHECK(read_indices(at("weighted_201.npy")).size() == 201);  // every odd row
  // 202 > 201 positive weights: refused.
  auto r = cli("select " + q(breast) + " -o " + q(at("weighted_bad.npy")) + " --method weighted --weights " +
               q(at("w.npy")) + " --size 202");
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "only 201 positive weights"));
  CHECK(!exists(at("weighted_bad.npy")));
  // A heavy row: weight 1e6 against 401 ones is almost always among 5 draws (P(miss) < 2e-3
  // per seed; over seeds 0..9 each draw is checked, allowing no misses would be flaky, so count).
  std::vector<double> heavy(n, 1.0);
  heavy[123] = 1e6;
  save(at("heavy.npy"), heavy, {n});
  int hits = 0;
  for (int s = 0; s < 10; ++s) {
    REQUIRE(cli("select " + q(breast) + " -o " + q(at("heavy_out.npy")) + " --method weighted --weights " +
                q(at("heavy.npy")) + " --size 5 --force -q --seed " + std::to_string(s)).rc == 0);
    const auto idx = read_indices(at("heavy_out.npy"));
    hits += std::count(idx.begin(), idx.end(), 123) == 1;
  }
  CHECK(hits >= 9);
}

TEST_CASE("cli select rs2: the rounds of one pass partition the rows") {
  // n = 400, m = 100: epochs 0..3 are disjoint and cover every row; a count and the fraction
  // that gives it select the same round.
  save(at("rs2.npy"), lcg_values(400 * 3, 9), {400, 3});
  std::set<std::int64_t> seen;
  for (int e = 0; e < 4; ++e) {
    CAPTURE(e);
    const std::string out = at("rs2_" + std::to_string(e) + ".npy");
    auto r = cli("select " + q(at("rs2.npy")) + " -o " + q(out) + " --method rs2 --size 100 --seed 4 --epoch " +
                 std::to_string(e));
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "epoch " + std::to_string(e) + " of a pass of 4"));
    const auto idx = read_indices(out);
    check_subset(idx, 400, 100);
    CHECK(std::is_sorted(idx.begin(), idx.end()));
    for (auto i : idx) CHECK(seen.insert(i).second);
  }
  CHECK(seen.size() == 400);
  REQUIRE(cli("select " + q(at("rs2.npy")) + " -o " + q(at("rs2_frac.npy")) +
              " --method rs2 --size 0.25 --seed 4 --epoch 2 -q").rc == 0);
  CHECK(slurp(at("rs2_frac.npy")) == slurp(at("rs2_2.npy")));
  // m = 150 does not divide 400: still no repeats within a round straddling two passes.
  for (int e = 2; e < 4; ++e) {
    REQUIRE(cli("select " + q(at("rs2.npy")) + " -o " + q(at("rs2_150.npy")) +
                " --method rs2 --size 150 --seed 4 --force -q --epoch " + std::to_string(e)).rc == 0);
    check_subset(read_indices(at("rs2_150.npy")), 400, 150);
  }
}

TEST_CASE("cli select rs2 --balanced: per-class round sizes and per-class passes") {
  // Classes of 300, 90 and 10 rows (labels 7, 3, 5, interleaved), --size 100: f = 1/4, so a round
  // takes round(75) = 75, round(22.5) = 22 (ties to even) and round(2.5) = 2 rows of them, and a
  // pass lasts max(4, ceil(90 / 22), 5) = 5 rounds.
  const int n = 400;
  std::vector<std::int64_t> y(n);
  for (int i = 0; i < n; ++i) y[std::size_t(i)] = i % 40 == 0 ? 5 : i % 40 < 10 ? 3 : 7;
  save(at("rs2b.npy"), lcg_values(std::size_t(n) * 2, 13), {n, 2});
  ladle::save_npy(at("rs2b_y.npy"), ladle::npy_dtype::int64, {n}, y.data(), true);
  std::map<std::int64_t, std::set<std::int64_t>> seen;
  for (int e = 0; e < 5; ++e) {
    CAPTURE(e);
    const std::string out = at("rs2b_" + std::to_string(e) + ".npy");
    auto r = cli("select " + q(at("rs2b.npy")) + " --labels " + q(at("rs2b_y.npy")) + " -o " + q(out) +
                 " --method rs2 --balanced --size 100 --seed 8 --epoch " + std::to_string(e));
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "class-balanced, epoch " + std::to_string(e) + " of a pass of 5"));
    const auto idx = read_indices(out);
    check_subset(idx, n, 99);
    CHECK(std::is_sorted(idx.begin(), idx.end()));
    std::map<std::int64_t, int> count;
    for (auto i : idx) {
      const std::int64_t c = y[std::size_t(i)];
      ++count[c];
      // Within a pass no row of a class comes back: 75 divides 300 (4 rounds), 22 x 4 = 88 rows
      // of class 3 before its pass ends, 2 x 5 = 10 rows of class 5.
      if (c == 5 || e < 4) CHECK(seen[c].insert(i).second);
    }
    CHECK(count[7] == 75);
    CHECK(count[3] == 22);
    CHECK(count[5] == 2);
  }
  CHECK(seen[7].size() == 300);
  CHECK(seen[3].size() == 88);
  CHECK(seen[5].size() == 10);
  // The flag is refused elsewhere and needs labels for .npy input.
  auto r = cli("select " + q(at("rs2b.npy")) + " -o " + q(at("rs2b_x.npy")) + " --method rs2 --balanced --size 10");
  CHECK(r.rc == 2);
  CHECK(contains(r.err, "--method rs2 --balanced needs labels"));
  r = cli("select " + q(at("rs2b.npy")) + " -o " + q(at("rs2b_x.npy")) + " --method random --balanced --size 10");
  CHECK(r.rc == 2);
  CHECK(contains(r.err, "--balanced is for --method rs2"));
}

TEST_CASE("cli select k-center: selection order and covering radius of a naive O(n^2) greedy") {
  // 150 rows of 11 features (an 8-wide body and a 3-wide tail in the library's distance).
  const int n = 150, d = 11;
  const std::vector<double> X = lcg_values(std::size_t(n) * d, 21);
  save(at("kc.npy"), X, {n, d});
  auto dist2 = [&](int a, int b) { return squared_distance(X, d, a, b); };
  std::set<std::int64_t> firsts;
  for (int seed : {1, 2, 3}) {
    for (int k : {1, 12}) {
      CAPTURE(seed);
      CAPTURE(k);
      const std::string out = at("kc_" + std::to_string(seed) + "_" + std::to_string(k) + ".npy");
      auto r = cli("select " + q(at("kc.npy")) + " -o " + q(out) + " --method k-center --size " +
                   std::to_string(k) + " --seed " + std::to_string(seed));
      REQUIRE(r.rc == 0);
      const auto idx = read_indices(out);
      check_subset(idx, n, std::size_t(k));
      firsts.insert(idx[0]);
      // Naive greedy from the same first centre: the farthest row from its nearest centre,
      // ties to the smaller index, recomputing every distance from scratch.
      std::vector<int> centres = {int(idx[0])};
      auto radius_and_argmax = [&](int& arg) {
        double best = -1;
        for (int i = 0; i < n; ++i) {
          double m = INFINITY;
          for (int c : centres) m = std::min(m, dist2(i, c));
          if (m > best) best = m, arg = i;
        }
        return std::sqrt(best);
      };
      int arg = -1;
      for (int t = 1; t < k; ++t) {
        radius_and_argmax(arg);
        centres.push_back(arg);
      }
      CHECK(std::vector<std::int64_t>(centres.begin(), centres.end()) == idx);  // selection order
      const double radius = radius_and_argmax(arg);
      CHECK(number_after(r.out, "covering radius ") == doctest::Approx(radius).epsilon(1e-12));
    }
  }
  CHECK(firsts.size() > 1);  // the first centre depends on the seed
  // Same seed, one thread or all: the same bytes.
  REQUIRE(cli("select " + q(at("kc.npy")) + " -o " + q(at("kc_t1.npy")) +
              " --method k-center --size 12 --seed 2 --threads 1 -q").rc == 0);
  CHECK(slurp(at("kc_t1.npy")) == slurp(at("kc_2_12.npy")));
  // On a CSV: the label column is not a feature (the first 10 columns only).
  auto r = cli("select " + q(breast) + " -o " + q(at("kc_csv.csv")) + " --method k-center --size 5 --seed 1");
  REQUIRE(r.rc == 0);
  check_subset(read_indices(at("kc_csv.csv")), 402, 5);
}

TEST_CASE("cli select facility-location: the picks and objective of a naive greedy") {
  // 90 rows of 5 features; similarity M - D^2 with M the largest pairwise squared distance.
  const int n = 90, d = 5;
  const std::vector<double> X = lcg_values(std::size_t(n) * d, 77);
  save(at("fl.npy"), X, {n, d});
  auto dist2 = [&](int a, int b) { return squared_distance(X, d, a, b); };
  double M = 0;
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b) M = std::max(M, dist2(a, b));
  for (int k : {1, 9}) {
    CAPTURE(k);
    const std::string out = at("fl_" + std::to_string(k) + ".csv");
    auto r = cli("select " + q(at("fl.npy")) + " -o " + q(out) + " --method facility-location --size " +
                 std::to_string(k));
    REQUIRE(r.rc == 0);
    const auto idx = read_indices(out);
    check_subset(idx, n, std::size_t(k));
    // Naive greedy: each step the row c maximising f(S + c) = sum_i max(best_i, M - D2(i, c)),
    // ties to the smaller index, every value recomputed from scratch.
    std::vector<double> best(n, -INFINITY);
    std::vector<std::int64_t> picks;
    double objective = 0;
    for (int t = 0; t < k; ++t) {
      int arg = -1;
      double top = -INFINITY;
      for (int c = 0; c < n; ++c) {
        if (std::find(picks.begin(), picks.end(), c) != picks.end()) continue;
        double f = 0;
        for (int i = 0; i < n; ++i) f += std::max(best[std::size_t(i)], M - dist2(i, c));
        if (f > top) top = f, arg = c;
      }
      picks.push_back(arg);
      for (int i = 0; i < n; ++i) best[std::size_t(i)] = std::max(best[std::size_t(i)], M - dist2(i, arg));
      objective = top;
    }
    CHECK(picks == idx);  // selection order
    CHECK(number_after(r.out, "objective ") == doctest::Approx(objective).epsilon(1e-9));
  }
}

TEST_CASE("cli select el2n: exactly the K largest scores, ties to the smaller index") {
  // Scores for 150 rows: distinct values, plus a block of equal scores straddling the cut.
  const int n = 150;
  std::vector<double> s(n);
  for (int i = 0; i < n; ++i) s[std::size_t(i)] = ((i * 37) % n) / double(n);
  for (int i : {3, 40, 77, 120}) s[std::size_t(i)] = 0.9;  // 0.9 = 135/150 also occurs once
  save(at("scores.npy"), s, {n});
  save(at("el2n_feat.npy"), lcg_values(std::size_t(n) * 2, 3), {n, 2});
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return s[std::size_t(a)] > s[std::size_t(b)]; });
  for (int k : {1, 15, 17, 149}) {
    CAPTURE(k);
    auto r = cli("select " + q(at("el2n_feat.npy")) + " -o " + q(at("el2n.npy")) + " --method el2n --scores " +
                 q(at("scores.npy")) + " --force -q --size " + std::to_string(k));
    REQUIRE(r.rc == 0);
    std::vector<std::int64_t> expect(order.begin(), order.begin() + k);
    std::sort(expect.begin(), expect.end());
    CHECK(read_indices(at("el2n.npy")) == expect);
  }
}

TEST_CASE("cli select: bad input exits 2 (command line) or 1 (files), names the option, writes nothing") {
  const std::string before = slurp(breast);
  const std::string out = at("bad.npy");
  spit(at("w_short.csv"), "w\n1\n2\n3\n4\n5\n");
  std::vector<double> neg(402, 1.0);
  neg[17] = -0.5;
  save(at("w_neg.npy"), neg, {402});
  std::vector<double> nan_scores(402, 0.5);
  nan_scores[4] = std::nan("");
  save(at("s_nan.npy"), nan_scores, {402});
  save(at("feat_only.npy"), lcg_values(20, 1), {10, 2});
  struct bad {
    std::string args;
    int rc;
    std::string message;
  };
  const std::string in = q(breast) + " -o " + q(out) + " ";
  const bad cases[] = {
      {in + "--method nearest --size 5", 2, "--method: unknown method 'nearest'"},
      {in + "--method random --size 0", 2, "--size: 0 rows is not a count >= 1"},
      {in + "--method random --size -3", 2, "--size: -3"},
      {in + "--method random --size 403", 2, "--size: 403 is larger than the 402 rows"},
      {in + "--method random --size 1.5", 2, "--size: fraction 1.5 is not in (0, 1)"},
      {in + "--method random --size 1.0", 2, "--size: fraction 1.0 is not in (0, 1)"},
      {in + "--method random --size 0.001", 2, "--size: fraction 0.001 of 402 rows rounds to 0"},
      {in + "--method random --size ten", 2, "--size: 'ten' is not"},
      {in + "--method random", 2, "--size is required"},
      {in + "--method stratified --size 5 --label diagnosis", 2, "no column 'diagnosis'"},
      {in + "--method dsir --size 5", 2, "--method dsir needs --target"},
      {in + "--method random --size 5 --top-k", 2, "are for --method dsir"},
      {in + "--method weighted --size 5", 2, "--method weighted needs --weights"},
      {in + "--method random --size 5 --weights " + q(at("w_neg.npy")), 2, "--weights is for --method weighted"},
      {in + "--method el2n --size 5", 2, "--method el2n needs --scores"},
      {in + "--method random --size 5 --epoch 3", 2, "--epoch is for --method rs2"},
      {q(breast) + " -o " + q(at("bad.txt")) + " --method random --size 5", 2, "must end in .npy"},
      {q(at("feat_only.npy")) + " -o " + q(out) + " --method stratified --size 5", 2, "give --labels Y.npy"},
      {in + "--method weighted --size 5 --weights " + q(at("w_short.csv")), 1,
       "has 5 values but the input has 402 rows"},
      {in + "--method weighted --size 5 --weights " + q(at("w_neg.npy")), 1, "weight 17 is negative (-0.5)"},
      {in + "--method weighted --size 5 --weights " + q(at("w_short.csv")) + " --weights-column v", 2,
       "--weights-column: '"},
      {in + "--method el2n --size 5 --scores " + q(at("missing.npy")), 1, "missing.npy"},
      {in + "--method el2n --size 5 --scores " + q(at("s_nan.npy")), 1, "value 4 is not finite"},
      {in + "--method el2n --size 5 --scores " + q(at("w_neg.npy")) + " --epoch 1", 2, "--epoch is for"},
      {q(at("missing.csv")) + " -o " + q(out) + " --method random --size 5", 1, "missing.csv"},
  };
  for (const bad& b : cases) {
    CAPTURE(b.args);
    const auto r = cli("select " + b.args);
    CHECK(r.rc == b.rc);
    CHECK(contains(r.err, b.message));
    CHECK(!exists(out));
  }
  // An existing output is refused without --force, and kept.
  spit(out, "keep");
  auto r = cli("select " + in + "--method random --size 5");
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "already exists"));
  CHECK(slurp(out) == "keep");
  CHECK(slurp(breast) == before);
  // No temporary files left behind.
  for (const auto& name : listing()) CHECK(name.find(".tmp") == std::string::npos);
}

TEST_CASE("ladle select --method dsir: the reference's top-k, Gumbel top-k by seed, text and JSON Lines") {
  // The raw and target documents of the library's DSIR fixture, whose top-k indices (length >= 20,
  // k = 25) come from an independent Python implementation (tests/selection/fixtures).
  std::string raw_txt, raw_jsonl, target_txt;
  for (const char* d : dsirfx::raw) raw_txt += std::string(d) + "\n";
  for (const char* d : dsirfx::raw_jsonl) raw_jsonl += std::string(d) + "\n";
  for (const char* d : dsirfx::target) target_txt += std::string(d) + "\n";
  spit(at("dsir_raw.txt"), raw_txt);
  spit(at("dsir_raw.jsonl"), raw_jsonl);
  spit(at("dsir_target.txt"), target_txt);
  const std::string common = " --method dsir --target " + q(at("dsir_target.txt")) + " --size 25 --min-length 20 ";
  std::string expected_lines;
  for (long i : dsirfx::topk) expected_lines += std::string(dsirfx::raw[std::size_t(i)]) + "\n";

  auto r = cli("select " + q(at("dsir_raw.txt")) + " -o " + q(at("dsir_top.txt")) + common + "--top-k");
  REQUIRE(r.rc == 0);
  CHECK(contains(r.out, "k=25 (dsir"));
  CHECK(slurp(at("dsir_top.txt")) == expected_lines);
  r = cli("select " + q(at("dsir_raw.jsonl")) + " -o " + q(at("dsir_top.npy")) + common +
          "--top-k --field text --log-weights " + q(at("dsir_w.npy")));
  REQUIRE(r.rc == 0);
  CHECK(read_indices(at("dsir_top.npy")) == std::vector<std::int64_t>(dsirfx::topk.begin(), dsirfx::topk.end()));
  {
    ladle::npy_file f(at("dsir_w.npy"));
    REQUIRE(f.header().shape[0] == static_cast<std::int64_t>(dsirfx::log_weights.size()));
    std::vector<double> w(dsirfx::log_weights.size());
    f.copy_to(w.data(), f.header().shape[0]);
    for (std::size_t i = 0; i < w.size(); ++i) CHECK(w[i] == doctest::Approx(dsirfx::log_weights[i]).epsilon(1e-9));
  }
  // Gumbel top-k: the same lines at 1 and 3 threads, another seed another set.
  r = cli("select " + q(at("dsir_raw.txt")) + " -o " + q(at("dsir_g1.csv")) + common + "--seed 7 --threads 1");
  REQUIRE(r.rc == 0);
  r = cli("select " + q(at("dsir_raw.jsonl")) + " -o " + q(at("dsir_g3.csv")) + common + "--seed 7 --threads 3");
  REQUIRE(r.rc == 0);
  const auto g1 = read_indices(at("dsir_g1.csv"));
  CHECK(g1 == read_indices(at("dsir_g3.csv")));
  check_subset(g1, static_cast<std::int64_t>(dsirfx::raw.size()), 25);
  CHECK(std::is_sorted(g1.begin(), g1.end()));
  for (auto i : g1) CHECK(dsirfx::lengths[std::size_t(i)] >= 20);
  // Errors: more than pass the filter (exit 1), a malformed JSON line (its number), a missing target.
  spit(at("dsir_bad.jsonl"), "{\"text\": \"ok\"}\n{\"text\": \"no end}\n");
  const struct {
    std::string args;
    int rc;
    std::string message;
  } cases[] = {
      {q(at("dsir_raw.txt")) + " -o " + q(at("x.txt")) + " --method dsir --target " + q(at("dsir_target.txt")) +
           " --size 300 --min-length 20", 1, "--size 300 but only"},
      {q(at("dsir_bad.jsonl")) + " -o " + q(at("x.txt")) + " --method dsir --target " + q(at("dsir_target.txt")) +
           " --size 1 --min-length 0", 1, "line 2"},
      {q(at("dsir_raw.txt")) + " -o " + q(at("x.txt")) + " --method dsir --target " + q(at("nope.txt")) + " --size 1", 1,
       "nope.txt"},
      {q(at("dsir_raw.txt")) + " -o " + q(at("x.txt")) + " --method dsir --target " + q(at("dsir_target.txt")) +
           " --size 1 --buckets 0", 2, "--buckets"},
  };
  for (const auto& b : cases) {
    CAPTURE(b.args);
    const auto e = cli("select " + b.args);
    CHECK(e.rc == b.rc);
    CHECK(contains(e.err, b.message));
    CHECK(!exists(at("x.txt")));
  }
}

}  // namespace LADLE_TEST_FILE
}  // namespace
