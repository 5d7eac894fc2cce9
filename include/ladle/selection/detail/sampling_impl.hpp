// Definitions for ladle/selection/sampling.hpp.
#pragma once

#include "ladle/core/random_simd.hpp"
#include "ladle/selection/detail/common.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <unordered_map>
#include <utility>

namespace ladle {
namespace detail {

inline int count_trailing_zeros(std::uint64_t b) noexcept {  // b != 0
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_ctzll(b);
#else
  int n = 0;
  while (!(b & 1u)) {
    b >>= 1;
    ++n;
  }
  return n;
#endif
}

/// Floyd's k-of-n into `out` (k = out.size()), ascending. Membership is a bit set when n bits
/// take no more room than the hash set would (n <= 128 k), otherwise an open-addressing set.
/// Both give the same subset for the same draws: only the membership test differs. The words
/// are those of a fresh `g` (start of its stream), in order.
inline void floyd_sorted(index_t n, index_t k, const philox& stream, index_t* out) {
  if (k == 0) return;
  philox_words g(stream);
  if (n <= 128 * k) {
    std::vector<std::uint64_t> bits(static_cast<std::size_t>((n + 63) / 64), 0);
    for (index_t j = n - k; j < n; ++j) {
      auto t = static_cast<index_t>(uniform_u64_from(g, static_cast<std::uint64_t>(j) + 1));
      if ((bits[std::size_t(t >> 6)] >> (t & 63)) & 1u) t = j;
      bits[std::size_t(t >> 6)] |= std::uint64_t(1) << (t & 63);
    }
    index_t w = 0;
    for (std::size_t word = 0; word < bits.size(); ++word)
      for (std::uint64_t b = bits[word]; b != 0; b &= b - 1)
        out[w++] = static_cast<index_t>(word * 64) + count_trailing_zeros(b);
    return;
  }
  std::size_t cap = 16;
  while (cap < static_cast<std::size_t>(2 * k)) cap <<= 1;
  std::vector<index_t> table(cap, -1);
  const std::size_t mask = cap - 1;
  // Inserts t unless present; returns whether it was inserted.
  auto insert = [&](index_t t) {
    std::size_t h = static_cast<std::size_t>((static_cast<std::uint64_t>(t) *
                                              0x9E3779B97F4A7C15ull) >> 20) & mask;
    while (table[h] != -1) {
      if (table[h] == t) return false;
      h = (h + 1) & mask;
    }
    table[h] = t;
    return true;
  };
  index_t w = 0;
  for (index_t j = n - k; j < n; ++j) {
    const auto t = static_cast<index_t>(uniform_u64_from(g, static_cast<std::uint64_t>(j) + 1));
    if (insert(t)) {
      out[w++] = t;
    } else {
      insert(j);  // j is larger than every earlier insertion: never present yet
      out[w++] = j;
    }
  }
  std::sort(out, out + k);
}

inline double round_half_even(double x) {
  const double f = std::floor(x);
  const double d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return std::fmod(f, 2.0) == 0 ? f : f + 1;
}

/// floor(a * b / c) and the remainder, exactly (a, b, c >= 0, c > 0, a*b may exceed 2^63):
/// schoolbook division of the 128-bit product, one bit at a time.
inline std::pair<index_t, index_t> mul_div(index_t a, index_t b, index_t c) {
  const auto ua = static_cast<std::uint64_t>(a), ub = static_cast<std::uint64_t>(b);
  const auto uc = static_cast<std::uint64_t>(c);
  // 128-bit product hi:lo from 32-bit halves.
  const std::uint64_t a0 = ua & 0xffffffffu, a1 = ua >> 32, b0 = ub & 0xffffffffu, b1 = ub >> 32;
  const std::uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const std::uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
  const std::uint64_t lo = (mid << 32) | (p00 & 0xffffffffu);
  const std::uint64_t hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
  if (hi == 0) return {static_cast<index_t>(lo / uc), static_cast<index_t>(lo % uc)};
  std::uint64_t q = 0, r = 0;
  for (int bit = 127; bit >= 0; --bit) {
    const bool top = (r >> 63) != 0;
    r = (r << 1) | ((bit >= 64 ? hi >> (bit - 64) : lo >> bit) & 1u);
    q <<= 1;  // the quotient fits in 64 bits because a <= c
    if (top || r >= uc) {
      r -= uc;
      q |= 1;
    }
  }
  return {static_cast<index_t>(q), static_cast<index_t>(r)};
}

}  // namespace detail

// ---- uniform --------------------------------------------------------------------------------

inline void uniform_subset_into(vector_view<index_t> out, index_t n, seed s) {
  constexpr const char* fn = "uniform_subset_into";
  if (n < 0) throw_invalid_argument(fn, "n", "must not be negative, got ", n);
  detail::require_host(out, fn, "out");
  const index_t k = out.extent(0);
  detail::require_count(k, n, fn, "out", "indices");
  philox g(s, detail::stream_uniform_subset);
  if (out.is_contiguous()) {
    detail::floyd_sorted(n, k, g, out.data());
    return;
  }
  std::vector<index_t> tmp(static_cast<std::size_t>(k));
  detail::floyd_sorted(n, k, g, tmp.data());
  for (index_t i = 0; i < k; ++i) out(i) = tmp[std::size_t(i)];
}

inline std::vector<index_t> uniform_subset(index_t n, index_t k, seed s) {
  constexpr const char* fn = "uniform_subset";
  if (n < 0) throw_invalid_argument(fn, "n", "must not be negative, got ", n);
  detail::require_count(k, n, fn, "k", "indices");
  auto out = detail::make_buffer<index_t>(k, fn, "k");
  philox g(s, detail::stream_uniform_subset);
  detail::floyd_sorted(n, k, g, out.data());
  return out;
}

inline std::vector<index_t> random_permutation_prefix(index_t n, index_t k, seed s) {
  constexpr const char* fn = "random_permutation_prefix";
  if (n < 0) throw_invalid_argument(fn, "n", "must not be negative, got ", n);
  detail::require_count(k, n, fn, "k", "indices");
  auto out = detail::make_buffer<index_t>(k, fn, "k");
  detail::philox_words g(philox(s, detail::stream_permutation));
  // Fisher-Yates from the front: step i swaps slot i with a uniform slot in [i, n). Only the
  // slots touched so far are stored (dense array when n is small compared with k).
  if (n <= 4 * k) {
    std::vector<index_t> a(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) a[std::size_t(i)] = i;
    for (index_t i = 0; i < k; ++i) {
      const auto j = i + static_cast<index_t>(detail::uniform_u64_from(g, static_cast<std::uint64_t>(n - i)));
      std::swap(a[std::size_t(i)], a[std::size_t(j)]);
      out[std::size_t(i)] = a[std::size_t(i)];
    }
    return out;
  }
  std::unordered_map<index_t, index_t> moved;
  moved.reserve(static_cast<std::size_t>(2 * k));
  auto value_at = [&](index_t i) {
    const auto it = moved.find(i);
    return it == moved.end() ? i : it->second;
  };
  for (index_t i = 0; i < k; ++i) {
    const auto j = i + static_cast<index_t>(detail::uniform_u64_from(g, static_cast<std::uint64_t>(n - i)));
    const index_t vi = value_at(i), vj = value_at(j);
    out[std::size_t(i)] = vj;
    moved[j] = vi;  // slot i is never read again
  }
  return out;
}

inline index_t subset_size(index_t n, double fraction, const char* fn) {
  if (n < 0) throw_invalid_argument(fn, "n", "must not be negative, got ", n);
  if (!(fraction > 0.0 && fraction <= 1.0))
    throw_invalid_argument(fn, "fraction", "must be in (0, 1], got ", fraction);
  const double m = detail::round_half_even(fraction * static_cast<double>(n));
  return std::min<index_t>(n, static_cast<index_t>(m));
}

// ---- stratified -----------------------------------------------------------------------------

inline std::vector<index_t> stratified_quotas(const std::vector<index_t>& class_sizes,
                                              index_t total, stratify mode) {
  constexpr const char* fn = "stratified_quotas";
  index_t n = 0;
  for (std::size_t c = 0; c < class_sizes.size(); ++c) {
    if (class_sizes[c] < 0)
      throw_invalid_argument(fn, "class_sizes", "has ", class_sizes[c], " at index ", c);
    n += class_sizes[c];
  }
  detail::require_count(total, n, fn, "total", "samples");
  const std::size_t C = class_sizes.size();
  std::vector<index_t> q(C, 0);
  if (total == 0) return q;
  if (mode == stratify::proportional) {
    std::vector<index_t> rem(C);
    index_t given = 0;
    for (std::size_t c = 0; c < C; ++c) {
      const auto qr = detail::mul_div(total, class_sizes[c], n);
      q[c] = qr.first;
      rem[c] = qr.second;
      given += qr.first;
    }
    std::vector<std::size_t> order(C);
    for (std::size_t c = 0; c < C; ++c) order[c] = c;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return rem[a] > rem[b]; });
    // Each remainder is < n and at most C - 1 units are missing; a class whose remainder is
    // positive has room (q_c < total * n_c / n <= n_c).
    for (std::size_t i = 0; given < total; ++i, ++given) ++q[order[i]];
    return q;
  }
  // balanced: water-filling.
  index_t left = total;
  std::vector<bool> open(C);
  std::size_t active = 0;
  for (std::size_t c = 0; c < C; ++c) active += (open[c] = class_sizes[c] > 0);
  for (;;) {
    const index_t share = left / static_cast<index_t>(active);
    bool capped = false;
    for (std::size_t c = 0; c < C; ++c)
      if (open[c] && class_sizes[c] <= share) {
        q[c] = class_sizes[c];
        left -= class_sizes[c];
        open[c] = false;
        --active;
        capped = true;
      }
    if (!capped) {
      index_t extra = left - share * static_cast<index_t>(active);
      for (std::size_t c = 0; c < C; ++c)
        if (open[c]) {
          q[c] = share + (extra > 0 ? 1 : 0);
          if (extra > 0) --extra;
        }
      return q;
    }
    if (active == 0) return q;  // every class taken whole (total == n)
  }
}

