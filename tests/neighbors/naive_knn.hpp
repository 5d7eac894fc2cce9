// tests/neighbors/naive_knn.hpp: the independent kNN reference the neighbour tests compare with.
//
// Every pair, distance by the documented formula (double, eight fma chains over features f % 8,
// combined pairwise, rounded to T), each row sorted by (distance, index).
#pragma once

#include <ladle/neighbors.hpp>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace naive_knn {

using ladle::index_t;

template <class T>
struct result {
  std::vector<index_t> idx;  ///< (nq, k), row-major
  std::vector<T> dist;       ///< (nq, k)
};

/// The k nearest rows of r (nr x d) for every row of q (nq x d); `self` skips j == i.
template <class T>
result<T> all_pairs(const std::vector<T>& q, index_t nq, const std::vector<T>& r, index_t nr,
                    index_t d, index_t k, bool self) {
  result<T> out;
  std::vector<std::pair<T, index_t>> row;
  for (index_t i = 0; i < nq; ++i) {
    row.clear();
    for (index_t j = 0; j < nr; ++j) {
      if (self && i == j) continue;
      double s[8] = {};
      for (index_t f = 0; f < d; ++f) {
        const double e = double(q[std::size_t(i * d + f)]) - double(r[std::size_t(j * d + f)]);
        s[f % 8] = std::fma(e, e, s[f % 8]);
      }
      const double total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
      row.emplace_back(static_cast<T>(total), j);
    }
    std::sort(row.begin(), row.end());
    for (index_t c = 0; c < k; ++c) {
      out.idx.push_back(row[std::size_t(c)].second);
      out.dist.push_back(row[std::size_t(c)].first);
    }
  }
  return out;
}

/// Entries of ladle::knn (or knn_self over r when `self`) that differ from all_pairs.
template <class T>
index_t mismatches(const std::vector<T>& q, index_t nq, const std::vector<T>& r, index_t nr,
                   index_t d, bool self, const ladle::knn_options& o) {
  const auto want = all_pairs(q, nq, r, nr, d, o.k, self);
  const auto got = self ? ladle::knn_self(ladle::make_view(r.data(), {nr, d}), o)
                        : ladle::knn(ladle::make_view(q.data(), {nq, d}),
                                     ladle::make_view(r.data(), {nr, d}), o);
  index_t bad = 0;
  for (index_t i = 0; i < nq; ++i)
    for (index_t c = 0; c < o.k; ++c) {
      const std::size_t w = std::size_t(i * o.k + c);
      bad += got.indices(i, c) != want.idx[w] || got.sq_distances(i, c) != want.dist[w];
    }
  return bad;
}

}  // namespace naive_knn
