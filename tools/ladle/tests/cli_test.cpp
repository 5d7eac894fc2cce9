// End-to-end tests of the `ladle` program: every case runs the built binary, then reads what it
// wrote and checks it against the library called directly, against format error bounds, and
// for the absence of partial outputs and changes to inputs.
#include "cli_support.hpp"
#include "csv.hpp"
#include "quant_formats.hpp"
#include "table.hpp"

#include <ladle/core/random.hpp>
#include <ladle/io/npy.hpp>
#include <ladle/io/safetensors.hpp>
#include <ladle/quantization.hpp>
#include <ladle/resampling.hpp>
#include <ladle/version.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

using namespace ladle_cli_test;

ladle_cli::table read_csv_table(const std::string& path, std::vector<std::string> categorical = {}) {
  ladle_cli::table_options o;
  o.path = path;
  o.categorical = std::move(categorical);
  return ladle_cli::read_table(o);
}

std::map<std::int64_t, ladle::index_t> counts(const std::vector<std::int64_t>& y) {
  std::map<std::int64_t, ladle::index_t> c;
  for (auto v : y) ++c[v];
  return c;
}

/// The library result the CLI must reproduce for `method` on the breast cancer table.
ladle::resample_result<double, std::int64_t> library(const std::string& method, const ladle_cli::table& t,
                                                     std::uint64_t seed) {
  const auto X = ladle::make_view(static_cast<const double*>(t.X64.data()), {t.rows, t.cols});
  const auto y = ladle::make_view(static_cast<const std::int64_t*>(t.y.data()), t.rows);
  const ladle::seed s{seed};
  if (method == "smote") return ladle::smote(X, y, ladle::smote_options{}, s);
  if (method == "borderline-2") {
    ladle::borderline_smote_options o;
    o.kind = ladle::borderline_kind::borderline2;
    return ladle::borderline_smote(X, y, o, s);
  }
  if (method == "adasyn") return ladle::adasyn(X, y, ladle::adasyn_options{}, s);
  if (method == "kmeans-smote") return ladle::kmeans_smote(X, y, ladle::kmeans_smote_options{}, s);
  if (method == "random-under") return ladle::random_under_sample(X, y, ladle::random_under_options{}, s);
  if (method == "tomek") return ladle::tomek_links(X, y);
  if (method == "enn") return ladle::edited_nearest_neighbours(X, y);
  if (method == "smote-enn") return ladle::smote_enn(ladle::seq, X, y, ladle::smote_enn_options{}, s);
  FAIL("no oracle for " << method);
  return {};
}

}  // namespace

TEST_CASE("cli: --version, --help, usage errors exit 2") {
  auto r = cli("--version");
  CHECK(r.rc == 0);
  CHECK(r.out == "ladle " LADLE_VERSION_STRING "\n");
  r = cli("--help");
  CHECK(r.rc == 0);
  for (const char* verb : {"inspect", "smote", "quantize", "dequantize"}) CHECK(contains(r.out, verb));
  r = cli("smote --help");
  CHECK(r.rc == 0);
  CHECK(contains(r.out, "--method"));
  CHECK(contains(r.out, "--audit"));
  CHECK(cli("").rc == 2);
  CHECK(cli("frobnicate").rc == 2);
  r = cli("smote '" + breast + "'");  // no -o
  CHECK(r.rc == 2);
  CHECK(contains(r.err, "--output"));
}

TEST_CASE("cli smote: CSV output equals the library call; audit trail; thread-count invariance") {
  const std::string out = at("smote.csv"), audit = at("audit.csv");
  auto r = cli("smote '" + breast + "' -o '" + out + "' --seed 7 --audit '" + audit + "' --threads 2");
  REQUIRE(r.rc == 0);
  CHECK(r.err.empty());  // no terminal: no progress
  CHECK(contains(r.out, "402 rows {0: 357, 1: 45}"));
  CHECK(contains(r.out, "714 rows {0: 357, 1: 357}"));

  const ladle_cli::table in = read_csv_table(breast);
  const ladle_cli::table got = read_csv_table(out);
  const auto want = library("smote", in, 7);
  REQUIRE(got.rows == want.rows());
  CHECK(got.column_names == in.column_names);
  CHECK(std::memcmp(got.X64.data(), want.X.data(), got.X64.size() * sizeof(double)) == 0);
  CHECK(std::equal(got.y.begin(), got.y.end(), want.y.data()));
  CHECK(counts(got.y) == std::map<std::int64_t, ladle::index_t>{{0, 357}, {1, 357}});

  // Audit: originals point at their input row; synthetic rows are fma(gap, X[nb] - X[b], X[b]).
  std::int64_t rows = 0, synthetic = 0;
  ladle_cli::read_csv_records(audit, [&](const ladle_cli::csv_record& rec) {
    if (rec.line == 1) {
      CHECK(rec.fields == std::vector<std::string>{"row", "label", "kind", "source", "neighbor", "gap"});
      return;
    }
    const auto i = static_cast<std::size_t>(std::stoll(rec.fields[0]));
    const auto src = static_cast<std::size_t>(std::stoll(rec.fields[3]));
    const auto d = static_cast<std::size_t>(in.cols);
    CHECK(std::to_string(got.y[i]) == rec.fields[1]);
    if (rec.fields[2] == "original") {
      CHECK(std::memcmp(&got.X64[i * d], &in.X64[src * d], d * sizeof(double)) == 0);
    } else {
      ++synthetic;
      const auto nb = static_cast<std::size_t>(std::stoll(rec.fields[4]));
      const double gap = std::stod(rec.fields[5]);
      CHECK(gap >= 0.0);
      CHECK(gap < 1.0);
      CHECK(in.y[src] == 1);
      CHECK(in.y[nb] == 1);
      for (std::size_t f = 0; f < d; ++f)
        CHECK(got.X64[i * d + f] == std::fma(gap, in.X64[nb * d + f] - in.X64[src * d + f], in.X64[src * d + f]));
    }
    ++rows;
  });
  CHECK(rows == 714);
  CHECK(synthetic == 312);

  // Same seed, one thread: the same bytes.
  r = cli("smote '" + breast + "' -o '" + at("smote1.csv") + "' --seed 7 --threads 1 --quiet");
  REQUIRE(r.rc == 0);
  CHECK(r.out.empty());
  CHECK(slurp(at("smote1.csv")) == slurp(out));
}

