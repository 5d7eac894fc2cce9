// tools/ladle/table.hpp: labelled tabular data (features + one label per row) from CSV or .npy,
// and back in the same format.
//
// CSV: a header row names the columns (or --no-header: columns are named 0, 1, 2, ...); the label
// column is chosen by name (default: the last column). Feature cells must be finite numbers, except
// in categorical columns, which may hold text: each distinct text becomes a category code
// (0, 1, ... in sorted order) and is written back as the same text. Labels likewise: integers stay
// integers, any other text is mapped to codes in sorted order and written back as text.
// .npy: a 2-d float32/float64 feature file plus a 1-d int32/int64 (or integral float) label file
// (--labels). Features keep their dtype (float32 stays float32), labels theirs.
#pragma once

#include <ladle/config.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ladle_cli {

using ladle::index_t;

struct table_options {
  std::string path;
  std::string label;         ///< CSV label column name; empty = the last column
  std::string labels_path;   ///< .npy: the label file
  bool no_header = false;    ///< CSV without a header row
  std::vector<std::string> categorical;  ///< CSV column names (or indices) that are categorical
};

/// A column whose values are category texts, stored as codes.
struct text_codes {
  bool is_text = false;
  std::vector<std::string> names;  ///< code -> text (sorted), when is_text
};

struct table {
  bool csv = true;
  index_t rows = 0, cols = 0;               ///< cols: feature columns (label excluded)
  bool float32 = false;                     ///< .npy float32 features
  std::vector<double> X64;                  ///< rows x cols, when !float32
  std::vector<float> X32;                   ///< rows x cols, when float32
  std::vector<std::int64_t> y;              ///< label codes
  // CSV layout, to write the same shape back:
  bool header = true;
  std::vector<std::string> column_names;    ///< all columns in file order (label included)
  std::size_t label_column = 0;             ///< position of the label in column_names
  std::string label_name;
  text_codes label_text;
  std::vector<text_codes> feature_text;     ///< per feature column
  std::vector<index_t> categorical;         ///< feature indices given by --categorical
  // .npy label dtype: 0 int32, 1 int64, 2 float32, 3 float64
  int labels_dtype = 1;
  /// The label as users see it ("malignant", "1").
  std::string label_display(std::int64_t code) const;
};

/// Reads a table; throws failure naming file, line and column on bad input.
table read_table(const table_options& o);

/// Writes rows x cols features (double or float, matching t) and labels in t's format. For .npy,
/// features go to `path` and labels to `labels_path`. Atomic; overwrite as --force.
void write_table(const table& like, const std::string& path, const std::string& labels_path,
                 const void* X, const std::int64_t* y, index_t rows, bool overwrite);

/// "OUT.labels.npy" for "OUT.npy".
std::string default_labels_path(const std::string& features_path);

}  // namespace ladle_cli
