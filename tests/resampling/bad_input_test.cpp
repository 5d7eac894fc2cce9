// Bad-input matrix for the resampling family: every public entry point, owning and _into.
#include <ladle/resampling.hpp>

#include "bad_input.hpp"

#include <cstdint>
#include <limits>
#include <map>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;
using bad::kind;

namespace {

constexpr index_t big = std::numeric_limits<index_t>::max();
const ladle::seed sd{1};

// 12 rows, 2 features: class 0 has 8 rows, class 1 has 4.
struct data {
  std::vector<double> x;
  std::vector<std::int64_t> y;
  data() {
    for (int i = 0; i < 12; ++i) {
      x.push_back(double(i % 5) + 0.25 * i);
      x.push_back(double((i * 7) % 3) - 0.5 * i);
      y.push_back(i < 8 ? 0 : 1);
    }
  }
  ladle::matrix_view<const double> X() const { return ladle::make_view(x.data(), {12, 2}); }
  ladle::vector_view<const std::int64_t> Y() const { return ladle::make_view(y.data(), 12); }
};

// A caller's output buffers for an over-sampler producing `rows` rows (synthetic = rows - 12).
template <class L = std::int64_t>
struct outputs {
  std::vector<double> X, gap;
  std::vector<L> y;
  std::vector<index_t> sample_indices, base, neighbor;
  explicit outputs(index_t rows, index_t kept = 12)
      : X(std::size_t(rows * 2)), gap(std::size_t(rows - kept)), y(std::size_t(rows)),
        sample_indices(std::size_t(kept)), base(std::size_t(rows - kept)),
        neighbor(std::size_t(rows - kept)) {}
  ladle::resample_output<double, L> view(index_t rows, index_t kept = 12) {
    return {ladle::make_view(X.data(), {rows, 2}), ladle::make_view(y.data(), rows),
            ladle::make_view(sample_indices.data(), kept),
            ladle::make_view(base.data(), rows - kept),
            ladle::make_view(neighbor.data(), rows - kept),
            ladle::make_view(gap.data(), rows - kept)};
  }
};

}  // namespace

