// Training on a fraction of the data: RS2 and EL2N pruning against a random subset, on digits.
//
// The perceptron of digits_mlp.hpp is trained with mini-batch SGD on 1297 training images and
// scored on 500 test images, three training seeds per cell. For each fraction f of the training
// set it compares, at the same number of SGD steps (12 epochs over f n rows):
//   - random:  one uniform subset of f n rows, fixed for all epochs (ladle::uniform_subset);
//   - EL2N:    the f n hardest rows by EL2N score ("Deep Learning on a Data Diet"): the scores
//              ||p - onehot(y)|| of four short (2-epoch) training runs, averaged
//              (ladle::el2n_scores, ladle::mean_over_runs, ladle::prune);
//   - RS2:     a new subset every epoch, without replacement across epochs until the training
//              set is exhausted (ladle::rs2_schedule), so the run sees every row.
// It prints the accuracy table and exits non-zero if an RS2 pass does not cover the training set
// exactly once or a subset has the wrong size.
#include "digits_mlp.hpp"

#include <ladle/selection.hpp>

#include <cstdio>
#include <exception>
#include <set>
#include <vector>

namespace {

constexpr int epochs = 12;
constexpr int training_seeds = 3;

digits::sgd_options sgd(std::uint64_t seed, int epochs_ = 1) {
  digits::sgd_options o;
  o.lr = 0.1f;
  o.epochs = epochs_;
  o.seed = seed;
  return o;
}

/// Rows of `train` at positions `picked` (indices into train).
std::vector<int> rows_of(const std::vector<int>& train, const std::vector<ladle::index_t>& picked) {
  std::vector<int> rows;
  rows.reserve(picked.size());
  for (auto i : picked) rows.push_back(train[static_cast<std::size_t>(i)]);
  return rows;
}

/// Mean test accuracy over the training seeds of `epochs` epochs on a fixed subset.
double static_subset(const digits::data_set& d, const std::vector<int>& rows,
                     const std::vector<int>& test) {
  double sum = 0;
  for (int s = 0; s < training_seeds; ++s) {
    digits::mlp m = digits::initialise(100 + s);
    digits::train_sgd(m, d, rows, sgd(200 + s, epochs));
    sum += digits::accuracy(m, d, test);
  }
  return sum / training_seeds;
}

}  // namespace

int main() {
  try {
    const digits::data_set d = digits::load();
    const auto parts = digits::split(d, 11, {1297});  // 1297 training images, 500 test
    const std::vector<int>&train = parts[0], &test = parts[1];
    const auto n = static_cast<ladle::index_t>(train.size());

    // EL2N: probabilities of four 2-epoch runs on the full training set.
    std::vector<double> runs;  // 4 x n
    std::vector<std::int64_t> labels(train.size());
    for (std::size_t i = 0; i < train.size(); ++i) labels[i] = d.y[static_cast<std::size_t>(train[i])];
    for (int r = 0; r < 4; ++r) {
      digits::mlp m = digits::initialise(300 + r);
      digits::train_sgd(m, d, train, sgd(400 + r, 2));
      std::vector<float> p(train.size() * 10);
      float h[32];
      for (std::size_t i = 0; i < train.size(); ++i) digits::forward(m, d.row(train[i]), h, &p[i * 10]);
      const auto s = ladle::el2n_scores(ladle::make_view(static_cast<const float*>(p.data()), {n, 10}),
                                        ladle::make_view(static_cast<const std::int64_t*>(labels.data()), n));
      runs.insert(runs.end(), s.begin(), s.end());
    }
    const std::vector<double> el2n =
        ladle::mean_over_runs(ladle::make_view(static_cast<const double*>(runs.data()), {4, n}));

    std::printf("test accuracy, mean of %d training seeds, %d epochs over the kept rows\n", training_seeds,
                epochs);
    std::printf("%-10s %8s %8s %8s %8s\n", "fraction", "rows", "random", "EL2N", "RS2");
    bool ok = true;
    for (double f : {0.1, 0.3, 0.5, 1.0}) {
      const ladle::index_t keep = ladle::subset_size(n, f);
      const std::vector<int> random_rows = rows_of(train, ladle::uniform_subset(n, keep, ladle::seed{5}));
      const std::vector<int> hard_rows = rows_of(train, ladle::prune(ladle::make_view(el2n.data(), n), keep));
      ok = ok && static_cast<ladle::index_t>(random_rows.size()) == keep &&
           static_cast<ladle::index_t>(hard_rows.size()) == keep;

      // RS2: epoch e trains on round e of the schedule.
      const ladle::rs2_schedule schedule(n, f, ladle::seed{5});
      double rs2 = 0;
      for (int s = 0; s < training_seeds; ++s) {
        digits::mlp m = digits::initialise(100 + s);
        std::set<ladle::index_t> pass;
        for (int e = 0; e < epochs; ++e) {
          const auto round = schedule.round(static_cast<std::uint64_t>(e));
          digits::train_sgd(m, d, rows_of(train, round), sgd(200 + s + 1000 * e));
          // The rounds of the first pass bring new rows only (the last one may reach into the next
          // pass), and by its end every training row has been seen.
          const ladle::index_t per_pass = schedule.rounds_per_pass();
          if (e < per_pass) {
            for (auto i : round) {
              const bool fresh = pass.insert(i).second;
              ok = ok && (fresh || e + 1 == per_pass);
            }
            if (e + 1 == per_pass) ok = ok && static_cast<ladle::index_t>(pass.size()) == n;
          }
        }
        rs2 += digits::accuracy(m, d, test);
      }
      std::printf("%-10.1f %8lld %8.4f %8.4f %8.4f\n", f, static_cast<long long>(keep),
                  static_subset(d, random_rows, test), static_subset(d, hard_rows, test),
                  rs2 / training_seeds);
    }
    if (!ok) {
      std::fprintf(stderr, "a subset had the wrong size or an RS2 pass did not cover the training set\n");
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
