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

/// Elements [at, at + n) of a raw float tensor widened to float32 into out[0, n).
inline void widen_range(const named_tensor& t, index_t at, index_t n, float* out) {
  const average_input in{t.data, t.type, 1.0f};
  const float* p = load_floats(in, at, n, out);
  if (p != out) std::memcpy(out, p, static_cast<std::size_t>(n) * 4);
}

/// Elements [0, n) of a raw float tensor widened to float32 into out.
inline void widen_all(const named_tensor& t, std::vector<float>& out) {
  out.resize(static_cast<std::size_t>(t.elements()));
  const index_t n = t.elements();
  constexpr index_t step = 1 << 16;
  for (index_t at = 0; at < n; at += step) widen_range(t, at, std::min(step, n - at), out.data() + at);
}

/// Stores n float32 values as dtype `type` (any float dtype; nearest even) at out.
inline void store_n(const float* v, index_t n, dtype type, void* out) {
  if (n == 0) return;  // an empty tensor may have no storage at all (memcpy needs non-null)
  if (type == dtype_v<float>) std::memcpy(out, v, static_cast<std::size_t>(n) * 4);
  else if (type == dtype_v<bfloat16>) convert_n(v, static_cast<bfloat16*>(out), n);
  else if (type == dtype_v<half>) convert_n(v, static_cast<half*>(out), n);
  else convert_n(v, static_cast<double*>(out), n);
}

/// Stores float32 values into an output tensor of any float dtype (nearest even).
inline void store_all(const std::vector<float>& v, const mutable_named_tensor& out) {
  store_n(v.data(), static_cast<index_t>(v.size()), out.type, out.data);
}

inline void check_integer_tensors(const state_dict& first, integer_tensors integers, const char* fn) {
  if (integers != integer_tensors::refuse) return;
  for (const auto& t : first.tensors())
    if (is_integer_dtype(t.type))
      throw_invalid_argument(fn, "options.integers", "tensor '", t.name, "' of '", first.source(),
                             "' has integer dtype ", dtype_name(t.type),
                             " and integer tensors are refused (integer_tensors::refuse)");
}

