// Facility location over a sparse kNN graph (facility_location_options::neighbors > 0); the
// definition is in ladle/selection/facility_location.hpp. Included at the end of
// facility_location_impl.hpp, whose heap entries and sampler it shares.
#pragma once

#include "ladle/neighbors/knn.hpp"
#include "ladle/selection/detail/facility_location_impl.hpp"

#include <algorithm>
#include <vector>

namespace ladle {
namespace detail {

/// The reverse graph in CSR: the entries start[c] .. start[c + 1] are the rows i whose N(i)
/// holds c, ascending, with sim(i, c). n (k + 1) entries, 16 bytes each.
struct facility_graph {
  std::vector<index_t> start;
  std::vector<index_t> row;
  std::vector<double> sim;
  double M = 0;  // M_k, the largest squared distance over the edges

  /// The gain of c: sum over R(c) in row order of max(0, sim(i, c) - cur_i).
  double gain(const double* cur, index_t c) const noexcept {
    double s = 0;
    for (index_t e = start[std::size_t(c)]; e < start[std::size_t(c) + 1]; ++e) {
      const double t = sim[std::size_t(e)] - cur[row[std::size_t(e)]];
      if (t > 0) s += t;
    }
    return s;
  }
  /// cur_i = max(cur_i, sim(i, c)) over R(c).
  void add(double* cur, index_t c) const noexcept {
    for (index_t e = start[std::size_t(c)]; e < start[std::size_t(c) + 1]; ++e) {
      double& v = cur[row[std::size_t(e)]];
      v = std::max(v, sim[std::size_t(e)]);
    }
  }
};

/// knn_self(X, k) (errors under fn's and X's names), then its reverse with the self edges.
template <class Policy, class T>
facility_graph facility_build_graph(const Policy& policy, matrix_view<T> X, index_t k,
                                    const char* fn) {
  const index_t n = X.extent(0);
  knn_options ko;
  ko.k = k;
  facility_graph G;
  const auto nn = knn::search_owning(policy, knn::context{fn, "X", "X"}, X, X, true, ko);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < k; ++j) G.M = std::max(G.M, static_cast<double>(nn.sq_distances(i, j)));
  const index_t edges = checked_mul(n, k + 1, fn, "options.neighbors");
  G.start = make_buffer<index_t>(n + 1, fn, "X");
  for (index_t i = 0; i < n; ++i) {  // in-degree counts, shifted by one for the prefix sum
    G.start[std::size_t(i) + 1] += 1;
    for (index_t j = 0; j < k; ++j) G.start[std::size_t(nn.indices(i, j)) + 1] += 1;
  }
  for (index_t c = 0; c < n; ++c) G.start[std::size_t(c) + 1] += G.start[std::size_t(c)];
  G.row = make_buffer<index_t>(edges, fn, "options.neighbors");
  G.sim = make_buffer<double>(edges, fn, "options.neighbors");
  std::vector<index_t> next(G.start.begin(), G.start.end() - 1);
  auto put = [&](index_t c, index_t i, double sim) {
    const auto e = std::size_t(next[std::size_t(c)]++);
    G.row[e] = i;
    G.sim[e] = sim;
  };
  for (index_t i = 0; i < n; ++i) {  // rows in order, so every R(c) comes out ascending
    put(i, i, G.M);
    for (index_t j = 0; j < k; ++j)
      put(nn.indices(i, j), i, G.M - static_cast<double>(nn.sq_distances(i, j)));
  }
  return G;
}

template <class Policy, class T>
facility_location_result facility_graph_location(const Policy& policy, matrix_view<T> X,
                                                 index_t budget,
                                                 const facility_location_options& opt,
                                                 const char* fn) {
  const index_t n = X.extent(0);
  const facility_graph G = facility_build_graph(policy, X, opt.neighbors, fn);

  facility_location_result res;
  res.max_sq_distance = G.M;
  res.order.reserve(static_cast<std::size_t>(budget));
  res.gains.reserve(static_cast<std::size_t>(budget));
  std::vector<double> cur(static_cast<std::size_t>(n), 0.0);  // max sim of row i into S
  std::vector<char> chosen(static_cast<std::size_t>(n), 0);
  auto pick = [&](index_t c, double gain) {
    res.order.push_back(c);
    res.gains.push_back(gain);
    chosen[std::size_t(c)] = 1;
    G.add(cur.data(), c);
  };
  // out[c] = gain of c for every unchosen c (each gain one sequential sum: any split of c).
  auto gains_all = [&](std::vector<double>& out) {
    out.resize(static_cast<std::size_t>(n));
    parallel_for(policy, n, 4096, [&](index_t b, index_t e) {
      for (index_t c = b; c < e; ++c)
        if (!chosen[std::size_t(c)]) out[std::size_t(c)] = G.gain(cur.data(), c);
    });
  };

  if (opt.method == facility_greedy::naive) {
    std::vector<double> gains;
    for (index_t t = 0; t < budget; ++t) {
      gains_all(gains);
      res.evaluations += n - t;
      index_t best = -1;  // ascending rows: the first maximum is the smallest row
      for (index_t q = 0; q < n; ++q)
        if (!chosen[std::size_t(q)] &&
            (best < 0 || gains[std::size_t(q)] > gains[std::size_t(best)]))
          best = q;
      pick(best, gains[std::size_t(best)]);
    }
  } else if (opt.method == facility_greedy::lazy) {
    std::vector<facility_entry> heap;
    {
      std::vector<double> gains;
      gains_all(gains);
      res.evaluations += n;
      heap.reserve(static_cast<std::size_t>(n));
      for (index_t i = 0; i < n; ++i) heap.push_back({gains[std::size_t(i)], i, 0});
    }
    const facility_entry_below below;
    std::make_heap(heap.begin(), heap.end(), below);
    for (index_t t = 0; t < budget; ++t) {
      for (;;) {  // a fresh top is at least every other entry's upper bound
        std::pop_heap(heap.begin(), heap.end(), below);
        facility_entry& top = heap.back();
        if (top.step == t) break;
        top = {G.gain(cur.data(), top.row), top.row, t};
        res.evaluations += 1;
        std::push_heap(heap.begin(), heap.end(), below);
      }
      const facility_entry top = heap.back();
      heap.pop_back();
      pick(top.row, top.gain);
    }
  } else {
    facility_sampler sampler(opt.seed, n, budget, opt.epsilon);
    std::vector<double> gains;
    for (index_t t = 0; t < budget; ++t) {
      const index_t s = sampler.draw(t);
      gains.resize(static_cast<std::size_t>(s));
      parallel_for(policy, s, 4096, [&](index_t b, index_t e) {
        for (index_t q = b; q < e; ++q)
          gains[std::size_t(q)] = G.gain(cur.data(), sampler.rem[std::size_t(q)]);
      });
      res.evaluations += s;
      double gain = 0;
      const index_t c = sampler.take(t, gains.data(), s, gain);
      pick(c, gain);
    }
  }

  // f(S) = sum_i cur_i, rows in order.
  for (index_t i = 0; i < n; ++i) res.objective += cur[std::size_t(i)];
  return res;
}

}  // namespace detail
}  // namespace ladle
