// tools/ladle/verb_select.cpp: `ladle select IN -o INDICES --method M --size K|FRACTION`, the
// selection family on a file.
//
// Reads the rows of IN (CSV with a header row: features and a label column; or a 2-d .npy feature
// file, with --labels Y.npy when the method needs labels), chooses K of them with one function of
// ladle/selection.hpp and writes their row indices (0-based, in file order) as a 1-d int64 .npy,
// or as a CSV with one `index` column. k-center and facility-location write their picks in selection
// order, every other method ascending. dsir reads text instead (IN and --target: one document per
// line, or JSON Lines with --field) and writes the chosen documents' lines in input order (or,
// for an .npy / .csv output, their indices).
#include "common.hpp"
#include "csv.hpp"
#include "table.hpp"
#include "verbs.hpp"

#include <ladle/io/file.hpp>
#include <ladle/io/npy.hpp>
#include <ladle/selection.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

namespace ladle_cli {

namespace {

struct select_args {
  common_options common;
  table_options in;
  std::string output, method, size, weights, weights_column, scores;
  std::uint64_t seed = 0;
  std::uint64_t epoch = 0;
  bool balanced = false;  ///< rs2: class-balanced rounds
  // dsir
  std::string target, field, log_weights;
  std::uint32_t buckets = 10000;
  int ngrams = 2;
  double min_length = 100, smoothing = 0;
  bool top_k = false;
};



const std::vector<std::string> methods = {"random",   "stratified",        "rs2",  "weighted",
                                          "k-center", "facility-location", "el2n", "dsir"};

/// What a method needs from IN.
bool needs_features(const std::string& m) { return m == "k-center" || m == "facility-location"; }
bool needs_labels(const select_args& a) { return a.method == "stratified" || a.balanced; }

/// The rows of IN: their number, and the features / labels when the method needs them.
struct rows {
  index_t n = 0, d = 0;
  std::vector<double> X;          ///< n x d, k-center and facility-location only (float32 widens exactly)
  std::vector<std::int64_t> y;    ///< stratified and balanced rs2 only
};

rows read_rows(const select_args& a) {
  const bool npy = extension_of(a.in.path) == ".npy";
  rows r;
  if (!npy || !a.in.labels_path.empty()) {
    // CSV (the label column excluded from the features), or .npy features + labels.
    const table t = read_table(a.in);
    r.n = t.rows;
    r.d = t.cols;
    if (needs_features(a.method)) {
      if (t.float32) r.X.assign(t.X32.begin(), t.X32.end());
      else r.X = t.X64;
    }
    r.y = t.y;
    return r;
  }
  // .npy features alone: only the shape, unless k-center or facility-location reads them.
  try {
    ladle::npy_file f(a.in.path);
    const auto& h = f.header();
    if (h.shape.size() != 2)
      throw failure(a.in.path + ": features must be a 2-d array (rows, columns), found rank " +
                    std::to_string(h.shape.size()));
    if (h.dtype != ladle::npy_dtype::float32 && h.dtype != ladle::npy_dtype::float64)
      throw failure(a.in.path + ": features must be float32 or float64, found " +
                    ladle::npy_dtype_name(h.dtype));
    r.n = h.shape[0];
    r.d = h.shape[1];
    if (r.n == 0 || r.d == 0) throw failure(a.in.path + ": the array is empty");
    if (needs_features(a.method)) {
      r.X.resize(static_cast<std::size_t>(h.size()));
      f.copy_to(r.X.data(), h.size());
    }
  } catch (const ladle::error& e) {
    throw failure(e.what());
  }
  return r;
}

/// --size: an integer count in [1, n], or a fraction in (0, 1) rounded to nearest, ties to even.
index_t parse_size(const std::string& text, index_t n, const std::string& input) {
  const bool integral = !text.empty() && text.find_first_of(".eE") == std::string::npos;
  if (integral) {
    const std::int64_t k = parse_int(text, "--size");
    if (k < 1) throw usage_error("--size: " + text + " rows is not a count >= 1");
    if (k > n)
      throw usage_error("--size: " + text + " is larger than the " + std::to_string(n) +
                        " rows of '" + input + "'");
    return k;
  }
  const double f = parse_double(text, "--size");
  if (!(f > 0 && f < 1))
    throw usage_error("--size: fraction " + text + " is not in (0, 1) (give a count for whole numbers)");
  const index_t k = ladle::subset_size(n, f, "ladle select");
  if (k < 1)
    throw usage_error("--size: fraction " + text + " of " + std::to_string(n) +
                      " rows rounds to 0 rows");
  return k;
}

/// A 1-d number file of n entries for --weights / --scores: .npy (any of the four dtypes), or a
/// CSV with a header row (column `column`, default the last).
std::vector<double> read_vector(const std::string& option, const std::string& path,
                                const std::string& column, index_t n) {
  std::vector<double> v;
  if (extension_of(path) == ".npy") {
    try {
      ladle::npy_file f(path);
      const auto& h = f.header();
      if (h.shape.size() != 1)
        throw failure(option + " '" + path + "': must be a 1-d array, found rank " +
                      std::to_string(h.shape.size()));
      if (h.shape[0] != n)
        throw failure(option + " '" + path + "': has " + std::to_string(h.shape[0]) +
                      " values but the input has " + std::to_string(n) + " rows");
      v.resize(static_cast<std::size_t>(n));
      f.copy_to(v.data(), n);
    } catch (const ladle::error& e) {
      throw failure(e.what());
    }
  } else if (extension_of(path) == ".csv") {
    std::optional<std::size_t> col;
    read_csv_records(path, [&](const csv_record& r) {
      if (!col) {  // the header
        if (column.empty()) {
          col = r.fields.size() - 1;
        } else {
          const auto it = std::find(r.fields.begin(), r.fields.end(), column);
          if (it == r.fields.end())
            throw usage_error(option + "-column: '" + path + "' has no column '" + column + "'");
          col = static_cast<std::size_t>(it - r.fields.begin());
        }
        return;
      }
      double x = 0;
      if (!parse_csv_number(r.fields[*col], x))
        throw failure(path + ":" + std::to_string(r.line) + ": column " + std::to_string(*col + 1) +
                      ": '" + r.fields[*col] + "' is not a finite number");
      if (static_cast<index_t>(v.size()) == n)
        throw failure(option + " '" + path + "': has more values than the " + std::to_string(n) +
                      " rows of the input");
      v.push_back(x);
    });
    if (static_cast<index_t>(v.size()) != n)
      throw failure(option + " '" + path + "': has " + std::to_string(v.size()) +
                    " values but the input has " + std::to_string(n) + " rows");
  } else {
    throw usage_error(option + ": '" + path + "' is neither .npy nor .csv");
  }
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      throw failure(option + " '" + path + "': value " + std::to_string(i) + " is not finite");
  return v;
}

void write_indices(const std::string& path, const std::vector<index_t>& idx, bool overwrite) {
  try {
    if (extension_of(path) == ".csv") {
      ladle::atomic_file_writer w(path, overwrite, "write");
      std::string text = "index\n";
      for (index_t i : idx) text += std::to_string(i) + "\n";
      w.write(text);
      w.commit();
    } else {
      std::vector<std::int64_t> out(idx.begin(), idx.end());
      ladle::save_npy(path, ladle::make_view(static_cast<const std::int64_t*>(out.data()),
                                             static_cast<index_t>(out.size())),
                      overwrite);
    }
  } catch (const ladle::error& e) {
    throw failure(e.what());
  }
}

/// A text input: JSON Lines when the name ends in .jsonl (member --field, default "text").
ladle::dsir_text_file text_file(const std::string& path, const std::string& field) {
  return {path, extension_of(path) == ".jsonl" ? (field.empty() ? std::string("text") : field) : ""};
}

/// --method dsir: fit the raw and target models, score the raw documents, resample, write.
void run_dsir(const select_args& a) {
  stopwatch clock;
  if (a.target.empty()) throw usage_error("--method dsir needs --target FILE (.txt: a document per line, or .jsonl)");
  if (!a.weights.empty() || !a.scores.empty() || a.epoch != 0 || a.balanced || !a.in.labels_path.empty())
    throw usage_error("--method dsir takes --target, --field, --buckets, --ngrams, --min-length, --smoothing, "
                      "--top-k and --log-weights (not --weights, --scores, --epoch, --balanced, --labels)");
  if (a.buckets == 0) throw usage_error("--buckets: must be at least 1, got 0");
  if (a.ngrams < 1 || a.ngrams > 8) throw usage_error("--ngrams: must be in [1, 8], got " + std::to_string(a.ngrams));
  if (!std::isfinite(a.min_length)) throw usage_error("--min-length: must be finite");
  if (!(a.smoothing >= 0) || !std::isfinite(a.smoothing)) throw usage_error("--smoothing: must be finite and >= 0");
  if (!a.log_weights.empty() && extension_of(a.log_weights) != ".npy")
    throw usage_error("--log-weights '" + a.log_weights + "' must end in .npy");
  if (!a.field.empty() && extension_of(a.in.path) != ".jsonl" && extension_of(a.target) != ".jsonl")
    throw usage_error("--field is for .jsonl inputs");
  const std::vector<std::string> inputs = {a.in.path, a.target};
  for (const std::string& p : inputs) check_input(p);
  check_output(a.output, inputs, a.common);
  if (!a.log_weights.empty()) check_output(a.log_weights, inputs, a.common);

  const ladle::dsir_text_file raw = text_file(a.in.path, a.field), target = text_file(a.target, a.field);
  const ladle::dsir_options opts{a.buckets, a.ngrams};
  const auto policy = policy_of(a.common);
  progress bar(a.common, "select");
  ladle::dsir_scores sc;
  std::vector<index_t> idx;
  index_t k = 0, passing = 0;
  try {
    bar.stage("fitting the target model on " + a.target);
    const ladle::dsir_ngram_model tm = ladle::dsir_fit(policy, target, opts);
    bar.stage("fitting the raw model on " + a.in.path);
    const ladle::dsir_ngram_model rm = ladle::dsir_fit(policy, raw, opts);
    const std::vector<double> ratios = ladle::dsir_log_ratios(rm, tm, a.smoothing);
    bar.stage("scoring " + a.in.path);
    sc = ladle::dsir_score(policy, raw, ratios, opts);
    const auto n = static_cast<index_t>(sc.log_weights.size());
    if (n == 0) throw failure(a.in.path + ": no documents");
    k = parse_size(a.size, n, a.in.path);
    for (double len : sc.lengths) passing += len >= a.min_length;
    if (k > passing)
      throw failure(a.in.path + ": --size " + std::to_string(k) + " but only " + std::to_string(passing) + " of " +
                    std::to_string(n) + " documents have at least --min-length " + format_number(a.min_length) +
                    " tokens");
    bar.stage("resampling");
    ladle::dsir_resample_options ro;
    ro.min_length = a.min_length;
    ro.top_k = a.top_k;
    idx = ladle::dsir_resample(policy, ladle::make_view(static_cast<const double*>(sc.log_weights.data()), n),
                               ladle::make_view(static_cast<const double*>(sc.lengths.data()), n), k,
                               ladle::seed{a.seed}, ro);
  } catch (const ladle::error& e) {
    throw failure(e.what());
  }
  bar.stage("writing " + a.output);
  const std::string ext = extension_of(a.output);
  try {
    if (ext == ".npy" || ext == ".csv") {
      write_indices(a.output, idx, a.common.force);
    } else {  // the chosen lines, as they are in the input (line ends normalised to '\n')
      ladle::atomic_file_writer w(a.output, a.common.force, "write");
      std::size_t next = 0;
      index_t line_no = 0;
      std::ifstream in(a.in.path, std::ios::binary);
      std::string buffer, line;
      while (next < idx.size() && std::getline(in, line)) {
        if (line_no++ != idx[next]) continue;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        buffer += line;
        buffer += '\n';
        ++next;
        if (buffer.size() >= (1u << 20)) {
          w.write(buffer);
          buffer.clear();
        }
      }
      if (next != idx.size()) throw failure(a.in.path + ": changed while it was read");
      w.write(buffer);
      w.commit();
    }
    if (!a.log_weights.empty())
      ladle::save_npy(a.log_weights,
                      ladle::make_view(static_cast<const double*>(sc.log_weights.data()),
                                       static_cast<index_t>(sc.log_weights.size())),
                      a.common.force);
  } catch (const ladle::error& e) {
    throw failure(e.what());
  }
  bar.finish();
  std::ostringstream line;
  line << "select: " << a.in.path << " n=" << sc.log_weights.size() << " -> " << a.output << " k=" << idx.size()
       << " (dsir, seed " << a.seed << ", target " << a.target << ", " << passing << " documents of >= "
       << format_number(a.min_length) << " tokens" << (a.top_k ? ", top-k" : ", Gumbel top-k") << ") in "
       << human_seconds(clock.seconds());
  summary(a.common, line.str());
}

void run(const select_args& a) {
  stopwatch clock;
  // The command line first, before any file is read.
  if (std::find(methods.begin(), methods.end(), a.method) == methods.end()) {
    std::string all;
    for (const auto& m : methods) all += (all.empty() ? "" : ", ") + m;
    throw usage_error("--method: unknown method '" + a.method + "' (one of " + all + ")");
  }
  if (a.method == "dsir") return run_dsir(a);
  if (!a.target.empty() || !a.field.empty() || !a.log_weights.empty() || a.top_k)
    throw usage_error("--target, --field, --top-k and --log-weights are for --method dsir");
  if (a.method == "weighted" && a.weights.empty())
    throw usage_error("--method weighted needs --weights FILE (.npy or .csv, one weight per row)");
  if (a.method != "weighted" && !a.weights.empty())
    throw usage_error("--weights is for --method weighted, not " + a.method);
  if (!a.weights_column.empty() && extension_of(a.weights) != ".csv")
    throw usage_error("--weights-column is for a CSV --weights file");
  if (a.method == "el2n" && a.scores.empty())
    throw usage_error("--method el2n needs --scores FILE.npy (one EL2N score per row)");
  if (a.method != "el2n" && !a.scores.empty())
    throw usage_error("--scores is for --method el2n, not " + a.method);
  if (a.method != "rs2" && a.epoch != 0) throw usage_error("--epoch is for --method rs2");
  if (a.method != "rs2" && a.balanced) throw usage_error("--balanced is for --method rs2");
  const std::string out_ext = extension_of(a.output);
  if (out_ext != ".npy" && out_ext != ".csv")
    throw usage_error("output '" + a.output + "' must end in .npy (int64) or .csv (an index column)");
  const bool npy_in = extension_of(a.in.path) == ".npy";
  if (needs_labels(a) && npy_in && a.in.labels_path.empty())
    throw usage_error(std::string(a.balanced ? "--method rs2 --balanced" : "--method stratified") +
                      " needs labels: '" + a.in.path + "' is an .npy feature file, give --labels Y.npy");
  if (!npy_in && !a.in.labels_path.empty())
    throw usage_error("--labels is for .npy feature files; a CSV holds its labels in a column (--label NAME)");
  if (npy_in && !a.in.label.empty()) throw usage_error("--label is for CSV input (.npy: --labels FILE)");

  std::vector<std::string> inputs = {a.in.path};
  for (const std::string* p : {&a.in.labels_path, &a.weights, &a.scores})
    if (!p->empty()) inputs.push_back(*p);
  for (const std::string& p : inputs) check_input(p);
  check_output(a.output, inputs, a.common);

  progress bar(a.common, "select");
  bar.stage("reading " + a.in.path);
  const rows r = read_rows(a);
  const index_t k = parse_size(a.size, r.n, a.in.path);
  std::vector<double> w;
  if (a.method == "weighted") {
    w = read_vector("--weights", a.weights, a.weights_column, r.n);
    index_t positive = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (w[i] < 0)
        throw failure("--weights '" + a.weights + "': weight " + std::to_string(i) + " is negative (" +
                      format_number(w[i]) + ")");
      positive += w[i] > 0;
    }
    if (positive < k)
      throw failure("--weights '" + a.weights + "': only " + std::to_string(positive) +
                    " positive weights for --size " + std::to_string(k) +
                    " (zero weights are never selected)");
  }
  if (a.method == "el2n") w = read_vector("--scores", a.scores, "", r.n);

