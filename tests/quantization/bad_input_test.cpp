// Bad-input matrix for the quantization family: affine quantize / dequantize / fake-quant / LSQ,
// packing, row-wise embeddings, FP8, MX, NF4, bit allocation and PQ.
#include <ladle/quantization.hpp>

#include "bad_input.hpp"

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;
using bad::kind;

namespace {
constexpr index_t big = std::numeric_limits<index_t>::max();
const float qnan = std::numeric_limits<float>::quiet_NaN();
const float finf = std::numeric_limits<float>::infinity();
template <class T>
ladle::vector_view<const T> cv(const std::vector<T>& v) {
  return ladle::make_view(v.data(), static_cast<index_t>(v.size()));
}
}  // namespace

TEST_CASE("quantization bad-input matrix") {
  std::vector<float> x(64);
  for (int i = 0; i < 64; ++i) x[std::size_t(i)] = std::sin(0.37f * float(i)) * 3.0f;
  std::vector<float> xn = x, xi = x;
  xn[37] = qnan;
  xi[5] = -finf;
  const auto spec = ladle::quant_spec::affine(8);
  const auto params = ladle::choose_qparams(spec, cv(x));
  std::vector<std::uint8_t> codes(64), mask(64);
  std::vector<float> out(64), buf(128, 1.0f);
  std::vector<std::uint8_t> bytes(256, 7);
  ladle::quant_spec bad_enum = spec;
  std::memset(&bad_enum.granularity, 9, 1);
  ladle::quant_params wrong_count = params;
  wrong_count.scale.push_back(1.0f);

  // row-wise embeddings
  std::vector<float> emb(2 * 8, 0.5f);
  std::vector<float> emb_big = emb, emb_huge = emb;
  emb_big[3] = 70000.0f;                   // beyond the fp16 bias range of 4-bit rows
  emb_huge[0] = 3e38f;                     // 2-bit row of +-3e38
  emb_huge[1] = -3e38f;
  std::vector<std::uint8_t> emb_out(2 * ladle::rowwise_row_bytes(8, 4));
  std::vector<float> emb8 = emb;
  emb8[8] = 3e38f;
  emb8[9] = -3e38f;                        // row 1 range overflows float at 8 bits
  std::vector<std::uint8_t> emb8_out(2 * ladle::rowwise_row_bytes(8, 8));
  auto table = ladle::rowwise_quantize(ladle::make_view(static_cast<const float*>(emb.data()), {2, 8}), 4);
  auto edited = table;
  edited.dim = 4000;
  std::vector<std::int64_t> idx = {0, 1};
  std::vector<float> lookup_out(2 * 8);

  // NF4
  auto nf4 = ladle::nf4_quantize(cv(x));
  auto nf4_edit = nf4;
  nf4_edit.size = 4096;
  auto nf4_bs = nf4;
  nf4_bs.block_size = 0;

  // MX
  std::vector<float> mxx(32, 1.0f);
  std::vector<std::uint8_t> mxs(1), mxd(32);
  std::vector<float> mxo(32);
  ladle::mx_options bad_mx;
  std::memset(&bad_mx.element, 42, 1);

  // bit allocation
  std::vector<double> sens = {1.0, 2.0, 0.5, 4.0};
  ladle::bit_allocation_options levels;
  levels.rounding = ladle::bit_rounding::integer_levels;
  levels.min_bits = 1;

  std::vector<float> grad(4 * 0), gx(0);
  std::vector<float> gsc(1), gzp(1);

  std::vector<bad::row> rows = {
      // affine: NaN/Inf named by element, enums, params, sizes, overlap
      {"quantize NaN names element", kind::domain, {"ladle::quantize", "'x'", "element 37"},
       [&] { ladle::quantize_into(cv(xn), params, ladle::make_view(codes.data(), 64)); }, {bad::of(xn)}},
      {"choose_qparams Inf", kind::domain, {"ladle::choose_qparams", "'x'"},
       [&] { ladle::choose_qparams(spec, cv(xi)); }, {bad::of(xi)}},
      {"spec enum out of range", kind::invalid, {"ladle::quantize", "'spec.granularity'"},
       [&] { auto p = params; p.spec = bad_enum; ladle::quantize_into(cv(x), p, ladle::make_view(codes.data(), 64)); },
       {bad::of(x)}},
      {"spec bits 1", kind::invalid, {"ladle::choose_qparams", "'spec.bits'"},
       [&] { ladle::choose_qparams(ladle::quant_spec::affine(1), cv(x)); }, {bad::of(x)}},
      {"spec bits 9", kind::invalid, {"ladle::choose_qparams", "'spec.bits'"},
       [&] { ladle::choose_qparams(ladle::quant_spec::affine(9), cv(x)); }, {bad::of(x)}},
      {"params count", kind::invalid, {"ladle::quantize", "'params'"},
       [&] { ladle::quantize_into(cv(x), wrong_count, ladle::make_view(codes.data(), 64)); }, {bad::of(x)}},
      {"quantize wrong codes size", kind::invalid, {"ladle::quantize", "'codes'"},
       [&] { ladle::quantize_into(cv(x), params, ladle::make_view(codes.data(), 63)); }, {bad::of(x)}},
      {"quantize codes overlap x", kind::invalid, {"ladle::quantize", "'codes'", "'x'"},
       [&] {
         ladle::quantize_into(ladle::make_view(static_cast<const float*>(buf.data()), 16), params,
                              ladle::make_view(reinterpret_cast<std::uint8_t*>(buf.data()) + 8, 16));
       },
       {}},
      {"dequantize out overlaps codes", kind::invalid, {"ladle::dequantize", "'out'", "'codes'"},
       [&] {
         ladle::dequantize_into(ladle::make_view(static_cast<const std::uint8_t*>(bytes.data()), 16), params,
                                ladle::make_view(reinterpret_cast<float*>(bytes.data()) + 1, 16));
       },
       {}},
      {"fake_quantize partial overlap", kind::invalid, {"ladle::fake_quantize", "'out'", "'x'"},
       [&] { ladle::fake_quantize_into(ladle::make_view(static_cast<const float*>(buf.data()), 64), params,
                                       ladle::make_view(buf.data() + 1, 64)); },
       {bad::of(buf)}},
      {"fake_quantize mask overlaps out", kind::invalid, {"ladle::fake_quantize", "'mask'", "'out'"},
       [&] { ladle::fake_quantize_into(cv(x), params, ladle::make_view(out.data(), 64),
                                       ladle::make_view(reinterpret_cast<std::uint8_t*>(out.data()), 64)); },
       {bad::of(x)}},
      {"fake_quantize in place with NaN leaves x untouched", kind::domain, {"ladle::fake_quantize", "'x'", "element 37"},
       [&] { ladle::fake_quantize_into(ladle::make_view(static_cast<const float*>(xn.data()), 64), params,
                                       ladle::make_view(xn.data(), 64)); },
       {bad::of(xn)}},
      {"fake_quantize NaN out of place", kind::domain, {"ladle::fake_quantize", "'x'", "element 37"},
       [&] { ladle::fake_quantize_into(cv(xn), params, ladle::make_view(out.data(), 64)); }, {bad::of(xn)}},
      {"lsq grad_x partially overlaps grad_out", kind::invalid, {"ladle::lsq_backward", "'grad_x'", "'grad_out'"},
       [&] { ladle::lsq_backward_into(cv(x), ladle::make_view(static_cast<const float*>(buf.data()), 64), params,
                                      ladle::make_view(buf.data() + 2, 64), ladle::vector_view<float>{},
                                      ladle::vector_view<float>{}); },
       {bad::of(x), bad::of(buf)}},
      {"lsq stochastic rounding", kind::invalid, {"ladle::lsq_backward", "'params.spec.rounding'"},
       [&] { auto p = params; p.spec.rounding = ladle::rounding_mode::stochastic;
             ladle::lsq_backward_into(cv(x), cv(x), p, ladle::make_view(out.data(), 64),
                                      ladle::vector_view<float>{}, ladle::vector_view<float>{}); },
       {bad::of(x)}},
      {"qparams_for_range lo > hi", kind::invalid, {"ladle::qparams_for_range", "'range'"},
       [&] { ladle::qparams_for_range(spec, 2.0f, 1.0f); }, {}},
      {"qparams_from_ranges Inf names entry", kind::domain, {"ladle::qparams_from_ranges", "'lo'", "entry 1"},
       [&] { ladle::qparams_from_ranges(spec, {0.0f, -finf}, {1.0f, 1.0f}); }, {}},
      {"qparams_from_ranges sizes", kind::invalid, {"ladle::qparams_from_ranges", "'hi'"},
       [&] { ladle::qparams_from_ranges(spec, {0.0f, 1.0f}, {1.0f}); }, {}},
      // packing
      {"pack bits 1", kind::invalid, {"ladle::pack_codes", "'bits'"},
       [&] { ladle::pack_codes(cv(codes), 1); }, {bad::of(codes)}},
      {"pack code too wide", kind::invalid, {"ladle::pack_codes", "'codes'"},
       [&] { ladle::pack_codes(cv(bytes), 2); }, {bad::of(bytes)}},
      {"pack out overlaps codes", kind::invalid, {"ladle::pack_codes", "'out'", "'codes'"},
       [&] { std::vector<std::uint8_t> b(64, 1);
             ladle::pack_codes_into(ladle::make_view(static_cast<const std::uint8_t*>(b.data()), 64), 4,
                                    ladle::make_view(b.data() + 8, 32)); },
       {}},
      {"unpack n huge", kind::invalid, {"ladle::unpack_codes", "'n'"},
       [&] { ladle::unpack_codes<std::uint8_t>(cv(bytes), 4, big); }, {bad::of(bytes)}},
      {"unpack n negative", kind::invalid, {"ladle::unpack_codes", "'n'"},
       [&] { ladle::unpack_codes<std::uint8_t>(cv(bytes), 4, -1); }, {bad::of(bytes)}},
      // row-wise embeddings
      {"rowwise 4-bit beyond 65504", kind::domain, {"ladle::rowwise_quantize", "'x'", "row 0", "65504"},
       [&] { ladle::rowwise_quantize_into(ladle::make_view(static_cast<const float*>(emb_big.data()), {2, 8}),
                                          ladle::make_view(emb_out.data(), {2, ladle::rowwise_row_bytes(8, 4)}), 4); },
       {bad::of(emb_big)}},
      {"rowwise 2-bit +-3e38", kind::domain, {"ladle::rowwise_quantize", "'x'", "65504"},
       [&] { ladle::rowwise_quantize(ladle::make_view(static_cast<const float*>(emb_huge.data()), {2, 8}), 2); },
       {bad::of(emb_huge)}},
      {"rowwise 8-bit range overflow", kind::domain, {"ladle::rowwise_quantize", "'x'", "row 1"},
       [&] { ladle::rowwise_quantize_into(ladle::make_view(static_cast<const float*>(emb8.data()), {2, 8}),
                                          ladle::make_view(emb8_out.data(), {2, ladle::rowwise_row_bytes(8, 8)}), 8); },
       {bad::of(emb8)}},
      {"rowwise bits 3", kind::invalid, {"ladle::rowwise_quantize", "'bits'"},
       [&] { ladle::rowwise_quantize(ladle::make_view(static_cast<const float*>(emb.data()), {2, 8}), 3); },
       {bad::of(emb)}},
      {"rowwise 2x0", kind::invalid, {"ladle::rowwise_quantize", "'x'", "2 x 0"},
       [&] { ladle::rowwise_quantize(ladle::make_view(static_cast<const float*>(emb.data()), {2, 0}), 8); },
       {bad::of(emb)}},
      {"rowwise_lookup edited dim", kind::invalid, {"ladle::rowwise_lookup", "'q'"},
       [&] { std::vector<float> wide(2 * 4000);
             ladle::rowwise_lookup(edited, cv(idx), ladle::make_view(wide.data(), {2, 4000})); },
       {bad::of(idx)}},
      {"rowwise_lookup index", kind::invalid, {"ladle::rowwise_lookup", "'indices'"},
       [&] { std::vector<std::int64_t> i2 = {0, 5};
             ladle::rowwise_lookup(table, cv(i2), ladle::make_view(lookup_out.data(), {2, 8})); },
       {}},
      // FP8
      {"fp8 out overlaps in", kind::invalid, {"ladle::fp8_encode", "'out'", "'in'"},
       [&] { ladle::fp8_encode(ladle::make_view(static_cast<const float*>(buf.data()), 16),
                               ladle::make_view(reinterpret_cast<std::uint8_t*>(buf.data()) + 4, 16)); },
       {}},
      {"fp8 format enum", kind::invalid, {"ladle::fp8_encode", "'options.format'"},
       [&] { ladle::fp8_options o; std::memset(&o.format, 5, 1);
             ladle::fp8_encode(cv(x), ladle::make_view(codes.data(), 64), o); },
       {bad::of(x)}},
      {"fp8_decode format enum", kind::invalid, {"ladle::fp8_decode", "'format'"},
       [&] { ladle::fp8_format f; std::memset(&f, 3, 1);
             ladle::fp8_decode(cv(codes), ladle::make_view(out.data(), 64), f); },
       {bad::of(codes)}},
      // MX
      {"mx_dequantize element enum", kind::invalid, {"ladle::mx_dequantize", "'element'"},
       [&] { ladle::mx_element e; std::memset(&e, 77, 1);
             ladle::mx_dequantize_into(ladle::make_view(static_cast<const std::uint8_t*>(mxs.data()), {1, 1}),
                                       ladle::make_view(static_cast<const std::uint8_t*>(mxd.data()), {1, 32}), e,
                                       ladle::make_view(mxo.data(), {1, 32})); },
       {bad::of(mxs), bad::of(mxd)}},
      {"mx_quantize element enum", kind::invalid, {"ladle::mx_quantize", "'options.element'"},
       [&] { ladle::mx_quantize(ladle::make_view(static_cast<const float*>(mxx.data()), {1, 32}), bad_mx); },
       {bad::of(mxx)}},
      {"mx_quantize cols not multiple of 32", kind::invalid, {"ladle::mx_quantize", "'x'"},
       [&] { ladle::mx_quantize(ladle::make_view(static_cast<const float*>(mxx.data()), {1, 30})); },
       {bad::of(mxx)}},
      {"mx_quantize data overlaps scales", kind::invalid, {"ladle::mx_quantize", "'data'", "'scales'"},
       [&] { std::vector<std::uint8_t> both(40);
             ladle::mx_quantize_into(ladle::make_view(static_cast<const float*>(mxx.data()), {1, 32}),
                                     ladle::make_view(both.data(), {1, 1}), ladle::make_view(both.data(), {1, 32})); },
       {bad::of(mxx)}},
      // NF4: edited result structs
      {"nf4_dequantize edited size", kind::invalid, {"ladle::nf4_dequantize", "'q.size'"},
       [&] { std::vector<float> o(4096); ladle::nf4_dequantize(nf4_edit, ladle::make_view(o.data(), 4096)); }, {}},
      {"nf4_dequantize edited block_size", kind::invalid, {"ladle::nf4_dequantize", "'q.block_size'"},
       [&] { ladle::nf4_dequantize(nf4_bs, ladle::make_view(out.data(), 64)); }, {}},
      {"nf4_quantize odd block", kind::invalid, {"ladle::nf4_quantize", "'block_size'"},
       [&] { ladle::nf4_quantize(cv(x), ladle::nf4_options{3, false, 256}); }, {bad::of(x)}},
      {"nf4_quantize NaN", kind::domain, {"ladle::nf4_quantize", "'x'", "37"},
       [&] { ladle::nf4_quantize(cv(xn)); }, {bad::of(xn)}},
      {"nf4_quantize empty", kind::invalid, {"ladle::nf4_quantize", "'x'"},
       [&] { ladle::nf4_quantize(cv(x).slice(0, 0)); }, {bad::of(x)}},
      // bit allocation
      {"allocate_bits average 80 with integer levels", kind::domain, {"ladle::allocate_bits", "'average_bits'", "53"},
       [&] { ladle::allocate_bits(cv(sens), 80.0, levels); }, {bad::of(sens)}},
      {"allocate_bits NaN average", kind::invalid, {"ladle::allocate_bits", "'average_bits'"},
       [&] { ladle::allocate_bits(cv(sens), std::nan(""), levels); }, {bad::of(sens)}},
      {"allocate_bits rounding enum", kind::invalid, {"ladle::allocate_bits", "'options.rounding'"},
       [&] { auto o = levels; std::memset(&o.rounding, 9, 1); ladle::allocate_bits(cv(sens), 4.0, o); },
       {bad::of(sens)}},
      {"allocate_bits empty", kind::invalid, {"ladle::allocate_bits", "'sensitivities'"},
       [&] { ladle::allocate_bits(cv(sens).slice(0, 0), 4.0); }, {bad::of(sens)}},
      // PQ
      {"pq_train centroids 257", kind::invalid, {"ladle::pq_train", "'centroids'"},
       [&] { ladle::pq_options o; o.subspaces = 2; o.centroids = 257;
             ladle::pq_train(ladle::make_view(static_cast<const float*>(x.data()), {16, 4}), o, ladle::seed{1}); },
       {bad::of(x)}},
      {"pq_train subspaces not dividing", kind::invalid, {"ladle::pq_train", "'subspaces'"},
       [&] { ladle::pq_options o; o.subspaces = 3; o.centroids = 2;
             ladle::pq_train(ladle::make_view(static_cast<const float*>(x.data()), {16, 4}), o, ladle::seed{1}); },
       {bad::of(x)}},
      {"pq_train max_training_rows negative", kind::invalid, {"ladle::pq_train", "'max_training_rows'"},
       [&] { ladle::pq_options o; o.subspaces = 2; o.centroids = 2; o.max_training_rows = -big;
             ladle::pq_train(ladle::make_view(static_cast<const float*>(x.data()), {16, 4}), o, ladle::seed{1}); },
       {bad::of(x)}},
  };
  const std::size_t n = bad::run_matrix(rows);
  MESSAGE("quantization bad-input matrix: " << n << " cases");
}

