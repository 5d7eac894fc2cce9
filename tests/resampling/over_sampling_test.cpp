// Over-samplers against imbalanced-learn 0.10 (class counts, Borderline danger sets, ADASYN
// allocations) and against the SMOTE contract itself (every synthetic row on the segment from its
// base to one of the base's k nearest neighbours, checked bit-exactly from the audit columns).
#include "helpers.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <limits>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

using ladle::index_t;

// Checks the audit columns of an interpolating over-sampler's result.
// candidates(label, base) = the rows the neighbour must come from; k = how many nearest count.
template <class T, class L, class Candidates>
void check_audit(ladle::matrix_view<const T> X, ladle::vector_view<const L> y,
                 const ladle::resample_result<T, L>& r, index_t k, Candidates&& candidates,
                 T max_gap_other = T(1)) {
  const index_t n = X.extent(0), d = X.extent(1);
  REQUIRE(r.kept() == n);
  for (index_t i = 0; i < n; ++i) {
    REQUIRE(r.sample_indices(i) == i);
    CHECK(r.y(i) == y(i));
    for (index_t f = 0; f < d; ++f) REQUIRE(r.X(i, f) == X(i, f));
  }
  index_t bad = 0;
  for (index_t s = 0; s < r.synthetic(); ++s) {
    const index_t row = n + s, b = r.base(s), nb = r.neighbor(s);
    const T g = r.gap(s);
    if (y(b) != r.y(row)) ++bad;
    if (!(g >= T(0) && g < T(1))) ++bad;
    if (y(nb) != y(b) && !(g < max_gap_other)) ++bad;
    const auto nn = rt::naive_knn<T>(X, b, candidates(std::int64_t(y(b)), b), k);
    if (std::find(nn.begin(), nn.end(), nb) == nn.end()) ++bad;
    for (index_t f = 0; f < d; ++f)
      if (r.X(row, f) != std::fma(g, X(nb, f) - X(b, f), X(b, f))) {
        ++bad;
        break;
      }
  }
  CHECK(bad == 0);
}

template <class T>
struct data {
  ladle::tensor<T, 2> X;
  ladle::tensor<std::int64_t, 1> y;
};

template <class T>
data<T> bin() {
  return {rt::features<T>(fx::bin_X, fx::bin_n, fx::bin_d), rt::labels<std::int64_t>(fx::bin_y)};
}
template <class T>
data<T> tri() {
  return {rt::features<T>(fx::tri_X, fx::tri_n, fx::tri_d), rt::labels<std::int64_t>(fx::tri_y)};
}

