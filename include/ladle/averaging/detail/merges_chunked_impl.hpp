// ladle/averaging/detail/merges_chunked_impl.hpp: the chunked forms of ladle/averaging/merges.hpp
// (merge_task_vectors_chunked, slerp_chunked), sharing the element arithmetic of merges_impl.hpp.
#pragma once

#include <array>
#include <cstring>

namespace ladle {

namespace detail {

inline void check_chunking(const chunked_merge_options& c, const char* fn) {
  if (c.chunk < 1) throw_invalid_argument(fn, "chunking.chunk", "must be >= 1, got ", c.chunk);
}

/// Streams an integer tensor's bytes to the sink, chunk by chunk.
inline void copy_integer_tensor(const named_tensor& t, const merge_sink& sink,
                                const chunked_merge_options& c) {
  const std::size_t es = t.type.bits / 8u;
  const auto* p = static_cast<const unsigned char*>(t.data);
  const index_t n = t.elements();
  for (index_t at = 0; at < n; at += c.chunk) {
    const index_t len = std::min(c.chunk, n - at);
    sink(t.name, p + static_cast<std::size_t>(at) * es, static_cast<std::size_t>(len) * es);
    if (c.consumed) c.consumed(t.name, at, at + len);
  }
  if (n == 0) sink(t.name, p, 0);
}

/// The bits of |x| (sign cleared): ordered as the values are, for every non-NaN x.
inline std::uint32_t magnitude_bits(float x) noexcept {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  return u & 0x7fffffffu;
}

/// Exact TIES thresholds, one per model: the value of rank n - keep (ascending, 0-based) among
/// the |tau| of the whole tensor, by a radix select on the high then the low 16 bits of the
/// magnitude bits; and how many values lie strictly above it.
struct ties_threshold {
  static constexpr std::size_t high_buckets = std::size_t(1) << 15;  // the sign bit is clear
  static constexpr std::size_t low_buckets = std::size_t(1) << 16;
  index_t* high = nullptr;         // histograms (the caller's storage, zeroed before pass 1)
  index_t* low = nullptr;
  index_t rank = 0;                // rank still sought within the current bucket
  std::uint32_t bucket = 0;        // high 16 bits of the threshold (after pass 1)
  index_t at_or_below = 0;         // values in buckets below `bucket`
  float threshold = 0;
  index_t above = 0;

