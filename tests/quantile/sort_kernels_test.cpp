// The fast paths behind row repair and 1-D isotonic regression: the register sorting network
// (adversarial rows, signed zeros, every row position), the one-pass "already sorted" test of
// isotonic_repair, and isotonic_regression::fit on large inputs (radix sort) against a port of
// scikit-learn's own algorithm.
#include "helpers.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using namespace qt;

template <class T>
std::uint64_t bits_of(T v) {
  if constexpr (sizeof(T) == 4) {
    std::uint32_t b;
    std::memcpy(&b, &v, 4);
    return b;
  } else {
    std::uint64_t b;
    std::memcpy(&b, &v, 8);
    return b;
  }
}

/// Row i of an adversarial [n, k] array: the pattern cycles with i.
template <class T>
std::vector<T> adversarial_rows(index_t n, index_t k, std::uint64_t seed) {
  ladle::philox g(ladle::seed{seed});
  const T big = std::numeric_limits<T>::max(), tiny = std::numeric_limits<T>::denorm_min();
  const T special[] = {-big, big, -tiny, tiny, T(-0.0), T(0.0), T(1), T(-1)};
  std::vector<T> q(static_cast<std::size_t>(n * k));
  for (index_t i = 0; i < n; ++i) {
    T* r = q.data() + i * k;
    for (index_t j = 0; j < k; ++j) {
      const T u = static_cast<T>(ladle::uniform_double(g));
      switch (i % 7) {
        case 0: r[j] = static_cast<T>(std::round(u * 4) - 2); break;         // ties
        case 1: r[j] = static_cast<T>(j) * T(0.5); break;                    // sorted
        case 2: r[j] = static_cast<T>(k - j) * T(0.5); break;                // reversed
        case 3: r[j] = T(3); break;                                          // constant
        case 4: r[j] = u < T(0.5) ? T(-0.0) : T(0.0); break;                 // signed zeros
        case 5: r[j] = special[static_cast<int>(u * 8) % 8]; break;          // extremes
        default: r[j] = static_cast<T>(ladle::normal(g)); break;             // continuous
      }
    }
  }
  return q;
}

template <class T>
void check_sorted_rows(const std::vector<T>& in, const std::vector<T>& out, index_t n, index_t k) {
  index_t bad_values = 0, bad_bits = 0;
  for (index_t i = 0; i < n; ++i) {
    std::vector<T> expect(in.begin() + i * k, in.begin() + (i + 1) * k);
    std::sort(expect.begin(), expect.end());
    std::vector<std::uint64_t> bin, bout;
    for (index_t j = 0; j < k; ++j) {
      if (!(out[static_cast<std::size_t>(i * k + j)] == expect[static_cast<std::size_t>(j)]))
        ++bad_values;
      bin.push_back(bits_of(in[static_cast<std::size_t>(i * k + j)]));
      bout.push_back(bits_of(out[static_cast<std::size_t>(i * k + j)]));
    }
    std::sort(bin.begin(), bin.end());
    std::sort(bout.begin(), bout.end());
    if (bin != bout) ++bad_bits;  // the row is a permutation of its input, zeros' signs kept
  }
  CHECK(bad_values == 0);
  CHECK(bad_bits == 0);
}

