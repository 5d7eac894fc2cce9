// Definitions for ladle/selection/rs2.hpp.
#pragma once

#include "ladle/selection/detail/common.hpp"
#include "ladle/selection/sampling.hpp"

#include <array>
#include <unordered_map>
#include <unordered_set>

namespace ladle {
namespace detail {

/// A bijection of [0, n) keyed by (seed, group, pass): a balanced 6-round Feistel network on
/// the next even power of two >= n, cycle-walked back into [0, n).
class feistel_permutation {
 public:
  feistel_permutation(std::uint64_t n, seed s, std::uint64_t group, std::uint64_t pass) : n_(n) {
    int bits = 2;
    while (bits < 64 && (std::uint64_t(1) << bits) < n) ++bits;
    bits += bits & 1;
    half_ = bits / 2;
    mask_ = half_ >= 32 ? 0xffffffffu : (std::uint32_t(1) << half_) - 1;
    const philox g(s, derive_stream(stream_rs2, group));
    const auto b0 = g.block_at(2 * pass), b1 = g.block_at(2 * pass + 1);
    keys_ = {b0[0], b0[1], b0[2], b0[3], b1[0], b1[1]};
  }
  std::uint64_t operator()(std::uint64_t i) const noexcept {
    std::uint64_t x = i;
    do x = encrypt(x);
    while (x >= n_);
    return x;
  }

 private:
  static std::uint32_t hash32(std::uint32_t x) noexcept {  // "lowbias32" integer hash
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
  }
  std::uint64_t encrypt(std::uint64_t x) const noexcept {
    auto left = static_cast<std::uint32_t>(x >> half_);
    auto right = static_cast<std::uint32_t>(x) & mask_;
    for (const std::uint32_t k : keys_) {
      const std::uint32_t next = left ^ (hash32(right ^ k) & mask_);
      left = right;
      right = next;
    }
    return (std::uint64_t(left) << half_) | right;
  }

  std::uint64_t n_;
  int half_;
  std::uint32_t mask_;
  std::array<std::uint32_t, 6> keys_;
};

/// One group's schedule (the whole data set, or one class): pass permutations plus the
/// exchanges that keep a straddling round free of repeats.
class rs2_group_eval {
 public:
  rs2_group_eval(std::uint64_t n, std::uint64_t m, std::uint64_t id, seed s)
      : n_(n), m_(m), id_(id), seed_(s), direct_(n >= 2 * m || n % m == 0) {}

  /// Appends round r (m values in [0, n)) to out.
  void round(std::uint64_t r, std::vector<std::uint64_t>& out) const {
    const std::uint64_t start = r * m_;
    const std::uint64_t p = start / n_, off = start % n_;
    if (off + m_ <= n_) {
      append(p, off, off + m_, out);
    } else {
      append(p, off, n_, out);
      append(p + 1, 0, m_ - (n_ - off), out);
    }
  }

 private:
  using swaps = std::unordered_map<std::uint64_t, std::uint64_t>;

  std::uint64_t tail_length(std::uint64_t p) const { return (p * n_) % m_; }

  void append(std::uint64_t p, std::uint64_t begin, std::uint64_t end,
              std::vector<std::uint64_t>& out) const {
    const feistel_permutation pi(n_, seed_, id_, p);
    const swaps fix = fix_for(p);
    for (std::uint64_t i = begin; i < end; ++i) {
      const auto it = fix.find(i);
      out.push_back(pi(it == fix.end() ? i : it->second));
    }
  }

  /// Position exchanges of pass p given the previous pass's tail values.
  swaps exchanges(std::uint64_t p, const std::unordered_set<std::uint64_t>& tail) const {
    swaps fix;
    const std::uint64_t t = tail.size(), h = m_ - t;
    const feistel_permutation pi(n_, seed_, id_, p);
    std::vector<std::uint64_t> dup;
    for (std::uint64_t i = 0; i < h; ++i)
      if (tail.count(pi(i))) dup.push_back(i);
    // Partners come after the head; in direct mode never from the window that will be the
    // next boundary's tail, so tails are always plain permutation values.
    const std::uint64_t protect = direct_ ? n_ - tail_length(p + 1) : n_;
    std::size_t a = 0;
    for (std::uint64_t j = h; a < dup.size() && j < protect; ++j) {
      if (tail.count(pi(j))) continue;
      fix[dup[a]] = j;
      fix[j] = dup[a];
      ++a;
    }
    LADLE_ASSERT(a == dup.size(), "rs2_schedule: not enough exchange partners");
    return fix;
  }

