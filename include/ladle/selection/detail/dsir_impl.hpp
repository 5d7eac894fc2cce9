// Definitions for ladle/selection/dsir.hpp.
#pragma once

#include "ladle/core/checks.hpp"
#include "ladle/core/fp_contract.hpp"
#include "ladle/selection/detail/common.hpp"
#include "ladle/selection/detail/dsir_memo.hpp"
#include "ladle/selection/detail/unicode_tables.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>

namespace ladle {
namespace detail {

// ---- Unicode lookups ------------------------------------------------------------------------

template <std::size_t N>
inline bool in_ranges(const unicode::range32 (&r)[N], std::uint32_t c) noexcept {
  std::size_t lo = 0, hi = N;  // first range with last >= c
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (r[mid].last < c) lo = mid + 1;
    else hi = mid;
  }
  return lo < N && r[lo].first <= c;
}

inline std::uint32_t unicode_lower(std::uint32_t c) noexcept {
  constexpr std::size_t n = sizeof(unicode::lower_runs) / sizeof(unicode::lower_runs[0]);
  std::size_t lo = 0, hi = n;
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (unicode::lower_runs[mid].last < c) lo = mid + 1;
    else hi = mid;
  }
  if (lo == n) return c;
  const unicode::lower_run& r = unicode::lower_runs[lo];
  if (c < r.first || (c - r.first) % static_cast<std::uint32_t>(r.stride) != 0) return c;
  return static_cast<std::uint32_t>(static_cast<std::int64_t>(c) + r.delta);
}

enum char_class : std::uint8_t { cls_space = 0, cls_word = 1, cls_punct = 2 };

struct ascii_tables {
  std::uint8_t cls[128];
  char lower[128];
  constexpr ascii_tables() : cls(), lower() {
    for (int c = 0; c < 128; ++c) {
      const bool word = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                        (c >= 'A' && c <= 'Z') || c == '_';
      const bool space = (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20);
      cls[c] = word ? cls_word : space ? cls_space : cls_punct;
      lower[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
  }
};
inline constexpr ascii_tables ascii{};

inline char_class unicode_class(std::uint32_t c) noexcept {
  if (c < 128) return static_cast<char_class>(ascii.cls[c]);
  if (in_ranges(unicode::word_ranges, c)) return cls_word;
  if (in_ranges(unicode::space_ranges, c)) return cls_space;
  return cls_punct;
}

/// Strict UTF-8 decoding (as Python's): returns the offset of the first invalid byte, or -1.
inline std::ptrdiff_t decode_utf8(std::string_view s, std::vector<std::uint32_t>& out) {
  out.clear();
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned b0 = p[i];
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    }
    int len;
    std::uint32_t c;
    unsigned lo = 0x80, hi = 0xbf;  // allowed range of the second byte
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      len = 2;
      c = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      len = 3;
      c = b0 & 0x0f;
      if (b0 == 0xe0) lo = 0xa0;        // no overlong forms
      if (b0 == 0xed) hi = 0x9f;        // no surrogates
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      len = 4;
      c = b0 & 0x07;
      if (b0 == 0xf0) lo = 0x90;
      if (b0 == 0xf4) hi = 0x8f;        // <= U+10FFFF
    } else {
      return static_cast<std::ptrdiff_t>(i);
    }
    if (i + 1 >= n || p[i + 1] < lo || p[i + 1] > hi) return static_cast<std::ptrdiff_t>(i);
    for (int j = 1; j < len; ++j) {
      if (i + std::size_t(j) >= n || (p[i + std::size_t(j)] & 0xc0) != 0x80)
        return static_cast<std::ptrdiff_t>(i);
      c = (c << 6) | (p[i + std::size_t(j)] & 0x3f);
    }
    out.push_back(c);
    i += std::size_t(len);
  }
  return -1;
}

inline void append_utf8(std::string& s, std::uint32_t c) {
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else if (c < 0x800) {
    s += static_cast<char>(0xc0 | (c >> 6));
    s += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    s += static_cast<char>(0xe0 | (c >> 12));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (c & 0x3f));
  } else {
    s += static_cast<char>(0xf0 | (c >> 18));
    s += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (c & 0x3f));
  }
}

inline bool is_ascii(std::string_view s) noexcept {
  const char* p = s.data();
  std::size_t n = s.size(), i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w & 0x8080808080808080ull) return false;
  }
  for (; i < n; ++i)
    if (static_cast<unsigned char>(p[i]) >= 0x80) return false;
  return true;
}

/// Python's Final_Sigma context for a capital sigma at i of the original text: a cased letter
/// before it (skipping case-ignorable ones) and none after it (likewise).
inline bool final_sigma(const std::vector<std::uint32_t>& cps, std::size_t i) noexcept {
  std::size_t j = i;
  bool before = false;
  while (j > 0) {
    const std::uint32_t c = cps[--j];
    if (in_ranges(unicode::case_ignorable_ranges, c)) continue;
    before = in_ranges(unicode::cased_ranges, c);
    break;
  }
  if (!before) return false;
  for (j = i + 1; j < cps.size(); ++j) {
    const std::uint32_t c = cps[j];
    if (in_ranges(unicode::case_ignorable_ranges, c)) continue;
    return !in_ranges(unicode::cased_ranges, c);
  }
  return true;
}