TEST_CASE_TEMPLATE("sort_quantiles sorts adversarial rows like std::sort (block body and tails)",
                   T, float, double) {
  for (const index_t k : {2, 3, 5, 8, 9, 16, 17, 31, 32, 33, 40}) {
    for (const index_t n : {1, 7, 16, 17, 35, 1061}) {
      INFO("k = " << k << ", n = " << n);
      const auto q = adversarial_rows<T>(n, k, static_cast<std::uint64_t>(k * 1000 + n));
      auto s = q;
      ladle::sort_quantiles(mm(s, n, k));
      check_sorted_rows(q, s, n, k);
      // Strided (column-major) rows and the parallel policy give the same bits.
      std::vector<T> cmaj(q.size());
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < k; ++j) cmaj[static_cast<std::size_t>(j * n + i)] = q[static_cast<std::size_t>(i * k + j)];
      ladle::sort_quantiles(ladle::matrix_view<T>(cmaj.data(), {n, k}, {1, n}));
      auto p = q;
      ladle::sort_quantiles(ladle::par, mm(p, n, k));
      index_t differ = 0;
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < k; ++j) {
          const auto b = bits_of(s[static_cast<std::size_t>(i * k + j)]);
          differ += b != bits_of(cmaj[static_cast<std::size_t>(j * n + i)]);
          differ += b != bits_of(p[static_cast<std::size_t>(i * k + j)]);
        }
      CHECK(differ == 0);
    }
  }
}

TEST_CASE_TEMPLATE("sort_then_isotonic_repair is the two calls in sequence, bit for bit", T, float,
                   double) {
  // Row lengths 1..33 and 40 (network and std::sort), row counts reaching full blocks of 16,
  // the padded tail, the vector body and tail of the finiteness pass, and the parallel grain
  // (4096 rows); ties, signed zeros, extremes; with and without level weights; contiguous,
  // column-major (strided) and parallel.
  std::vector<index_t> ks;
  for (index_t k = 1; k <= 33; ++k) ks.push_back(k);
  ks.push_back(40);
  for (const index_t k : ks) {
    for (const index_t n : {1, 7, 16, 37, 4117}) {
      if (n == 4117 && k % 4 != 1) continue;  // the big count for a few lengths: test time
      INFO("k = " << k << ", n = " << n);
      const auto q = adversarial_rows<T>(n, k, static_cast<std::uint64_t>(k * 7919 + n));
      std::vector<double> lw(static_cast<std::size_t>(k));
      for (index_t j = 0; j < k; ++j) lw[static_cast<std::size_t>(j)] = 0.25 + 0.5 * double(j % 3);
      for (int weighted = 0; weighted < 2; ++weighted) {
        const auto w = weighted ? cv(lw) : ladle::vector_view<const double>{};
        auto two = q;
        ladle::sort_quantiles(mm(two, n, k));
        ladle::isotonic_repair(mm(two, n, k), w);
        auto one = q;
        ladle::sort_then_isotonic_repair(mm(one, n, k), w);
        check_sorted_rows(q, one, n, k);  // against std::sort, independently of ladle
        auto par = q;
        ladle::sort_then_isotonic_repair(ladle::par, mm(par, n, k), w);
        std::vector<T> cmaj(q.size());
        for (index_t i = 0; i < n; ++i)
          for (index_t j = 0; j < k; ++j)
            cmaj[static_cast<std::size_t>(j * n + i)] = q[static_cast<std::size_t>(i * k + j)];
        ladle::sort_then_isotonic_repair(ladle::matrix_view<T>(cmaj.data(), {n, k}, {1, n}), w);
        index_t differ = 0;
        for (index_t i = 0; i < n; ++i)
          for (index_t j = 0; j < k; ++j) {
            const auto b = bits_of(two[static_cast<std::size_t>(i * k + j)]);
            differ += b != bits_of(one[static_cast<std::size_t>(i * k + j)]);
            differ += b != bits_of(par[static_cast<std::size_t>(i * k + j)]);
            differ += b != bits_of(cmaj[static_cast<std::size_t>(j * n + i)]);
          }
        CHECK(differ == 0);
      }
    }
  }
}