// A larger two-class set (more synthetic rows than one parallel chunk) for determinism tests.
template <class T>
data<T> big(index_t n = 12000, index_t d = 6) {
  data<T> out{ladle::tensor<T, 2>({n, d}), ladle::tensor<std::int64_t, 1>({n})};
  ladle::philox g(ladle::seed{99});
  for (index_t i = 0; i < n; ++i) {
    out.y(i) = i % 10 == 3 ? 1 : 0;
    for (index_t f = 0; f < d; ++f)
      out.X(i, f) = static_cast<T>(ladle::normal(g) + (out.y(i) == 1 ? 0.8 : 0.0));
  }
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE("over-samplers give imblearn's class counts", T, float, double) {
  for (int set = 0; set < 2; ++set) {
    const auto D = set == 0 ? bin<T>() : tri<T>();
    const auto X = D.X.cview();
    const auto y = D.y.cview();
    const auto& c = [&](const std::vector<long>& b, const std::vector<long>& t) -> const auto& {
      return set == 0 ? b : t;
    };
    CAPTURE(set);
    CHECK(rt::class_counts_flat(ladle::smote(X, y, {}, ladle::seed{1}).y.cview()) ==
          c(fx::bin_counts_smote, fx::tri_counts_smote));
    CHECK(rt::class_counts_flat(ladle::smote(X, y, {"all"}, ladle::seed{1}).y.cview()) ==
          c(fx::bin_counts_smote_all, fx::tri_counts_smote_all));
    CHECK(rt::class_counts_flat(ladle::smote(X, y, {"not minority"}, ladle::seed{1}).y.cview()) ==
          c(fx::bin_counts_smote_not_minority, fx::tri_counts_smote_not_minority));
    CHECK(rt::class_counts_flat(ladle::borderline_smote(X, y, {}, ladle::seed{1}).y.cview()) ==
          c(fx::bin_counts_borderline1, fx::tri_counts_borderline1));
    CHECK(rt::class_counts_flat(ladle::adasyn(X, y, {}, ladle::seed{1}).y.cview()) ==
          c(fx::bin_counts_adasyn, fx::tri_counts_adasyn));
    CHECK(rt::class_counts_flat(ladle::random_over_sample(X, y, {}, ladle::seed{1}).y.cview()) ==
          c(fx::bin_counts_ros, fx::tri_counts_ros));
    CHECK(rt::class_counts_flat(ladle::random_under_sample(X, y, {}, ladle::seed{1}).y.cview()) ==
          c(fx::bin_counts_rus, fx::tri_counts_rus));
    CHECK(rt::class_counts_flat(
              ladle::random_under_sample(X, y, {"not majority"}, ladle::seed{1}).y.cview()) ==
          c(fx::bin_counts_rus_not_majority, fx::tri_counts_rus_not_majority));
  }
}

TEST_CASE_TEMPLATE("SMOTE rows lie on a segment to one of the base's k nearest own-class rows", T,
                   float, double) {
  for (int set = 0; set < 2; ++set) {
    const auto D = set == 0 ? bin<T>() : tri<T>();
    const auto X = D.X.cview();
    const auto y = D.y.cview();
    for (index_t k : {1, 3, 5}) {
      CAPTURE(k);
      ladle::smote_options o;
      o.k = k;
      o.strategy = "all";
      const auto r = ladle::smote(X, y, o, ladle::seed{7});
      CHECK(r.synthetic() > 0);
      check_audit(X, y, r, k, [&](std::int64_t label, index_t) { return rt::rows_of(y, label); });
    }
  }
}

TEST_CASE("SMOTE uses every neighbour slot and gaps spread over [0, 1)") {
  const auto D = bin<double>();
  const auto r = ladle::smote(D.X.cview(), D.y.cview(), {}, ladle::seed{3});
  double lo = 1, hi = 0, mean = 0;
  for (index_t s = 0; s < r.synthetic(); ++s) {
    lo = std::min(lo, r.gap(s));
    hi = std::max(hi, r.gap(s));
    mean += r.gap(s);
  }
  mean /= double(r.synthetic());
  CHECK(lo < 0.02);
  CHECK(hi > 0.98);
  CHECK(mean == doctest::Approx(0.5).epsilon(0.06));
}

TEST_CASE_TEMPLATE("Borderline danger sets equal imblearn's", T, float, double) {
  struct want {
    int set;
    int m;
    std::int64_t label;
    const std::vector<int>* status;
  };
  const std::vector<want> cases = {
      {0, 10, 0, &fx::bin_status_m10_c0}, {0, 10, 1, &fx::bin_status_m10_c1},
      {0, 5, 0, &fx::bin_status_m5_c0},   {0, 5, 1, &fx::bin_status_m5_c1},
      {1, 10, 0, &fx::tri_status_m10_c0}, {1, 10, 1, &fx::tri_status_m10_c1},
      {1, 10, 2, &fx::tri_status_m10_c2}, {1, 5, 0, &fx::tri_status_m5_c0},
      {1, 5, 1, &fx::tri_status_m5_c1},   {1, 5, 2, &fx::tri_status_m5_c2}};
  for (const auto& c : cases) {
    CAPTURE(c.set);
    CAPTURE(c.m);
    CAPTURE(c.label);
    const auto D = c.set == 0 ? bin<T>() : tri<T>();
    const auto got = ladle::borderline_status_of(ladle::seq, D.X.cview(), D.y.cview(), c.label,
                                                 c.m);
    REQUIRE(got.size() == c.status->size());
    index_t diff = 0, danger = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      diff += int(got[i]) != (*c.status)[i];
      danger += (*c.status)[i] == 1;
    }
    CHECK(diff == 0);
    if (c.label != 0) CHECK(danger > 0);
  }
}