/// Tokens of one document laid out as "t1 t2 ... tT" (one space between), so every n-gram is a
/// contiguous slice of `text`. Scratch buffers are kept between documents.
struct dsir_tokens {
  std::string text;
  std::vector<std::uint32_t> begin, end;
  std::vector<std::uint32_t> cps, lowered;  // scratch for non-ASCII documents
  std::vector<std::uint8_t> classes;

  void start_token() {
    if (!text.empty()) text += ' ';
    begin.push_back(static_cast<std::uint32_t>(text.size()));
  }
  void end_token() { end.push_back(static_cast<std::uint32_t>(text.size())); }

  /// Returns -1, or the byte offset of invalid UTF-8.
  std::ptrdiff_t tokenize(std::string_view s) {
    text.clear();
    begin.clear();
    end.clear();
    text.reserve(s.size() + 1);
    if (is_ascii(s)) {  // no tables beyond 128 entries; at most 2 bytes out per byte in
      text.resize(2 * s.size());
      begin.resize(s.size());  // at most one token per byte
      end.resize(s.size());
      char* out = &text[0];
      std::uint32_t* b = begin.data();
      std::uint32_t* e = end.data();
      std::uint32_t at = 0;
      std::size_t tokens = 0;
      int prev = cls_space;
      for (const char ch : s) {
        const int c = ascii.cls[static_cast<unsigned char>(ch)];
        if (c != prev) {
          if (prev != cls_space) e[tokens++] = at;
          if (c != cls_space) {
            if (at > 0) out[at++] = ' ';
            b[tokens] = at;
          }
          prev = c;
        }
        out[at] = ascii.lower[static_cast<unsigned char>(ch)];  // kept only when not a space
        at += c != cls_space;
      }
      if (prev != cls_space) e[tokens++] = at;
      text.resize(at);
      begin.resize(tokens);
      end.resize(tokens);
      return -1;
    }
    const std::ptrdiff_t bad = decode_utf8(s, cps);
    if (bad >= 0) return bad;
    lowered.clear();
    for (std::size_t i = 0; i < cps.size(); ++i) {
      const std::uint32_t c = cps[i];
      if (c == 0x130) {  // the one expanding lower case: "i" + combining dot above
        lowered.push_back('i');
        lowered.push_back(0x307);
      } else if (c == 0x3a3) {
        lowered.push_back(final_sigma(cps, i) ? 0x3c2u : 0x3c3u);
      } else {
        lowered.push_back(c < 128 ? static_cast<unsigned char>(ascii.lower[c]) : unicode_lower(c));
      }
    }
    int prev = cls_space;
    for (const std::uint32_t c : lowered) {
      const int k = unicode_class(c);
      if (k != prev) {
        if (prev != cls_space) end_token();
        if (k != cls_space) start_token();
        prev = k;
      }
      if (k != cls_space) append_utf8(text, c);
    }
    if (prev != cls_space) end_token();
    return -1;
  }
};

/// bucket = SHA-256 (big-endian 256-bit integer) mod m, with m < 2^32: the digest as sixteen
/// 16-bit digits d_j, sum_j d_j * (2^(16 (15 - j)) mod m) < 16 * 2^16 * 2^32 fits in 64 bits,
/// then one reduction (a double-precision quotient estimate, corrected exactly in integers).
/// N-grams shorter than 56 bytes are one padded block; they are hashed two at a time.
struct dsir_hasher {
  sha256_blocks_fn blocks = sha256_blocks_best();
  sha256_one_block_x2_fn x2 = sha256_one_block_x2_best();
  std::uint32_t m;
  double inv_m;
  std::uint64_t pow16[16];
  explicit dsir_hasher(std::uint32_t buckets) : m(buckets), inv_m(1.0 / double(buckets)) {
    std::uint64_t p = 1 % m;
    for (int j = 15; j >= 0; --j) {
      pow16[j] = p;
      p = (p << 16) % m;
    }
  }
  std::uint32_t reduce(std::uint64_t acc) const noexcept {  // acc < 2^52: exact as a double
    const auto q = static_cast<std::uint64_t>(static_cast<double>(acc) * inv_m);
    std::int64_t r = static_cast<std::int64_t>(acc - q * m);  // the estimate is off by at most 1
    if (r < 0) r += m;
    if (r >= std::int64_t(m)) r -= m;
    return static_cast<std::uint32_t>(r);
  }
  std::uint32_t bucket_of_words(const std::uint32_t* w) const noexcept {
    std::uint64_t acc = 0;
    for (int j = 0; j < 8; ++j)
      acc += std::uint64_t(w[j] >> 16) * pow16[2 * j] + std::uint64_t(w[j] & 0xffffu) * pow16[2 * j + 1];
    return reduce(acc);
  }
  std::uint32_t bucket(const char* data, std::size_t size) const noexcept {
    const sha256_digest h = sha256_with(blocks, data, size);
    std::uint32_t w[8];
    for (int j = 0; j < 8; ++j)
      w[j] = std::uint32_t(h[std::size_t(4 * j)]) << 24 | std::uint32_t(h[std::size_t(4 * j + 1)]) << 16 |
             std::uint32_t(h[std::size_t(4 * j + 2)]) << 8 | h[std::size_t(4 * j + 3)];
    return bucket_of_words(w);
  }
  static void pad(const char* data, std::size_t size, std::uint8_t* block) noexcept {
    std::memset(block, 0, 64);
    std::memcpy(block, data, size);
    block[size] = 0x80;
    const std::size_t bits = size * 8;  // < 448
    block[62] = static_cast<std::uint8_t>(bits >> 8);
    block[63] = static_cast<std::uint8_t>(bits);
  }
  /// out[i] = bucket of base[begin[i], end[i]) for i < count.
  void buckets(const char* base, const std::uint32_t* begin, const std::uint32_t* end,
               std::size_t count, std::uint32_t* out) const noexcept {
    alignas(16) std::uint8_t blk[2][64];
    std::uint32_t words[2][8];
    std::size_t pending = 0, slot[2] = {0, 0};
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t len = end[i] - begin[i];
      if (len >= 56) {
        out[i] = bucket(base + begin[i], len);
        continue;
      }
      pad(base + begin[i], len, blk[pending]);
      slot[pending++] = i;
      if (pending == 2) {
        x2(blk[0], blk[1], words[0], words[1]);
        out[slot[0]] = bucket_of_words(words[0]);
        out[slot[1]] = bucket_of_words(words[1]);
        pending = 0;
      }
    }
    if (pending == 1) {
      x2(blk[0], blk[0], words[0], words[1]);
      out[slot[0]] = bucket_of_words(words[0]);
    }
  }
};