TEST_CASE_TEMPLATE("sort_quantiles and sort_then_isotonic_repair find a NaN or infinity anywhere",
                   T, float, double) {
  // Every position of a [38, 9] array (342 values: with 16, 8 or 4 lanes the vector pass's
  // body of four batches, its single-batch loop and its scalar tail all get one), then the
  // error names the function, q, row and column, and nothing is written.
  const index_t n = 38, k = 9;
  const auto q = adversarial_rows<T>(n, k, 5);
  const T bad[] = {std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity(),
                   -std::numeric_limits<T>::infinity()};
  const char* text[] = {"nan", "inf", "-inf"};
  index_t unchanged = 0, cases = 0;
  for (int b = 0; b < 3; ++b)
    for (index_t p = 0; p < n * k; ++p) {
      auto r = q;
      r[static_cast<std::size_t>(p)] = bad[b];
      const auto before = r;
      const std::string where = std::string("'q' has ") + text[b] + " at row " +
                                std::to_string(p / k) + ", column " + std::to_string(p % k);
      expect_error<ladle::domain_error>([&] { ladle::sort_quantiles(mm(r, n, k)); },
                                        "ladle::sort_quantiles: " + where);
      expect_error<ladle::domain_error>([&] { ladle::sort_then_isotonic_repair(mm(r, n, k)); },
                                        "ladle::sort_then_isotonic_repair: " + where);
      unchanged += std::memcmp(r.data(), before.data(), r.size() * sizeof(T)) == 0;
      ++cases;
    }
  CHECK(unchanged == cases);
}

TEST_CASE("sort_then_isotonic_repair checks level_weight before it sorts") {
  const index_t n = 20, k = 5;
  const auto q = adversarial_rows<double>(n, k, 9);
  auto r = q;
  expect_error<ladle::domain_error>(
      [&] { ladle::sort_then_isotonic_repair(mm(r, n, k), cv(std::vector<double>{1, 1, 0, 1, 1})); },
      "ladle::sort_then_isotonic_repair: 'level_weight' element 2 is 0");
  expect_error<ladle::domain_error>(
      [&] {
        ladle::sort_then_isotonic_repair(mm(r, n, k),
                                         cv(std::vector<double>{1, 1, 1, 1, std::nan("")}));
      },
      "'level_weight' element 4 is nan");
  expect_error<ladle::invalid_argument>(
      [&] { ladle::sort_then_isotonic_repair(mm(r, n, k), cv(std::vector<double>{1, 1})); },
      "ladle::sort_then_isotonic_repair: 'level_weight' has length (columns of q) 2 but 5 was "
      "expected");
  CHECK(r == q);  // the two separate calls would have sorted q before the second one threw
}

TEST_CASE("a row of signed zeros and ties sorts to the same bits at every row position") {
  // -0.0 and +0.0 compare equal, so their order is the network's business; it must not depend
  // on whether the row sits in a full block of 16 or in the padded tail.
  for (const index_t k : {4, 9, 13}) {
    std::vector<float> row;
    for (index_t j = 0; j < k; ++j) row.push_back(j % 3 == 0 ? -0.0f : (j % 3 == 1 ? 0.0f : -1.0f));
    const index_t n = 37;  // two full blocks and a tail of 5
    std::vector<float> q;
    for (index_t i = 0; i < n; ++i) q.insert(q.end(), row.begin(), row.end());
    ladle::sort_quantiles(mm(q, n, k));
    auto one = row;
    ladle::sort_quantiles(mm(one, 1, k));
    index_t differ = 0;
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < k; ++j)
        differ += bits_of(q[static_cast<std::size_t>(i * k + j)]) != bits_of(one[static_cast<std::size_t>(j)]);
    CHECK(differ == 0);
    CHECK(std::is_sorted(one.begin(), one.end()));
  }
}

