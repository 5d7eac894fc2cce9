// What a new user writes first: inline strategies, any label spelling, row indices instead of
// class positions, consistently named options, allocating `_into` buffers from a shape, and plain
// byte masks.
#include "helpers.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

using ladle::index_t;

template <class T, class L>
index_t count_differences(const ladle::resample_result<T, L>& a, const ladle::resample_result<T, L>& b) {
  if (a.X.extents() != b.X.extents() || a.kept() != b.kept() || a.synthetic() != b.synthetic())
    return -1;
  index_t d = 0;
  for (index_t i = 0; i < a.X.size(); ++i) d += std::memcmp(&a.X[i], &b.X[i], sizeof(T)) != 0;
  for (index_t i = 0; i < a.rows(); ++i) d += std::int64_t(a.y[i]) != std::int64_t(b.y[i]);
  for (index_t i = 0; i < a.kept(); ++i) d += a.sample_indices[i] != b.sample_indices[i];
  for (index_t i = 0; i < a.synthetic(); ++i)
    d += a.base[i] != b.base[i] || a.neighbor[i] != b.neighbor[i] || a.gap[i] != b.gap[i];
  return d;
}

}  // namespace

TEST_CASE("sampling_strategy: inline counts {{label, count}} and maps of any integer types") {
  ladle::smote_options o;
  o.strategy = {{1, 50}};
  CHECK(o.strategy.which() == ladle::sampling_strategy::kind::counts);
  REQUIRE(o.strategy.counts().size() == 1);
  CHECK(o.strategy.counts().at(1) == 50);
  o.strategy = {{0, 100}, {2, 80}};
  CHECK(o.strategy.name() == "{0: 100, 2: 80}");
  const std::map<int, int> m = {{3, 7}};
  o.strategy = m;
  CHECK(o.strategy.counts().at(3) == 7);
  const std::map<long long, unsigned> mu = {{-1, 9u}};
  o.strategy = mu;
  CHECK(o.strategy.counts().at(-1) == 9);
  // The string and ratio forms are untouched by the new constructors.
  o.strategy = "minority";
  CHECK(o.strategy.which() == ladle::sampling_strategy::kind::minority);
  o.strategy = 0.5;
  CHECK(o.strategy.which() == ladle::sampling_strategy::kind::ratio);
  o.strategy = {};
  CHECK(o.strategy.which() == ladle::sampling_strategy::kind::automatic);
  // A label named twice, or a negative count, is an error naming the argument.
  try {
    o.strategy = {{1, 5}, {1, 6}};
    FAIL("no error");
  } catch (const ladle::invalid_argument& e) {
    CHECK(std::string(e.what()).find("sampling_strategy") != std::string::npos);
    CHECK(std::string(e.what()).find("twice") != std::string::npos);
  }
  CHECK_THROWS_AS((o.strategy = {{1, -5}}), ladle::invalid_argument);
  CHECK_THROWS_AS((o.strategy = std::map<int, int>{{1, -5}}), ladle::invalid_argument);

  // The inline form resamples exactly as the explicit map does.
  const auto X = rt::features<float>(fx::bin_X, fx::bin_n, fx::bin_d);
  const auto y = rt::labels<std::int64_t>(fx::bin_y);
  ladle::smote_options a, b;
  a.strategy = {{1, 150}};
  b.strategy = std::map<std::int64_t, index_t>{{1, 150}};
  const auto ra = ladle::smote(X.cview(), y.cview(), a, ladle::seed{3});
  const auto rb = ladle::smote(X.cview(), y.cview(), b, ladle::seed{3});
  CHECK(ra.rows() == fx::bin_n + 150 - index_t(rt::rows_of(y.cview(), 1).size()));
  CHECK(count_differences(ra, rb) == 0);
}

