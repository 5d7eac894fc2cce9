// tools/ladle/verb_smote.cpp: `ladle smote IN -o OUT`, the resampling family on a file.
//
// Reads a labelled table (CSV, or .npy features + --labels), runs one resampler of
// ladle/resampling.hpp and writes the result in the input's format: the kept original rows in
// their order, then the synthetic rows class by class. --audit writes one line per output row
// saying where it came from (input row, or base row, neighbour row and gap).
#include "common.hpp"
#include "csv.hpp"
#include "table.hpp"
#include "verbs.hpp"

#include <ladle/io/file.hpp>
#include <ladle/resampling.hpp>

#include <map>
#include <memory>
#include <optional>
#include <sstream>

namespace ladle_cli {

namespace {

struct smote_args {
  common_options common;
  table_options in;
  std::string output, labels_out, audit;
  std::string method = "smote";
  std::optional<std::int64_t> k, m, clusters, enn_k;
  std::string strategy = "auto";
  std::vector<std::string> categorical;
  std::string kind = "all";
  std::optional<double> shrinkage;
  bool replacement = false;
  std::uint64_t seed = 0;
};

const std::vector<std::string> methods = {
    "smote",        "borderline-1", "borderline-2", "adasyn", "smote-nc",
    "smoten",       "kmeans-smote", "random-over",  "random-under", "tomek",
    "enn",          "smote-tomek",  "smote-enn"};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream is(s);
  while (std::getline(is, cur, ','))
    if (!cur.empty()) out.push_back(cur);
  return out;
}

/// --strategy text -> ladle::sampling_strategy (class names are the labels as the file spells them).
ladle::sampling_strategy parse_strategy(const std::string& s, const table& t) {
  if (s == "auto" || s == "minority" || s == "majority" || s == "all") return ladle::sampling_strategy(s);
  if (s == "not-minority" || s == "not minority") return ladle::sampling_strategy("not minority");
  if (s == "not-majority" || s == "not majority") return ladle::sampling_strategy("not majority");
  if (s.find('=') != std::string::npos) {
    std::map<std::int64_t, ladle::index_t> counts;
    for (const std::string& item : split_list(s)) {
      const auto eq = item.find('=');
      if (eq == std::string::npos)
        throw usage_error("--strategy: '" + item + "' is not CLASS=COUNT");
      const std::string name = item.substr(0, eq);
      std::int64_t code = 0;
      if (t.label_text.is_text) {
        const auto& n = t.label_text.names;
        const auto it = std::find(n.begin(), n.end(), name);
        if (it == n.end()) throw usage_error("--strategy: no class '" + name + "' in the labels");
        code = it - n.begin();
      } else {
        code = parse_int(name, "--strategy class");
      }
      const std::int64_t count = parse_int(item.substr(eq + 1), "--strategy count");
      if (count < 0) throw usage_error("--strategy: count for class '" + name + "' is negative");
      counts[code] = count;
    }
    return ladle::sampling_strategy(std::move(counts));
  }
  double ratio = 0;
  try {
    ratio = parse_double(s, "--strategy");
  } catch (const usage_error&) {
    throw usage_error("--strategy: '" + s +
                      "' is not auto, minority, majority, not-minority, not-majority, all, a "
                      "ratio in (0, 1] or CLASS=COUNT,...");
  }
  return ladle::sampling_strategy(ratio);
}

std::string class_counts(const table& t, const std::int64_t* y, ladle::index_t n) {
  std::map<std::int64_t, ladle::index_t> c;
  for (ladle::index_t i = 0; i < n; ++i) ++c[y[i]];
  std::string s = "{";
  bool first = true;
  for (const auto& kv : c) {
    s += (first ? "" : ", ") + t.label_display(kv.first) + ": " + std::to_string(kv.second);
    first = false;
  }
  return s + "}";
}

template <class T>
ladle::resample_result<T, std::int64_t> resample(const smote_args& a, const table& t,
                                                 const T* X) {
  const auto policy = policy_of(a.common);
  const auto Xv = ladle::make_view(X, {t.rows, t.cols});
  const auto yv = ladle::make_view(t.y.data(), t.rows);
  const ladle::sampling_strategy strategy = parse_strategy(a.strategy, t);
  const ladle::seed s{a.seed};
  const std::string& m = a.method;
  auto k_or = [&](ladle::index_t d) { return a.k ? static_cast<ladle::index_t>(*a.k) : d; };
  if (m == "smote") return ladle::smote(policy, Xv, yv, ladle::smote_options{strategy, k_or(5)}, s);
  if (m == "borderline-1" || m == "borderline-2") {
    ladle::borderline_smote_options o;
    o.strategy = strategy;
    o.k = k_or(5);
    if (a.m) o.m = *a.m;
    o.kind = m == "borderline-1" ? ladle::borderline_kind::borderline1 : ladle::borderline_kind::borderline2;
    return ladle::borderline_smote(policy, Xv, yv, o, s);
  }
  if (m == "adasyn") return ladle::adasyn(policy, Xv, yv, ladle::adasyn_options{strategy, k_or(5)}, s);
  if (m == "smote-nc") {
    if (t.categorical.empty())
      throw usage_error("--method smote-nc needs --categorical COLS (the nominal columns)");
    ladle::smote_nc_options o;
    o.strategy = strategy;
    o.k = k_or(5);
    o.categorical = t.categorical;
    return ladle::smote_nc(policy, Xv, yv, o, s);
  }
  if (m == "smoten") return ladle::smoten(policy, Xv, yv, ladle::smoten_options{strategy, k_or(5)}, s);
  if (m == "kmeans-smote") {
    ladle::kmeans_smote_options o;
    o.strategy = strategy;
    o.k = k_or(2);
    if (a.clusters) o.clusters = *a.clusters;
    return ladle::kmeans_smote(policy, Xv, yv, o, s);
  }
  if (m == "random-over") {
    ladle::random_over_options o;
    o.strategy = strategy;
    o.shrinkage = a.shrinkage;
    return ladle::random_over_sample(policy, Xv, yv, o, s);
  }
  if (m == "random-under") {
    ladle::random_under_options o;
    o.strategy = strategy;
    o.replacement = a.replacement;
    return ladle::random_under_sample(policy, Xv, yv, o, s);
  }
  if (m == "tomek") return ladle::tomek_links(policy, Xv, yv, ladle::tomek_options{strategy});
  const ladle::enn_kind kind = a.kind == "mode" ? ladle::enn_kind::mode : ladle::enn_kind::all;
  if (m == "enn") return ladle::edited_nearest_neighbours(policy, Xv, yv, ladle::enn_options{strategy, k_or(3), kind});
  if (m == "smote-tomek") return ladle::smote_tomek(policy, Xv, yv, ladle::smote_options{strategy, k_or(5)}, s);
  if (m == "smote-enn") {
    ladle::smote_enn_options o;
    o.smote = ladle::smote_options{strategy, k_or(5)};
    if (a.enn_k) o.enn_k = *a.enn_k;
    o.enn_kind = kind;
    return ladle::smote_enn(policy, Xv, yv, o, s);
  }
  throw usage_error("--method: unknown method '" + m + "'");
}

template <class T>
void write_audit(const std::string& path, bool overwrite, const table& t,
                 const ladle::resample_result<T, std::int64_t>& r) {
  ladle::atomic_file_writer w(path, overwrite, "write");
  w.write(std::string("row,label,kind,source,neighbor,gap\n"));
  std::string line;
  for (ladle::index_t i = 0; i < r.rows(); ++i) {
    line = std::to_string(i) + "," + quote_csv(t.label_display(r.y.data()[i])) + ",";
    if (i < r.kept()) {
      line += "original," + std::to_string(r.sample_indices.data()[i]) + ",,\n";
    } else {
      const ladle::index_t j = i - r.kept();
      const ladle::index_t nb = r.neighbor.data()[j];
      line += "synthetic," + std::to_string(r.base.data()[j]) + "," +
              (nb >= 0 ? std::to_string(nb) : std::string()) + "," +
              format_number(r.gap.data()[j]) + "\n";
    }
    w.write(line);
  }
  w.commit();
}

template <class T>
void run_typed(const smote_args& a, const table& t, const T* X, progress& bar, const stopwatch& clock,
               const std::string& labels_out) {
  bar.stage("resampling (" + a.method + ")");
  const auto r = resample(a, t, X);
  bar.stage("writing " + a.output);
  write_table(t, a.output, labels_out, r.X.data(), r.y.data(), r.rows(), a.common.force);
  if (!a.audit.empty()) {
    try {
      write_audit(a.audit, a.common.force, t, r);
    } catch (const ladle::error& e) {
      throw failure(e.what());
    }
  }
  bar.finish();
  std::ostringstream s;
  s << "smote: " << a.in.path << " " << t.rows << " rows " << class_counts(t, t.y.data(), t.rows)
    << " -> " << a.output << " " << r.rows() << " rows " << class_counts(t, r.y.data(), r.rows())
    << " (" << a.method << ": +" << r.synthetic() << " synthetic, -" << (t.rows - r.kept())
    << " removed) in " << human_seconds(clock.seconds());
  summary(a.common, s.str());
}

void run(const smote_args& a) {
  stopwatch clock;
  if (std::find(methods.begin(), methods.end(), a.method) == methods.end()) {
    std::string all;
    for (const auto& m : methods) all += (all.empty() ? "" : ", ") + m;
    throw usage_error("--method: unknown method '" + a.method + "' (one of " + all + ")");
  }
  if (a.kind != "all" && a.kind != "mode")
    throw usage_error("--kind: '" + a.kind + "' is not 'all' or 'mode'");
  check_input(a.in.path);
  if (!a.in.labels_path.empty()) check_input(a.in.labels_path);
  std::vector<std::string> inputs = {a.in.path};
  if (!a.in.labels_path.empty()) inputs.push_back(a.in.labels_path);
  const bool npy = extension_of(a.in.path) == ".npy";
  if (extension_of(a.output) != extension_of(a.in.path))
    throw usage_error("output '" + a.output + "' must have the input's format (" +
                      (extension_of(a.in.path).empty() ? std::string("no extension") : extension_of(a.in.path)) + ")");
  const std::string labels_out =
      npy ? (a.labels_out.empty() ? default_labels_path(a.output) : a.labels_out) : std::string();
  if (!npy && !a.labels_out.empty()) throw usage_error("--labels-out is for .npy outputs");
  check_output(a.output, inputs, a.common);
  if (npy) check_output(labels_out, inputs, a.common);
  if (!a.audit.empty()) check_output(a.audit, inputs, a.common);

  progress bar(a.common, "smote");
  bar.stage("reading " + a.in.path);
  table_options in = a.in;
  in.categorical = a.categorical;
  const table t = read_table(in);
  try {
    if (t.float32) run_typed(a, t, t.X32.data(), bar, clock, labels_out);
    else run_typed(a, t, t.X64.data(), bar, clock, labels_out);
  } catch (const ladle::error& e) {
    throw failure(a.in.path + ": " + e.what());
  }
}

}  // namespace

