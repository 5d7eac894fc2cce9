// Quantile aggregation on the diabetes data (442 patients, 10 features, disease progression).
//
// Three simple quantile models at the nine levels 0.1, ..., 0.9:
//   * linear quantile regression, one per level (Huber-smoothed pinball, gradient descent),
//   * k-nearest-neighbour quantiles (the level's empirical quantile of the 30 nearest targets),
//   * the empirical marginal quantile of the training targets (ignores x).
// Each random split (20 of them) has four parts: train (200 rows) fits the models; their
// predictions on the held-out "fit" part (80 rows) fit the aggregator weights (exact LP); the
// "calibration" part (80) calibrates CQR; the "test" part (82) scores everything. The table is
// the mean over splits of the test WIS, the coverage of the central 80% interval (levels 0.1 and
// 0.9) and the fraction of rows whose quantiles cross.
//
// It checks (and exits non-zero otherwise): the fitted aggregate has a lower mean test WIS than
// each model; sorting and isotonic repair never increase any split's WIS; CQR brings the mean
// coverage of the 80% interval to within 0.03 of the target.
//
// Data: examples/data/diabetes.csv (written by export_diabetes.py).
#include <ladle/core/random.hpp>
#include <ladle/quantile.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using ladle::index_t;
constexpr index_t K = 9, D = 10, knn = 30;

struct table {
  std::vector<double> X, y;  // X row-major (n, D)
  index_t n = 0;
};

table read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    std::exit(1);
  }
  table t;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    for (index_t j = 0; j <= D && std::getline(ss, cell, ','); ++j)
      (j < D ? t.X : t.y).push_back(std::stod(cell));
    ++t.n;
  }
  return t;
}

// Linear quantile regression at level tau on standardised rows Z (n, D) with intercept:
// Nesterov-accelerated gradient descent on the Huber-smoothed pinball loss.
std::vector<double> fit_linear_quantile(const std::vector<double>& Z, const std::vector<double>& y,
                                        index_t n, double tau) {
  const index_t p = D + 1;
  const double delta = 0.02;  // in standardised target units
  std::vector<double> b(static_cast<std::size_t>(p), 0.0), v = b, g(b.size());
  const double lr = delta / (static_cast<double>(p) * std::max(tau, 1 - tau));
  for (int it = 0; it < 3000; ++it) {
    std::vector<double> look(b.size());
    for (index_t j = 0; j < p; ++j)
      look[static_cast<std::size_t>(j)] = b[static_cast<std::size_t>(j)] + 0.9 * v[static_cast<std::size_t>(j)];
    std::fill(g.begin(), g.end(), 0.0);
    for (index_t i = 0; i < n; ++i) {
      double f = look[static_cast<std::size_t>(D)];
      for (index_t j = 0; j < D; ++j) f += look[static_cast<std::size_t>(j)] * Z[static_cast<std::size_t>(i * D + j)];
      const double e = y[static_cast<std::size_t>(i)] - f;
      const double psi = (e >= 0 ? tau : 1 - tau) * std::max(-1.0, std::min(1.0, e / delta));
      for (index_t j = 0; j < D; ++j) g[static_cast<std::size_t>(j)] -= psi * Z[static_cast<std::size_t>(i * D + j)] / n;
      g[static_cast<std::size_t>(D)] -= psi / n;
    }
    for (index_t j = 0; j < p; ++j) {
      const std::size_t u = static_cast<std::size_t>(j);
      v[u] = 0.9 * v[u] - lr * g[u];
      b[u] += v[u];
    }
  }
  return b;
}

double empirical_quantile(std::vector<double> v, double tau) {
  std::sort(v.begin(), v.end());
  const index_t idx = static_cast<index_t>(std::ceil(tau * static_cast<double>(v.size()))) - 1;
  return v[static_cast<std::size_t>(std::max<index_t>(0, idx))];
}

struct split_scores {
  double wis[10] = {}, cover[10] = {}, cross[10] = {};
};

}  // namespace