TEST_CASE("long long labels work wherever int64_t labels do") {
  static_assert(ladle::is_label_type_v<long long> && ladle::is_label_type_v<long> &&
                    ladle::is_label_type_v<int> && !ladle::is_label_type_v<unsigned> &&
                    !ladle::is_label_type_v<short> && !ladle::is_label_type_v<bool>,
                "label types");
  const auto X = rt::features<double>(fx::tri_X, fx::tri_n, fx::tri_d);
  const auto y64 = rt::labels<std::int64_t>(fx::tri_y);
  const auto yll = rt::labels<long long>(fx::tri_y);
  const auto c64 = ladle::count_classes(y64.cview());
  const auto cll = ladle::count_classes(yll.cview());
  REQUIRE(c64.size() == cll.size());
  for (std::size_t i = 0; i < c64.size(); ++i) {
    CHECK(c64[i].label == cll[i].label);
    CHECK(c64[i].count == cll[i].count);
  }
  const auto s64 = ladle::smote(X.cview(), y64.cview(), {}, ladle::seed{9});
  const auto sll = ladle::smote(X.cview(), yll.cview(), {}, ladle::seed{9});
  static_assert(std::is_same<decltype(sll.y)::value_type, long long>::value, "label type kept");
  CHECK(s64.synthetic() > 0);
  index_t diff = s64.rows() == sll.rows() ? 0 : 1;
  for (index_t i = 0; i < s64.rows() && diff == 0; ++i) {
    diff += std::int64_t(s64.y[i]) != std::int64_t(sll.y[i]);
    for (index_t f = 0; f < X.extent(1); ++f) diff += s64.X(i, f) != sll.X(i, f);
  }
  CHECK(diff == 0);
  const auto t64 = ladle::tomek_links(X.cview(), y64.cview());
  const auto tll = ladle::tomek_links(X.cview(), yll.cview());
  CHECK(t64.rows() == tll.rows());
  const auto e64 = ladle::edited_nearest_neighbours(X.cview(), y64.cview());
  const auto ell = ladle::edited_nearest_neighbours(X.cview(), yll.cview());
  CHECK(e64.rows() == ell.rows());
  const auto r64 = ladle::random_under_sample(X.cview(), y64.cview(), {}, ladle::seed{1});
  const auto rll = ladle::random_under_sample(X.cview(), yll.cview(), {}, ladle::seed{1});
  CHECK(r64.rows() == rll.rows());
}

TEST_CASE("borderline_status_by_row pairs imblearn's statuses with the caller's row indices") {
  const auto X = rt::features<double>(fx::bin_X, fx::bin_n, fx::bin_d);
  const auto y = rt::labels<std::int32_t>(fx::bin_y);
  const auto got = ladle::borderline_status_by_row(ladle::seq, X.cview(), y.cview(), 1, 10);
  const auto rows = rt::rows_of(y.cview(), 1);
  REQUIRE(got.rows == rows);
  REQUIRE(got.status.size() == fx::bin_status_m10_c1.size());
  index_t diff = 0;
  std::vector<index_t> all(std::size_t(X.extent(0)));
  for (index_t i = 0; i < X.extent(0); ++i) all[std::size_t(i)] = i;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    diff += int(got.status[i]) != fx::bin_status_m10_c1[i];  // imblearn's fixture
    // And the row index is the row the status describes: recount its neighbours naively.
    index_t other = 0;
    for (index_t j : rt::naive_knn<double>(X.cview(), rows[i], all, 10)) other += y(j) != 1;
    const int want = other == 10 ? 2 : 2 * other >= 10 ? 1 : 0;
    diff += int(got.status[i]) != want;
  }
  CHECK(diff == 0);
  CHECK_THROWS_AS(ladle::borderline_status_by_row(ladle::seq, X.cview(), y.cview(), 7, 10),
                  ladle::invalid_argument);
}

TEST_CASE("smote_enn_options::enn_kind mirrors enn_options::kind; enn_kind_sel still works") {
  const auto X = rt::features<double>(fx::tri_X, fx::tri_n, fx::tri_d);
  const auto y = rt::labels<std::int64_t>(fx::tri_y);
  ladle::smote_enn_options all, mode, old;
  mode.enn_kind = ladle::enn_kind::mode;
#if defined(__GNUC__)
#  pragma GCC diagnostic push
#  pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
  old.enn_kind_sel = ladle::enn_kind::mode;
#if defined(__GNUC__)
#  pragma GCC diagnostic pop
#endif
  const auto ra = ladle::smote_enn(X.cview(), y.cview(), all, ladle::seed{5});
  const auto rm = ladle::smote_enn(X.cview(), y.cview(), mode, ladle::seed{5});
  const auto ro = ladle::smote_enn(X.cview(), y.cview(), old, ladle::seed{5});
  CHECK(count_differences(rm, ro) == 0);
  // "all" removes a row when any neighbour disagrees, "mode" only when the majority does: it
  // keeps strictly more rows on these overlapping classes, so the field is really read.
  CHECK(rm.rows() > ra.rows());
  // The same as SMOTE followed by ENN(kind = mode) over all classes.
  const auto s = ladle::smote(X.cview(), y.cview(), {}, ladle::seed{5});
  ladle::enn_options eo;
  eo.kind = ladle::enn_kind::mode;
  eo.strategy = "all";
  const auto e = ladle::edited_nearest_neighbours(s.X.cview(), s.y.cview(), eo);
  CHECK(e.rows() == rm.rows());
}