  void pass1(const float* tau, index_t n) {
    for (index_t i = 0; i < n; ++i) ++high[magnitude_bits(tau[i]) >> 16];
  }
  void end_pass1(index_t r) {
    rank = r;
    index_t below = 0;
    std::uint32_t b = 0;
    while (below + high[b] <= rank) below += high[b++];
    bucket = b;
    at_or_below = below;
    rank -= below;
  }
  void pass2(const float* tau, index_t n) {
    for (index_t i = 0; i < n; ++i) {
      const std::uint32_t u = magnitude_bits(tau[i]);
      if ((u >> 16) == bucket) ++low[u & 0xffffu];
    }
  }
  void end_pass2(index_t n) {
    index_t below = 0;
    std::uint32_t l = 0;
    while (below + low[l] <= rank) below += low[l++];
    const std::uint32_t bits = (bucket << 16) | l;
    std::memcpy(&threshold, &bits, 4);
    above = n - (at_or_below + below + low[l]);
  }
};

}  // namespace detail

inline void merge_task_vectors_chunked(const state_dict& base, const std::vector<state_dict>& models,
                                       const merge_options& o, const merge_sink& sink,
                                       const chunked_merge_options& c) {
  constexpr const char* fn = "merge_task_vectors_chunked";
  const std::vector<double> w = detail::checked_merge_weights(models.size(), o, fn);
  detail::check_chunking(c, fn);
  if (!sink) throw_invalid_argument(fn, "sink", "is empty");
  const std::size_t k = models.size();
  const bool ties = o.method == merge_method::ties || o.method == merge_method::dare_ties;
  const bool trim = o.method == merge_method::ties && o.density < 1;
  std::vector<state_dict> all;
  all.reserve(k + 1);
  all.push_back(base);
  for (const auto& m : models) all.push_back(m);
  match_state_dicts(all, fn, float_dtypes::may_differ);
  detail::check_integer_tensors(base, o.integers, fn);

  index_t longest = 0;
  for (const auto& t : base.tensors()) longest = std::max(longest, t.elements());
  const auto cap = static_cast<std::size_t>(std::min(c.chunk, std::max<index_t>(longest, 1)));
  std::vector<float> b(cap), x(cap), result(cap);
  std::vector<std::vector<float>> taus(k, std::vector<float>(cap));
  std::vector<unsigned char> bytes;
  using select = detail::ties_threshold;
  constexpr std::size_t buckets = select::high_buckets + select::low_buckets;
  std::vector<index_t> histograms(trim ? k * buckets : 0);
  std::vector<select> thr(trim ? k : 0);
  for (std::size_t m = 0; m < thr.size(); ++m) {
    thr[m].high = histograms.data() + m * buckets;
    thr[m].low = thr[m].high + select::high_buckets;
  }

  for (const auto& t : base.tensors()) {
    if (is_integer_dtype(t.type)) {
      detail::copy_integer_tensor(t, sink, c);
      continue;
    }
    const index_t n = t.elements();
    const dtype out_type = merged_dtype(t.type, o.output);
    // One pass over the tensor: body(at, len) sees taus[m][0, len) for elements [at, at + len).
    const auto pass = [&](auto&& body) {
      for (index_t at = 0; at < n; at += c.chunk) {
        const index_t len = std::min(c.chunk, n - at);
        detail::widen_range(t, at, len, b.data());
        for (std::size_t m = 0; m < k; ++m) {
          detail::widen_range(models[m].at(t.name), at, len, x.data());
          detail::task_values(b.data(), x.data(), at, len, m, t.name, o, taus[m].data());
        }
        body(at, len);
        if (c.consumed) c.consumed(t.name, at, at + len);
      }
    };
    const auto keep = static_cast<index_t>(std::floor(o.density * static_cast<double>(n)));
    std::vector<index_t> ties_left(k, 0);
    if (trim && keep > 0) {
      std::fill(histograms.begin(), histograms.end(), 0);
      pass([&](index_t, index_t len) {
        for (std::size_t m = 0; m < k; ++m) thr[m].pass1(taus[m].data(), len);
      });
      for (auto& s : thr) s.end_pass1(n - keep);
      pass([&](index_t, index_t len) {
        for (std::size_t m = 0; m < k; ++m) thr[m].pass2(taus[m].data(), len);
      });
      for (std::size_t m = 0; m < k; ++m) {
        thr[m].end_pass2(n);
        ties_left[m] = keep - thr[m].above;
      }
    }
    bytes.resize(cap * (out_type.bits / 8u));
    pass([&](index_t, index_t len) {
      if (trim) {
        for (std::size_t m = 0; m < k; ++m) {
          if (keep == 0) std::fill(taus[m].begin(), taus[m].begin() + len, 0.0f);
          else detail::trim_values(taus[m].data(), len, thr[m].threshold, ties_left[m]);
        }
      }
      for (index_t i = 0; i < len; ++i)
        result[static_cast<std::size_t>(i)] = static_cast<float>(std::fma(
            o.lambda, detail::combine_task_values(w, taus, static_cast<std::size_t>(i), ties),
            double(b[static_cast<std::size_t>(i)])));
      detail::store_n(result.data(), len, out_type, bytes.data());
      sink(t.name, bytes.data(), static_cast<std::size_t>(len) * (out_type.bits / 8u));
    });
    if (n == 0) sink(t.name, bytes.data(), 0);
  }
}

inline void slerp_chunked(const state_dict& a, const state_dict& b, double t, const slerp_options& o,
                          const merge_sink& sink, const chunked_merge_options& c) {
  constexpr const char* fn = "slerp_chunked";
  if (!(t >= 0 && t <= 1)) throw_invalid_argument(fn, "t", "must be in [0, 1], got ", t);
  detail::check_chunking(c, fn);
  if (!sink) throw_invalid_argument(fn, "sink", "is empty");
  match_state_dicts({a, b}, fn, float_dtypes::may_differ);
  detail::check_integer_tensors(a, o.integers, fn);
  index_t longest = 0;
  for (const auto& ta : a.tensors()) longest = std::max(longest, ta.elements());
  const auto cap = static_cast<std::size_t>(std::min(c.chunk, std::max<index_t>(longest, 1)));
  std::vector<float> va(cap), vb(cap), result(cap);
  std::vector<unsigned char> bytes;
  for (const auto& ta : a.tensors()) {
    if (is_integer_dtype(ta.type)) {
      detail::copy_integer_tensor(ta, sink, c);
      continue;
    }
    const named_tensor& tb = b.at(ta.name);
    const index_t n = ta.elements();
    const dtype out_type = merged_dtype(ta.type, o.output);
    const auto pass = [&](auto&& body) {
      for (index_t at = 0; at < n; at += c.chunk) {
        const index_t len = std::min(c.chunk, n - at);
        detail::widen_range(ta, at, len, va.data());
        detail::widen_range(tb, at, len, vb.data());
        body(static_cast<std::size_t>(len));
        if (c.consumed) c.consumed(ta.name, at, at + len);
      }
    };
    detail::slerp_sums sums;
    pass([&](std::size_t len) { sums.add(va.data(), vb.data(), len); });
    const auto [s0, s1] = sums.coefficients(t, o.dot_threshold);
    bytes.resize(cap * (out_type.bits / 8u));
    pass([&, s0 = s0, s1 = s1](std::size_t len) {
      detail::slerp_mix(va.data(), vb.data(), len, s0, s1, result.data());
      detail::store_n(result.data(), static_cast<index_t>(len), out_type, bytes.data());
      sink(ta.name, bytes.data(), len * (out_type.bits / 8u));
    });
    if (n == 0) sink(ta.name, bytes.data(), 0);
  }
}

}  // namespace ladle
