// ladle/averaging/detail/merges_impl.hpp: definitions for ladle/averaging/merges.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ladle {

inline bool dare_keeps(ladle::seed s, std::string_view name, std::uint64_t model,
                       std::uint64_t index, double drop_rate) noexcept {
  const philox g(s, derive_stream(detail::name_hash(name), model));
  const float u = u32_to_unit_float(g.block_at(index / 4)[index % 4]);
  return static_cast<double>(u) >= drop_rate;
}

namespace detail {

/// Elements [0, n) of a raw float tensor widened to float32 into out.
inline void widen_all(const named_tensor& t, std::vector<float>& out) {
  out.resize(static_cast<std::size_t>(t.elements()));
  const average_input in{t.data, t.type, 1.0f};
  const index_t n = t.elements();
  constexpr index_t step = 1 << 16;
  for (index_t at = 0; at < n; at += step) {
    const index_t m = std::min(step, n - at);
    const float* p = load_floats(in, at, m, out.data() + at);
    if (p != out.data() + at) std::memcpy(out.data() + at, p, static_cast<std::size_t>(m) * 4);
  }
}

/// Stores float32 values into an output tensor of any float dtype (nearest even).
inline void store_all(const std::vector<float>& v, const mutable_named_tensor& out) {
  const index_t n = static_cast<index_t>(v.size());
  if (out.type == dtype_v<float>) std::memcpy(out.data, v.data(), v.size() * 4);
  else if (out.type == dtype_v<bfloat16>) convert_n(v.data(), static_cast<bfloat16*>(out.data), n);
  else if (out.type == dtype_v<half>) convert_n(v.data(), static_cast<half*>(out.data), n);
  else convert_n(v.data(), static_cast<double*>(out.data), n);
}

/// Sets up the output dict: float tensors get `output`'s dtype, integer ones are copied from
/// first (or refused). Calls body(index, out tensor) for each float tensor.
template <class Body>
owned_state_dict for_each_float_tensor(const state_dict& first, integer_tensors integers,
                                       output_dtype output, const char* fn, Body&& body) {
  owned_state_dict out("merge");
  for (const auto& t : first.tensors()) {
    if (is_integer_dtype(t.type)) {
      if (integers == integer_tensors::refuse)
        throw_invalid_argument(fn, "options.integers", "tensor '", t.name, "' of '", first.source(),
                               "' has integer dtype ", dtype_name(t.type),
                               " and integer tensors are refused (integer_tensors::refuse)");
    }
  }
  for (const auto& t : first.tensors()) {
    const dtype type = is_integer_dtype(t.type) ? t.type : averaged_dtype(t.type, output);
    const auto& o = out.add(t.name, type, t.shape);
    if (is_integer_dtype(t.type)) {
      if (t.bytes()) std::memcpy(o.data, t.data, t.bytes());
    } else {
      body(t, o);
    }
  }
  return out;
}

inline float sign_of(double x) noexcept { return x > 0 ? 1.0f : x < 0 ? -1.0f : 0.0f; }

}  // namespace detail

inline owned_state_dict merge_task_vectors(const state_dict& base,
                                           const std::vector<state_dict>& models,
                                           const merge_options& o) {
  constexpr const char* fn = "merge_task_vectors";
  if (models.empty()) throw_invalid_argument(fn, "models", "is empty");
  const std::size_t k = models.size();
  std::vector<double> w = o.weights.empty() ? std::vector<double>(k, 1.0) : o.weights;
  if (w.size() != k)
    throw_invalid_argument(fn, "options.weights", "has ", w.size(), " entries for ", k, " models");
  for (std::size_t i = 0; i < k; ++i)
    if (!std::isfinite(w[i]))
      throw_domain_error(fn, "options.weights", "entry ", i, " is ", w[i]);
  if (!std::isfinite(o.lambda)) throw_domain_error(fn, "options.lambda", "is ", o.lambda);
  const bool ties = o.method == merge_method::ties || o.method == merge_method::dare_ties;
  const bool dare = o.method == merge_method::dare_linear || o.method == merge_method::dare_ties;
  if (o.method == merge_method::ties && !(o.density > 0 && o.density <= 1))
    throw_invalid_argument(fn, "options.density", "must be in (0, 1], got ", o.density);
  if (dare && !(o.drop_rate >= 0 && o.drop_rate < 1))
    throw_invalid_argument(fn, "options.drop_rate", "must be in [0, 1), got ", o.drop_rate);
  std::vector<state_dict> all;
  all.reserve(k + 1);
  all.push_back(base);
  for (const auto& m : models) all.push_back(m);
  match_state_dicts(all, fn, float_dtypes::may_differ);

  std::vector<float> b, x, result, mag;
  std::vector<std::vector<float>> taus(k);
  return detail::for_each_float_tensor(
      base, o.integers, o.output, fn, [&](const named_tensor& t, const mutable_named_tensor& out) {
        const index_t n = t.elements();
        detail::widen_all(t, b);
        for (std::size_t m = 0; m < k; ++m) {
          detail::widen_all(models[m].at(t.name), x);
          auto& tau = taus[m];
          tau.resize(static_cast<std::size_t>(n));
          for (index_t i = 0; i < n; ++i) tau[i] = x[i] - b[i];
          if (dare) {
            const float q = static_cast<float>(1.0 - o.drop_rate);
            for (index_t i = 0; i < n; ++i)
              tau[i] = dare_keeps(o.seed, t.name, m, static_cast<std::uint64_t>(i), o.drop_rate)
                           ? tau[i] / q : 0.0f;
          }
          if (o.method == merge_method::ties && o.density < 1) {
            const auto keep = static_cast<index_t>(std::floor(o.density * static_cast<double>(n)));
            if (keep == 0) {
              std::fill(tau.begin(), tau.end(), 0.0f);
            } else {
              mag.resize(static_cast<std::size_t>(n));
              for (index_t i = 0; i < n; ++i) mag[i] = std::fabs(tau[i]);
              std::nth_element(mag.begin(), mag.begin() + (n - keep), mag.end());
              const float thr = mag[static_cast<std::size_t>(n - keep)];
              index_t above = 0;
              for (index_t i = 0; i < n; ++i) above += std::fabs(tau[i]) > thr;
              index_t ties_left = keep - above;  // kept at the threshold, lowest index first
              for (index_t i = 0; i < n; ++i) {
                const float a = std::fabs(tau[i]);
                if (a > thr) continue;
                if (a == thr && ties_left > 0) {
                  --ties_left;
                  continue;
                }
                tau[i] = 0.0f;
              }
            }
          }
        }
        result.resize(static_cast<std::size_t>(n));
        for (index_t i = 0; i < n; ++i) {
          double merged = 0;
          if (!ties) {
            for (std::size_t m = 0; m < k; ++m) merged = std::fma(w[m], double(taus[m][i]), merged);
          } else {
            double mass = 0;
            for (std::size_t m = 0; m < k; ++m) mass = std::fma(w[m], double(taus[m][i]), mass);
            const float gamma = detail::sign_of(mass);
            double num = 0, den = 0;
            for (std::size_t m = 0; m < k; ++m) {
              const float v = taus[m][i];
              if (v != 0.0f && detail::sign_of(v) == gamma) {
                num = std::fma(w[m], double(v), num);
                den += w[m];
              }
            }
            merged = den != 0 ? num / den : 0.0;
          }
          result[i] = static_cast<float>(std::fma(o.lambda, merged, double(b[i])));
        }
        detail::store_all(result, out);
      });
}