TEST_CASE("cli smote: each method writes what the library returns") {
  const ladle_cli::table in = read_csv_table(breast);
  for (const char* method : {"borderline-2", "adasyn", "kmeans-smote", "random-under", "tomek", "enn", "smote-enn"}) {
    CAPTURE(method);
    const std::string out = at(std::string("m_") + method + ".csv");
    const auto r = cli("smote '" + breast + "' -o '" + out + "' --method " + method + " --seed 3 -q");
    REQUIRE(r.rc == 0);
    const ladle_cli::table got = read_csv_table(out);
    const auto want = library(method, in, 3);
    REQUIRE(got.rows == want.rows());
    CHECK(std::memcmp(got.X64.data(), want.X.data(), got.X64.size() * sizeof(double)) == 0);
    CHECK(std::equal(got.y.begin(), got.y.end(), want.y.data()));
  }
  // The remaining methods run and give the counts their strategy implies.
  for (const char* method : {"borderline-1", "smoten", "random-over", "smote-tomek"}) {
    CAPTURE(method);
    const std::string out = at(std::string("m_") + method + ".csv");
    REQUIRE(cli("smote '" + breast + "' -o '" + out + "' --method " + method + " -q").rc == 0);
    const auto c = counts(read_csv_table(out).y);
    if (std::string(method) == "smote-tomek") CHECK(c.at(0) == c.at(1));
    else CHECK(c == std::map<std::int64_t, ladle::index_t>{{0, 357}, {1, 357}});
  }
  // Explicit per-class counts and a ratio.
  REQUIRE(cli("smote '" + breast + "' -o '" + at("counts.csv") + "' --strategy 1=100 -q").rc == 0);
  CHECK(counts(read_csv_table(at("counts.csv")).y) == std::map<std::int64_t, ladle::index_t>{{0, 357}, {1, 100}});
  REQUIRE(cli("smote '" + breast + "' -o '" + at("ratio.csv") + "' --strategy 0.5 -q").rc == 0);
  CHECK(counts(read_csv_table(at("ratio.csv")).y) == std::map<std::int64_t, ladle::index_t>{{0, 357}, {1, 178}});
}

TEST_CASE("cli smote: .npy features + labels in, same dtypes out") {
  const ladle_cli::table in = read_csv_table(breast);
  std::vector<float> X32(in.X64.begin(), in.X64.end());
  std::vector<std::int32_t> y32(in.y.begin(), in.y.end());
  ladle::save_npy(at("X.npy"), ladle::make_view(static_cast<const float*>(X32.data()), {in.rows, in.cols}));
  ladle::save_npy(at("y.npy"), ladle::make_view(static_cast<const std::int32_t*>(y32.data()), in.rows));
  auto r = cli("smote '" + at("X.npy") + "' --labels '" + at("y.npy") + "' -o '" + at("Xo.npy") + "' --seed 5");
  REQUIRE(r.rc == 0);
  ladle::npy_file fx(at("Xo.npy")), fy(at("Xo.labels.npy"));
  CHECK(fx.header().dtype == ladle::npy_dtype::float32);
  CHECK(fy.header().dtype == ladle::npy_dtype::int32);
  REQUIRE(fx.header().shape == std::vector<ladle::index_t>{714, in.cols});
  const auto want = ladle::smote(ladle::make_view(static_cast<const float*>(X32.data()), {in.rows, in.cols}),
                                 ladle::make_view(static_cast<const std::int32_t*>(y32.data()), in.rows),
                                 ladle::smote_options{}, ladle::seed{5});
  CHECK(std::memcmp(fx.data(), want.X.data(), static_cast<std::size_t>(want.X.size()) * 4) == 0);
  CHECK(std::memcmp(fy.data(), want.y.data(), static_cast<std::size_t>(want.y.size()) * 4) == 0);
  r = cli("smote '" + at("X.npy") + "' -o '" + at("nolabels.npy") + "'");
  CHECK(r.rc == 2);
  CHECK(contains(r.err, "--labels"));
  CHECK_FALSE(exists(at("nolabels.npy")));
}

TEST_CASE("cli smote: text labels, text categories (smote-nc), CRLF and quoted CSV") {
  std::string csv = "\xEF\xBB\xBF" "size,\"colour, main\",weight,class\r\n";
  const char* colours[] = {"red", "green", "\"blue\" ish"};
  for (int i = 0; i < 20; ++i) {
    const bool yes = i % 4 == 0;
    std::string colour = colours[i % 3];
    std::string quoted = "\"";
    for (char ch : colour) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    quoted += "\"";
    csv += std::to_string(10 + i) + "," + quoted + "," + std::to_string(0.5 * i) + "," + (yes ? "yes" : "no") + "\r\n";
    if (i == 7) csv += "\r\n";  // a blank line is skipped
  }
  spit(at("mixed.csv"), csv);
  auto r = cli("smote '" + at("mixed.csv") + "' -o '" + at("mixed_out.csv") +
                 "' --method smote-nc --categorical 'colour, main' -k 2 --seed 1");
  REQUIRE(r.rc == 0);
  CHECK(contains(r.out, "{no: 15, yes: 5}"));
  const ladle_cli::table got = read_csv_table(at("mixed_out.csv"), {"colour, main"});
  CHECK(got.rows == 30);
  CHECK(got.label_text.names == std::vector<std::string>{"no", "yes"});
  CHECK(got.column_names[1] == "colour, main");
  // Every category written is one of the input's.
  CHECK(got.feature_text[1].names.size() <= 3);
  for (const auto& n : got.feature_text[1].names) CHECK((n == "red" || n == "green" || n == "\"blue\" ish"));

  // Without --categorical the text column is a bad cell: line and column named.
  r = cli("smote '" + at("mixed.csv") + "' -o '" + at("never.csv") + "' -k 2");
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "mixed.csv:2: column 2 ('colour, main'): 'red' is not a finite number"));
  CHECK_FALSE(exists(at("never.csv")));
}

