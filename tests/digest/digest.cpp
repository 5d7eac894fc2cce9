// Cross-ISA digest: one FNV-1a hash per output of a fixed battery over every landed family and
// format. CI builds this at SSE2, AVX2, native and LADLE_DISABLE_SIMD and diffs the files: the
// library promises the same bits on every instruction set (DESIGN.md §1.4), so any difference is
// a bug (an expression contracted into an FMA on one ISA only, a SIMD path that rounds
// differently from its scalar path, ...). Inputs are long enough to reach SIMD bodies and tails.
//
// Usage: ladle_digest [out_file]   (default: digest.txt in the working directory)
#include <ladle/core/dtype.hpp>
#include <ladle/core/math.hpp>
#include <ladle/core/random.hpp>
#include <ladle/core/random_simd.hpp>
#include <ladle/neighbors.hpp>
#include <ladle/quantization.hpp>
#include <ladle/resampling.hpp>
#include <ladle/selection.hpp>
#include <ladle/weighting.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using ladle::index_t;

struct digest {
  std::uint64_t h = 1469598103934665603ull;
  void bytes(const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  }
  template <class T>
  digest& add(const T* p, index_t n) {
    bytes(p, sizeof(T) * static_cast<std::size_t>(n));
    return *this;
  }
  template <class T>
  digest& add(const std::vector<T>& v) {
    return add(v.data(), static_cast<index_t>(v.size()));
  }
  template <class T, std::size_t R>
  digest& add(const ladle::tensor<T, R>& t) {
    return add(t.data(), t.size());
  }
  template <class T>
  digest& value(T v) {
    bytes(&v, sizeof v);
    return *this;
  }
};

std::vector<std::string> lines;

void emit(const std::string& name, const digest& d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(d.h));
  lines.push_back(name + " " + buf);
}

// Deterministic inputs from Philox (no floating-point arithmetic that could be contracted).
std::vector<float> randn_like(index_t n, std::uint64_t stream, float scale) {
  ladle::philox g(ladle::seed{2026}, stream);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = static_cast<float>(ladle::normal(g)) * scale;
  return v;
}

std::vector<float> uniform_like(index_t n, std::uint64_t stream, float lo, float hi) {
  ladle::philox g(ladle::seed{2026}, stream);
  std::vector<float> v(static_cast<std::size_t>(n));
  const float w = hi - lo;
  for (auto& x : v) {
    x = lo + ladle::detail::mul_rounded(ladle::uniform_float(g), w);  // no FMA: same on every ISA
  }
  return v;
}

template <class To>
std::vector<To> cast(const std::vector<float>& v) {
  return std::vector<To>(v.begin(), v.end());
}

// ---- core ------------------------------------------------------------------------------------