  swaps fix_for(std::uint64_t p) const {
    if (p == 0 || tail_length(p) == 0) return {};
    if (direct_) return exchanges(p, tail_values(p, {}));
    // General mode: the previous tail may have been exchanged itself; walk the passes.
    swaps fix;
    for (std::uint64_t q = 1; q <= p; ++q)
      fix = tail_length(q) == 0 ? swaps{} : exchanges(q, tail_values(q, fix));
    return fix;
  }

  /// The last tail_length(p) values of pass p - 1 (whose exchanges are prev_fix).
  std::unordered_set<std::uint64_t> tail_values(std::uint64_t p, const swaps& prev_fix) const {
    const std::uint64_t t = tail_length(p);
    const feistel_permutation prev(n_, seed_, id_, p - 1);
    std::unordered_set<std::uint64_t> tail;
    for (std::uint64_t i = n_ - t; i < n_; ++i) {
      const auto it = prev_fix.find(i);
      tail.insert(prev(it == prev_fix.end() ? i : it->second));
    }
    return tail;
  }

  std::uint64_t n_, m_, id_;
  seed seed_;
  bool direct_;
};

}  // namespace detail

inline void rs2_schedule::add_group(index_t n, index_t m, std::uint64_t id,
                                    std::vector<index_t> members) {
  group g;
  g.n = n;
  g.m = m;
  g.id = id;
  g.members = std::move(members);
  groups_.push_back(std::move(g));
  m_total_ += m;
}

inline rs2_schedule::rs2_schedule(index_t n, double fraction, seed s) : n_(n), seed_(s) {
  constexpr const char* fn = "rs2_schedule";
  if (n < 1) throw_invalid_argument(fn, "n", "must be positive, got ", n);
  const index_t m = subset_size(n, fraction, fn);
  if (m == 0)
    throw_invalid_argument(fn, "fraction", "is ", fraction, ", which rounds to 0 of ", n,
                           " samples per round");
  add_group(n, m, 0, {});
}

template <class L>
rs2_schedule::rs2_schedule(vector_view<L> labels, double fraction, seed s)
    : n_(labels.extent(0)), seed_(s) {
  constexpr const char* fn = "rs2_schedule";
  detail::require_nonempty(labels, fn, "labels");
  if (!(fraction > 0.0 && fraction <= 1.0))
    throw_invalid_argument(fn, "fraction", "must be in (0, 1], got ", fraction);
  const auto cs = census(labels);
  std::vector<std::vector<index_t>> members(cs.labels.size());
  for (std::size_t c = 0; c < cs.labels.size(); ++c)
    members[c].reserve(static_cast<std::size_t>(cs.counts[c]));
  for (index_t i = 0; i < labels.extent(0); ++i) {
    const auto c = static_cast<std::size_t>(
        std::lower_bound(cs.labels.begin(), cs.labels.end(), labels(i)) - cs.labels.begin());
    members[c].push_back(i);
  }
  for (std::size_t c = 0; c < cs.labels.size(); ++c) {
    const index_t nc = cs.counts[c];
    const index_t mc = std::max<index_t>(1, subset_size(nc, fraction, fn));
    add_group(nc, mc, derive_stream(1, static_cast<std::uint64_t>(cs.labels[c])),
              std::move(members[c]));
  }
}

inline index_t rs2_schedule::rounds_per_pass() const noexcept {
  index_t r = 0;
  for (const auto& g : groups_) r = std::max(r, (g.n + g.m - 1) / g.m);
  return r;
}

inline void rs2_schedule::round_into(std::uint64_t r, vector_view<index_t> out) const {
  constexpr const char* fn = "rs2_schedule::round";
  detail::require_host(out, fn, "out");
  detail::require_extent(out.extent(0), m_total_, fn, "out", "length");
  for (const auto& g : groups_)
    if (r > static_cast<std::uint64_t>(std::numeric_limits<index_t>::max() / g.m))
      throw_invalid_argument(fn, "r", "is ", r, "; r * round size would overflow");
  std::vector<std::uint64_t> buf;
  buf.reserve(static_cast<std::size_t>(m_total_));
  index_t w = 0;
  for (const auto& g : groups_) {
    buf.clear();
    detail::rs2_group_eval(static_cast<std::uint64_t>(g.n), static_cast<std::uint64_t>(g.m),
                           g.id, seed_)
        .round(r, buf);
    for (const auto v : buf)
      out(w++) = g.members.empty() ? static_cast<index_t>(v) : g.members[std::size_t(v)];
  }
}

inline std::vector<index_t> rs2_schedule::round(std::uint64_t r) const {
  std::vector<index_t> out(static_cast<std::size_t>(m_total_));
  round_into(r, make_view(out.data(), out.size()));
  return out;
}

}  // namespace ladle
