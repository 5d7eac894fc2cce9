// tools/ladle/table.cpp: see table.hpp.
#include "table.hpp"

#include "common.hpp"
#include "csv.hpp"

#include <ladle/io/npy.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>

namespace ladle_cli {

namespace {

bool parse_integer(const std::string& text, std::int64_t& v) {
  double d;
  if (!parse_csv_number(text, d)) return false;
  if (d != std::nearbyint(d) || std::fabs(d) > 9007199254740992.0) return false;
  v = static_cast<std::int64_t>(d);
  return true;
}

/// Codes for a column of texts: integers when every text is an integer (numeric_ok) or a finite
/// number, else sorted distinct texts.
template <class Out>
void encode_texts(const std::vector<std::string>& texts, bool integers_only, text_codes& codes,
                  std::vector<Out>& out) {
  out.resize(texts.size());
  bool numeric = true;
  for (std::size_t i = 0; i < texts.size() && numeric; ++i) {
    if (integers_only) {
      std::int64_t v;
      numeric = parse_integer(texts[i], v);
      if (numeric) out[i] = static_cast<Out>(v);
    } else {
      double v;
      numeric = parse_csv_number(texts[i], v);
      if (numeric) out[i] = static_cast<Out>(v);
    }
  }
  if (numeric) return;
  codes.is_text = true;
  codes.names = texts;
  std::sort(codes.names.begin(), codes.names.end());
  codes.names.erase(std::unique(codes.names.begin(), codes.names.end()), codes.names.end());
  std::map<std::string, std::int64_t> index;
  for (std::size_t c = 0; c < codes.names.size(); ++c)
    index[codes.names[c]] = static_cast<std::int64_t>(c);
  for (std::size_t i = 0; i < texts.size(); ++i) out[i] = static_cast<Out>(index[texts[i]]);
}

/// --categorical values: an argument that is a column name as a whole stays one name (names may
/// hold commas); any other is a comma-separated list.
std::vector<std::string> expand_columns(const std::vector<std::string>& args,
                                        const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const std::string& a : args) {
    if (std::find(names.begin(), names.end(), a) != names.end()) {
      out.push_back(a);
      continue;
    }
    std::size_t b = 0;
    while (b <= a.size()) {
      const std::size_t e = std::min(a.find(',', b), a.size());
      if (e > b) out.push_back(a.substr(b, e - b));
      b = e + 1;
    }
  }
  return out;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < 12; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > 12) s += ", ...";
  return s;
}

table read_csv_table(const table_options& o) {
  table t;
  t.csv = true;
  t.header = !o.no_header;
  std::size_t ncols = 0;
  bool first = true;
  std::vector<int> role;  // per file column: 0 feature, 1 categorical feature, 2 label
  std::vector<std::size_t> feature_of;  // file column -> feature index
  std::vector<std::vector<std::string>> texts;  // per file column, for label / categorical
  std::vector<double>& X = t.X64;

  auto setup = [&](std::size_t n) {
    ncols = n;
    if (n < 2)
      throw failure(o.path + ": needs at least two columns (features and a label), found " +
                    std::to_string(n));
    if (!t.header)
      for (std::size_t c = 0; c < n; ++c) t.column_names.push_back(std::to_string(c));
    // Label column.
    if (o.label.empty()) {
      t.label_column = n - 1;
    } else {
      const auto it = std::find(t.column_names.begin(), t.column_names.end(), o.label);
      if (it == t.column_names.end())
        throw usage_error("--label: '" + o.path + "' has no column '" + o.label +
                          "' (columns: " + join_names(t.column_names) + ")");
      t.label_column = static_cast<std::size_t>(it - t.column_names.begin());
    }
    t.label_name = t.column_names[t.label_column];
    role.assign(n, 0);
    role[t.label_column] = 2;
    for (const std::string& c : expand_columns(o.categorical, t.column_names)) {
      auto it = std::find(t.column_names.begin(), t.column_names.end(), c);
      std::size_t col = 0;
      if (it != t.column_names.end()) {
        col = static_cast<std::size_t>(it - t.column_names.begin());
      } else {
        std::int64_t idx;
        if (!parse_integer(c, idx) || idx < 0 || static_cast<std::size_t>(idx) >= n)
          throw usage_error("--categorical: '" + o.path + "' has no column '" + c +
                            "' (columns: " + join_names(t.column_names) + ")");
        col = static_cast<std::size_t>(idx);
      }
      if (col == t.label_column)
        throw usage_error("--categorical: column '" + c + "' is the label column");
      role[col] = 1;
    }
    feature_of.assign(n, 0);
    std::size_t f = 0;
    for (std::size_t c = 0; c < n; ++c) {
      if (role[c] == 2) continue;
      feature_of[c] = f;
      if (role[c] == 1) t.categorical.push_back(static_cast<index_t>(f));
      ++f;
    }
    t.cols = static_cast<index_t>(n - 1);
    texts.assign(n, {});
    t.feature_text.assign(n - 1, {});
  };

  read_csv_records(o.path, [&](const csv_record& r) {
    if (first) {
      first = false;
      if (t.header) {
        t.column_names = r.fields;
        setup(r.fields.size());
        return;
      }
      setup(r.fields.size());
    }
    if (r.fields.size() != ncols)
      throw failure(o.path + ":" + std::to_string(r.line) + ": expected " + std::to_string(ncols) +
                    " fields (as " + (t.header ? "the header" : "the first line") + "), found " +
                    std::to_string(r.fields.size()));
    const std::size_t row = static_cast<std::size_t>(t.rows);
    X.resize(X.size() + ncols - 1);
    for (std::size_t c = 0; c < ncols; ++c) {
      const std::string& cell = r.fields[c];
      if (role[c] != 0) {
        if (cell.empty())
          throw failure(o.path + ":" + std::to_string(r.line) + ": column " + std::to_string(c + 1) +
                        " ('" + t.column_names[c] + "') is empty");
        texts[c].push_back(cell);
        continue;
      }
      double v;
      if (!parse_csv_number(cell, v))
        throw failure(o.path + ":" + std::to_string(r.line) + ": column " + std::to_string(c + 1) +
                      " ('" + t.column_names[c] + "'): " +
                      (cell.empty() ? std::string("empty cell") : "'" + cell + "' is not a finite number"));
      X[row * (ncols - 1) + feature_of[c]] = v;
    }
    ++t.rows;
  });
  if (first) throw failure(o.path + ": the file is empty");
  if (t.rows == 0) throw failure(o.path + ": no data rows after the header");

  encode_texts(texts[t.label_column], /*integers_only=*/true, t.label_text, t.y);
  for (std::size_t c = 0; c < ncols; ++c) {
    if (role[c] != 1) continue;
    std::vector<double> values;
    encode_texts(texts[c], false, t.feature_text[feature_of[c]], values);
    for (std::size_t i = 0; i < values.size(); ++i)
      X[i * (ncols - 1) + feature_of[c]] = values[i];
  }
  return t;
}

