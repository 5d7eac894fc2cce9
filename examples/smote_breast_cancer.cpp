// SMOTE + random under-sampling vs under-sampling alone (the comparison of Chawla et al. 2002) on
// an imbalanced cut of the Wisconsin breast cancer data: 357 benign rows, 45 malignant (11%).
//
// For each of 20 seeds: a stratified 50/50 train/test split, features standardised on the train
// part, then one of three training sets, a logistic regression fitted by gradient descent, and the
// test ROC AUC. SMOTE + under-sampling first lifts the malignant class to half the benign count
// with SMOTE, then under-samples the benign class to match. The table prints the mean and
// standard deviation of the AUC over the seeds, and the mean training-set size.
//
// Data: examples/data/breast_cancer_imbalanced.csv (written by export_breast_cancer.py).
#include <ladle/resampling.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct table {
  std::vector<double> X;  // row-major (n, d)
  std::vector<std::int64_t> y;
  ladle::index_t n = 0, d = 0;
};

table read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  table t;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    std::vector<double> row;
    while (std::getline(ss, cell, ',')) row.push_back(std::stod(cell));
    t.d = static_cast<ladle::index_t>(row.size()) - 1;
    t.X.insert(t.X.end(), row.begin(), row.end() - 1);
    t.y.push_back(static_cast<std::int64_t>(row.back()));
    ++t.n;
  }
  return t;
}

// Logistic regression by full-batch gradient descent on the mean log-loss (+ small L2).
std::vector<double> fit_logistic(ladle::matrix_view<const double> X,
                                 ladle::vector_view<const std::int64_t> y) {
  const ladle::index_t n = X.extent(0), d = X.extent(1);
  std::vector<double> w(std::size_t(d) + 1, 0.0), grad(w.size());
  for (int it = 0; it < 800; ++it) {
    std::fill(grad.begin(), grad.end(), 0.0);
    for (ladle::index_t i = 0; i < n; ++i) {
      double z = w[std::size_t(d)];
      for (ladle::index_t j = 0; j < d; ++j) z += w[std::size_t(j)] * X(i, j);
      const double err = 1.0 / (1.0 + std::exp(-z)) - double(y(i));
      for (ladle::index_t j = 0; j < d; ++j) grad[std::size_t(j)] += err * X(i, j);
      grad[std::size_t(d)] += err;
    }
    for (std::size_t j = 0; j < w.size(); ++j)
      w[j] -= 0.5 * (grad[j] / double(n) + (j < std::size_t(d) ? 1e-3 * w[j] : 0.0));
  }
  return w;
}

// ROC AUC = P(score of a random positive > score of a random negative), ties count 1/2.
double auc(const std::vector<double>& score, const std::vector<std::int64_t>& y) {
  double wins = 0, pairs = 0;
  for (std::size_t i = 0; i < y.size(); ++i)
    for (std::size_t j = 0; j < y.size(); ++j)
      if (y[i] == 1 && y[j] == 0) {
        wins += score[i] > score[j] ? 1.0 : score[i] == score[j] ? 0.5 : 0.0;
        pairs += 1;
      }
  return wins / pairs;
}

}  // namespace

