// Definitions for ladle/weighting/class_weights.hpp.
#pragma once

#include "ladle/core/simd_memory.hpp"
#include "ladle/weighting/detail/common.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

namespace ladle {
namespace detail {

// Chunk length of the counting pass: 1 MiB of int32 labels, so the histogram pass re-reads the
// chunk from cache after the min/max pass brought it in.
constexpr index_t class_count_grain = index_t(1) << 18;

// Sorted distinct labels and their counts.
struct label_counts {
  std::vector<std::int64_t> labels;
  std::vector<double> counts;
};

template <class L>
std::int64_t label_value(L v, const char* fn, const char* arg, index_t i) {
  static_assert(std::is_integral<L>::value && !std::is_same<L, bool>::value,
                "ladle weighting: labels must be an integer type");
  if (std::is_unsigned<L>::value && sizeof(L) >= sizeof(std::int64_t) &&
      static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(INT64_MAX))
    throw_invalid_argument(fn, arg, "element ", i, " (", static_cast<std::uint64_t>(v),
                           ") does not fit int64");
  return static_cast<std::int64_t>(v);
}

#if LADLE_HAS_SIMD
// Minimum and maximum of p[0, len) for int32 labels, in SIMD lanes with four independent
// accumulator pairs (scalar, the scan would take twice as long as the counting itself).
inline std::pair<std::int32_t, std::int32_t> int32_min_max(const std::int32_t* p, index_t len) {
  using B = simd::batch<std::int32_t>;
  constexpr index_t lanes = static_cast<index_t>(simd::lanes<std::int32_t>);
  std::int32_t lo = p[0], hi = p[0];
  index_t i = 0;
  if (len >= 4 * lanes) {
    // Named accumulators: GCC keeps an array of batches in memory.
    B lo0(lo), lo1(lo), lo2(lo), lo3(lo), hi0(lo), hi1(lo), hi2(lo), hi3(lo);
    const auto step = [](B& l, B& h, const std::int32_t* q) {
      const B v = B::load_unaligned(q);
      l = simd::select(v < l, v, l);
      h = simd::select(v > h, v, h);
    };
    for (; i + 4 * lanes <= len; i += 4 * lanes) {
      step(lo0, hi0, p + i);
      step(lo1, hi1, p + i + lanes);
      step(lo2, hi2, p + i + 2 * lanes);
      step(lo3, hi3, p + i + 3 * lanes);
    }
    lo0 = simd::select(lo1 < lo0, lo1, lo0);
    lo2 = simd::select(lo3 < lo2, lo3, lo2);
    hi0 = simd::select(hi1 > hi0, hi1, hi0);
    hi2 = simd::select(hi3 > hi2, hi3, hi2);
    lo = simd::reduce_min(simd::select(lo2 < lo0, lo2, lo0));
    hi = simd::reduce_max(simd::select(hi2 > hi0, hi2, hi0));
  }
  for (; i < len; ++i) {
    lo = std::min(lo, p[i]);
    hi = std::max(hi, p[i]);
  }
  return {lo, hi};
}

// Number of lanes of p[0, len) equal to c (len a multiple of the lanes), four vectors a step
// with independent counters; prefetches the line `ahead` bytes past each 64 bytes read when
// ahead > 0.
inline std::int64_t count_equal_int32(const std::int32_t* p, index_t len, std::int32_t c,
                                      std::ptrdiff_t ahead) {
  using B = simd::batch<std::int32_t>;
  constexpr index_t lanes = static_cast<index_t>(simd::lanes<std::int32_t>);
  constexpr index_t per_line = 64 / sizeof(std::int32_t);
  const B cv(c);
  B a0(0), a1(0), a2(0), a3(0);
  const std::int32_t* const end4 = p + len / (4 * lanes) * (4 * lanes);
  const std::int32_t* const end = p + len;
  const std::int32_t* r = p;
  for (; r != end4; r += 4 * lanes) {
    if (ahead > 0)
      for (index_t line = 0; line < 4 * lanes; line += per_line) simd::prefetch(r + line, ahead);
    a0 = simd::increment_where(B::load_unaligned(r) == cv, a0);
    a1 = simd::increment_where(B::load_unaligned(r + lanes) == cv, a1);
    a2 = simd::increment_where(B::load_unaligned(r + 2 * lanes) == cv, a2);
    a3 = simd::increment_where(B::load_unaligned(r + 3 * lanes) == cv, a3);
  }
  for (; r != end; r += lanes) {
    if (ahead > 0) simd::prefetch(r, ahead);
    a0 = simd::increment_where(B::load_unaligned(r) == cv, a0);
  }
  return simd::reduce_add((a0 + a1) + (a2 + a3));
}

#if defined(__AVX512BW__)
// AVX-512BW byte counting of one 2048-label block. pack_block_bytes stores the low bytes of
// q[j] - base (64 labels a vector), prefetches the next block, and returns the largest
// q[j] - base as an unsigned 32-bit number (so any label below base reads as huge).
inline std::uint32_t pack_block_bytes(const std::int32_t* q, std::int32_t base,
                                      std::uint8_t* packed) noexcept {
  constexpr index_t block = 2048;
  const __m512i b = _mm512_set1_epi32(base);
  __m512i top = _mm512_setzero_si512();
  for (index_t j = 0; j < block; j += 64) {
    const __m512i d0 = _mm512_sub_epi32(_mm512_loadu_si512(q + j), b);
    const __m512i d1 = _mm512_sub_epi32(_mm512_loadu_si512(q + j + 16), b);
    const __m512i d2 = _mm512_sub_epi32(_mm512_loadu_si512(q + j + 32), b);
    const __m512i d3 = _mm512_sub_epi32(_mm512_loadu_si512(q + j + 48), b);
    top = _mm512_max_epu32(top, _mm512_max_epu32(_mm512_max_epu32(d0, d1), _mm512_max_epu32(d2, d3)));
    __m512i v = _mm512_castsi128_si512(_mm512_cvtepi32_epi8(d0));
    v = _mm512_inserti32x4(v, _mm512_cvtepi32_epi8(d1), 1);
    v = _mm512_inserti32x4(v, _mm512_cvtepi32_epi8(d2), 2);
    v = _mm512_inserti32x4(v, _mm512_cvtepi32_epi8(d3), 3);
    _mm512_store_si512(packed + j, v);
    for (index_t line = 0; line < 64; line += 16) simd::prefetch(q + j + line, block * sizeof(std::int32_t));
  }
  return _mm512_reduce_max_epu32(top);
}

// h[k] += the number of bytes equal to k in a packed block whose bytes all lie in [0, top]: one
// byte compare and masked add per 64 labels for each k < top; label top takes the rest of the
// block (2048 minus the others), so the most common case, one class per block, costs no sweep.
// A byte counter takes at most 2048 / 128 = 16 increments, far from overflow.
inline void count_block_bytes(const std::uint8_t* packed, int top, std::int64_t* h) noexcept {
  const __m512i minus_one = _mm512_set1_epi8(-1), zero = _mm512_setzero_si512();
  std::int64_t others = 0;
  for (int k = 0; k < top; ++k) {
    const __m512i c = _mm512_set1_epi8(static_cast<char>(k));
    __m512i a0 = zero, a1 = zero;
    for (index_t j = 0; j < 2048; j += 128) {
      const __mmask64 m0 = _mm512_cmpeq_epi8_mask(_mm512_load_si512(packed + j), c);
      const __mmask64 m1 = _mm512_cmpeq_epi8_mask(_mm512_load_si512(packed + j + 64), c);
      a0 = _mm512_mask_sub_epi8(a0, m0, a0, minus_one);
      a1 = _mm512_mask_sub_epi8(a1, m1, a1, minus_one);
    }
    const auto count = static_cast<std::int64_t>(_mm512_reduce_add_epi64(
        _mm512_add_epi64(_mm512_sad_epu8(a0, zero), _mm512_sad_epu8(a1, zero))));
    h[k] += count;
    others += count;
  }
  h[top] += 2048 - others;
}
#endif

// Unweighted int32 labels in one pass over memory, per block of 2048 labels (8 KiB): with
// AVX-512BW a full block is packed to bytes against the previous narrow block's minimum and, when
// that check passes, counted from the bytes at once (one read of the block); otherwise the block's
// min/max is scanned and, when it spans at most 16 labels, counted by bytes (AVX-512BW) or by one
// SIMD compare-and-count sweep per label (about two vector operations per 16 labels and label,
// the next block prefetched during the first sweep). Counts go to a dense histogram re-based as
// new extremes appear. A block spanning more than 16 labels is counted by scalar increments.
// Returns false, having written nothing, when the first block spans more than 16 labels (many
// classes: the interleaved-histogram path does better) or the labels seen span too wide a range
// for a dense histogram; the caller then takes the general path.
inline bool count_int32_blocks(const std::int32_t* p, index_t len, label_counts& out) {
  constexpr index_t lanes = static_cast<index_t>(simd::lanes<std::int32_t>);
  constexpr index_t block = 2048;
  constexpr std::int64_t narrow = 16;
  const std::int64_t max_span = 2 * static_cast<std::int64_t>(len) + 4096;
  std::vector<std::int64_t> hist;  // hist[k] counts label base + k
  std::int64_t base = 0;
  // Extends the histogram to cover [lo, hi]; false when the span would exceed max_span.
  const auto cover = [&](std::int64_t lo, std::int64_t hi) {
    if (hist.empty()) {
      base = lo;
      hist.assign(static_cast<std::size_t>(hi - lo + 1), 0);
      return true;
    }
    const std::int64_t top = base + static_cast<std::int64_t>(hist.size()) - 1;
    const std::int64_t new_lo = std::min(base, lo), new_hi = std::max(top, hi);
    if (new_hi - new_lo >= max_span) return false;
    if (new_lo < base) hist.insert(hist.begin(), static_cast<std::size_t>(base - new_lo), 0);
    base = new_lo;
    hist.resize(static_cast<std::size_t>(new_hi - new_lo + 1), 0);
    return true;
  };
#if defined(__AVX512BW__)
  alignas(64) std::uint8_t packed[block];
  // The previous narrow block's minimum: a full block is first packed against it, and counted
  // at once when all its labels lie in [guess, guess + 15] (the packing pass also checks that),
  // so most blocks are read once, without a separate min/max scan.
  std::int64_t guess = std::numeric_limits<std::int64_t>::min();
#endif
  for (index_t i = 0; i < len;) {
    const index_t n = std::min(block, len - i);
    const std::int32_t* q = p + i;
#if defined(__AVX512BW__)
    // guess + 15 must not pass INT32_MAX: the wrapped difference v - guess then lies in [0, 15]
    // exactly when v does in [guess, guess + 15].
    if (n == block && guess != std::numeric_limits<std::int64_t>::min() &&
        guess <= std::numeric_limits<std::int32_t>::max() - 15) {
      const std::uint32_t top = pack_block_bytes(q, static_cast<std::int32_t>(guess), packed);
      if (top < 16) {
        // The block's labels lie in [guess, guess + top]; label guess + top is present.
        if (!cover(guess, guess + top)) return false;
        count_block_bytes(packed, static_cast<int>(top), hist.data() + (guess - base));
        i += n;
        continue;
      }
    }
#endif
    const auto mm = int32_min_max(q, n);
    const std::int64_t lo = mm.first, hi = mm.second;
    if (i == 0 && hi - lo >= narrow) return false;
    if (!cover(lo, hi)) return false;
    std::int64_t* h = hist.data() + (lo - base);
    if (hi - lo < narrow) {
#if defined(__AVX512BW__)
      if (n == block) {
        pack_block_bytes(q, static_cast<std::int32_t>(lo), packed);
        count_block_bytes(packed, static_cast<int>(hi - lo), h);
        guess = lo;
        i += n;
        continue;
      }
#endif
      const index_t body = n / lanes * lanes;
      // The first sweep prefetches the next block, so its memory latency overlaps the counting
      // of this one (with huge pages; the hardware prefetcher alone runs too few lines ahead).
      for (std::int64_t k = 0; k <= hi - lo; ++k)
        h[k] += count_equal_int32(q, body, static_cast<std::int32_t>(lo + k),
                                  k == 0 ? std::ptrdiff_t(block * sizeof(std::int32_t)) : 0);
      for (index_t j = body; j < n; ++j) ++h[q[j] - lo];
    } else {
      for (index_t j = 0; j < n; ++j) ++h[q[j] - lo];
    }
    i += n;
  }
  for (std::size_t k = 0; k < hist.size(); ++k)
    if (hist[k] != 0) {
      out.labels.push_back(base + static_cast<std::int64_t>(k));
      out.counts.push_back(static_cast<double>(hist[k]));
    }
  return true;
}
#endif

// Counts labels y[b, e) (weighted by w when W is not void). Returns sorted (label, count) pairs.
template <class L, class W>
label_counts count_chunk(vector_view<L> y, const vector_view<W>* w, index_t b, index_t e,
                         const char* fn) {
  using LV = std::remove_const_t<L>;
  const index_t len = e - b;
  const bool contiguous = y.stride(0) == 1;
  const LV* p = y.data() + b * y.stride(0);
  LV lo = p[0], hi = p[0];
  if (contiguous) {
    index_t i = 1;
#if LADLE_HAS_SIMD
    if constexpr (std::is_same<LV, std::int32_t>::value) {
      if (w == nullptr) {
        label_counts fused;
        if (count_int32_blocks(p, len, fused)) return fused;
      }
      const auto mm = int32_min_max(p, len);
      lo = mm.first;
      hi = mm.second;
      i = len;
    }
#endif
    for (; i < len; ++i) {
      lo = std::min(lo, p[i]);
      hi = std::max(hi, p[i]);
    }
  } else {
    for (index_t i = b; i < e; ++i) {
      lo = std::min(lo, y(i));
      hi = std::max(hi, y(i));
    }
  }
  label_value(hi, fn, "y", b);  // refuses unsigned labels above INT64_MAX
  const std::int64_t lo64 = static_cast<std::int64_t>(lo), hi64 = static_cast<std::int64_t>(hi);
  const std::uint64_t span = static_cast<std::uint64_t>(hi64) - static_cast<std::uint64_t>(lo64);
  label_counts out;
  if (span < static_cast<std::uint64_t>(2 * len + 4096)) {
    const index_t range = static_cast<index_t>(span) + 1;
    if (w == nullptr) {
      // Four interleaved histograms so runs of one label do not serialise on one counter.
      std::vector<std::int64_t> h(static_cast<std::size_t>(4 * range), 0);
      std::int64_t* h0 = h.data();
      if (contiguous) {
        index_t i = 0;
        for (; i + 4 <= len; i += 4) {
          ++h0[static_cast<index_t>(p[i] - lo)];
          ++h0[range + static_cast<index_t>(p[i + 1] - lo)];
          ++h0[2 * range + static_cast<index_t>(p[i + 2] - lo)];
          ++h0[3 * range + static_cast<index_t>(p[i + 3] - lo)];
        }
        for (; i < len; ++i) ++h0[static_cast<index_t>(p[i] - lo)];
      } else {
        for (index_t i = b; i < e; ++i)
          ++h0[static_cast<index_t>(static_cast<std::int64_t>(y(i)) - lo64)];
      }
      for (index_t k = 0; k < range; ++k) {
        const std::int64_t c = h0[k] + h0[range + k] + h0[2 * range + k] + h0[3 * range + k];
        if (c != 0) {
          out.labels.push_back(lo64 + k);
          out.counts.push_back(static_cast<double>(c));
        }
      }
    } else {
      std::vector<double> h(static_cast<std::size_t>(range), 0.0);
      std::vector<char> seen(static_cast<std::size_t>(range), 0);
      for (index_t i = b; i < e; ++i) {
        const index_t k = static_cast<index_t>(static_cast<std::int64_t>(y(i)) - lo64);
        h[static_cast<std::size_t>(k)] += static_cast<double>((*w)(i));
        seen[static_cast<std::size_t>(k)] = 1;
      }
      for (index_t k = 0; k < range; ++k)
        if (seen[static_cast<std::size_t>(k)]) {
          out.labels.push_back(lo64 + k);
          out.counts.push_back(h[static_cast<std::size_t>(k)]);
        }
    }
    return out;
  }
  // Sparse labels: sort (label, position) and add each run in position order.
  std::vector<std::pair<std::int64_t, index_t>> items(static_cast<std::size_t>(len));
  for (index_t i = b; i < e; ++i)
    items[static_cast<std::size_t>(i - b)] = {static_cast<std::int64_t>(y(i)), i};
  std::sort(items.begin(), items.end());
  for (std::size_t k = 0; k < items.size();) {
    const std::int64_t label = items[k].first;
    double c = 0;
    for (; k < items.size() && items[k].first == label; ++k)
      c += w == nullptr ? 1.0 : static_cast<double>((*w)(items[k].second));
    out.labels.push_back(label);
    out.counts.push_back(c);
  }
  return out;
}

// Folds the per-chunk lists in chunk order (so weighted sums are added in a fixed order).
inline label_counts merge_chunk_counts(std::vector<label_counts>& parts) {
  label_counts out;
  if (parts.empty()) return out;
  std::int64_t lo = INT64_MAX, hi = INT64_MIN;
  std::size_t pairs = 0;
  for (const auto& p : parts)
    if (!p.labels.empty()) {
      lo = std::min(lo, p.labels.front());
      hi = std::max(hi, p.labels.back());
      pairs += p.labels.size();
    }
  if (pairs == 0) return out;
  if (parts.size() == 1) return std::move(parts[0]);
  const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  if (span < std::max<std::uint64_t>(std::uint64_t(1) << 22, pairs)) {
    const std::size_t range = static_cast<std::size_t>(span) + 1;
    std::vector<double> acc(range, 0.0);
    std::vector<char> seen(range, 0);
    for (const auto& p : parts)
      for (std::size_t k = 0; k < p.labels.size(); ++k) {
        const std::size_t at = static_cast<std::size_t>(static_cast<std::uint64_t>(p.labels[k]) -
                                                        static_cast<std::uint64_t>(lo));
        acc[at] += p.counts[k];
        seen[at] = 1;
      }
    for (std::size_t k = 0; k < range; ++k)
      if (seen[k]) {
        out.labels.push_back(static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + k));
        out.counts.push_back(acc[k]);
      }
    return out;
  }
  // Wide label range: concatenate in chunk order, stable-sort by label, add runs in order.
  std::vector<std::pair<std::int64_t, double>> all;
  all.reserve(pairs);
  for (const auto& p : parts)
    for (std::size_t k = 0; k < p.labels.size(); ++k) all.emplace_back(p.labels[k], p.counts[k]);
  std::stable_sort(all.begin(), all.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t k = 0; k < all.size();) {
    const std::int64_t label = all[k].first;
    double c = 0;
    for (; k < all.size() && all[k].first == label; ++k) c += all[k].second;
    out.labels.push_back(label);
    out.counts.push_back(c);
  }
  return out;
}

template <class Policy, class L, class W>
label_counts count_labels(const Policy& policy, vector_view<L> y, const vector_view<W>* w,
                          const char* fn) {
  const index_t n = y.extent(0);
  std::vector<label_counts> parts(static_cast<std::size_t>(chunk_count(n, class_count_grain)));
  parallel_for(policy, n, class_count_grain, [&](index_t b, index_t e) {
    parts[static_cast<std::size_t>(b / class_count_grain)] = count_chunk(y, w, b, e, fn);
  });
  return merge_chunk_counts(parts);
}

template <class W>
void require_weights(vector_view<W> w, const char* fn, const char* arg) {
  static_assert(std::is_floating_point<std::remove_cv_t<W>>::value,
                "ladle weighting: sample weights must be a float or double view");
  for (index_t i = 0; i < w.extent(0); ++i) {
    const auto v = w(i);
    if (!std::isfinite(v) || v < 0)
      throw_domain_error(fn, arg, "element ", i, " (", v, ") must be finite and >= 0");
  }
}

inline void check_class_weight_options(const class_weight_options& o, const char* fn) {
  if (o.scheme == class_weight_scheme::effective_number && !(o.beta >= 0 && o.beta < 1))
    throw_domain_error(fn, "beta", "must be in [0, 1), got ", o.beta);
  if (o.scheme == class_weight_scheme::power && !std::isfinite(o.power))
    throw_domain_error(fn, "power", "must be finite, got ", o.power);
  if (std::isnan(o.clip_min) || std::isnan(o.clip_max) || o.clip_min > o.clip_max)
    throw_domain_error(fn, "clip_min", "[", o.clip_min, ", ", o.clip_max,
                       "] is not an interval");
}

// The weights of counts[0, C) (validated: finite, >= 0) into out (double). `labels` (may be null)
// only names classes in messages.
inline void weights_from_counts(const double* counts, index_t classes,
                                const std::int64_t* labels, const class_weight_options& o,
                                const char* fn, double* out) {
  check_class_weight_options(o, fn);
  double total = 0;
  index_t present = 0;
  for (index_t c = 0; c < classes; ++c) {
    total += counts[c];
    if (counts[c] > 0) {
      ++present;
    } else if (o.empty == empty_class::error) {
      throw_domain_error(fn, "counts", "class ", labels ? labels[c] : c,
                         " is empty (count 0) and empty_class::error was asked for");
    }
  }
  if (present == 0) throw_domain_error(fn, "counts", "every class count is zero");
  const double C = static_cast<double>(present);
  double sum_raw = 0, sum_weighted = 0;
  for (index_t c = 0; c < classes; ++c) {
    const double n = counts[c];
    double w = 0;
    if (n > 0) {
      switch (o.scheme) {
        case class_weight_scheme::balanced: w = total / (C * n); break;
        case class_weight_scheme::inverse: w = 1.0 / n; break;
        case class_weight_scheme::inverse_sqrt: w = 1.0 / std::sqrt(n); break;
        case class_weight_scheme::power: w = std::pow(n, -o.power); break;
        case class_weight_scheme::effective_number:
          w = inverse_effective_number(n, o.beta);
          break;
        case class_weight_scheme::uniform: w = 1.0; break;
      }
      if (!std::isfinite(w))
        throw_domain_error(fn, "counts", "the weight of class ", labels ? labels[c] : c,
                           " (count ", n, ") overflows");
    }
    out[c] = w;
    sum_raw += w;
    sum_weighted += w * n;
  }
  weight_normalization norm = o.normalization;
  if (norm == weight_normalization::automatic)
    norm = o.scheme == class_weight_scheme::effective_number ? weight_normalization::sum_to_classes
                                                             : weight_normalization::none;
  double scale = 1;
  switch (norm) {
    case weight_normalization::automatic:
    case weight_normalization::none: break;
    case weight_normalization::mean_one_over_samples: scale = total / sum_weighted; break;
    case weight_normalization::sum_to_classes: scale = C / sum_raw; break;
    case weight_normalization::sum_to_one: scale = 1.0 / sum_raw; break;
  }
  for (index_t c = 0; c < classes; ++c) {
    if (counts[c] > 0) out[c] = std::min(std::max(out[c] * scale, o.clip_min), o.clip_max);
  }
}

// Maps a label to its position in the sorted table: a dense array when the range is small.
class label_index {
 public:
  label_index(const std::vector<std::int64_t>& labels, index_t n) : labels_(&labels) {
    if (labels.empty()) return;
    lo_ = labels.front();
    const std::uint64_t span =
        static_cast<std::uint64_t>(labels.back()) - static_cast<std::uint64_t>(lo_);
    if (span < static_cast<std::uint64_t>(4 * n + 4096)) {
      range_ = static_cast<std::uint64_t>(span) + 1;
      dense_.assign(static_cast<std::size_t>(range_), -1);
      for (std::size_t k = 0; k < labels.size(); ++k)
        dense_[static_cast<std::size_t>(static_cast<std::uint64_t>(labels[k]) -
                                        static_cast<std::uint64_t>(lo_))] =
            static_cast<index_t>(k);
    }
  }
  // Position of `label`, or -1.
  index_t find(std::int64_t label) const noexcept {
    if (!dense_.empty()) {
      const std::uint64_t off = static_cast<std::uint64_t>(label) - static_cast<std::uint64_t>(lo_);
      return off < range_ ? dense_[static_cast<std::size_t>(off)] : -1;
    }
    const auto& l = *labels_;
    const auto it = std::lower_bound(l.begin(), l.end(), label);
    return (it != l.end() && *it == label) ? static_cast<index_t>(it - l.begin()) : -1;
  }