TEST_CASE("isotonic_repair's one-pass sorted test finds a single unsorted row in any block") {
  const index_t n = 3000, k = 9;  // three blocks of 1024 rows, the last partial
  std::vector<float> q(static_cast<std::size_t>(n * k));
  for (index_t i = 0; i < n; ++i)  // each row sorted; row i+1 starts below row i's end
    for (index_t j = 0; j < k; ++j) q[static_cast<std::size_t>(i * k + j)] = static_cast<float>(j - (i % 5));
  for (const index_t bad_row : {index_t(0), index_t(1023), index_t(1024), index_t(2999)}) {
    for (const index_t bad_col : {index_t(1), index_t(8)}) {
      INFO("row " << bad_row << ", column " << bad_col);
      auto r = q;
      r[static_cast<std::size_t>(bad_row * k + bad_col)] = -1000.0f;  // pools with all on its left
      auto fit = r;
      ladle::isotonic_repair(mm(fit, n, k));
      index_t changed_elsewhere = 0;
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < k; ++j)
          if (i != bad_row) changed_elsewhere += fit[static_cast<std::size_t>(i * k + j)] != r[static_cast<std::size_t>(i * k + j)];
      CHECK(changed_elsewhere == 0);
      // The repaired row: the pool of columns 0..bad_col is their mean, the rest unchanged.
      const float* in = r.data() + bad_row * k;
      double s = 0.0;
      for (index_t j = 0; j <= bad_col; ++j) s += in[j];
      const float* out = fit.data() + bad_row * k;
      for (index_t j = 0; j <= bad_col; ++j)
        CHECK(out[j] == doctest::Approx(s / double(bad_col + 1)).epsilon(1e-6));
      for (index_t j = bad_col + 1; j < k; ++j) CHECK(out[j] == in[j]);
    }
  }
  auto r = q;
  r[static_cast<std::size_t>(2000 * k + 4)] = std::numeric_limits<float>::quiet_NaN();
  const auto before = r;
  expect_error<ladle::domain_error>([&] { ladle::isotonic_repair(mm(r, n, k)); },
                                    "ladle::isotonic_repair: 'q' has nan at row 2000, column 4");
  CHECK(std::memcmp(r.data(), before.data(), r.size() * sizeof(float)) == 0);
}

// scikit-learn 1.2's fit, ported: lexsort by (x, y), _make_unique, then
// _inplace_contiguous_isotonic_regression (its own block bookkeeping), clip, keep the points
// whose value differs from a neighbour.
struct sk_result {
  std::vector<double> x, y;
};

template <class TX>
sk_result sklearn_fit(const std::vector<TX>& xs, const std::vector<double>& ys,
                      const std::vector<double>& ws, bool increasing, double lo, double hi) {
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < xs.size(); ++i)
    if (ws.empty() || ws[i] > 0) idx.push_back(i);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
    const double xa = xs[a], xb = xs[b];
    return xa < xb || (xa == xb && ys[a] < ys[b]);
  });
  std::vector<double> ux, uy, uw;
  double cx = xs[idx[0]], cy = 0, cw = 0;
  for (const std::size_t i : idx) {
    const double w = ws.empty() ? 1.0 : ws[i];
    if (double(xs[i]) - cx >= 1e-15) {
      ux.push_back(cx);
      uy.push_back(cy / cw);
      uw.push_back(cw);
      cx = xs[i];
      cy = ys[i] * w;
      cw = w;
    } else {
      cy += ys[i] * w;
      cw += w;
    }
  }
  ux.push_back(cx);
  uy.push_back(cy / cw);
  uw.push_back(cw);
  const std::size_t n = uy.size();
  if (!increasing) {
    std::reverse(uy.begin(), uy.end());
    std::reverse(uw.begin(), uw.end());
  }
  std::vector<std::size_t> target(n);
  std::iota(target.begin(), target.end(), std::size_t(0));
  std::size_t i = 0;
  while (i < n) {
    std::size_t k = target[i] + 1;
    if (k == n) break;
    if (uy[i] < uy[k]) {
      i = k;
      continue;
    }
    double sum_wy = uw[i] * uy[i], sum_w = uw[i];
    while (true) {
      const double prev_y = uy[k];
      sum_wy += uw[k] * uy[k];
      sum_w += uw[k];
      k = target[k] + 1;
      if (k == n || prev_y < uy[k]) {
        uy[i] = sum_wy / sum_w;
        uw[i] = sum_w;
        target[i] = k - 1;
        target[k - 1] = i;
        if (i > 0) i = target[i - 1];
        break;
      }
    }
  }
  for (std::size_t a = 0; a < n;) {
    const std::size_t b = target[a] + 1;
    for (std::size_t j = a + 1; j < b; ++j) uy[j] = uy[a];
    a = b;
  }
  if (!increasing) std::reverse(uy.begin(), uy.end());
  for (double& v : uy) v = std::min(std::max(v, lo), hi);
  sk_result r;
  for (std::size_t j = 0; j < n; ++j)
    if (j == 0 || j + 1 == n || uy[j] != uy[j - 1] || uy[j] != uy[j + 1]) {
      r.x.push_back(ux[j]);
      r.y.push_back(uy[j]);
    }
  return r;
}