int main(int, char** argv) {
  const std::string src = __FILE__;
  const table data = read_csv(src.substr(0, src.find_last_of("/\\") + 1) + "data/diabetes.csv");
  std::vector<double> levels;
  for (index_t k = 1; k <= K; ++k) levels.push_back(0.1 * static_cast<double>(k));
  const auto lv = ladle::make_view(levels.data(), K);
  const char* names[] = {"linear quantile regression", "kNN quantile (k = 30)",
                         "marginal quantile",          "mean of the three",
                         "median of the three",        "fitted, per model",
                         "fitted, per model x level",  "  + sort",
                         "  + isotonic",               "  + sort + CQR"};
  const int rows_out = 10, splits = 20;
  split_scores mean;
  bool repair_ok = true;
  for (int s = 0; s < splits; ++s) {
    ladle::philox g(ladle::seed{2026}, static_cast<std::uint64_t>(s));
    std::vector<index_t> perm(static_cast<std::size_t>(data.n));
    for (index_t i = 0; i < data.n; ++i) perm[static_cast<std::size_t>(i)] = i;
    ladle::shuffle(perm.begin(), perm.end(), g);
    const index_t n_train = 200, n_fit = 80, n_cal = 80, n_test = data.n - 360;
    // Standardise features and target on the training part.
    std::vector<double> mu(D, 0.0), sd(D, 0.0);
    double ymu = 0, ysd = 0;
    for (index_t a = 0; a < n_train; ++a) {
      const index_t i = perm[static_cast<std::size_t>(a)];
      for (index_t j = 0; j < D; ++j) mu[static_cast<std::size_t>(j)] += data.X[static_cast<std::size_t>(i * D + j)] / n_train;
      ymu += data.y[static_cast<std::size_t>(i)] / n_train;
    }
    for (index_t a = 0; a < n_train; ++a) {
      const index_t i = perm[static_cast<std::size_t>(a)];
      for (index_t j = 0; j < D; ++j) {
        const double d = data.X[static_cast<std::size_t>(i * D + j)] - mu[static_cast<std::size_t>(j)];
        sd[static_cast<std::size_t>(j)] += d * d / n_train;
      }
      ysd += (data.y[static_cast<std::size_t>(i)] - ymu) * (data.y[static_cast<std::size_t>(i)] - ymu) / n_train;
    }
    for (auto& v : sd) v = std::sqrt(v);
    ysd = std::sqrt(ysd);
    std::vector<double> Z(static_cast<std::size_t>(data.n * D)), yz(static_cast<std::size_t>(data.n));
    for (index_t a = 0; a < data.n; ++a) {
      const index_t i = perm[static_cast<std::size_t>(a)];
      for (index_t j = 0; j < D; ++j)
        Z[static_cast<std::size_t>(a * D + j)] =
            (data.X[static_cast<std::size_t>(i * D + j)] - mu[static_cast<std::size_t>(j)]) / sd[static_cast<std::size_t>(j)];
      yz[static_cast<std::size_t>(a)] = (data.y[static_cast<std::size_t>(i)] - ymu) / ysd;
    }
    // Models on the training part; predictions for every row (in original units), [3, n, K].
    const index_t M = 3, n = data.n;
    std::vector<double> preds(static_cast<std::size_t>(M * n * K));
    auto P = [&](index_t m, index_t i, index_t k) -> double& {
      return preds[static_cast<std::size_t>((m * n + i) * K + k)];
    };
    for (index_t k = 0; k < K; ++k) {
      const double tau = levels[static_cast<std::size_t>(k)];
      const auto b = fit_linear_quantile(Z, yz, n_train, tau);
      const double marginal = empirical_quantile(std::vector<double>(yz.begin(), yz.begin() + n_train), tau);
      for (index_t i = 0; i < n; ++i) {
        double f = b[static_cast<std::size_t>(D)];
        for (index_t j = 0; j < D; ++j) f += b[static_cast<std::size_t>(j)] * Z[static_cast<std::size_t>(i * D + j)];
        P(0, i, k) = ymu + ysd * f;
        P(2, i, k) = ymu + ysd * marginal;
      }
    }
    for (index_t i = 0; i < n; ++i) {
      std::vector<std::pair<double, index_t>> dist;
      for (index_t t = 0; t < n_train; ++t) {
        if (t == i) continue;  // a training row is not its own neighbour
        double d2 = 0;
        for (index_t j = 0; j < D; ++j) {
          const double d = Z[static_cast<std::size_t>(i * D + j)] - Z[static_cast<std::size_t>(t * D + j)];
          d2 += d * d;
        }
        dist.push_back({d2, t});
      }
      std::partial_sort(dist.begin(), dist.begin() + knn, dist.end());
      std::vector<double> nb;
      for (index_t a = 0; a < knn; ++a) nb.push_back(data.y[static_cast<std::size_t>(perm[static_cast<std::size_t>(dist[static_cast<std::size_t>(a)].second)])]);
      for (index_t k = 0; k < K; ++k) P(1, i, k) = empirical_quantile(nb, levels[static_cast<std::size_t>(k)]);
    }
    std::vector<double> y(static_cast<std::size_t>(n));
    for (index_t a = 0; a < n; ++a) y[static_cast<std::size_t>(a)] = data.y[static_cast<std::size_t>(perm[static_cast<std::size_t>(a)])];
    // Views of the parts: rows [begin, begin + len) of every model.
    auto part = [&](index_t begin, index_t len) {
      return ladle::tensor_view<const double, 3>(preds.data() + begin * K, {M, len, K}, {n * K, K, 1});
    };
    const index_t fit0 = n_train, cal0 = n_train + n_fit, test0 = cal0 + n_cal;
    const auto y_fit = ladle::make_view(y.data() + fit0, n_fit);
    const auto y_cal = ladle::make_view(y.data() + cal0, n_cal);
    const auto y_test = ladle::make_view(y.data() + test0, n_test);
    std::vector<std::vector<double>> out(rows_out, std::vector<double>(static_cast<std::size_t>(n_test * K)));
    auto ov = [&](int r) { return ladle::matrix_view<double>(out[static_cast<std::size_t>(r)].data(), {n_test, K}); };
    for (index_t m = 0; m < M; ++m)
      ladle::aggregate_into(ov(static_cast<int>(m)), part(test0, n_test),
                            ladle::aggregator_weights::single(ladle::aggregator_kind::per_model, M, K, m));
    ladle::aggregate_mean_into(ov(3), part(test0, n_test));
    ladle::aggregate_median_into(ov(4), part(test0, n_test));
    ladle::fit_options fo;
    fo.method = ladle::fit_method::exact;
    fo.kind = ladle::aggregator_kind::per_model;
    const auto coarse = ladle::fit_aggregator(part(fit0, n_fit), y_fit, lv, fo);
    fo.kind = ladle::aggregator_kind::per_model_level;
    const auto medium = ladle::fit_aggregator(part(fit0, n_fit), y_fit, lv, fo);
    ladle::aggregate_into(ov(5), part(test0, n_test), coarse.weights);
    ladle::aggregate_into(ov(6), part(test0, n_test), medium.weights);
    out[7] = out[6];
    ladle::sort_quantiles(ov(7));
    out[8] = out[6];
    ladle::isotonic_repair(ov(8));
    // CQR on the calibration part's sorted aggregate, applied to the sorted test aggregate.
    std::vector<double> cal(static_cast<std::size_t>(n_cal * K));
    ladle::matrix_view<double> calv(cal.data(), {n_cal, K});
    ladle::aggregate_into(calv, part(cal0, n_cal), medium.weights);
    ladle::sort_quantiles(calv);
    ladle::cqr conformal;
    conformal.fit(ladle::as_const(calv), y_cal, lv);
    out[9] = out[7];
    conformal.apply(ov(9));
    for (int r = 0; r < rows_out; ++r) {
      const auto q = ladle::as_const(ov(r));
      const double w = ladle::weighted_interval_score(q, y_test, lv);
      const auto c = ladle::calibration(q, y_test, lv);
      mean.wis[r] += w / splits;
      mean.cover[r] += c.picp[0] / splits;
      mean.cross[r] += static_cast<double>(ladle::count_crossing_rows(q)) / static_cast<double>(n_test) / splits;
    }
    const auto wis_of = [&](int r) { return ladle::weighted_interval_score(ladle::as_const(ov(r)), y_test, lv); };
    if (wis_of(7) > wis_of(6) || wis_of(8) > wis_of(6)) repair_ok = false;
  }
  std::printf("diabetes, %d random splits (train 200 / fit 80 / calibrate 80 / test 82), levels 0.1..0.9\n\n", splits);
  std::printf("%-30s %10s %14s %10s\n", "model", "test WIS", "80% coverage", "crossing");
  for (int r = 0; r < rows_out; ++r)
    std::printf("%-30s %10.3f %14.3f %10.3f\n", names[r], mean.wis[r], mean.cover[r], mean.cross[r]);
  bool ok = repair_ok;
  for (int m = 0; m < 3; ++m)
    if (!(mean.wis[6] < mean.wis[m])) ok = false;
  if (std::abs(mean.cover[9] - 0.8) > 0.03) ok = false;
  std::printf("\nfitted aggregate beats every model: %s; repair never hurt: %s; CQR coverage %.3f (target 0.8)\n",
              mean.wis[6] < std::min({mean.wis[0], mean.wis[1], mean.wis[2]}) ? "yes" : "NO",
              repair_ok ? "yes" : "NO", mean.cover[9]);
  (void)argv;
  return ok ? 0 : 1;
}