inline void check_dsir_options(const dsir_options& o, const char* fn) {
  if (o.buckets == 0) throw_invalid_argument(fn, "options.buckets", "must be positive, got 0");
  if (o.ngrams < 1 || o.ngrams > 8)
    throw_invalid_argument(fn, "options.ngrams", "must be in [1, 8], got ", o.ngrams);
}

/// Featurises documents with reused scratch space: the bucket of every n-gram occurrence, then
/// the distinct buckets in order of first occurrence with their counts. With a memo (many
/// documents), unigrams and bigrams found there skip SHA-256; the rest are hashed in one batch.
struct dsir_featurizer {
  dsir_options opts;
  dsir_hasher hasher;
  dsir_tokens tokens;
  std::unique_ptr<dsir_memo> memo;
  std::vector<std::uint32_t> all, span_begin, span_end;  // bucket of every n-gram occurrence
  std::vector<std::uint32_t> distinct, counts, table;
  struct miss {
    std::uint32_t at;    // index into all
    std::uint32_t key;   // the memo entry to fill: a pair key, or dsir_memo::no_pair
    long token;          // or the token id (-1: none)
  };
  std::vector<miss> misses;
  std::vector<long> ids;  // memo id of each token, -1 if none
  std::vector<std::uint32_t> pair_keys;
  std::vector<std::uint32_t> hashed;

  bool pooled;            // many documents expected: a memo and a bucket-indexed count table
  std::size_t memo_after;  // documents featurised before the memo is built (small calls skip it)
  std::size_t seen = 0;

  explicit dsir_featurizer(const dsir_options& o, bool many = false, std::size_t after = 32)
      : opts(o), hasher(o.buckets), pooled(many), memo_after(after) {}

  /// Fills all (the bucket of every n-gram); returns -1 or the offset of invalid UTF-8.
  std::ptrdiff_t hash(std::string_view text) {
    const std::ptrdiff_t bad = tokens.tokenize(text);
    if (bad >= 0) return bad;
    if (pooled && !memo && seen++ >= memo_after) memo.reset(new dsir_memo());
    const std::size_t t = tokens.begin.size();
    std::size_t g = 0;
    for (std::size_t n = 1; n <= static_cast<std::size_t>(opts.ngrams) && n <= t; ++n) g += t - n + 1;
    all.resize(g);
    if (memo) {
      hash_with_memo(t);
    } else {
      span_begin.resize(g);
      span_end.resize(g);
      std::size_t at = 0;
      for (std::size_t n = 1; n <= static_cast<std::size_t>(opts.ngrams) && n <= t; ++n)
        for (std::size_t i = 0; i + n <= t; ++i, ++at) {
          span_begin[at] = tokens.begin[i];
          span_end[at] = tokens.end[i + n - 1];
        }
      hasher.buckets(tokens.text.data(), span_begin.data(), span_end.data(), g, all.data());
    }
    count_distinct();
    return -1;
  }

  void add_miss(std::uint32_t at, std::uint32_t first, std::uint32_t last, std::uint32_t key,
                long token) {
    misses.push_back({at, key, token});
    span_begin.push_back(tokens.begin[first]);
    span_end.push_back(tokens.end[last]);
  }