int main() {
  const std::string src = __FILE__;
  const table data = read_csv(src.substr(0, src.find_last_of("/\\") + 1) +
                              "data/breast_cancer_imbalanced.csv");
  const ladle::index_t d = data.d;
  std::printf("breast cancer (imbalanced cut): %td rows, %td features, %td malignant\n", data.n,
              d, ladle::index_t(std::count(data.y.begin(), data.y.end(), 1)));

  const char* names[] = {"no resampling", "under-sampling alone", "SMOTE + under-sampling"};
  const int seeds = 20;
  std::vector<double> sum(3, 0), sum2(3, 0), rows(3, 0);
  for (int s = 0; s < seeds; ++s) {
    // Stratified 50/50 split with a Philox-driven shuffle per class.
    std::vector<ladle::index_t> train, test;
    for (std::int64_t c : {0, 1}) {
      std::vector<ladle::index_t> idx;
      for (ladle::index_t i = 0; i < data.n; ++i)
        if (data.y[std::size_t(i)] == c) idx.push_back(i);
      ladle::philox g(ladle::seed{std::uint64_t(s)}, std::uint64_t(c));
      ladle::shuffle(idx.begin(), idx.end(), g);
      const std::size_t half = idx.size() / 2;
      train.insert(train.end(), idx.begin(), idx.begin() + std::ptrdiff_t(half));
      test.insert(test.end(), idx.begin() + std::ptrdiff_t(half), idx.end());
    }
    // Standardise with the training rows' mean and std.
    std::vector<double> mean(std::size_t(d), 0), sd(std::size_t(d), 0);
    for (auto i : train)
      for (ladle::index_t j = 0; j < d; ++j) mean[std::size_t(j)] += data.X[std::size_t(i * d + j)];
    for (auto& m : mean) m /= double(train.size());
    for (auto i : train)
      for (ladle::index_t j = 0; j < d; ++j) {
        const double v = data.X[std::size_t(i * d + j)] - mean[std::size_t(j)];
        sd[std::size_t(j)] += v * v;
      }
    for (auto& v : sd) v = std::sqrt(v / double(train.size()));
    auto standardised = [&](const std::vector<ladle::index_t>& rows_of, ladle::tensor<double, 2>& X,
                            ladle::tensor<std::int64_t, 1>& y) {
      X = ladle::tensor<double, 2>({ladle::index_t(rows_of.size()), d});
      y = ladle::tensor<std::int64_t, 1>({ladle::index_t(rows_of.size())});
      for (std::size_t r = 0; r < rows_of.size(); ++r) {
        for (ladle::index_t j = 0; j < d; ++j)
          X(ladle::index_t(r), j) =
              (data.X[std::size_t(rows_of[r] * d + j)] - mean[std::size_t(j)]) / sd[std::size_t(j)];
        y(ladle::index_t(r)) = data.y[std::size_t(rows_of[r])];
      }
    };
    ladle::tensor<double, 2> Xtr, Xte;
    ladle::tensor<std::int64_t, 1> ytr, yte;
    standardised(train, Xtr, ytr);
    standardised(test, Xte, yte);
    const ladle::seed seed{std::uint64_t(1000 + s)};

    for (int method = 0; method < 3; ++method) {
      ladle::resample_result<double, std::int64_t> r;
      if (method == 0) {
        r.X = Xtr;
        r.y = ytr;
      } else if (method == 1) {
        r = ladle::random_under_sample(Xtr.cview(), ytr.cview(), {}, seed);
      } else {
        ladle::smote_options so;
        so.strategy = 0.5;  // malignant up to half the benign count
        const auto up = ladle::smote(Xtr.cview(), ytr.cview(), so, seed);
        r = ladle::random_under_sample(up.X.cview(), up.y.cview(), {}, seed);
      }
      const auto w = fit_logistic(r.X.cview(), r.y.cview());
      std::vector<double> score;
      std::vector<std::int64_t> truth;
      for (ladle::index_t i = 0; i < Xte.extent(0); ++i) {
        double z = w[std::size_t(d)];
        for (ladle::index_t j = 0; j < d; ++j) z += w[std::size_t(j)] * Xte(i, j);
        score.push_back(z);
        truth.push_back(yte(i));
      }
      const double a = auc(score, truth);
      sum[std::size_t(method)] += a;
      sum2[std::size_t(method)] += a * a;
      rows[std::size_t(method)] += double(r.y.extent(0));
    }
  }
  std::printf("\n%-26s %10s %10s %12s\n", "training set", "mean AUC", "sd", "train rows");
  for (int m = 0; m < 3; ++m) {
    const double mu = sum[std::size_t(m)] / seeds;
    const double var = std::max(0.0, sum2[std::size_t(m)] / seeds - mu * mu);
    std::printf("%-26s %10.4f %10.4f %12.0f\n", names[m], mu, std::sqrt(var),
                rows[std::size_t(m)] / seeds);
  }
  std::printf("\n(%d seeds; logistic regression by gradient descent; test AUC)\n", seeds);
  return 0;
}