table read_npy_table(const table_options& o) {
  if (o.labels_path.empty())
    throw usage_error("'" + o.path + "' is an .npy feature file: give its labels with --labels FILE.npy");
  table t;
  t.csv = false;
  ladle::npy_file fx = [&] {
    try {
      return ladle::npy_file(o.path);
    } catch (const ladle::error& e) {
      throw failure(e.what());
    }
  }();
  ladle::npy_file fy = [&] {
    try {
      return ladle::npy_file(o.labels_path);
    } catch (const ladle::error& e) {
      throw failure(e.what());
    }
  }();
  const auto& hx = fx.header();
  const auto& hy = fy.header();
  if (hx.shape.size() != 2)
    throw failure(o.path + ": features must be a 2-d array (rows, columns), found rank " +
                  std::to_string(hx.shape.size()));
  if (hy.shape.size() != 1)
    throw failure(o.labels_path + ": labels must be a 1-d array, found rank " +
                  std::to_string(hy.shape.size()));
  if (hy.shape[0] != hx.shape[0])
    throw failure(o.labels_path + ": has " + std::to_string(hy.shape[0]) + " labels but '" + o.path +
                  "' has " + std::to_string(hx.shape[0]) + " rows");
  t.rows = hx.shape[0];
  t.cols = hx.shape[1];
  if (t.rows == 0 || t.cols == 0) throw failure(o.path + ": the array is empty");
  t.float32 = hx.dtype == ladle::npy_dtype::float32;
  try {
    if (t.float32) {
      t.X32.resize(static_cast<std::size_t>(t.rows * t.cols));
      fx.copy_to(t.X32.data(), t.rows * t.cols);
    } else {
      t.X64.resize(static_cast<std::size_t>(t.rows * t.cols));
      fx.copy_to(t.X64.data(), t.rows * t.cols);
    }
    t.y.resize(static_cast<std::size_t>(t.rows));
    fy.copy_to(t.y.data(), t.rows);
  } catch (const ladle::error& e) {
    throw failure(e.what());
  }
  const bool finite = t.float32
      ? std::all_of(t.X32.begin(), t.X32.end(), [](float v) { return std::isfinite(v); })
      : std::all_of(t.X64.begin(), t.X64.end(), [](double v) { return std::isfinite(v); });
  if (!finite) {
    for (index_t i = 0; i < t.rows * t.cols; ++i) {
      const double v = t.float32 ? t.X32[static_cast<std::size_t>(i)] : t.X64[static_cast<std::size_t>(i)];
      if (!std::isfinite(v))
        throw failure(o.path + ": row " + std::to_string(i / t.cols) + ", column " +
                      std::to_string(i % t.cols) + " is " + format_number(v) +
                      " (features must be finite)");
    }
  }
  for (const std::string& c : expand_columns(o.categorical, {})) {
    std::int64_t idx;
    double d;
    if (!parse_csv_number(c, d) || d != std::nearbyint(d) || d < 0 || d >= static_cast<double>(t.cols))
      throw usage_error("--categorical: '" + c + "' is not a column index of '" + o.path +
                        "' (0.." + std::to_string(t.cols - 1) + ")");
    idx = static_cast<std::int64_t>(d);
    t.categorical.push_back(idx);
  }
  t.labels_dtype = static_cast<int>(hy.dtype) == static_cast<int>(ladle::npy_dtype::int32) ? 0
                   : hy.dtype == ladle::npy_dtype::int64                                  ? 1
                   : hy.dtype == ladle::npy_dtype::float32                                ? 2
                                                                                              : 3;
  t.feature_text.assign(static_cast<std::size_t>(t.cols), {});
  return t;
}

}  // namespace

