// tools/ladle/verb_inspect.cpp: `ladle inspect FILE` prints what a file holds, without changing it.
//
//   .npy          format version, dtype, shape, data bytes, order
//   .safetensors  (a file, an index .json or a folder) every tensor: name, dtype, shape, bytes,
//                 and for quantized tensors their `ladle.quant.NAME` record; other metadata
//   .csv          rows, columns; per column its type (integer / float / text) and range; the label
//                 column's classes and counts
// --json prints the same as one JSON object (for scripts and tests).
#include "common.hpp"
#include "checkpoint.hpp"
#include "csv.hpp"
#include "verbs.hpp"

#include <ladle/io/npy.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include <sys/stat.h>

namespace ladle_cli {

namespace {

struct inspect_args {
  common_options common;
  std::string path;
  std::string label;
  bool no_header = false;
  bool json = false;
};

std::string shape_text(const std::vector<ladle::index_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

nlohmann::ordered_json inspect_npy(const std::string& path, std::ostream& out, bool text) {
  ladle::npy_file f = [&] {
    try {
      return ladle::npy_file(path);
    } catch (const ladle::error& e) {
      throw failure(e.what());
    }
  }();
  const auto& h = f.header();
  nlohmann::ordered_json j;
  j["file"] = path;
  j["format"] = "npy";
  j["version"] = std::to_string(h.version) + ".0";
  j["dtype"] = ladle::npy_dtype_name(h.dtype);
  j["shape"] = h.shape;
  j["elements"] = h.size();
  j["data_bytes"] = h.bytes();
  j["order"] = "C";
  if (text)
    out << path << ": .npy " << h.version << ".0, " << ladle::npy_dtype_name(h.dtype)
        << ", shape " << shape_text(h.shape) << ", " << h.size() << " elements, "
        << human_bytes(h.bytes()) << " of data, C order\n";
  return j;
}

nlohmann::ordered_json inspect_safetensors(const std::string& path, std::ostream& out, bool text) {
  const ladle::safetensors_checkpoint c = open_checkpoint(path);
  const auto& meta = c.metadata();
  nlohmann::ordered_json j;
  j["file"] = path;
  j["format"] = "safetensors";
  j["files"] = c.files().size();
  j["bytes"] = checkpoint_bytes(c);
  j["tensors"] = nlohmann::ordered_json::array();
  std::uint64_t data = 0;
  std::size_t quantized = 0;
  for (const auto& e : c.tensors()) {
    data += e.tensor->bytes();
    if (meta.count(quant_key(e.tensor->name))) ++quantized;
  }
  if (text)
    out << path << ": safetensors, " << c.tensors().size() << " tensors in " << c.files().size()
        << (c.files().size() == 1 ? " file, " : " files, ") << human_bytes(data) << " of data"
        << (quantized ? ", " + std::to_string(quantized) + " quantized by ladle" : std::string()) << "\n";
  for (const auto& e : c.tensors()) {
    const auto& t = *e.tensor;
    nlohmann::ordered_json tj;
    tj["name"] = t.name;
    tj["dtype"] = ladle::safetensors_dtype_name(t.dtype);
    tj["shape"] = t.shape;
    tj["bytes"] = t.bytes();
    const auto q = meta.find(quant_key(t.name));
    if (q != meta.end()) tj["ladle.quant"] = nlohmann::ordered_json::parse(q->second, nullptr, false);
    if (text) {
      std::ostringstream line;
      line << "  " << std::left << std::setw(40) << t.name << std::setw(8)
           << ladle::safetensors_dtype_name(t.dtype) << std::setw(20) << shape_text(t.shape)
           << human_bytes(t.bytes());
      if (q != meta.end()) {
        const auto r = quant_record::from_json(t.name, q->second);
        line << "  [" << r.format << " " << r.scheme << " " << r.granularity
             << (r.group_size ? " " + std::to_string(r.group_size) : std::string()) << ", from " << r.dtype
             << " " << shape_text(r.shape) << "]";
      }
      out << line.str() << "\n";
    }
    j["tensors"].push_back(tj);
  }
  nlohmann::ordered_json other = nlohmann::ordered_json::object();
  for (const auto& kv : meta)
    if (kv.first.compare(0, 12, "ladle.quant.") != 0) {
      other[kv.first] = kv.second;
      if (text) out << "  metadata " << kv.first << " = " << kv.second << "\n";
    }
  j["metadata"] = other;
  return j;
}

struct column_stats {
  std::string name;
  bool numeric = true, integer = true;
  double lo = INFINITY, hi = -INFINITY;
  std::map<std::string, std::int64_t> values;  // kept while there are at most 64 distinct
  bool many = false;
};

nlohmann::ordered_json inspect_csv(const inspect_args& a, std::ostream& out, bool text) {
  check_input(a.path);
  std::vector<column_stats> cols;
  std::int64_t rows = 0;
  bool first = true;
  read_csv_records(a.path, [&](const csv_record& r) {
    if (first) {
      first = false;
      cols.resize(r.fields.size());
      for (std::size_t c = 0; c < cols.size(); ++c)
        cols[c].name = a.no_header ? std::to_string(c) : r.fields[c];
      if (!a.no_header) return;
    }
    if (r.fields.size() != cols.size())
      throw failure(a.path + ":" + std::to_string(r.line) + ": expected " + std::to_string(cols.size()) +
                    " fields, found " + std::to_string(r.fields.size()));
    ++rows;
    for (std::size_t c = 0; c < cols.size(); ++c) {
      column_stats& s = cols[c];
      const std::string& cell = r.fields[c];
      double v;
      if (parse_csv_number(cell, v)) {
        s.lo = std::min(s.lo, v);
        s.hi = std::max(s.hi, v);
        if (v != std::nearbyint(v)) s.integer = false;
      } else {
        s.numeric = s.integer = false;
      }
      if (!s.many) {
        ++s.values[cell];
        if (s.values.size() > 64) {
          s.many = true;
          s.values.clear();
        }
      }
    }
  });
  if (cols.empty()) throw failure(a.path + ": the file is empty");
  std::size_t label = cols.size() - 1;
  if (!a.label.empty()) {
    auto it = std::find_if(cols.begin(), cols.end(), [&](const column_stats& s) { return s.name == a.label; });
    if (it == cols.end()) throw usage_error("--label: '" + a.path + "' has no column '" + a.label + "'");
    label = static_cast<std::size_t>(it - cols.begin());
  }
  struct stat st;
  ::stat(a.path.c_str(), &st);
  nlohmann::ordered_json j;
  j["file"] = a.path;
  j["format"] = "csv";
  j["bytes"] = static_cast<std::uint64_t>(st.st_size);
  j["rows"] = rows;
  j["columns"] = nlohmann::ordered_json::array();
  if (text)
    out << a.path << ": CSV, " << rows << " rows x " << cols.size() << " columns, "
        << human_bytes(static_cast<std::uint64_t>(st.st_size)) << "\n";
  for (std::size_t c = 0; c < cols.size(); ++c) {
    const column_stats& s = cols[c];
    const char* type = s.integer ? "integer" : s.numeric ? "float" : "text";
    nlohmann::ordered_json col;
    col["name"] = s.name;
    col["type"] = type;
    if (s.numeric && rows > 0) {
      col["min"] = s.lo;
      col["max"] = s.hi;
    }
    if (c == label) {
      col["label"] = true;
      nlohmann::ordered_json classes = nlohmann::ordered_json::object();
      if (!s.many)
        for (const auto& kv : s.values) classes[kv.first] = kv.second;
      col["classes"] = classes;
    }
    if (text) {
      std::ostringstream line;
      line << "  " << std::left << std::setw(28) << (s.name + (c == label ? " (label)" : "")) << std::setw(9) << type;
      if (c == label && !s.many) {
        line << "classes:";
        for (const auto& kv : s.values) line << " " << kv.first << "=" << kv.second;
      } else if (s.numeric && rows > 0) {
        line << "min " << format_number(s.lo) << ", max " << format_number(s.hi);
      } else if (!s.many) {
        line << s.values.size() << " distinct";
      } else {
        line << "more than 64 distinct";
      }
      out << line.str() << "\n";
    }
    j["columns"].push_back(col);
  }
  return j;
}

void run(const inspect_args& a) {
  check_input(a.path, /*allow_directory=*/true);
  struct stat st;
  const std::string ext = ::stat(a.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) ? "" : extension_of(a.path);
  const bool text = !a.json;
  nlohmann::ordered_json j;
  if (ext == ".npy") j = inspect_npy(a.path, std::cout, text);
  else if (ext == ".safetensors" || ext == ".json" || ext.empty()) j = inspect_safetensors(a.path, std::cout, text);
  else if (ext == ".csv" || ext == ".txt") j = inspect_csv(a, std::cout, text);
  else throw usage_error("'" + a.path + "': unknown format '" + ext + "' (.safetensors, .npy or .csv)");
  if (a.json) std::cout << j.dump(2) << std::endl;
}

}  // namespace

verb add_inspect(CLI::App& app) {
  auto a = std::make_shared<inspect_args>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "Show what a .safetensors, .npy or .csv file holds: names, dtypes, shapes, sizes, "
                 "ladle metadata; "
                 "CSV columns and label classes.");
  cmd->add_option("file", a->path, "FILE.safetensors (or index .json / folder), FILE.npy or FILE.csv")->required();
  cmd->add_option("--label", a->label, "CSV label column (default: the last column)");
  cmd->add_flag("--no-header", a->no_header, "CSV has no header row");
  cmd->add_flag("--json", a->json, "Print one JSON object instead of text");
  add_common_options(*cmd, a->common, false);
  return {cmd, [a] { run(*a); }};
}

}  // namespace ladle_cli
