// DSIR: tokens, hashed n-gram features, lengths and log importance weights against an
// independent Python re-implementation of p-lambda/dsir (fixtures/make_dsir_fixtures.py: str.lower,
// NLTK's WordPunct regex, hashlib, numpy); the Unicode tables against Python over every code
// point; Gumbel top-k against exact Plackett-Luce inclusion probabilities; streaming over text
// and JSON Lines files in any chunking and thread count; errors.
#include "../error_of.hpp"
#include "fixtures/dsir_fixtures.hpp"
#include "helpers.hpp"

#include <ladle/selection/dsir.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <filesystem>
#include <fstream>
#include <string>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;

namespace {

using st::hex;

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + v[i];
  return s;
}

void check_features(const ladle::dsir_features& f, const std::uint32_t* offsets,
                    const std::uint32_t* pairs, std::size_t doc) {
  // ladle lists buckets in order of first occurrence, the fixture ascending.
  const std::size_t first = offsets[doc], last = offsets[doc + 1];
  REQUIRE(f.buckets.size() == last - first);
  REQUIRE(f.counts.size() == last - first);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> got;
  for (std::size_t i = 0; i < f.buckets.size(); ++i) got.emplace_back(f.buckets[i], f.counts[i]);
  std::sort(got.begin(), got.end());
  std::int64_t total = 0;
  for (std::size_t i = first; i < last; ++i) {
    CHECK(got[i - first].first == pairs[2 * i]);
    CHECK(got[i - first].second == pairs[2 * i + 1]);
    total += pairs[2 * i + 1];
  }
  CHECK(f.ngrams == total);
}

/// A file under the temporary directory, removed when this goes out of scope.
struct temp_file {
  std::string path;
  explicit temp_file(const std::string& name, const std::string& contents) {
    const auto tick = std::chrono::steady_clock::now().time_since_epoch().count();
    path = (std::filesystem::temp_directory_path() /
            ("ladle_dsir_" + std::to_string(tick) + "_" + name))
               .string();
    std::ofstream out(path, std::ios::binary);
    out << contents;
  }
  ~temp_file() { std::remove(path.c_str()); }
};

std::string lines(const std::vector<const char*>& docs, const char* eol = "\n") {
  std::string s;
  for (const char* d : docs) s += std::string(d) + eol;
  return s;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

ladle::dsir_ngram_model model_of(const std::vector<const char*>& docs,
                                 const ladle::dsir_options& o = {}) {
  ladle::dsir_ngram_model m(o);
  for (const char* d : docs) m.add(d);
  return m;
}

}  // namespace

TEST_CASE("dsir unicode tables reproduce Python's str.lower() and classes at every code point") {
  // lower_check / class_check are SHA-256 values Python computed over all scalar values; here the
  // same streams come from the tokeniser's lookups (lower-casing a one-character document).
  std::string lowered, classes;
  ladle::detail::dsir_tokens t;
  std::string one;
  for (std::uint32_t c = 0; c < 0x110000; ++c) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    if (c == 0x130) {
      lowered += "i\xcc\x87";
    } else if (c == 0x3a3) {
      lowered += "\xcf\x83";  // alone: no cased letter before it, so not final
    } else {
      ladle::detail::append_utf8(lowered, c < 128 ? static_cast<unsigned char>(ladle::detail::ascii.lower[c])
                                                  : ladle::detail::unicode_lower(c));
    }
    const auto k = ladle::detail::unicode_class(c);
    classes += k == ladle::detail::cls_word ? 'w' : k == ladle::detail::cls_space ? 's' : 'p';
  }
  CHECK(hex(ladle::sha256(lowered)) == ladle::detail::unicode::lower_check);
  CHECK(hex(ladle::sha256(classes)) == ladle::detail::unicode::class_check);
  CHECK(std::string(ladle::detail::unicode::version) == "14.0.0");
}