void core_items() {
  for (std::uint64_t stream : {0ull, 7ull}) {
    ladle::philox g(ladle::seed{42}, stream);
    digest raw, uf, ud, ub, nrm, ex, gu;
    for (int i = 0; i < 1027; ++i) raw.value(g());
    for (int i = 0; i < 1027; ++i) uf.value(ladle::uniform_float(g));
    for (int i = 0; i < 1027; ++i) ud.value(ladle::uniform_double(g));
    for (std::uint32_t b : {3u, 1000u, 3u << 30, 0xffffffffu}) ub.value(ladle::uniform_u32(g, b));
    for (std::uint64_t b : {5ull, (1ull << 40) + 3, ~0ull >> 1}) ub.value(ladle::uniform_u64(g, b));
    for (index_t b : {1, 2, 17, 1000003}) ub.value(ladle::uniform_index(g, b));
    for (int i = 0; i < 1027; ++i) nrm.value(ladle::normal(g));
    for (int i = 0; i < 1027; ++i) ex.value(ladle::exponential(g));
    for (int i = 0; i < 1027; ++i) gu.value(ladle::gumbel(g));
    const std::string s = "philox/stream" + std::to_string(stream);
    emit(s + "/u32", raw);
    emit(s + "/uniform_float", uf);
    emit(s + "/uniform_double", ud);
    emit(s + "/bounded", ub);
    emit(s + "/normal", nrm);
    emit(s + "/exponential", ex);
    emit(s + "/gumbel", gu);
  }

  // dtype conversions (bodies and tails).
  const auto xf = randn_like(1029, 1, 3.0f);
  {
    std::vector<ladle::half> h(xf.size());
    std::vector<ladle::bfloat16> b(xf.size());
    std::vector<float> back(xf.size());
    std::vector<double> wide(xf.size());
    digest dh, db, dhf, dbf, dd;
    ladle::convert_n(xf.data(), h.data(), 1029);
    dh.add(h);
    ladle::convert_n(h.data(), back.data(), 1029);
    dhf.add(back);
    ladle::convert_n(xf.data(), b.data(), 1029);
    db.add(b);
    ladle::convert_n(b.data(), back.data(), 1029);
    dbf.add(back);
    ladle::convert_n(xf.data(), wide.data(), 1029);
    dd.add(wide);
    ladle::convert_n(wide.data(), back.data(), 1029);
    dd.add(back);
    emit("dtype/float_to_half", dh);
    emit("dtype/half_to_float", dhf);
    emit("dtype/float_to_bf16", db);
    emit("dtype/bf16_to_float", dbf);
    emit("dtype/float_double_roundtrip", dd);
  }

  // softmax / log_softmax / logsumexp, float and double, two temperatures.
  for (index_t n : {1, 7, 67, 1005}) {
    const auto v = randn_like(n, 2 + std::uint64_t(n), 4.0f);
    const auto vd = cast<double>(v);
    digest d;
    std::vector<float> of(v.size());
    std::vector<double> od(v.size());
    for (float t : {1.0f, 0.37f}) {
      ladle::softmax(ladle::make_view(v.data(), n), ladle::make_view(of.data(), n), t);
      d.add(of);
      ladle::log_softmax(ladle::make_view(v.data(), n), ladle::make_view(of.data(), n), t);
      d.add(of);
      ladle::softmax(ladle::make_view(vd.data(), n), ladle::make_view(od.data(), n), double(t));
      d.add(od);
      ladle::log_softmax(ladle::make_view(vd.data(), n), ladle::make_view(od.data(), n), double(t));
      d.add(od);
    }
    d.value(ladle::logsumexp(ladle::make_view(v.data(), n)));
    d.value(ladle::logsumexp(ladle::make_view(vd.data(), n)));
    emit("math/softmax_logsumexp/n" + std::to_string(n), d);
  }
}

// ---- quantization ----------------------------------------------------------------------------

