// ladle/averaging/detail/running_impl.hpp: definitions for ladle/averaging/running.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

namespace ladle {

inline double ema_decay(const ema_options& o, std::int64_t step) {
  constexpr const char* fn = "ema_decay";
  if (!(o.decay >= 0 && o.decay <= 1))
    throw_invalid_argument(fn, "options.decay", "must be in [0, 1], got ", o.decay);
  if (!(o.min_decay >= 0 && o.min_decay <= 1))
    throw_invalid_argument(fn, "options.min_decay", "must be in [0, 1], got ", o.min_decay);
  if (o.warmup == ema_warmup::timm && !(o.warmup_gamma > 0 && o.warmup_power > 0))
    throw_invalid_argument(fn, "options.warmup_gamma", "gamma and power must be positive, got ",
                           o.warmup_gamma, " and ", o.warmup_power);
  if (step < 0) throw_invalid_argument(fn, "step", "must be >= 0, got ", step);
  switch (o.warmup) {
    case ema_warmup::none:
      return step < o.update_after_step ? 0.0 : o.decay;
    case ema_warmup::tf:
      if (step < o.update_after_step) return 0.0;
      return std::min(o.decay, (1.0 + double(step)) / (10.0 + double(step)));
    case ema_warmup::timm: {
      const double s = std::max<double>(0.0, double(step) - double(o.update_after_step) - 1.0);
      if (s <= 0) return 0.0;
      const double d = 1.0 - std::pow(1.0 + s / o.warmup_gamma, -o.warmup_power);
      return std::max(std::min(d, o.decay), o.min_decay);
    }
  }
  return o.decay;
}

inline bool ema_updates_at(const ema_options& o, std::int64_t step) {
  if (o.update_every < 1)
    throw_invalid_argument("ema_updates_at", "options.update_every", "must be >= 1, got ",
                           o.update_every);
  return step % o.update_every == 0;
}

namespace detail {

/// a <- a + c (x - a), skipped where x == a.
LADLE_FORCE_INLINE void lerp_floats(float* LADLE_RESTRICT a, const float* LADLE_RESTRICT x, float c,
                                    index_t n) noexcept {
  if (c == 1.0f) {  // a copy (a + (x - a) need not round to x)
    std::memcpy(a, x, static_cast<std::size_t>(n) * sizeof(float));
    return;
  }
  running_mean_step(a, x, c, n);
}

template <class A, class X>
void lerp_contiguous(A* avg, const X* x, index_t n, float c) {
  if constexpr (std::is_same<A, X>::value) {
    if (c == 1.0f) {
      if (n > 0) std::memcpy(static_cast<void*>(avg), x, static_cast<std::size_t>(n) * sizeof(A));
      return;
    }
  }
  if constexpr (std::is_same<A, float>::value && std::is_same<X, float>::value) {
    constexpr index_t block = 256;
    index_t i = 0;
    for (; i + block <= n; i += block) lerp_floats(avg + i, x + i, c, block);
    lerp_floats(avg + i, x + i, c, n - i);
  } else {
    constexpr index_t block = 256;
    float a[block], b[block];
    for (index_t i = 0; i < n; i += block) {
      const index_t m = std::min(block, n - i);
      if constexpr (std::is_same<X, double>::value) {
        for (index_t j = 0; j < m; ++j) b[j] = static_cast<float>(x[i + j]);
      } else {
        convert_n(x + i, b, m);
      }
      if constexpr (std::is_same<A, double>::value) {
        for (index_t j = 0; j < m; ++j) a[j] = static_cast<float>(avg[i + j]);
      } else {
        convert_n(avg + i, a, m);
      }
      lerp_floats(a, b, c, m);
      convert_n(a, avg + i, m);
    }
  }
}

inline void check_coefficient(double c, const char* fn) {
  if (!(c >= 0 && c <= 1)) throw_invalid_argument(fn, "c", "must be in [0, 1], got ", c);
}

template <class A, class X>
void lerp_raw(void* avg, dtype at, const void* x, dtype xt, index_t n, float c) {
  auto with_x = [&](auto* a) {
    if (xt == dtype_v<float>) lerp_contiguous(a, static_cast<const float*>(x), n, c);
    else if (xt == dtype_v<double>) lerp_contiguous(a, static_cast<const double*>(x), n, c);
    else if (xt == dtype_v<half>) lerp_contiguous(a, static_cast<const half*>(x), n, c);
    else lerp_contiguous(a, static_cast<const bfloat16*>(x), n, c);
  };
  if (at == dtype_v<float>) with_x(static_cast<float*>(avg));
  else if (at == dtype_v<double>) with_x(static_cast<double*>(avg));
  else if (at == dtype_v<half>) with_x(static_cast<half*>(avg));
  else with_x(static_cast<bfloat16*>(avg));
}

inline void lerp_dicts(const mutable_state_dict& avg, const state_dict& x, double c,
                       const char* fn) {
  check_coefficient(c, fn);
  match_state_dicts({state_dict(avg), x}, fn, float_dtypes::may_differ);
  for (const auto& t : avg.tensors()) {  // validate everything before writing anything
    const auto& u = x.at(t.name);
    const auto* a = static_cast<const unsigned char*>(t.data);
    const auto* b = static_cast<const unsigned char*>(u.data);
    if (a != b && a < b + u.bytes() && b < a + t.bytes())
      throw_invalid_argument(fn, "avg", "tensor '", t.name, "' of '", avg.source(),
                             "' overlaps the same tensor of '", x.source(), "'");
    if (reinterpret_cast<std::uintptr_t>(a) % (t.type.bits / 8) != 0 ||
        reinterpret_cast<std::uintptr_t>(b) % (u.type.bits / 8) != 0)
      throw_invalid_argument(fn, "avg", "tensor '", t.name, "' is not aligned for its dtype");
  }
  for (const auto& t : avg.tensors()) {
    const auto& u = x.at(t.name);
    if (is_integer_dtype(t.type)) {
      if (t.data != u.data) std::memcpy(t.data, u.data, t.bytes());
      continue;
    }
    lerp_raw<void, void>(t.data, t.type, u.data, u.type, t.elements(), static_cast<float>(c));
  }
}

}  // namespace detail

template <class A, class X, std::size_t R>
void lerp_update(tensor_view<A, R> avg, tensor_view<X, R> x, double c) {
  constexpr const char* fn = "lerp_update";
  static_assert(!std::is_const<A>::value, "ladle::lerp_update: avg must be writable");
  static_assert(is_float_like_v<std::remove_cv_t<A>> && is_float_like_v<std::remove_cv_t<X>>,
                "ladle::lerp_update: float, double, half or bfloat16 elements");
  detail::check_coefficient(c, fn);
  detail::require_host(avg, fn, "avg");
  detail::require_host(x, fn, "x");
  for (std::size_t r = 0; r < R; ++r) detail::require_extent(avg.extent(r), x.extent(r), fn, "avg", "extent");
  if (!avg.is_contiguous() || !x.is_contiguous())
    throw_invalid_argument(fn, avg.is_contiguous() ? "x" : "avg", "must be contiguous");
  detail::require_disjoint_or_same(avg, "avg", x, "x", fn);
  detail::lerp_contiguous(avg.data(), static_cast<const std::remove_cv_t<X>*>(x.data()), avg.size(),
                          static_cast<float>(c));
}

inline void lerp_update(const mutable_state_dict& avg, const state_dict& x, double c) {
  detail::lerp_dicts(avg, x, c, "lerp_update");
}

template <class A, class X, std::size_t R>
void ema_update(tensor_view<A, R> avg, tensor_view<X, R> x, const ema_options& options,
                std::int64_t step) {
  if (!ema_updates_at(options, step)) return;
  lerp_update(avg, x, 1.0 - ema_decay(options, step));
}

inline void ema_update(const mutable_state_dict& avg, const state_dict& x,
                       const ema_options& options, std::int64_t step) {
  if (!ema_updates_at(options, step)) return;
  detail::lerp_dicts(avg, x, 1.0 - ema_decay(options, step), "ema_update");
}

inline double running_mean::add(double w) {
  if (!(w > 0) || !std::isfinite(w))
    throw_invalid_argument("running_mean::add", "w", "must be positive and finite, got ", w);
  weight_ += w;
  return w / weight_;
}

inline void running_mean::update(const mutable_state_dict& avg, const state_dict& x, double w) {
  const double before = weight_;
  const double c = add(w);
#if LADLE_HAS_EXCEPTIONS
  try {
    detail::lerp_dicts(avg, x, c, "running_mean::update");
  } catch (...) {
    weight_ = before;
    throw;
  }
#else
  detail::lerp_dicts(avg, x, c, "running_mean::update");
  (void)before;
#endif
}

inline double running_mean::merge(const running_mean& other) {
  if (other.weight_ == 0) return 0.0;
  weight_ += other.weight_;
  return other.weight_ / weight_;
}

inline void running_mean::merge(const running_mean& other, const mutable_state_dict& avg,
                                const state_dict& other_avg) {
  const double before = weight_;
  const double c = merge(other);
#if LADLE_HAS_EXCEPTIONS
  try {
    detail::lerp_dicts(avg, other_avg, c, "running_mean::merge");
  } catch (...) {
    weight_ = before;
    throw;
  }
#else
  detail::lerp_dicts(avg, other_avg, c, "running_mean::merge");
  (void)before;
#endif
}

}  // namespace ladle
