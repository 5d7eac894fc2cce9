// ladle/quantization/fake_quant.hpp: the backward pass of fake quantization for a C++ trainer.
//
// Forward (quantize.hpp): x̂ = (clamp(round(x/Δ) + z, qmin, qmax) − z) · Δ. With rounding treated
// as the identity in the backward pass (straight-through estimator), and q = round(x/Δ) + z:
//
//   inside  (qmin ≤ q ≤ qmax):  ∂x̂/∂x = 1,  ∂x̂/∂Δ = round(x/Δ) − x/Δ,  ∂x̂/∂z = 0
//   below   (q < qmin):         ∂x̂/∂x = 0,  ∂x̂/∂Δ = qmin − z,          ∂x̂/∂z = −Δ
//   above   (q > qmax):         ∂x̂/∂x = 0,  ∂x̂/∂Δ = qmax − z,          ∂x̂/∂z = −Δ
//
// These are the gradients of LSQ (Esser et al. 2020) and of torch's
// _fake_quantize_learnable_per_{tensor,channel}_affine (checked against torch 1.13 in the tests).
// LSQ multiplies the step-size gradient by g = 1/sqrt(N · Qp), N the number of elements sharing
// one Δ and Qp the largest positive code; EQ-Net uses 2^b in place of Qp (lsq_options).
#pragma once

#include "ladle/core/fp_contract.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/view.hpp"
#include "ladle/quantization/quantize.hpp"
#include "ladle/quantization/spec.hpp"

#include <cmath>
#include <cstdint>