void quantize_items() {
  const index_t rows = 6, cols = 1003;  // per channel over rows; per group over 17-wide groups? no: 59
  const auto x = randn_like(rows * cols, 10, 1.5f);
  const auto xv = ladle::make_view(x.data(), {rows, cols});
  const auto xd = cast<double>(x);
  const auto xdv = ladle::make_view(xd.data(), {rows, cols});
  const auto g = randn_like(rows * cols, 11, 1.0f);
  const auto gv = ladle::make_view(g.data(), {rows, cols});
  using conv = ladle::quant_convention;
  for (int bits : {2, 3, 4, 5, 6, 7, 8, 16}) {
    for (int scheme = 0; scheme < 4; ++scheme) {  // affine, symmetric torch / gptq / eqnet
      for (bool is_signed : {false, true}) {
        for (int gran = 0; gran < 3; ++gran) {
          for (bool stochastic : {false, true}) {
            ladle::quant_spec spec =
                scheme == 0 ? ladle::quant_spec::affine(bits, is_signed)
                            : ladle::quant_spec::symmetric(
                                  bits, scheme == 1 ? conv::torch : scheme == 2 ? conv::gptq : conv::eqnet,
                                  is_signed);
            if (gran == 1) spec = spec.per_channel(0);
            if (gran == 2) spec = spec.per_group(59);
            if (stochastic) spec = spec.stochastic();
            const std::string name = "quantize/b" + std::to_string(bits) + "/s" + std::to_string(scheme) +
                                     (is_signed ? "/signed" : "/unsigned") + "/g" + std::to_string(gran) +
                                     (stochastic ? "/stochastic" : "/nearest");
            digest d;
            const auto p = ladle::choose_qparams(spec, xv);
            d.add(p.scale).add(p.zero_point);
            const auto q = ladle::quantize<std::int32_t>(xv, p, ladle::seed{5});
            d.add(q);
            const auto qd = ladle::quantize<std::int32_t>(xdv, p, ladle::seed{5});
            d.add(qd);
            const auto deq = ladle::dequantize<float>(q.cview(), p);
            d.add(deq);
            const auto deqd = ladle::dequantize<double>(q.cview(), p);
            d.add(deqd);
            ladle::tensor<float, 2> fq({rows, cols});
            ladle::tensor<std::uint8_t, 2> mask({rows, cols});
            ladle::fake_quantize_into(xv, p, fq.view(), mask.view(), ladle::seed{5});
            d.add(fq).add(mask);
            if (!stochastic) {
              ladle::tensor<float, 2> gx({rows, cols});
              std::vector<float> gs(static_cast<std::size_t>(p.count())), gz(gs.size());
              ladle::lsq_backward_into(xv, gv, p, gx.view(),
                                       ladle::make_view(gs.data(), p.count()),
                                       ladle::make_view(gz.data(), p.count()));
              d.add(gx).add(gs).add(gz);
            }
            emit(name, d);
          }
        }
      }
    }
  }
  // Observers.
  for (int gran = 0; gran < 2; ++gran) {
    auto spec = ladle::quant_spec::affine(8);
    auto sym = ladle::quant_spec::symmetric(4);
    if (gran == 1) {
      spec = spec.per_channel(0);
      sym = sym.per_channel(0);
    }
    digest d;
    const auto put = [&](const ladle::quant_params& p) { d.add(p.scale).add(p.zero_point); };
    ladle::minmax_observer mm(spec);
    ladle::moving_average_minmax_observer ma(spec, 0.1f);
    ladle::histogram_observer hi(spec, 512);
    ladle::percentile_observer pe(sym, 99.5, 512);
    ladle::lp_observer lp(sym);
    for (int b = 0; b < 3; ++b) {
      const auto xb = randn_like(rows * cols, 20 + std::uint64_t(b), 1.0f + float(b));
      const auto v = ladle::make_view(xb.data(), {rows, cols});
      mm.observe(v);
      ma.observe(v);
      hi.observe(v);
      pe.observe(v);
      lp.observe(v);
    }
    put(mm.qparams());
    put(ma.qparams());
    put(hi.qparams());
    put(pe.qparams());
    put(lp.qparams());
    emit("observers/g" + std::to_string(gran), d);
  }
}

void format_items() {
  const index_t rows = 5, cols = 32 * 13;
  const auto x = randn_like(rows * cols, 30, 2.0f);
  auto xw = x;  // wide range with specials for FP8
  for (std::size_t i = 0; i < xw.size(); i += 37) xw[i] *= 3000.0f;
  xw[3] = 0.0f;
  xw[4] = -0.0f;
  xw[5] = 1e-12f;
  const auto xd = cast<double>(xw);
  for (auto f : {ladle::fp8_format::e4m3, ladle::fp8_format::e5m2}) {
    for (auto o : {ladle::fp8_overflow::saturate, ladle::fp8_overflow::nonfinite}) {
      digest d;
      std::vector<std::uint8_t> c(xw.size());
      std::vector<float> back(xw.size());
      ladle::fp8_encode_n(xw.data(), c.data(), index_t(xw.size()), {f, o});
      d.add(c);
      ladle::fp8_encode_n(xd.data(), c.data(), index_t(xd.size()), {f, o});
      d.add(c);
      ladle::fp8_decode_n(c.data(), back.data(), index_t(c.size()), f);
      d.add(back);
      emit(std::string("fp8/") + (f == ladle::fp8_format::e4m3 ? "e4m3" : "e5m2") +
               (o == ladle::fp8_overflow::saturate ? "/saturate" : "/nonfinite"),
           d);
    }
  }
  const auto xv = ladle::make_view(x.data(), {rows, cols});
  for (auto e : {ladle::mx_element::fp8_e4m3, ladle::mx_element::fp8_e5m2, ladle::mx_element::fp6_e3m2,
                 ladle::mx_element::fp6_e2m3, ladle::mx_element::fp4_e2m1, ladle::mx_element::int8}) {
    for (auto r : {ladle::mx_scale_rule::ocp, ladle::mx_scale_rule::round_up}) {
      digest d;
      const auto q = ladle::mx_quantize(xv, {e, r});
      d.add(q.scales).add(q.data);
      ladle::tensor<float, 2> out({rows, cols});
      ladle::mx_dequantize(q, out.view());
      d.add(out);
      emit("mx/e" + std::to_string(int(e)) + "/r" + std::to_string(int(r)), d);
    }
  }
  const index_t n = 64 * 300 + 37;
  const auto w = randn_like(n, 31, 0.05f);
  for (bool dq : {false, true}) {
    for (index_t bs : {64, 128}) {
      digest d;
      ladle::nf4_options o;
      o.block_size = bs;
      o.double_quant = dq;
      o.scale_block_size = 64;
      const auto q = ladle::nf4_quantize(ladle::make_view(w.data(), n), o);
      d.add(q.codes).add(q.absmax).add(q.absmax_codes).add(q.absmax_scales).value(q.absmax_offset);
      std::vector<float> out(static_cast<std::size_t>(n));
      ladle::nf4_dequantize(q, ladle::make_view(out.data(), n));
      d.add(out);
      emit(std::string("nf4/bs") + std::to_string(bs) + (dq ? "/double_quant" : "/plain"), d);
    }
  }
}

