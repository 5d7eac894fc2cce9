// End-to-end tests of `ladle weights` and `ladle aggregate`: expected values computed here from
// textbook formulas (class counts; means and medians by hand), bad input fails cleanly.
#include "cli_support.hpp"

#include <ladle/core/random.hpp>
#include <ladle/io/npy.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using namespace ladle_cli_test;

namespace {

/// Class counts of the last column of the breast-cancer CSV, counted here line by line.
std::map<std::string, double> csv_last_column_counts(const std::string& path) {
  std::map<std::string, double> counts;
  const std::string text = slurp(path);
  std::size_t pos = text.find('\n') + 1;  // skip the header
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) ++counts[line.substr(line.rfind(',') + 1)];
    pos = end + 1;
  }
  return counts;
}

double number_after(const std::string& s, const std::string& key) {
  const auto p = s.find(key);
  REQUIRE(p != std::string::npos);
  return std::strtod(s.c_str() + p + key.size(), nullptr);
}

}  // namespace

TEST_CASE("cli weights: balanced equals n / (C n_c) (scikit-learn's compute_class_weight)") {
  const auto counts = csv_last_column_counts(breast);
  REQUIRE(counts.size() == 2);
  double n = 0;
  for (const auto& kv : counts) n += kv.second;
  const std::string before = slurp(breast);
  auto r = cli("weights --labels '" + breast + "' --scheme balanced");
  REQUIRE(r.rc == 0);
  CHECK(contains(r.err, "weights: "));
  const auto j = nlohmann::json::parse(r.out);  // stdout is JSON only
  CHECK(j.at("column") == "malignant");
  CHECK(j.at("samples") == n);
  REQUIRE(j.at("classes").size() == 2);
  for (const auto& c : j.at("classes")) {
    const std::string label = c.at("label");
    CAPTURE(label);
    const double nc = counts.at(label);
    CHECK(c.at("count").get<double>() == nc);
    CHECK(c.at("weight").get<double>() == doctest::Approx(n / (2.0 * nc)).epsilon(1e-14));
  }
  CHECK(slurp(breast) == before);

  // inverse and sqrt.
  r = cli("weights --labels '" + breast + "' --scheme inverse -q");
  REQUIRE(r.rc == 0);
  CHECK(r.err.empty());
  for (const auto& c : nlohmann::json::parse(r.out).at("classes"))
    CHECK(c.at("weight").get<double>() == doctest::Approx(1.0 / counts.at(c.at("label"))).epsilon(1e-14));
  r = cli("weights --labels '" + breast + "' --scheme sqrt -q");
  REQUIRE(r.rc == 0);
  for (const auto& c : nlohmann::json::parse(r.out).at("classes"))
    CHECK(c.at("weight").get<double>() == doctest::Approx(1.0 / std::sqrt(counts.at(c.at("label")))).epsilon(1e-14));
}

