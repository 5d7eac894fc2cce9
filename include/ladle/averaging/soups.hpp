// ladle/averaging/soups.hpp: greedy soup (Wortsman et al., "Model soups", ICML 2022) and
// metric-weighted averaging (Yu & Choi, "Parameter-Efficient Checkpoint Merging via
// Metrics-Weighted Averaging", 2025).
//
// greedy_soup(models, scores, evaluate, options): higher score is better.
//   1. order = models sorted by held-out score, descending, ties by ascending index (explicit,
//      unlike the reference's reversed stable sort);
//   2. soup = models[order[0]], best = scores[order[0]] (the caller's held-out score of it);
//   3. for each next candidate c: candidate soup = soup + (c - soup) / (n + 1) (the running mean
//      of the n ingredients and c, as the reference computes it, in float32); keep it when
//      evaluate(candidate soup) > best (strict, the reference code's rule) or >= with
//      options.accept_equal (the paper's pseudo-code).
//   evaluate is called K - 1 times. The result holds the soup (dtype per options.average.output;
//   the intermediate soups are float32), the ingredient indices in the order added, the order,
//   the score of every trial and the final best score.
// metric_weights(metrics, p, direction): w_i proportional to m_i^(-p) for lower_is_better
//   (losses) or m_i^p for higher_is_better (training steps), normalised to sum 1; p = 0 is the
//   uniform soup, larger p concentrates on the best checkpoint. Metrics must be positive and
//   finite (steps start at 1), p finite and >= 0. Computed in log space (no overflow for large p).
// metric_weighted_average(models, metrics, p, direction, options) = weighted_average with them.
// Errors: score / metric count mismatch, non-finite scores, empty models, evaluate empty.
// Memory: two float32 copies of the model (soup and candidate) besides the inputs.
#pragma once

#include "ladle/averaging/average.hpp"
#include "ladle/averaging/state_dict.hpp"

#include <cstddef>
#include <functional>
#include <vector>

namespace ladle {

struct greedy_soup_options {
  bool accept_equal = false;  ///< keep a candidate whose soup scores exactly the best so far
  average_options average{};  ///< output dtype, integer policy, float dtype policy
};

struct greedy_soup_result {
  owned_state_dict soup;
  std::vector<std::size_t> ingredients;  ///< model indices, in the order they were added
  std::vector<std::size_t> order;        ///< all model indices in visiting order
  std::vector<double> trial_scores;      ///< evaluate() of each candidate soup (order[1..])
  double score = 0;                      ///< score of the final soup
};

greedy_soup_result greedy_soup(const std::vector<state_dict>& models,
                               const std::vector<double>& scores,
                               const std::function<double(const state_dict&)>& evaluate,
                               const greedy_soup_options& options = {});

enum class metric_direction { lower_is_better, higher_is_better };

std::vector<double> metric_weights(const std::vector<double>& metrics, double p,
                                   metric_direction direction);

owned_state_dict metric_weighted_average(const std::vector<state_dict>& models,
                                         const std::vector<double>& metrics, double p,
                                         metric_direction direction,
                                         const average_options& options = {});

}  // namespace ladle

#include "ladle/averaging/detail/soups_impl.hpp"