 private:
  const std::vector<std::int64_t>* labels_;
  std::int64_t lo_ = 0;
  std::uint64_t range_ = 0;
  std::vector<index_t> dense_;
};

constexpr index_t expand_grain = index_t(1) << 16;

template <class Policy, class L, class W, class TW, class T>
void expand_sample_weights(const Policy& policy, vector_view<L> y, const vector_view<W>* sw,
                           const class_weight_table<TW>& table, vector_view<T> out,
                           const char* fn) {
  static_assert(std::is_floating_point<T>::value && !std::is_const<T>::value,
                "ladle::sample_weights_into: out must be a writable float or double view");
  require_host(y, fn, "y");
  require_host(out, fn, "out");
  require_nonempty(y, fn, "y");
  const index_t n = y.extent(0);
  require_extent(out.extent(0), n, fn, "out", "length");
  if (table.labels.size() != table.weights.size())
    throw_invalid_argument(fn, "table", "has ", table.labels.size(), " labels but ",
                           table.weights.size(), " weights");
  require_disjoint(out, "out", y, "y", fn);
  if (sw != nullptr) {
    require_host(*sw, fn, "sample_weight");
    require_extent(sw->extent(0), n, fn, "sample_weight", "length");
    require_disjoint(out, "out", *sw, "sample_weight", fn);
    require_weights(*sw, fn, "sample_weight");
  }
  const label_index index(table.labels, n);
  // Validate every label before writing anything; report the first unknown one.
  const index_t bad = parallel_reduce(
      policy, n, expand_grain, index_t(-1),
      [&](index_t b, index_t e) {
        for (index_t i = b; i < e; ++i) {
          const auto v = y(i);
          if (std::is_unsigned<std::remove_cv_t<L>>::value && sizeof(L) >= 8 &&
              static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(INT64_MAX))
            return i;
          if (index.find(static_cast<std::int64_t>(v)) < 0) return i;
        }
        return index_t(-1);
      },
      [](index_t acc, index_t p) { return acc >= 0 ? acc : p; });
  if (bad >= 0)
    throw_invalid_argument(fn, "y", "element ", bad, " has label ", y(bad),
                           " which the weight table does not contain");
  parallel_for(policy, n, expand_grain, [&](index_t b, index_t e) {
    for (index_t i = b; i < e; ++i) {
      const double w = static_cast<double>(
          table.weights[static_cast<std::size_t>(index.find(static_cast<std::int64_t>(y(i))))]);
      out(i) = sw == nullptr ? static_cast<T>(w) : static_cast<T>(w * static_cast<double>((*sw)(i)));
    }
  });
}

}  // namespace detail

