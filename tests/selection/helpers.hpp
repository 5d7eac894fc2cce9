// Test helpers for the selection family: chi-square goodness of fit and exact inclusion
// probabilities of successive weighted sampling, computed independently of ladle; SHA-256
// digests as lower-case hex (hashlib's hexdigest()); the facility-location tests' points.
#pragma once

#include <ladle/selection.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace st {

using ladle::index_t;

/// Upper 1e-4 quantile of chi-square with df degrees of freedom (Wilson-Hilferty; slightly
/// conservative, within 1% of scipy's chi2.ppf for df >= 9 and 7% at df = 1).
inline double chi2_critical(int df) {
  const double z = 3.719016485455709;  // standard normal 1 - 1e-4 quantile
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1 - a + z * std::sqrt(a), 3);
}

/// Chi-square statistic of observed counts against expected probabilities. Cells whose
/// probability is below 1e-12 must be empty (returns +inf otherwise) and add no freedom.
struct chi2_result {
  double statistic = 0;
  int df = -1;
  bool ok() const { return statistic <= chi2_critical(std::max(df, 1)); }
};
template <class Key>
chi2_result chi_square(const std::map<Key, double>& expected, const std::map<Key, long>& observed,
                       long trials) {
  chi2_result r;
  for (const auto& kv : observed)
    if (expected.find(kv.first) == expected.end() || expected.at(kv.first) < 1e-12) {
      r.statistic = INFINITY;
      return r;
    }
  for (const auto& kv : expected) {
    if (kv.second < 1e-12) continue;
    const double e = kv.second * static_cast<double>(trials);
    const auto it = observed.find(kv.first);
    const double o = it == observed.end() ? 0.0 : static_cast<double>(it->second);
    r.statistic += (o - e) * (o - e) / e;
    ++r.df;
  }
  return r;
}

/// Exact probability of each k-subset (as a sorted vector) under successive sampling
/// without replacement proportional to weight: sum over the k! draw orders of
/// prod w_{i_j} / (W - w_{i_1} - ... - w_{i_{j-1}}).
inline void enumerate_orders(const std::vector<double>& w, index_t k, std::vector<index_t>& seq,
                             double p, std::map<std::vector<index_t>, double>& out) {
  if (static_cast<index_t>(seq.size()) == k) {
    auto key = seq;
    std::sort(key.begin(), key.end());
    out[key] += p;
    return;
  }
  double left = 0;
  for (std::size_t i = 0; i < w.size(); ++i)
    if (std::find(seq.begin(), seq.end(), index_t(i)) == seq.end()) left += w[i];
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (w[i] <= 0 || std::find(seq.begin(), seq.end(), index_t(i)) != seq.end()) continue;
    seq.push_back(index_t(i));
    enumerate_orders(w, k, seq, p * w[i] / left, out);
    seq.pop_back();
  }
}
inline std::map<std::vector<index_t>, double> subset_probabilities(const std::vector<double>& w,
                                                                   index_t k) {
  std::map<std::vector<index_t>, double> out;
  std::vector<index_t> seq;
  enumerate_orders(w, k, seq, 1.0, out);
  return out;
}

/// Every k-subset of [0, n) with equal probability.
inline std::map<std::vector<index_t>, double> uniform_subsets(index_t n, index_t k) {
  std::vector<double> w(static_cast<std::size_t>(n), 1.0);
  return subset_probabilities(w, k);
}

template <class Container>
std::vector<index_t> sorted_copy(const Container& c) {
  std::vector<index_t> v(c.begin(), c.end());
  std::sort(v.begin(), v.end());
  return v;
}

/// A digest as lower-case hex, as Python's hashlib.sha256(...).hexdigest() prints it.
inline std::string hex(const ladle::sha256_digest& d) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (auto b : d) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

/// n×d row-major points for the facility-location tests, by kind: 0 Gaussian; 1 an integer
/// grid 0..3 (distances and gains tie everywhere); 2 every point three times (rows i, i + n/3,
/// i + 2n/3: zero distances), the rest Gaussian.
template <class T>
inline std::vector<T> facility_features(index_t n, index_t d, std::uint64_t s, int kind) {
  ladle::philox g(ladle::seed{s});
  std::vector<T> x(std::size_t(n * d));
  if (kind == 0) {  // Gaussian
    for (auto& v : x) v = T(ladle::normal(g));
  } else if (kind == 1) {  // integer grid 0..3: distances and gains tie everywhere
    for (auto& v : x) v = T(ladle::uniform_index(g, 4));
  } else {  // every point three times (rows i, i + n/3, i + 2n/3)
    const index_t m = n / 3;
    for (index_t i = 0; i < m; ++i)
      for (index_t f = 0; f < d; ++f) {
        const T v = T(ladle::normal(g));
        for (index_t r = 0; r < 3; ++r) x[std::size_t((i + r * m) * d + f)] = v;
      }
    for (index_t i = 3 * m; i < n; ++i)
      for (index_t f = 0; f < d; ++f) x[std::size_t(i * d + f)] = T(ladle::normal(g));
  }
  return x;
}

template <class T>
inline ladle::matrix_view<const T> view_of(const std::vector<T>& x, index_t n, index_t d) {
  return ladle::make_view(static_cast<const T*>(x.data()), {n, d});
}

}  // namespace st