template <class L>
class_census<std::remove_const_t<L>> census(vector_view<L> labels) {
  detail::check_label_type<L>();
  detail::require_host(labels, "census", "labels");
  using label_t = std::remove_const_t<L>;
  std::map<label_t, index_t> counts;
  for (index_t i = 0; i < labels.extent(0); ++i) ++counts[labels(i)];
  class_census<label_t> out;
  for (const auto& kv : counts) {
    out.labels.push_back(kv.first);
    out.counts.push_back(kv.second);
  }
  return out;
}

namespace detail {

template <class L>
std::vector<index_t> stratified_draw(vector_view<L> labels, const class_census<std::remove_const_t<L>>& cs,
                                     const std::vector<index_t>& quotas, seed s) {
  using label_t = std::remove_const_t<L>;
  const std::size_t C = cs.labels.size();
  // Members of each class in ascending index order, laid out class after class.
  std::vector<index_t> start(C + 1, 0);
  for (std::size_t c = 0; c < C; ++c) start[c + 1] = start[c] + cs.counts[c];
  std::vector<index_t> members(static_cast<std::size_t>(labels.extent(0)));
  std::vector<index_t> fill(start.begin(), start.end() - 1);
  std::map<label_t, std::size_t> slot;
  for (std::size_t c = 0; c < C; ++c) slot[cs.labels[c]] = c;
  for (index_t i = 0; i < labels.extent(0); ++i)
    members[std::size_t(fill[slot[labels(i)]]++)] = i;
  index_t total = 0;
  for (auto q : quotas) total += q;
  std::vector<index_t> out(static_cast<std::size_t>(total));
  index_t w = 0;
  for (std::size_t c = 0; c < C; ++c) {
    philox g(s, derive_stream(stream_stratified, static_cast<std::uint64_t>(cs.labels[c])));
    floyd_sorted(cs.counts[c], quotas[c], g, out.data() + w);
    for (index_t j = w; j < w + quotas[c]; ++j)
      out[std::size_t(j)] = members[std::size_t(start[c] + out[std::size_t(j)])];
    w += quotas[c];
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace detail

template <class L>
std::vector<index_t> stratified_subset(vector_view<L> labels, index_t total, stratify mode,
                                       seed s) {
  detail::require_nonempty(labels, "stratified_subset", "labels");
  const auto cs = census(labels);
  detail::require_count(total, labels.extent(0), "stratified_subset", "total", "samples");
  return detail::stratified_draw(labels, cs, stratified_quotas(cs.counts, total, mode), s);
}

template <class L>
std::vector<index_t> stratified_subset(vector_view<L> labels, double fraction, stratify mode,
                                       seed s) {
  detail::require_nonempty(labels, "stratified_subset", "labels");
  const index_t total = subset_size(labels.extent(0), fraction, "stratified_subset");
  return stratified_subset(labels, total, mode, s);
}

template <class L>
std::vector<index_t> stratified_subset(vector_view<L> labels, const std::vector<index_t>& quotas,
                                       seed s) {
  constexpr const char* fn = "stratified_subset";
  detail::require_nonempty(labels, fn, "labels");
  const auto cs = census(labels);
  if (quotas.size() != cs.labels.size())
    throw_invalid_argument(fn, "quotas", "has ", quotas.size(), " entries but labels has ",
                           cs.labels.size(), " classes");
  for (std::size_t c = 0; c < quotas.size(); ++c)
    if (quotas[c] < 0 || quotas[c] > cs.counts[c])
      throw_invalid_argument(fn, "quotas", "asks ", quotas[c], " of class ", cs.labels[c],
                             " which has ", cs.counts[c], " samples");
  return detail::stratified_draw(labels, cs, quotas, s);
}

// ---- weighted without replacement -----------------------------------------------------------

namespace detail {

struct keyed {
  double key;
  index_t index;
};
struct key_order {
  bool operator()(const keyed& a, const keyed& b) const noexcept {
    return a.key < b.key || (a.key == b.key && a.index < b.index);
  }
};
constexpr key_order key_less{};

/// Keeps the k smallest (key, index) pairs pushed into it, in O(k) memory: a buffer of up to
/// 2k candidates, trimmed to k by nth_element whenever it fills, with a threshold rejecting
/// keys that can no longer make it. The buffer is allocated once, at its full size, from the
/// core allocator (huge pages when large): growing a std::vector to 2k pairs by doubling cost
/// more in copies and page faults than the sampling itself (10^6 of 10^7: about half the time).
class smallest_k {
 public:
  smallest_k(index_t k, double tau, const char* fn)
      : k_(k), cap_(std::max<index_t>(checked_mul(k, 2, fn, "k"), 64)), tau_(tau),
        buf_(allocate_aligned<keyed>(cap_, fn, "k")) {}
  bool admits(double key) const noexcept { return key < tau_; }
  double threshold() const noexcept { return tau_; }
  /// Empties the buffer and starts over with threshold tau (keeps the storage).
  void reset(double tau) noexcept {
    tau_ = tau;
    size_ = pushed_ = 0;
  }
  void push(double key, index_t index) noexcept {
    ++pushed_;
    buf_.get()[size_++] = {key, index};
    if (size_ == cap_) trim();
  }
  void trim() noexcept {
    if (size_ <= k_) return;
    std::nth_element(begin(), begin() + (k_ - 1), end(), key_less);
    tau_ = buf_.get()[k_ - 1].key;
    size_ = k_;
  }
  keyed* begin() const noexcept { return buf_.get(); }
  keyed* end() const noexcept { return buf_.get() + size_; }
  index_t size() const noexcept { return size_; }
  index_t pushed() const noexcept { return pushed_; }

 private:
  index_t k_, cap_;
  double tau_;
  index_t size_ = 0, pushed_ = 0;
  aligned_ptr<keyed> buf_;
};

/// The open uniform draw of item i, u in (0, 1): 64 bits of Philox block i/2 (half i%2).
struct item_uniforms {
  philox gen;
  std::uint64_t cached_block = ~std::uint64_t(0);
  philox4x32::counter_type bits{};
  double operator()(index_t i) {
    const auto b = static_cast<std::uint64_t>(i) >> 1;
    if (b != cached_block) {
      bits = gen.block_at(b);
      cached_block = b;
    }
    const unsigned h = static_cast<unsigned>(i & 1) * 2;
    const std::uint64_t u64 = std::uint64_t(bits[h]) | (std::uint64_t(bits[h + 1]) << 32);
    return (static_cast<double>(u64 >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  }
};

/// The positive count and the largest and smallest positive weight of w[0, n) when every weight
/// is finite and non-negative (then true; false, and the outputs unspecified, otherwise).
template <class T>
bool summarise_weights(const T* w, index_t n, index_t& positive, double& wmax, double& wmin) noexcept {
  constexpr T inf = std::numeric_limits<T>::infinity(), top = std::numeric_limits<T>::max();
  T hi = 0, lo = inf;
  bool ok = true;
  index_t count = 0, i = 0;
#if LADLE_HAS_SIMD
  using B = simd::batch<T>;
  constexpr index_t L = static_cast<index_t>(simd::lanes<T>);
  B vhi(T(0)), vlo(inf);
  auto vok = B(T(0)) == B(T(0));
  for (; i + L <= n; i += L) {
    const B x = B::load_unaligned(w + i);
    const auto pos = x > B(T(0));
    vok = vok & (x >= B(T(0))) & (x <= B(top));
    vhi = xsimd::max(vhi, x);
    vlo = xsimd::min(vlo, simd::select(pos, x, B(inf)));
    count += simd::count(pos);
  }
  ok = xsimd::all(vok);
  if (ok) {
    hi = simd::reduce_max(vhi);
    lo = simd::reduce_min(vlo);
  }
#endif
  for (; i < n; ++i) {
    const T x = w[i];
    ok &= (x >= 0) & (x <= top);
    count += x > 0;
    hi = x > hi ? x : hi;
    lo = x > 0 && x < lo ? x : lo;
  }
  if (!ok) return false;
  positive = count;
  wmax = count > 0 ? static_cast<double>(hi) : 0.0;
  wmin = static_cast<double>(lo);
  return true;
}

template <class Policy, class W>
void weighted_sample_impl(const Policy& policy, vector_view<W> weights, index_t k, seed s,
                          sample_order order, index_t* out, const char* fn) {
  using value_t = std::remove_const_t<W>;
  static_assert(std::is_same<value_t, float>::value || std::is_same<value_t, double>::value,
                "ladle selection: weights must be float or double");
  require_host(weights, fn, "weights");
  const index_t n = weights.extent(0);
  // One pass: validation, number of positive weights, their range (vectorised when the weights
  // are contiguous; the scalar loop names the first bad weight).
  index_t positive = 0;
  double wmax = 0, wmin = std::numeric_limits<double>::infinity();
  const bool summarised = weights.stride(0) == 1 && summarise_weights(weights.data(), n, positive, wmax, wmin);
  for (index_t i = 0; i < n && !summarised; ++i) {
    const double w = static_cast<double>(weights(i));
    if (!(w >= 0) || !(w <= std::numeric_limits<double>::max()))
      throw_domain_error(fn, "weights", "has ", weights(i), " at index ", i,
                         "; weights must be finite and non-negative");
    if (w > 0) {
      ++positive;
      wmax = std::max(wmax, w);
      wmin = std::min(wmin, w);
    }
  }
  if (k > positive)
    throw_invalid_argument(fn, "k", "is ", k, " but only ", positive, " of ", n,
                           " weights are positive");
  if (k == 0) return;
  // Keys E_i / w_i with E_i = -log(u_i). Scaling every weight by the same power of two (exact)
  // puts the largest at [0.5, 1), so no key underflows; when the smallest weight is so far
  // below the largest that E / w could overflow, the keys are taken in log space instead,
  // log E_i - log w_i (same order, two logarithms per item).
  int e = 0;
  std::frexp(wmax, &e);
  const double scale = std::ldexp(1.0, -e);
  const bool log_space = wmin * scale < 0x1p-960;
  const W* wp = weights.data();
  const index_t stride = weights.stride(0);
  // The key of item i, or +inf when it cannot get below tau (without the logarithm when
  // -log(u) >= 1 - u already settles it: the 2^-40 margin covers every rounding on the way,
  // so no item whose computed key would be admitted is skipped).
  auto key_of = [&](item_uniforms& draw, index_t i, double tau) {
    const double w = static_cast<double>(wp[i * stride]);
    if (!(w > 0)) return std::numeric_limits<double>::infinity();
    const double u = draw(i);
    if (log_space) return std::log(-std::log(u)) - std::log(w);
    const double ws = w * scale;
    if (1.0 - u >= tau * ws * (1.0 + 0x1p-40)) return std::numeric_limits<double>::infinity();
    return -std::log(u) / ws;
  };
  // A starting threshold from a pilot of evenly spaced items, set to admit about 1.05 k items;
  // if fewer than k get in, the pass is redone without it. Either way the result is the exact
  // k smallest keys; the pilot only saves work.
  double tau0 = std::numeric_limits<double>::infinity();
  const index_t pilot = 65536;
  if (n >= 8 * pilot && k <= n / 8) {
    std::vector<double> keys(static_cast<std::size_t>(pilot));
    item_uniforms draw{philox(s, stream_weighted)};
    const index_t step = n / pilot;
    for (index_t j = 0; j < pilot; ++j)
      keys[std::size_t(j)] = key_of(draw, j * step, std::numeric_limits<double>::infinity());
    const double expect = static_cast<double>(k) * static_cast<double>(pilot) / static_cast<double>(n);
    const auto q = static_cast<index_t>(1.05 * expect + 4.0 * std::sqrt(expect) + 16.0);
    if (q < pilot) {
      std::nth_element(keys.begin(), keys.begin() + std::ptrdiff_t(q), keys.end());
      tau0 = keys[std::size_t(q)];
    }
  }
  // The k smallest keys are a function of the keys alone, so the split over threads (one part
  // per thread, at least 2^16 items each) cannot change the result.
  const index_t parts = std::max<index_t>(1, std::min<index_t>(policy.threads(), n >> 16));
  const index_t grain = (n + parts - 1) / parts;
  // The linear-space scan over aligned windows of 64 items: their uniforms first (32 Philox
  // blocks at once, bit-identical to item_uniforms), then a branch-free screen (1 - u <
  // tau w (1 + 2^-40), the test key_of applies, against the threshold at the window's start: it
  // only falls, so a stale one admits extra candidates and rejects none), then the exact key of
  // each survivor, re-tested against the current threshold.
  auto scan_blocks = [&](const philox& gen, index_t begin, index_t end, smallest_k& best) {
    constexpr index_t window = 64;
    alignas(64) std::uint32_t words[2 * window];
    alignas(64) double u[window];
    alignas(64) double wv[window];
    int survivor[window];
    for (index_t at = begin & ~(window - 1); at < end; at += window) {
      philox_blocks(gen, static_cast<std::uint64_t>(at) >> 1, window / 2, words);
      const index_t lo = std::max(begin, at) - at, hi = std::min(end, at + window) - at;
      if (stride == 1 && lo == 0 && hi == window) {
        for (index_t j = 0; j < window; ++j) wv[j] = static_cast<double>(wp[at + j]);
      } else {
        for (index_t j = 0; j < window; ++j)
          wv[j] = j >= lo && j < hi ? static_cast<double>(wp[(at + j) * stride]) : 0.0;
      }
      for (index_t j = 0; j < window; ++j) {
        std::uint64_t bits;
        std::memcpy(&bits, words + 2 * j, sizeof bits);
        u[j] = (static_cast<double>(bits >> 11) + 0.5) * (1.0 / 9007199254740992.0);
      }
      const double bound = best.threshold() * scale * (1.0 + 0x1p-40);
      int count = 0;
      for (index_t j = 0; j < window; ++j) {
        survivor[count] = static_cast<int>(j);
        count += (wv[j] > 0) & (1.0 - u[j] < bound * wv[j]);
      }
      for (int c = 0; c < count; ++c) {
        const int j = survivor[c];
        const double key = -std::log(u[j]) / (wv[j] * scale);
        if (best.admits(key)) best.push(key, at + j);
      }
    }
  };
  std::vector<smallest_k> partial;
  partial.reserve(static_cast<std::size_t>(chunk_count(n, grain)));
  for (index_t b = 0; b < n; b += grain) partial.emplace_back(k, std::numeric_limits<double>::infinity(), fn);
  auto run = [&](double tau_start) {
    parallel_for(policy, n, grain, [&](index_t begin, index_t end) {
      smallest_k& best = partial[std::size_t(begin / grain)];
      best.reset(tau_start);
      item_uniforms draw{philox(s, stream_weighted)};
      if (log_space) {
        for (index_t i = begin; i < end; ++i) {
          const double key = key_of(draw, i, best.threshold());
          if (best.admits(key)) best.push(key, i);
        }
      } else {
        scan_blocks(draw.gen, begin, end, best);
      }
      best.trim();
    });
    index_t total = 0;
    for (const auto& b : partial) total += b.pushed();
    return total;
  };
  if (run(tau0) < k) run(std::numeric_limits<double>::infinity());
  smallest_k& all = partial[0];
  if (partial.size() > 1) {
    smallest_k merged(k, std::numeric_limits<double>::infinity(), fn);
    for (const auto& b : partial)
      for (const auto& kv : b) merged.push(kv.key, kv.index);
    all = std::move(merged);
  }
  all.trim();
  const keyed* chosen = all.begin();
  if (order == sample_order::draw) {
    std::sort(all.begin(), all.end(), key_less);
    for (index_t j = 0; j < k; ++j) out[j] = chosen[j].index;
    return;
  }
  if (n <= 32 * k) {  // ascending through a bit set: O(n / 64) instead of O(k log k)
    std::vector<std::uint64_t> bits(static_cast<std::size_t>((n + 63) / 64), 0);
    for (const auto& kv : all) bits[std::size_t(kv.index >> 6)] |= std::uint64_t(1) << (kv.index & 63);
    index_t w = 0;
    for (std::size_t word = 0; word < bits.size(); ++word)
      for (std::uint64_t b = bits[word]; b != 0; b &= b - 1)
        out[w++] = static_cast<index_t>(word * 64) + count_trailing_zeros(b);
    return;
  }
  for (index_t j = 0; j < k; ++j) out[j] = chosen[j].index;
  std::sort(out, out + k);
}

}  // namespace detail

template <class Policy, class W>
std::vector<index_t> weighted_sample(const Policy& policy, vector_view<W> weights, index_t k,
                                     seed s, sample_order order) {
  constexpr const char* fn = "weighted_sample";
  if (k < 0) throw_invalid_argument(fn, "k", "must not be negative, got ", k);
  detail::require_count(k, weights.extent(0), fn, "k", "weights");
  auto out = detail::make_buffer<index_t>(k, fn, "k");
  detail::weighted_sample_impl(policy, weights, k, s, order, out.data(), fn);
  return out;
}

template <class W>
std::vector<index_t> weighted_sample(vector_view<W> weights, index_t k, seed s,
                                     sample_order order) {
  return weighted_sample(seq, weights, k, s, order);
}

template <class Policy, class W>
void weighted_sample_into(const Policy& policy, vector_view<index_t> out, vector_view<W> weights,
                          seed s, sample_order order) {
  constexpr const char* fn = "weighted_sample_into";
  detail::require_host(out, fn, "out");
  const index_t k = out.extent(0);
  detail::require_count(k, weights.extent(0), fn, "out", "weights");
  detail::require_disjoint(out, "out", weights, "weights", fn);
  std::vector<index_t> tmp(static_cast<std::size_t>(k));
  detail::weighted_sample_impl(policy, weights, k, s, order, tmp.data(), fn);
  for (index_t i = 0; i < k; ++i) out(i) = tmp[std::size_t(i)];
}

// ---- alias table ----------------------------------------------------------------------------

template <class W>
alias_table::alias_table(vector_view<W> weights) {
  constexpr const char* fn = "alias_table";
  const index_t positive = detail::check_weights(weights, fn, "weights");
  if (positive == 0) throw_invalid_argument(fn, "weights", "has no positive weight");
  if (positive > index_t(0xffffffff))
    throw_invalid_argument(fn, "weights", "has ", positive, " positive weights; at most 2^32 - 1");
  n_ = weights.extent(0);
  const std::size_t m = static_cast<std::size_t>(positive);
  item_.resize(m);
  std::vector<double> scaled(m);
  // Neumaier-compensated total, so the column heights are as exact as double allows.
  double sum = 0, comp = 0;
  for (index_t i = 0, j = 0; i < n_; ++i) {
    const double w = static_cast<double>(weights(i));
    if (!(w > 0)) continue;
    item_[std::size_t(j)] = i;
    scaled[std::size_t(j++)] = w;
    const double t = sum + w;
    comp += std::fabs(sum) >= w ? (sum - t) + w : (w - t) + sum;
    sum = t;
  }
  sum += comp;
  for (auto& v : scaled) v = v / sum * static_cast<double>(m);
  prob_.assign(m, 1.0);
  alias_.resize(m);
  for (std::size_t j = 0; j < m; ++j) alias_[j] = static_cast<std::uint32_t>(j);
  std::vector<std::uint32_t> small, large;
  for (std::size_t j = 0; j < m; ++j)
    (scaled[j] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(j));
  while (!small.empty() && !large.empty()) {
    const std::uint32_t s = small.back(), l = large.back();
    small.pop_back();
    large.pop_back();
    prob_[s] = scaled[s];
    alias_[s] = l;
    scaled[l] = scaled[l] - (1.0 - scaled[s]);
    (scaled[l] < 1.0 ? small : large).push_back(l);
  }
  // Whatever is left holds a full column up to rounding (prob_ stays 1).
}

inline index_t alias_table::operator()(philox& g) const {
  const auto slot = static_cast<std::size_t>(uniform_u64(g, prob_.size()));
  const double u = uniform_double(g);
  return u < prob_[slot] ? item_[slot] : item_[alias_[slot]];
}

template <class Policy>
std::vector<index_t> alias_table::sample(const Policy& policy, index_t count, seed s) const {
  if (count < 0)
    throw_invalid_argument("alias_table::sample", "count", "must not be negative, got ", count);
  auto out = detail::make_buffer<index_t>(count, "alias_table::sample", "count");
  parallel_for(policy, count, 1 << 16, [&](index_t begin, index_t end) {
    for (index_t j = begin; j < end; ++j) {
      philox g(s, derive_stream(detail::stream_alias, static_cast<std::uint64_t>(j)));
      out[std::size_t(j)] = (*this)(g);
    }
  });
  return out;
}

inline std::vector<index_t> alias_table::sample(index_t count, seed s) const {
  return sample(seq, count, s);
}

inline double alias_table::probability(index_t i) const {
  if (i < 0 || i >= n_)
    throw_invalid_argument("alias_table::probability", "i", "is ", i, ", outside [0, ", n_, ")");
  double p = 0;
  const std::size_t m = prob_.size();
  for (std::size_t j = 0; j < m; ++j) {
    if (item_[j] == i) p += prob_[j];
    if (item_[alias_[j]] == i && alias_[j] != j) p += 1.0 - prob_[j];
  }
  return p / static_cast<double>(m);
}

// ---- reservoirs -----------------------------------------------------------------------------

template <class T>
weighted_reservoir<T>::weighted_reservoir(index_t k, seed s, std::uint64_t stream)
    : k_(k), seed_(s), stream_(stream),
      gen_(s, derive_stream(detail::stream_reservoir, stream)) {
  if (k < 0) throw_invalid_argument("weighted_reservoir", "k", "must not be negative, got ", k);
  entries_.reserve(static_cast<std::size_t>(std::min<index_t>(k, 1 << 20)));
}

namespace detail {
template <class E>
bool larger_key(const E& a, const E& b) noexcept {
  return a.log_key > b.log_key;  // std heap with this comparator keeps the smallest on top
}
}  // namespace detail

template <class T>
void weighted_reservoir<T>::draw_jump() {
  // A-ExpJ: the weight to skip before the next insertion is log(r) / log(T_w), with T_w the
  // smallest key u^(1/w) held; here log(T_w) = the smallest log key L <= 0.
  const double L = entries_.front().log_key;
  jump_ = std::log(uniform_double_open(gen_)) / L;
}

template <class T>
void weighted_reservoir<T>::insert(double log_key, const T& item) {
  entries_.push_back({log_key, item});
  std::push_heap(entries_.begin(), entries_.end(), detail::larger_key<entry>);
}

template <class T>
void weighted_reservoir<T>::push(const T& item, double weight) {
  if (!(weight >= 0) || !std::isfinite(weight))
    throw_domain_error("weighted_reservoir::push", "weight", "is ", weight,
                       "; weights must be finite and non-negative");
  ++seen_;
  if (weight == 0 || k_ == 0) return;
  if (size() < k_) {
    insert(std::log(uniform_double_open(gen_)) / weight, item);
    if (size() == k_) draw_jump();
    return;
  }
  jump_ -= weight;
  if (jump_ > 0) return;
  // This item replaces the smallest key; its key is uniform on (T_w^w, 1) raised to 1/w:
  // log r2 = log(1 - (1 - T_w^w) v) = log1p(expm1(L w) v), v uniform on (0, 1).
  const double L = entries_.front().log_key;
  const double lk = std::log1p(std::expm1(L * weight) * uniform_double_open(gen_)) / weight;
  std::pop_heap(entries_.begin(), entries_.end(), detail::larger_key<entry>);
  entries_.back() = {lk, item};
  std::push_heap(entries_.begin(), entries_.end(), detail::larger_key<entry>);
  draw_jump();
}

template <class T>
void weighted_reservoir<T>::merge(const weighted_reservoir& other) {
  constexpr const char* fn = "weighted_reservoir::merge";
  if (other.k_ != k_)
    throw_invalid_argument(fn, "other", "has capacity ", other.k_, " but this one has ", k_);
  if (&other == this || (other.seed_.value == seed_.value && other.stream_ == stream_))
    throw_invalid_argument(fn, "other", "uses the same seed and stream (", stream_,
                           "); shards must draw from different streams");
  std::vector<entry> all(entries_);
  all.insert(all.end(), other.entries_.begin(), other.entries_.end());
  std::stable_sort(all.begin(), all.end(), detail::larger_key<entry>);
  if (static_cast<index_t>(all.size()) > k_) all.resize(static_cast<std::size_t>(k_));
  entries_ = std::move(all);
  std::make_heap(entries_.begin(), entries_.end(), detail::larger_key<entry>);
  seen_ += other.seen_;
  // Memorylessness: a fresh jump from the merged threshold has the right law.
  if (size() == k_ && k_ > 0) draw_jump();
}

template <class T>
std::vector<T> weighted_reservoir<T>::items() const {
  std::vector<entry> sorted(entries_);
  std::stable_sort(sorted.begin(), sorted.end(), detail::larger_key<entry>);
  std::vector<T> out;
  out.reserve(sorted.size());
  for (const auto& e : sorted) out.push_back(e.item);
  return out;
}

template <class T>
std::vector<double> weighted_reservoir<T>::log_keys() const {
  std::vector<entry> sorted(entries_);
  std::stable_sort(sorted.begin(), sorted.end(), detail::larger_key<entry>);
  std::vector<double> out;
  for (const auto& e : sorted) out.push_back(e.log_key);
  return out;
}

}  // namespace ladle