TEST_CASE("cli csv: malformed files are refused with file, line and column") {
  struct bad_csv { const char* text; const char* says; };
  for (const bad_csv& b : {bad_csv{"a,b,y\n1,2,0\n3,x4,1\n", "bad.csv:3: column 2 ('b'): 'x4' is not a finite number"},
                           bad_csv{"a,b,y\n1,2,0\n3,4\n", "bad.csv:3: expected 3 fields (as the header), found 2"},
                           bad_csv{"a,b,y\n1,2,0\n3,\"4,1\n", "bad.csv:3:3: quoted field is not closed"},
                           bad_csv{"a,b,y\n1,2\"2,0\n", "bad.csv:2:4: quote inside an unquoted field"},
                           bad_csv{"a,b,y\n1,,0\n", "bad.csv:2: column 2 ('b'): empty cell"},
                           bad_csv{"a,b,y\n1,nan,0\n", "'nan' is not a finite number"},
                           bad_csv{"a,b,y\n1,2,1.5\n", "bad.csv"},
                           bad_csv{"", "bad.csv: the file is empty"}}) {
    CAPTURE(b.text);
    spit(at("bad.csv"), b.text);
    const auto r = cli("smote '" + at("bad.csv") + "' -o '" + at("bad_out.csv") + "'");
    CHECK(r.rc == 1);
    CHECK(contains(r.err, b.says));
    CHECK_FALSE(exists(at("bad_out.csv")));
  }
}

TEST_CASE("cli: bad input gives exit code and message, leaves no output, never touches inputs") {
  const std::string input = slurp(breast);
  const std::set<std::string> before = listing();
  const std::string out = "-o '" + at("o.csv") + "'";
  struct bad_run { std::string args; int rc; const char* says; };
  for (const bad_run& b : {bad_run{"smote '" + at("missing.csv") + "' " + out, 1, "missing.csv"},
                           bad_run{"smote '" + breast + "' " + out + " --method magic", 2, "unknown method 'magic'"},
                           bad_run{"smote '" + breast + "' " + out + " --k abc", 2, "abc"},
                           bad_run{"smote '" + breast + "' " + out + " --k 0", 2, "--k"},
                           bad_run{"smote '" + breast + "' " + out + " --k 45", 1, "k"},
                           bad_run{"smote '" + breast + "' " + out + " --strategy banana", 2, "'banana' is not"},
                           bad_run{"smote '" + breast + "' " + out + " --strategy 1.5", 1, "1.5"},
                           bad_run{"smote '" + breast + "' " + out + " --label nope", 2, "no column 'nope'"},
                           bad_run{"smote '" + breast + "' -o '" + at("o.npy") + "'", 2, "input's format"},
                           bad_run{"smote '" + breast + "' -o '" + breast + "' --force", 2, "is the input"},
                           bad_run{"quantize '" + at("missing.safetensors") + "' -o '" + at("q.safetensors") + "' --format int8", 1, "missing.safetensors"},
                           bad_run{"quantize '" + breast + "' -o '" + at("q.safetensors") + "' --format int9", 2, "unknown format 'int9'"},
                           bad_run{"quantize '" + breast + "' -o '" + at("q.safetensors") + "' --format int4 --granularity group:0", 2, "group size"},
                           bad_run{"quantize '" + breast + "' -o '" + at("q.safetensors") + "' --format int8 --observer percentile:20", 2, "percentile"},
                           bad_run{"inspect '" + at("nothing.npy") + "'", 1, "nothing.npy"}}) {
    CAPTURE(b.args);
    const auto r = cli(b.args);
    CHECK(r.rc == b.rc);
    CHECK(contains(r.err, b.says));
    CHECK(listing() == before);  // no output, no temporary left behind
  }
  // An existing output is refused and kept; --force replaces it.
  spit(at("keep.csv"), "precious");
  auto r = cli("smote '" + breast + "' -o '" + at("keep.csv") + "'");
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "already exists (use --force to overwrite)"));
  CHECK(slurp(at("keep.csv")) == "precious");
  CHECK(cli("smote '" + breast + "' -o '" + at("keep.csv") + "' --force -q").rc == 0);
  CHECK(read_csv_table(at("keep.csv")).rows == 714);
  CHECK(slurp(breast) == input);
}

// ---- checkpoints ---------------------------------------------------------------------------------

namespace {

struct model {
  std::vector<float> w, emb32, head32, odd;
  std::vector<ladle::bfloat16> emb;
  std::vector<ladle::half> head;
  std::vector<float> bias;
  std::vector<std::int64_t> step;
};

model make_model() {
  model m;
  ladle::philox rng(ladle::seed{11}, 0);
  auto fill = [&](std::vector<float>& v, std::size_t n, double s) {
    v.resize(n);
    for (auto& x : v) x = static_cast<float>(s * ladle::normal(rng));
  };
  fill(m.w, 16 * 64, 0.05);
  m.w[5] = 0.0f;  // an exact zero, and a large outlier
  m.w[77] = 0.9f;
  fill(m.bias, 16, 0.1);
  fill(m.emb32, 8 * 96, 1.0);
  for (float x : m.emb32) m.emb.push_back(ladle::bfloat16(x));
  for (std::size_t i = 0; i < m.emb.size(); ++i) m.emb32[i] = static_cast<float>(m.emb[i]);
  fill(m.head32, 4 * 64, 0.2);
  for (float x : m.head32) m.head.push_back(ladle::half(x));
  for (std::size_t i = 0; i < m.head.size(); ++i) m.head32[i] = static_cast<float>(m.head[i]);
  fill(m.odd, 3 * 30, 1.0);
  m.step = {1234};
  return m;
}

void save_model(const model& m, const std::string& path) {
  ladle::save_safetensors(path,
                          {{"layer.weight", ladle::safetensors_dtype::f32, {16, 64}, m.w.data()},
                           {"layer.bias", ladle::safetensors_dtype::f32, {16}, m.bias.data()},
                           {"emb", ladle::safetensors_dtype::bf16, {8, 96}, m.emb.data()},
                           {"head.weight", ladle::safetensors_dtype::f16, {4, 64}, m.head.data()},
                           {"odd", ladle::safetensors_dtype::f32, {3, 30}, m.odd.data()},
                           {"step", ladle::safetensors_dtype::i64, {1}, m.step.data()}},
                          {{"note", "tiny"}});
}

std::vector<float> floats_of(const ladle::safetensors_file& f, const std::string& name) {
  const auto& t = f.at(name);
  std::vector<float> v(static_cast<std::size_t>(t.elements()));
  const unsigned char* p = f.data(t);
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (t.dtype == ladle::safetensors_dtype::f32) std::memcpy(&v[i], p + 4 * i, 4);
    else if (t.dtype == ladle::safetensors_dtype::bf16) { ladle::bfloat16 b; std::memcpy(&b, p + 2 * i, 2); v[i] = static_cast<float>(b); }
    else if (t.dtype == ladle::safetensors_dtype::f16) { ladle::half h; std::memcpy(&h, p + 2 * i, 2); v[i] = static_cast<float>(h); }
  }
  return v;
}