TEST_CASE("numeric edges give a correct value") {
  // Affine ranges wider than FLT_MAX: a finite scale that covers the range.
  const auto sz = ladle::qparams_for_range(ladle::quant_spec::affine(8), -3e38f, 3e38f);
  CHECK(std::isfinite(sz.first));
  CHECK(double(sz.first) * 255.0 >= 6e38 * 0.999);
  // NF4 double quantization on {1, -1, FLT_MAX, 0}, block 2, scale block 2: block scales are
  // >= 0 and finite (block 0's absmax 1 is far below the group's step; it decodes to [0, step]).
  std::vector<float> v = {1.0f, -1.0f, FLT_MAX, 0.0f};
  const auto q = ladle::nf4_quantize(ladle::make_view(static_cast<const float*>(v.data()), 4),
                                     ladle::nf4_options{2, true, 2});
  CHECK(q.block_scale(0) >= 0.0f);
  CHECK(std::isfinite(q.block_scale(1)));
  std::vector<float> back(4);
  ladle::nf4_dequantize(q, ladle::make_view(back.data(), 4));
  for (float b : back) CHECK(std::isfinite(b));
  CHECK(back[2] > 3e38f);
  CHECK(std::fabs(back[0]) <= 1.5e36f);  // within half a step of the group's 8-bit grid
  // MX round-up near FLT_MAX decodes to finite values.
  for (auto e : {ladle::mx_element::fp8_e4m3, ladle::mx_element::fp8_e5m2, ladle::mx_element::fp6_e3m2,
                 ladle::mx_element::fp6_e2m3, ladle::mx_element::fp4_e2m1}) {
    std::vector<float> m(32, 0.0f);
    m[0] = FLT_MAX;
    m[1] = -FLT_MAX * 0.999f;
    m[2] = 1e37f;
    ladle::mx_options o;
    o.element = e;
    o.scale_rule = ladle::mx_scale_rule::round_up;
    const auto t = ladle::mx_quantize(ladle::make_view(static_cast<const float*>(m.data()), {1, 32}), o);
    std::vector<float> d(32);
    ladle::mx_dequantize(t, ladle::make_view(d.data(), {1, 32}));
    INFO("element " << int(e));
    CHECK(std::isfinite(d[0]));
    CHECK(std::isfinite(d[1]));
    CHECK(d[0] > 1e38f);
    CHECK(d[1] < -1e38f);
  }
  // LSQ on an empty (0, 4) tensor: zero gradients, no division by zero.
  std::vector<float> none;
  const auto p = ladle::qparams_from_ranges(ladle::quant_spec::symmetric(4), {-1.0f}, {1.0f});
  std::vector<float> gs(1, 5.0f), gz(1, 5.0f);
  ladle::lsq_backward_into(ladle::make_view(static_cast<const float*>(none.data()), {0, 4}),
                           ladle::make_view(static_cast<const float*>(none.data()), {0, 4}), p,
                           ladle::make_view(none.data(), {0, 4}), ladle::make_view(gs.data(), 1),
                           ladle::make_view(gz.data(), 1));
  CHECK(gs[0] == 0.0f);
  CHECK(gz[0] == 0.0f);
  // allocate_bits with average 80 and no rounding is a valid continuous answer.
  std::vector<double> s = {1.0, 2.0};
  const auto r = ladle::allocate_bits(ladle::make_view(static_cast<const double*>(s.data()), 2), 80.0);
  CHECK(std::fabs(r.average_bits - 80.0) < 1e-9);
  // In-place fake_quantize (exact aliasing) still works.
  std::vector<float> a = {0.1f, -2.0f, 3.5f, 0.7f}, ref(4);
  const auto pa = ladle::choose_qparams(ladle::quant_spec::affine(8), ladle::make_view(static_cast<const float*>(a.data()), 4));
  ladle::fake_quantize_into(ladle::make_view(static_cast<const float*>(a.data()), 4), pa, ladle::make_view(ref.data(), 4));
  ladle::fake_quantize_into(ladle::make_view(static_cast<const float*>(a.data()), 4), pa, ladle::make_view(a.data(), 4));
  CHECK(a == ref);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