void packing_embedding_pq_bitalloc_items() {
  for (int bits = 1; bits <= 8; ++bits) {
    if (bits == 1) continue;
    const index_t n = 1000 + 5;
    ladle::philox g(ladle::seed{3}, std::uint64_t(bits));
    std::vector<std::uint8_t> codes(static_cast<std::size_t>(n));
    for (auto& c : codes) c = static_cast<std::uint8_t>(g() & ((1u << bits) - 1));
    digest d;
    const auto packed = ladle::pack_codes(ladle::make_view(static_cast<const std::uint8_t*>(codes.data()), n), bits);
    d.add(packed);
    const auto back = ladle::unpack_codes<std::uint8_t>(packed.cview(), bits, n);
    d.add(back);
    emit("packing/b" + std::to_string(bits), d);
  }
  const index_t rows = 9, dim = 133;
  const auto e = randn_like(rows * dim, 40, 0.7f);
  for (int bits : {8, 4, 2}) {
    digest d;
    const auto t = ladle::rowwise_quantize(ladle::make_view(e.data(), {rows, dim}), bits);
    d.add(t.data);
    ladle::tensor<float, 2> out({rows, dim});
    ladle::rowwise_dequantize(t, out.view());
    d.add(out);
    emit("embedding/b" + std::to_string(bits), d);
  }
  {
    const index_t n = 700, dd = 24;
    const auto x = randn_like(n * dd, 50, 1.0f);
    const auto xv = ladle::make_view(x.data(), {n, dd});
    ladle::pq_options o;
    o.subspaces = 4;
    o.centroids = 16;
    o.iterations = 10;
    digest d;
    const auto pq = ladle::pq_train(xv, o, ladle::seed{9});
    for (index_t m = 0; m < pq.subspaces(); ++m) {
      const auto cb = pq.codebook(m);
      d.add(cb.data(), cb.extent(0) * cb.extent(1));
    }
    const auto codes = ladle::pq_encode(pq, xv);
    d.add(codes);
    ladle::tensor<float, 2> dec({n, dd});
    ladle::pq_decode(pq, codes.cview(), dec.view());
    d.add(dec);
    for (auto metric : {ladle::pq_metric::l2, ladle::pq_metric::inner_product}) {
      const auto r = ladle::pq_search(pq, ladle::make_view(x.data() + 5 * dd, dd), codes.cview(), 10, metric);
      d.add(r.indices).add(r.scores);
    }
    emit("pq/train_encode_decode_search", d);
  }
  {
    const auto s = uniform_like(203, 60, 0.01f, 50.0f);
    const auto wts = uniform_like(203, 61, 1.0f, 4096.0f);
    const auto sv = ladle::make_view(s.data(), 203);
    const auto wv = ladle::make_view(wts.data(), 203);
    for (auto r : {ladle::bit_rounding::none, ladle::bit_rounding::integer_bits, ladle::bit_rounding::integer_levels}) {
      digest d;
      ladle::bit_allocation_options o;
      o.min_bits = 2;
      o.max_bits = 8;
      o.rounding = r;
      for (const auto& a : {ladle::allocate_bits(sv, 4.3, o), ladle::allocate_bits(sv, wv, 3.7, o)}) {
        d.add(a.bits).add(a.levels).value(a.average_bits).value(a.water_level).value(a.model_error);
      }
      emit("bit_allocation/r" + std::to_string(int(r)), d);
    }
  }
}

