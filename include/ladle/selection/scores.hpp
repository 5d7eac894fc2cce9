// ladle/selection/scores.hpp: per-sample difficulty scores and score-based pruning.
//
// Scores ("Deep Learning on a Data Diet", Paul et al. 2021; Toneva et al. 2019; uncertainty
// sampling as in DeepCore):
//   el2n            ||p - onehot(y)||_2 from probabilities p (rows of an n x C matrix), or from
//                   logits (a max-shifted softmax in double first); in [0, sqrt 2].
//   grand           GraNd with the last-layer closed form: for logits z = W h + b and cross-
//                   entropy, dL/dW = (p - e_y) h^T and dL/db = p - e_y, so the norm is
//                   ||p - e_y|| * sqrt(||h||^2 + 1) (the + 1 only with a bias). Full-network
//                   GraNd: pass your per-sample gradient norms, one row per run, to
//                   mean_over_runs (which also averages EL2N over runs / seeds).
//   forgetting      forgetting_tracker: a forgetting event is an epoch where a sample is wrong
//                   after being right the epoch before; never-learned samples score the number
//                   of epochs seen, above any learned sample's count.
//   uncertainty     least_confidence 1 - max_j p_j; margin 1 - (p_(1) - p_(2)) (the two largest;
//                   1 - p_(1) with one class); entropy -sum p log p (natural log, 0 log 0 = 0).
//                   Larger is more uncertain for all three.
//
// Pruning (prune): keeps `keep` indices and returns them ascending.
//   hardest   the largest scores; ties to the smaller index (ranking by (-score, index));
//   easiest   the smallest scores; ties to the smaller index;
//   band      skips the `offset` hardest, keeps the next `keep` (data_diet's offset, which drops
//             the hardest, often mislabeled, examples);
//   ccs       coverage-centric coreset selection (Zheng et al., ICLR 2023): drops the
//             floor(hard_cutoff * n) hardest, splits the remaining score range into `strata`
//             equal-width bins (the maximum joins the last bin), gives the budget to the bins
//             from the smallest up, each min(size, budget left // bins left), and draws each
//             bin's share uniformly (seeded).
//   With labels, each class gets a proportional quota of `keep` (stratified_quotas: floors plus
//   largest remainders) and the mode runs inside each class.
//
// Inputs: probabilities / logits / features are float or double host matrices (any strides),
// finite (probabilities in [0, 1]); labels int32/int64 in [0, C). Scores are computed in double.
// Errors: ladle::error naming the argument and the offending index; nothing written.
// Complexity: scores O(n C) (+ O(n d) for the features); prune O(n log n); extra memory O(n).
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/view.hpp"

#include <cstdint>
#include <vector>

namespace ladle {

template <class T, class L>
std::vector<double> el2n_scores(matrix_view<T> probabilities, vector_view<L> labels);
template <class T, class L>
std::vector<double> el2n_scores_from_logits(matrix_view<T> logits, vector_view<L> labels);

/// Last-layer GraNd from logits, labels and the penultimate features h (n x d).
template <class T, class L, class U>
std::vector<double> grand_last_layer_scores(matrix_view<T> logits, vector_view<L> labels,
                                            matrix_view<U> features, bool bias = true);

/// Column means of a runs x n matrix of per-run scores (EL2N over seeds, gradient norms).
template <class T>
std::vector<double> mean_over_runs(matrix_view<T> scores);

enum class uncertainty { least_confidence, margin, entropy };
template <class T>
std::vector<double> uncertainty_scores(matrix_view<T> probabilities, uncertainty kind);

/// Counts forgetting events over a stream of per-epoch correctness vectors.
class forgetting_tracker {
 public:
  explicit forgetting_tracker(index_t n);
  /// One epoch: correct[i] nonzero when sample i was classified correctly.
  template <class B>
  void update(vector_view<B> correct);
  index_t size() const noexcept { return static_cast<index_t>(events_.size()); }
  index_t epochs() const noexcept { return epochs_; }
  const std::vector<index_t>& events() const noexcept { return events_; }
  /// Whether each sample has been correct at least once.
  std::vector<bool> learned() const { return ever_; }
  /// events, with never-learned samples set to epochs() (so they rank as the hardest).
  std::vector<double> scores() const;

 private:
  std::vector<index_t> events_;
  std::vector<bool> previous_, ever_;
  index_t epochs_ = 0;
};

enum class prune_mode { hardest, easiest, band, ccs };

struct prune_options {
  prune_mode mode = prune_mode::hardest;
  index_t offset = 0;         ///< band: hardest samples skipped first
  double hard_cutoff = 0.0;   ///< ccs: fraction of hardest samples dropped first, in [0, 1)
  index_t strata = 50;        ///< ccs: number of equal-width score bins
};

template <class T>
std::vector<index_t> prune(vector_view<T> scores, index_t keep, const prune_options& opts = {},
                           seed s = seed{0});
/// Per class: proportional quotas of keep, the mode inside each class.
template <class T, class L>
std::vector<index_t> prune(vector_view<T> scores, vector_view<L> labels, index_t keep,
                           const prune_options& opts = {}, seed s = seed{0});

}  // namespace ladle

#include "ladle/selection/detail/scores_impl.hpp"
