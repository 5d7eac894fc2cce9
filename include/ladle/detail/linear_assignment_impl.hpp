// ladle/detail/linear_assignment_impl.hpp: definitions for ladle/core/linear_assignment.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace ladle {
namespace detail {

/// Refuses NaN, and the infinity that would make the optimum unbounded, naming its position.
template <class T>
void check_assignment_costs(const tensor_view<const T, 2>& cost, assignment_goal goal,
                            const char* fn, const char* arg) {
  const index_t nr = cost.extent(0), nc = cost.extent(1);
  const double unbounded = goal == assignment_goal::minimize
                               ? -std::numeric_limits<double>::infinity()
                               : std::numeric_limits<double>::infinity();
  for (index_t i = 0; i < nr; ++i)
    for (index_t j = 0; j < nc; ++j) {
      const double x = static_cast<double>(cost(i, j));
      if (std::isnan(x))
        throw_domain_error(fn, arg, "has NaN at row ", i, ", column ", j);
      if (x == unbounded)
        throw_domain_error(fn, arg, "has ", x, " at row ", i, ", column ", j, ", so the ",
                           goal == assignment_goal::minimize ? "minimum" : "maximum",
                           " is unbounded (", -x, " marks a forbidden pair)");
    }
}

/// Shortest-augmenting-path solver for r <= c rows: c(i, j) = sign * data[i * rs + j * cs]
/// (sign = +-1, exact). Writes col4row[0..r). Returns -1 on success, else the row whose search
/// found no reachable free column (the problem is infeasible).
template <class T>
index_t solve_assignment(const T* data, index_t r, index_t c, index_t rs, index_t cs, double sign,
                         index_t* col4row, const char* fn, const char* arg) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  auto u = make_buffer<double>(r, fn, arg);
  auto v = make_buffer<double>(c, fn, arg);
  auto dist = make_buffer<double>(c, fn, arg);
  auto path = make_buffer<index_t>(c, fn, arg, index_t{-1});
  auto row4col = make_buffer<index_t>(c, fn, arg, index_t{-1});
  auto remaining = make_buffer<index_t>(c, fn, arg);
  auto row_seen = make_buffer<unsigned char>(r, fn, arg);
  auto col_seen = make_buffer<unsigned char>(c, fn, arg);
  std::fill(col4row, col4row + r, index_t{-1});

  for (index_t cur = 0; cur < r; ++cur) {
    // Dijkstra over reduced costs from row `cur` until a free column is reached.
    std::fill(dist.begin(), dist.end(), inf);
    std::fill(row_seen.begin(), row_seen.end(), 0);
    std::fill(col_seen.begin(), col_seen.end(), 0);
    for (index_t j = 0; j < c; ++j) remaining[j] = j;  // kept in increasing column order
    index_t n_remaining = c, sink = -1, i = cur;
    double min_val = 0;
    while (sink < 0) {
      row_seen[i] = 1;
      const T* row = data + i * rs;
      const double ui = u[i];
      index_t best = -1;
      bool best_free = false;
      double lowest = inf;
      for (index_t it = 0; it < n_remaining; ++it) {
        const index_t j = remaining[it];
        const double reduced = min_val + sign * static_cast<double>(row[j * cs]) - ui - v[j];
        if (reduced < dist[j]) {
          path[j] = i;
          dist[j] = reduced;
        }
        // Lowest distance; among equals an unassigned column, then the lowest index.
        const double d = dist[j];
        if (d < lowest) {
          lowest = d;
          best = it;
          best_free = row4col[j] < 0;
        } else if (d == lowest && !best_free && row4col[j] < 0) {
          best = it;
          best_free = true;
        }
      }
      min_val = lowest;
      if (min_val == inf) return cur;  // also when best < 0: nothing reachable
      const index_t j = remaining[best];
      if (row4col[j] < 0)
        sink = j;
      else
        i = row4col[j];
      col_seen[j] = 1;
      std::copy(remaining.begin() + best + 1, remaining.begin() + n_remaining,
                remaining.begin() + best);
      --n_remaining;
    }
    // Update the potentials so reduced costs stay >= 0 and are 0 on the matching.
    u[cur] += min_val;
    for (index_t k = 0; k < r; ++k)
      if (row_seen[k] && k != cur) u[k] += min_val - dist[col4row[k]];
    for (index_t j = 0; j < c; ++j)
      if (col_seen[j]) v[j] -= min_val - dist[j];
    // Augment along the path back to `cur`.
    for (index_t j = sink;;) {
      const index_t k = path[j];
      row4col[j] = k;
      std::swap(col4row[k], j);
      if (k == cur) break;
    }
  }
  return -1;
}

/// The checked solver under the public function's name `fn`.
template <class T>
double linear_sum_assignment_as(const tensor_view<const T, 2>& cost,
                                const tensor_view<index_t, 1>& assignment, assignment_goal goal,
                                const char* fn) {
  static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value,
                "ladle::linear_sum_assignment: cost must be float or double");
  require_host(cost, fn, "cost");
  require_host(assignment, fn, "assignment");
  require_extent(assignment.extent(0), cost.extent(0), fn, "assignment", "length");
  require_disjoint(assignment, "assignment", cost, "cost", fn);
  check_assignment_costs(cost, goal, fn, "cost");
  const index_t nr = cost.extent(0), nc = cost.extent(1);
  if (nr == 0 || nc == 0) {
    for (index_t i = 0; i < nr; ++i) assignment(i) = -1;
    return 0;
  }
  const bool transpose = nr > nc;
  const index_t r = transpose ? nc : nr, c = transpose ? nr : nc;
  const index_t rs = transpose ? cost.stride(1) : cost.stride(0);
  const index_t cs = transpose ? cost.stride(0) : cost.stride(1);
  auto col4row = make_buffer<index_t>(r, fn, "cost");
  const double sign = goal == assignment_goal::maximize ? -1.0 : 1.0;
  const index_t stuck = solve_assignment(cost.data(), r, c, rs, cs, sign, col4row.data(), fn, "cost");
  if (stuck >= 0)
    throw_domain_error(fn, "cost", "admits no assignment that avoids the forbidden (",
                       goal == assignment_goal::minimize ? "+inf" : "-inf", ") entries: ",
                       transpose ? "column " : "row ", stuck, " cannot be matched");
  if (!transpose) {
    for (index_t i = 0; i < nr; ++i) assignment(i) = col4row[i];
  } else {
    for (index_t i = 0; i < nr; ++i) assignment(i) = -1;
    for (index_t k = 0; k < r; ++k) assignment(col4row[k]) = k;
  }
  double total = 0;
  for (index_t i = 0; i < nr; ++i)
    if (assignment(i) >= 0) total += static_cast<double>(cost(i, assignment(i)));
  return total;
}

}  // namespace detail

template <class T>
double linear_sum_assignment(tensor_view<const T, 2> cost, tensor_view<index_t, 1> assignment,
                             assignment_goal goal) {
  return detail::linear_sum_assignment_as(cost, assignment, goal, "linear_sum_assignment");
}

template <class T>
assignment_result linear_sum_assignment(tensor_view<const T, 2> cost, assignment_goal goal) {
  assignment_result result;
  result.column_of_row =
      detail::make_buffer<index_t>(cost.extent(0), "linear_sum_assignment", "cost");
  result.total = detail::linear_sum_assignment_as(
      cost, tensor_view<index_t, 1>(result.column_of_row.data(), {cost.extent(0)}), goal,
      "linear_sum_assignment");
  return result;
}

}  // namespace ladle