// ---- neighbours and resampling ---------------------------------------------------------------

template <class T>
void hash_result(digest& d, const ladle::resample_result<T, std::int64_t>& r) {
  d.add(r.X).add(r.y).add(r.sample_indices).add(r.base).add(r.neighbor).add(r.gap);
}

template <class T>
void resampling_items(const char* tname) {
  const index_t n = 260, dd = 19;
  const auto xf = randn_like(n * dd, 70, 1.0f);
  std::vector<T> x(xf.begin(), xf.end());
  std::vector<std::int64_t> y(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) {
    y[std::size_t(i)] = i % 10 == 0 ? 2 : i % 4 == 0 ? 1 : 0;
    for (index_t f = 0; f < 3; ++f) x[std::size_t(i * dd + f)] += T(y[std::size_t(i)]);  // class shift
  }
  const auto X = ladle::make_view(static_cast<const T*>(x.data()), {n, dd});
  const auto Y = ladle::make_view(static_cast<const std::int64_t*>(y.data()), n);
  const std::string p = std::string("resampling/") + tname + "/";
  {
    digest d;
    const auto k = ladle::knn_self(X, {7});
    d.add(k.indices).add(k.sq_distances);
    const auto q = ladle::knn(ladle::make_view(x.data() + 3 * dd, {50, dd}), X, {5});
    d.add(q.indices).add(q.sq_distances);
    emit(p + "knn", d);
  }
  const auto run = [&](const std::string& name, auto&& f) {
    digest d;
    hash_result(d, f());
    emit(p + name, d);
  };
  const ladle::seed s{17};
  run("smote", [&] { return ladle::smote(X, Y, {}, s); });
  run("borderline1", [&] { return ladle::borderline_smote(X, Y, {}, s); });
  run("borderline2", [&] {
    ladle::borderline_smote_options o;
    o.kind = ladle::borderline_kind::borderline2;
    return ladle::borderline_smote(X, Y, o, s);
  });
  run("adasyn", [&] { return ladle::adasyn(X, Y, {}, s); });
  run("kmeans_smote", [&] {
    ladle::kmeans_smote_options o;
    o.clusters = 4;
    o.cluster_balance_threshold = 0.05;
    return ladle::kmeans_smote(X, Y, o, s);
  });
  run("random_over", [&] { return ladle::random_over_sample(X, Y, {}, s); });
  run("random_over_smoothed", [&] {
    ladle::random_over_options o;
    o.shrinkage = 0.8;
    return ladle::random_over_sample(X, Y, o, s);
  });
  run("random_under", [&] { return ladle::random_under_sample(X, Y, {}, s); });
  run("tomek", [&] { return ladle::tomek_links(X, Y); });
  run("enn", [&] { return ladle::edited_nearest_neighbours(X, Y); });
  run("smote_tomek", [&] { return ladle::smote_tomek(X, Y, {}, s); });
  run("smote_enn", [&] { return ladle::smote_enn(X, Y, {}, s); });
  {
    // Mixed data: columns 0 and 5 nominal (small integer codes).
    std::vector<T> xm = x;
    for (index_t i = 0; i < n; ++i) {
      xm[std::size_t(i * dd)] = T((i * 7) % 4);
      xm[std::size_t(i * dd + 5)] = T((i * 3 + y[std::size_t(i)]) % 3);
    }
    const auto XM = ladle::make_view(static_cast<const T*>(xm.data()), {n, dd});
    run("smote_nc", [&] {
      ladle::smote_nc_options o;
      o.categorical = {0, 5};
      return ladle::smote_nc(XM, Y, o, s);
    });
    std::vector<T> xn(static_cast<std::size_t>(n * 4));
    for (index_t i = 0; i < n; ++i)
      for (index_t f = 0; f < 4; ++f) xn[std::size_t(i * 4 + f)] = T((i * (f + 3) + y[std::size_t(i)] * f) % (f + 2));
    run("smoten", [&] {
      return ladle::smoten(ladle::make_view(static_cast<const T*>(xn.data()), {n, 4}), Y, {}, s);
    });
  }
}

// ---- k-means, herding, cluster-balanced selection ---------------------------------------------