TEST_CASE("cli weights: effective number (1-b)/(1-b^n) summing to C; temperature; .npy labels") {
  // Labels 0 x 50, 3 x 7, -2 x 1 in an int32 .npy file.
  std::vector<std::int32_t> y;
  for (int i = 0; i < 50; ++i) y.push_back(0);
  for (int i = 0; i < 7; ++i) y.push_back(3);
  y.push_back(-2);
  ladle::save_npy(at("w_labels.npy"), ladle::make_view(static_cast<const std::int32_t*>(y.data()), static_cast<ladle::index_t>(y.size())));
  const std::map<std::string, double> n = {{"-2", 1}, {"0", 50}, {"3", 7}};
  const double beta = 0.9;
  std::map<std::string, double> raw;
  double sum = 0;
  for (const auto& kv : n) sum += raw[kv.first] = (1 - beta) / (1 - std::pow(beta, kv.second));
  auto r = cli("weights --labels '" + at("w_labels.npy") + "' --scheme effective:0.9");
  REQUIRE(r.rc == 0);
  auto j = nlohmann::json::parse(r.out);
  REQUIRE(j.at("classes").size() == 3);
  CHECK(j.at("classes")[0].at("label") == "-2");  // ascending labels
  for (const auto& c : j.at("classes")) {
    const std::string label = c.at("label");
    CAPTURE(label);
    CHECK(c.at("count").get<double>() == n.at(label));
    CHECK(c.at("weight").get<double>() == doctest::Approx(3.0 * raw.at(label) / sum).epsilon(1e-12));
  }
  // temperature:2 -> p ~ q^(1/2), weight p / q.
  r = cli("weights --labels '" + at("w_labels.npy") + "' --scheme temperature:2");
  REQUIRE(r.rc == 0);
  j = nlohmann::json::parse(r.out);
  double z = 0;
  for (const auto& kv : n) z += std::sqrt(kv.second / 58.0);
  for (const auto& c : j.at("classes")) {
    const double q = n.at(c.at("label")) / 58.0;
    CHECK(c.at("probability").get<double>() == doctest::Approx(std::sqrt(q) / z).epsilon(1e-12));
    CHECK(c.at("weight").get<double>() == doctest::Approx(std::sqrt(q) / z / q).epsilon(1e-12));
  }
}

TEST_CASE("cli weights: bad scheme exits 2, bad labels file exits 1") {
  for (const char* bad : {"bogus", "effective:1", "effective:x", "temperature:0", "temperature:-1"}) {
    CAPTURE(bad);
    const auto r = cli("weights --labels '" + breast + "' --scheme " + bad);
    CHECK(r.rc == 2);
    CHECK(contains(r.err, "--scheme"));
    CHECK(r.out.empty());
  }
  auto r = cli("weights --labels '" + at("missing.npy") + "' --scheme balanced");
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "missing.npy"));
  spit(at("w_corrupt.npy"), "\x93NUMPY garbage");
  r = cli("weights --labels '" + at("w_corrupt.npy") + "' --scheme balanced");
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "w_corrupt.npy"));
  std::vector<float> f = {0, 1, 1};
  ladle::save_npy(at("w_float.npy"), ladle::make_view(static_cast<const float*>(f.data()), 3));
  r = cli("weights --labels '" + at("w_float.npy") + "' --scheme balanced");
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "int32 or int64"));
  spit(at("w_bad.csv"), "a,label\n1,0\n2,\n");
  r = cli("weights --labels '" + at("w_bad.csv") + "' --scheme balanced");
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "w_bad.csv:3"));
  CHECK(r.out.empty());
}

namespace {

constexpr ladle::index_t M = 3, N = 80, K = 3;

/// P [3, 80, 3] float64: model m predicts y + bias_m + spread_m * z_k + noise; Y [80].
void make_aggregate_inputs(std::vector<double>& P, std::vector<double>& Y) {
  ladle::philox rng(ladle::seed{7}, 0);
  Y.resize(N);
  for (auto& v : Y) v = 10 + 3 * ladle::normal(rng);
  const double bias[M] = {0.8, -0.5, 0.1}, spread[M] = {1.0, 2.5, 4.0}, z[K] = {-1.645, 0, 1.645};
  P.assign(static_cast<std::size_t>(M * N * K), 0);
  for (ladle::index_t m = 0; m < M; ++m)
    for (ladle::index_t i = 0; i < N; ++i) {
      const double centre = Y[static_cast<std::size_t>(i)] + bias[m] + 1.5 * ladle::normal(rng);
      for (ladle::index_t k = 0; k < K; ++k) P[static_cast<std::size_t>((m * N + i) * K + k)] = centre + spread[m] * z[k];
    }
  ladle::save_npy(at("a_P.npy"), ladle::make_view(static_cast<const double*>(P.data()), {M, N, K}), true);
  ladle::save_npy(at("a_Y.npy"), ladle::make_view(static_cast<const double*>(Y.data()), N), true);
}

std::vector<double> read_npy_doubles(const std::string& path, std::vector<ladle::index_t>& shape) {
  ladle::npy_file f(path);
  shape = f.header().shape;
  std::vector<double> v(static_cast<std::size_t>(f.header().size()));
  f.copy_to(v.data(), f.header().size());
  return v;
}

}  // namespace

