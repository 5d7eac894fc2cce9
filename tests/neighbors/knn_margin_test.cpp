// The filter's error margin, tested with data built to make the filter as wrong as it can be.
//
// The kernel sums each filter dot product in T in feature order. Here query q has one large
// component A = 1 at position p and a small value b everywhere else, with b^2 just below the
// unit roundoff u. Its nearest reference is q itself (distance 0), listed after decoys at
// distances delta^2, 4 delta^2, ... that are visited first. In the filter, after the large term
// the running sum is about -2, and each later term -2 b^2 is under half an ulp there, so it
// vanishes: the sum comes out (d - 1 - p) * 2 b^2 ~ (d - p) u (|q|^2 + |r|^2) too high, the
// filter overestimates the true nearest reference by that much, and only the margin brings it
// back for the exact re-measure. With no margin, or one below about 0.8 d u (|q|^2 + |r|^2), the
// answer would be a decoy. (The kernel's real worst case is about d u (|q|^2 + |r|^2) plus a few
// u: the dot product's rounding dominates, and the vectorised norms cannot be pushed the same
// way at once.)
//
// The references are mirrored (r and -r both present, the mirrors far from every query), so
// their mean is exactly 0 and centring changes nothing. Expected answers come from the
// construction: q's own copy first at distance 0, then the decoys in order.
#include <ladle/neighbors.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;

template <class T>
struct margin_case {
  index_t nq, nr, d, k;
  std::vector<T> queries, references;
  std::vector<index_t> expect_index;  // (nq, k)
  std::vector<double> expect_sq;      // (nq, k)
};

/// b with b^2 just below u: float (1 - 2^-10) 2^-12, double 1.4 * 2^-27 (b^2 = 0.98 u).
template <class T>
T margin_small() {
  return sizeof(T) == 4 ? T(std::ldexp(1.0 - std::ldexp(1.0, -10), -12)) : T(std::ldexp(1.4, -27));
}

/// nq queries (nq <= d / 4), query i's large component at position i; k decoys per query.
template <class T>
margin_case<T> margin_build(index_t nq, index_t d, index_t k) {
  margin_case<T> c{nq, 2 * nq * (k + 1), d, k, {}, {}, {}, {}};
  const T b = margin_small<T>();
  const T delta = b;  // decoy m differs from q by m * delta in one small component
  c.queries.assign(std::size_t(nq * d), b);
  for (index_t i = 0; i < nq; ++i) c.queries[std::size_t(i * d + i)] = T(1);
  std::vector<T> half;  // the references before mirroring
  for (index_t i = 0; i < nq; ++i) {
    const T* q = &c.queries[std::size_t(i * d)];
    const index_t first = index_t(half.size()) / d;
    for (index_t m = 1; m <= k; ++m) {  // decoys: visited before q's copy
      std::vector<T> r(q, q + d);
      r[std::size_t(d - m)] += T(m) * delta;  // exact: b + m b
      half.insert(half.end(), r.begin(), r.end());
    }
    half.insert(half.end(), q, q + d);  // q's own copy, the true nearest
    c.expect_index.push_back(first + k);
    c.expect_sq.push_back(0.0);
    for (index_t m = 1; m < k; ++m) {
      c.expect_index.push_back(first + m - 1);
      c.expect_sq.push_back(double(m) * double(m) * double(delta) * double(delta));
    }
  }
  c.references = half;
  for (T x : half) c.references.push_back(-x);  // mirrors: the mean is exactly 0
  return c;
}

template <class T>
void margin_check(const margin_case<T>& c, const ladle::knn_options& opts) {
  const auto qv = ladle::make_view(c.queries.data(), {c.nq, c.d});
  const auto rv = ladle::make_view(c.references.data(), {c.nr, c.d});
  const auto got = ladle::knn(qv, rv, opts);
  int wrong = 0;
  for (index_t i = 0; i < c.nq; ++i) {
    CAPTURE(i);
    for (index_t r = 0; r < c.k; ++r) {
      CAPTURE(r);
      const std::size_t e = std::size_t(i * c.k + r);
      wrong += got.indices(i, r) != c.expect_index[e];
      CHECK(got.indices(i, r) == c.expect_index[e]);
      CHECK(double(got.sq_distances(i, r)) == doctest::Approx(c.expect_sq[e]).epsilon(1e-6));
    }
  }
  CHECK(wrong == 0);
}

TEST_CASE_TEMPLATE("knn margin: the filter's worst rounding still re-measures the true nearest", T,
                   float, double) {
  for (index_t d : {index_t(64), index_t(129), index_t(256), index_t(1000)}) {
    for (index_t k : {index_t(1), index_t(3)}) {
      CAPTURE(d);
      CAPTURE(k);
      const auto c = margin_build<T>(16, d, k);
      margin_check(c, {k, 0, 0});
      margin_check(c, {k, 5, 1});  // one panel per reference tile, several query tiles
    }
  }
}

TEST_CASE("knn margin: the construction really defeats a filter without margin") {
  // The premise of the test above, checked without ladle: in float, -2 b^2 vanishes against a
  // running sum of -2, so the feature-order sum misses (d - 1 - p) 2 b^2 of the true value,
  // far more than the decoy's lead delta^2.
  const float b = margin_small<float>();
  const int d = 256, p = 15;
  float acc = 0.0f;
  double exact = 0.0;
  for (int f = 0; f < d; ++f) {
    const float x = f == p ? 1.0f : b;
    acc = std::fma(-2.0f * x, x, acc);
    exact += -2.0 * double(x) * double(x);
  }
  const double miss = double(acc) - exact;
  CHECK(miss == doctest::Approx(double(d - 1 - p) * 2.0 * double(b) * double(b)).epsilon(0.01));
  CHECK(miss > 100.0 * double(b) * double(b));
}

}  // namespace LADLE_TEST_FILE
}  // namespace
