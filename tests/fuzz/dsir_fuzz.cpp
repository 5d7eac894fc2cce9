// libFuzzer target: DSIR's text front end on arbitrary bytes. The first byte picks the part:
//   0: tokeniser and featuriser. Valid UTF-8 must give non-empty tokens without whitespace, one
//      n-gram count per unigram and bigram, buckets below 10 000; appending " é" must append
//      exactly the token "é" (for ASCII input this checks the ASCII fast path against the
//      Unicode path). Invalid UTF-8 must be a ladle::error.
//   1: the JSON Lines reader (field "text"): any verdict, but no crash, and a decoded string
//      from a line it accepts.
#include <ladle/selection/dsir.hpp>

#include "fuzz_input.hpp"

#include <cstdlib>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    fuzz::call([&] {
      const std::vector<std::string> tokens = ladle::dsir_tokenize(text);
      for (const std::string& t : tokens) {
        if (t.empty()) std::abort();
        for (const char c : t)
          if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') std::abort();
      }
      const ladle::dsir_features f = ladle::dsir_featurize(text);
      const auto t = static_cast<std::int64_t>(tokens.size());
      if (f.ngrams != (t == 0 ? 0 : 2 * t - 1) || f.length != double(t)) std::abort();
      for (const std::uint32_t b : f.buckets)
        if (b >= 10000) std::abort();
      std::vector<std::string> more = ladle::dsir_tokenize(text + " \xc3\xa9");
      if (more.size() != tokens.size() + 1 || more.back() != "\xc3\xa9") std::abort();
      more.pop_back();
      if (more != tokens) std::abort();
    });
  } else {
    ladle::detail::json_line_reader r{text};
    std::string out;
    const char* what = r.field("text", out);
    if (what == nullptr && r.i != text.size()) std::abort();
  }
  return 0;
}