TEST_CASE("cli aggregate: mean and median equal a direct computation") {
  std::vector<double> P, Y;
  make_aggregate_inputs(P, Y);
  const std::string common = " --preds '" + at("a_P.npy") + "' --y '" + at("a_Y.npy") + "' --levels 0.05,0.5,0.95";
  auto r = cli("aggregate" + common + " --method mean -o '" + at("a_mean.npy") + "'");
  REQUIRE(r.rc == 0);
  CHECK(contains(r.out, "WIS before"));
  std::vector<ladle::index_t> shape;
  auto got = read_npy_doubles(at("a_mean.npy"), shape);
  REQUIRE(shape == std::vector<ladle::index_t>{N, K});
  double max_err = 0;
  for (ladle::index_t i = 0; i < N * K; ++i) {
    double s = 0;
    for (ladle::index_t m = 0; m < M; ++m) s += P[static_cast<std::size_t>(m * N * K + i)];
    max_err = std::max(max_err, std::fabs(got[static_cast<std::size_t>(i)] - s / 3.0));
  }
  CHECK(max_err < 1e-12);
  // The printed WIS is Bracher et al.'s: (|y - m| / 2 + (alpha / 2) IS_alpha) / 1.5, alpha = 0.1.
  auto wis = [&](const double* q) {
    double s = 0;
    for (ladle::index_t i = 0; i < N; ++i) {
      const double l = q[i * K], m = q[i * K + 1], u = q[i * K + 2], y = Y[static_cast<std::size_t>(i)];
      const double is = (u - l) + 20 * (l - y) * (y < l) + 20 * (y - u) * (y > u);
      s += (0.5 * std::fabs(y - m) + 0.05 * is) / 1.5;
    }
    return s / static_cast<double>(N);
  };
  double best = 1e300;
  for (ladle::index_t m = 0; m < M; ++m) best = std::min(best, wis(P.data() + m * N * K));
  CHECK(number_after(r.out, "WIS before ") == doctest::Approx(best).epsilon(1e-5));
  CHECK(number_after(r.out, ") after ") == doctest::Approx(wis(got.data())).epsilon(1e-5));
  r = cli("aggregate" + common + " --method median -o '" + at("a_median.npy") + "'");
  REQUIRE(r.rc == 0);
  got = read_npy_doubles(at("a_median.npy"), shape);
  for (ladle::index_t i = 0; i < N * K; ++i) {
    double v[M];
    for (ladle::index_t m = 0; m < M; ++m) v[m] = P[static_cast<std::size_t>(m * N * K + i)];
    std::sort(v, v + M);
    CHECK(got[static_cast<std::size_t>(i)] == v[1]);  // the median of 3 is one of the inputs, exactly
  }
  // float32 predictions give a float32 output.
  std::vector<float> P32(P.begin(), P.end());
  ladle::save_npy(at("a_P32.npy"), ladle::make_view(static_cast<const float*>(P32.data()), {M, N, K}));
  REQUIRE(cli("aggregate --preds '" + at("a_P32.npy") + "' --y '" + at("a_Y.npy") +
              "' --levels 0.05,0.5,0.95 --method mean -q -o '" + at("a_mean32.npy") + "'").rc == 0);
  CHECK(ladle::npy_file(at("a_mean32.npy")).header().dtype == ladle::npy_dtype::float32);
}