TEST_CASE_TEMPLATE("Borderline-SMOTE: bases are danger rows, neighbours as documented", T, float,
                   double) {
  const auto D = tri<T>();
  const auto X = D.X.cview();
  const auto y = D.y.cview();
  std::vector<index_t> all(std::size_t(X.extent(0)));
  for (index_t i = 0; i < X.extent(0); ++i) all[std::size_t(i)] = i;
  for (auto kind : {ladle::borderline_kind::borderline1, ladle::borderline_kind::borderline2}) {
    ladle::borderline_smote_options o;
    o.kind = kind;
    const auto r = ladle::borderline_smote(X, y, o, ladle::seed{5});
    CHECK(r.synthetic() == 157 - 67 + 157 - 36);
    // Bases must be danger rows of their class.
    const std::map<std::int64_t, const std::vector<int>*> status = {
        {1, &fx::tri_status_m10_c1}, {2, &fx::tri_status_m10_c2}};
    index_t not_danger = 0;
    for (index_t s = 0; s < r.synthetic(); ++s) {
      const auto label = std::int64_t(y(r.base(s)));
      const auto rows = rt::rows_of(y, label);
      const auto local = std::find(rows.begin(), rows.end(), r.base(s)) - rows.begin();
      not_danger += (*status.at(label))[std::size_t(local)] != 1;
    }
    CHECK(not_danger == 0);
    if (kind == ladle::borderline_kind::borderline1) {
      check_audit(X, y, r, 5, [&](std::int64_t label, index_t) { return rt::rows_of(y, label); });
    } else {
      check_audit(X, y, r, 5, [&](std::int64_t, index_t) { return all; }, T(0.5));
      index_t other = 0;
      for (index_t s = 0; s < r.synthetic(); ++s) other += y(r.neighbor(s)) != y(r.base(s));
      CHECK(other > 0);  // borderline-2 does step towards other classes
    }
  }
}

TEST_CASE_TEMPLATE("ADASYN allocation equals imblearn's; rows follow it", T, float, double) {
  for (int set = 0; set < 2; ++set) {
    const auto D = set == 0 ? bin<T>() : tri<T>();
    const auto X = D.X.cview();
    const auto y = D.y.cview();
    struct want {
      std::int64_t label;
      long G;
      const std::vector<long>* delta;
      const std::vector<long>* gen;
    };
    const std::vector<want> cases =
        set == 0 ? std::vector<want>{{1, fx::bin_adasyn_G_c1, &fx::bin_adasyn_delta_c1,
                                      &fx::bin_adasyn_gen_c1}}
                 : std::vector<want>{
                       {1, fx::tri_adasyn_G_c1, &fx::tri_adasyn_delta_c1, &fx::tri_adasyn_gen_c1},
                       {2, fx::tri_adasyn_G_c2, &fx::tri_adasyn_delta_c2, &fx::tri_adasyn_gen_c2}};
    const auto r = ladle::adasyn(X, y, {}, ladle::seed{11});
    check_audit(X, y, r, 5, [&](std::int64_t label, index_t) { return rt::rows_of(y, label); });
    for (const auto& c : cases) {
      CAPTURE(set);
      CAPTURE(c.label);
      const auto a = ladle::adasyn_allocation_of(ladle::seq, X, y, c.label, c.G, 5);
      CHECK(std::vector<long>(a.other_neighbors.begin(), a.other_neighbors.end()) == *c.delta);
      CHECK(std::vector<long>(a.generate.begin(), a.generate.end()) == *c.gen);
      double wsum = 0;
      for (double w : a.weight) wsum += w;
      CHECK(wsum == doctest::Approx(1.0));
      // The result uses row i exactly generate_i times.
      std::map<index_t, long> uses;
      for (index_t s = 0; s < r.synthetic(); ++s)
        if (std::int64_t(y(r.base(s))) == c.label) ++uses[r.base(s)];
      index_t diff = 0;
      for (std::size_t i = 0; i < a.rows.size(); ++i)
        diff += (uses.count(a.rows[i]) ? uses[a.rows[i]] : 0) != (*c.gen)[i];
      CHECK(diff == 0);
    }
  }
}

