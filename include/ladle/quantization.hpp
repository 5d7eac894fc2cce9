// ladle/quantization.hpp: the quantization family.
//
//   quantization/spec.hpp         quant_spec, quant_params, qparams_for_range (conventions table)
//   quantization/quantize.hpp     choose_qparams, quantize, dequantize, fake_quantize (+ _into)
//   quantization/observers.hpp    streaming, mergeable range observers
//   quantization/fake_quant.hpp   clipped-STE mask and LSQ gradients for QAT
//   quantization/elastic.hpp      EQ-Net style (Δ, z) table per (bits, symmetry, granularity)
//   quantization/packing.hpp      2..8-bit codes packed into bytes
//   quantization/formats/...      NF4, FP8, MX block formats
//   quantization/bit_allocation.hpp, product_quantization.hpp, embedding.hpp
#pragma once

#include "ladle/quantization/spec.hpp"
#include "ladle/quantization/quantize.hpp"
#include "ladle/quantization/packing.hpp"
#include "ladle/quantization/observers.hpp"
#include "ladle/quantization/fake_quant.hpp"
#include "ladle/quantization/elastic.hpp"
#include "ladle/quantization/formats.hpp"
#include "ladle/quantization/bit_allocation.hpp"
#include "ladle/quantization/product_quantization.hpp"
#include "ladle/quantization/embedding.hpp"