TEST_CASE_TEMPLATE("allocate_resample_result(shape, d).output() feeds the _into forms", T, float, double) {
  const auto X = rt::features<T>(fx::tri_X, fx::tri_n, fx::tri_d);
  const auto y = rt::labels<std::int32_t>(fx::tri_y);
  ladle::smote_options o;
  const auto shape = ladle::resampled_size(y.cview(), o);
  auto buf = ladle::allocate_resample_result<T, std::int32_t>(shape, X.extent(1));
  CHECK(buf.rows() == shape.rows());
  CHECK(buf.kept() == shape.kept);
  CHECK(buf.synthetic() == shape.synthetic);
  CHECK(buf.X.extent(1) == X.extent(1));
  const auto wrote = ladle::smote_into(ladle::seq, X.cview(), y.cview(), buf.output(), o, ladle::seed{4});
  CHECK(wrote.rows() == shape.rows());
  const auto owning = ladle::smote(X.cview(), y.cview(), o, ladle::seed{4});
  CHECK(count_differences(buf, owning) == 0);

  // Errors name the function and the argument.
  try {
    ladle::allocate_resample_result<T, std::int32_t>({-1, 3}, 2);
    FAIL("no error");
  } catch (const ladle::invalid_argument& e) {
    CHECK(std::string(e.what()).find("allocate_resample_result") != std::string::npos);
    CHECK(std::string(e.what()).find("shape.kept") != std::string::npos);
  }
  CHECK_THROWS_AS((ladle::allocate_resample_result<T, std::int32_t>({1, -3}, 2)), ladle::invalid_argument);
  CHECK_THROWS_AS((ladle::allocate_resample_result<T, std::int32_t>({1, 3}, -2)), ladle::invalid_argument);
  const index_t huge = std::numeric_limits<index_t>::max() / 2 + 1;
  CHECK_THROWS_AS((ladle::allocate_resample_result<T, std::int32_t>({huge, huge}, 1)), ladle::invalid_argument);
}

TEST_CASE("tomek_link_mask is one byte per row; tomek_link_rows lists the linked rows") {
  const auto X = rt::features<double>(fx::tri_X, fx::tri_n, fx::tri_d);
  const auto y = rt::labels<std::int64_t>(fx::tri_y);
  const auto mask = ladle::tomek_link_mask(ladle::seq, X.cview(), y.cview());
  static_assert(std::is_same<std::remove_const_t<decltype(mask)>, std::vector<std::uint8_t>>::value,
                "a byte mask");
  const auto rows = ladle::tomek_link_rows(ladle::seq, X.cview(), y.cview());
  std::vector<index_t> all(std::size_t(X.extent(0)));
  for (index_t i = 0; i < X.extent(0); ++i) all[std::size_t(i)] = i;
  std::vector<index_t> want;
  index_t bad = 0;
  for (index_t i = 0; i < X.extent(0); ++i) {
    const index_t j = rt::naive_knn<double>(X.cview(), i, all, 1)[0];
    const index_t jj = rt::naive_knn<double>(X.cview(), j, all, 1)[0];
    const bool link = y(i) != y(j) && jj == i;
    if (link) want.push_back(i);
    bad += mask[std::size_t(i)] != (link ? 1 : 0);
  }
  CHECK(bad == 0);
  CHECK(!want.empty());
  CHECK(rows == want);
  try {
    ladle::tomek_link_rows(ladle::seq, ladle::make_view(X.data(), {1, X.extent(1)}),
                           ladle::make_view(y.data(), 1));
    FAIL("no error");
  } catch (const ladle::invalid_argument& e) {
    CHECK(std::string(e.what()).find("tomek_link_rows") != std::string::npos);
  }
}

}  // namespace LADLE_TEST_FILE
}  // namespace
