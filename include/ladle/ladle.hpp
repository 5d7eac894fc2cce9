// ladle/ladle.hpp: umbrella header. Everything except the optional ladle/cuda/ and ladle/io/
// headers and the interop adaptors whose third-party headers may be absent (ladle/interop/).
#pragma once

#include "ladle/core.hpp"
#if __has_include("ladle/neighbors.hpp")
#  include "ladle/neighbors.hpp"
#endif
#if __has_include("ladle/resampling.hpp")
#  include "ladle/resampling.hpp"
#endif
#if __has_include("ladle/quantization.hpp")
#  include "ladle/quantization.hpp"
#endif
