// ladle/resampling.hpp: the resampling family (SMOTE and variants, under-samplers, cleaners and
// their combinations) over caller-owned feature matrices and integer label vectors.
//
// See docs/resampling.md for each method, the sampling_strategy semantics (imbalanced-learn's),
// the one-vs-rest multi-class policy, complexity and memory.
#pragma once

#include "ladle/resampling/sampling_strategy.hpp"
#include "ladle/resampling/result.hpp"
#include "ladle/resampling/over_sampling.hpp"
#include "ladle/resampling/under_sampling.hpp"
#include "ladle/resampling/nominal.hpp"
#include "ladle/resampling/kmeans_smote.hpp"
