// DSIR's n-gram -> bucket memo against the direct computation: every n-gram's bucket from
// dsir_bucket (SHA-256 of the joined tokens, checked against hashlib in sha256_test.cpp), counted
// in order of first occurrence, and the log weight as one fma per distinct bucket in that order.
// Texts made to stress the memo: more distinct tokens than it holds, tokens sharing a probe
// start, token pairs sharing a pair slot, key lengths around the 8-byte words and the 24-byte
// limit, bytes that equal the zero padding, and every thread count.
#include "helpers.hpp"

#include <ladle/selection/dsir.hpp>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

using memo = ladle::detail::dsir_memo;

/// The direct featurisation: tokens, every 1..n-gram joined by one space, dsir_bucket each.
ladle::dsir_features naive(const std::string& doc, const ladle::dsir_options& o) {
  const std::vector<std::string> tok = ladle::dsir_tokenize(doc);
  ladle::dsir_features f;
  for (std::size_t n = 1; n <= std::size_t(o.ngrams); ++n)
    for (std::size_t i = 0; i + n <= tok.size(); ++i) {
      std::string g = tok[i];
      for (std::size_t j = 1; j < n; ++j) g += " " + tok[i + j];
      const std::uint32_t b = ladle::dsir_bucket(g, o.buckets);
      std::size_t k = 0;
      while (k < f.buckets.size() && f.buckets[k] != b) ++k;
      if (k == f.buckets.size()) {
        f.buckets.push_back(b);
        f.counts.push_back(0);
      }
      ++f.counts[k];
      ++f.ngrams;
    }
  f.length = std::floor(double(f.ngrams + o.ngrams * (o.ngrams - 1) / 2) / o.ngrams);
  return f;
}

double naive_weight(const ladle::dsir_features& f, const std::vector<double>& r) {
  double acc = 0;
  for (std::size_t i = 0; i < f.buckets.size(); ++i)
    acc = std::fma(double(f.counts[i]), r[f.buckets[i]], acc);
  return acc;
}

/// Feeds docs in order through one featurizer whose memo is built at once; every document's
/// features must equal the direct ones.
void check_memo_featurizer(const std::vector<std::string>& docs, const ladle::dsir_options& o) {
  ladle::detail::dsir_featurizer f(o, true, 0);
  for (std::size_t d = 0; d < docs.size(); ++d) {
    CAPTURE(d);
    REQUIRE(f.hash(docs[d]) == -1);
    REQUIRE(f.memo);
    ladle::dsir_features got;
    f.features(got);
    const ladle::dsir_features want = naive(docs[d], o);
    REQUIRE(got.buckets == want.buckets);
    REQUIRE(got.counts == want.counts);
    CHECK(got.ngrams == want.ngrams);
    CHECK(got.length == want.length);
  }
}

/// The public in-memory forms, for several policies, against the direct computation.
void check_public(const std::vector<std::string>& docs, const ladle::dsir_options& o) {
  std::vector<std::uint64_t> counts(o.buckets, 0);
  std::vector<ladle::dsir_features> feats;
  for (const auto& d : docs) {
    feats.push_back(naive(d, o));
    for (std::size_t i = 0; i < feats.back().buckets.size(); ++i)
      counts[feats.back().buckets[i]] += feats.back().counts[i];
  }
  std::vector<double> ratios(o.buckets);
  for (std::size_t b = 0; b < ratios.size(); ++b) ratios[b] = std::ldexp(double(b % 97) - 48.3, -3);
  for (int threads : {0, 1, 2, 3, 4}) {
    CAPTURE(threads);
    const auto run = [&](const auto& policy) {
      CHECK(ladle::dsir_fit_documents(policy, docs, o).counts() == counts);
      const ladle::dsir_scores sc = ladle::dsir_score_documents(policy, docs, ratios, o);
      REQUIRE(sc.log_weights.size() == docs.size());
      for (std::size_t d = 0; d < docs.size(); ++d) {
        CAPTURE(d);
        const double w = naive_weight(feats[d], ratios);
        CHECK(std::memcmp(&sc.log_weights[d], &w, sizeof w) == 0);
        CHECK(sc.lengths[d] == feats[d].length);
      }
    };
    if (threads == 0) run(ladle::seq);
    else run(ladle::par(threads));
  }
}

