// tools/ladle/verb_weights.cpp: `ladle weights --labels FILE --scheme S`, class weights as JSON.
//
// Counts the labels of a 1-d int32/int64 .npy file or of one CSV column (default the last, read
// with the table reader, so text labels work) and prints, as JSON on stdout, one entry per class
// in ascending label order: its count and its weight under the scheme, from
// ladle/weighting/class_weights.hpp (balanced, inverse, sqrt, effective:BETA) or
// ladle/weighting/temperature.hpp (temperature:TAU: the loss weights p/q of temperature sampling,
// with the sampling probabilities p). stdout holds only the JSON; the summary line goes to stderr.
#include "common.hpp"
#include "table.hpp"
#include "verbs.hpp"

#include <ladle/io/npy.hpp>
#include <ladle/weighting.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <iostream>
#include <memory>
#include <sstream>

namespace ladle_cli {

namespace {

struct weights_args {
  common_options common;
  std::string labels, column, scheme, normalize = "auto";
};

/// The scheme text, parsed and checked before any file is read.
struct scheme_choice {
  bool temperature = false;
  double tau = 1.0;
  ladle::class_weight_options opts;
};

scheme_choice parse_scheme(const std::string& s, const std::string& normalize) {
  scheme_choice c;
  std::string value;
  if (s == "balanced") {
    c.opts.scheme = ladle::class_weight_scheme::balanced;
  } else if (s == "inverse") {
    c.opts.scheme = ladle::class_weight_scheme::inverse;
  } else if (s == "sqrt") {
    c.opts.scheme = ladle::class_weight_scheme::inverse_sqrt;
  } else if (split_parameter(s, "effective", value)) {
    c.opts.scheme = ladle::class_weight_scheme::effective_number;
    c.opts.beta = parse_double(value, "--scheme effective:BETA");
    if (!(c.opts.beta >= 0 && c.opts.beta < 1))
      throw usage_error("--scheme effective:BETA: beta " + value + " is not in [0, 1)");
  } else if (split_parameter(s, "temperature", value)) {
    c.temperature = true;
    c.tau = parse_double(value, "--scheme temperature:TAU");
    if (!(c.tau > 0)) throw usage_error("--scheme temperature:TAU: tau " + value + " is not > 0");
  } else {
    throw usage_error("--scheme: unknown scheme '" + s +
                      "' (one of balanced, inverse, sqrt, effective:BETA, temperature:TAU)");
  }
  if (normalize == "auto") c.opts.normalization = ladle::weight_normalization::automatic;
  else if (normalize == "none") c.opts.normalization = ladle::weight_normalization::none;
  else if (normalize == "mean-one") c.opts.normalization = ladle::weight_normalization::mean_one_over_samples;
  else if (normalize == "sum-classes") c.opts.normalization = ladle::weight_normalization::sum_to_classes;
  else if (normalize == "sum-one") c.opts.normalization = ladle::weight_normalization::sum_to_one;
  else
    throw usage_error("--normalize: '" + normalize +
                      "' is not auto, none, mean-one, sum-classes or sum-one");
  if (c.temperature && normalize != "auto")
    throw usage_error("--normalize is for the class-weight schemes, not temperature:TAU");
  return c;
}

/// Labels of a 1-d integer .npy file.
std::vector<std::int64_t> read_npy_labels(const std::string& path) {
  try {
    ladle::npy_file f(path);
    const auto& h = f.header();
    if (h.shape.size() != 1)
      throw failure(path + ": labels must be a 1-d array, found rank " + std::to_string(h.shape.size()));
    if (h.dtype != ladle::npy_dtype::int32 && h.dtype != ladle::npy_dtype::int64)
      throw failure(path + ": labels must be int32 or int64, found " + ladle::npy_dtype_name(h.dtype));
    if (h.shape[0] == 0) throw failure(path + ": the label array is empty");
    std::vector<std::int64_t> y(static_cast<std::size_t>(h.shape[0]));
    f.copy_to(y.data(), h.shape[0]);
    return y;
  } catch (const ladle::error& e) {
    throw failure(e.what());
  }
}

void run(const weights_args& a) {
  stopwatch clock;
  const scheme_choice sc = parse_scheme(a.scheme, a.normalize);
  check_input(a.labels);
  const bool npy = extension_of(a.labels) == ".npy";
  if (npy && !a.column.empty()) throw usage_error("--column is for CSV label files");
  table t;  // CSV: the label codes and their display names
  std::vector<std::int64_t> y;
  if (npy) {
    y = read_npy_labels(a.labels);
  } else {
    table_options o;
    o.path = a.labels;
    o.label = a.column;
    t = read_table(o);
    y = t.y;
  }
  nlohmann::json j;
  j["labels"] = a.labels;
  if (!npy) j["column"] = t.label_name;
  j["scheme"] = a.scheme;
  j["samples"] = y.size();
  nlohmann::json classes = nlohmann::json::array();
  try {
    ladle::class_counter counter;
    counter.add(ladle::make_view(static_cast<const std::int64_t*>(y.data()), static_cast<ladle::index_t>(y.size())));
    const auto& labels = counter.labels();
    const auto& counts = counter.counts();
    auto display = [&](std::int64_t code) { return npy ? std::to_string(code) : t.label_display(code); };
    if (sc.temperature) {
      const auto sizes = ladle::make_view(counts.data(), static_cast<ladle::index_t>(counts.size()));
      const auto p = ladle::temperature_probabilities(sizes, sc.tau);
      const auto w = ladle::scalarization_weights(sizes, sc.tau);
      for (std::size_t c = 0; c < labels.size(); ++c)
        classes.push_back({{"label", display(labels[c])}, {"count", static_cast<std::int64_t>(counts[c])},
                           {"weight", w[c]}, {"probability", p[c]}});
    } else {
      const auto table = ladle::class_weights(counter, sc.opts);
      for (std::size_t c = 0; c < labels.size(); ++c)
        classes.push_back({{"label", display(labels[c])}, {"count", static_cast<std::int64_t>(counts[c])},
                           {"weight", table.weights[c]}});
    }
  } catch (const ladle::error& e) {
    throw failure(a.labels + ": " + e.what());
  }
  j["classes"] = classes;
  std::cout << j.dump(2) << std::endl;
  if (!a.common.quiet) {
    std::ostringstream s;
    s << "weights: " << a.labels << " " << y.size() << " labels, " << classes.size() << " classes ("
      << a.scheme << ") in " << human_seconds(clock.seconds());
    std::cerr << s.str() << std::endl;
  }
}

}  // namespace

verb add_weights(CLI::App& app) {
  auto a = std::make_shared<weights_args>();
  CLI::App* cmd = app.add_subcommand(
      "weights",
      "Class weights of a label file, as JSON on stdout (count and weight per class, ascending "
      "labels; the summary line goes to stderr).");
  cmd->add_option("--labels", a->labels, "FILE.npy (1-d int32/int64) or FILE.csv (header row)")->required();
  cmd->add_option("--column", a->column, "CSV label column name (default: the last column)");
  cmd->add_option("--scheme", a->scheme,
                  "balanced (N/(C n_c), scikit-learn's) | inverse (1/n_c) | sqrt (1/sqrt(n_c)) | "
                  "effective:BETA ((1-b)/(1-b^n_c), summing to C) | temperature:TAU (p/q with "
                  "p ~ q^(1/TAU))")
      ->required();
  cmd->add_option("--normalize", a->normalize,
                  "auto (the scheme's own: none, sum-classes for effective) | none | mean-one | "
                  "sum-classes | sum-one")
      ->default_val("auto");
  add_common_options(*cmd, a->common, false);
  return {cmd, [a] { run(*a); }};
}

}  // namespace ladle_cli