  /// all[] through the memo: look every unigram and bigram up, hash the misses (and every
  /// longer n-gram) in one batch, store the new buckets, then read the token buckets.
  void hash_with_memo(std::size_t t) {
    dsir_memo& m = *memo;
    const std::size_t size = tokens.text.size();
    tokens.text.append(dsir_memo::max_len, '\0');  // key_of reads max_len bytes from any token
    const char* base = tokens.text.data();
    misses.clear();
    span_begin.clear();
    span_end.clear();
    // Probe positions first, prefetched, so the table's cache misses overlap.
    ids.resize(t);
    for (std::size_t i = 0; i < t; ++i) {
      const std::size_t len = tokens.end[i] - tokens.begin[i];
      if (len > dsir_memo::max_len) {
        ids[i] = -1;
        continue;
      }
      const std::size_t h = dsir_memo::home(base + tokens.begin[i], len);
      dsir_memo::prefetch(&m.tokens[h]);
      ids[i] = static_cast<long>(h);
    }
    for (std::size_t i = 0; i < t; ++i) {
      bool added = false;
      if (ids[i] >= 0)
        ids[i] = m.find_or_add(std::size_t(ids[i]), base + tokens.begin[i],
                               tokens.end[i] - tokens.begin[i], added);
      if (ids[i] < 0 || added)
        add_miss(std::uint32_t(i), std::uint32_t(i), std::uint32_t(i), dsir_memo::no_pair, ids[i]);
    }
    if (opts.ngrams >= 2 && t >= 2) {
      pair_keys.resize(t - 1);
      for (std::size_t i = 0; i + 1 < t; ++i) {
        std::uint32_t key = dsir_memo::no_pair;
        if (ids[i] >= 0 && ids[i + 1] >= 0) {
          key = dsir_memo::pair_key(ids[i], ids[i + 1]);
          dsir_memo::prefetch(&m.pairs[dsir_memo::pair_slot(key)]);
        }
        pair_keys[i] = key;
      }
      for (std::size_t i = 0; i + 1 < t; ++i) {
        const std::uint32_t key = pair_keys[i];
        if (key != dsir_memo::no_pair) {
          const dsir_memo::pair_entry& e = m.pairs[dsir_memo::pair_slot(key)];
          if (e.key == key) {
            all[t + i] = e.bucket;
            continue;
          }
        }
        add_miss(std::uint32_t(t + i), std::uint32_t(i), std::uint32_t(i + 1), key, -1);
      }
    }
    std::size_t at = t + (t >= 2 && opts.ngrams >= 2 ? t - 1 : 0);
    for (std::size_t n = 3; n <= static_cast<std::size_t>(opts.ngrams) && n <= t; ++n)
      for (std::size_t i = 0; i + n <= t; ++i, ++at)
        add_miss(std::uint32_t(at), std::uint32_t(i), std::uint32_t(i + n - 1), dsir_memo::no_pair, -1);
    hashed.resize(misses.size());
    hasher.buckets(base, span_begin.data(), span_end.data(), misses.size(), hashed.data());
    for (std::size_t j = 0; j < misses.size(); ++j) {
      const miss& x = misses[j];
      all[x.at] = hashed[j];
      if (x.token >= 0) m.tokens[std::size_t(x.token)].bucket = hashed[j];
      if (x.key != dsir_memo::no_pair) m.pairs[dsir_memo::pair_slot(x.key)] = {x.key, hashed[j]};
    }
    for (std::size_t i = 0; i < t; ++i)
      if (ids[i] >= 0) all[i] = m.tokens[std::size_t(ids[i])].bucket;
    tokens.text.resize(size);
  }

  /// distinct / counts: the buckets of `all` in order of first occurrence, with multiplicities.
  /// Pooled featurizers with at most 2^16 buckets index a table by bucket (cleared after each
  /// document); otherwise an open-addressing table of at least twice as many slots as occurrences.
  void count_distinct() {
    distinct.clear();
    counts.clear();
    if (pooled && opts.buckets <= (1u << 16)) {
      if (table.size() != opts.buckets) table.assign(opts.buckets, 0u);  // 0 = absent, else index + 1
      std::uint32_t* slot = table.data();
      for (const std::uint32_t b : all) {
        const std::uint32_t e = slot[b];
        if (e == 0) {
          distinct.push_back(b);
          counts.push_back(1);
          slot[b] = static_cast<std::uint32_t>(distinct.size());
        } else {
          ++counts[e - 1];
        }
      }
      for (const std::uint32_t b : distinct) slot[b] = 0;
      return;
    }
    int bits = 4;
    while ((std::size_t(1) << bits) < 2 * all.size()) ++bits;
    const std::size_t size = std::size_t(1) << bits, mask = size - 1;
    if (table.size() < size) table.resize(size);
    std::fill(table.begin(), table.begin() + std::ptrdiff_t(size), 0u);  // 0 = empty, else index + 1
    for (const std::uint32_t b : all) {
      std::size_t h = (std::uint32_t(b * 0x9E3779B1u) >> (32 - bits)) & mask;
      while (true) {
        const std::uint32_t e = table[h];
        if (e == 0) {
          table[h] = static_cast<std::uint32_t>(distinct.size() + 1);
          distinct.push_back(b);
          counts.push_back(1);
          break;
        }
        if (distinct[e - 1] == b) {
          ++counts[e - 1];
          break;
        }
        h = (h + 1) & mask;
      }
    }
  }

  double length() const noexcept {
    const std::uint64_t n = static_cast<std::uint64_t>(opts.ngrams);
    return static_cast<double>((all.size() + n * (n - 1) / 2) / n);
  }

  void features(dsir_features& f) const {
    f.buckets = distinct;
    f.counts = counts;
    f.ngrams = static_cast<std::int64_t>(all.size());
    f.length = length();
  }

  /// One fma per distinct bucket, in order of first occurrence (as dsir_log_weight).
  double log_weight(const double* ratios) const noexcept {
    double acc = 0;
    for (std::size_t i = 0; i < distinct.size(); ++i)
      acc = std::fma(static_cast<double>(counts[i]), ratios[distinct[i]], acc);
    return acc;
  }
};

