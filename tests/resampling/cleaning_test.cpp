// Under-samplers and cleaners: Tomek links and ENN keep exactly the rows imbalanced-learn 0.10
// keeps; random under-sampling keeps the requested subset in original order; SMOTE-Tomek and
// SMOTE-ENN equal "SMOTE, then the cleaner over all classes".
#include "helpers.hpp"

#include <doctest/doctest.h>

#include <limits>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

using ladle::index_t;

template <class T, class L>
std::vector<long> kept_rows(const ladle::resample_result<T, L>& r) {
  return std::vector<long>(r.sample_indices.begin(), r.sample_indices.end());
}

template <class T, class L, class TX, class LY>
void check_rows_copied(const ladle::resample_result<T, L>& r, ladle::matrix_view<TX> X,
                       ladle::vector_view<LY> y) {
  index_t bad = 0;
  for (index_t i = 0; i < r.kept(); ++i) {
    const index_t src = r.sample_indices(i);
    bad += r.y(i) != y(src);
    for (index_t f = 0; f < X.extent(1); ++f) bad += r.X(i, f) != X(src, f);
    if (i > 0) bad += r.sample_indices(i - 1) >= src;  // original order
  }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE_TEMPLATE("Tomek links and ENN remove exactly what imblearn removes", T, float, double) {
  for (int set = 0; set < 2; ++set) {
    CAPTURE(set);
    const auto X = set == 0 ? rt::features<T>(fx::bin_X, fx::bin_n, fx::bin_d)
                            : rt::features<T>(fx::tri_X, fx::tri_n, fx::tri_d);
    const auto y = rt::labels<std::int32_t>(set == 0 ? fx::bin_y : fx::tri_y);
    const auto Xv = X.cview();
    const auto yv = y.cview();
    const auto pick = [&](const std::vector<long>& b, const std::vector<long>& t) -> const auto& {
      return set == 0 ? b : t;
    };
    const auto t_auto = ladle::tomek_links(Xv, yv);
    CHECK(kept_rows(t_auto) == pick(fx::bin_tomek_auto, fx::tri_tomek_auto));
    check_rows_copied(t_auto, Xv, yv);
    const auto t_all = ladle::tomek_links(ladle::par(2), Xv, yv, {"all"});
    CHECK(kept_rows(t_all) == pick(fx::bin_tomek_all, fx::tri_tomek_all));
    CHECK(t_all.kept() < t_auto.kept());

    struct enn_case {
      const char* strategy;
      index_t k;
      ladle::enn_kind kind;
      const std::vector<long>& bin;
      const std::vector<long>& tri;
    };
    const std::vector<enn_case> cases = {
        {"auto", 3, ladle::enn_kind::all, fx::bin_enn_auto_k3_all, fx::tri_enn_auto_k3_all},
        {"all", 3, ladle::enn_kind::all, fx::bin_enn_all_k3_all, fx::tri_enn_all_k3_all},
        {"auto", 3, ladle::enn_kind::mode, fx::bin_enn_auto_k3_mode, fx::tri_enn_auto_k3_mode},
        {"all", 5, ladle::enn_kind::mode, fx::bin_enn_all_k5_mode, fx::tri_enn_all_k5_mode},
        {"all", 4, ladle::enn_kind::mode, fx::bin_enn_all_k4_mode, fx::tri_enn_all_k4_mode}};
    for (const auto& c : cases) {
      CAPTURE(c.strategy);
      CAPTURE(c.k);
      const auto r = ladle::edited_nearest_neighbours(Xv, yv, {c.strategy, c.k, c.kind});
      CHECK(kept_rows(r) == pick(c.bin, c.tri));
      check_rows_copied(r, Xv, yv);
      CHECK(r.synthetic() == 0);
    }
  }
}

TEST_CASE("Tomek link mask: mutual nearest neighbours with different labels") {
  const auto X = rt::features<double>(fx::tri_X, fx::tri_n, fx::tri_d);
  const auto y = rt::labels<std::int64_t>(fx::tri_y);
  const auto mask = ladle::tomek_link_mask(ladle::seq, X.cview(), y.cview());
  std::vector<index_t> all(std::size_t(X.extent(0)));
  for (index_t i = 0; i < X.extent(0); ++i) all[std::size_t(i)] = i;
  index_t bad = 0, links = 0;
  for (index_t i = 0; i < X.extent(0); ++i) {
    const index_t j = rt::naive_knn<double>(X.cview(), i, all, 1)[0];
    const index_t jj = rt::naive_knn<double>(X.cview(), j, all, 1)[0];
    const bool want = y(i) != y(j) && jj == i;
    bad += mask[std::size_t(i)] != want;
    links += want;
  }
  CHECK(bad == 0);
  CHECK(links > 0);
}

TEST_CASE_TEMPLATE("cleaner _into forms equal the owning forms", T, float, double) {
  const auto X = rt::features<T>(fx::tri_X, fx::tri_n, fx::tri_d);
  const auto y = rt::labels<std::int64_t>(fx::tri_y);
  const index_t n = X.extent(0), d = X.extent(1);
  ladle::tensor<T, 2> Xo({n, d}, T(-1));
  ladle::tensor<std::int64_t, 1> yo({n}, -1);
  ladle::tensor<index_t, 1> si({n}, -1);
  ladle::resample_output<T, std::int64_t> out{Xo.view(), yo.view(), si.view(), {}, {}, {}};
  const auto sh = ladle::tomek_links_into(ladle::seq, X.cview(), y.cview(), out, {"all"});
  const auto ref = ladle::tomek_links(X.cview(), y.cview(), {"all"});
  CHECK(sh.kept == ref.kept());
  CHECK(std::equal(ref.X.begin(), ref.X.end(), Xo.begin()));
  CHECK(std::equal(ref.sample_indices.begin(), ref.sample_indices.end(), si.begin()));
  CHECK(Xo(n - 1, 0) == T(-1));  // rows past the kept ones are untouched
  const auto she = ladle::edited_nearest_neighbours_into(ladle::par(2), X.cview(), y.cview(), out);
  const auto refe = ladle::edited_nearest_neighbours(X.cview(), y.cview());
  CHECK(she.kept == refe.kept());
  CHECK(std::equal(refe.X.begin(), refe.X.end(), Xo.begin()));
  ladle::tensor<T, 2> small({n - 1, d});
  ladle::resample_output<T, std::int64_t> wrong{small.view(), yo.view(), {}, {}, {}, {}};
  CHECK_THROWS_AS(ladle::tomek_links_into(ladle::seq, X.cview(), y.cview(), wrong),
                  ladle::invalid_argument);
}

TEST_CASE_TEMPLATE("random under-sampling keeps a uniform subset in original order", T, float,
                   double) {
  const auto X = rt::features<T>(fx::tri_X, fx::tri_n, fx::tri_d);
  const auto y = rt::labels<std::int64_t>(fx::tri_y);
  const auto Xv = X.cview();
  const auto yv = y.cview();
  const auto r = ladle::random_under_sample(Xv, yv, {}, ladle::seed{5});
  CHECK(rt::class_counts_flat(r.y.cview()) == fx::tri_counts_rus);
  check_rows_copied(r, Xv, yv);
  // Class 2 (the minority) is kept whole.
  CHECK(std::count(r.y.begin(), r.y.end(), 2) == 36);
  CHECK(rt::bit_identical(r, ladle::random_under_sample(ladle::par(2), Xv, yv, {}, ladle::seed{5})));
  CHECK_FALSE(rt::bit_identical(r, ladle::random_under_sample(Xv, yv, {}, ladle::seed{6})));
  // Every row of class 0 is picked about equally often over many seeds.
  std::vector<int> hits(std::size_t(X.extent(0)), 0);
  for (std::uint64_t s = 0; s < 400; ++s) {
    const auto q = ladle::random_under_sample(Xv, yv, {std::map<std::int64_t, index_t>{{0, 50}}},
                                              ladle::seed{s});
    for (auto i : q.sample_indices) ++hits[std::size_t(i)];
  }
  int lo = 1 << 30, hi = 0;
  for (index_t i = 0; i < X.extent(0); ++i)
    if (y(i) == 0) {
      lo = std::min(lo, hits[std::size_t(i)]);
      hi = std::max(hi, hits[std::size_t(i)]);
    }
  // Expected 400 * 50 / 157 = 127 per row; binomial sd ~9.3.
  CHECK(lo > 85);
  CHECK(hi < 170);
  // With replacement: the right counts, rows may repeat.
  ladle::random_under_options o;
  o.replacement = true;
  const auto rr = ladle::random_under_sample(Xv, yv, o, ladle::seed{5});
  CHECK(rt::class_counts_flat(rr.y.cview()) == fx::tri_counts_rus);
  // _into.
  const auto sh = ladle::resampled_size(yv, ladle::random_under_options{});
  CHECK(sh.kept == 3 * 36);
  ladle::tensor<T, 2> Xo({sh.rows(), X.extent(1)});
  ladle::tensor<std::int64_t, 1> yo({sh.rows()});
  ladle::random_under_sample_into(ladle::seq, Xv, yv,
                                  ladle::resample_output<T, std::int64_t>{Xo.view(), yo.view(), {}, {}, {}, {}},
                                  {}, ladle::seed{5});
  CHECK(std::equal(Xo.begin(), Xo.end(), r.X.begin()));
  // Refusals: 'minority' is not an under-sampling strategy; counts above the class size.
  CHECK_THROWS_AS(ladle::random_under_sample(Xv, yv, {"minority"}, ladle::seed{1}),
                  ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::random_under_sample(
                      Xv, yv, {std::map<std::int64_t, index_t>{{2, 37}}}, ladle::seed{1}),
                  ladle::invalid_argument);
}

TEST_CASE_TEMPLATE("SMOTE-Tomek and SMOTE-ENN equal SMOTE followed by the cleaner", T, float,
                   double) {
  const auto X = rt::features<T>(fx::tri_X, fx::tri_n, fx::tri_d);
  const auto y = rt::labels<std::int64_t>(fx::tri_y);
  const index_t n = X.extent(0);
  const ladle::seed s{77};
  const auto sm = ladle::smote(X.cview(), y.cview(), {}, s);
  const auto tl = ladle::tomek_links(sm.X.cview(), sm.y.cview(), {"all"});
  const auto st = ladle::smote_tomek(X.cview(), y.cview(), {}, s);
  CHECK(st.rows() == tl.rows());
  CHECK(std::equal(st.X.begin(), st.X.end(), tl.X.begin()));
  CHECK(std::equal(st.y.begin(), st.y.end(), tl.y.begin()));
  // Audit: kept originals then surviving synthetic rows, mapped back through the SMOTE output.
  index_t bad = 0, w = 0;
  for (auto r : tl.sample_indices) {
    if (r < n) bad += st.sample_indices(w) != r;
    else {
      const index_t sidx = w - st.kept();
      bad += st.base(sidx) != sm.base(r - n) || st.neighbor(sidx) != sm.neighbor(r - n) ||
             st.gap(sidx) != sm.gap(r - n);
    }
    ++w;
  }
  CHECK(bad == 0);
  CHECK(st.synthetic() > 0);
  CHECK(st.kept() < n);

  const auto en = ladle::edited_nearest_neighbours(sm.X.cview(), sm.y.cview(), {"all"});
  const auto se = ladle::smote_enn(X.cview(), y.cview(), {}, s);
  CHECK(se.rows() == en.rows());
  CHECK(std::equal(se.X.begin(), se.X.end(), en.X.begin()));
  CHECK(rt::bit_identical(se, ladle::smote_enn(ladle::par(2), X.cview(), y.cview(), {}, s)));
  CHECK(rt::bit_identical(st, ladle::smote_tomek(ladle::par(2), X.cview(), y.cview(), {}, s)));
}

TEST_CASE("cleaners refuse bad input") {
  const auto X = rt::features<double>(fx::tri_X, fx::tri_n, fx::tri_d);
  const auto y = rt::labels<std::int64_t>(fx::tri_y);
  CHECK_THROWS_AS(ladle::tomek_links(X.cview(), y.cview(), {0.5}), ladle::invalid_argument);
  CHECK_THROWS_AS(
      ladle::tomek_links(X.cview(), y.cview(), {std::map<std::int64_t, index_t>{{0, 3}}}),
      ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::tomek_links(X.cview(), y.cview(), {ladle::sampling_strategy::targeting({5})}),
                  ladle::invalid_argument);
  CHECK_NOTHROW(ladle::tomek_links(X.cview(), y.cview(), {ladle::sampling_strategy::targeting({0, 2})}));
  CHECK_THROWS_AS(ladle::edited_nearest_neighbours(X.cview(), y.cview(), {"auto", 0}),
                  ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::edited_nearest_neighbours(X.cview(), y.cview(), {"auto", 260}),
                  ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::tomek_links(X.cview(), y.cview().slice(1, 260)), ladle::invalid_argument);
  auto Xb = X;
  Xb(3, 2) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(ladle::edited_nearest_neighbours(Xb.cview(), y.cview()), ladle::domain_error);
  CHECK_THROWS_AS(ladle::smote_enn(Xb.cview(), y.cview(), {}, ladle::seed{1}), ladle::domain_error);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