// ---- class_counter ----------------------------------------------------------------------------

inline double class_counter::total() const noexcept {
  double t = 0;
  for (double c : counts_) t += c;
  return t;
}

inline double class_counter::count_of(std::int64_t label) const noexcept {
  const auto it = std::lower_bound(labels_.begin(), labels_.end(), label);
  return (it != labels_.end() && *it == label) ? counts_[static_cast<std::size_t>(it - labels_.begin())]
                                               : 0.0;
}

inline void class_counter::merge_sorted(const std::vector<std::int64_t>& labels,
                                        const std::vector<double>& counts) {
  std::vector<std::int64_t> l;
  std::vector<double> c;
  l.reserve(labels_.size() + labels.size());
  c.reserve(labels_.size() + labels.size());
  std::size_t i = 0, j = 0;
  while (i < labels_.size() || j < labels.size()) {
    if (j == labels.size() || (i < labels_.size() && labels_[i] < labels[j])) {
      l.push_back(labels_[i]);
      c.push_back(counts_[i++]);
    } else if (i == labels_.size() || labels[j] < labels_[i]) {
      l.push_back(labels[j]);
      c.push_back(counts[j++]);
    } else {
      l.push_back(labels_[i]);
      c.push_back(counts_[i++] + counts[j++]);
    }
  }
  labels_ = std::move(l);
  counts_ = std::move(c);
}