/// `where`: the file's path, or null for an in-memory document (doc < 0: the only one).
[[noreturn]] inline void throw_bad_utf8(const char* fn, const char* arg, std::ptrdiff_t offset,
                                        index_t doc, const char* where = nullptr) {
  if (doc < 0) throw_domain_error(fn, arg, "is not valid UTF-8 (byte ", offset, ")");
  if (!where) throw_domain_error(fn, arg, "document ", doc, " is not valid UTF-8 (byte ", offset, ")");
  throw_domain_error(fn, arg, "document ", doc, " (line ", doc + 1, " of '", where,
                     "') is not valid UTF-8 (byte ", offset, ")");
}

// ---- a small JSON reader: one string member of an object --------------------------------------

struct json_line_reader {
  std::string_view s;
  std::size_t i = 0;
  const char* error = nullptr;

  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  }
  bool fail(const char* what) {
    if (!error) error = what;
    return false;
  }
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool hex4(std::uint32_t& v) {
    if (i + 4 > s.size()) return fail("truncated \\u escape");
    v = 0;
    for (int k = 0; k < 4; ++k) {
      const int h = hex(s[i + std::size_t(k)]);
      if (h < 0) return fail("bad hex digit in a \\u escape");
      v = v * 16 + std::uint32_t(h);
    }
    i += 4;
    return true;
  }
  /// A string at i (the opening quote); decoded into *out when out is not null.
  bool string(std::string* out) {
    if (i >= s.size() || s[i] != '"') return fail("expected a string");
    ++i;
    if (out) out->clear();
    while (true) {
      if (i >= s.size()) return fail("unterminated string");
      const char c = s[i++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string");
      if (c != '\\') {
        if (out) *out += c;
        continue;
      }
      if (i >= s.size()) return fail("unterminated string");
      const char e = s[i++];
      char lit = 0;
      switch (e) {
        case '"': lit = '"'; break;
        case '\\': lit = '\\'; break;
        case '/': lit = '/'; break;
        case 'b': lit = '\b'; break;
        case 'f': lit = '\f'; break;
        case 'n': lit = '\n'; break;
        case 'r': lit = '\r'; break;
        case 't': lit = '\t'; break;
        case 'u': {
          std::uint32_t v;
          if (!hex4(v)) return false;
          if (v >= 0xdc00 && v <= 0xdfff) return fail("lone low surrogate in a \\u escape");
          if (v >= 0xd800 && v <= 0xdbff) {
            std::uint32_t lo;
            if (i + 2 > s.size() || s[i] != '\\' || s[i + 1] != 'u')
              return fail("high surrogate without a low surrogate");
            i += 2;
            if (!hex4(lo)) return false;
            if (lo < 0xdc00 || lo > 0xdfff) return fail("high surrogate without a low surrogate");
            v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
          }
          if (out) append_utf8(*out, v);
          continue;
        }
        default: return fail("unknown escape");
      }
      if (out) *out += lit;
    }
  }
  bool literal(const char* word) {
    const std::size_t n = std::strlen(word);
    if (s.substr(i, n) != word) return fail("unexpected character");
    i += n;
    return true;
  }
  bool number() {
    const std::size_t start = i;
    if (i < s.size() && s[i] == '-') ++i;
    const std::size_t digits = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == digits) return fail("unexpected character");
    if (i < s.size() && s[i] == '.') {
      ++i;
      const std::size_t f = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      if (i == f) return fail("bad number");
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
      const std::size_t f = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      if (i == f) return fail("bad number");
    }
    return i > start;
  }
  bool value(int depth) {
    if (depth > 512) return fail("nested too deeply");
    ws();
    if (i >= s.size()) return fail("missing value");
    const char c = s[i];
    if (c == '"') return string(nullptr);
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++i;
      ws();
      if (i < s.size() && s[i] == close) {
        ++i;
        return true;
      }
      while (true) {
        if (c == '{') {
          ws();
          if (!string(nullptr)) return false;
          ws();
          if (i >= s.size() || s[i] != ':') return fail("expected ':'");
          ++i;
        }
        if (!value(depth + 1)) return false;
        ws();
        if (i < s.size() && s[i] == ',') {
          ++i;
          continue;
        }
        if (i < s.size() && s[i] == close) {
          ++i;
          return true;
        }
        return fail(c == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
    if (c == 't') return literal("true");
    if (c == 'f') return literal("false");
    if (c == 'n') return literal("null");
    return number();
  }
  /// The top-level object's member `field` (the last one when repeated) into out. Returns
  /// nullptr, or what is wrong.
  const char* field(std::string_view name, std::string& out) {
    std::string key;
    bool found = false;
    ws();
    if (i >= s.size() || s[i] != '{') return "not a JSON object";
    ++i;
    ws();
    if (i < s.size() && s[i] == '}') {
      ++i;
    } else {
      while (true) {
        ws();
        if (!string(&key)) return error;
        ws();
        if (i >= s.size() || s[i] != ':') return "expected ':'";
        ++i;
        ws();
        if (key == name) {
          if (i >= s.size() || s[i] != '"') return "the field is not a string";
          if (!string(&out)) return error;
          found = true;
        } else if (!value(0)) {
          return error;
        }
        ws();
        if (i < s.size() && s[i] == ',') {
          ++i;
          continue;
        }
        if (i < s.size() && s[i] == '}') {
          ++i;
          break;
        }
        return "expected ',' or '}'";
      }
    }
    ws();
    if (i != s.size()) return "text after the JSON object";
    if (!found) return "the field is missing";
    return nullptr;
  }
};

}  // namespace detail

