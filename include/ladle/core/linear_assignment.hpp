// ladle/core/linear_assignment.hpp: exact dense rectangular linear sum assignment (the problem
// scipy.optimize.linear_sum_assignment solves), the solver under permutation weight matching.
//
// Inputs: cost, a host matrix view of float or double, n_rows x n_cols, any strides (a
// transposed view costs no copy). goal: minimize (default) or maximize.
// Output: assignment[i] = the column given to row i. When n_rows <= n_cols every row gets a
// distinct column; when n_rows > n_cols every column gets a distinct row and the n_rows - n_cols
// rows left over get -1. The return value is the total cost of the assigned pairs, summed in
// double in row order. An empty matrix (0 rows or 0 columns) is a valid problem: cost 0, every
// row -1 (as scipy answers).
// Forbidden pairs: +inf (minimize) or -inf (maximize) marks a pair that may not be used; if no
// complete assignment avoids them the problem is infeasible (ladle::domain_error).
// Algorithm: shortest augmenting paths with dual potentials (the Jonker-Volgenant scheme in the
// rectangular form of Crouse, IEEE TAES 2016, which scipy uses): the smaller side is assigned
// one vertex at a time by a Dijkstra search over reduced costs c(i, j) - u_i - v_j >= 0, computed
// in double. The result is an exact optimum (up to the rounding of those double sums).
// Ties: several optima may exist. The search scans columns in increasing index; among columns at
// the same shortest-path distance it takes an unassigned column first (that ends the search),
// else the lowest index. The result is therefore a pure function of the matrix (no randomness,
// no threads); it need not be the optimum scipy returns when the optimum is not unique (scipy
// scans its columns in a different order), but its total is the same.
// Errors (nothing is written): NaN anywhere, -inf when minimising or +inf when maximising
// (ladle::domain_error naming row and column); an infeasible problem (domain_error naming the
// row or column that cannot be matched); assignment not of length n_rows, not host, or
// overlapping cost (invalid_argument).
// Complexity: O(r^2 c) time for r = min(n_rows, n_cols), c = max (O(n^3) when square); the
// whole matrix is read once for the check. Extra memory: O(n_rows + n_cols) (potentials,
// distances, path, flags); the cost matrix is never copied.
#pragma once

#include "ladle/core/checks.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/size.hpp"
#include "ladle/core/view.hpp"

#include <type_traits>
#include <vector>

namespace ladle {

enum class assignment_goal { minimize, maximize };

struct assignment_result {
  std::vector<index_t> column_of_row;  ///< per row: its column, or -1 (rows > columns)
  double total = 0;                    ///< total cost of the assigned pairs
};

/// Solves the assignment into `assignment` (length n_rows) and returns its total cost.
template <class T>
double linear_sum_assignment(tensor_view<const T, 2> cost, tensor_view<index_t, 1> assignment,
                             assignment_goal goal = assignment_goal::minimize);
template <class T>
double linear_sum_assignment(tensor_view<T, 2> cost, tensor_view<index_t, 1> assignment,
                             assignment_goal goal = assignment_goal::minimize) {
  return linear_sum_assignment(tensor_view<const T, 2>(cost), assignment, goal);
}

/// The owning form.
template <class T>
assignment_result linear_sum_assignment(tensor_view<const T, 2> cost,
                                        assignment_goal goal = assignment_goal::minimize);
template <class T>
assignment_result linear_sum_assignment(tensor_view<T, 2> cost,
                                        assignment_goal goal = assignment_goal::minimize) {
  return linear_sum_assignment(tensor_view<const T, 2>(cost), goal);
}

}  // namespace ladle

#include "ladle/detail/linear_assignment_impl.hpp"