TEST_CASE_TEMPLATE("ADASYN rounds exact halves to even, from integers", T, float, double) {
  // rint(G * Delta_i / sum(Delta)) with exact .5 ties: the repro (imblearn keeps 23 rows)
  // and random sets against imblearn 0.10 and against the exact rational rounding.
  for (std::size_t s = 0; s < fx::adasyn_tie_sets.size(); ++s) {
    const auto& c = fx::adasyn_tie_sets[s];
    CAPTURE(s);
    const auto Xt = rt::features<T>(c.X, c.n, 2);
    const auto yt = rt::labels<std::int64_t>(c.y);
    const auto X = Xt.cview();
    const auto y = yt.cview();
    std::vector<long> gen;
    for (std::size_t j = 0; j + 1 < c.label_G.size(); j += 2) {
      const auto a = ladle::adasyn_allocation_of(ladle::seq, X, y, c.label_G[j], c.label_G[j + 1],
                                                 c.k);
      gen.insert(gen.end(), a.generate.begin(), a.generate.end());
    }
    CHECK(gen == c.exact_gen);
    ladle::adasyn_options opts;
    opts.k = c.k;
    const auto r = ladle::adasyn(X, y, opts, ladle::seed{0});
    if (c.imblearn_exact) {
      CHECK(gen == c.imblearn_gen);
      CHECK(r.X.extent(0) == c.imblearn_rows);
    }
  }
}

TEST_CASE("ADASYN refuses a class without other-class neighbours") {
  // Two far-apart clusters: the minority's neighbours are all minority.
  std::vector<double> X;
  std::vector<std::int64_t> y;
  for (int i = 0; i < 30; ++i) {
    X.push_back(i < 8 ? 100.0 + i : double(i));
    X.push_back(0.5 * i);
    y.push_back(i < 8 ? 1 : 0);
  }
  const auto Xv = ladle::make_view(static_cast<const double*>(X.data()), {30, 2});
  const auto yv = ladle::make_view(static_cast<const std::int64_t*>(y.data()), 30);
  CHECK_THROWS_AS(ladle::adasyn(Xv, yv, {}, ladle::seed{1}), ladle::domain_error);
}

TEST_CASE_TEMPLATE("random over-sampling: copies, and the smoothed bootstrap", T, float, double) {
  const auto D = tri<T>();
  const auto X = D.X.cview();
  const auto y = D.y.cview();
  const auto r = ladle::random_over_sample(X, y, {}, ladle::seed{2});
  index_t bad = 0;
  for (index_t s = 0; s < r.synthetic(); ++s) {
    bad += r.neighbor(s) != -1 || r.gap(s) != T(0) || y(r.base(s)) != r.y(X.extent(0) + s);
    for (index_t f = 0; f < X.extent(1); ++f) bad += r.X(X.extent(0) + s, f) != X(r.base(s), f);
  }
  CHECK(bad == 0);
  ladle::random_over_options o;
  o.shrinkage = 0.0;
  CHECK(rt::bit_identical(ladle::random_over_sample(X, y, o, ladle::seed{2}), r));
  o.shrinkage = 1.0;
  const auto sm = ladle::random_over_sample(X, y, o, ladle::seed{2});
  CHECK(sm.synthetic() == r.synthetic());
  double moved = 0;
  for (index_t s = 0; s < sm.synthetic(); ++s)
    moved += std::abs(double(sm.X(X.extent(0) + s, 0)) - double(X(sm.base(s), 0)));
  CHECK(moved > 0);
  o.shrinkage = -1.0;
  CHECK_THROWS_AS(ladle::random_over_sample(X, y, o, ladle::seed{2}), ladle::invalid_argument);
}

