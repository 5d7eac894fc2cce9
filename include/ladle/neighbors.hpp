// ladle/neighbors.hpp: exact nearest-neighbour search (blocked brute force), shared by the
// resampling family (SMOTE, ENN, Tomek links) and by coreset selection.
#pragma once

#include "ladle/neighbors/knn.hpp"
