// ladle/averaging/detail/average_impl.hpp: definitions for ladle/averaging/average.hpp.
#pragma once

#include "ladle/averaging/detail/average_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace ladle {

inline dtype averaged_dtype(dtype first, output_dtype o) noexcept {
  switch (o) {
    case output_dtype::float32: return dtype_v<float>;
    case output_dtype::float16: return dtype_v<half>;
    case output_dtype::bfloat16: return dtype_v<bfloat16>;
    case output_dtype::same_as_first: break;
  }
  return first;
}

namespace detail {

/// Validates the options and the weights; returns the weights (uniform when empty).
inline std::vector<double> checked_average_weights(std::size_t k, const std::vector<double>& w,
                                                   const average_options& o, const char* fn) {
  if (k == 0) throw_invalid_argument(fn, "models", "is empty");
  if (o.chunk < 1) throw_invalid_argument(fn, "options.chunk", "must be >= 1, got ", o.chunk);
  if (o.rounding == output_rounding::stochastic && o.output != output_dtype::bfloat16)
    throw_invalid_argument(fn, "options.rounding",
                           "stochastic rounding needs options.output = output_dtype::bfloat16");
  if (w.empty()) return std::vector<double>(k, 1.0);
  if (w.size() != k)
    throw_invalid_argument(fn, "weights", "has ", w.size(), " entries for ", k, " models");
  double sum = 0;
  for (std::size_t i = 0; i < k; ++i) {
    if (!std::isfinite(w[i]) || w[i] < 0)
      throw_domain_error(fn, "weights", "entry ", i, " is ", w[i], "; weights must be finite and >= 0");
    sum += w[i];
  }
  if (!(sum > 0)) throw_domain_error(fn, "weights", "sum to 0; at least one must be positive");
  return w;
}

/// Builds one plan per tensor of models[0] (out pointers/dtypes filled by the caller).
inline std::vector<average_plan> plan_average(const std::vector<state_dict>& models,
                                              const std::vector<double>& w,
                                              const average_options& o, const char* fn) {
  match_state_dicts(models, fn, o.floats);
  std::vector<average_plan> plans;
  plans.reserve(models[0].size());
  for (const auto& t : models[0].tensors()) {
    average_plan p;
    p.name = t.name;
    p.elements = t.elements();
    p.integer = is_integer_dtype(t.type);
    if (p.integer && o.integers == integer_tensors::refuse)
      throw_invalid_argument(fn, "options.integers", "tensor '", t.name, "' of '",
                             models[0].source(), "' has integer dtype ", dtype_name(t.type),
                             " and integer tensors are refused (integer_tensors::refuse)");
    p.out_type = p.integer ? t.type : averaged_dtype(t.type, o.output);
    p.stream = derive_stream(name_hash(t.name), 0);
    if (p.integer) {
      p.inputs.push_back({t.data, t.type, 1.0f});
    } else {
      double prefix = 0, total = 0;
      for (double x : w) total += x;
      for (std::size_t m = 0; m < models.size(); ++m) {
        if (w[m] == 0) continue;
        prefix += w[m];
        const auto& u = models[m].at(t.name);
        const double c = o.accumulation == average_accumulation::running_mean ? w[m] / prefix
                                                                              : w[m] / total;
        p.inputs.push_back({u.data, u.type, static_cast<float>(c)});
      }
    }
    decide_input_read(p);
    plans.push_back(std::move(p));
  }
  return plans;
}

template <class Policy>
void run_average_plans(const Policy& policy, const std::vector<average_plan>& plans,
                       const average_options& o) {
  for (const auto& p : plans) {
    const index_t grain = o.chunk * 64;
    const std::size_t osize = p.out_type.bits / 8u;
    // A float32 output far larger than the caches goes out with streaming stores (no read for
    // ownership of lines the average overwrites whole); smaller ones stay in cache for the caller.
    const bool streamed = LADLE_HAS_SIMD && !p.integer && p.out_type == dtype_v<float> &&
                          static_cast<std::size_t>(p.elements) * 4 >= LADLE_STREAM_MIN_BYTES;
    parallel_for(policy, p.elements, grain, [&](index_t begin, index_t end) {
      if (!average_range_direct(p, begin, end, o, streamed)) {
        average_scratch scratch(o.chunk);
        average_range(p, begin, end, o, scratch,
                      [&](index_t at, const void* bytes, std::size_t n) {
                        unsigned char* dst = static_cast<unsigned char*>(p.out) + static_cast<std::size_t>(at) * osize;
#if LADLE_HAS_SIMD
                        if (streamed) {
                          simd::stream_copy(reinterpret_cast<float*>(dst), static_cast<const float*>(bytes), n / 4);
                          return;
                        }
#endif
                        std::memcpy(dst, bytes, n);
                      });
      }
#if LADLE_HAS_SIMD
      if (streamed) simd::stream_fence();
#endif
    });
  }
}

inline bool byte_ranges_overlap(const void* a, std::size_t an, const void* b, std::size_t bn) noexcept {
  const auto pa = reinterpret_cast<std::uintptr_t>(a), pb = reinterpret_cast<std::uintptr_t>(b);
  return an != 0 && bn != 0 && pa < pb + bn && pb < pa + an;
}

}  // namespace detail