TEST_CASE("over-samplers are deterministic: seq == par(2), same seed, seed matters") {
  const auto D = big<float>();
  const auto X = D.X.cview();
  const auto y = D.y.cview();
  const ladle::seed s{2024};
  const auto a = ladle::smote(ladle::seq, X, y, {}, s);
  CHECK(a.synthetic() == 9600);
  CHECK(rt::bit_identical(a, ladle::smote(ladle::par(2), X, y, {}, s)));
  CHECK(rt::bit_identical(a, ladle::smote(ladle::par(3), X, y, {}, s)));
  CHECK(rt::bit_identical(a, ladle::smote(X, y, {}, s)));
  CHECK_FALSE(rt::bit_identical(a, ladle::smote(X, y, {}, ladle::seed{2025})));
  for (auto kind : {ladle::borderline_kind::borderline1, ladle::borderline_kind::borderline2}) {
    ladle::borderline_smote_options o;
    o.kind = kind;
    CHECK(rt::bit_identical(ladle::borderline_smote(ladle::seq, X, y, o, s),
                            ladle::borderline_smote(ladle::par(2), X, y, o, s)));
  }
  CHECK(rt::bit_identical(ladle::adasyn(ladle::seq, X, y, {}, s),
                          ladle::adasyn(ladle::par(2), X, y, {}, s)));
  ladle::random_over_options ro;
  ro.shrinkage = 0.5;
  CHECK(rt::bit_identical(ladle::random_over_sample(ladle::seq, X, y, ro, s),
                          ladle::random_over_sample(ladle::par(2), X, y, ro, s)));
}

TEST_CASE("a class's synthetic rows do not depend on the other classes' requests") {
  const auto D = tri<double>();
  const auto X = D.X.cview();
  const auto y = D.y.cview();
  const auto both = ladle::smote(X, y, {}, ladle::seed{8});  // classes 1 and 2
  const auto only2 = ladle::smote(
      X, y, {std::map<std::int64_t, index_t>{{2, 157}}}, ladle::seed{8});
  const index_t n1 = 157 - 67;
  REQUIRE(only2.synthetic() == 157 - 36);
  index_t diff = 0;
  for (index_t s = 0; s < only2.synthetic(); ++s)
    diff += only2.base(s) != both.base(n1 + s) || only2.gap(s) != both.gap(n1 + s);
  CHECK(diff == 0);
}

