// ladle/quantile/fit.hpp: fitting aggregator weights on held-out predictions.
//
// Minimises, over weights on the simplex, the pinball loss of the aggregate on held-out base
// predictions preds [M, N, K] with targets y [N] at levels [K]:
//     J(W) = (1/K) sum_k sum_i s_i rho_{tau_k}(y_i - aggregate(W)_{i,k}) / sum_i s_i,
// i.e. ladle::pinball_loss of aggregate_into(preds, W) (objective = wis reports and minimises
// 2 J, the weighted interval score of symmetric levels: the same minimiser). This is a linear
// program. per_model_level and cross_level split into K independent problems (one per output
// level, N rows each); per_model is one problem with N K rows.
//
// Methods:
//  * exact: a dense tableau simplex on the standard form of each problem
//        min sum_r c_r (tau_r u_r + (1 - tau_r) v_r)  s.t.  x_r . w + u_r - v_r = y_r,
//        sum_p w_p = 1,  w, u, v >= 0,
//    started from the vertex "model 0 alone" (feasible by construction), Dantzig pricing with a
//    switch to Bland's rule while pivots stall (no cycling), ties to the lowest index. Status
//    `optimal`. Time O(pivots * R * (P + 2R)), memory (R + 1)(P + 2R + 1) doubles per problem
//    (R rows, P = M or M K inputs): for small problems (R up to a few thousand).
//  * first_order: exponentiated gradient (mirror descent on the simplex) with backtracking on
//    the Huber-smoothed objective, the smoothing shrunk by continuation. Every iterate yields a
//    certified lower bound on the optimum, J(w) - (J(w) - J_delta(w)) - FW-gap_delta(w), so the
//    returned gap_bound >= J(w) - J* holds exactly (up to rounding); status `converged` when
//    gap_bound <= tolerance * J(w), else `max_iterations`. Time O(iterations * R * P), memory
//    O(R P) doubles (a packed copy of each problem's inputs).
//  * automatic: exact when every problem has at most exact_max_rows rows, else first_order.
// Deterministic: sums over rows are cut into fixed chunks folded in order, so the result has the
// same bits for every policy and thread count.
//
// Errors (ladle::error, nothing returned): shapes, NaN/Inf, bad levels or weights, wis with
// non-symmetric levels, tolerance <= 0, max_iterations < 1, the exact method on a problem past
// exact_max_rows * 8.
#pragma once

#include "ladle/core/parallel.hpp"
#include "ladle/core/view.hpp"
#include "ladle/quantile/aggregate.hpp"
#include "ladle/quantile/detail/checks.hpp"

namespace ladle {

enum class fit_method { automatic, exact, first_order };
enum class fit_objective { pinball, wis };
enum class fit_status { optimal, converged, max_iterations };

struct fit_options {
  aggregator_kind kind = aggregator_kind::per_model_level;
  fit_objective objective = fit_objective::pinball;
  fit_method method = fit_method::automatic;
  double tolerance = 1e-3;        ///< first_order: relative certified gap to stop at
  index_t max_iterations = 5000;  ///< first_order: iterations per problem
  index_t exact_max_rows = 600;   ///< automatic: largest problem (rows) given to the simplex
};

struct fit_result {
  aggregator_weights weights;  ///< on the simplex
  double objective = 0.0;      ///< J (or 2 J for wis) of `weights` on the fitting data
  double gap_bound = 0.0;      ///< certified objective - optimum (0 for exact)
  fit_status status = fit_status::optimal;
  fit_method method = fit_method::exact;  ///< the method used
  index_t iterations = 0;                 ///< pivots or gradient steps, over all problems
};

template <class Policy, class T, class U>
fit_result fit_aggregator(const Policy& policy, tensor_view<T, 3> preds, vector_view<U> y,
                          vector_view<const double> levels, const fit_options& opts = {},
                          vector_view<const double> sample_weight = {});
template <class T, class U>
fit_result fit_aggregator(tensor_view<T, 3> preds, vector_view<U> y,
                          vector_view<const double> levels, const fit_options& opts = {},
                          vector_view<const double> sample_weight = {});

}  // namespace ladle

#include "ladle/quantile/detail/fit_impl.hpp"