/// Distinct lower-case words: "q" + i in base 26, lengths 2..5.
std::string word(std::size_t i) {
  std::string s = "q";
  do {
    s += char('a' + i % 26);
    i /= 26;
  } while (i);
  return s;
}

std::size_t home_of(const std::string& t) {
  const std::string padded = t + std::string(memo::max_len, '\0');  // home() reads max_len bytes
  return memo::home(padded.data(), t.size());
}

/// Two different tokens make(i) != make(j) with the same home slot (they meet while probing).
template <class Make>
std::pair<std::string, std::string> same_home(Make make) {
  std::map<std::size_t, std::string> seen;
  for (std::size_t i = 0;; ++i) {
    const std::string t = make(i);
    const auto it = seen.find(home_of(t));
    if (it != seen.end() && it->second != t) return {it->second, t};
    seen[home_of(t)] = t;
  }
}

}  // namespace

TEST_CASE("dsir memo: more distinct tokens than it holds, frequent and rare mixed") {
  // 900 documents of 60 tokens: a frequent word every third token, the rest new words, so
  // 36 000 distinct tokens (the memo keeps 16 384 and has 32 768 slots); then documents pairing
  // early (memoised) and late (never memoised) words in both orders.
  std::vector<std::string> docs;
  std::size_t next = 1000;
  for (std::size_t d = 0; d < 900; ++d) {
    std::string s;
    for (std::size_t j = 0; j < 60; ++j) s += (j % 3 == 0 ? word((d + j) % 40) : word(next++)) + " ";
    docs.push_back(s);
  }
  REQUIRE(next - 1000 > memo::token_slots);
  for (std::size_t d = 0; d < 200; ++d) {
    const std::string early = word(1000 + d * 7), late = word(next - 1 - d * 5);
    docs.push_back(early + " " + late + " " + early + " " + word(d % 40) + ", " + late + " " + late);
  }
  ladle::dsir_options o;
  check_memo_featurizer(docs, o);
  check_public(docs, o);
  o.ngrams = 3;  // trigrams are always hashed
  check_memo_featurizer(docs, o);
  o.ngrams = 1;
  check_memo_featurizer(docs, o);
}