// ---- featurising ----------------------------------------------------------------------------

inline std::vector<std::string> dsir_tokenize(std::string_view text) {
  detail::dsir_tokens t;
  const std::ptrdiff_t bad = t.tokenize(text);
  if (bad >= 0) detail::throw_bad_utf8("dsir_tokenize", "text", bad, -1);
  std::vector<std::string> out;
  out.reserve(t.begin.size());
  for (std::size_t i = 0; i < t.begin.size(); ++i)
    out.emplace_back(t.text, t.begin[i], t.end[i] - t.begin[i]);
  return out;
}

inline dsir_features dsir_featurize(std::string_view text, const dsir_options& opts) {
  detail::check_dsir_options(opts, "dsir_featurize");
  detail::dsir_featurizer f(opts);
  const std::ptrdiff_t bad = f.hash(text);
  if (bad >= 0) detail::throw_bad_utf8("dsir_featurize", "text", bad, -1);
  dsir_features out;
  f.features(out);
  return out;
}

// ---- models and weights ---------------------------------------------------------------------

inline dsir_ngram_model::dsir_ngram_model(const dsir_options& opts) : opts_(opts) {
  detail::check_dsir_options(opts, "dsir_ngram_model");
  counts_ = detail::make_buffer<std::uint64_t>(static_cast<index_t>(opts.buckets),
                                               "dsir_ngram_model", "options.buckets");
}

inline void dsir_ngram_model::add(const dsir_features& f) {
  if (f.buckets.size() != f.counts.size())
    throw_invalid_argument("dsir_ngram_model::add", "features", "has ", f.buckets.size(),
                           " buckets but ", f.counts.size(), " counts");
  for (std::size_t i = 0; i < f.buckets.size(); ++i)
    if (f.buckets[i] >= opts_.buckets)
      throw_invalid_argument("dsir_ngram_model::add", "features", "has bucket ", f.buckets[i],
                             " at index ", i, " but the model has ", opts_.buckets, " buckets");
  for (std::size_t i = 0; i < f.buckets.size(); ++i) {
    counts_[f.buckets[i]] += f.counts[i];
    total_ += f.counts[i];
  }
  ++documents_;
}

inline void dsir_ngram_model::merge(const dsir_ngram_model& other) {
  if (other.opts_.buckets != opts_.buckets || other.opts_.ngrams != opts_.ngrams)
    throw_invalid_argument("dsir_ngram_model::merge", "other", "has ", other.opts_.buckets,
                           " buckets and ngrams ", other.opts_.ngrams, ", this model ",
                           opts_.buckets, " and ", opts_.ngrams);
  for (std::size_t b = 0; b < counts_.size(); ++b) counts_[b] += other.counts_[b];
  total_ += other.total_;
  documents_ += other.documents_;
}

inline std::vector<double> dsir_log_ratios(const dsir_ngram_model& raw,
                                           const dsir_ngram_model& target,
                                           double target_smoothing) {
  const char* fn = "dsir_log_ratios";
  if (raw.options().buckets != target.options().buckets)
    throw_invalid_argument(fn, "target", "has ", target.options().buckets,
                           " buckets but raw has ", raw.options().buckets);
  if (!(target_smoothing >= 0) || !std::isfinite(target_smoothing))
    throw_domain_error(fn, "target_smoothing", "must be finite and >= 0, got ", target_smoothing);
  if (raw.total() == 0)
    throw_invalid_argument(fn, "raw", "has no n-grams (", raw.documents(), " documents)");
  if (target.total() == 0 && target_smoothing == 0)
    throw_invalid_argument(fn, "target", "has no n-grams (", target.documents(),
                           " documents) and target_smoothing is 0");
  const std::size_t nb = raw.counts().size();
  const double p_total = static_cast<double>(raw.total());
  const double q_total = static_cast<double>(target.total()) +
                         detail::mul_rounded(target_smoothing, static_cast<double>(nb));  // not fused
  std::vector<double> out(nb);
  for (std::size_t b = 0; b < nb; ++b) {
    const double p = static_cast<double>(raw.counts()[b]) / p_total;
    const double q = (static_cast<double>(target.counts()[b]) + target_smoothing) / q_total;
    out[b] = std::log(q + 1e-8) - std::log(p + 1e-8);
  }
  return out;
}

inline double dsir_log_weight(const dsir_features& f, const std::vector<double>& log_ratios) {
  if (f.buckets.size() != f.counts.size())
    throw_invalid_argument("dsir_log_weight", "features", "has ", f.buckets.size(),
                           " buckets but ", f.counts.size(), " counts");
  double acc = 0;
  for (std::size_t i = 0; i < f.buckets.size(); ++i) {
    if (f.buckets[i] >= log_ratios.size())
      throw_invalid_argument("dsir_log_weight", "features", "has bucket ", f.buckets[i],
                             " at index ", i, " but log_ratios has ", log_ratios.size());
    acc = std::fma(static_cast<double>(f.counts[i]), log_ratios[f.buckets[i]], acc);
  }
  return acc;
}

// ---- resampling -----------------------------------------------------------------------------

