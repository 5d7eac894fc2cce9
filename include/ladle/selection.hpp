// ladle/selection.hpp: the selection family: which samples are used.
//
// Random subsets (uniform, stratified), weighted sampling without replacement at any n, alias
// tables, (weighted) reservoirs with merge(); RS2 schedules; pruning scores; k-center and
// facility-location coresets; herding; cluster-balanced (k-means) selection; see docs/selection.md. The shared k-means is
// ladle/core/kmeans.hpp.
#pragma once

#include "ladle/selection/sampling.hpp"
#include "ladle/selection/rs2.hpp"
#include "ladle/selection/scores.hpp"
#include "ladle/selection/k_center.hpp"
#include "ladle/selection/facility_location.hpp"
#include "ladle/selection/herding.hpp"
#include "ladle/selection/cluster_balanced.hpp"
#include "ladle/selection/sha256.hpp"
#include "ladle/selection/dsir.hpp"