void kmeans_selection_items() {
  const index_t n = 1003, d = 67;  // d: 8-lane bodies and a tail
  const auto xf = randn_like(n * d, 0x4b4d, 1.0f);
  const auto xd = cast<double>(xf);
  const auto Xf = ladle::make_view(static_cast<const float*>(xf.data()), {n, d});
  const auto Xd = ladle::make_view(static_cast<const double*>(xd.data()), {n, d});
  ladle::kmeans_options o;
  o.restarts = 2;
  for (const index_t k : {index_t(1), index_t(7), index_t(33)}) {
    const auto r = ladle::kmeans(ladle::par, Xf, k, ladle::seed{5}, o);
    digest dg;
    dg.add(r.centroids).add(r.labels).value(r.inertia).value(r.iterations);
    emit("kmeans/float/k" + std::to_string(k), dg);
    const auto rd = ladle::kmeans(Xd, k, ladle::seed{5}, o);
    digest dd;
    dd.add(rd.centroids).add(rd.labels).value(rd.inertia).value(rd.iterations);
    emit("kmeans/double/k" + std::to_string(k), dd);
  }
  digest dp;
  dp.add(ladle::kmeans_plusplus(Xd, 50, ladle::seed{6}));
  emit("kmeans/plusplus", dp);
  // k-center: float rows of 67 features take the int8 screen, double rows none.
  const auto kf = ladle::k_center_greedy(ladle::par, Xf, 200, ladle::seed{3});
  digest dkf;
  dkf.add(kf.order).add(kf.gains).value(kf.radius);
  emit("k_center/float", dkf);
  const auto kd = ladle::k_center_greedy(Xd, 200, ladle::seed{3}, {4, 9});
  digest dkd;
  dkd.add(kd.order).add(kd.gains).value(kd.radius);
  emit("k_center/double", dkd);
  // facility location: float rows of 67 features (lazy takes the int8 screen), naive and
  // stochastic on a prefix, double rows lazy.
  for (const auto m : {ladle::facility_greedy::lazy, ladle::facility_greedy::naive,
                       ladle::facility_greedy::stochastic}) {
    ladle::facility_location_options fo;
    fo.method = m;
    fo.epsilon = 0.05;
    fo.seed = ladle::seed{11};
    const index_t rows = m == ladle::facility_greedy::lazy ? n : 300;
    const auto Xp = ladle::make_view(static_cast<const float*>(xf.data()), {rows, d});
    const auto fl = ladle::facility_location(ladle::par, Xp, 40, fo);
    digest dfl;
    dfl.add(fl.order).add(fl.gains).value(fl.objective).value(fl.max_sq_distance);
    dfl.value(double(fl.evaluations));
    emit("facility/float/" + std::to_string(int(m)), dfl);
  }
  // facility location over a kNN graph of 10 neighbours: float lazy and stochastic, double naive.
  for (const auto m : {ladle::facility_greedy::lazy, ladle::facility_greedy::stochastic}) {
    ladle::facility_location_options fo;
    fo.method = m;
    fo.neighbors = 10;
    fo.epsilon = 0.05;
    fo.seed = ladle::seed{11};
    const auto fl = ladle::facility_location(ladle::par, Xf, 40, fo);
    digest dfl;
    dfl.add(fl.order).add(fl.gains).value(fl.objective).value(fl.max_sq_distance);
    dfl.value(double(fl.evaluations));
    emit("facility_graph/float/" + std::to_string(int(m)), dfl);
  }
  {
    ladle::facility_location_options fo;
    fo.method = ladle::facility_greedy::naive;
    fo.neighbors = 10;
    const auto fl = ladle::facility_location(Xd, 40, fo);
    digest dfl;
    dfl.add(fl.order).add(fl.gains).value(fl.objective).value(fl.max_sq_distance);
    emit("facility_graph/double", dfl);
  }
  const auto fd = ladle::facility_location(Xd, 40);
  digest dfd;
  dfd.add(fd.order).add(fd.gains).value(fd.objective).value(fd.max_sq_distance);
  emit("facility/double", dfd);
  const auto h = ladle::herding(ladle::par, Xf, 120);
  digest dh;
  dh.add(h.order).add(h.distances);
  emit("herding/float", dh);
  std::vector<std::int32_t> y(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) y[std::size_t(i)] = std::int32_t((i * 7) % 3);
  const auto hc = ladle::herding(Xd, ladle::make_view(static_cast<const std::int32_t*>(y.data()), n), 40);
  digest dhc;
  dhc.add(hc.order).add(hc.distances);
  emit("herding/per_class", dhc);
  for (const auto pick : {ladle::cluster_pick::nearest, ladle::cluster_pick::random}) {
    ladle::cluster_balanced_options co;
    co.pick = pick;
    const auto c = ladle::cluster_balanced_selection(ladle::par, Xf, 200, 16, ladle::seed{7}, co);
    digest dc;
    dc.add(c.order).add(c.quotas).value(c.clustering.inertia);
    emit(std::string("cluster_balanced/") + (pick == ladle::cluster_pick::nearest ? "nearest" : "random"), dc);
  }
}