inline owned_state_dict slerp(const state_dict& a, const state_dict& b, double t,
                              const slerp_options& o) {
  constexpr const char* fn = "slerp";
  if (!(t >= 0 && t <= 1)) throw_invalid_argument(fn, "t", "must be in [0, 1], got ", t);
  match_state_dicts({a, b}, fn, float_dtypes::may_differ);
  std::vector<float> va, vb, result;
  return detail::for_each_float_tensor(
      a, o.integers, o.output, fn, [&](const named_tensor& ta, const mutable_named_tensor& out) {
        detail::widen_all(ta, va);
        detail::widen_all(b.at(ta.name), vb);
        const std::size_t n = va.size();
        double dot = 0, na = 0, nb = 0;
        for (std::size_t i = 0; i < n; ++i) {
          dot = std::fma(double(va[i]), double(vb[i]), dot);
          na = std::fma(double(va[i]), double(va[i]), na);
          nb = std::fma(double(vb[i]), double(vb[i]), nb);
        }
        double s0 = 1 - t, s1 = t;
        if (na > 0 && nb > 0) {
          const double c = dot / (std::sqrt(na) * std::sqrt(nb));
          if (std::fabs(c) <= o.dot_threshold) {
            const double omega = std::acos(c), so = std::sin(omega);
            s0 = std::sin((1 - t) * omega) / so;
            s1 = std::sin(t * omega) / so;
          }
        }
        result.resize(n);
        for (std::size_t i = 0; i < n; ++i)
          result[i] = static_cast<float>(std::fma(s1, double(vb[i]), std::fma(s0, double(va[i]), 0.0)));
        detail::store_all(result, out);
      });
}

inline owned_state_dict wise_ft(const state_dict& zero_shot, const state_dict& fine_tuned,
                                double alpha, const average_options& options) {
  if (!(alpha >= 0 && alpha <= 1))
    throw_invalid_argument("wise_ft", "alpha", "must be in [0, 1], got ", alpha);
  return weighted_average({zero_shot, fine_tuned}, {1 - alpha, alpha}, options);
}

inline barrier_result interpolation_barrier(const state_dict& a, const state_dict& b,
                                            const std::function<double(const state_dict&)>& evaluate,
                                            std::size_t points) {
  constexpr const char* fn = "interpolation_barrier";
  if (points < 2) throw_invalid_argument(fn, "points", "must be >= 2, got ", points);
  if (!evaluate) throw_invalid_argument(fn, "evaluate", "is empty");
  barrier_result r;
  average_options o;
  o.output = output_dtype::float32;
  o.floats = float_dtypes::may_differ;
  for (std::size_t i = 0; i < points; ++i) {
    const double lambda = static_cast<double>(i) / static_cast<double>(points - 1);
    const owned_state_dict theta = wise_ft(a, b, lambda, o);
    r.lambdas.push_back(lambda);
    r.losses.push_back(evaluate(theta.view()));
  }
  const double l0 = r.losses.front(), l1 = r.losses.back();
  r.barrier = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < points; ++i) {
    const double gap = r.losses[i] - ((1 - r.lambdas[i]) * l0 + r.lambdas[i] * l1);
    if (gap > r.barrier) {
      r.barrier = gap;
      r.worst = i;
    }
  }
  return r;
}

}  // namespace ladle
