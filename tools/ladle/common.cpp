// tools/ladle/common.cpp: see common.hpp.
#include "common.hpp"

#include <ladle/io/file.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

namespace ladle_cli {

void add_common_options(CLI::App& cmd, common_options& o, bool writes_files) {
  cmd.add_flag("-q,--quiet", o.quiet, "No progress line and no summary");
  cmd.add_option("--threads", o.threads, "Threads to use (0 = all cores; results are identical for any count)")
      ->check(CLI::NonNegativeNumber)
      ->default_val(0);
  if (writes_files) cmd.add_flag("-f,--force", o.force, "Overwrite existing output files");
}

ladle::parallel_policy policy_of(const common_options& o) { return ladle::par(o.threads); }

void check_input(const std::string& path, bool allow_directory) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw failure("cannot read '" + path + "': " + std::strerror(errno));
  if (S_ISDIR(st.st_mode) && !allow_directory)
    throw failure("cannot read '" + path + "': it is a directory");
}

void check_output(const std::string& output, const std::vector<std::string>& inputs,
                  const common_options& o) {
  struct stat out;
  if (::stat(output.c_str(), &out) != 0) return;  // does not exist yet
  for (const std::string& in : inputs) {
    struct stat st;
    if (::stat(in.c_str(), &st) == 0 && st.st_dev == out.st_dev && st.st_ino == out.st_ino)
      throw usage_error("output '" + output + "' is the input '" + in +
                        "'; inputs are never modified, choose another output");
  }
  if (S_ISDIR(out.st_mode)) throw failure("output '" + output + "' is a directory");
  if (!o.force) throw failure("output '" + output + "' already exists (use --force to overwrite)");
}

std::string extension_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string e = path.substr(dot);
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e;
}

std::string human_bytes(std::uint64_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::string human_seconds(double s) {
  char buf[32];
  if (s < 10) std::snprintf(buf, sizeof buf, "%.2f s", s);
  else if (s < 120) std::snprintf(buf, sizeof buf, "%.1f s", s);
  else std::snprintf(buf, sizeof buf, "%d min %d s", static_cast<int>(s / 60), static_cast<int>(std::fmod(s, 60)));
  return buf;
}

// ---- progress --------------------------------------------------------------------------------

progress::progress(const common_options& o, std::string verb) : verb_(std::move(verb)) {
  enabled_ = !o.quiet && ::isatty(STDERR_FILENO) == 1;
  if (const char* d = std::getenv("LADLE_PROGRESS_DELAY")) {
    char* end = nullptr;
    const double v = std::strtod(d, &end);
    if (end != d && v >= 0) delay_ = v;
  }
  stage_start_ = std::chrono::steady_clock::now();
  if (enabled_) ticker_ = std::thread([this] { run(); });
}

progress::~progress() { finish(); }

void progress::stage(const std::string& what) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (drawn_ && !stage_.empty()) draw_locked(/*final_line=*/true);  // keep the finished stage
  stage_ = what;
  stage_start_ = std::chrono::steady_clock::now();
  done_ = -1;
  // Past the delay a new stage shows at once, not at the ticker's next 100 ms tick: a short stage
  // would otherwise never be seen (and LADLE_PROGRESS_DELAY=0 would race the ticker).
  if (!drawn_ && total_.seconds() >= delay_) drawn_ = true;
  if (drawn_) draw_locked(false);
}

void progress::count(std::int64_t done, std::int64_t total, const char* unit) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = done;
  of_ = total;
  unit_ = unit;
}

void progress::finish() {
  if (!enabled_) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_) return;
    stop_ = true;
    if (drawn_) draw_locked(true);
  }
  wake_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

void progress::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, std::chrono::milliseconds(100));
    if (stop_) break;
    if (!drawn_ && total_.seconds() < delay_) continue;
    drawn_ = true;
    draw_locked(false);
  }
}

void progress::draw_locked(bool final_line) {
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stage_start_).count();
  std::ostringstream line;
  line << "\r\033[Kladle " << verb_ << ": " << stage_;
  if (done_ >= 0 && of_ > 0) {
    line << " " << done_ << "/" << of_ << " " << unit_ << " ("
         << static_cast<int>(100.0 * static_cast<double>(done_) / static_cast<double>(of_)) << "%)";
  }
  line << " " << human_seconds(s);
  if (final_line) line << "\n";
  const std::string text = line.str();
  (void)!::write(STDERR_FILENO, text.data(), text.size());
}

void summary(const common_options& o, const std::string& line) {
  if (o.quiet) return;
  std::cout << line << std::endl;
}

bool split_parameter(const std::string& text, const std::string& prefix, std::string& value) {
  if (text.size() <= prefix.size() || text.compare(0, prefix.size(), prefix) != 0 ||
      text[prefix.size()] != ':')
    return false;
  value = text.substr(prefix.size() + 1);
  return true;
}

double parse_double(const std::string& text, const std::string& what) {
  const char* b = text.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(b, &end);
  if (text.empty() || end != b + text.size() || errno == ERANGE || !std::isfinite(v))
    throw usage_error(what + ": '" + text + "' is not a finite number");
  return v;
}

std::int64_t parse_int(const std::string& text, const std::string& what) {
  std::int64_t v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size())
    throw usage_error(what + ": '" + text + "' is not an integer");
  return v;
}

}  // namespace ladle_cli