// ---- sampling ----------------------------------------------------------------------------------

// Vectorised Philox blocks (bodies, tails, a counter crossing 2^32) and the samplers that use
// them: uniform subsets (bit set and hash set), permutation prefixes, weighted keys.
void sampling_items() {
  const ladle::philox g(ladle::seed{77}, 0x5350);
  digest db;
  for (std::uint64_t first : {0ull, 5ull, (1ull << 32) - 13}) {
    std::vector<std::uint32_t> w(4 * 101);
    ladle::detail::philox_blocks(g, first, 101, w.data());
    db.add(w);
  }
  emit("philox/blocks", db);
  digest du;
  for (const index_t n : {index_t(1000), index_t(100003)})
    for (const index_t k : {index_t(0), index_t(7), n / 3, n}) {
      du.add(ladle::uniform_subset(n, k, ladle::seed{3}));
      du.add(ladle::random_permutation_prefix(n, k, ladle::seed{3}));
    }
  du.add(ladle::uniform_subset(index_t(1) << 40, 1000, ladle::seed{3}));
  emit("sampling/uniform", du);
  const auto wf = uniform_like(600011, 0x5753, -0.5f, 1.0f);
  std::vector<float> w(wf.size());
  for (std::size_t i = 0; i < wf.size(); ++i) w[i] = wf[i] > 0 ? wf[i] : 0.0f;
  const auto wd = cast<double>(w);
  const auto vf = ladle::make_view(static_cast<const float*>(w.data()), w.size());
  const auto vd = ladle::make_view(static_cast<const double*>(wd.data()), wd.size());
  for (const index_t k : {index_t(1), index_t(1000), index_t(60001)}) {
    digest dw;
    dw.add(ladle::weighted_sample(ladle::par(3), vf, k, ladle::seed{9}, ladle::sample_order::draw));
    dw.add(ladle::weighted_sample(vd, k, ladle::seed{9}));
    emit("sampling/weighted/k" + std::to_string(k), dw);
  }
}

// ---- weighting ---------------------------------------------------------------------------------