verb add_smote(CLI::App& app) {
  auto a = std::make_shared<smote_args>();
  CLI::App* cmd = app.add_subcommand(
      "smote",
      "Resample a labelled table (CSV or .npy + labels): SMOTE family over-sampling, "
      "under-sampling and cleaning. Output: the kept input rows in order, then synthetic rows "
      "class by class, in the input's format.");
  cmd->add_option("input", a->in.path, "Input table: FILE.csv (header row, label column) or FILE.npy (2-d features)")
      ->required();
  cmd->add_option("-o,--output", a->output, "Output file, same format as the input")->required();
  cmd->add_option("--label", a->in.label, "CSV label column name (default: the last column)");
  cmd->add_flag("--no-header", a->in.no_header, "CSV has no header row (columns are named 0, 1, ...)");
  cmd->add_option("--labels", a->in.labels_path, ".npy input: the 1-d label file");
  cmd->add_option("--labels-out", a->labels_out, ".npy output: where the labels go (default OUT.labels.npy)");
  std::string method_help = "Resampling method: ";
  for (std::size_t i = 0; i < methods.size(); ++i) method_help += (i ? "|" : "") + methods[i];
  cmd->add_option("--method", a->method, method_help)->default_val("smote");
  cmd->add_option("-k,--k", a->k, "Neighbours (default 5; kmeans-smote 2, enn 3)")->check(CLI::PositiveNumber);
  cmd->add_option("--m", a->m, "borderline-1/2: neighbours deciding danger rows (default 10)")->check(CLI::PositiveNumber);
  cmd->add_option("--strategy", a->strategy,
                  "auto|minority|majority|not-minority|not-majority|all|RATIO|CLASS=COUNT,... "
                  "(imbalanced-learn's sampling_strategy)")
      ->default_val("auto");
  cmd->add_option("--categorical", a->categorical, "smote-nc: nominal columns, names or 0-based indices, comma separated or repeated");
  cmd->add_option("--clusters", a->clusters, "kmeans-smote: k-means clusters (default 8)")->check(CLI::PositiveNumber);
  cmd->add_option("--shrinkage", a->shrinkage, "random-over: smoothed bootstrap noise scale (>= 0)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--replacement", a->replacement, "random-under: draw with replacement");
  cmd->add_option("--enn-k", a->enn_k, "smote-enn: ENN neighbours (default 3)")->check(CLI::PositiveNumber);
  cmd->add_option("--kind", a->kind, "enn, smote-enn: all (any neighbour disagrees) or mode (majority vote)")->default_val("all");
  cmd->add_option("--seed", a->seed, "Random seed (Philox); same seed, same output")->default_val(0);
  cmd->add_option("--audit", a->audit, "Write a CSV saying where each output row came from");
  add_common_options(*cmd, a->common, true);
  return {cmd, [a] { run(*a); }};
}

}  // namespace ladle_cli