/// The largest |x - x̂| the format allows for element i of a tensor (rows x cols, row-major),
/// from the format's definition (not from ladle): integer grids Δ/2 with Δ = 2·amax/(2^b − 1)
/// per channel (row); NF4 half the widest level gap (0.3038/2) times the block absmax; FP8 and
/// MX elements half an ulp (relative 2^-(m+1), or half the subnormal spacing) at their scale, or
/// the distance to the largest element when the value saturates.
double allowed_error(const std::string& format, const std::vector<float>& x, std::size_t i,
                     std::size_t cols, const ladle::safetensors_file& q, const std::string& name) {
  const float v = std::fabs(x[i]);
  auto amax_of = [&](std::size_t b, std::size_t e) {
    double a = 0;
    for (std::size_t k = b; k < e; ++k) a = std::max(a, static_cast<double>(std::fabs(x[k])));
    return a;
  };
  const std::size_t row = i / cols;
  if (format == "int8" || format == "int4" || format == "int2") {
    const int bits = format == "int8" ? 8 : format == "int4" ? 4 : 2;
    const double amax = amax_of(row * cols, row * cols + cols);
    return amax / ((1 << bits) - 1) * (1 + 1e-5) + 1e-7;
  }
  if (format == "nf4") {
    const std::size_t b = i / 64 * 64;
    return amax_of(b, std::min(b + 64, x.size())) * (0.3038072 / 2) * (1 + 1e-5) + 1e-7;
  }
  if (format == "fp8-e4m3" || format == "fp8-e5m2") {
    const bool e4 = format == "fp8-e4m3";
    const double scale = amax_of(row * cols, row * cols + cols) / (e4 ? 448.0 : 57344.0);
    return (v * (e4 ? 0x1p-4 : 0x1p-3) + scale * (e4 ? 0x1p-10 : 0x1p-17)) * (1 + 1e-5);
  }
  // MX: the block's stored E8M0 scale X.
  const auto& s = q.at(name + ".scale");
  const std::uint8_t e = q.data(s)[row * (cols / 32) + (i % cols) / 32];
  const double X = std::ldexp(1.0, int(e) - 127);
  double rel = 0x1p-4, sub = 0x1p-10, top = 448;     // mxfp8: E4M3
  if (format == "mxfp6") { rel = 0x1p-4; sub = 0x1p-4; top = 7.5; }     // E2M3
  if (format == "mxfp4") { rel = 0x1p-2; sub = 0.25; top = 6; }         // E2M1
  if (format == "mxint8") { rel = 0; sub = 0x1p-7; top = 127.0 / 64; }  // k/64
  if (v / X > top) return (v - top * X) * (1 + 1e-6) + 1e-12;
  return (rel * v + sub * X) * (1 + 1e-5);
}

}  // namespace

TEST_CASE("cli quantize / dequantize: layout, metadata, library equality, error bounds") {
  const model m = make_model();
  const std::string src = at("model.safetensors");
  save_model(m, src);
  const std::string original = slurp(src);
  const ladle::safetensors_file in = ladle::safetensors_file::open(src);

  for (const char* fmt : {"int8", "int4", "int2", "nf4", "fp8-e4m3", "fp8-e5m2", "mxfp8", "mxfp6", "mxfp4", "mxint8"}) {
    const std::string format = fmt;
    CAPTURE(format);
    const std::string q = at("q_" + format + ".safetensors"), d = at("d_" + format + ".safetensors");
    auto r = cli("quantize '" + src + "' -o '" + q + "' --format " + format + " --report");
    REQUIRE(r.rc == 0);
    CHECK(contains(r.out, "layer.weight"));
    CHECK(contains(r.out, "sqnr"));
    CHECK(contains(r.out, "layer.bias: kept (rank < 2)"));
    const ladle::safetensors_file qf = ladle::safetensors_file::open(q);
    // Metadata record of the weight.
    const auto rec = nlohmann::json::parse(qf.metadata().at("ladle.quant.layer.weight"));
    CHECK(rec.at("format") == format);
    CHECK(rec.at("dtype") == "F32");
    CHECK(rec.at("shape") == std::vector<int>{16, 64});
    CHECK(qf.metadata().at("note") == "tiny");
    CHECK(qf.metadata().count("ladle.quant.layer.bias") == 0);
    // Untouched tensors are copied byte for byte.
    for (const char* same : {"layer.bias", "step"})
      CHECK(std::memcmp(qf.data(qf.at(same)), in.data(in.at(same)), in.at(same).bytes()) == 0);
    const bool mx = format.compare(0, 2, "mx") == 0;
    CHECK(qf.metadata().count("ladle.quant.odd") == (mx ? 0u : 1u));  // 30 columns: no MX blocks

    // Codes and scales as documented, and equal to the library's own call.
    const auto& codes = qf.at("layer.weight");
    const auto W = ladle::make_view(static_cast<const float*>(m.w.data()), {16, 64});
    if (format == "int8") {
      CHECK(codes.dtype == ladle::safetensors_dtype::i8);
      const auto p = ladle::choose_qparams(ladle::quant_spec::symmetric(8).per_channel(0), W);
      const auto c = ladle::quantize<std::int8_t>(W, p);
      CHECK(std::memcmp(qf.data(codes), c.data(), 16 * 64) == 0);
      CHECK(std::memcmp(qf.data(qf.at("layer.weight.scale")), p.scale.data(), 16 * 4) == 0);
      CHECK(qf.find("layer.weight.zero_point") == nullptr);
    } else if (format == "int4") {
      CHECK(codes.shape == std::vector<std::int64_t>{16 * 64 / 2});
      const auto p = ladle::choose_qparams(ladle::quant_spec::symmetric(4).per_channel(0), W);
      std::vector<std::uint8_t> packed(16 * 64 / 2);
      ladle::quantize_packed_into(W, p, ladle::make_view(packed.data(), 512));
      CHECK(std::memcmp(qf.data(codes), packed.data(), packed.size()) == 0);
    } else if (format == "nf4") {
      CHECK(rec.at("group_size") == 64);
      const auto t = ladle::nf4_quantize(ladle::make_view(static_cast<const float*>(m.w.data()), 1024));
      CHECK(std::memcmp(qf.data(codes), t.codes.data(), 512) == 0);
    } else if (format == "fp8-e4m3") {
      CHECK(codes.dtype == ladle::safetensors_dtype::f8_e4m3);
      CHECK(codes.shape == std::vector<std::int64_t>{16, 64});
    } else if (format == "mxfp4") {
      CHECK(codes.shape == std::vector<std::int64_t>{16, 32});
      CHECK(qf.at("layer.weight.scale").shape == std::vector<std::int64_t>{16, 2});
      const auto t = ladle::mx_quantize(W, ladle::mx_options{ladle::mx_element::fp4_e2m1});
      CHECK(std::memcmp(qf.data(codes), t.data.data(), 16 * 32) == 0);
      CHECK(std::memcmp(qf.data(qf.at("layer.weight.scale")), t.scales.data(), 32) == 0);
    }

    r = cli("dequantize '" + q + "' -o '" + d + "'");
    REQUIRE(r.rc == 0);
    const ladle::safetensors_file df = ladle::safetensors_file::open(d);
    // Names, dtypes and shapes of the original; no ladle.quant records left.
    REQUIRE(df.tensors().size() == in.tensors().size());
    for (const auto& t : in.tensors()) {
      const auto& o = df.at(t.name);
      CHECK(o.dtype == t.dtype);
      CHECK(o.shape == t.shape);
    }
    CHECK(df.metadata() == std::map<std::string, std::string>{{"note", "tiny"}});
    // Every dequantized value within the format's bound (the output dtype's own rounding added).
    struct check { const char* name; const std::vector<float>* x; std::size_t cols; double rounding; };
    for (const check& c : {check{"layer.weight", &m.w, 64, 0.0}, check{"emb", &m.emb32, 96, 0x1p-8},
                           check{"head.weight", &m.head32, 64, 0x1p-11}}) {
      CAPTURE(c.name);
      const auto back = floats_of(df, c.name);
      std::size_t bad = 0;
      for (std::size_t i = 0; i < back.size(); ++i) {
        const double err = std::fabs(static_cast<double>(back[i]) - (*c.x)[i]);
        const double bound = allowed_error(format, *c.x, i, c.cols, qf, c.name) * (1 + c.rounding) +
                             c.rounding * std::fabs(back[i]);
        if (err > bound) ++bad;
      }
      CHECK(bad == 0);
    }
  }
  CHECK(slurp(src) == original);

  // Affine int8 per group stores zero points; tensor granularity one scale.
  REQUIRE(cli("quantize '" + src + "' -o '" + at("aff.safetensors") + "' --format int8 --affine --granularity group:32 -q").rc == 0);
  const ladle::safetensors_file aff = ladle::safetensors_file::open(at("aff.safetensors"));
  CHECK(aff.at("layer.weight").dtype == ladle::safetensors_dtype::u8);
  CHECK(aff.at("layer.weight.zero_point").shape == std::vector<std::int64_t>{32});
  CHECK(nlohmann::json::parse(aff.metadata().at("ladle.quant.layer.weight")).at("scheme") == "affine");
  CHECK(aff.metadata().count("ladle.quant.odd") == 0);  // 30 columns: not a multiple of 32
  REQUIRE(cli("dequantize '" + at("aff.safetensors") + "' -o '" + at("aff_d.safetensors") + "' --dtype bf16 -q").rc == 0);
  CHECK(ladle::safetensors_file::open(at("aff_d.safetensors")).at("layer.weight").dtype == ladle::safetensors_dtype::bf16);
  REQUIRE(cli("quantize '" + src + "' -o '" + at("pt.safetensors") + "' --format int8 --granularity tensor --skip '^emb$' -q").rc == 0);
  const ladle::safetensors_file pt = ladle::safetensors_file::open(at("pt.safetensors"));
  CHECK(pt.at("layer.weight.scale").shape == std::vector<std::int64_t>{1});
  CHECK(pt.metadata().count("ladle.quant.emb") == 0);
}