TEST_CASE("dsir tokens equal lower() + WordPunct on tricky Unicode") {
  for (std::size_t d = 0; d < dsirfx::hand_tokens.size(); ++d) {
    CAPTURE(d);
    CHECK(join(ladle::dsir_tokenize(dsirfx::raw[d])) == dsirfx::hand_tokens[d]);
  }
  for (std::size_t d = 0; d < dsirfx::raw.size(); ++d) {
    CAPTURE(d);
    CHECK(static_cast<std::int64_t>(ladle::dsir_tokenize(dsirfx::raw[d]).size()) ==
          dsirfx::token_counts[d]);
  }
  // Spot checks written out by hand (Python: 'ΣΑΣ σΣ İ'.lower() == 'σας σς i̇').
  CHECK(join(ladle::dsir_tokenize("\xce\xa3\xce\x91\xce\xa3 \xcf\x83\xce\xa3 \xc4\xb0")) ==
        "\xcf\x83\xce\xb1\xcf\x82 \xcf\x83\xcf\x82 i \xcc\x87");
  CHECK(join(ladle::dsir_tokenize("Don't STOP")) == "don ' t stop");
}

TEST_CASE("dsir features, lengths and buckets equal the Python reference") {
  const ladle::dsir_features alice = ladle::dsir_featurize("Alice went to the store");
  CHECK(alice.ngrams == 9);  // the reference's own test: 5 unigrams + 4 bigrams
  CHECK(alice.length == 5);
  // First occurrence order: unigrams in text order, then bigrams ("alice" -> 6720 comes first).
  CHECK(alice.buckets.front() == 6720);
  CHECK(ladle::dsir_featurize("alice went").buckets == std::vector<std::uint32_t>{6720, ladle::dsir_bucket("went"), 114});
  for (std::size_t d = 0; d < dsirfx::raw.size(); ++d) {
    CAPTURE(d);
    const ladle::dsir_features f = ladle::dsir_featurize(dsirfx::raw[d]);
    check_features(f, dsirfx::features_offsets, dsirfx::features_pairs, d);
    CHECK(f.length == dsirfx::lengths[d]);
  }
  // Other parameters: 257 buckets, trigrams (two-block n-grams of 60+ byte tokens included).
  const ladle::dsir_options o{257, 3};
  for (std::size_t d = 0; d < dsirfx::hand_tokens.size(); ++d) {
    CAPTURE(d);
    const ladle::dsir_features f = ladle::dsir_featurize(dsirfx::raw[d], o);
    check_features(f, dsirfx::features_257_3_offsets, dsirfx::features_257_3_pairs, d);
    CHECK(f.length == dsirfx::lengths_257_3[d]);
  }
  // The hasher's 16-bit-digit reduction equals the byte-wise dsir_bucket for odd moduli.
  for (std::uint32_t m : {1u, 2u, 3u, 10000u, 65537u, 4294967291u, 4294967295u}) {
    const ladle::detail::dsir_hasher h(m);
    for (const char* s : {"alice", "alice went", "", "\xcf\x83\xce\xb1\xcf\x82"}) {
      CAPTURE(m);
      CAPTURE(s);
      CHECK(h.bucket(s, std::strlen(s)) == ladle::dsir_bucket(s, m));
    }
  }
}

TEST_CASE("dsir two-lane single-block SHA-256 equals sha256() on both backends, lengths 0..55") {
  // sha256() itself is checked against hashlib in sha256_test.cpp.
  for (int len = 0; len < 56; ++len) {
    CAPTURE(len);
    std::string a(std::size_t(len), 'x'), b(std::size_t(len), 'y');
    for (int i = 0; i < len; ++i) {
      a[std::size_t(i)] = static_cast<char>(33 + (i * 7 + len) % 90);
      b[std::size_t(i)] = static_cast<char>(0x80 + (i * 13 + len) % 120);
    }
    std::uint8_t pa[64], pb[64];
    ladle::detail::dsir_hasher::pad(a.data(), a.size(), pa);
    ladle::detail::dsir_hasher::pad(b.data(), b.size(), pb);
    for (auto fn : {ladle::detail::sha256_one_block_x2_best(), &ladle::detail::sha256_one_block_x2_portable}) {
      std::uint32_t wa[8], wb[8];
      fn(pa, pb, wa, wb);
      const ladle::sha256_digest da = ladle::sha256(a), db = ladle::sha256(b);
      for (int j = 0; j < 8; ++j) {
        CHECK(wa[j] == (std::uint32_t(da[std::size_t(4 * j)]) << 24 | std::uint32_t(da[std::size_t(4 * j + 1)]) << 16 |
                        std::uint32_t(da[std::size_t(4 * j + 2)]) << 8 | da[std::size_t(4 * j + 3)]));
        CHECK(wb[j] == (std::uint32_t(db[std::size_t(4 * j)]) << 24 | std::uint32_t(db[std::size_t(4 * j + 1)]) << 16 |
                        std::uint32_t(db[std::size_t(4 * j + 2)]) << 8 | db[std::size_t(4 * j + 3)]));
      }
    }
  }
}