TEST_CASE_TEMPLATE("smote_into / random_over_sample_into equal the owning forms", T, float,
                   double) {
  const auto D = tri<T>();
  const auto X = D.X.cview();
  const auto y = D.y.cview();
  ladle::smote_options o;
  const auto sh = ladle::resampled_size(y, o);
  CHECK(sh.kept == X.extent(0));
  CHECK(sh.synthetic == (157 - 67) + (157 - 36));
  ladle::tensor<T, 2> Xo({sh.rows(), X.extent(1)});
  ladle::tensor<std::int32_t, 1> yo({sh.rows()});
  ladle::tensor<index_t, 1> si({sh.kept}), b({sh.synthetic}), nb({sh.synthetic});
  ladle::tensor<T, 1> g({sh.synthetic});
  ladle::resample_output<T, std::int32_t> out{Xo.view(), yo.view(), si.view(),
                                              b.view(),  nb.view(), g.view()};
  const auto got = ladle::smote_into(ladle::seq, X, y, out, o, ladle::seed{4});
  CHECK(got.rows() == sh.rows());
  const auto ref = ladle::smote(X, y, o, ladle::seed{4});
  CHECK(std::equal(Xo.begin(), Xo.end(), ref.X.begin()));
  CHECK(std::equal(yo.begin(), yo.end(), ref.y.begin()));
  CHECK(std::equal(b.begin(), b.end(), ref.base.begin()));
  CHECK(std::equal(nb.begin(), nb.end(), ref.neighbor.begin()));
  CHECK(std::equal(g.begin(), g.end(), ref.gap.begin()));
  CHECK(std::equal(si.begin(), si.end(), ref.sample_indices.begin()));
  // Audit views may be left empty.
  ladle::resample_output<T, std::int32_t> bare{Xo.view(), yo.view(), {}, {}, {}, {}};
  CHECK(ladle::smote_into(ladle::par(2), X, y, bare, o, ladle::seed{4}).rows() == sh.rows());
  // Wrong sizes are refused before anything is written.
  ladle::tensor<T, 2> small({sh.rows() - 1, X.extent(1)}, T(-7));
  ladle::resample_output<T, std::int32_t> wrong{small.view(), yo.view(), {}, {}, {}, {}};
  CHECK_THROWS_AS(ladle::smote_into(ladle::seq, X, y, wrong, o, ladle::seed{4}),
                  ladle::invalid_argument);
  CHECK(std::all_of(small.begin(), small.end(), [](T v) { return v == T(-7); }));

  ladle::random_over_options ro;
  const auto rsh = ladle::resampled_size(y, ro);
  ladle::tensor<T, 2> Xr({rsh.rows(), X.extent(1)});
  ladle::tensor<std::int64_t, 1> yr({rsh.rows()});
  ladle::random_over_sample_into(ladle::seq, X, y,
                                 ladle::resample_output<T, std::int64_t>{Xr.view(), yr.view(), {}, {}, {}, {}}, ro,
                                 ladle::seed{4});
  const auto rref = ladle::random_over_sample(X, y, ro, ladle::seed{4});
  CHECK(std::equal(Xr.begin(), Xr.end(), rref.X.begin()));
}

TEST_CASE_TEMPLATE("SMOTE writes rows straight into the output: every width, layout and class",
                   T, float, double) {
  // Widths that reach the vectorised interpolation's body and tail (1, 7, 64 + 3, 1000 + 5);
  // three classes of 70 / 40 / 25 rows, so two classes are over-sampled, one after the other.
  for (index_t d : {1, 7, 67, 1005}) {
    CAPTURE(d);
    const index_t n = 135;
    ladle::tensor<T, 2> X({n, d});
    ladle::tensor<std::int64_t, 1> y({n});
    ladle::philox g(ladle::seed{uint64_t(d)});
    for (index_t i = 0; i < n; ++i) {
      y(i) = i < 70 ? 4 : (i < 110 ? -1 : 9);
      for (index_t f = 0; f < d; ++f) X(i, f) = static_cast<T>(ladle::normal(g) + 0.3 * double(y(i)));
    }
    ladle::smote_options o;
    o.k = 4;
    const auto r = ladle::smote(X.cview(), y.cview(), o, ladle::seed{11});
    REQUIRE(r.synthetic() == (70 - 40) + (70 - 25));
    check_audit(X.cview(), y.cview(), r, o.k,
                [&](std::int64_t label, index_t) { return rt::rows_of(y.cview(), label); });
    // Class order: label -1's rows, then label 9's.
    CHECK(r.y(n) == -1);
    CHECK(r.y(n + 29) == -1);
    CHECK(r.y(n + 30) == 9);
    // Same bits from three threads, and into a strided output without audit columns (the
    // padding columns stay as they were).
    CHECK(rt::bit_identical(r, ladle::smote(ladle::par(3), X.cview(), y.cview(), o, ladle::seed{11})));
    const index_t rows = r.rows(), pitch = d + 3;
    ladle::tensor<T, 1> wide({rows * pitch}, T(-5));
    ladle::tensor<std::int32_t, 1> yo({rows});
    const ladle::resample_output<T, std::int32_t> out{
        ladle::make_view(wide.data(), {rows, d}, {pitch, 1}), yo.view(), {}, {}, {}, {}};
    ladle::smote_into(ladle::par(3), X.cview(), y.cview(), out, o, ladle::seed{11});
    index_t diff = 0, pad = 0;
    for (index_t i = 0; i < rows; ++i) {
      diff += yo(i) != r.y(i);
      for (index_t f = 0; f < d; ++f) diff += std::memcmp(&wide(i * pitch + f), &r.X(i, f), sizeof(T)) != 0;
      for (index_t f = d; f < pitch; ++f) pad += wide(i * pitch + f) != T(-5);
    }
    CHECK(diff == 0);
    CHECK(pad == 0);
  }
}