TEST_CASE("cli quantize: nf4 --double-quant and MX --mx-scale round-up, recorded and round-tripped") {
  const model m = make_model();
  const std::string src = at("dq_model.safetensors");
  save_model(m, src);
  const auto W = ladle::make_view(static_cast<const float*>(m.w.data()), {16, 64});

  // nf4, blocks of 2: 512 absmax values, two groups of 256 int8 codes.
  const std::string q = at("dq_nf4.safetensors"), d = at("dq_nf4_d.safetensors");
  REQUIRE(cli("quantize '" + src + "' -o '" + q + "' --format nf4 --granularity group:2 --double-quant -q").rc == 0);
  const ladle::safetensors_file qf = ladle::safetensors_file::open(q);
  const auto rec = nlohmann::json::parse(qf.metadata().at("ladle.quant.layer.weight"));
  CHECK(rec.at("double_quant") == true);
  CHECK(rec.at("scale_block_size") == 256);
  ladle::nf4_options o;
  o.block_size = 2;
  o.double_quant = true;
  const auto t = ladle::nf4_quantize(ladle::make_view(static_cast<const float*>(m.w.data()), 1024), o);
  REQUIRE(t.double_quantized());
  CHECK(std::memcmp(qf.data(qf.at("layer.weight")), t.codes.data(), 512) == 0);
  const auto& sc = qf.at("layer.weight.scale");
  CHECK(sc.dtype == ladle::safetensors_dtype::i8);
  CHECK(sc.shape == std::vector<std::int64_t>{512});
  CHECK(std::memcmp(qf.data(sc), t.absmax_codes.data(), 512) == 0);
  const auto& ss = qf.at("layer.weight.scale_scale");
  CHECK(ss.shape == std::vector<std::int64_t>{2});
  CHECK(std::memcmp(qf.data(ss), t.absmax_scales.data(), 8) == 0);
  const auto& off = qf.at("layer.weight.scale_offset");
  CHECK(off.shape.empty());
  CHECK(std::memcmp(qf.data(off), &t.absmax_offset, 4) == 0);
  REQUIRE(cli("dequantize '" + q + "' -o '" + d + "' -q").rc == 0);
  const ladle::safetensors_file df = ladle::safetensors_file::open(d);
  CHECK(df.find("layer.weight.scale_scale") == nullptr);
  CHECK(df.find("layer.weight.scale_offset") == nullptr);
  std::vector<float> want(1024);
  ladle::nf4_dequantize(t, ladle::make_view(want.data(), 1024));
  CHECK(std::memcmp(df.data(df.at("layer.weight")), want.data(), 4 * 1024) == 0);

  // MX round-up: the library's round_up rule, recorded; dequantized as the library does.
  const std::string mq = at("dq_mx.safetensors"), md = at("dq_mx_d.safetensors");
  REQUIRE(cli("quantize '" + src + "' -o '" + mq + "' --format mxfp4 --mx-scale round-up -q").rc == 0);
  const ladle::safetensors_file mf = ladle::safetensors_file::open(mq);
  CHECK(nlohmann::json::parse(mf.metadata().at("ladle.quant.layer.weight")).at("scale_rule") == "round-up");
  const auto up = ladle::mx_quantize(W, ladle::mx_options{ladle::mx_element::fp4_e2m1, ladle::mx_scale_rule::round_up});
  const auto ocp = ladle::mx_quantize(W, ladle::mx_options{ladle::mx_element::fp4_e2m1, ladle::mx_scale_rule::ocp});
  CHECK(std::memcmp(up.scales.data(), ocp.scales.data(), 32) != 0);  // the rule matters on this tensor
  CHECK(std::memcmp(mf.data(mf.at("layer.weight")), up.data.data(), 16 * 32) == 0);
  CHECK(std::memcmp(mf.data(mf.at("layer.weight.scale")), up.scales.data(), 32) == 0);
  REQUIRE(cli("dequantize '" + mq + "' -o '" + md + "' -q").rc == 0);
  std::vector<float> mwant(1024);
  ladle::mx_dequantize(up, ladle::make_view(mwant.data(), {16, 64}));
  const ladle::safetensors_file mdf = ladle::safetensors_file::open(md);
  CHECK(std::memcmp(mdf.data(mdf.at("layer.weight")), mwant.data(), 4 * 1024) == 0);
  REQUIRE(cli("quantize '" + src + "' -o '" + at("dq_ocp.safetensors") + "' --format mxfp8 -q").rc == 0);
  CHECK(nlohmann::json::parse(ladle::safetensors_file::open(at("dq_ocp.safetensors")).metadata().at("ladle.quant.layer.weight"))
            .at("scale_rule") == "ocp");

  // Usage errors, and a record that claims double quantization without its tensors.
  CHECK(cli("quantize '" + src + "' -o '" + at("dq_bad.safetensors") + "' --format int8 --double-quant").rc == 2);
  CHECK(cli("quantize '" + src + "' -o '" + at("dq_bad.safetensors") + "' --format int8 --mx-scale round-up").rc == 2);
  CHECK(cli("quantize '" + src + "' -o '" + at("dq_bad.safetensors") + "' --format mxfp4 --mx-scale floor").rc == 2);
  const std::vector<std::int8_t> codes(32, 0);
  const std::vector<std::int8_t> scales(1, 0);
  ladle::save_safetensors(at("dq_torn.safetensors"),
                          {{"w", ladle::safetensors_dtype::u8, {32}, codes.data()},
                           {"w.scale", ladle::safetensors_dtype::i8, {1}, scales.data()}},
                          {{"ladle.quant.w", R"({"format":"nf4","bits":4,"scheme":"normal-float","granularity":"group","axis":-1,"group_size":64,"signed":true,"packed":true,"double_quant":true,"scale_block_size":256,"dtype":"F32","shape":[64]})"}});
  const auto r = cli("dequantize '" + at("dq_torn.safetensors") + "' -o '" + at("dq_bad.safetensors") + "'");
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "scale_scale"));
  CHECK(!ladle::detail::file_exists(at("dq_bad.safetensors")));
}

