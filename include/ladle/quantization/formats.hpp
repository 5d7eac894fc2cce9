// ladle/quantization/formats.hpp: the fixed low-precision storage formats.
//
//   formats/fp8.hpp  OCP FP8 E4M3 ("fn") and E5M2, explicit overflow policy, 256-entry decode;
//   formats/mx.hpp   OCP Microscaling blocks: MXFP8, MXFP6, MXFP4, MXINT8 (E8M0 shared scales);
//   formats/nf4.hpp  4-bit NormalFloat with block absmax and optional double quantization.
//
// Every encoder rounds to nearest, ties to even, on the exact input, has a scalar reference path
// next to its SIMD one (identical output), and accepts float, double, half and bfloat16.
#pragma once

#include "ladle/quantization/formats/fp8.hpp"
#include "ladle/quantization/formats/mx.hpp"
#include "ladle/quantization/formats/nf4.hpp"
