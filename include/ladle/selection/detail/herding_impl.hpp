// Definitions for ladle/selection/herding.hpp.
#pragma once

#include "ladle/core/checks.hpp"
#include "ladle/core/fp_contract.hpp"
#include "ladle/core/size.hpp"
#include "ladle/detail/exact_distance.hpp"
#include "ladle/selection/detail/common.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace ladle {
namespace detail {

/// X as contiguous double rows: X itself when it already is, else a widened copy.
struct herding_rows {
  std::vector<double> copy;
  const double* base = nullptr;
  index_t ld = 0, d = 0;
  const double* row(index_t i) const noexcept { return base + i * ld; }
};

template <class T>
herding_rows herding_prepare(matrix_view<T> X, const char* fn) {
  using value_t = std::remove_const_t<T>;
  static_assert(std::is_same<value_t, float>::value || std::is_same<value_t, double>::value,
                "ladle::herding: X must be float or double");
  require_host(X, fn, "X");
  require_nonempty(X, fn, "X");
  require_finite(X, fn, "X");
  herding_rows R;
  const index_t n = X.extent(0), d = X.extent(1);
  R.d = d;
  if constexpr (std::is_same<value_t, double>::value) {
    if (X.stride(1) == 1 || d == 1) {
      R.base = X.data();
      R.ld = X.stride(0);
      return R;
    }
  }
  R.copy = make_buffer<double>(checked_mul(n, d, fn, "X"), fn, "X");
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < d; ++j) R.copy[std::size_t(i * d + j)] = double(X(i, j));
  R.base = R.copy.data();
  R.ld = d;
  return R;
}

struct herding_best {
  double value = std::numeric_limits<double>::infinity();
  index_t pos = -1;
};

/// Herds `budget` of the m rows listed in `rows` (increasing), appending to res.
template <class Policy>
void herding_rows_into(const Policy& policy, const herding_rows& R, const std::vector<index_t>& rows,
                       index_t budget, herding_result& res) {
  const index_t m = static_cast<index_t>(rows.size()), d = R.d;
  const auto ud = static_cast<std::size_t>(d);
  std::vector<double> mu(ud, 0.0), S(ud, 0.0), target(ud);
  for (const index_t i : rows)
    for (index_t j = 0; j < d; ++j) mu[std::size_t(j)] += R.row(i)[j];
  for (auto& v : mu) v /= double(m);
  std::vector<char> picked(static_cast<std::size_t>(m), 0);
  for (index_t t = 1; t <= budget; ++t) {
    for (std::size_t j = 0; j < ud; ++j) target[j] = mul_rounded(double(t), mu[j]) - S[j];
    const double* c = target.data();
    const herding_best best = parallel_reduce(
        policy, m, 1024, herding_best{},
        [&](index_t b, index_t e) {
          herding_best local;
          index_t q = b;
          for (; q + 4 <= e; q += 4) {
            if (picked[std::size_t(q)] & picked[std::size_t(q + 1)] & picked[std::size_t(q + 2)] &
                picked[std::size_t(q + 3)])
              continue;
            const double* rows4[4] = {R.row(rows[std::size_t(q)]), R.row(rows[std::size_t(q + 1)]),
                                      R.row(rows[std::size_t(q + 2)]),
                                      R.row(rows[std::size_t(q + 3)])};
            double dist[4];
            exact_sq_distance_rows4(rows4, c, d, dist);
            for (index_t r = 0; r < 4; ++r)
              if (!picked[std::size_t(q + r)] && dist[r] < local.value) local = {dist[r], q + r};
          }
          for (; q < e; ++q) {
            if (picked[std::size_t(q)]) continue;
            const double v = exact_sq_distance_rows(R.row(rows[std::size_t(q)]), c, d);
            if (v < local.value) local = {v, q};
          }
          return local;
        },
        [](herding_best a, herding_best b) { return b.value < a.value ? b : a; });
    picked[std::size_t(best.pos)] = 1;
    const double* x = R.row(rows[std::size_t(best.pos)]);
    double gap = 0;
    for (std::size_t j = 0; j < ud; ++j) {
      S[j] += x[j];
      const double e = mu[j] - S[j] / double(t);
      gap = std::fma(e, e, gap);
    }
    res.order.push_back(rows[std::size_t(best.pos)]);
    res.distances.push_back(std::sqrt(gap));
  }
}

}  // namespace detail

template <class Policy, class T, class>
herding_result herding(const Policy& policy, matrix_view<T> X, index_t budget) {
  const char* fn = "herding";
  auto R = detail::herding_prepare(X, fn);
  const index_t n = X.extent(0);
  detail::require_count(budget, n, fn, "budget", "rows");
  std::vector<index_t> rows(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) rows[std::size_t(i)] = i;
  herding_result res;
  res.order.reserve(static_cast<std::size_t>(budget));
  res.distances.reserve(static_cast<std::size_t>(budget));
  detail::herding_rows_into(policy, R, rows, budget, res);
  return res;
}

template <class T>
herding_result herding(matrix_view<T> X, index_t budget) {
  return herding(seq, X, budget);
}

template <class Policy, class T, class L, class>
herding_result herding(const Policy& policy, matrix_view<T> X, vector_view<L> labels,
                       index_t per_class) {
  const char* fn = "herding";
  auto R = detail::herding_prepare(X, fn);
  detail::check_label_type<L>();
  detail::require_host(labels, fn, "labels");
  detail::require_extent(labels.extent(0), X.extent(0), fn, "labels", "length");
  if (per_class < 0) throw_invalid_argument(fn, "per_class", "must not be negative, got ", per_class);
  std::map<std::remove_const_t<L>, std::vector<index_t>> classes;
  for (index_t i = 0; i < labels.extent(0); ++i) classes[labels(i)].push_back(i);
  for (const auto& kv : classes)
    if (per_class > static_cast<index_t>(kv.second.size()))
      throw_invalid_argument(fn, "per_class", "is ", per_class, " but class ", kv.first,
                             " has only ", kv.second.size(), " rows");
  herding_result res;
  for (const auto& kv : classes) detail::herding_rows_into(policy, R, kv.second, per_class, res);
  return res;
}

template <class T, class L>
herding_result herding(matrix_view<T> X, vector_view<L> labels, index_t per_class) {
  return herding(seq, X, labels, per_class);
}

inline std::size_t herding_workspace_bytes(index_t n, index_t d, std::size_t element_size,
                                           bool rows_contiguous) {
  const auto un = static_cast<std::size_t>(n), ud = static_cast<std::size_t>(d);
  std::size_t bytes = un * (1 + sizeof(index_t)) + 3 * ud * sizeof(double);
  if (element_size != sizeof(double) || !rows_contiguous) bytes += un * ud * sizeof(double);
  return bytes;
}

}  // namespace ladle
