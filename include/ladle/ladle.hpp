// ladle/ladle.hpp: umbrella header for the whole library.
//
// Not included here (include them by name): ladle/interop/dlpack.hpp (needs <dlpack/dlpack.h>),
// ladle/io/ and ladle/cuda/ (optional backends).
#pragma once

#include "ladle/averaging.hpp"
#include "ladle/core.hpp"
#include "ladle/interop/eigen.hpp"
#include "ladle/interop/mdspan.hpp"
#include "ladle/interop/span.hpp"
#include "ladle/neighbors.hpp"
#include "ladle/quantization.hpp"
#include "ladle/quantile.hpp"
#include "ladle/resampling.hpp"
#include "ladle/selection.hpp"
#include "ladle/weighting.hpp"