TEST_CASE("cli quantize: sharded in and out") {
  const model m = make_model();
  save_model(m, at("s_model.safetensors"));
  auto r = cli("quantize '" + at("s_model.safetensors") + "' -o '" + at("shards") + "' --format int4 --shard-size 600 -q");
  REQUIRE(r.rc == 0);
  CHECK(exists(at("shards/model.safetensors.index.json")));
  r = cli("dequantize '" + at("shards") + "' -o '" + at("s_back.safetensors") + "' -q");
  REQUIRE(r.rc == 0);
  REQUIRE(cli("quantize '" + at("s_model.safetensors") + "' -o '" + at("s_single.safetensors") + "' --format int4 -q").rc == 0);
  REQUIRE(cli("dequantize '" + at("s_single.safetensors") + "' -o '" + at("s_single_back.safetensors") + "' -q").rc == 0);
  const auto a = ladle::safetensors_file::open(at("s_back.safetensors"));
  const auto b = ladle::safetensors_file::open(at("s_single_back.safetensors"));
  for (const auto& t : a.tensors())
    CHECK(std::memcmp(a.data(t), b.data(b.at(t.name)), t.bytes()) == 0);
  r = cli("inspect --json '" + at("shards") + "'");
  REQUIRE(r.rc == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j.at("files").get<int>() > 1);
  CHECK(j.at("tensors").size() == 6 + 4);  // + the scales of layer.weight, emb, head.weight, odd
}

/// Every combination of options `ladle quantize` accepts, in quant_choice form and as arguments.
std::vector<std::pair<ladle_cli::quant_choice, std::string>> every_quant_choice() {
  std::vector<std::pair<ladle_cli::quant_choice, std::string>> all;
  for (const char* f : {"int8", "int4", "int2"})
    for (const char* gr : {"tensor", "channel", "group:32"})
      for (const char* ob : {"minmax", "mse", "percentile:99.5"})
        for (const bool affine : {false, true}) {
          ladle_cli::quant_choice c;
          c.format = f;
          c.granularity = gr;
          c.observer = ob;
          c.affine = affine;
          all.push_back({c, std::string(f) + " --granularity " + gr + " --observer " + ob + (affine ? " --affine" : "")});
        }
  for (const char* gr : {"group:64", "group:6"})
    for (const bool dq : {false, true}) {
      ladle_cli::quant_choice c;
      c.format = "nf4";
      c.granularity = gr;
      c.double_quant = dq;
      all.push_back({c, std::string("nf4 --granularity ") + gr + (dq ? " --double-quant" : "")});
    }
  for (const char* f : {"fp8-e4m3", "fp8-e5m2"})
    for (const char* gr : {"tensor", "channel"}) {
      ladle_cli::quant_choice c;
      c.format = f;
      c.granularity = gr;
      all.push_back({c, std::string(f) + " --granularity " + gr});
    }
  for (const char* f : {"mxfp8", "mxfp6", "mxfp4", "mxint8"})
    for (const char* rule : {"ocp", "round-up"}) {
      ladle_cli::quant_choice c;
      c.format = f;
      c.mx_scale = rule;
      all.push_back({c, std::string(f) + " --mx-scale " + rule});
    }
  return all;
}