template <class Policy>
std::vector<index_t> dsir_resample(const Policy& policy, vector_view<const double> log_weights,
                                   vector_view<const double> lengths, index_t k, seed s,
                                   const dsir_resample_options& opts) {
  const char* fn = "dsir_resample";
  detail::require_host(log_weights, fn, "log_weights");
  detail::require_host(lengths, fn, "lengths");
  const index_t n = log_weights.extent(0);
  if (lengths.extent(0) != n)
    throw_invalid_argument(fn, "lengths", "has ", lengths.extent(0), " entries but log_weights has ", n);
  if (std::isnan(opts.min_length))
    throw_domain_error(fn, "opts.min_length", "is NaN");
  if (k < 0) throw_invalid_argument(fn, "k", "must not be negative, got ", k);
  index_t passing = 0;
  for (index_t i = 0; i < n; ++i) {
    if (std::isnan(log_weights(i)) || log_weights(i) == std::numeric_limits<double>::infinity())
      throw_domain_error(fn, "log_weights", "has ", log_weights(i), " at index ", i);
    if (!(lengths(i) >= 0) || !std::isfinite(lengths(i)))
      throw_domain_error(fn, "lengths", "has ", lengths(i), " at index ", i,
                         "; lengths must be finite and >= 0");
    passing += lengths(i) >= opts.min_length;
  }
  if (k > passing)
    throw_invalid_argument(fn, "k", "is ", k, " but only ", passing, " of ", n,
                           " documents have length >= min_length ", opts.min_length);
  struct keyed {
    double key;
    index_t index;
  };
  std::vector<keyed> keys(static_cast<std::size_t>(passing));
  std::vector<index_t> slot(static_cast<std::size_t>(n) + 1);  // passing documents before i
  for (index_t i = 0, j = 0; i < n; ++i) {
    slot[std::size_t(i)] = j;
    j += lengths(i) >= opts.min_length;
  }
  parallel_for(policy, n, 4096, [&](index_t begin, index_t end) {
    for (index_t i = begin; i < end; ++i) {
      if (!(lengths(i) >= opts.min_length)) continue;
      double key = log_weights(i);
      if (!opts.top_k) {
        philox g(s, derive_stream(detail::stream_dsir, static_cast<std::uint64_t>(i)));
        key += gumbel(g);
      }
      keys[std::size_t(slot[std::size_t(i)])] = {key, i};
    }
  });
  const auto before = [](const keyed& a, const keyed& b) {
    return a.key > b.key || (a.key == b.key && a.index < b.index);
  };
  if (k < passing)
    std::nth_element(keys.begin(), keys.begin() + std::ptrdiff_t(k), keys.end(), before);
  std::vector<index_t> out(static_cast<std::size_t>(k));
  for (index_t j = 0; j < k; ++j) out[std::size_t(j)] = keys[std::size_t(j)].index;
  std::sort(out.begin(), out.end());
  return out;
}

// ---- streaming ------------------------------------------------------------------------------

template <class F>
void dsir_read_documents(const dsir_text_file& file, index_t chunk_docs, F&& on_chunk,
                         const char* fn) {
  if (chunk_docs <= 0)
    throw_invalid_argument(fn, "chunk_docs", "must be positive, got ", chunk_docs);
  std::ifstream in(file.path, std::ios::binary);
  if (!in) throw_runtime_error(fn, "file.path", "cannot open '", file.path, "'");
  std::vector<std::string> docs;
  std::string line;
  index_t first = 0, lineno = 0;
  const auto flush = [&] {
    if (docs.empty()) return;
    on_chunk(first, static_cast<const std::vector<std::string>&>(docs));
    first += static_cast<index_t>(docs.size());
    docs.clear();
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (file.field.empty()) {
      docs.push_back(line);
    } else {
      detail::json_line_reader r{line};
      std::string text;
      if (const char* what = r.field(file.field, text))
        throw_domain_error(fn, "file", "'", file.path, "' line ", lineno, " (field '", file.field,
                           "'): ", what, " at byte ", r.i);
      docs.push_back(std::move(text));
    }
    if (static_cast<index_t>(docs.size()) == chunk_docs) flush();
  }
  if (in.bad()) throw_runtime_error(fn, "file.path", "read error in '", file.path, "'");
  flush();
}

namespace detail {

/// Featurizers with memos, lent to parallel chunks one at a time: at most one per running
/// thread exists, kept for a whole call (memos warm across chunks and file blocks).
struct dsir_featurizer_pool {
  dsir_options opts;
  std::mutex mutex;
  std::vector<std::unique_ptr<dsir_featurizer>> idle;

  explicit dsir_featurizer_pool(const dsir_options& o) : opts(o) {}
  std::unique_ptr<dsir_featurizer> acquire() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!idle.empty()) {
        std::unique_ptr<dsir_featurizer> f = std::move(idle.back());
        idle.pop_back();
        return f;
      }
    }
    return std::unique_ptr<dsir_featurizer>(new dsir_featurizer(opts, true));
  }
  void release(std::unique_ptr<dsir_featurizer> f) {
    std::lock_guard<std::mutex> lock(mutex);
    idle.push_back(std::move(f));
  }
};