template <class TX>
void check_large_fit(const std::vector<TX>& x, const std::vector<double>& y,
                     const std::vector<double>& w, bool increasing, double lo, double hi) {
  ladle::isotonic_options o;
  o.increasing = increasing;
  o.y_min = lo;
  o.y_max = hi;
  ladle::isotonic_regression ir(o);
  const auto n = static_cast<index_t>(x.size());
  ir.fit(ladle::vector_view<const TX>(x.data(), {n}), ladle::vector_view<const double>(y.data(), {n}),
         ladle::vector_view<const double>(w.data(), {static_cast<index_t>(w.size())}));
  const auto ref = sklearn_fit(x, y, w, increasing, lo, hi);
  REQUIRE(ir.x_thresholds().size() == ref.x.size());
  index_t x_differ = 0;
  double worst = 0.0;
  for (std::size_t i = 0; i < ref.x.size(); ++i) {
    x_differ += bits_of(ir.x_thresholds()[i]) != bits_of(ref.x[i]);  // sign of zero included
    worst = std::max(worst, std::abs(ir.y_thresholds()[i] - ref.y[i]));
  }
  CHECK(x_differ == 0);
  CHECK(worst <= 1e-12);
}

TEST_CASE("isotonic_regression::fit on large inputs equals scikit-learn's algorithm") {
  ladle::philox g(ladle::seed{2026});
  SUBCASE("ties, signed zeros, near-equal x, zero weights, bounds, increasing") {
    const std::size_t n = 50000;
    std::vector<double> x(n), y(n), w(n);
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = std::round((ladle::uniform_double(g) * 6 - 3) * 50) / 50;  // many exact ties
      if (i % 97 == 0) x[i] = (i % 2) ? -0.0 : 0.0;
      if (i % 89 == 0) x[i] = std::nextafter(1.0, 2.0);  // pools with x = 1 (closer than 1e-15)
      y[i] = std::sin(x[i]) + 0.5 * ladle::normal(g);
      w[i] = i % 10 == 3 ? 0.0 : 0.1 + ladle::uniform_double(g);
    }
    check_large_fit(x, y, w, true, -0.8, 0.9);
  }
  SUBCASE("x in [1, 2) (constant high key digits), float x, decreasing, no weights") {
    const std::size_t n = 40000;
    std::vector<float> x(n);
    std::vector<double> y(n);
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = 1.0f + static_cast<float>(ladle::uniform_double(g));
      if (x[i] >= 2.0f) x[i] = 1.5f;
      y[i] = -3.0 * x[i] + ladle::normal(g);
    }
    check_large_fit(x, y, {}, false, -std::numeric_limits<double>::infinity(),
                    std::numeric_limits<double>::infinity());
  }
  SUBCASE("x over every magnitude and both signs") {
    const std::size_t n = 30000;
    std::vector<double> x(n), y(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double e = ladle::uniform_double(g) * 600 - 300;
      x[i] = (i % 2 ? -1.0 : 1.0) * std::pow(10.0, e);
      y[i] = (x[i] > 0 ? 1.0 : -1.0) + ladle::normal(g);
    }
    check_large_fit(x, y, {}, true, -std::numeric_limits<double>::infinity(),
                    std::numeric_limits<double>::infinity());
  }
}

}  // namespace LADLE_TEST_FILE
}  // namespace