TEST_CASE("smote_into writes nothing when a later class's neighbour search fails") {
  // Class 0 is fine; class 1's points are so far apart that squared distances overflow float,
  // which the kNN refuses. Class 0's search has succeeded by then; nothing may be written.
  const index_t n = 40, d = 2;
  ladle::tensor<float, 2> X({n, d});
  ladle::tensor<std::int64_t, 1> y({n});
  for (index_t i = 0; i < n; ++i) {
    y(i) = i < 10 ? 0 : (i < 20 ? 1 : 2);
    const float scale = y(i) == 1 ? 3e37f : 1.0f;
    X(i, 0) = scale * float(i % 7) * (i % 2 ? -1.0f : 1.0f);
    X(i, 1) = scale * float(i % 5);
  }
  const ladle::tensor<float, 2> X0 = X;
  ladle::smote_options o;
  o.k = 3;
  const auto sh = ladle::resampled_size(y.cview(), o);
  REQUIRE(sh.synthetic == 20);
  ladle::tensor<float, 2> Xo({sh.rows(), d}, -7.0f);
  ladle::tensor<std::int64_t, 1> yo({sh.rows()}, std::int64_t(-7));
  ladle::tensor<index_t, 1> b({sh.synthetic}, index_t(-7));
  const ladle::resample_output<float, std::int64_t> out{Xo.view(), yo.view(), {}, b.view(), {}, {}};
  CHECK_THROWS_AS(ladle::smote_into(ladle::seq, X.cview(), y.cview(), out, o, ladle::seed{1}),
                  ladle::domain_error);
  CHECK(std::all_of(Xo.begin(), Xo.end(), [](float v) { return v == -7.0f; }));
  CHECK(std::all_of(yo.begin(), yo.end(), [](std::int64_t v) { return v == -7; }));
  CHECK(std::all_of(b.begin(), b.end(), [](index_t v) { return v == -7; }));
  CHECK(std::equal(X.begin(), X.end(), X0.begin()));
  CHECK_THROWS_AS(ladle::smote(X.cview(), y.cview(), o, ladle::seed{1}), ladle::domain_error);
}

TEST_CASE("SMOTE with exact duplicates excludes the row itself by index") {
  // Minority: 4 copies of one point and 3 others; neighbours of a copy include the other copies.
  std::vector<float> X = {0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1};
  std::vector<std::int64_t> y = {1, 1, 1, 1, 1, 1, 1};
  for (int i = 0; i < 10; ++i) {
    X.push_back(5.0f + float(i));
    X.push_back(5.0f);
    y.push_back(0);
  }
  const auto Xv = ladle::make_view(static_cast<const float*>(X.data()), {17, 2});
  const auto yv = ladle::make_view(static_cast<const std::int64_t*>(y.data()), 17);
  ladle::smote_options o;
  o.k = 3;
  const auto r = ladle::smote(Xv, yv, o, ladle::seed{1});
  index_t self = 0;
  for (index_t s = 0; s < r.synthetic(); ++s) self += r.base(s) == r.neighbor(s);
  CHECK(self == 0);
  check_audit(Xv, yv, r, 3, [&](std::int64_t label, index_t) { return rt::rows_of(yv, label); });
}

