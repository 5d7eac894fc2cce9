// Scores and pruning against direct numpy computations (and torch autograd for last-layer
// GraNd): tests/selection/fixtures/make_score_fixtures.py.
#include "fixtures/scores_fixtures.hpp"
#include "helpers.hpp"

#include <limits>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;

namespace {

template <class T>
std::vector<T> as(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

void check_close(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  REQUIRE(got.size() == want.size());
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - want[i]));
  CAPTURE(worst);
  CHECK(worst <= tol);
}

std::vector<long> as_long(const std::vector<index_t>& v) { return {v.begin(), v.end()}; }

}  // namespace

TEST_CASE_TEMPLATE("EL2N, GraNd (last layer) and uncertainty equal numpy / torch", T, float,
                   double) {
  const double tol = std::is_same<T, float>::value ? 2e-6 : 1e-13;
  const auto probs = as<T>(sfx::probs);
  const auto logits = as<T>(sfx::logits);
  const auto feats = as<T>(sfx::features);
  const auto P = ladle::make_view(static_cast<const T*>(probs.data()), {sfx::n, sfx::C});
  const auto Z = ladle::make_view(static_cast<const T*>(logits.data()), {sfx::n, sfx::C});
  const auto H = ladle::make_view(static_cast<const T*>(feats.data()), {sfx::n, sfx::d});
  const auto y = ladle::make_view(sfx::labels.data(), sfx::labels.size());
  check_close(ladle::el2n_scores(P, y), sfx::el2n, tol);
  check_close(ladle::el2n_scores_from_logits(Z, y), sfx::el2n, tol);
  check_close(ladle::grand_last_layer_scores(Z, y, H, true), sfx::grand_bias, 10 * tol);
  check_close(ladle::grand_last_layer_scores(Z, y, H, false), sfx::grand_nobias, 10 * tol);
  check_close(ladle::uncertainty_scores(P, ladle::uncertainty::least_confidence),
              sfx::least_confidence, tol);
  check_close(ladle::uncertainty_scores(P, ladle::uncertainty::margin), sfx::margin, tol);
  check_close(ladle::uncertainty_scores(P, ladle::uncertainty::entropy), sfx::entropy, 10 * tol);
  // Column-major (transposed strides) views read the same numbers.
  std::vector<T> pt(probs.size());
  for (long i = 0; i < sfx::n; ++i)
    for (long j = 0; j < sfx::C; ++j) pt[std::size_t(j * sfx::n + i)] = probs[std::size_t(i * sfx::C + j)];
  const auto Pt = ladle::make_view(static_cast<const T*>(pt.data()), {sfx::n, sfx::C}, {1, sfx::n});
  check_close(ladle::el2n_scores(Pt, y), sfx::el2n, tol);
}

TEST_CASE("mean_over_runs averages columns") {
  const std::vector<double> runs = {1, 2, 3, 3, 4, 5};  // 2 runs x 3 samples
  const auto m = ladle::mean_over_runs(ladle::make_view(runs.data(), {index_t(2), index_t(3)}));
  CHECK(m == std::vector<double>{2, 3, 4});
}

TEST_CASE("forgetting_tracker counts right-then-wrong transitions") {
  ladle::forgetting_tracker f(sfx::n);
  for (long e = 0; e < sfx::epochs; ++e)
    f.update(ladle::make_view(sfx::correct.data() + e * sfx::n, sfx::n));
  CHECK(f.epochs() == sfx::epochs);
  check_close(f.scores(), sfx::forgetting, 0.0);
  CHECK(!f.learned()[3]);
  CHECK(f.learned()[4]);
  std::vector<int> short_vec(3, 1);
  CHECK_THROWS_WITH_AS(f.update(ladle::make_view(short_vec.data(), 3)),
                       doctest::Contains("'correct' has length 3 but 37"), ladle::invalid_argument);
  CHECK(f.epochs() == sfx::epochs);
}

