// Shared by the resampling tests: fixture data as ladle tensors, and naive reference checks.
#pragma once

#include <ladle/resampling.hpp>

#include "fixtures/imblearn_fixtures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace rt {

template <class T>
ladle::tensor<T, 2> features(const std::vector<float>& flat, long n, long d) {
  ladle::tensor<T, 2> X({n, d});
  for (long i = 0; i < n * d; ++i) X[i] = static_cast<T>(flat[std::size_t(i)]);
  return X;
}

template <class L>
ladle::tensor<L, 1> labels(const std::vector<std::int64_t>& flat) {
  ladle::tensor<L, 1> y({static_cast<ladle::index_t>(flat.size())});
  for (std::size_t i = 0; i < flat.size(); ++i) y[ladle::index_t(i)] = static_cast<L>(flat[i]);
  return y;
}

template <class L>
std::vector<long> class_counts_flat(ladle::vector_view<const L> y) {
  std::map<long, long> m;
  for (ladle::index_t i = 0; i < y.extent(0); ++i) ++m[long(y(i))];
  std::vector<long> out;
  for (const auto& kv : m) {
    out.push_back(kv.first);
    out.push_back(kv.second);
  }
  return out;
}

/// Naive k nearest rows of row i among `candidates` (excluding i), by exact double distance,
/// ties to the smaller index: an independent reference for the audit checks.
template <class T>
std::vector<ladle::index_t> naive_knn(ladle::matrix_view<const T> X, ladle::index_t i,
                                      const std::vector<ladle::index_t>& candidates,
                                      ladle::index_t k) {
  std::vector<std::pair<double, ladle::index_t>> d;
  for (auto j : candidates) {
    if (j == i) continue;
    double s = 0;
    for (ladle::index_t f = 0; f < X.extent(1); ++f) {
      const double diff = double(X(i, f)) - double(X(j, f));
      s += diff * diff;
    }
    d.emplace_back(s, j);
  }
  std::sort(d.begin(), d.end());
  std::vector<ladle::index_t> out;
  for (ladle::index_t c = 0; c < k && c < ladle::index_t(d.size()); ++c)
    out.push_back(d[std::size_t(c)].second);
  return out;
}

template <class L>
std::vector<ladle::index_t> rows_of(ladle::vector_view<const L> y, std::int64_t label) {
  std::vector<ladle::index_t> r;
  for (ladle::index_t i = 0; i < y.extent(0); ++i)
    if (std::int64_t(y(i)) == label) r.push_back(i);
  return r;
}

template <class T, class L>
bool bit_identical(const ladle::resample_result<T, L>& a, const ladle::resample_result<T, L>& b) {
  auto same = [](const auto& x, const auto& z) {
    return x.extents() == z.extents() &&
           std::equal(x.begin(), x.end(), z.begin(), [](auto u, auto v) {
             return std::memcmp(&u, &v, sizeof(u)) == 0;
           });
  };
  return same(a.X, b.X) && same(a.y, b.y) && same(a.sample_indices, b.sample_indices) &&
         same(a.base, b.base) && same(a.neighbor, b.neighbor) && same(a.gap, b.gap);
}

}  // namespace rt