template <class Policy, class L>
void class_counter::add(const Policy& policy, vector_view<L> y) {
  detail::require_host(y, "class_counter::add", "y");
  auto batch = detail::count_labels<Policy, L, const float>(policy, y, nullptr,
                                                            "class_counter::add");
  merge_sorted(batch.labels, batch.counts);
}

template <class Policy, class L, class W>
void class_counter::add(const Policy& policy, vector_view<L> y, vector_view<W> sample_weight) {
  const char* fn = "class_counter::add";
  detail::require_host(y, fn, "y");
  detail::require_host(sample_weight, fn, "sample_weight");
  detail::require_extent(sample_weight.extent(0), y.extent(0), fn, "sample_weight", "length");
  detail::require_weights(sample_weight, fn, "sample_weight");
  auto batch = detail::count_labels(policy, y, &sample_weight, fn);
  merge_sorted(batch.labels, batch.counts);
}

inline void class_counter::add_count(std::int64_t label, double count) {
  if (!std::isfinite(count) || count < 0)
    throw_domain_error("class_counter::add_count", "count", "must be finite and >= 0, got ",
                       count);
  merge_sorted({label}, {count});
}

inline void class_counter::merge(const class_counter& other) {
  if (&other == this) {
    for (double& c : counts_) c += c;
    return;
  }
  merge_sorted(other.labels_, other.counts_);
}

