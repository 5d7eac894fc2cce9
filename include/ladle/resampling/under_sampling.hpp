// ladle/resampling/under_sampling.hpp: random under-sampling and the two kNN cleaners.
//
// Output of each: the kept rows of X and y in their ORIGINAL order, with `sample_indices` giving
// each one's input row (imblearn groups the kept rows class by class instead; the set of kept rows
// is the same). No synthetic rows. Inputs are never modified; errors are ladle::error with
// nothing written.
//
// Cleaners resolve `strategy` as imblearn's "clean-sampling": only the SET of targeted classes
// matters ("auto" = every class but the minority; "all"; "majority"; "not majority";
// sampling_strategy::targeting({...})). Rows of other classes are always kept.
//
// Complexity: random under-sampling O(n + kept d); Tomek links and ENN are one exact kNN pass,
// O(n^2 d) flops (blocked, never an n x n matrix), extra memory O(n k) indices.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/view.hpp"
#include "ladle/resampling/over_sampling.hpp"
#include "ladle/resampling/result.hpp"
#include "ladle/resampling/sampling_strategy.hpp"

#include <cstdint>
#include <vector>

namespace ladle {

// ---- random under-sampling -------------------------------------------------------------------

struct random_under_options {
  sampling_strategy strategy{};  ///< default "auto" (every class but the minority down to n_min)
  bool replacement = false;      ///< draw with replacement (kept rows may then repeat)
};

template <class L>
resample_shape resampled_size(vector_view<L> y, const random_under_options& opts);

/// Keeps a uniform random subset of the targeted size from each targeted class (Philox stream
/// keyed by (seed, class)); other classes are kept whole.
template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> random_under_sample(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const random_under_options& opts,
    seed s);

/// Into caller buffers sized by resampled_size(y, opts).
template <class Policy, class TX, class L, class T, class LO>
resample_shape random_under_sample_into(const Policy& policy, matrix_view<TX> X,
                                        vector_view<L> y, const resample_output<T, LO>& out,
                                        const random_under_options& opts, seed s);

// ---- Tomek links -----------------------------------------------------------------------------

struct tomek_options {
  sampling_strategy strategy{};  ///< which classes lose their member of a link ("auto")
};

/// Rows i and j form a Tomek link when their labels differ and each is the other's nearest
/// neighbour (own index excluded; ties to the smaller index). One byte per input row: 1 for every
/// row in a link, 0 otherwise (plain bytes, addressable and viewable, unlike std::vector<bool>).
template <class Policy, class TX, class L>
std::vector<std::uint8_t> tomek_link_mask(const Policy& policy, matrix_view<TX> X,
                                          vector_view<L> y);

/// The input rows that are in a Tomek link, ascending (the rows where tomek_link_mask is 1).
template <class Policy, class TX, class L>
std::vector<index_t> tomek_link_rows(const Policy& policy, matrix_view<TX> X, vector_view<L> y);

/// Removes the members of Tomek links that belong to targeted classes.
template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> tomek_links(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const tomek_options& opts = {});

/// Into caller buffers with X's row count; returns the shape written (rows beyond it untouched).
template <class Policy, class TX, class L, class T, class LO>
resample_shape tomek_links_into(const Policy& policy, matrix_view<TX> X, vector_view<L> y,
                                const resample_output<T, LO>& out, const tomek_options& opts = {});

// ---- Edited Nearest Neighbours -----------------------------------------------------------------

/// all: remove a row when ANY of its k neighbours has another label (imblearn's default, more
/// aggressive); mode: when the most common neighbour label (ties to the smaller label) is not its
/// own (Wilson 1972).
enum class enn_kind { all, mode };

struct enn_options {
  sampling_strategy strategy{};  ///< classes that may lose rows ("auto")
  index_t k = 3;                 ///< neighbours examined (whole data set, own index excluded)
  enn_kind kind = enn_kind::all;
};

template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> edited_nearest_neighbours(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const enn_options& opts = {});

/// Into caller buffers with X's row count; returns the shape written.
template <class Policy, class TX, class L, class T, class LO>
resample_shape edited_nearest_neighbours_into(const Policy& policy, matrix_view<TX> X,
                                              vector_view<L> y, const resample_output<T, LO>& out,
                                              const enn_options& opts = {});

// ---- combinations (Batista et al. 2004) --------------------------------------------------------

/// SMOTE with opts, then Tomek links removing BOTH members of every link, in all classes (as
/// imblearn's SMOTETomek). Kept original rows come first (sample_indices), then the surviving
/// synthetic rows with their SMOTE audit columns (base/neighbor index the input X).
template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> smote_tomek(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const smote_options& opts,
    seed s);

/// Field names mirror enn_options with an `enn_` prefix (k -> enn_k, kind -> enn_kind).
// The pragmas keep the implicit constructors from warning about the deprecated field; code that
// names enn_kind_sel itself still gets the warning.
#if defined(__GNUC__)
#  pragma GCC diagnostic push
#  pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
struct smote_enn_options {
  smote_options smote{};
  index_t enn_k = 3;  ///< ENN neighbours
  /// Deprecated spelling of enn_kind (kept so existing code and positional initialisers still
  /// compile); ENN uses `mode` when either field says so.
  [[deprecated("use enn_kind")]] ladle::enn_kind enn_kind_sel = ladle::enn_kind::all;
  ladle::enn_kind enn_kind = ladle::enn_kind::all;  ///< ENN rule, as enn_options::kind
};
#if defined(__GNUC__)
#  pragma GCC diagnostic pop
#endif

/// SMOTE, then ENN over all classes (as imblearn's SMOTEENN). Same output layout as smote_tomek.
template <class Policy, class TX, class L>
resample_result<std::remove_const_t<TX>, std::remove_const_t<L>> smote_enn(
    const Policy& policy, matrix_view<TX> X, vector_view<L> y, const smote_enn_options& opts,
    seed s);

// ---- sequential shorthands ---------------------------------------------------------------------

template <class TX, class L>
auto random_under_sample(matrix_view<TX> X, vector_view<L> y, const random_under_options& opts,
                         seed s) {
  return random_under_sample(seq, X, y, opts, s);
}
template <class TX, class L>
auto tomek_links(matrix_view<TX> X, vector_view<L> y, const tomek_options& opts = {}) {
  return tomek_links(seq, X, y, opts);
}
template <class TX, class L>
auto edited_nearest_neighbours(matrix_view<TX> X, vector_view<L> y, const enn_options& opts = {}) {
  return edited_nearest_neighbours(seq, X, y, opts);
}
template <class TX, class L>
auto smote_tomek(matrix_view<TX> X, vector_view<L> y, const smote_options& opts, seed s) {
  return smote_tomek(seq, X, y, opts, s);
}
template <class TX, class L>
auto smote_enn(matrix_view<TX> X, vector_view<L> y, const smote_enn_options& opts, seed s) {
  return smote_enn(seq, X, y, opts, s);
}

}  // namespace ladle

#include "ladle/resampling/detail/under_sampling_impl.hpp"