TEST_CASE("prune: hardest, easiest, band, per class and CCS equal numpy") {
  const auto s = ladle::make_view(sfx::scores.data(), sfx::scores.size());
  const auto y = ladle::make_view(sfx::labels.data(), sfx::labels.size());
  ladle::prune_options o;
  CHECK(as_long(ladle::prune(s, sfx::keep, o)) == sfx::hardest);
  o.mode = ladle::prune_mode::easiest;
  CHECK(as_long(ladle::prune(s, sfx::keep, o)) == sfx::easiest);
  o.mode = ladle::prune_mode::band;
  o.offset = sfx::band_offset;
  CHECK(as_long(ladle::prune(s, sfx::keep, o)) == sfx::band);
  CHECK(as_long(ladle::prune(s, y, sfx::keep, ladle::prune_options{})) == sfx::per_class);
  // float scores give the same ranking
  const std::vector<float> sf(sfx::scores.begin(), sfx::scores.end());
  CHECK(as_long(ladle::prune(ladle::make_view(sf.data(), sf.size()), sfx::keep)) == sfx::hardest);

  ladle::prune_options c;
  c.mode = ladle::prune_mode::ccs;
  c.hard_cutoff = sfx::ccs_cutoff;
  c.strata = sfx::ccs_strata;
  for (std::uint64_t sd = 0; sd < 20; ++sd) {
    const auto v = ladle::prune(s, sfx::ccs_keep, c, ladle::seed{sd});
    REQUIRE(long(v.size()) == sfx::ccs_keep);
    std::vector<long> per_bin(std::size_t(sfx::ccs_strata), 0);
    for (auto i : v) {
      const long b = sfx::ccs_bin_of[std::size_t(i)];
      REQUIRE(b >= 0);  // never one of the cut hardest
      ++per_bin[std::size_t(b)];
    }
    CHECK(per_bin == sfx::ccs_budget);
  }
  CHECK(ladle::prune(s, sfx::ccs_keep, c, ladle::seed{1}) !=
        ladle::prune(s, sfx::ccs_keep, c, ladle::seed{2}));
}

TEST_CASE("scores and prune errors") {
  const std::vector<double> p = {0.5, 0.5, 0.2, 0.8};
  const std::vector<std::int32_t> y = {0, 2};
  const auto P = ladle::make_view(p.data(), {index_t(2), index_t(2)});
  CHECK_THROWS_WITH_AS(ladle::el2n_scores(P, ladle::make_view(y.data(), 2)),
                       doctest::Contains("'labels' has 2 at index 1, outside [0, 2)"),
                       ladle::invalid_argument);
  CHECK_THROWS_WITH_AS(ladle::el2n_scores(P, ladle::make_view(y.data(), 1)),
                       doctest::Contains("'labels' has 1 entries but there are 2 rows"),
                       ladle::invalid_argument);
  std::vector<double> bad = p;
  bad[3] = std::numeric_limits<double>::quiet_NaN();
  const std::vector<std::int32_t> y_ok = {0, 1};
  CHECK_THROWS_WITH_AS(
      ladle::el2n_scores(ladle::make_view(bad.data(), {index_t(2), index_t(2)}), ladle::make_view(y_ok.data(), 2)),
      doctest::Contains("row 1, column 1"), ladle::domain_error);
  bad[3] = 1.5;
  CHECK_THROWS_WITH_AS(
      ladle::uncertainty_scores(ladle::make_view(bad.data(), {index_t(2), index_t(2)}), ladle::uncertainty::margin),
      doctest::Contains("probabilities must be in [0, 1]"), ladle::domain_error);
  const std::vector<double> s = {1, 2, 3};
  const auto sv = ladle::make_view(s.data(), 3);
  CHECK_THROWS_AS(ladle::prune(sv, 4), ladle::invalid_argument);
  const std::vector<double> s_nan = {1, std::numeric_limits<double>::infinity(), 3};
  CHECK_THROWS_WITH_AS(ladle::prune(ladle::make_view(s_nan.data(), 3), 1),
                       doctest::Contains("ladle::prune: 'scores' has inf at element 1"),
                       ladle::domain_error);
  ladle::prune_options o;
  o.mode = ladle::prune_mode::band;
  o.offset = 2;
  CHECK_THROWS_WITH_AS(ladle::prune(sv, 2, o), doctest::Contains("'offset' is 2"),
                       ladle::invalid_argument);
  o.mode = ladle::prune_mode::ccs;
  o.offset = 0;
  o.hard_cutoff = 1.0;
  CHECK_THROWS_AS(ladle::prune(sv, 1, o), ladle::invalid_argument);
  CHECK_THROWS_WITH_AS(ladle::prune(sv, ladle::make_view(y_ok.data(), 2), 1),
                       doctest::Contains("'labels' has 2 entries but scores has 3"),
                       ladle::invalid_argument);
  const std::vector<double> empty;
  CHECK_THROWS_WITH_AS(ladle::prune(ladle::make_view(empty.data(), 0), 0),
                       doctest::Contains("'scores' is empty"), ladle::invalid_argument);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