TEST_CASE("cli aggregate: fitted weights beat the best single model on the fitting rows; cqr") {
  std::vector<double> P, Y;
  make_aggregate_inputs(P, Y);
  const std::string common = " --preds '" + at("a_P.npy") + "' --y '" + at("a_Y.npy") + "' --levels 0.05,0.5,0.95";
  for (const char* method : {"per-model", "per-level", "cross-level"}) {
    CAPTURE(method);
    const std::string out = at(std::string("a_fit_") + method + ".npy");
    const auto r = cli("aggregate" + common + " --method " + method + " -o '" + out + "'");
    REQUIRE(r.rc == 0);
    CAPTURE(r.out);
    CHECK(contains(r.out, "fitting rows 0-39"));
    const double best = number_after(r.out, "fitting rows 0-39: WIS best model ");
    const double fit = number_after(r.out, "-> fitted ");
    CHECK(best > 0);
    CHECK(fit <= best);
    std::vector<ladle::index_t> shape;
    read_npy_doubles(out, shape);
    CHECK(shape == std::vector<ladle::index_t>{N, K});
  }
  // CQR on rows 40-59 of the per-level aggregate: evaluation rows 60-79.
  const auto r = cli("aggregate" + common + " --method per-level --calibrate cqr --calib-frac 0.25 -o '" +
                     at("a_cqr.npy") + "'");
  REQUIRE(r.rc == 0);
  CHECK(contains(r.out, "cqr calibrated on rows 40-59"));
  CHECK(contains(r.out, "rows 60-79: WIS before"));
}

TEST_CASE("cli aggregate: bad levels exit 2, shape mismatch exits 1, no partial output") {
  std::vector<double> P, Y;
  make_aggregate_inputs(P, Y);
  const std::string p_bytes = slurp(at("a_P.npy")), y_bytes = slurp(at("a_Y.npy"));
  const std::string io = " --preds '" + at("a_P.npy") + "' --y '" + at("a_Y.npy") + "' --method mean -o '" + at("a_bad.npy") + "'";
  for (const char* levels : {"0.5,0.05,0.95", "0.05,0.5,0.5", "0,0.5,0.95", "0.05,x,0.95"}) {
    CAPTURE(levels);
    const auto r = cli("aggregate" + io + " --levels " + levels);
    CHECK(r.rc == 2);
    CHECK(contains(r.err, "--levels"));
  }
  CHECK(cli("aggregate" + io + " --levels 0.05,0.5,0.95 --method bogus").rc == 2);
  // Shape mismatches: levels count, targets count, rank.
  auto r = cli("aggregate" + io + " --levels 0.1,0.9");
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "a_P.npy"));
  std::vector<double> short_y(Y.begin(), Y.end() - 1);
  ladle::save_npy(at("a_Yshort.npy"), ladle::make_view(static_cast<const double*>(short_y.data()), N - 1));
  r = cli("aggregate --preds '" + at("a_P.npy") + "' --y '" + at("a_Yshort.npy") +
          "' --levels 0.05,0.5,0.95 --method per-level -o '" + at("a_bad.npy") + "'");
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "a_Yshort.npy"));
  r = cli("aggregate --preds '" + at("a_Y.npy") + "' --y '" + at("a_Y.npy") +
          "' --levels 0.05,0.5,0.95 --method mean -o '" + at("a_bad.npy") + "'");
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "3-d"));
  CHECK(!exists(at("a_bad.npy")));
  for (const auto& name : listing()) CHECK(name.find("a_bad") == std::string::npos);  // no temporaries
  // Existing output refused without --force.
  REQUIRE(cli("aggregate" + io + " --levels 0.05,0.5,0.95 -q").rc == 0);
  r = cli("aggregate" + io + " --levels 0.05,0.5,0.95 -q");
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "--force"));
  CHECK(cli("aggregate" + io + " --levels 0.05,0.5,0.95 -q --force").rc == 0);
  CHECK(slurp(at("a_P.npy")) == p_bytes);
  CHECK(slurp(at("a_Y.npy")) == y_bytes);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