template <class Policy>
owned_state_dict weighted_average(const Policy& policy, const std::vector<state_dict>& models,
                                  const std::vector<double>& weights,
                                  const average_options& options) {
  constexpr const char* fn = "weighted_average";
  const auto w = detail::checked_average_weights(models.size(), weights, options, fn);
  auto plans = detail::plan_average(models, w, options, fn);
  owned_state_dict out("average");
  for (auto& p : plans) {
    const auto& t = models[0].at(p.name);
    p.out = out.add(p.name, p.out_type, t.shape).data;
  }
  detail::run_average_plans(policy, plans, options);
  return out;
}

inline owned_state_dict weighted_average(const std::vector<state_dict>& models,
                                         const std::vector<double>& weights,
                                         const average_options& options) {
  return weighted_average(seq, models, weights, options);
}

inline owned_state_dict uniform_average(const std::vector<state_dict>& models,
                                        const average_options& options) {
  return weighted_average(seq, models, {}, options);
}

template <class Policy>
void weighted_average_into(const Policy& policy, const std::vector<state_dict>& models,
                           const std::vector<double>& weights, const mutable_state_dict& out,
                           const average_options& options) {
  constexpr const char* fn = "weighted_average_into";
  const auto w = detail::checked_average_weights(models.size(), weights, options, fn);
  auto plans = detail::plan_average(models, w, options, fn);
  if (out.size() != plans.size())
    throw_invalid_argument(fn, "out", "'", out.source(), "' has ", out.size(), " tensors, the models ",
                           plans.size());
  for (auto& p : plans) {
    const auto* o = out.find(p.name);
    const auto& t = models[0].at(p.name);
    if (o == nullptr)
      throw_invalid_argument(fn, "out", "'", out.source(), "' has no tensor '", p.name, "'");
    if (o->shape != t.shape)
      throw_invalid_argument(fn, "out", "tensor '", p.name, "': '", out.source(), "' has shape ",
                             shape_string(o->shape), ", model '", models[0].source(), "' has ",
                             shape_string(t.shape));
    if (p.integer ? o->type != t.type : !is_float_dtype(o->type))
      throw_invalid_argument(fn, "out", "tensor '", p.name, "': '", out.source(), "' has dtype ",
                             dtype_name(o->type), ", model '", models[0].source(), "' has ",
                             dtype_name(t.type));
    p.out = o->data;
    p.out_type = o->type;
    for (const auto& m : models) {
      const auto& u = m.at(p.name);
      const bool same = u.data == o->data && u.type == o->type;
      if (!same && detail::byte_ranges_overlap(u.data, u.bytes(), o->data, o->bytes()))
        throw_invalid_argument(fn, "out", "tensor '", p.name, "' of '", out.source(),
                               "' overlaps the same tensor of model '", m.source(),
                               "' (only exact aliasing with the same dtype is allowed)");
    }
  }
  detail::run_average_plans(policy, plans, options);
}

inline void weighted_average_into(const std::vector<state_dict>& models,
                                  const std::vector<double>& weights,
                                  const mutable_state_dict& out, const average_options& options) {
  weighted_average_into(seq, models, weights, out, options);
}

}  // namespace ladle
