// ladle/resampling/over_sampling.hpp: SMOTE and its variants, and random over-sampling.
//
// Common contract of every over-sampler here:
//  * X is (n, d) float or double (any strides), y is (n) labels of any signed 32- or 64-bit
//    integer type (int, long, long long; is_label_type_v). Neither is modified.
//  * `strategy` follows imbalanced-learn (see sampling_strategy.hpp); classes are processed one at
//    a time in ascending label order, each against the rest ("one-vs-rest", as imblearn): a class's
//    synthetic rows interpolate between rows of THAT class only (Borderline-2 excepted).
//  * Output: all original rows in order, then the synthetic rows class by class (result.hpp),
//    with per-row audit columns base / neighbor / gap.
//  * Randomness: synthetic row j of class c draws only from the Philox stream keyed by
//    (method, c, j) of `seed`, so the output is bit-identical for every execution policy and
//    thread count, and a class's rows do not change when other classes are added.
//  * Neighbours: exact squared-Euclidean kNN (ladle/neighbors.hpp), ties to the smaller index,
//    a row's own index excluded. imblearn instead asks for k+1 neighbours and drops column 0,
//    which drops a DUPLICATE of the row (and keeps the row itself) when duplicates tie at
//    distance 0; without exact duplicates both agree.
//  * Errors (ladle::error, nothing written): labels/rows mismatch, NaN/Inf features, a strategy
//    imblearn refuses, k < 1, a targeted class with k or fewer rows (it needs k neighbours).
//
// Complexity (n_c rows in class c, d features, G rows generated): kNN O(n_c^2 d) per class (or
// O(n_c n d) where the whole data set is searched), generation O(G d). Extra memory beyond the
// output: a compact copy of one class at a time (n_c d) and the neighbour tables (n_c k); the
// other methods also keep a plan (G words x 4), SMOTE writes each row as it draws it, after every
// class's neighbour table exists (so an error still leaves the output untouched).
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/view.hpp"
#include "ladle/resampling/result.hpp"
#include "ladle/resampling/sampling_strategy.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace ladle {

// ---- SMOTE ---------------------------------------------------------------------------------

struct smote_options {
  sampling_strategy strategy{};  ///< default "auto" (every class up to the majority count)
  index_t k = 5;                 ///< neighbours per row to interpolate towards
};

/// SMOTE (Chawla et al. 2002) with imblearn's sampling: each synthetic row picks a (row,
/// neighbour) pair uniformly from the class's n_c x k grid, then gap ~ U[0, 1).
template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> smote(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const smote_options& opts,
    seed s);

/// Rows the SMOTE result will have (a function of the labels only).
template <class L>
resample_shape resampled_size(vector_view<L> y, const smote_options& opts);

/// SMOTE into caller buffers sized by resampled_size(y, opts).
template <class Policy, class TX, class L, class T, class LO>
resample_shape smote_into(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                          const resample_output<T, LO>& out, const smote_options& opts, seed s);

// ---- Borderline-SMOTE ------------------------------------------------------------------------

enum class borderline_kind { borderline1, borderline2 };

struct borderline_smote_options {
  sampling_strategy strategy{};
  index_t k = 5;   ///< neighbours to interpolate towards
  index_t m = 10;  ///< neighbours (whole data set) deciding safe / danger / noise
  borderline_kind kind = borderline_kind::borderline1;
};

/// Where a row sits relative to the other classes: with m' of its m nearest rows (whole data,
/// itself excluded) in other classes, noise if m' = m, danger if m/2 <= m' < m, else safe.
enum class borderline_status : std::uint8_t { safe = 0, danger = 1, noise = 2 };

/// The status of each row of class `label`, in ascending row order: entry i belongs to the i-th
/// row of that class, NOT to input row i (borderline_status_by_row pairs them with row indices).
template <class Policy, class TX, class L>
std::vector<borderline_status> borderline_status_of(const Policy& policy, matrix_view<TX> X,
                                                    vector_view<L> y, std::int64_t label,
                                                    index_t m);