TEST_CASE("dsir log ratios and log weights equal numpy (rel 1e-9)") {
  const auto raw = model_of(dsirfx::raw);
  const auto target = model_of(dsirfx::target);
  CHECK(raw.documents() == static_cast<std::int64_t>(dsirfx::raw.size()));
  const std::vector<double> r = ladle::dsir_log_ratios(raw, target);
  const std::size_t sample[] = {0, 7, 6720, 9999};
  for (int j = 0; j < 4; ++j)
    CHECK(r[sample[j]] == doctest::Approx(dsirfx::log_ratio_sample[std::size_t(j)]).epsilon(1e-12));
  const std::vector<double> r2 = ladle::dsir_log_ratios(raw, target, 0.5);
  for (std::size_t d = 0; d < dsirfx::raw.size(); ++d) {
    CAPTURE(d);
    const auto f = ladle::dsir_featurize(dsirfx::raw[d]);
    const double w = ladle::dsir_log_weight(f, r);
    CHECK(w == doctest::Approx(dsirfx::log_weights[d]).epsilon(1e-9));
    CHECK(ladle::dsir_log_weight(f, r2) == doctest::Approx(dsirfx::log_weights_smooth[d]).epsilon(1e-9));
    if (f.ngrams == 0) CHECK(w == 0.0);
  }
}

TEST_CASE("dsir streaming: text and JSON Lines, any chunk size and thread count, same bits") {
  const temp_file raw_txt("raw.txt", lines(dsirfx::raw, "\r\n"));  // CRLF endings are dropped
  const temp_file raw_jsonl("raw.jsonl", lines(dsirfx::raw_jsonl));
  const temp_file target_txt("target.txt", lines(dsirfx::target));
  const ladle::dsir_text_file txt{raw_txt.path, ""}, jsonl{raw_jsonl.path, "text"},
      tgt{target_txt.path, ""};
  const auto raw_direct = model_of(dsirfx::raw);
  const auto target_model = ladle::dsir_fit(ladle::seq, tgt);
  CHECK(target_model.counts() == model_of(dsirfx::target).counts());
  const std::vector<double> ratios = ladle::dsir_log_ratios(raw_direct, target_model);
  std::vector<double> reference_weights;
  for (const auto& file : {txt, jsonl}) {
    for (index_t chunk : {index_t(1), index_t(7), index_t(4096)}) {
      for (int threads : {1, 3}) {
        CAPTURE(file.path);
        CAPTURE(chunk);
        CAPTURE(threads);
        ladle::dsir_stream_options so;
        so.chunk_docs = chunk;
        const auto policy = ladle::par(threads);
        const auto m = ladle::dsir_fit(policy, file, {}, so);
        CHECK(m.counts() == raw_direct.counts());
        CHECK(m.total() == raw_direct.total());
        const ladle::dsir_scores sc = ladle::dsir_score(policy, file, ratios, {}, so);
        REQUIRE(sc.log_weights.size() == dsirfx::raw.size());
        CHECK(sc.lengths == dsirfx::lengths);
        if (reference_weights.empty()) {
          reference_weights = sc.log_weights;
          for (std::size_t d = 0; d < dsirfx::raw.size(); ++d)
            CHECK(sc.log_weights[d] == doctest::Approx(dsirfx::log_weights[d]).epsilon(1e-9));
        }
        CHECK(same_bits(sc.log_weights, reference_weights));
        for (std::size_t d = 0; d < dsirfx::raw.size(); d += 17)  // the one-document form: same bits
          CHECK(ladle::dsir_log_weight(ladle::dsir_featurize(dsirfx::raw[d]), ratios) == sc.log_weights[d]);
      }
    }
  }
  SUBCASE("the n-gram budget stops after the document that crosses it") {
    // Document totals in order; a budget of (first two) + 1 stops after the third document.
    const std::uint64_t t0 = static_cast<std::uint64_t>(ladle::dsir_featurize(dsirfx::raw[0]).ngrams);
    const std::uint64_t t1 = static_cast<std::uint64_t>(ladle::dsir_featurize(dsirfx::raw[1]).ngrams);
    const std::uint64_t t2 = static_cast<std::uint64_t>(ladle::dsir_featurize(dsirfx::raw[2]).ngrams);
    for (index_t chunk : {index_t(1), index_t(2), index_t(100)}) {
      ladle::dsir_stream_options so;
      so.chunk_docs = chunk;
      so.ngram_budget = t0 + t1 + 1;
      const auto m = ladle::dsir_fit(ladle::par(3), txt, {}, so);
      CHECK(m.documents() == 3);
      CHECK(m.total() == t0 + t1 + t2);
      so.ngram_budget = t0 + t1;  // not strictly above after the second: one more is not needed
      CHECK(ladle::dsir_fit(ladle::seq, txt, {}, so).documents() == 3);
      so.ngram_budget = t0 + t1 - 1;
      CHECK(ladle::dsir_fit(ladle::seq, txt, {}, so).documents() == 2);
    }
  }
}

