// tools/ladle/common.hpp: what every verb of the `ladle` program shares.
//
//   errors        usage_error (exit 2: the command line is wrong) and failure (exit 1: a file or
//                 the data is wrong). Messages name the file and the problem.
//   options       --quiet, --threads N, --force, added to each verb by add_common_options.
//   outputs       check_output refuses an existing output (unless --force) and an output that is
//                 one of the inputs; files are written through ladle::atomic_file_writer.
//   progress      a status line on stderr, only when stderr is a terminal and not --quiet, and
//                 only for work lasting over a second (LADLE_PROGRESS_DELAY=seconds overrides).
//   summary       one line on stdout when a verb finishes (what, sizes, time), unless --quiet.
#pragma once

#include <ladle/core/parallel.hpp>

#include <CLI/CLI.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ladle_cli {

/// The command line is wrong (exit code 2).
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The work failed: a missing or malformed file, data the method refuses (exit code 1).
struct failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct common_options {
  bool quiet = false;
  bool force = false;
  int threads = 0;  ///< 0: all hardware threads
};

/// Adds --quiet, --threads and (for verbs that write files) --force.
void add_common_options(CLI::App& cmd, common_options& o, bool writes_files);

/// The execution policy --threads asks for (results do not depend on it).
ladle::parallel_policy policy_of(const common_options& o);

/// Refuses (failure) an existing output without --force, and (usage_error) an output that names
/// the same file as one of the inputs.
void check_output(const std::string& output, const std::vector<std::string>& inputs,
                  const common_options& o);

/// Fails with "cannot read FILE: no such file" style messages before any work starts.
void check_input(const std::string& path, bool allow_directory = false);

/// Lower-case file extension with the dot (".csv"), or "".
std::string extension_of(const std::string& path);

/// "1.2 KiB", "3.4 MiB".
std::string human_bytes(std::uint64_t bytes);
/// "0.03 s", "2.1 s", "3 min 4 s".
std::string human_seconds(double seconds);

/// Wall-clock since construction.
class stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

/// The progress line of one verb run. Stages and counts may be set from the verb's thread; a
/// ticker thread redraws the line (elapsed time of the stage) while a long library call runs.
class progress {
 public:
  progress(const common_options& o, std::string verb);
  ~progress();
  progress(const progress&) = delete;
  progress& operator=(const progress&) = delete;

  /// Starts a new stage ("reading data.csv"); the previous one ends.
  void stage(const std::string& what);
  /// Items done within the current stage ("3/12 tensors").
  void count(std::int64_t done, std::int64_t total, const char* unit);
  /// Ends the line (called by the destructor too).
  void finish();
  bool enabled() const noexcept { return enabled_; }

 private:
  void run();
  void draw_locked(bool final_line);

  bool enabled_ = false;
  std::string verb_;
  double delay_ = 1.0;
  stopwatch total_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread ticker_;
  bool stop_ = false, drawn_ = false;
  std::string stage_;
  std::chrono::steady_clock::time_point stage_start_;
  std::int64_t done_ = -1, of_ = 0;
  const char* unit_ = "";
};

/// Prints the verb's one-line summary on stdout, unless --quiet.
void summary(const common_options& o, const std::string& line);

/// Parses "name:VALUE" forms (e.g. "group:64", "percentile:99.9"): returns true and sets value
/// when `text` starts with prefix + ':'.
bool split_parameter(const std::string& text, const std::string& prefix, std::string& value);

/// Strict number parsing for option values: the whole text must be the number.
double parse_double(const std::string& text, const std::string& what);
std::int64_t parse_int(const std::string& text, const std::string& what);

}  // namespace ladle_cli