// ---- weights ----------------------------------------------------------------------------------

template <class T>
T class_weight_table<T>::at(std::int64_t label) const {
  const auto it = std::lower_bound(labels.begin(), labels.end(), label);
  if (it == labels.end() || *it != label)
    throw_invalid_argument("class_weight_table::at", "label", label, " is not in the table");
  return weights[static_cast<std::size_t>(it - labels.begin())];
}

inline double inverse_effective_number(double n, double beta) {
  if (!(beta >= 0 && beta < 1))
    throw_domain_error("inverse_effective_number", "beta", "must be in [0, 1), got ", beta);
  if (!(n > 0) || !std::isfinite(n))
    throw_domain_error("inverse_effective_number", "n", "must be finite and > 0, got ", n);
  if (beta == 0) return 1.0;
  // log(beta) without rounding beta - 1 away: beta - 1 is exact for beta in [0.5, 1).
  const double log_beta = beta >= 0.5 ? std::log1p(beta - 1.0) : std::log(beta);
  const double one_minus_beta_n = -std::expm1(n * log_beta);  // 1 - beta^n, no cancellation
  return (1.0 - beta) / one_minus_beta_n;
}

template <class T>
class_weight_table<T> class_weights(const class_counter& counts, const class_weight_options& opts) {
  static_assert(std::is_floating_point<T>::value, "ladle::class_weights: T is float or double");
  const char* fn = "class_weights";
  if (counts.size() == 0) throw_invalid_argument(fn, "counts", "holds no classes");
  std::vector<double> w(counts.labels().size());
  detail::weights_from_counts(counts.counts().data(), counts.size(), counts.labels().data(), opts,
                              fn, w.data());
  class_weight_table<T> out;
  out.labels = counts.labels();
  out.weights.assign(w.begin(), w.end());
  return out;
}