TEST_CASE("cli quantize / dequantize: chunked streaming gives the bytes of whole-tensor quantization") {
  // In process (quant_formats.hpp), every option combination on tensors whose slots (rows,
  // groups, blocks) relate differently to the chunk sizes: odd row counts and lengths (the packer
  // carries a partial byte across chunks), a rank-3 tensor, an odd element count (nf4's short
  // last block). Chunks of 1 element (every slot in pieces after a statistics pass; nf4 and MX:
  // one block), 33 (one row of "d", a third of a row of "a"), 250 (several rows, ending mid-row),
  // against the default chunk, past the end: one library call on the whole tensor.
  ladle::philox g(ladle::seed{77});
  const auto values = [&](std::size_t n) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(ladle::normal(g)) * (1.0f + float(i % 5));
    v[n / 3] = 11.0f;  // an outlier, so mse / percentile clip
    return v;
  };
  const std::vector<std::pair<std::vector<std::int64_t>, std::vector<float>>> tensors = {
      {{6, 64}, values(6 * 64)}, {{3, 7, 32}, values(3 * 7 * 32)}, {{3, 33}, values(3 * 33)}};
  const auto policy = ladle::par(2);
  using pieces = std::map<std::string, std::string>;
  std::size_t compared = 0;
  for (const auto& choice : every_quant_choice()) {
    CAPTURE(choice.second);
    for (const auto& t : tensors) {
      CAPTURE(t.first.size());
      CAPTURE(t.first.back());
      if (!ladle_cli::shape_problem(choice.first, t.first).empty()) continue;
      const ladle_cli::quantized_tensor plan = ladle_cli::plan_quantized(choice.first, "F32", t.first);
      bool out_of_range = false;
      const auto quantize = [&](std::uint64_t chunk_bytes, ladle_cli::quant_error& error) {
        pieces out;
        ladle_cli::quantize_streamed(
            policy, plan,
            [&](std::int64_t begin, std::int64_t count, float* x) {
              if (begin < 0 || count < 1 || begin + count > static_cast<std::int64_t>(t.second.size())) {
                out_of_range = true;
                return;
              }
              std::memcpy(x, t.second.data() + begin, static_cast<std::size_t>(count) * 4);
            },
            [&](const char* suffix, const void* data, std::uint64_t bytes) {
              out[suffix].append(static_cast<const char*>(data), static_cast<std::size_t>(bytes));
            },
            chunk_bytes, &error);
        return out;
      };
      const auto dequantize = [&](const pieces& stored, std::uint64_t chunk_bytes) {
        ladle_cli::stored_parts parts;
        const auto part = [&](const char* suffix) {
          const auto it = stored.find(suffix);
          return it == stored.end() ? ladle_cli::stored_bytes{}
                                    : ladle_cli::stored_bytes{reinterpret_cast<const unsigned char*>(it->second.data()), it->second.size()};
        };
        parts.codes = part("");
        parts.scales = part(".scale");
        parts.zero_points = part(".zero_point");
        parts.scale_scales = part(".scale_scale");
        parts.scale_offset = part(".scale_offset");
        std::vector<float> back;
        ladle_cli::dequantize_streamed(policy, "t", plan.record, parts, chunk_bytes,
                                       [&](std::int64_t begin, std::int64_t count, const float* v) {
                                         out_of_range |= begin != static_cast<std::int64_t>(back.size());
                                         back.insert(back.end(), v, v + count);
                                       });
        return back;
      };
      ladle_cli::quant_error whole_error;
      const pieces whole = quantize(ladle_cli::default_chunk_bytes, whole_error);
      REQUIRE(whole.at("").size() == static_cast<std::size_t>(
                  std::accumulate(plan.code_shape.begin(), plan.code_shape.end(), std::int64_t(1), std::multiplies<>()) *
                  static_cast<std::int64_t>(ladle::safetensors_dtype_size(plan.code_dtype))));
      const std::vector<float> whole_back = dequantize(whole, ladle_cli::default_chunk_bytes);
      REQUIRE(whole_back.size() == t.second.size());
      for (const std::uint64_t chunk_bytes : {4u, 132u, 1000u}) {
        CAPTURE(chunk_bytes);
        ladle_cli::quant_error error;
        CHECK(quantize(chunk_bytes, error) == whole);
        // The report's sums, in the same element order: the same doubles, not just the same digits.
        CHECK(error.squared == whole_error.squared);
        CHECK(error.signal == whole_error.signal);
        CHECK(error.max_abs == whole_error.max_abs);
        CHECK(error.count == whole_error.count);
        CHECK(dequantize(whole, chunk_bytes) == whole_back);
        CHECK(!out_of_range);  // every read inside the tensor, every value emitted in order
        ++compared;
      }
    }
  }
  // (tensor, option) pairs: int 36 choices x 3 tensors + 18 group:32 choices x 2 (not "d"), nf4 4 x 3,
  // fp8 4 x 3, MX 8 x 2 (not "d"); each at three chunk sizes.
  CHECK(compared == 3 * (36 * 3 + 18 * 2 + 4 * 3 + 4 * 3 + 8 * 2));

  // End to end: the hidden --chunk-bytes reaches both verbs, through every input dtype.
  std::vector<ladle::bfloat16> b;
  for (float v : values(5 * 96)) b.push_back(ladle::bfloat16(v));
  std::vector<ladle::half> c;
  for (float v : values(3 * 7 * 32)) c.push_back(ladle::half(v));
  std::vector<double> e;
  for (float v : values(4 * 32)) e.push_back(v);
  const std::string src = at("chunk_model.safetensors");
  ladle::save_safetensors(src, {{"a", ladle::safetensors_dtype::f32, {6, 64}, tensors[0].second.data()},
                                {"b", ladle::safetensors_dtype::bf16, {5, 96}, b.data()},
                                {"c", ladle::safetensors_dtype::f16, {3, 7, 32}, c.data()},
                                {"d", ladle::safetensors_dtype::f32, {3, 33}, tensors[2].second.data()},
                                {"e", ladle::safetensors_dtype::f64, {4, 32}, e.data()}});
  const auto report_lines = [](const std::string& out) {
    std::string keep;
    for (std::size_t at0 = 0; at0 < out.size();) {
      const std::size_t end = std::min(out.find('\n', at0), out.size());
      const std::string line = out.substr(at0, end - at0);
      if (contains(line, "rmse") || contains(line, "kept")) keep += line + "\n";
      at0 = end + 1;
    }
    return keep;
  };
  const std::string whole = at("chunk_whole.safetensors"), part = at("chunk_part.safetensors");
  for (const char* choice : {"int4 --granularity tensor --observer mse --affine", "nf4 --double-quant", "mxfp6"}) {
    CAPTURE(choice);
    auto r = cli("quantize '" + src + "' -o '" + whole + "' -f --report --format " + choice);
    REQUIRE(r.rc == 0);
    const std::string want = slurp(whole), want_report = report_lines(r.out);
    REQUIRE(contains(want_report, "rmse"));
    r = cli("quantize '" + src + "' -o '" + part + "' -f --report --chunk-bytes 52 --format " + choice);
    REQUIRE(r.rc == 0);
    CHECK(slurp(part) == want);
    CHECK(report_lines(r.out) == want_report);
    REQUIRE(cli("dequantize '" + whole + "' -o '" + at("chunk_dwhole.safetensors") + "' -f -q").rc == 0);
    REQUIRE(cli("dequantize '" + whole + "' -o '" + at("chunk_dpart.safetensors") + "' -f -q --chunk-bytes 52").rc == 0);
    CHECK(slurp(at("chunk_dpart.safetensors")) == slurp(at("chunk_dwhole.safetensors")));
  }
  CHECK(cli("quantize '" + src + "' -o '" + part + "' -f --format int8 --chunk-bytes 0").rc == 2);
  // A non-finite value is named by its index in the tensor, not in the chunk.
  std::vector<float> bad = tensors[0].second;
  bad[200] = NAN;
  ladle::save_safetensors(at("chunk_nan.safetensors"), {{"a", ladle::safetensors_dtype::f32, {6, 64}, bad.data()}});
  for (const char* f : {"int8 --granularity tensor", "int4 --observer mse", "nf4", "fp8-e4m3"}) {
    CAPTURE(f);
    const auto r = cli("quantize '" + at("chunk_nan.safetensors") + "' -o '" + part + "' -f --chunk-bytes 52 --format " + f);
    CHECK(r.rc == 1);
    CHECK(contains(r.err, "element 200 is not finite"));
  }
}