// Softmax-style weights (SIMD exp bodies and scalar tails; float and double lanes), class counts.
void weighting_items() {
  for (index_t n : {index_t(37), index_t(16384 + 1029)}) {
    const auto lf = uniform_like(n, 31, 0.0f, 30.0f);
    const auto ld = cast<double>(lf);
    const std::string s = "weighting/n" + std::to_string(n);
    using S = ladle::loss_strategy;
    for (S st : {S::lin_upper, S::quadratic, S::extremes, S::upper}) {
      ladle::loss_reweighting_options o;
      o.strategy = st;
      o.r = 0.001;  // exponents down to -1000: past both flush thresholds (-87 float, -708 double)
      std::vector<float> wf(lf.size());
      std::vector<double> wd(ld.size());
      ladle::loss_based_weights_into(ladle::par, ladle::make_view(lf.data(), lf.size()),
                                     ladle::make_view(wf.data(), wf.size()), o);
      ladle::loss_based_weights_into(ladle::par, ladle::make_view(ld.data(), ld.size()),
                                     ladle::make_view(wd.data(), wd.size()), o);
      digest d;
      d.add(wf).add(wd);
      emit(s + "/loss_weights/" + std::to_string(static_cast<int>(st)), d);
    }
    for (double r : {0.04, 1.0}) {
      std::vector<float> wf(lf.size());
      std::vector<double> wd(ld.size());
      ladle::kl_dro_weights_into(ladle::make_view(lf.data(), lf.size()),
                                 ladle::make_view(wf.data(), wf.size()), r);
      ladle::kl_dro_weights_into(ladle::make_view(ld.data(), ld.size()),
                                 ladle::make_view(wd.data(), wd.size()), r);
      digest d;
      d.add(wf).add(wd);
      emit(s + "/kl_dro/r" + std::to_string(r), d);
    }
    std::vector<std::int32_t> y(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<std::int32_t>(lf[i]) - 7;
    const auto t = ladle::class_weights(ladle::par, ladle::make_view(y.data(), y.size()));
    digest d;
    d.add(t.weights);
    emit(s + "/class_weights", d);
  }
  // Multi-Similarity loss and gradient: the AVX-512 blocked similarity kernel against the
  // per-pair dot of the other builds (d = 37: whole groups of eight and a tail; 23 rows: an odd
  // last row and a last group of three anchors).
  {
    const index_t b = 23, d = 37;
    auto x = uniform_like(b * d, 41, -1.0f, 1.0f);
    for (index_t i = 0; i < b; ++i) {
      double nn = 0;
      for (index_t f = 0; f < d; ++f) nn += double(x[std::size_t(i * d + f)]) * x[std::size_t(i * d + f)];
      const float inv = static_cast<float>(1.0 / std::sqrt(nn));
      for (index_t f = 0; f < d; ++f) x[std::size_t(i * d + f)] *= inv;
    }
    std::vector<std::int32_t> y(static_cast<std::size_t>(b));
    for (index_t i = 0; i < b; ++i) y[std::size_t(i)] = static_cast<std::int32_t>(i % 4);
    std::vector<double> grad(static_cast<std::size_t>(b * d));
    ladle::multi_similarity_options o;
    o.tile_rows = 5;
    const double loss = ladle::multi_similarity_loss_and_grad_into(
        ladle::par, ladle::make_view(x.data(), {b, d}), ladle::make_view(y.data(), y.size()),
        ladle::make_view(grad.data(), {b, d}), o);
    digest dg;
    dg.add(std::vector<double>{loss}).add(grad);
    emit("weighting/multi_similarity", dg);
  }
}

// ---- DSIR ---------------------------------------------------------------------------------------

// Hashed n-gram features and log weights of Philox-made text (Zipf-like word choice, mixed case,
// punctuation, non-ASCII words): enough distinct words to fill the bucket memo.
void dsir_items() {
  ladle::philox g(ladle::seed{2026}, 0x4453);
  const char* extra[] = {"Éclair", "naïve", "ΣΟΦΙΑ", "straße", "İstanbul", "—", "don't", "!!"};
  std::vector<std::string> docs(3000);
  for (auto& d : docs) {
    const std::uint64_t words = 1 + g() % 60;
    for (std::uint64_t w = 0; w < words; ++w) {
      const std::uint64_t r = g();
      const std::uint64_t id = (r % 30011) * ((r >> 20) % 30011) / 30011;  // small ids likelier
      if (id % 97 == 0) d += extra[id % 8];
      else d += (id % 5 == 0 ? "W" : "w") + std::to_string(id);
      d += (r >> 40) % 7 == 0 ? ", " : " ";
    }
  }
  const auto raw = ladle::dsir_fit_documents(ladle::par, docs);
  const std::vector<std::string> target(docs.begin(), docs.begin() + 300);
  const auto ratios = ladle::dsir_log_ratios(raw, ladle::dsir_fit_documents(ladle::par, target));
  const ladle::dsir_scores sc = ladle::dsir_score_documents(ladle::par, docs, ratios);
  digest d;
  d.add(raw.counts()).add(ratios).add(sc.log_weights).add(sc.lengths);
  emit("dsir/scores", d);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "digest.txt";
  core_items();
  quantize_items();
  format_items();
  packing_embedding_pq_bitalloc_items();
  resampling_items<float>("float");
  resampling_items<double>("double");
  kmeans_selection_items();
  sampling_items();
  dsir_items();
  weighting_items();
  std::ofstream out(path);
  for (const auto& l : lines) out << l << "\n";
  if (!out) {
    std::fprintf(stderr, "ladle_digest: cannot write %s\n", path.c_str());
    return 1;
  }
  std::printf("ladle_digest (%s): %zu items -> %s\n", ladle::simd::arch_name(), lines.size(), path.c_str());
  return 0;
}