TEST_CASE("dsir memo: tokens sharing a probe start and pairs sharing a pair slot") {
  // Tokens whose home slots are equal (found by search), interleaved.
  std::map<std::size_t, std::vector<std::string>> by_home;
  std::vector<std::string> same;
  for (std::size_t i = 0; same.empty(); ++i) {
    const std::string w = word(i);
    auto& v = by_home[home_of(w)];
    v.push_back(w);
    if (v.size() == 3) same = v;
  }
  std::vector<std::string> docs = {same[0] + " " + same[1], same[1] + " " + same[2] + " " + same[0],
                                   same[2], same[0] + " " + same[0] + " " + same[2] + " " + same[1]};
  // 24-byte tokens equal except in one 8-byte key word, with the same home slot: a key compare
  // that skipped that word would return the other token's bucket.
  for (std::size_t word_at : {0, 8, 16}) {
    const auto t = same_home([&](std::size_t i) {
      std::string s(memo::max_len, 'k');
      for (std::size_t j = 0; j < 4; ++j, i /= 26) s[word_at + j] = char('a' + i % 26);
      return s;
    });
    docs.push_back(t.first + " " + t.second + " " + t.first);
    docs.push_back(t.second + " " + t.first);
  }
  // Two different token pairs mapping to the same direct-mapped pair slot, alternated so each
  // replaces the other: ids are read from a featurizer that saw every word once, in this order.
  ladle::dsir_options o;
  ladle::detail::dsir_featurizer f(o, true, 0);
  std::string all;
  for (std::size_t i = 0; i < 600; ++i) all += word(5000 + i) + " ";
  REQUIRE(f.hash(all) == -1);
  for (std::size_t i = 0; i < 600; ++i) REQUIRE(f.ids[i] >= 0);
  std::map<std::size_t, std::pair<std::size_t, std::size_t>> slot_of;
  std::vector<std::pair<std::size_t, std::size_t>> clash;
  for (std::size_t a = 0; a < 600 && clash.empty(); ++a)
    for (std::size_t b = 0; b < 600 && clash.empty(); ++b) {
      const std::size_t s = memo::pair_slot(memo::pair_key(f.ids[a], f.ids[b]));
      auto it = slot_of.find(s);
      if (it == slot_of.end()) slot_of[s] = {a, b};
      else clash = {it->second, {a, b}};
    }
  REQUIRE(clash.size() == 2);
  const std::string p1 = word(5000 + clash[0].first) + " " + word(5000 + clash[0].second);
  const std::string p2 = word(5000 + clash[1].first) + " " + word(5000 + clash[1].second);
  std::vector<std::string> pair_docs = {all};
  for (int r = 0; r < 4; ++r) {
    pair_docs.push_back(p1);
    pair_docs.push_back(p2);
    pair_docs.push_back(p1 + " " + p2);
  }
  // In one featurizer (same ids as above), then as part of a longer text.
  {
    for (std::size_t d = 1; d < pair_docs.size(); ++d) {
      CAPTURE(d);
      REQUIRE(f.hash(pair_docs[d]) == -1);
      ladle::dsir_features got;
      f.features(got);
      const ladle::dsir_features want = naive(pair_docs[d], o);
      CHECK(got.buckets == want.buckets);
      CHECK(got.counts == want.counts);
    }
  }
  docs.insert(docs.end(), pair_docs.begin(), pair_docs.end());
  check_memo_featurizer(docs, o);
  check_public(docs, o);
}

TEST_CASE("dsir memo: a bigram whose words were memoised separately, key lengths, zero bytes") {
  std::vector<std::string> docs = {"alpha", "beta", "alpha beta", "beta alpha", "alpha beta",
                                   "ALPHA Beta!", "alpha alpha alpha"};
  // Tokens of 7..26 bytes differing only in their last byte, or only in length.
  for (std::size_t len = 7; len <= 26; ++len) {
    const std::string a(len - 1, 'm');
    docs.push_back(a + "x " + a + "y " + a + " " + a + "x " + a + "xx " + a + "y");
    docs.push_back(a + "y " + a + "x");
  }
  // Punctuation tokens with NUL bytes, which look like the key's zero padding.
  docs.push_back(std::string("! !\0 !\0\0 !", 10));
  docs.push_back(std::string("a!\0\0\0\0\0\0\0\0 a!\0 a! a!\0", 22));
  docs.push_back(std::string("!\0 ! !\0\0", 8));
  // Multi-byte UTF-8 and a token exactly max_len bytes long made of two-byte characters.
  docs.push_back("Éé éé ÉÉ écrit Écrit ÉCRIT");
  std::string wide;
  for (int i = 0; i < 12; ++i) wide += "é";
  docs.push_back(wide + " " + wide + "é " + wide + " x " + wide);
  docs.push_back("");
  docs.push_back("   ");
  ladle::dsir_options o;
  check_memo_featurizer(docs, o);
  check_public(docs, o);
  for (std::uint32_t buckets : {1u, 7u, 1u << 16, (1u << 16) + 1, 1000003u}) {
    CAPTURE(buckets);
    o.buckets = buckets;  // the direct count table up to 2^16 buckets, the hash table above
    check_memo_featurizer(docs, o);
  }
}

}  // namespace LADLE_TEST_FILE
}  // namespace
