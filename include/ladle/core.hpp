// ladle/core.hpp: the shared base every family uses (views, tensors, dtypes, errors, random
// numbers, parallel policies, math helpers).
#pragma once

#include "ladle/config.hpp"
#include "ladle/version.hpp"
#include "ladle/core/dtype.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/math.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/tensor.hpp"
#include "ladle/core/view.hpp"
