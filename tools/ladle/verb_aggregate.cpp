// tools/ladle/verb_aggregate.cpp: `ladle aggregate --preds P.npy --levels L --y Y.npy -o OUT.npy`,
// the quantile family (ladle/quantile.hpp) on files.
//
// P is [M, N, K] (model, row, level; float32 or float64), Y is [N], the levels are K strictly
// increasing numbers in (0, 1). The rows are split in order:
//   fitting rows      [0, F)       F = floor(fit_frac N), only for the fitted methods
//                                  (per-model, per-level, cross-level: fit_aggregator on them);
//   calibration rows  [F, F + C)   C = floor(calib_frac N), only with --calibrate cqr (CQR is fitted
//                                  on the aggregate of these rows);
//   evaluation rows   the rest, where WIS before (the best single model) and after (the
//                     aggregate) is reported.
// OUT is the aggregate of every row, [N, K], in P's dtype (with the CQR shifts when calibrated).
// WIS needs symmetric levels (tau_k + tau_{K-1-k} = 1); otherwise the report gives twice the mean
// pinball loss, which is what WIS equals on symmetric levels.
#include "common.hpp"
#include "csv.hpp"
#include "verbs.hpp"

#include <ladle/io/file.hpp>
#include <ladle/io/npy.hpp>
#include <ladle/quantile.hpp>

#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>