/// Featurises docs[0, m) in parallel; body(featurizer, local index) runs after each hash.
template <class Policy, class Docs, class Body>
void dsir_featurize_chunk(const Policy& policy, dsir_featurizer_pool& pool, const Docs& docs,
                          index_t first, const char* fn, const char* arg, const char* where,
                          Body&& body) {
  const index_t m = static_cast<index_t>(docs.size());
  parallel_for(policy, m, 64, [&](index_t begin, index_t end) {
    struct lease {  // back to the pool even when a document throws
      dsir_featurizer_pool& pool;
      std::unique_ptr<dsir_featurizer> f;
      ~lease() { pool.release(std::move(f)); }
    } l{pool, pool.acquire()};
    dsir_featurizer& f = *l.f;
    for (index_t i = begin; i < end; ++i) {
      const std::ptrdiff_t bad = f.hash(std::string_view(docs[std::size_t(i)]));
      if (bad >= 0) throw_bad_utf8(fn, arg, bad, first + i, where);
      body(f, i);
    }
  });
}

/// docs[first, first + size) as a container.
template <class Docs>
struct doc_slice {
  const Docs& docs;
  index_t first, count;
  std::size_t size() const noexcept { return std::size_t(count); }
  decltype(auto) operator[](std::size_t i) const { return docs[std::size_t(first) + i]; }
};

}  // namespace detail

template <class Policy, class Docs>
dsir_ngram_model dsir_fit_documents(const Policy& policy, const Docs& docs,
                                    const dsir_options& opts) {
  const char* fn = "dsir_fit_documents";
  detail::check_dsir_options(opts, fn);
  dsir_ngram_model model(opts);
  detail::dsir_featurizer_pool pool(opts);
  std::vector<dsir_features> feats;
  const index_t n = static_cast<index_t>(docs.size()), chunk = 4096;
  for (index_t first = 0; first < n; first += chunk) {
    const index_t m = std::min(chunk, n - first);
    feats.resize(std::size_t(m));
    detail::dsir_featurize_chunk(policy, pool, detail::doc_slice<Docs>{docs, first, m}, first, fn,
                                 "docs", nullptr,
                                 [&](detail::dsir_featurizer& f, index_t i) {
                                   f.features(feats[std::size_t(i)]);
                                 });
    for (const dsir_features& f : feats) model.add(f);
  }
  return model;
}

template <class Policy, class Docs>
dsir_scores dsir_score_documents(const Policy& policy, const Docs& docs,
                                 const std::vector<double>& log_ratios, const dsir_options& opts) {
  const char* fn = "dsir_score_documents";
  detail::check_dsir_options(opts, fn);
  if (log_ratios.size() != opts.buckets)
    throw_invalid_argument(fn, "log_ratios", "has ", log_ratios.size(),
                           " entries but options.buckets is ", opts.buckets);
  dsir_scores out;
  out.log_weights.resize(docs.size());
  out.lengths.resize(docs.size());
  detail::dsir_featurizer_pool pool(opts);
  detail::dsir_featurize_chunk(policy, pool, docs, 0, fn, "docs", nullptr,
                               [&](detail::dsir_featurizer& f, index_t i) {
                                 out.log_weights[std::size_t(i)] = f.log_weight(log_ratios.data());
                                 out.lengths[std::size_t(i)] = f.length();
                               });
  return out;
}

template <class Policy>
dsir_ngram_model dsir_fit(const Policy& policy, const dsir_text_file& file,
                          const dsir_options& opts, const dsir_stream_options& stream) {
  const char* fn = "dsir_fit";
  detail::check_dsir_options(opts, fn);
  const std::uint64_t budget =
      stream.ngram_budget == 0 ? std::uint64_t(100000) * opts.buckets : stream.ngram_budget;
  dsir_ngram_model model(opts);
  detail::dsir_featurizer_pool pool(opts);
  std::vector<dsir_features> feats;
  bool done = false;
  dsir_read_documents(
      file, stream.chunk_docs,
      [&](index_t first, const std::vector<std::string>& docs) {
        if (done) return;
        feats.resize(docs.size());
        detail::dsir_featurize_chunk(policy, pool, docs, first, fn, "file", file.path.c_str(),
                                     [&](detail::dsir_featurizer& f, index_t i) {
                                       f.features(feats[std::size_t(i)]);
                                     });
        for (const dsir_features& f : feats) {  // in document order, so the budget is exact
          model.add(f);
          if (model.total() > budget) {
            done = true;
            break;
          }
        }
      },
      fn);
  return model;
}

template <class Policy>
dsir_scores dsir_score(const Policy& policy, const dsir_text_file& file,
                       const std::vector<double>& log_ratios, const dsir_options& opts,
                       const dsir_stream_options& stream) {
  const char* fn = "dsir_score";
  detail::check_dsir_options(opts, fn);
  if (log_ratios.size() != opts.buckets)
    throw_invalid_argument(fn, "log_ratios", "has ", log_ratios.size(), " entries but options.buckets is ",
                           opts.buckets);
  dsir_scores out;
  detail::dsir_featurizer_pool pool(opts);
  dsir_read_documents(
      file, stream.chunk_docs,
      [&](index_t first, const std::vector<std::string>& docs) {
        out.log_weights.resize(std::size_t(first) + docs.size());
        out.lengths.resize(std::size_t(first) + docs.size());
        detail::dsir_featurize_chunk(policy, pool, docs, first, fn, "file", file.path.c_str(),
                                     [&](detail::dsir_featurizer& f, index_t i) {
                                       const std::size_t at = std::size_t(first + i);
                                       out.log_weights[at] = f.log_weight(log_ratios.data());
                                       out.lengths[at] = f.length();
                                     });
      },
      fn);
  return out;
}

}  // namespace ladle
