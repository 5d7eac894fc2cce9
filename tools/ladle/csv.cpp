// tools/ladle/csv.cpp: see csv.hpp.
#include "csv.hpp"

#include "common.hpp"

#include <ladle/io/file.hpp>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace ladle_cli {

namespace {

[[noreturn]] void malformed(const std::string& path, std::int64_t line, std::int64_t column,
                            const std::string& what) {
  throw failure(path + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + what);
}

}  // namespace

void read_csv_records(const std::string& path,
                      const std::function<void(const csv_record&)>& on_record) {
  ladle::mapped_file file;
  try {
    file = ladle::mapped_file(path, "read_csv");
  } catch (const ladle::error&) {
    check_input(path);  // a clearer message for the usual causes
    throw;
  }
  const char* p = reinterpret_cast<const char*>(file.data());
  const char* const end = p + file.size();
  if (end - p >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;

  csv_record rec;
  std::int64_t line = 1;
  const char* line_start = p;
  auto column = [&](const char* at) { return static_cast<std::int64_t>(at - line_start) + 1; };
  std::string field;

  while (p < end) {
    // Skip blank lines.
    if (*p == '\n' || *p == '\r') {
      if (*p == '\r' && p + 1 < end && p[1] == '\n') ++p;
      ++p;
      ++line;
      line_start = p;
      continue;
    }
    rec.fields.clear();
    rec.line = line;
    bool record_done = false;
    while (!record_done) {
      field.clear();
      if (p < end && *p == '"') {
        const std::int64_t open_line = line, open_col = column(p);
        ++p;
        while (true) {
          if (p >= end)
            malformed(path, open_line, open_col, "quoted field is not closed before the end of the file");
          if (*p == '"') {
            if (p + 1 < end && p[1] == '"') {
              field += '"';
              p += 2;
              continue;
            }
            ++p;
            break;
          }
          if (*p == '\n') {
            ++line;
            line_start = p + 1;
          }
          field += *p++;
        }
        if (p < end && *p != ',' && *p != '\n' && *p != '\r')
          malformed(path, line, column(p), "unexpected text after a closing quote");
      } else {
        const char* start = p;
        while (p < end && *p != ',' && *p != '\n' && *p != '\r') {
          if (*p == '"')
            malformed(path, line, column(p), "quote inside an unquoted field (quote the whole field)");
          ++p;
        }
        field.assign(start, p);
      }
      rec.fields.push_back(field);
      if (p < end && *p == ',') {
        ++p;
        continue;
      }
      // End of record (line break or end of file).
      if (p < end) {
        if (*p == '\r' && p + 1 < end && p[1] == '\n') ++p;
        ++p;
        ++line;
        line_start = p;
      }
      record_done = true;
    }
    on_record(rec);
  }
}

bool parse_csv_number(const std::string& text, double& value) {
  std::size_t b = 0, e = text.size();
  while (b < e && (text[b] == ' ' || text[b] == '\t')) ++b;
  while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t')) --e;
  if (b == e) return false;
  const char* first = text.data() + b;
  if (*first == '+') ++first;  // from_chars refuses a leading '+'
  const auto r = std::from_chars(first, text.data() + e, value);
  return r.ec == std::errc() && r.ptr == text.data() + e && std::isfinite(value);
}

std::string format_number(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string format_number(float v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string quote_csv(const std::string& field) {
  const bool needs = field.find_first_of(",\"\r\n") != std::string::npos ||
                     (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!needs) return field;
  std::string q = "\"";
  for (char c : field) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + '"';
}

}  // namespace ladle_cli