/// Sets up the output dict: float tensors get `output`'s dtype, integer ones are copied from
/// first (or refused). Calls body(index, out tensor) for each float tensor.
template <class Body>
owned_state_dict for_each_float_tensor(const state_dict& first, integer_tensors integers,
                                       output_dtype output, const char* fn, Body&& body) {
  check_integer_tensors(first, integers, fn);
  owned_state_dict out("merge");
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

/// Validates merge options for k models; returns the weights (empty: 1 each).
inline std::vector<double> checked_merge_weights(std::size_t k, const merge_options& o, const char* fn) {
  if (k == 0) throw_invalid_argument(fn, "models", "is empty");
  std::vector<double> w = o.weights.empty() ? std::vector<double>(k, 1.0) : o.weights;
  if (w.size() != k)
    throw_invalid_argument(fn, "options.weights", "has ", w.size(), " entries for ", k, " models");
  for (std::size_t i = 0; i < k; ++i)
    if (!std::isfinite(w[i]))
      throw_domain_error(fn, "options.weights", "entry ", i, " is ", w[i]);
  if (!std::isfinite(o.lambda)) throw_domain_error(fn, "options.lambda", "is ", o.lambda);
  const bool dare = o.method == merge_method::dare_linear || o.method == merge_method::dare_ties;
  if (o.method == merge_method::ties && !(o.density > 0 && o.density <= 1))
    throw_invalid_argument(fn, "options.density", "must be in (0, 1], got ", o.density);
  if (dare && !(o.drop_rate >= 0 && o.drop_rate < 1))
    throw_invalid_argument(fn, "options.drop_rate", "must be in [0, 1), got ", o.drop_rate);
  return w;
}

/// tau[i] = x[i] - b[i] for elements [at, at + n) of model m's tensor `name`, DARE-dropped.
inline void task_values(const float* b, const float* x, index_t at, index_t n, std::size_t m,
                        std::string_view name, const merge_options& o, float* tau) {
  for (index_t i = 0; i < n; ++i) tau[i] = x[i] - b[i];
  if (o.method == merge_method::dare_linear || o.method == merge_method::dare_ties) {
    const float q = static_cast<float>(1.0 - o.drop_rate);
    for (index_t i = 0; i < n; ++i)
      tau[i] = dare_keeps(o.seed, name, m, static_cast<std::uint64_t>(at + i), o.drop_rate)
                   ? tau[i] / q : 0.0f;
  }
}

/// TIES trim of tau[0, n): keeps |tau| > thr and the first `ties_left` values equal to thr.
inline void trim_values(float* tau, index_t n, float thr, index_t& ties_left) {
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

/// The merged (unscaled) task value of element i: weighted sum, or TIES election + disjoint mean.
inline double combine_task_values(const std::vector<double>& w,
                                  const std::vector<std::vector<float>>& taus, std::size_t i,
                                  bool ties) {
  const std::size_t k = w.size();
  double merged = 0;
  if (!ties) {
    for (std::size_t m = 0; m < k; ++m) merged = std::fma(w[m], double(taus[m][i]), merged);
    return merged;
  }
  double mass = 0;
  for (std::size_t m = 0; m < k; ++m) mass = std::fma(w[m], double(taus[m][i]), mass);
  const float gamma = sign_of(mass);
  double num = 0, den = 0;
  for (std::size_t m = 0; m < k; ++m) {
    const float v = taus[m][i];
    if (v != 0.0f && sign_of(v) == gamma) {
      num = std::fma(w[m], double(v), num);
      den += w[m];
    }
  }
  return den != 0 ? num / den : 0.0;
}

/// Running sums of the SLERP angle over elements in order.
struct slerp_sums {
  double dot = 0, na = 0, nb = 0;
  void add(const float* a, const float* b, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
      dot = std::fma(double(a[i]), double(b[i]), dot);
      na = std::fma(double(a[i]), double(a[i]), na);
      nb = std::fma(double(b[i]), double(b[i]), nb);
    }
  }
  /// The coefficients (s0, s1) of a and b.
  std::pair<double, double> coefficients(double t, double dot_threshold) const {
    double s0 = 1 - t, s1 = t;
    if (na > 0 && nb > 0) {
      const double c = dot / (std::sqrt(na) * std::sqrt(nb));
      if (std::fabs(c) <= dot_threshold) {
        const double omega = std::acos(c), so = std::sin(omega);
        s0 = std::sin((1 - t) * omega) / so;
        s1 = std::sin(t * omega) / so;
      }
    }
    return {s0, s1};
  }
};

inline void slerp_mix(const float* a, const float* b, std::size_t n, double s0, double s1, float* out) {
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<float>(std::fma(s1, double(b[i]), std::fma(s0, double(a[i]), 0.0)));
}

}  // namespace detail

inline dtype merged_dtype(dtype in, output_dtype output) noexcept {
  return is_integer_dtype(in) ? in : averaged_dtype(in, output);
}

inline owned_state_dict merge_task_vectors(const state_dict& base,
                                           const std::vector<state_dict>& models,
                                           const merge_options& o) {
  constexpr const char* fn = "merge_task_vectors";
  const std::vector<double> w = detail::checked_merge_weights(models.size(), o, fn);
  const std::size_t k = models.size();
  const bool ties = o.method == merge_method::ties || o.method == merge_method::dare_ties;
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
          detail::task_values(b.data(), x.data(), 0, n, m, t.name, o, tau.data());
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
              detail::trim_values(tau.data(), n, thr, ties_left);
            }
          }
        }
        result.resize(static_cast<std::size_t>(n));
        for (index_t i = 0; i < n; ++i)
          result[i] = static_cast<float>(
              std::fma(o.lambda, detail::combine_task_values(w, taus, static_cast<std::size_t>(i), ties),
                       double(b[i])));
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
        detail::slerp_sums sums;
        sums.add(va.data(), vb.data(), n);
        const auto [s0, s1] = sums.coefficients(t, o.dot_threshold);
        result.resize(n);
        detail::slerp_mix(va.data(), vb.data(), n, s0, s1, result.data());
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