TEST_CASE("dsir top-k equals the reference's top-k; Gumbel top-k is seeded and thread-free") {
  std::vector<double> w(dsirfx::log_weights), len(dsirfx::lengths);
  const auto wv = ladle::make_view(static_cast<const double*>(w.data()), index_t(w.size()));
  const auto lv = ladle::make_view(static_cast<const double*>(len.data()), index_t(len.size()));
  ladle::dsir_resample_options o;
  o.min_length = dsirfx::topk_min_length;
  o.top_k = true;
  const auto top = ladle::dsir_resample(wv, lv, dsirfx::topk_k, ladle::seed{1}, o);
  CHECK(std::vector<long>(top.begin(), top.end()) == dsirfx::topk);
  o.top_k = false;
  // Equal log weights, so the noise alone decides (the fixture's weights span hundreds of nats).
  const std::vector<double> flat(w.size(), -3.0);
  const auto fv = ladle::make_view(flat.data(), index_t(flat.size()));
  const auto a = ladle::dsir_resample(fv, lv, 30, ladle::seed{5}, o);
  const auto b = ladle::dsir_resample(ladle::par(3), fv, lv, 30, ladle::seed{5}, o);
  const auto c = ladle::dsir_resample(fv, lv, 30, ladle::seed{6}, o);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(std::is_sorted(a.begin(), a.end()));
  for (index_t i : a) CHECK(len[std::size_t(i)] >= o.min_length);
  // k == number passing: all of them.
  index_t passing = 0;
  for (double x : len) passing += x >= o.min_length;
  CHECK(static_cast<index_t>(ladle::dsir_resample(wv, lv, passing, ladle::seed{5}, o).size()) == passing);
}

TEST_CASE("dsir Gumbel top-k follows the Plackett-Luce law (chi-square over all subsets)") {
  // log weights of 5 documents, one filtered out by length; k = 2 of the 4 left.
  const std::vector<double> logw = {0.0, std::log(3.0), -1.0, std::log(0.5), 2.0};
  const std::vector<double> len = {5, 5, 5, 5, 1};
  const auto wv = ladle::make_view(logw.data(), index_t(logw.size()));
  const auto lv = ladle::make_view(len.data(), index_t(len.size()));
  std::vector<double> weights;
  for (std::size_t i = 0; i < 4; ++i) weights.push_back(std::exp(logw[i]));
  const auto expect = st::subset_probabilities(weights, 2);
  std::map<std::vector<index_t>, long> counts;
  const long trials = 40000;
  ladle::dsir_resample_options o;
  o.min_length = 2;
  for (long t = 0; t < trials; ++t)
    ++counts[ladle::dsir_resample(wv, lv, 2, ladle::seed{static_cast<std::uint64_t>(t)}, o)];
  const auto r = st::chi_square(expect, counts, trials);
  CAPTURE(r.statistic);
  CHECK(r.df == 5);
  CHECK(r.ok());
}

