// ladle/selection/dsir.hpp: DSIR, data selection by importance resampling over hashed n-grams
// (Xie et al., "Data Selection for Language Models via Importance Resampling"), bucket-compatible
// with the reference implementation p-lambda/dsir (HashedNgramDSIR).
//
// Pipeline: text -> Python str.lower() -> NLTK WordPunct tokens (maximal runs of word characters,
// or of characters that are neither word nor whitespace) -> every 1..n-gram joined by one space ->
// bucket = SHA-256 big-endian integer mod buckets -> per-document counts. Two bag-of-n-gram
// models (raw, target) give log_ratio_b = ln(q_b + 1e-8) - ln(p_b + 1e-8); a document's log
// importance weight is sum_b count_b * log_ratio_b; k documents are drawn by Gumbel top-k on those
// log weights among the documents of length >= min_length (DEFAULT 100 TOKENS, as the reference).
//
// Inputs: documents are UTF-8 byte strings (std::string_view). Text files are read one document
// per line ('\n', a trailing '\r' dropped; an empty line is an empty document) or as JSON Lines
// with a string field. Unicode facts (lower-casing, word characters, whitespace, Final_Sigma) are
// Unicode 14.0, generated from Python 3.11 by tools/gen_unicode_tables.py.
//
// Output and order: features list distinct buckets in order of first occurrence with counts; weights and
// lengths are per document in input order; dsir_resample returns ascending document indices
// (input order), whatever the thread count or chunk size.
//
// Randomness: dsir_resample's Gumbel noise for document i is a pure function of (seed, i) (Philox
// stream derive_stream("DSIR", i)), so the selection is the same bits for every policy, thread
// count and chunking. The reference uses numpy's unseeded global RNG; ladle always takes a seed.
//
// Errors (ladle::error; nothing written, inputs untouched): buckets == 0, ngrams outside [1, 8],
// invalid UTF-8 (document index and byte offset; the reference fails to decode such a file too),
// malformed JSON or a missing / non-string field (line number), an empty raw or target model,
// k < 0 or k greater than the number of documents passing the length filter, NaN log weights,
// negative / NaN lengths, mismatched sizes, an unreadable file.
//
// Complexity: featurising is O(bytes + g) for g n-grams of a document (one SHA-256 block
// for every n-gram shorter than 56 bytes); weights O(g); models O(buckets) memory; resampling
// O(n) expected time. The corpus forms (dsir_fit, dsir_score, *_documents) keep a bounded memo of
// token and token-pair buckets per running thread (2 MiB each, built after 32 documents), so
// frequent n-grams skip SHA-256; it returns exactly the hashed buckets, so results do not change.
// Extra memory: dsir_fit / dsir_score hold one chunk of documents and their features
// (chunk_docs lines) plus O(buckets) and the memos; dsir_score returns 16 bytes per document;
// dsir_resample 16 bytes per passing document plus 8 per document.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/parallel.hpp"
#include "ladle/core/random.hpp"
#include "ladle/core/view.hpp"
#include "ladle/selection/sha256.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace ladle {

/// Featuriser settings (the reference's num_buckets and ngrams).
struct dsir_options {
  std::uint32_t buckets = 10000;
  int ngrams = 2;  ///< 1-grams up to ngrams-grams, in [1, 8]
};

/// One document's hashed n-gram features.
struct dsir_features {
  /// distinct buckets in order of first occurrence (unigrams in text order, then bigrams, ...)
  std::vector<std::uint32_t> buckets;
  std::vector<std::uint32_t> counts;   ///< occurrences of each bucket
  std::int64_t ngrams = 0;             ///< sum of counts
  /// floor((ngrams + n(n-1)/2) / n): the token count for n = 2 (the reference's length).
  double length = 0;
};

/// The lower-cased WordPunct tokens of a UTF-8 document, each as UTF-8.
inline std::vector<std::string> dsir_tokenize(std::string_view text);

/// The hashed n-gram features of one UTF-8 document.
inline dsir_features dsir_featurize(std::string_view text, const dsir_options& opts = {});

/// A bag-of-hashed-n-grams model: summed counts over documents.
class dsir_ngram_model {
 public:
  explicit dsir_ngram_model(const dsir_options& opts = {});
  void add(const dsir_features& f);
  void add(std::string_view text) { add(dsir_featurize(text, opts_)); }
  /// Adds another model's counts (same options).
  void merge(const dsir_ngram_model& other);
  const std::vector<std::uint64_t>& counts() const noexcept { return counts_; }
  std::uint64_t total() const noexcept { return total_; }
  std::int64_t documents() const noexcept { return documents_; }
  const dsir_options& options() const noexcept { return opts_; }

