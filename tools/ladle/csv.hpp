// tools/ladle/csv.hpp: CSV records (RFC 4180) in and out.
//
// Reading: fields separated by ',', records by LF or CRLF (a lone CR too); a field may be quoted
// with '"', and then holds commas, line breaks and doubled quotes ("" = one quote). A UTF-8
// byte-order mark is skipped, blank lines are skipped (as pandas does), the last record may end
// without a line break. Malformed input (a quote inside an unquoted field, text after a closing
// quote, an unterminated quoted field, a record with the wrong number of fields) fails with the
// file, the line and the column. The file is memory-mapped; one record is held at a time.
//
// Numbers: parse_csv_number accepts what strtod accepts for finite decimal numbers (surrounding
// spaces allowed); NaN, Inf and empty cells are refused by the table loader with line and column.
// Writing: format_number gives the shortest text that reads back as the same double (or float),
// quote_csv quotes a field only when it must.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ladle_cli {

/// One record: its fields and the 1-based line it starts on.
struct csv_record {
  std::vector<std::string> fields;
  std::int64_t line = 0;
};

/// Calls on_record for every record of the file (the header row included). Throws failure with
/// "FILE:LINE:COLUMN: problem" on malformed input.
void read_csv_records(const std::string& path,
                      const std::function<void(const csv_record&)>& on_record);

/// Parses a finite number; false when `text` is not one.
bool parse_csv_number(const std::string& text, double& value);

/// Shortest round-trip decimal text.
std::string format_number(double v);
std::string format_number(float v);

/// The field as it must appear in a CSV file (quoted when it holds ',', '"', CR or LF, or
/// leading/trailing spaces).
std::string quote_csv(const std::string& field);

}  // namespace ladle_cli