TEST_CASE("dsir errors name the function, the argument and the value") {
  CHECK(error_of([] { ladle::dsir_featurize("a", {0, 2}); }).find("dsir_featurize") != std::string::npos);
  CHECK(error_of([] { ladle::dsir_featurize("a", {0, 2}); }).find("buckets") != std::string::npos);
  CHECK(error_of([] { ladle::dsir_featurize("a", {10, 9}); }).find("got 9") != std::string::npos);
  const std::string bad_utf8 = error_of([] { ladle::dsir_featurize("ok \xc3\x28 no"); });
  CHECK(bad_utf8.find("dsir_featurize") != std::string::npos);
  CHECK(bad_utf8.find("byte 3") != std::string::npos);
  for (const char* s : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\x80", "\xff"})
    CHECK(error_of([s] { ladle::dsir_tokenize(s); }).find("not valid UTF-8 (byte 0)") != std::string::npos);
  // Empty models.
  const ladle::dsir_ngram_model empty, some = model_of({"a b"});
  CHECK(error_of([&] { ladle::dsir_log_ratios(some, empty); }).find("target") != std::string::npos);
  CHECK(error_of([&] { ladle::dsir_log_ratios(empty, some); }).find("raw") != std::string::npos);
  CHECK_NOTHROW(ladle::dsir_log_ratios(some, empty, 1.0));
  CHECK(error_of([&] { ladle::dsir_log_ratios(some, some, -1.0); }).find("-1") != std::string::npos);
  // Resampling: k above the passing count, NaN weights, lengths mismatch.
  std::vector<double> w = {1, 2, 3}, len = {100, 99, 100};
  const std::vector<double> w_before = w;
  const auto wv = ladle::make_view(static_cast<const double*>(w.data()), index_t(3));
  const auto lv = ladle::make_view(static_cast<const double*>(len.data()), index_t(3));
  const std::string k_err = error_of([&] { ladle::dsir_resample(wv, lv, 3, ladle::seed{1}); });
  CHECK(k_err.find("dsir_resample") != std::string::npos);
  CHECK(k_err.find("'k' is 3 but only 2 of 3") != std::string::npos);
  CHECK(w == w_before);
  w[1] = NAN;
  CHECK(error_of([&] { ladle::dsir_resample(wv, lv, 1, ladle::seed{1}); }).find("index 1") != std::string::npos);
  CHECK(error_of([&] { ladle::dsir_resample(wv, lv.slice(0, 2), 1, ladle::seed{1}); }).find("lengths") != std::string::npos);
  // Files: malformed JSON (line number), missing field, lone surrogate, bad UTF-8 in a line.
  const temp_file j("bad.jsonl", "{\"text\": \"fine\"}\n{\"text\": \"a\", }\n");
  const std::string je = error_of([&] { ladle::dsir_fit(ladle::seq, {j.path, "text"}); });
  CHECK(je.find("dsir_fit") != std::string::npos);
  CHECK(je.find("line 2") != std::string::npos);
  const temp_file m("missing.jsonl", "{\"body\": \"x\"}\n");
  CHECK(error_of([&] { ladle::dsir_fit(ladle::seq, {m.path, "text"}); }).find("missing") != std::string::npos);
  const temp_file s("surrogate.jsonl", "{\"text\": \"\\ud83d x\"}\n");
  CHECK(error_of([&] { ladle::dsir_fit(ladle::seq, {s.path, "text"}); }).find("surrogate") != std::string::npos);
  const temp_file n("number.jsonl", "{\"text\": 5}\n");
  CHECK(error_of([&] { ladle::dsir_fit(ladle::seq, {n.path, "text"}); }).find("not a string") != std::string::npos);
  const temp_file u("utf8.txt", "good\nbad \xff here\n");
  const std::string ue = error_of([&] { ladle::dsir_score(ladle::par(2), ladle::dsir_text_file{u.path, ""}, std::vector<double>(10000)); });
  CHECK(ue.find("document 1 (line 2 of '" + u.path + "')") != std::string::npos);
  CHECK(error_of([] { ladle::dsir_score_documents(ladle::seq, std::vector<std::string>{"a", "\xff"}, std::vector<double>(10000)); }).find("dsir_score_documents: 'docs' document 1 is not valid UTF-8 (byte 0)") != std::string::npos);
  CHECK(ue.find("byte 4") != std::string::npos);
  CHECK(error_of([] { ladle::dsir_fit(ladle::seq, {"/nonexistent/ladle.txt", ""}); }).find("cannot open") != std::string::npos);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