/// borderline_status_of with the caller's row indices: status[i] is the status of input row
/// rows[i]; rows ascending, the rows of class `label`. Same errors as borderline_status_of.
struct borderline_rows {
  std::vector<index_t> rows;
  std::vector<borderline_status> status;
};
template <class Policy, class TX, class L>
borderline_rows borderline_status_by_row(const Policy& policy, matrix_view<TX> X,
                                         vector_view<L> y, std::int64_t label, index_t m);

/// Borderline-SMOTE (Han et al. 2005). Only danger rows are bases; a class without any danger row
/// gets no synthetic rows (imblearn does the same), so the result can be smaller than the
/// strategy asks. borderline1: neighbours are the base's k nearest rows of its own class.
/// borderline2: neighbours are its k nearest rows of the WHOLE data set; when the chosen one is
/// of another class the gap is halved (drawn in [0, 0.5)), so the point stays nearer the
/// minority. (imblearn 0.10 instead splits the count by a Beta(10, 10) draw and indexes the other
/// classes with own-class neighbour indices; ladle follows the paper's description.)
template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> borderline_smote(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y,
    const borderline_smote_options& opts, seed s);

// ---- ADASYN ----------------------------------------------------------------------------------

struct adasyn_options {
  sampling_strategy strategy{};
  index_t k = 5;  ///< neighbours for the difficulty ratio (whole data) and for interpolation
};

/// ADASYN's per-row allocation for one class (He et al. 2008, imblearn's rules).
struct adasyn_allocation {
  std::vector<index_t> rows;             ///< the class's rows, ascending
  std::vector<index_t> other_neighbors;  ///< Delta_i: other-class rows among the k nearest
  std::vector<double> weight;            ///< Delta_i / sum(Delta)
  std::vector<index_t> generate;         ///< rint(G * Delta_i / sum(Delta)), exact, ties to even
};

/// The allocation ADASYN uses for class `label` when asked for `n_generate` rows. Throws
/// ladle::domain_error when no row of the class has another class among its neighbours.
template <class Policy, class TX, class L>
adasyn_allocation adasyn_allocation_of(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                                       std::int64_t label, index_t n_generate, index_t k);

/// ADASYN: rows with more other-class neighbours get more synthetic rows; each synthetic row
/// interpolates towards a uniformly chosen one of the base's k nearest own-class rows. The
/// number generated per class is sum(generate), which may differ from the strategy by rounding.
template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> adasyn(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const adasyn_options& opts,
    seed s);

// ---- random over-sampling --------------------------------------------------------------------

struct random_over_options {
  sampling_strategy strategy{};
  /// Absent: plain bootstrap (copies of random rows of the class). Present (>= 0): smoothed
  /// bootstrap, adding N(0, (shrinkage * h * std_c)^2) noise per feature, with std_c the
  /// class's per-feature population std and h = (4 / ((d + 2) n))^(1 / (d + 4)) (imblearn's).
  std::optional<double> shrinkage{};
};

template <class L>
resample_shape resampled_size(vector_view<L> y, const random_over_options& opts);

/// Random over-sampling: each synthetic row copies a uniformly drawn row of its class (audit:
/// base = that row, neighbor = -1, gap = 0).
template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> random_over_sample(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const random_over_options& opts,
    seed s);

template <class Policy, class TX, class L, class T, class LO>
resample_shape random_over_sample_into(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                                       const resample_output<T, LO>& out,
                                       const random_over_options& opts, seed s);

// ---- sequential shorthands ---------------------------------------------------------------------

template <class TX, class L>
auto smote(matrix_view<TX> X, vector_view<L> y, const smote_options& opts, seed s) {
  return smote(seq, X, y, opts, s);
}
template <class TX, class L>
auto borderline_smote(matrix_view<TX> X, vector_view<L> y, const borderline_smote_options& opts,
                      seed s) {
  return borderline_smote(seq, X, y, opts, s);
}
template <class TX, class L>
auto adasyn(matrix_view<TX> X, vector_view<L> y, const adasyn_options& opts, seed s) {
  return adasyn(seq, X, y, opts, s);
}
template <class TX, class L>
auto random_over_sample(matrix_view<TX> X, vector_view<L> y, const random_over_options& opts,
                        seed s) {
  return random_over_sample(seq, X, y, opts, s);
}

}  // namespace ladle

#include "ladle/resampling/detail/over_sampling_impl.hpp"