template <class T, class Policy, class L, class>
class_weight_table<T> class_weights(const Policy& policy, vector_view<L> y,
                                    const class_weight_options& opts) {
  detail::require_nonempty(y, "class_weights", "y");
  detail::check_class_weight_options(opts, "class_weights");
  class_counter c;
  c.add(policy, y);
  return class_weights<T>(c, opts);
}

template <class T, class Policy, class L, class W>
class_weight_table<T> class_weights(const Policy& policy, vector_view<L> y,
                                    vector_view<W> sample_weight,
                                    const class_weight_options& opts) {
  detail::require_nonempty(y, "class_weights", "y");
  detail::require_extent(sample_weight.extent(0), y.extent(0), "class_weights", "sample_weight",
                         "length");
  detail::require_weights(sample_weight, "class_weights", "sample_weight");
  detail::check_class_weight_options(opts, "class_weights");
  class_counter c;
  c.add(policy, y, sample_weight);
  return class_weights<T>(c, opts);
}

template <class C, class T>
void class_weights_from_counts_into(vector_view<C> counts, vector_view<T> out,
                                    const class_weight_options& opts) {
  static_assert(std::is_floating_point<T>::value && !std::is_const<T>::value,
                "ladle::class_weights_from_counts_into: out must be a writable float or double view");
  const char* fn = "class_weights_from_counts_into";
  detail::require_host(counts, fn, "counts");
  detail::require_host(out, fn, "out");
  detail::require_nonempty(counts, fn, "counts");
  detail::require_extent(out.extent(0), counts.extent(0), fn, "out", "length");
  detail::require_disjoint(out, "out", counts, "counts", fn);
  const index_t k = counts.extent(0);
  std::vector<double> c(static_cast<std::size_t>(k)), w(static_cast<std::size_t>(k));
  for (index_t i = 0; i < k; ++i) {
    const double v = static_cast<double>(counts(i));
    if (!std::isfinite(v) || v < 0)
      throw_domain_error(fn, "counts", "element ", i, " (", v, ") must be finite and >= 0");
    c[static_cast<std::size_t>(i)] = v;
  }
  detail::weights_from_counts(c.data(), k, nullptr, opts, fn, w.data());
  for (index_t i = 0; i < k; ++i) out(i) = static_cast<T>(w[static_cast<std::size_t>(i)]);
}