  bar.stage("selecting (" + a.method + ")");
  const ladle::seed s{a.seed};
  const auto policy = policy_of(a.common);
  std::vector<index_t> idx;
  std::string extra;
  try {
    if (a.method == "random") {
      idx = ladle::uniform_subset(r.n, k, s);
    } else if (a.method == "stratified") {
      idx = ladle::stratified_subset(ladle::make_view(static_cast<const std::int64_t*>(r.y.data()), r.n),
                                     k, ladle::stratify::proportional, s);
    } else if (a.method == "weighted") {
      idx = ladle::weighted_sample(policy, ladle::make_view(static_cast<const double*>(w.data()), r.n), k, s);
    } else if (a.method == "rs2" && a.balanced) {
      // Each class its own schedule at the fraction k / n: a round takes max(1, round(f n_c)) rows
      // of class c, so its size is near K but not always K.
      const ladle::rs2_schedule schedule(ladle::make_view(static_cast<const std::int64_t*>(r.y.data()), r.n),
                                         static_cast<double>(k) / static_cast<double>(r.n), s);
      idx = schedule.round(a.epoch);
      std::sort(idx.begin(), idx.end());
      extra = ", class-balanced, epoch " + std::to_string(a.epoch) + " of a pass of " +
              std::to_string(schedule.rounds_per_pass());
    } else if (a.method == "rs2") {
      // round(f n) = k for f = k / n (the product is within an ulp or two of k).
      const ladle::rs2_schedule schedule(r.n, static_cast<double>(k) / static_cast<double>(r.n), s);
      if (schedule.round_size() != k)
        throw failure("rs2: round size " + std::to_string(schedule.round_size()) + " differs from --size " +
                      std::to_string(k));
      idx = schedule.round(a.epoch);
      std::sort(idx.begin(), idx.end());
      extra = ", epoch " + std::to_string(a.epoch) + " of a pass of " +
              std::to_string(schedule.rounds_per_pass());
    } else if (a.method == "k-center") {
      const auto X = ladle::make_view(static_cast<const double*>(r.X.data()), {r.n, r.d});
      const ladle::k_center_result kc = ladle::k_center_greedy(policy, X, k, s);
      idx = kc.order;
      extra = ", covering radius " + format_number(kc.radius);
    } else if (a.method == "facility-location") {
      // Lazy greedy: the exact greedy's picks (same items and order), far fewer evaluations.
      const auto X = ladle::make_view(static_cast<const double*>(r.X.data()), {r.n, r.d});
      const ladle::facility_location_result fl = ladle::facility_location(policy, X, k);
      idx = fl.order;
      extra = ", objective " + format_number(fl.objective);
    } else if (a.method == "el2n") {
      idx = ladle::prune(ladle::make_view(static_cast<const double*>(w.data()), r.n), k);
      extra = ", the hardest (largest scores)";
    }
  } catch (const ladle::error& e) {
    throw failure(a.in.path + ": " + e.what());
  }
  bar.stage("writing " + a.output);
  write_indices(a.output, idx, a.common.force);
  bar.finish();
  std::ostringstream line;
  line << "select: " << a.in.path << " n=" << r.n << " -> " << a.output << " k=" << idx.size() << " ("
       << a.method << ", seed " << a.seed << extra << ") in " << human_seconds(clock.seconds());
  summary(a.common, line.str());
}

}  // namespace