namespace ladle_cli {

namespace {

struct aggregate_args {
  common_options common;
  std::string preds, y, levels, method, calibrate, output;
  double fit_frac = 0.5, calib_frac = 0.25;
};

std::vector<double> parse_levels(const std::string& text) {
  std::vector<double> levels;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) levels.push_back(parse_double(item, "--levels"));
  if (levels.empty()) throw usage_error("--levels: no levels given");
  for (std::size_t k = 0; k < levels.size(); ++k) {
    if (!(levels[k] > 0 && levels[k] < 1))
      throw usage_error("--levels: level " + format_number(levels[k]) + " is not in (0, 1)");
    if (k > 0 && !(levels[k] > levels[k - 1]))
      throw usage_error("--levels: not strictly increasing (" + format_number(levels[k - 1]) +
                        " then " + format_number(levels[k]) + ")");
  }
  return levels;
}

bool symmetric(const std::vector<double>& levels) {
  const std::size_t K = levels.size();
  for (std::size_t k = 0; k < K; ++k)
    if (std::fabs(levels[k] + levels[K - 1 - k] - 1.0) > 1e-9) return false;
  return true;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

/// An .npy array read whole into doubles (and its dtype and shape).
struct array {
  ladle::npy_dtype dtype = ladle::npy_dtype::float64;
  std::vector<ladle::index_t> shape;
  std::vector<double> v;
};

array read_array(const std::string& path, std::size_t rank, const char* what) {
  try {
    ladle::npy_file f(path);
    const auto& h = f.header();
    if (h.shape.size() != rank)
      throw failure(path + ": " + what + " must be a " + std::to_string(rank) + "-d array, found rank " +
                    std::to_string(h.shape.size()));
    if (h.dtype != ladle::npy_dtype::float32 && h.dtype != ladle::npy_dtype::float64)
      throw failure(path + ": " + what + " must be float32 or float64, found " + ladle::npy_dtype_name(h.dtype));
    array a;
    a.dtype = h.dtype;
    a.shape = h.shape;
    a.v.resize(static_cast<std::size_t>(h.size()));
    f.copy_to(a.v.data(), h.size());
    for (std::size_t i = 0; i < a.v.size(); ++i)
      if (!std::isfinite(a.v[i]))
        throw failure(path + ": element " + std::to_string(i) + " is " + format_number(a.v[i]) +
                      " (values must be finite)");
    return a;
  } catch (const ladle::error& e) {
    throw failure(e.what());
  }
}

/// Rows [r0, r1) of a row-major [N, K] buffer.
ladle::matrix_view<const double> rows_of(const std::vector<double>& q, ladle::index_t K,
                                         ladle::index_t r0, ladle::index_t r1) {
  return ladle::make_view(q.data() + r0 * K, {r1 - r0, K});
}

struct scorer {
  const std::vector<double>& y;
  ladle::vector_view<const double> levels;
  bool wis;
  double operator()(ladle::matrix_view<const double> q, ladle::index_t r0, ladle::index_t r1) const {
    const auto yv = ladle::make_view(y.data() + r0, r1 - r0);
    return wis ? ladle::weighted_interval_score(q, yv, levels) : 2.0 * ladle::pinball_loss(q, yv, levels);
  }
};

void run(const aggregate_args& a) {
  stopwatch clock;
  const std::vector<double> levels = parse_levels(a.levels);
  const bool fitted = a.method == "per-model" || a.method == "per-level" || a.method == "cross-level";
  if (!fitted && a.method != "mean" && a.method != "median")
    throw usage_error("--method: unknown method '" + a.method +
                      "' (one of mean, median, per-model, per-level, cross-level)");
  const bool calibrate = !a.calibrate.empty();
  if (calibrate && a.calibrate != "cqr")
    throw usage_error("--calibrate: unknown calibration '" + a.calibrate + "' (only cqr)");
  if (!(a.fit_frac > 0 && a.fit_frac < 1)) throw usage_error("--fit-frac: " + fmt(a.fit_frac) + " is not in (0, 1)");
  if (!(a.calib_frac > 0 && a.calib_frac < 1))
    throw usage_error("--calib-frac: " + fmt(a.calib_frac) + " is not in (0, 1)");
  if (fitted && calibrate && !(a.fit_frac + a.calib_frac < 1))
    throw usage_error("--fit-frac + --calib-frac must leave evaluation rows (is " + fmt(a.fit_frac + a.calib_frac) + ")");
  if (extension_of(a.output) != ".npy") throw usage_error("output '" + a.output + "' must be an .npy file");
  check_input(a.preds);
  check_input(a.y);
  check_output(a.output, {a.preds, a.y}, a.common);

  progress bar(a.common, "aggregate");
  bar.stage("reading " + a.preds);
  const array P = read_array(a.preds, 3, "predictions [models, rows, levels]");
  const array Y = read_array(a.y, 1, "targets [rows]");
  const ladle::index_t M = P.shape[0], N = P.shape[1], K = P.shape[2];
  if (M == 0 || N == 0 || K == 0) throw failure(a.preds + ": the array is empty");
  if (Y.shape[0] != N)
    throw failure(a.y + ": has " + std::to_string(Y.shape[0]) + " targets but '" + a.preds + "' has " +
                  std::to_string(N) + " rows");
  if (static_cast<std::size_t>(K) != levels.size())
    throw failure(a.preds + ": has " + std::to_string(K) + " levels (last axis) but --levels gives " +
                  std::to_string(levels.size()));
  const ladle::index_t F = fitted ? static_cast<ladle::index_t>(std::floor(a.fit_frac * static_cast<double>(N))) : 0;
  const ladle::index_t C = calibrate ? static_cast<ladle::index_t>(std::floor(a.calib_frac * static_cast<double>(N))) : 0;
  if ((fitted && F == 0) || (calibrate && C == 0) || F + C >= N)
    throw failure(a.preds + ": " + std::to_string(N) + " rows are too few to split into " +
                  (fitted ? "fitting, " : "") + (calibrate ? "calibration and " : "") + "evaluation rows");

  const auto lv = ladle::make_view(levels.data(), K);
  const scorer score{Y.v, lv, symmetric(levels)};
  const auto preds = ladle::make_view(P.v.data(), {M, N, K});
  std::vector<double> q(static_cast<std::size_t>(N * K));
  const auto qv = ladle::make_view(q.data(), {N, K});
  const auto policy = policy_of(a.common);
  std::string fit_note;
  try {
    // Best single model on a row range (WIS "before").
    auto best_single = [&](ladle::index_t r0, ladle::index_t r1, ladle::index_t& best) {
      double b = 0;
      for (ladle::index_t m = 0; m < M; ++m) {
        const double s = score(ladle::make_view(P.v.data() + (m * N + r0) * K, {r1 - r0, K}), r0, r1);
        if (m == 0 || s < b) {
          b = s;
          best = m;
        }
      }
      return b;
    };
    if (a.method == "mean") {
      ladle::aggregate_mean_into(policy, qv, preds);
    } else if (a.method == "median") {
      ladle::aggregate_median_into(qv, preds);
    } else {
      bar.stage("fitting " + a.method + " weights on rows 0-" + std::to_string(F - 1));
      ladle::fit_options o;
      o.kind = a.method == "per-model"   ? ladle::aggregator_kind::per_model
               : a.method == "per-level" ? ladle::aggregator_kind::per_model_level
                                         : ladle::aggregator_kind::cross_level;
      const auto fit_preds = ladle::make_view(P.v.data(), {M, F, K}, {N * K, K, 1});
      const auto r = ladle::fit_aggregator(policy, fit_preds, ladle::make_view(Y.v.data(), F), lv, o);
      ladle::aggregate_into(policy, qv, preds, r.weights);
      ladle::index_t best = 0;
      const double before = best_single(0, F, best);
      fit_note = "; fitting rows 0-" + std::to_string(F - 1) + ": WIS best model " + fmt(before) +
                 " (model " + std::to_string(best) + ") -> fitted " + fmt(score(rows_of(q, K, 0, F), 0, F));
    }
    if (calibrate) {
      bar.stage("calibrating (cqr)");
      ladle::cqr c;
      c.fit(rows_of(q, K, F, F + C), ladle::make_view(Y.v.data() + F, C), lv);
      c.apply(qv);
      fit_note += "; cqr calibrated on rows " + std::to_string(F) + "-" + std::to_string(F + C - 1);
    }
    bar.stage("writing " + a.output);
    const std::vector<ladle::index_t> shape = {N, K};
    if (P.dtype == ladle::npy_dtype::float32) {
      std::vector<float> out(q.begin(), q.end());
      ladle::save_npy(a.output, ladle::make_view(static_cast<const float*>(out.data()), {N, K}), a.common.force);
    } else {
      ladle::save_npy(a.output, ladle::make_view(static_cast<const double*>(q.data()), {N, K}), a.common.force);
    }
    bar.finish();
    ladle::index_t best = 0;
    const double before = best_single(F + C, N, best);
    const double after = score(rows_of(q, K, F + C, N), F + C, N);
    std::ostringstream s;
    s << "aggregate: " << a.preds << " " << M << " models x " << N << " rows x " << K << " levels -> "
      << a.output << " (" << a.method << (calibrate ? " + cqr" : "") << "); rows " << (F + C) << "-"
      << (N - 1) << ": " << (score.wis ? "WIS" : "2 x pinball") << " before " << fmt(before) << " (best model, "
      << best << ") after " << fmt(after) << fit_note << " in " << human_seconds(clock.seconds());
    summary(a.common, s.str());
  } catch (const ladle::error& e) {
    throw failure(a.preds + ": " + e.what());
  }
}

}  // namespace

verb add_aggregate(CLI::App& app) {
  auto a = std::make_shared<aggregate_args>();
  CLI::App* cmd = app.add_subcommand(
      "aggregate",
      "Combine M models' quantile predictions P [M, N, K] into one [N, K]. Rows are used in order: "
      "the fitted methods (per-model, per-level, cross-level) fit simplex weights on the first "
      "floor(fit-frac N) rows; --calibrate cqr calibrates on the next floor(calib-frac N) rows; "
      "the remaining rows report WIS before (best single model) and after. OUT holds every row.");
  cmd->add_option("--preds", a->preds, "P.npy: [models, rows, levels], float32 or float64")->required();
  cmd->add_option("--levels", a->levels, "Quantile levels, comma separated, strictly increasing in (0, 1)")->required();
  cmd->add_option("--y", a->y, "Y.npy: [rows] targets, float32 or float64")->required();
  cmd->add_option("--method", a->method, "mean|median|per-model|per-level|cross-level")->required();
  cmd->add_option("--calibrate", a->calibrate, "cqr: conformalized quantile regression on the calibration rows");
  cmd->add_option("--fit-frac", a->fit_frac, "Fraction of rows (the first ones) the weights are fitted on")
      ->default_val(0.5);
  cmd->add_option("--calib-frac", a->calib_frac, "Fraction of rows (after the fitting rows) CQR is calibrated on")
      ->default_val(0.25);
  cmd->add_option("-o,--output", a->output, "OUT.npy: [rows, levels] in P's dtype")->required();
  add_common_options(*cmd, a->common, true);
  return {cmd, [a] { run(*a); }};
}

}  // namespace ladle_cli