template <class T, class C>
std::vector<T> class_weights_from_counts(vector_view<C> counts, const class_weight_options& opts) {
  std::vector<T> out(static_cast<std::size_t>(counts.extent(0)));
  class_weights_from_counts_into(counts, make_view(out.data(), out.size()), opts);
  return out;
}

template <class Policy, class L, class TW, class T>
void sample_weights_into(const Policy& policy, vector_view<L> y, const class_weight_table<TW>& table,
                         vector_view<T> out) {
  detail::expand_sample_weights<Policy, L, const float>(policy, y, nullptr, table, out,
                                                        "sample_weights_into");
}

template <class Policy, class L, class W, class TW, class T>
void sample_weights_into(const Policy& policy, vector_view<L> y, vector_view<W> sample_weight,
                         const class_weight_table<TW>& table, vector_view<T> out) {
  detail::expand_sample_weights(policy, y, &sample_weight, table, out, "sample_weights_into");
}

template <class T, class Policy, class L>
std::vector<T> sample_weights(const Policy& policy, vector_view<L> y,
                              const class_weight_options& opts) {
  const auto table = class_weights<double>(policy, y, opts);
  std::vector<T> out(static_cast<std::size_t>(y.extent(0)));
  detail::expand_sample_weights<Policy, L, const float>(policy, y, nullptr, table,
                                                        make_view(out.data(), out.size()),
                                                        "sample_weights");
  return out;
}

}  // namespace ladle