TEST_CASE("cli checkpoints: corrupt and inconsistent files are refused") {
  std::string junk(64, 'x');
  const std::uint64_t n = 1000;
  std::memcpy(&junk[0], &n, 8);
  spit(at("corrupt.safetensors"), junk);
  const std::set<std::string> before = listing();
  auto r = cli("quantize '" + at("corrupt.safetensors") + "' -o '" + at("c_out.safetensors") + "' --format int8");
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "corrupt.safetensors"));
  r = cli("inspect '" + at("corrupt.safetensors") + "'");
  CHECK(r.rc == 1);
  CHECK(listing() == before);
  // Codes whose size disagrees with their metadata record.
  std::vector<std::int8_t> codes(10);
  std::vector<float> scale(4, 1.0f);
  ladle::save_safetensors(at("lying.safetensors"),
                          {{"w", ladle::safetensors_dtype::i8, {10}, codes.data()},
                           {"w.scale", ladle::safetensors_dtype::f32, {4}, scale.data()}},
                          {{"ladle.quant.w", R"({"format":"int8","bits":8,"scheme":"symmetric","granularity":"channel","axis":0,"group_size":0,"signed":true,"packed":false,"dtype":"F32","shape":[4,8]})"}});
  r = cli("dequantize '" + at("lying.safetensors") + "' -o '" + at("l_out.safetensors") + "'");
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "tensor 'w': codes hold 10 bytes, the metadata needs 32"));
  CHECK_FALSE(exists(at("l_out.safetensors")));
}

TEST_CASE("cli inspect: npy, csv and safetensors as JSON") {
  std::vector<double> v = {1, 2, 3, 4, 5, 6};
  ladle::save_npy(at("i.npy"), ladle::make_view(static_cast<const double*>(v.data()), {2, 3}));
  auto r = cli("inspect --json '" + at("i.npy") + "'");
  REQUIRE(r.rc == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j.at("dtype") == "float64");
  CHECK(j.at("shape") == std::vector<int>{2, 3});
  r = cli("inspect --json '" + breast + "'");
  REQUIRE(r.rc == 0);
  j = nlohmann::json::parse(r.out);
  CHECK(j.at("rows") == 402);
  CHECK(j.at("columns").size() == 11);
  CHECK(j.at("columns")[10].at("classes") == nlohmann::json{{"0", 357}, {"1", 45}});
  r = cli("inspect '" + breast + "'");
  CHECK(contains(r.out, "malignant (label)"));
  const model m = make_model();
  save_model(m, at("i_model.safetensors"));
  REQUIRE(cli("quantize '" + at("i_model.safetensors") + "' -o '" + at("i_q.safetensors") + "' --format nf4 -q").rc == 0);
  r = cli("inspect --json '" + at("i_q.safetensors") + "'");
  REQUIRE(r.rc == 0);
  j = nlohmann::json::parse(r.out);
  bool seen = false;
  for (const auto& t : j.at("tensors"))
    if (t.at("name") == "layer.weight") {
      seen = true;
      CHECK(t.at("ladle.quant").at("format") == "nf4");
      CHECK(t.at("ladle.quant").at("shape") == std::vector<int>{16, 64});
    }
  CHECK(seen);
}

TEST_CASE("cli progress: lines on a terminal, none without one") {
  if (std::system("command -v script >/dev/null 2>&1") != 0) {
    MESSAGE("`script` (util-linux) not found: progress under a pseudo-terminal not tested");
    return;
  }
  const std::string log = at("tty.log");
  const std::string cmd = "script -qc \"env LADLE_PROGRESS_DELAY=0 '" + std::string(LADLE_CLI_BINARY) +
                          "' smote '" + breast + "' -o '" + at("tty.csv") + "' --method smoten\" /dev/null > '" +
                          log + "' 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string seen = slurp(log);
  CHECK(contains(seen, "ladle smote: resampling (smoten)"));
  CHECK(contains(seen, "smote: "));  // the summary
  CHECK(exists(at("tty.csv")));
  // --quiet on a terminal: nothing at all.
  const std::string quiet = "script -qc \"env LADLE_PROGRESS_DELAY=0 '" + std::string(LADLE_CLI_BINARY) +
                            "' smote '" + breast + "' -o '" + at("tty2.csv") + "' --quiet\" /dev/null > '" + log + "' 2>&1";
  REQUIRE(std::system(quiet.c_str()) == 0);
  CHECK(slurp(log).empty());
  // No terminal: no progress even with no delay.
  const auto r = cli("smote '" + breast + "' -o '" + at("tty3.csv") + "'");
  CHECK(r.rc == 0);
  CHECK(r.err.empty());
}

}  // namespace LADLE_TEST_FILE
}  // namespace
