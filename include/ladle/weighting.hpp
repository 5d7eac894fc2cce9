// ladle/weighting.hpp: the weighting family: how much each class, group, domain, pair or sample
// counts in a loss or a sampler.
//
//   class_weights.hpp         class counts (mergeable) and balanced / inverse / power /
//                             effective-number class weights, expansion to per-sample weights
//   temperature.hpp           temperature sampling p ~ q^(1/tau), scalarization weights p/q,
//                             tau schedules (constant, step, linear, cosine, cooldown)
//   loss_reweighting.hpp      loss-based instance weights (LinUpper / Quadratic / Extremes / Upper),
//                             KL-DRO weights, the data-parallel loss scale
//   advantages.hpp            group-normalised (GRPO / AWM) advantages
//   fairness.hpp              FairSeg fair error-bound scaling, equity-scaled metric
//   focal_dice.hpp            focal and self-adjusting Dice factors, Dice losses
//   multi_similarity.hpp      Multi-Similarity pair weights, loss and gradient (tiled, no B x B)
//
// See docs/weighting.md for each scheme, its formula, defaults, complexity and memory.
#pragma once

#include "ladle/weighting/advantages.hpp"
#include "ladle/weighting/class_weights.hpp"
#include "ladle/weighting/fairness.hpp"
#include "ladle/weighting/focal_dice.hpp"
#include "ladle/weighting/loss_reweighting.hpp"
#include "ladle/weighting/multi_similarity.hpp"
#include "ladle/weighting/temperature.hpp"
