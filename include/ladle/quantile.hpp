// ladle/quantile.hpp: quantile aggregation -- scores, non-crossing repair, 1-D isotonic
// regression, conformal calibration, aggregators and their fitting. See docs/quantile.md.
#pragma once

#include "ladle/quantile/aggregate.hpp"
#include "ladle/quantile/conformal.hpp"
#include "ladle/quantile/fit.hpp"
#include "ladle/quantile/isotonic.hpp"
#include "ladle/quantile/repair.hpp"
#include "ladle/quantile/scores.hpp"
