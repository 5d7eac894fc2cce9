// Helpers of the end-to-end tests: a scratch folder per test process, running the built binary
// with its output captured, and small file utilities.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ladle_cli_test {

inline const std::string data_dir = LADLE_CLI_DATA;
inline const std::string breast = data_dir + "/breast_cancer_imbalanced.csv";

struct scratch_dir {
  std::string path;
  scratch_dir() {
    char buf[4096];
    REQUIRE(::getcwd(buf, sizeof buf) != nullptr);
    path = std::string(buf) + "/cli_test_scratch." + std::to_string(::getpid());
    REQUIRE(std::system(("rm -rf '" + path + "' && mkdir -p '" + path + "'").c_str()) == 0);
  }
  ~scratch_dir() { (void)std::system(("rm -rf '" + path + "'").c_str()); }
};

inline const std::string& dir() {
  static const scratch_dir d;
  return d.path;
}
inline std::string at(const std::string& name) { return dir() + "/" + name; }

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
inline void spit(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}
inline bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

inline std::set<std::string> listing() {
  std::set<std::string> names;
  if (DIR* d = ::opendir(dir().c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.insert(e->d_name);
    ::closedir(d);
  }
  return names;
}

struct result {
  int rc = -1;
  std::string out, err;
};

/// Runs `ladle ARGS` with stdin, stdout and stderr redirected (no terminal).
inline result cli(const std::string& args) {
  const std::string o = dir() + "/.stdout", e = dir() + "/.stderr";
  const std::string cmd = std::string("'") + LADLE_CLI_BINARY + "' " + args + " </dev/null >'" + o +
                          "' 2>'" + e + "'";
  const int status = std::system(cmd.c_str());
  result r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(o);
  r.err = slurp(e);
  ::unlink(o.c_str());
  ::unlink(e.c_str());
  return r;
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace ladle_cli_test