namespace ladle {

/// Clipped straight-through mask: 1 where round(x/Δ) + z lies in [qmin, qmax], else 0.
template <class Policy, class T, std::size_t R>
void ste_mask_into(const Policy& policy, tensor_view<T, R> x, const quant_params& params,
                   tensor_view<std::uint8_t, R> mask);
template <class T, std::size_t R>
void ste_mask_into(tensor_view<T, R> x, const quant_params& params, tensor_view<std::uint8_t, R> mask) {
  ste_mask_into(seq, x, params, mask);
}

/// LSQ's gradient scale 1/sqrt(elements_per_scale · qp).
inline double lsq_grad_scale(index_t elements_per_scale, double qp) {
  if (elements_per_scale <= 0 || !(qp > 0))
    throw_invalid_argument("lsq_grad_scale", "elements_per_scale", "and qp must be positive, got ",
                           elements_per_scale, " and ", qp);
  return 1.0 / std::sqrt(static_cast<double>(elements_per_scale) * qp);
}

struct lsq_options {
  /// Factor applied to grad_scale and grad_zero_point. Negative (the default): LSQ's
  /// 1/sqrt(N · Qp) with N = elements per slot and Qp = qmax (or 2^bits when eqnet_levels).
  double grad_factor = -1.0;
  bool eqnet_levels = false;
};

/// Backward of fake_quantize with learnable Δ and z (nearest-even rounding).
///   grad_x[i]          = grad_out[i] · inside[i]                       (may alias grad_out)
///   grad_scale[s]      = g · Σ_{i in slot s} grad_out[i] · ∂x̂/∂Δ        (params.count() entries)
///   grad_zero_point[s] = g · Σ_{i in slot s} grad_out[i] · ∂x̂/∂z
/// Sums are accumulated in double in element order within a slot, so every policy gives the
/// same bits. grad_x, grad_scale or grad_zero_point may be empty views to skip them.
template <class Policy, class T, class G, class GX, std::size_t R>
void lsq_backward_into(const Policy& policy, tensor_view<T, R> x, tensor_view<G, R> grad_out,
                       const quant_params& params, tensor_view<GX, R> grad_x,
                       vector_view<float> grad_scale, vector_view<float> grad_zero_point,
                       const lsq_options& opts = {});
template <class T, class G, class GX, std::size_t R>
void lsq_backward_into(tensor_view<T, R> x, tensor_view<G, R> grad_out, const quant_params& params,
                       tensor_view<GX, R> grad_x, vector_view<float> grad_scale,
                       vector_view<float> grad_zero_point, const lsq_options& opts = {}) {
  lsq_backward_into(seq, x, grad_out, params, grad_x, grad_scale, grad_zero_point, opts);
}

// ---- implementation -------------------------------------------------------------------------

template <class Policy, class T, std::size_t R>
void ste_mask_into(const Policy& policy, tensor_view<T, R> x, const quant_params& params,
                   tensor_view<std::uint8_t, R> mask) {
  // The mask comes out of the fake-quant kernel; the values go to a scratch tensor.
  tensor<float, R> scratch(x.extents(), uninitialized);
  fake_quantize_into(policy, x, params, scratch.view(), mask);
}

template <class Policy, class T, class G, class GX, std::size_t R>
void lsq_backward_into(const Policy& policy, tensor_view<T, R> x, tensor_view<G, R> grad_out,
                       const quant_params& params, tensor_view<GX, R> grad_x,
                       vector_view<float> grad_scale, vector_view<float> grad_zero_point,
                       const lsq_options& opts) {
  using V = std::remove_const_t<T>;
  using GV = std::remove_const_t<G>;
  static_assert(!std::is_const<GX>::value, "ladle::lsq_backward_into: grad_x must be writable");
  detail::aq::check_input_type<T>();
  detail::aq::check_input_type<G>();
  const char* fn = "lsq_backward";
  detail::aq::check_pair(x, grad_out, fn, "x", "grad_out");
  const bool want_gx = grad_x.data() != nullptr;
  if (want_gx) detail::aq::check_pair(x, grad_x, fn, "x", "grad_x");
  if (want_gx) {
    detail::require_disjoint_or_same(grad_x, "grad_x", grad_out, "grad_out", fn);  // documented
    detail::require_disjoint(grad_x, "grad_x", x, "x", fn);
  }
  for (auto* v : {&grad_scale, &grad_zero_point})
    if (v->data() != nullptr) {
      const char* name = v == &grad_scale ? "grad_scale" : "grad_zero_point";
      detail::require_disjoint(*v, name, x, "x", fn);
      detail::require_disjoint(*v, name, grad_out, "grad_out", fn);
      if (want_gx) detail::require_disjoint(*v, name, grad_x, "grad_x", fn);
    }
  if (grad_scale.data() != nullptr && grad_zero_point.data() != nullptr)
    detail::require_disjoint(grad_scale, "grad_scale", grad_zero_point, "grad_zero_point", fn);
  if (params.spec.rounding != rounding_mode::nearest_even)
    throw_invalid_argument(fn, "params.spec.rounding", "must be nearest_even for LSQ gradients");
  const auto l = detail::make_quant_layout(params.spec, x.extents(), fn);
  detail::check_params(params, l, fn);
  for (auto* v : {&grad_scale, &grad_zero_point})
    if (v->data() != nullptr) {
      detail::require_host(*v, fn, "grad_scale/grad_zero_point");
      detail::require_extent(v->extent(0), l.slots, fn, "grad_scale/grad_zero_point", "size");
    }
  if (want_gx) detail::aq::precheck_in_place(x, grad_x, params.spec, fn);
  if (want_gx && detail::same_memory(grad_x, grad_out) &&
      params.spec.nonfinite == nonfinite_policy::error)
    detail::require_finite(x, fn, "x");  // grad_out is overwritten in place: fail before writing
  if (l.size == 0) {  // nothing to differentiate: zero gradients, no per-scale division by 0
    for (index_t k = 0; k < l.slots; ++k) {
      if (grad_scale.data()) grad_scale(k) = 0.0f;
      if (grad_zero_point.data()) grad_zero_point(k) = 0.0f;
    }
    return;
  }
  const double qp = opts.eqnet_levels ? std::ldexp(1.0, params.spec.bits) : static_cast<double>(params.spec.qmax());
  const double g = opts.grad_factor >= 0.0 ? opts.grad_factor : lsq_grad_scale(l.size / l.slots, qp > 0 ? qp : 1.0);
  const std::vector<detail::aq::slot> slots = detail::aq::make_slots(params);
  const bool divide = params.spec.division == scale_division::divide;
  std::vector<double> ds(static_cast<std::size_t>(l.slots), 0.0), dz(ds);
  std::atomic<bool> bad{false};
  const V* xin = x.data();
  const GV* gin = grad_out.data();
  GX* gx = grad_x.data();
  detail::for_each_slot_segment(policy, l, [&](index_t si, index_t first, index_t len) {
    const detail::aq::slot& s = slots[static_cast<std::size_t>(si)];
    double acc_s = ds[static_cast<std::size_t>(si)], acc_z = dz[static_cast<std::size_t>(si)];
    bool b = false;
    for (index_t i = first; i < first + len; ++i) {
      const float v = detail::aq::sanitize(to_float(xin[i]), b);
      const float t = divide ? v / s.scale : v * s.inv;
      const float r = std::nearbyint(t);
      const double go = static_cast<double>(to_float(gin[i]));
      const bool inside = r >= s.lo && r <= s.hi;
      if (want_gx) gx[i] = from_float<GX>(inside ? static_cast<float>(go) : 0.0f);
      if (inside) {
        acc_s += detail::mul_rounded(go, static_cast<double>(r) - static_cast<double>(t));
      } else {
        acc_s += detail::mul_rounded(go, static_cast<double>(r < s.lo ? s.lo : s.hi));
        acc_z -= detail::mul_rounded(go, static_cast<double>(s.scale));
      }
    }
    ds[static_cast<std::size_t>(si)] = acc_s;
    dz[static_cast<std::size_t>(si)] = acc_z;
    if (b) bad.store(true, std::memory_order_relaxed);
  });
  detail::aq::report_nonfinite(bad.load(), params.spec, fn, xin, l.size);
  for (index_t k = 0; k < l.slots; ++k) {
    if (grad_scale.data()) grad_scale(k) = static_cast<float>(g * ds[static_cast<std::size_t>(k)]);
    if (grad_zero_point.data()) grad_zero_point(k) = static_cast<float>(g * dz[static_cast<std::size_t>(k)]);
  }
}

}  // namespace ladle
