// ladle/weighting.hpp: the weighting family: how much each class, group, domain, pair or sample
// counts in a loss or a sampler.
//
//   class_weights.hpp         class counts (mergeable) and balanced / inverse / power /
//                             effective-number class weights, expansion to per-sample weights
//
// See docs/weighting.md for each scheme, its formula, defaults, complexity and memory.
#pragma once

#include "ladle/weighting/class_weights.hpp"
