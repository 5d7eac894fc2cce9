// ladle/resampling/nominal.hpp: SMOTE for nominal features: SMOTE-NC (mixed) and SMOTEN (all
// nominal). Categories are stored in X as numbers (any finite values; equal values = the same
// category), so one float/double matrix holds mixed data without one-hot encoding.
//
// SMOTE-NC (Chawla et al. 2002, section 6.1). For the class c being over-sampled, let
// med_c = the median over the continuous columns of their population standard deviation within
// c. Distance between two rows of c = squared Euclidean distance over the continuous columns
// + med_c^2 per nominal column where they differ (the paper's rule). A synthetic row interpolates
// the continuous columns exactly as SMOTE (audit columns as in result.hpp) and gives each nominal
// column the most frequent value among the base's k neighbours (ties: uniformly at random from
// the row's own Philox stream). Differences from imblearn 0.10: imblearn one-hot encodes (memory
// O(n * categories)) with entries med/2, so a mismatch adds med^2/2, and it takes med from the
// global minority class for every class; ladle computes distances directly (extra memory
// O(n_c k)) with the paper's penalty per class.
//
// SMOTEN (imblearn's SMOTEN): all columns nominal. Distance = value difference metric,
// sum over columns of (sum over classes |P(class | a_f) - P(class | b_f)|)^2, with P estimated on
// the whole data set. A synthetic row takes a uniformly drawn base row of the class and, per
// column, the most frequent value among the base and its k nearest rows of the class (ties to
// the smallest value, as scipy.stats.mode). Audit: base = that row, neighbor = -1, gap = 0.
//
// Both find neighbours by exact brute force inside the class, O(n_c^2 d) per class, ties to the
// smaller index, own index excluded; extra memory O(n_c k) plus, for SMOTEN, one table of
// (categories_f)^2 doubles per column.
#pragma once

#include "ladle/resampling/over_sampling.hpp"

#include <vector>

namespace ladle {

struct smote_nc_options {
  sampling_strategy strategy{};
  index_t k = 5;
  std::vector<index_t> categorical;  ///< indices of the nominal columns (at least one continuous)
};

template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> smote_nc(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const smote_nc_options& opts,
    seed s);

struct smoten_options {
  sampling_strategy strategy{};
  index_t k = 5;
};

template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> smoten(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const smoten_options& opts,
    seed s);

template <class TX, class L>
auto smote_nc(matrix_view<TX> X, vector_view<L> y, const smote_nc_options& opts, seed s) {
  return smote_nc(seq, X, y, opts, s);
}
template <class TX, class L>
auto smoten(matrix_view<TX> X, vector_view<L> y, const smoten_options& opts, seed s) {
  return smoten(seq, X, y, opts, s);
}

}  // namespace ladle

#include "ladle/resampling/detail/nominal_impl.hpp"
