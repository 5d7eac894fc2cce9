// examples/digits_data.hpp: scikit-learn's digits (examples/data/digits.csv, 1797 images of 8 x 8
// pixels, label first; written by data/export_digits.py) and the seeded splits the digits
// examples use.
#pragma once

#include <ladle/core/random.hpp>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace digits {

struct data_set {
  std::vector<float> X;  // n x 64, pixels / 16 (exact: the pixels are integers 0..16)
  std::vector<int> y;
  int n = 0;

  const float* row(int i) const { return &X[static_cast<std::size_t>(i) * 64]; }
};

/// All 1797 images, found next to this header whatever the working directory.
inline data_set load() {
  const std::string src = __FILE__;
  std::ifstream in(src.substr(0, src.find_last_of("/\\") + 1) + "data/digits.csv");
  data_set d;
  std::string line;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    std::getline(ss, cell, ',');
    d.y.push_back(std::stoi(cell));
    while (std::getline(ss, cell, ',')) d.X.push_back(std::stof(cell) / 16.0f);
    ++d.n;
  }
  if (d.n != 1797)
    throw std::runtime_error("digits.csv: expected 1797 rows, read " + std::to_string(d.n));
  return d;
}

/// 0, 1, ..., n - 1.
inline std::vector<int> all_rows(const data_set& d) {
  std::vector<int> rows(static_cast<std::size_t>(d.n));
  std::iota(rows.begin(), rows.end(), 0);
  return rows;
}

/// The rows shuffled by Philox stream 0 of `seed`, cut into consecutive parts of `sizes` rows,
/// plus a last part holding the rest.
inline std::vector<std::vector<int>> split(const data_set& d, std::uint64_t seed,
                                           const std::vector<int>& sizes) {
  std::vector<int> order = all_rows(d);
  ladle::philox g(ladle::seed{seed}, 0);
  ladle::shuffle(order.begin(), order.end(), g);
  std::vector<std::vector<int>> parts;
  auto at = order.begin();
  for (int size : sizes) {
    if (size > order.end() - at) throw std::invalid_argument("digits::split: sizes exceed the data");
    parts.emplace_back(at, at + size);
    at += size;
  }
  parts.emplace_back(at, order.end());
  return parts;
}

}  // namespace digits
