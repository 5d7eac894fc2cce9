// libFuzzer target: the quantization family over structured inputs (spec, bits, granularity,
// format, element type, data incl. NaN/Inf/huge/denormal, aliasing outputs, edited results).
#include <ladle/quantization.hpp>

#include "fuzz_input.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const auto what = in.range(0, 11);
  const auto rows = in.range(0, 6);
  const auto cols = in.range(0, 70);
  std::vector<float> x(static_cast<std::size_t>(rows * cols));
  // Parameters first, data last: the data then takes whatever is left.
  ladle::quant_spec spec;
  spec.bits = static_cast<int>(in.range(0, 17));
  spec.is_signed = in.take<std::uint8_t>() % 2;
  std::memset(&spec.scheme, static_cast<int>(in.range(0, 2)), 1);
  std::memset(&spec.convention, static_cast<int>(in.range(0, 3)), 1);
  spec.narrow_range = in.take<std::uint8_t>() % 2;
  std::memset(&spec.granularity, static_cast<int>(in.range(0, 3)), 1);
  spec.axis = static_cast<int>(in.range(-3, 2));
  spec.group_size = in.size(16);
  std::memset(&spec.rounding, static_cast<int>(in.range(0, 2)), 1);
  std::memset(&spec.division, static_cast<int>(in.range(0, 1)), 1);
  std::memset(&spec.nonfinite, static_cast<int>(in.range(0, 1)), 1);
  const auto aux = in.range(0, 255);
  const auto aux2 = in.size(300);
  for (auto& v : x) v = in.value();
  const auto X = ladle::make_view(static_cast<const float*>(x.data()), {rows, cols});
  const ladle::index_t n = rows * cols;
  fuzz::call([&] {
    switch (what) {
      case 0: {  // quantize / dequantize round trip
        const auto p = ladle::choose_qparams(spec, X);
        const auto q = ladle::quantize<std::int32_t>(X, p, ladle::seed{1});
        const auto back = ladle::dequantize<float>(q.cview(), p);
        (void)back;
        break;
      }
      case 1: {  // fake-quant in place or partially overlapping, with mask
        const auto p = ladle::choose_qparams(spec.saturate_nonfinite(), X);
        std::vector<float> buf(x.begin(), x.end());
        buf.resize(static_cast<std::size_t>(n) + 4);
        std::vector<std::uint8_t> mask(static_cast<std::size_t>(n));
        const ladle::index_t shift = aux % 3;
        ladle::fake_quantize_into(ladle::make_view(static_cast<const float*>(buf.data()), {rows, cols}), p,
                                  ladle::make_view(buf.data() + shift, {rows, cols}),
                                  ladle::make_view(mask.data(), {rows, cols}));
        break;
      }
      case 2: {  // quantize_packed and LSQ gradients
        const auto p = ladle::choose_qparams(spec, X);
        std::vector<std::uint8_t> packed(static_cast<std::size_t>(ladle::packed_size(n, spec.bits > 0 ? spec.bits : 8)));
        ladle::quantize_packed_into(X, p, ladle::make_view(packed.data(), static_cast<ladle::index_t>(packed.size())));
        std::vector<float> gx(static_cast<std::size_t>(n)), gs(static_cast<std::size_t>(p.count())), gz(gs.size());
        ladle::lsq_backward_into(X, X, p, ladle::make_view(gx.data(), {rows, cols}),
                                 ladle::make_view(gs.data(), p.count()), ladle::make_view(gz.data(), p.count()));
        break;
      }
      case 3: {  // packing
        std::vector<std::int32_t> codes(static_cast<std::size_t>(n));
        for (std::size_t i = 0; i < codes.size(); ++i)  // any int32 code, also ones too wide
          codes[i] = std::isfinite(x[i]) ? static_cast<std::int32_t>(std::fmax(-1e9f, std::fmin(1e9f, x[i]))) : 0;
        const auto packed = ladle::pack_codes(ladle::make_view(static_cast<const std::int32_t*>(codes.data()), n), spec.bits);
        const auto un = ladle::unpack_codes<std::int32_t>(packed.cview(), spec.bits, aux2);
        (void)un;
        break;
      }
      case 4: {  // row-wise embeddings, then a lookup with possibly edited fields
        auto t = ladle::rowwise_quantize(X, spec.bits);
        if (aux % 4 == 0) t.dim = aux2;
        std::vector<std::int64_t> idx = {0, aux % 8};
        std::vector<float> out(static_cast<std::size_t>(2 * cols));
        ladle::rowwise_lookup(t, ladle::make_view(static_cast<const std::int64_t*>(idx.data()), 2),
                              ladle::make_view(out.data(), {2, cols}));
        break;
      }
      case 5: {  // FP8 with any enum bytes
        ladle::fp8_options o;
        std::memset(&o.format, static_cast<int>(aux % 3), 1);
        std::memset(&o.overflow, static_cast<int>((aux / 3) % 3), 1);
        std::vector<std::uint8_t> codes(static_cast<std::size_t>(n));
        ladle::fp8_encode(X, ladle::make_view(codes.data(), {rows, cols}), o);
        std::vector<float> back(static_cast<std::size_t>(n));
        ladle::fp8_decode(ladle::make_view(static_cast<const std::uint8_t*>(codes.data()), {rows, cols}),
                          ladle::make_view(back.data(), {rows, cols}), o.format);
        break;
      }
      case 6:
      case 7: {  // MX, any element and scale rule
        ladle::mx_options o;
        std::memset(&o.element, static_cast<int>(aux % 7), 1);
        std::memset(&o.scale_rule, static_cast<int>((aux / 7) % 3), 1);
        const auto q = ladle::mx_quantize(X, o);
        std::vector<float> back(static_cast<std::size_t>(n));
        ladle::mx_element e = q.element;
        if (what == 7) std::memset(&e, static_cast<int>(aux2 & 0xff), 1);
        ladle::mx_dequantize_into(q.scales.cview(), q.data.cview(), e, ladle::make_view(back.data(), {rows, cols}));
        for (std::size_t i = 0; i < back.size(); ++i)
          if (std::isfinite(x[i]) && std::isinf(back[i])) __builtin_trap();  // finite in, inf out
        break;
      }
      case 8:
      case 9: {  // NF4, double quantization, edited result fields
        ladle::nf4_options o;
        o.block_size = aux2;
        o.double_quant = what == 9;
        o.scale_block_size = aux % 5;
        auto q = ladle::nf4_quantize(X, o);
        if (aux % 7 == 0) q.size = aux2;
        if (aux % 11 == 0) q.block_size = aux % 13;
        std::vector<float> back(static_cast<std::size_t>(n));
        ladle::nf4_dequantize(q, ladle::make_view(back.data(), n));
        for (std::size_t i = 0; i < back.size(); ++i)
          if (!std::isfinite(back[i])) __builtin_trap();  // finite data must decode finite
        break;
      }
      case 10: {  // bit allocation
        std::vector<double> s(static_cast<std::size_t>(n));
        for (std::size_t i = 0; i < s.size(); ++i) s[i] = std::fabs(double(x[i]));
        ladle::bit_allocation_options o;
        o.min_bits = spec.bits % 3;
        o.max_bits = aux2;
        std::memset(&o.rounding, static_cast<int>(aux % 4), 1);
        const auto r = ladle::allocate_bits(ladle::make_view(static_cast<const double*>(s.data()), n),
                                            static_cast<double>(aux) / 3.0, o);
        for (auto l : r.levels)
          if (o.rounding != ladle::bit_rounding::none && l <= 0) __builtin_trap();
        break;
      }
      case 11: {  // product quantization
        ladle::pq_options o;
        o.subspaces = aux % 5;
        o.centroids = aux2;
        o.iterations = static_cast<int>(aux % 4);
        const auto pq = ladle::pq_train(X, o, ladle::seed{2});
        const auto codes = ladle::pq_encode(pq, X);
        std::vector<float> back(static_cast<std::size_t>(n));
        ladle::pq_decode(pq, codes.cview(), ladle::make_view(back.data(), {rows, cols}));
        break;
      }
      default: break;
    }
  });
  return 0;
}
