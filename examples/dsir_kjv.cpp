// DSIR on real text: from every verse of the King James Bible plus every fortune cookie (Debian's
// bible-kjv and fortunes packages), choose 2 000 documents that look like the four Gospels, and
// check that their hashed n-gram distribution is closer to the Gospels' than a uniform random
// sample of the same size is (total variation over the 10 000 buckets).
//
// Needs /usr/bin/bible and /usr/share/games/fortunes; without them it says so and exits 0.
#include <ladle/selection.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

/// Bucket distribution (probabilities) of a set of documents.
std::vector<double> distribution(const std::vector<std::string>& docs, const std::vector<ladle::index_t>& which) {
  ladle::dsir_ngram_model m;
  for (ladle::index_t i : which) m.add(docs[std::size_t(i)]);
  std::vector<double> p(m.counts().size());
  for (std::size_t b = 0; b < p.size(); ++b) p[b] = double(m.counts()[b]) / double(m.total());
  return p;
}

double total_variation(const std::vector<double>& p, const std::vector<double>& q) {
  double s = 0;
  for (std::size_t b = 0; b < p.size(); ++b) s += std::abs(p[b] - q[b]);
  return s / 2;
}

}  // namespace

int main() {
  const char* bible = "/usr/bin/bible";
  const fs::path fortunes = "/usr/share/games/fortunes";
  if (!fs::exists(bible) || !fs::is_directory(fortunes)) {
    std::cout << "dsir_kjv: skipped (needs Debian's bible-kjv and fortunes packages)\n";
    return 0;
  }
  // Raw: one document per line. Target: the Gospel verses (also in raw).
  std::vector<std::string> raw, target;
  std::vector<bool> gospel;
  FILE* p = popen("/usr/bin/bible -f Gen1:1-Rev22:21", "r");
  if (!p) return 1;
  std::string line;
  for (int c; (c = std::fgetc(p)) != EOF;) {
    if (c != '\n') {
      line += static_cast<char>(c);
      continue;
    }
    const std::size_t space = line.find(' ');
    if (space != std::string::npos) {
      const std::string ref = line.substr(0, space), text = line.substr(space + 1);
      const std::string book = ref.substr(0, ref.find_first_of("0123456789", 1));
      const bool g = book == "Mat" || book == "Mark" || book == "Luke" || book == "John";
      raw.push_back(text);
      gospel.push_back(g);
      if (g) target.push_back(text);
    }
    line.clear();
  }
  pclose(p);
  const std::size_t verses = raw.size();
  for (const auto& entry : fs::directory_iterator(fortunes)) {
    if (!entry.is_regular_file() || entry.path().has_extension()) continue;  // skip .dat / .u8
    std::ifstream in(entry.path(), std::ios::binary);
    std::string cookie;
    while (std::getline(in, line)) {
      if (line == "%") {
        if (!cookie.empty()) raw.push_back(cookie), gospel.push_back(false);
        cookie.clear();
      } else {
        cookie += (cookie.empty() ? "" : " ") + line;
      }
    }
    if (!cookie.empty()) raw.push_back(cookie), gospel.push_back(false);
  }
  // Through files, as a user would stream a corpus (one document per line).
  const fs::path dir = fs::temp_directory_path() / "ladle_dsir_kjv";
  fs::create_directories(dir);
  const std::string raw_path = (dir / "raw.txt").string(), target_path = (dir / "target.txt").string();
  {
    std::ofstream r(raw_path, std::ios::binary), t(target_path, std::ios::binary);
    for (const auto& d : raw) r << d << '\n';
    for (const auto& d : target) t << d << '\n';
  }
  const ladle::dsir_ngram_model raw_model = ladle::dsir_fit(ladle::par, {raw_path, ""});
  const ladle::dsir_ngram_model target_model = ladle::dsir_fit(ladle::par, {target_path, ""});
  const std::vector<double> ratios = ladle::dsir_log_ratios(raw_model, target_model);
  const ladle::dsir_scores scores = ladle::dsir_score(ladle::par, {raw_path, ""}, ratios);

  ladle::dsir_resample_options opts;
  opts.min_length = 8;  // the reference's default of 100 tokens would drop almost every verse
  const ladle::index_t k = 2000;
  const auto n = static_cast<ladle::index_t>(raw.size());
  const auto chosen = ladle::dsir_resample(ladle::make_view(scores.log_weights.data(), n),
                                           ladle::make_view(scores.lengths.data(), n), k,
                                           ladle::seed{1}, opts);
  // A uniform sample of the same size from the same length-filtered pool.
  std::vector<ladle::index_t> pool;
  for (ladle::index_t i = 0; i < n; ++i)
    if (scores.lengths[std::size_t(i)] >= opts.min_length) pool.push_back(i);
  std::vector<ladle::index_t> random;
  for (ladle::index_t j : ladle::uniform_subset(static_cast<ladle::index_t>(pool.size()), k, ladle::seed{1}))
    random.push_back(pool[std::size_t(j)]);

  std::vector<ladle::index_t> all_target(target.size());
  for (std::size_t i = 0; i < all_target.size(); ++i) all_target[i] = static_cast<ladle::index_t>(i);
  const std::vector<double> q = distribution(target, all_target);
  const double tv_dsir = total_variation(distribution(raw, chosen), q);
  const double tv_random = total_variation(distribution(raw, random), q);
  auto gospel_share = [&](const std::vector<ladle::index_t>& v) {
    double g = 0;
    for (ladle::index_t i : v) g += gospel[std::size_t(i)];
    return g / double(v.size());
  };
  std::cout << "raw: " << verses << " verses + " << raw.size() - verses << " fortunes; target: "
            << target.size() << " Gospel verses; " << pool.size() << " documents of >= 8 tokens\n"
            << "total variation to the target's bucket distribution, " << k << " documents:\n"
            << "  DSIR (Gumbel top-k, seed 1): " << tv_dsir << "  (Gospel verses: " << 100 * gospel_share(chosen) << "%)\n"
            << "  uniform random sample:       " << tv_random << "  (Gospel verses: " << 100 * gospel_share(random) << "%)\n";
  fs::remove_all(dir);
  if (!(tv_dsir < tv_random)) {
    std::cout << "FAILED: the DSIR selection is not closer to the target than a random sample\n";
    return 1;
  }
  return 0;
}