std::string table::label_display(std::int64_t code) const {
  if (label_text.is_text && code >= 0 && static_cast<std::size_t>(code) < label_text.names.size())
    return label_text.names[static_cast<std::size_t>(code)];
  return std::to_string(code);
}

table read_table(const table_options& o) {
  const std::string ext = extension_of(o.path);
  if (ext == ".npy") return read_npy_table(o);
  if (ext == ".csv" || ext == ".txt" || ext == ".tsv" || ext.empty()) {
    if (!o.labels_path.empty())
      throw usage_error("--labels is for .npy feature files; a CSV holds its labels in a column (--label NAME)");
    return read_csv_table(o);
  }
  throw usage_error("'" + o.path + "': unknown tabular format '" + ext + "' (use .csv or .npy)");
}

std::string default_labels_path(const std::string& features_path) {
  std::string p = features_path;
  if (extension_of(p) == ".npy") p.resize(p.size() - 4);
  return p + ".labels.npy";
}

void write_table(const table& t, const std::string& path, const std::string& labels_path,
                 const void* X, const std::int64_t* y, index_t rows, bool overwrite) {
  try {
    if (!t.csv) {
      const std::vector<index_t> shape = {rows, t.cols};
      ladle::atomic_file_writer wx(path, overwrite, "write");
      ladle::atomic_file_writer wy(labels_path, overwrite, "write");
      const auto xdt = t.float32 ? ladle::npy_dtype::float32 : ladle::npy_dtype::float64;
      wx.write(ladle::npy_header_bytes(xdt, shape));
      wx.write(X, static_cast<std::size_t>(rows * t.cols) * ladle::npy_dtype_size(xdt));
      const ladle::npy_dtype ydt[] = {ladle::npy_dtype::int32, ladle::npy_dtype::int64,
                                          ladle::npy_dtype::float32,
                                          ladle::npy_dtype::float64};
      const auto dt = ydt[t.labels_dtype];
      wy.write(ladle::npy_header_bytes(dt, {rows}));
      std::vector<unsigned char> buf(static_cast<std::size_t>(rows) * ladle::npy_dtype_size(dt));
      for (index_t i = 0; i < rows; ++i) {
        unsigned char* at = buf.data() + static_cast<std::size_t>(i) * ladle::npy_dtype_size(dt);
        switch (dt) {
          case ladle::npy_dtype::int32: { auto v = static_cast<std::int32_t>(y[i]); std::memcpy(at, &v, 4); break; }
          case ladle::npy_dtype::int64: { auto v = y[i]; std::memcpy(at, &v, 8); break; }
          case ladle::npy_dtype::float32: { auto v = static_cast<float>(y[i]); std::memcpy(at, &v, 4); break; }
          case ladle::npy_dtype::float64: { auto v = static_cast<double>(y[i]); std::memcpy(at, &v, 8); break; }
        }
      }
      wy.write(buf.data(), buf.size());
      wx.commit();
      wy.commit();
      return;
    }
    ladle::atomic_file_writer w(path, overwrite, "write");
    std::string line;
    const std::size_t ncols = t.column_names.size();
    if (t.header) {
      for (std::size_t c = 0; c < ncols; ++c) line += (c ? "," : "") + quote_csv(t.column_names[c]);
      line += '\n';
      w.write(line);
    }
    const double* X64 = static_cast<const double*>(X);
    for (index_t i = 0; i < rows; ++i) {
      line.clear();
      std::size_t f = 0;
      for (std::size_t c = 0; c < ncols; ++c) {
        if (c) line += ',';
        if (c == t.label_column) {
          line += quote_csv(t.label_display(y[i]));
          continue;
        }
        const double v = X64[static_cast<std::size_t>(i * t.cols) + f];
        const text_codes& tc = t.feature_text[f];
        if (tc.is_text) {
          const auto code = static_cast<std::size_t>(std::llround(v));
          line += quote_csv(code < tc.names.size() ? tc.names[code] : format_number(v));
        } else {
          line += format_number(v);
        }
        ++f;
      }
      line += '\n';
      w.write(line);
    }
    w.commit();
  } catch (const ladle::error& e) {
    throw failure(e.what());
  }
}

}  // namespace ladle_cli