TEST_CASE("over-samplers refuse bad input with a ladle::error and leave it untouched") {
  auto D = tri<double>();
  const ladle::tensor<double, 2> X0 = D.X;
  const auto X = D.X.cview();
  const auto y = D.y.cview();
  ladle::smote_options o;
  o.k = 36;  // class 2 has 36 rows
  CHECK_THROWS_AS(ladle::smote(X, y, o, ladle::seed{1}), ladle::invalid_argument);
  try {
    ladle::smote(X, y, o, ladle::seed{1});
  } catch (const ladle::error& e) {
    CHECK(std::string(e.what()).find("'k'") != std::string::npos);
    CHECK(e.function() == "ladle::smote");
  }
  o.k = 35;
  CHECK_NOTHROW(ladle::smote(X, y, o, ladle::seed{1}));
  o.k = 0;
  CHECK_THROWS_AS(ladle::smote(X, y, o, ladle::seed{1}), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::adasyn(X, y, {{}, 36}, ladle::seed{1}), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::borderline_smote(X, y, {{}, 36}, ladle::seed{1}),
                  ladle::invalid_argument);
  // A class with a single sample.
  auto y1 = D.y;
  index_t last2 = 0;
  for (index_t i = 0; i < y1.extent(0); ++i)
    if (y1(i) == 2) {
      y1(i) = 1;
      last2 = i;
    }
  y1(last2) = 2;
  o.k = 5;
  CHECK_THROWS_AS(ladle::smote(X, y1.cview(), o, ladle::seed{1}), ladle::invalid_argument);
  // Labels / rows mismatch.
  CHECK_THROWS_AS(ladle::smote(X, y.slice(0, 100), o, ladle::seed{1}), ladle::invalid_argument);
  // Unknown class; a ratio that would remove samples; a ratio on three classes.
  CHECK_THROWS_AS(
      ladle::smote(X, y, {std::map<std::int64_t, index_t>{{9, 300}}}, ladle::seed{1}),
      ladle::invalid_argument);
  const auto B = bin<double>();
  CHECK_THROWS_AS(ladle::smote(B.X.cview(), B.y.cview(), {0.1}, ladle::seed{1}),
                  ladle::invalid_argument);
  CHECK(ladle::smote(B.X.cview(), B.y.cview(), {0.5}, ladle::seed{1}).synthetic() == 60);
  CHECK_THROWS_AS(ladle::smote(X, y, {0.5}, ladle::seed{1}), ladle::invalid_argument);
  // NaN and Inf features.
  for (double bad : {std::numeric_limits<double>::quiet_NaN(),
                     std::numeric_limits<double>::infinity()}) {
    auto Xb = D.X;
    Xb(17, 1) = bad;
    CHECK_THROWS_AS(ladle::smote(Xb.cview(), y, {}, ladle::seed{1}), ladle::domain_error);
    CHECK_THROWS_AS(ladle::random_over_sample(Xb.cview(), y, {}, ladle::seed{1}),
                    ladle::domain_error);
    CHECK_THROWS_AS(ladle::adasyn(Xb.cview(), y, {}, ladle::seed{1}), ladle::domain_error);
  }
  // One class only.
  ladle::tensor<std::int64_t, 1> same({y.extent(0)}, 4);
  CHECK_THROWS_AS(ladle::smote(X, same.cview(), {}, ladle::seed{1}), ladle::invalid_argument);
  CHECK(std::equal(X0.begin(), X0.end(), D.X.begin()));
}

TEST_CASE("over-samplers accept strided (column-subset) views") {
  const auto D = tri<double>();
  // View the first two of three columns through strides.
  const auto Xs = ladle::make_view(D.X.data(), {D.X.extent(0), 2}, {3, 1});
  const ladle::tensor<double, 2> Xc(Xs);
  const auto a = ladle::smote(ladle::as_const(Xs), D.y.cview(), {}, ladle::seed{6});
  const auto b = ladle::smote(Xc.cview(), D.y.cview(), {}, ladle::seed{6});
  CHECK(rt::bit_identical(a, b));
  CHECK(rt::bit_identical(ladle::borderline_smote(ladle::as_const(Xs), D.y.cview(), {}, ladle::seed{6}),
                          ladle::borderline_smote(Xc.cview(), D.y.cview(), {}, ladle::seed{6})));
}

}  // namespace LADLE_TEST_FILE
}  // namespace