 private:
  dsir_options opts_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::int64_t documents_ = 0;
};

/// log_ratio_b = ln(q_b + 1e-8) - ln(p_b + 1e-8) with p_b = raw_b / raw_total (no smoothing) and
/// q_b = (target_b + smoothing) / (target_total + smoothing * buckets). Both models non-empty.
inline std::vector<double> dsir_log_ratios(const dsir_ngram_model& raw,
                                           const dsir_ngram_model& target,
                                           double target_smoothing = 0.0);

/// sum_b count_b * log_ratios[b], one std::fma per entry of f in its order (first occurrence),
/// so the same bits on every ISA and as dsir_score. 0 for an empty document.
inline double dsir_log_weight(const dsir_features& f, const std::vector<double>& log_ratios);

struct dsir_resample_options {
  double min_length = 100;  ///< keep documents with length >= min_length (the reference's default)
  bool top_k = false;       ///< the k largest log weights, no Gumbel noise
};

/// k documents of those with lengths[i] >= min_length, drawn without replacement with
/// probability proportional to exp(log_weights[i]) (Gumbel top-k: the k largest of
/// log_weights[i] + G_i), or the k largest log weights with top_k. Ties go to the smaller index.
/// Ascending indices. k may equal the number of passing documents (all of them are returned;
/// the reference raises there).
template <class Policy>
std::vector<index_t> dsir_resample(const Policy& policy, vector_view<const double> log_weights,
                                   vector_view<const double> lengths, index_t k, seed s,
                                   const dsir_resample_options& opts = {});
inline std::vector<index_t> dsir_resample(vector_view<const double> log_weights,
                                          vector_view<const double> lengths, index_t k, seed s,
                                          const dsir_resample_options& opts = {}) {
  return dsir_resample(seq, log_weights, lengths, k, s, opts);
}

/// In-memory corpora: docs is any random-access container (size(), operator[]) of things that
/// convert to std::string_view. Featurised in parallel chunks; the same results as the file forms.
template <class Policy, class Docs>
dsir_ngram_model dsir_fit_documents(const Policy& policy, const Docs& docs,
                                    const dsir_options& opts = {});
struct dsir_scores;
template <class Policy, class Docs>
dsir_scores dsir_score_documents(const Policy& policy, const Docs& docs,
                                 const std::vector<double>& log_ratios,
                                 const dsir_options& opts = {});

// ---- streaming over text files --------------------------------------------------------------

/// A text file of documents: one per line, or JSON Lines (field non-empty: each line a JSON
/// object whose member `field` is a string; escapes incl. \uXXXX and surrogate pairs decoded).
struct dsir_text_file {
  std::string path;
  std::string field;  ///< empty: one document per line
};

/// No cap on the raw model's n-gram budget.
inline constexpr std::uint64_t dsir_all_ngrams = std::numeric_limits<std::uint64_t>::max();

struct dsir_stream_options {
  index_t chunk_docs = 4096;  ///< documents held in memory at once
  /// dsir_fit: stop after the first document that takes the n-gram total strictly above this
  /// (that document included); 0 = the reference's 'auto', 100 000 * buckets.
  std::uint64_t ngram_budget = dsir_all_ngrams;
};

/// Calls on_chunk(first_index, docs) for consecutive chunks of the file's documents (at most
/// chunk_docs each); `fn` names the public caller in errors.
template <class F>
void dsir_read_documents(const dsir_text_file& file, index_t chunk_docs, F&& on_chunk,
                         const char* fn = "dsir_read_documents");

/// The bag-of-n-grams model of a text file, featurised chunk by chunk in parallel.
template <class Policy>
dsir_ngram_model dsir_fit(const Policy& policy, const dsir_text_file& file,
                          const dsir_options& opts = {}, const dsir_stream_options& stream = {});

/// Per-document log importance weights and lengths, in input order.
struct dsir_scores {
  std::vector<double> log_weights;
  std::vector<double> lengths;
};
template <class Policy>
dsir_scores dsir_score(const Policy& policy, const dsir_text_file& file,
                       const std::vector<double>& log_ratios, const dsir_options& opts = {},
                       const dsir_stream_options& stream = {});

}  // namespace ladle

#include "ladle/selection/detail/dsir_impl.hpp"