verb add_select(CLI::App& app) {
  auto a = std::make_shared<select_args>();
  CLI::App* cmd = app.add_subcommand(
      "select",
      "Choose K rows of a table (CSV or .npy): random, stratified, RS2, weighted, k-center, facility-location or "
      "EL2N pruning. Writes their 0-based row indices (.npy int64 or CSV `index` column): "
      "k-center and facility-location in selection order, the others ascending. --method dsir reads text "
      "(a document per line, or .jsonl) and writes the chosen lines in input order (indices for .npy/.csv).");
  cmd->add_option("input", a->in.path, "Input table: FILE.csv (header row, label column) or FILE.npy (2-d features); "
                                       "dsir: raw text, FILE.txt (a document per line) or FILE.jsonl")
      ->required();
  cmd->add_option("-o,--output", a->output, "INDICES.npy (1-d int64) or INDICES.csv (one 'index' column); dsir: "
                                          "also any other name, which gets the chosen lines")
      ->required();
  std::string method_help = "Selection method: ";
  for (std::size_t i = 0; i < methods.size(); ++i) method_help += (i ? "|" : "") + methods[i];

  cmd->add_option("--method", a->method, method_help)->required();
  cmd->add_option("--size", a->size,
                  "K rows (an integer in [1, n]) or a FRACTION in (0, 1) of them (rounded to nearest, "
                  "ties to even)")
      ->required();
  cmd->add_option("--seed", a->seed, "Random seed (Philox); same seed, same output")->default_val(0);
  cmd->add_option("--label", a->in.label, "CSV: label column name (default: the last column); stratified and rs2 --balanced use it, k-center and facility-location leave it out of the features");
  cmd->add_flag("--no-header", a->in.no_header, "CSV has no header row (columns are named 0, 1, ...)");
  cmd->add_option("--labels", a->in.labels_path, "stratified and rs2 --balanced, .npy input: the 1-d label file");
  cmd->add_option("--weights", a->weights, "weighted: one weight >= 0 per row, FILE.npy (1-d) or FILE.csv (header row)");
  cmd->add_option("--weights-column", a->weights_column, "weighted, CSV weights: column name (default: the last column)");
  cmd->add_option("--scores", a->scores, "el2n: one score per row (larger = harder), FILE.npy (1-d) or FILE.csv");
  cmd->add_option("--epoch", a->epoch, "rs2: which round of the schedule (0, 1, ...)")->default_val(0);
  cmd->add_flag("--balanced", a->balanced,
                "rs2: class-balanced rounds (each class its own schedule; max(1, round(K n_c / n)) rows "
                "of class c per round)");
  cmd->add_option("--target", a->target, "dsir: target text, FILE.txt (a document per line) or FILE.jsonl");
  cmd->add_option("--field", a->field, "dsir: the JSON string member holding the text in .jsonl inputs (default: text)");
  cmd->add_option("--buckets", a->buckets, "dsir: hashed n-gram buckets")->default_val(10000);
  cmd->add_option("--ngrams", a->ngrams, "dsir: 1-grams up to N-grams")->default_val(2);
  cmd->add_option("--min-length", a->min_length,
                  "dsir: only documents of at least this many tokens are chosen (the reference's default)")
      ->default_val(100);
  cmd->add_option("--smoothing", a->smoothing, "dsir: pseudo-count added to every target bucket")->default_val(0);
  cmd->add_flag("--top-k", a->top_k, "dsir: the K largest importance weights, no Gumbel noise");
  cmd->add_option("--log-weights", a->log_weights, "dsir: also write every document's log importance weight (FILE.npy)");
  add_common_options(*cmd, a->common, true);
  return {cmd, [a] { run(*a); }};
}

}  // namespace ladle_cli