TEST_CASE("resampling bad-input matrix") {
  data D;
  const auto X = D.X();
  const auto Y = D.Y();
  std::vector<double> xnan = D.x, xinf = D.x;
  xnan[2 * 5 + 1] = std::numeric_limits<double>::quiet_NaN();  // row 5, column 1
  xinf[2 * 9] = std::numeric_limits<double>::infinity();       // row 9, column 0
  const auto XN = ladle::make_view(static_cast<const double*>(xnan.data()), {12, 2});
  const auto XI = ladle::make_view(static_cast<const double*>(xinf.data()), {12, 2});
  std::vector<double> buf(64);
  std::vector<std::int64_t> ybig = D.y;
  for (auto& v : ybig) v = v == 1 ? (std::int64_t(1) << 40) : 0;
  std::vector<std::int64_t> one_class(12, 3);
  std::vector<double> far = D.x;
  far[18] = 1e200;  // row 9, class 1 (the class SMOTE searches)
  far[19] = -1e200;

  const ladle::smote_options so{{}, 3};  // class 1 has 4 rows
  ladle::smote_options so_k(so);
  so_k.k = big;
  ladle::smote_options so_huge;
  so_huge.strategy = ladle::sampling_strategy(std::map<std::int64_t, index_t>{{1, big - 3}});
  ladle::smote_options so_mem;
  so_mem.strategy = ladle::sampling_strategy(std::map<std::int64_t, index_t>{{1, big / 64}});
  ladle::smoten_options sn_k;
  sn_k.k = big;
  sn_k.strategy = ladle::sampling_strategy(std::map<std::int64_t, index_t>{{1, 4}});  // generates nothing
  ladle::smote_nc_options nc;
  nc.categorical = {7};
  ladle::kmeans_smote_options km;
  km.density_exponent = std::numeric_limits<double>::quiet_NaN();
  ladle::borderline_smote_options bo;
  bo.m = 12;
  ladle::adasyn_options ad;
  ad.k = 0;
  ladle::random_over_options ro;
  ro.shrinkage = -1.0;
  ladle::enn_options en;
  en.k = big;
  ladle::smote_enn_options se;
  se.enn_k = big;

  outputs<> ok(20);          // SMOTE "auto" adds 4 rows of class 1: 16 rows; 20 is wrong
  outputs<> right(16);
  outputs<std::int32_t> narrow(16);

  std::vector<bad::row> rows = {
      // inputs: empty, shape, NaN/Inf naming the caller's row and column, huge strides
      {"smote empty X", kind::invalid, {"ladle::smote", "'X'", "shape 0 x 2"},
       [&] { ladle::smote(X.slice(0, 0), Y.slice(0, 0), so, sd); }, {bad::of(D.x)}},
      {"smote 7x0 X", kind::invalid, {"ladle::smote", "'X'", "7 x 0"},
       [&] { ladle::smote(ladle::make_view(D.x.data(), {7, 0}), Y.slice(0, 7), so, sd); }, {bad::of(D.x)}},
      {"smote y length", kind::invalid, {"ladle::smote", "'y'"},
       [&] { ladle::smote(X, Y.slice(0, 11), so, sd); }, {bad::of(D.x), bad::of(D.y)}},
      {"smote NaN", kind::domain, {"ladle::smote", "'X'", "row 5, column 1"},
       [&] { ladle::smote(XN, Y, so, sd); }, {bad::of(xnan), bad::of(D.y)}},
      {"adasyn Inf", kind::domain, {"ladle::adasyn", "'X'", "row 9, column 0"},
       [&] { ladle::adasyn(XI, Y, ladle::adasyn_options{}, sd); }, {bad::of(xinf), bad::of(D.y)}},
      {"smote one class", kind::invalid, {"ladle::smote", "'y'", "more than 1 class"},
       [&] { ladle::smote(X, ladle::make_view(static_cast<const std::int64_t*>(one_class.data()), 12), so, sd); },
       {bad::of(D.x), bad::of(one_class)}},
      {"smote device", kind::invalid, {"ladle::smote", "'X'", "device"},
       [&] { ladle::smote(ladle::make_view(D.x.data(), {12, 2}, ladle::device::cuda(0)), Y, so, sd); },
       {bad::of(D.x)}},
      // sizes: k near INT64_MAX, strategy counts near INT64_MAX, counts over the memory limit
      {"smote k huge", kind::invalid, {"ladle::smote", "'k'"},
       [&] { ladle::smote(X, Y, so_k, sd); }, {bad::of(D.x), bad::of(D.y)}},
      {"smote k 0", kind::invalid, {"ladle::smote", "'k'"},
       [&] { ladle::smote(X, Y, ladle::smote_options{{}, 0}, sd); }, {bad::of(D.x), bad::of(D.y)}},
      {"smote k >= class", kind::invalid, {"ladle::smote", "'k'", "class 1"},
       [&] { ladle::smote(X, Y, ladle::smote_options{{}, 4}, sd); }, {bad::of(D.x), bad::of(D.y)}},
      {"smote counts near INT64_MAX", kind::invalid, {"ladle::smote", "'sampling_strategy'", "64-bit"},
       [&] { ladle::smote(X, Y, so_huge, sd); }, {bad::of(D.x), bad::of(D.y)}},
      {"smote counts over memory", kind::runtime, {"ladle::smote", "'sampling_strategy'", "memory"},
       [&] { ladle::smote(X, Y, so_mem, sd); }, {bad::of(D.x), bad::of(D.y)}},
      {"resampled_size counts near INT64_MAX", kind::invalid, {"ladle::smote", "'sampling_strategy'"},
       [&] { ladle::resampled_size(Y, so_huge); }, {bad::of(D.y)}},
      {"random_over_sample counts over memory", kind::runtime, {"ladle::random_over_sample", "'sampling_strategy'"},
       [&] { ladle::random_over_sample(X, Y, ladle::random_over_options{so_mem.strategy, {}}, sd); },
       {bad::of(D.x), bad::of(D.y)}},
      {"smoten k huge while generating nothing", kind::invalid, {"ladle::smoten", "'k'"},
       [&] { ladle::smoten(X, Y, sn_k, sd); }, {bad::of(D.x), bad::of(D.y)}},
      {"smote_nc categorical out of range", kind::invalid, {"ladle::smote_nc", "'categorical'", "7"},
       [&] { ladle::smote_nc(X, Y, nc, sd); }, {bad::of(D.x), bad::of(D.y)}},
      {"kmeans_smote NaN density exponent", kind::domain, {"ladle::kmeans_smote", "'density_exponent'"},
       [&] { ladle::kmeans_smote(X, Y, km, sd); }, {bad::of(D.x), bad::of(D.y)}},
      {"kmeans_smote clusters names kmeans_smote", kind::invalid, {"ladle::kmeans_smote", "'clusters'"},
       [&] { ladle::kmeans_smote_options o; o.clusters = 100; ladle::kmeans_smote(X, Y, o, sd); },
       {bad::of(D.x), bad::of(D.y)}},
      {"kmeans_assign NaN", kind::domain, {"ladle::kmeans_assign", "'X'", "row 5, column 1"},
       [&] { ladle::kmeans_assign(ladle::seq, XN, 2, 10, sd); }, {bad::of(xnan)}},
      {"smote far row names smote and caller row", kind::domain, {"ladle::smote", "'X'", "row 8 lies too far"},
       [&] { ladle::smote(ladle::make_view(static_cast<const double*>(far.data()), {12, 2}), Y, so, sd); },
       {bad::of(far), bad::of(D.y)}},
      {"borderline m >= n", kind::invalid, {"ladle::borderline_smote", "'m'"},
       [&] { ladle::borderline_smote(X, Y, bo, sd); }, {bad::of(D.x), bad::of(D.y)}},
      {"borderline_status_of absent label", kind::invalid, {"ladle::borderline_status_of", "'label'"},
       [&] { ladle::borderline_status_of(ladle::seq, X, Y, 9, 3); }, {bad::of(D.x), bad::of(D.y)}},
      {"adasyn k 0", kind::invalid, {"ladle::adasyn", "'k'"},
       [&] { ladle::adasyn(X, Y, ad, sd); }, {bad::of(D.x), bad::of(D.y)}},
      {"adasyn_allocation_of negative", kind::invalid, {"ladle::adasyn_allocation_of", "'n_generate'"},
       [&] { ladle::adasyn_allocation_of(ladle::seq, X, Y, 1, -1, 3); }, {bad::of(D.x), bad::of(D.y)}},
      {"random_over shrinkage", kind::invalid, {"ladle::random_over_sample", "'shrinkage'"},
       [&] { ladle::random_over_sample(X, Y, ro, sd); }, {bad::of(D.x), bad::of(D.y)}},
      {"enn k huge", kind::invalid, {"ladle::edited_nearest_neighbours", "'k'"},
       [&] { ladle::edited_nearest_neighbours(X, Y, en); }, {bad::of(D.x), bad::of(D.y)}},
      {"smote_enn enn_k huge before SMOTE allocates", kind::invalid, {"ladle::smote_enn", "'enn_k'"},
       [&] { ladle::smote_enn(X, Y, se, sd); }, {bad::of(D.x), bad::of(D.y)}},
      {"tomek_link_mask one row", kind::invalid, {"ladle::tomek_link_mask", "'X'"},
       [&] { ladle::tomek_link_mask(ladle::seq, X.slice(0, 1), Y.slice(0, 1)); }, {bad::of(D.x)}},
      {"sampling_strategy ratio", kind::invalid, {"sampling_strategy", "'ratio'"},
       [&] { ladle::sampling_strategy(1.5); }, {}},
      {"sampling_strategy negative count", kind::invalid, {"sampling_strategy", "'counts'"},
       [&] { ladle::sampling_strategy(std::map<std::int64_t, index_t>{{0, -1}}); }, {}},
      // outputs: wrong sizes, overlap with inputs and with each other, narrowing labels
      {"smote_into wrong rows", kind::invalid, {"ladle::smote_into", "'out.X'", "(16, 2)"},
       [&] { ladle::smote_into(ladle::seq, X, Y, ok.view(20), so, sd); }, {bad::of(D.x), bad::of(D.y)}},
      {"smote_into out.X overlaps X", kind::invalid, {"ladle::smote_into", "'out.X'", "'X'"},
       [&] {
         std::vector<double> shared(64);
         std::copy(D.x.begin(), D.x.end(), shared.begin());
         auto o = right.view(16);
         o.X = ladle::make_view(shared.data() + 8, {16, 2});
         ladle::smote_into(ladle::seq, ladle::make_view(static_cast<const double*>(shared.data()), {12, 2}), Y, o, so, sd);
       },
       {bad::of(D.y)}},
      {"smote_into base overlaps neighbor", kind::invalid, {"ladle::smote_into", "'out.base'", "'out.neighbor'"},
       [&] {
         auto o = right.view(16);
         std::vector<index_t> both(5);
         o.base = ladle::make_view(both.data(), 4);
         o.neighbor = ladle::make_view(both.data() + 1, 4);
         ladle::smote_into(ladle::seq, X, Y, o, so, sd);
       },
       {bad::of(D.x), bad::of(D.y)}},
      {"smote_into gap overlaps out.X", kind::invalid, {"ladle::smote_into", "'out.X'", "'out.gap'"},
       [&] {
         auto o = right.view(16);
         o.gap = ladle::make_view(right.X.data() + 3, 4);
         ladle::smote_into(ladle::seq, X, Y, o, so, sd);
       },
       {bad::of(D.x), bad::of(D.y)}},
      {"smote_into narrowing labels", kind::invalid, {"ladle::smote_into", "'out.y'", "1099511627776", "element 8"},
       [&] {
         ladle::smote_into(ladle::seq, X, ladle::make_view(static_cast<const std::int64_t*>(ybig.data()), 12),
                           narrow.view(16), so, sd);
       },
       {bad::of(D.x), bad::of(ybig)}},
      {"random_over_sample_into y overlaps out.y", kind::invalid, {"ladle::random_over_sample_into", "'out.y'", "'y'"},
       [&] {
         std::vector<std::int64_t> ys(40);
         std::copy(D.y.begin(), D.y.end(), ys.begin());
         auto o = right.view(16);
         o.y = ladle::make_view(ys.data() + 4, 16);
         ladle::random_over_sample_into(ladle::seq, X, ladle::make_view(static_cast<const std::int64_t*>(ys.data()), 12),
                                        o, ladle::random_over_options{}, sd);
       },
       {bad::of(D.x)}},
      {"random_under_sample_into wrong y", kind::invalid, {"ladle::random_under_sample_into", "'out.y'"},
       [&] {
         outputs<> u(20, 8);
         auto o = u.view(8, 8);
         o.y = ladle::make_view(u.y.data(), 5);
         ladle::random_under_sample_into(ladle::seq, X, Y, o, ladle::random_under_options{}, sd);
       },
       {bad::of(D.x), bad::of(D.y)}},
      {"tomek_links_into overlap", kind::invalid, {"ladle::tomek_links_into", "'out.X'", "'X'"},
       [&] {
         std::vector<double> shared(D.x);
         outputs<> t(12);
         auto o = t.view(12);
         o.X = ladle::make_view(shared.data(), {12, 2});
         ladle::tomek_links_into(ladle::seq, ladle::make_view(static_cast<const double*>(shared.data()), {12, 2}), Y, o,
                                 ladle::tomek_options{});
       },
       {bad::of(D.y)}},
  };
  const std::size_t n = bad::run_matrix(rows);
  MESSAGE("resampling bad-input matrix: " << n << " cases");
}

TEST_CASE("kmeans_smote with a huge density exponent still apportions every row") {
  data D;
  ladle::kmeans_smote_options o;
  o.k = 2;
  o.clusters = 2;
  o.density_exponent = 1e6;  // mean distance ^ 1e6 overflows double
  o.cluster_balance_threshold = 0;
  const auto r = ladle::kmeans_smote(D.X(), D.Y(), o, ladle::seed{3});
  CHECK(r.synthetic() == 4);
  for (index_t i = 0; i < r.rows(); ++i)
    for (index_t j = 0; j < 2; ++j) CHECK(std::isfinite(r.X(i, j)));
}

TEST_CASE("smote_into with int32 labels that fit is accepted") {
  data D;
  outputs<std::int32_t> o(16);
  const auto sh = ladle::smote_into(ladle::seq, D.X(), D.Y(), o.view(16), ladle::smote_options{{}, 3}, ladle::seed{1});
  CHECK(sh.rows() == 16);
  CHECK(o.y[15] == 1);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
