// ladle/averaging/detail/soups_impl.hpp: definitions for ladle/averaging/soups.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ladle {

inline greedy_soup_result greedy_soup(const std::vector<state_dict>& models,
                                      const std::vector<double>& scores,
                                      const std::function<double(const state_dict&)>& evaluate,
                                      const greedy_soup_options& options) {
  constexpr const char* fn = "greedy_soup";
  if (models.empty()) throw_invalid_argument(fn, "models", "is empty");
  if (scores.size() != models.size())
    throw_invalid_argument(fn, "scores", "has ", scores.size(), " entries for ", models.size(),
                           " models");
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (!std::isfinite(scores[i])) throw_domain_error(fn, "scores", "entry ", i, " is ", scores[i]);
  if (!evaluate) throw_invalid_argument(fn, "evaluate", "is empty");
  match_state_dicts(models, fn, options.average.floats);

  greedy_soup_result r;
  r.order.resize(models.size());
  std::iota(r.order.begin(), r.order.end(), std::size_t(0));
  std::stable_sort(r.order.begin(), r.order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  average_options f32 = options.average;
  f32.output = output_dtype::float32;
  f32.rounding = output_rounding::nearest_even;
  owned_state_dict soup = weighted_average(std::vector<state_dict>{models[r.order[0]]}, {}, f32);
  r.ingredients.push_back(r.order[0]);
  r.score = scores[r.order[0]];
  for (std::size_t j = 1; j < r.order.size(); ++j) {
    const std::size_t c = r.order[j];
    const double n = static_cast<double>(r.ingredients.size());
    f32.floats = float_dtypes::may_differ;  // the soup is float32, the models may not be
    owned_state_dict candidate = weighted_average({soup.view(), models[c]}, {n, 1.0}, f32);
    const double s = evaluate(candidate.view());
    r.trial_scores.push_back(s);
    if (s > r.score || (options.accept_equal && s == r.score)) {
      soup = std::move(candidate);
      r.score = s;
      r.ingredients.push_back(c);
    }
  }
  // Final dtype: the requested output (same_as_first: the first model's dtypes).
  average_options last = options.average;
  last.floats = float_dtypes::may_differ;
  if (last.output == output_dtype::same_as_first) {
    owned_state_dict out("greedy soup");
    for (const auto& t : models[0].tensors()) out.add(t.name, t.type, t.shape);
    weighted_average_into({soup.view()}, {}, out.dict(), last);
    r.soup = std::move(out);
  } else {
    r.soup = weighted_average({soup.view()}, {}, last);
  }
  return r;
}

inline std::vector<double> metric_weights(const std::vector<double>& metrics, double p,
                                          metric_direction direction) {
  constexpr const char* fn = "metric_weights";
  if (metrics.empty()) throw_invalid_argument(fn, "metrics", "is empty");
  if (!(p >= 0) || !std::isfinite(p))
    throw_invalid_argument(fn, "p", "must be finite and >= 0, got ", p);
  std::vector<double> logw(metrics.size());
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    if (!(metrics[i] > 0) || !std::isfinite(metrics[i]))
      throw_domain_error(fn, "metrics", "entry ", i, " is ", metrics[i],
                         "; metrics must be positive and finite (steps start at 1)");
    const double l = p * std::log(metrics[i]);
    logw[i] = direction == metric_direction::lower_is_better ? -l : l;
  }
  const double top = *std::max_element(logw.begin(), logw.end());
  double sum = 0;
  for (auto& x : logw) sum += (x = std::exp(x - top));
  for (auto& x : logw) x /= sum;
  return logw;
}

inline owned_state_dict metric_weighted_average(const std::vector<state_dict>& models,
                                                const std::vector<double>& metrics, double p,
                                                metric_direction direction,
                                                const average_options& options) {
  if (metrics.size() != models.size())
    throw_invalid_argument("metric_weighted_average", "metrics", "has ", metrics.size(),
                           " entries for ", models.size(), " models");
  return weighted_average(models, metric_weights(metrics, p, direction), options);
}

}  // namespace ladle
