// k-center's int8 screen (selection/detail/quantised_screen.hpp): its integer dot products
// against a plain sum, its bound at the tightest threshold, and whole runs with the screen on at
// every d against a naive greedy that computes the documented fixed-order distance itself.
#include "helpers.hpp"

#include <cmath>
#include <limits>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;
using ladle::seed;

namespace {

// The documented distance, written out here: features widened to double, feature j in partial
// sum j % 8 (one fma each), combined as ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)).
double fixed_order_sq(const float* a, const float* b, index_t d) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (index_t j = 0; j < d; ++j) {
    const double e = double(a[j]) - double(b[j]);
    s[j % 8] = std::fma(e, e, s[j % 8]);
  }
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

struct naive_result {
  std::vector<index_t> order;
  std::vector<double> gains;
  double radius;
};

// Textbook greedy over the full matrix of those distances (ties to the lowest row).
naive_result naive_fixed_order(const std::vector<float>& x, index_t n, index_t d,
                               const std::vector<index_t>& initial, index_t budget) {
  std::vector<double> D(std::size_t(n * n));
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j)
      D[std::size_t(i * n + j)] = fixed_order_sq(&x[std::size_t(i * d)], &x[std::size_t(j * d)], d);
  std::vector<double> mins(std::size_t(n), std::numeric_limits<double>::infinity());
  std::vector<bool> chosen(std::size_t(n), false);
  auto add = [&](index_t c) {
    chosen[std::size_t(c)] = true;
    for (index_t i = 0; i < n; ++i) mins[std::size_t(i)] = std::min(mins[std::size_t(i)], D[std::size_t(i * n + c)]);
  };
  for (const index_t c : initial) add(c);
  naive_result r;
  auto farthest = [&](double& best) {
    index_t arg = -1;
    best = -1;
    for (index_t i = 0; i < n; ++i)
      if (!chosen[std::size_t(i)] && mins[std::size_t(i)] > best) {
        best = mins[std::size_t(i)];
        arg = i;
      }
    return arg;
  };
  while (index_t(r.order.size()) < budget) {
    double best;
    const index_t arg = farthest(best);
    r.order.push_back(arg);
    r.gains.push_back(std::sqrt(best));
    add(arg);
  }
  double best;
  r.radius = farthest(best) < 0 ? 0.0 : std::sqrt(best);
  return r;
}

enum class shape { near_duplicates, offset_one_coordinate, magnitudes };

// Data on which the screen is nearly tight: a few base rows repeated with one coordinate moved
// by 0-4 ulps (exact duplicates included), rows near 1000 that differ by ~1e-3 in a coordinate
// or two, or rows scaled by 2^-40 .. 2^40 with some all-zero rows.
std::vector<float> tight_data(shape sh, index_t n, index_t d, std::uint64_t s) {
  ladle::philox g(seed{s});
  std::vector<float> x(std::size_t(n * d));
  std::vector<float> base(std::size_t(6 * d));
  for (auto& v : base) v = float(ladle::normal(g));
  for (index_t i = 0; i < n; ++i) {
    float* r = &x[std::size_t(i * d)];
    for (index_t j = 0; j < d; ++j) {
      switch (sh) {
        case shape::near_duplicates: r[j] = base[std::size_t((i % 6) * d + j)]; break;
        case shape::offset_one_coordinate: r[j] = 1000.0f; break;
        case shape::magnitudes: r[j] = float(ladle::normal(g)); break;
      }
    }
    const index_t j = (i * 7) % d;
    if (sh == shape::near_duplicates) {
      for (index_t k = 0; k < (i / 6) % 5; ++k) r[j] = std::nextafter(r[j], 1e30f);
    } else if (sh == shape::offset_one_coordinate) {
      r[j] += float(1e-3 * double(ladle::uniform_index(g, 5)));
      r[(j + 1) % d] -= float(1e-3 * double(ladle::uniform_index(g, 3)));
    } else {
      const double scale = i % 50 == 7 ? 0.0 : std::ldexp(1.0, int((i * 37) % 81) - 40);
      for (index_t f = 0; f < d; ++f) r[f] = float(double(r[f]) * scale);
    }
  }
  return x;
}

}  // namespace

TEST_CASE("k-center int8 screen: integer dot products and the 8-row kernel agree with plain code") {
  ladle::philox g(seed{23});
  for (const index_t d : {index_t(1), index_t(3), index_t(17), index_t(63), index_t(64),
                          index_t(65), index_t(129), index_t(300)}) {
    CAPTURE(d);
    const index_t st = ladle::detail::quantised_stride(d);
    std::vector<float> x(std::size_t(9 * d));
    for (auto& v : x) v = float(ladle::normal(g) * 3.0);
    auto codes = ladle::detail::allocate_aligned<std::uint8_t>(8 * st);
    double s[8], a[8], e[8], t[8];
    for (index_t r = 0; r < 8; ++r)
      ladle::detail::quantise_row(&x[std::size_t(r * d)], d, codes.get() + r * st, s[r], a[r], e[r]);
    ladle::detail::quantised_centre c(d);
    c.set(&x[std::size_t(8 * d)], d);
    for (index_t r = 0; r < 8; ++r) {
      const std::uint8_t* w = codes.get() + r * st;
      std::int64_t plain = 0, centred = 0, sum_c = 0;
      for (index_t j = 0; j < d; ++j) {
        CHECK(int(w[j]) >= 1);  // q in [-127, 127]
        plain += std::int64_t(w[j]) * c.q16.get()[j];
        centred += (std::int64_t(w[j]) - 128) * c.q16.get()[j];
        sum_c += c.q16.get()[j];
      }
      for (index_t j = d; j < st; ++j) CHECK(int(w[j]) == 128);
      CHECK(ladle::detail::quantised_biased_dot(w, c) == plain);
      CHECK(plain - c.bias == centred);
      CHECK(c.bias == 128 * sum_c);
      // Half the rows at a threshold they clear, half at one they cannot.
      const double exact = fixed_order_sq(&x[std::size_t(r * d)], &x[std::size_t(8 * d)], d);
      t[r] = ladle::detail::quantised_threshold(r % 2 == 0 ? exact / 4 : exact, e[r], d);
    }
    unsigned want = 0;
    for (index_t r = 0; r < 8; ++r)
      if (!ladle::detail::quantised_clears(ladle::detail::quantised_biased_dot(codes.get() + r * st, c),
                                           s[r], a[r], t[r], c))
        want |= 1u << r;
    CHECK(ladle::detail::quantised_screen8(codes.get(), s, a, t, c) == want);
    if (d >= 17) CHECK(want == 0xAAu);  // d = 1, 3: quarter distances may be within the error
  }
}

TEST_CASE("k-center int8 screen: never clears a row whose exact distance is below the minimum") {
  // The screen may skip a row only when it proves the exact fixed-order distance is not below
  // the row's minimum v. Here v is the next double above the exact distance: the tightest
  // threshold it must refuse, over lengths with vector bodies and tails, cancellation (a large
  // offset), tiny (subnormal float) and huge coordinates, and pairs one ulp apart.
  ladle::philox g(seed{29});
  for (const index_t d : {index_t(1), index_t(3), index_t(17), index_t(64), index_t(129), index_t(300)}) {
    for (const double scale : {1.0, 1e-41, 1e-30, 1e25}) {
      for (const int kind : {0, 1, 2}) {  // independent rows, offset 1000, one ulp apart
        CAPTURE(d);
        CAPTURE(scale);
        CAPTURE(kind);
        const index_t st = ladle::detail::quantised_stride(d);
        auto codes = ladle::detail::allocate_aligned<std::uint8_t>(st);  // 64-byte aligned rows
        ladle::detail::quantised_centre c(d);
        std::size_t cleared = 0, cleared_at_quarter = 0;
        for (int trial = 0; trial < 200; ++trial) {
          std::vector<float> a(static_cast<std::size_t>(d)), b(static_cast<std::size_t>(d));
          const double offset = kind == 1 ? 1000.0 : 0.0;
          for (index_t j = 0; j < d; ++j) {
            a[std::size_t(j)] = float((offset + ladle::normal(g)) * scale);
            b[std::size_t(j)] = kind == 2 ? a[std::size_t(j)] : float((offset + ladle::normal(g)) * scale);
          }
          if (kind == 2) {
            float& f = b[std::size_t(ladle::uniform_index(g, std::uint64_t(d)))];
            f = std::nextafter(f, 1e38f);
          }
          double s, aa, e;
          ladle::detail::quantise_row(a.data(), d, codes.get(), s, aa, e);
          c.set(b.data(), d);
          const std::int32_t dot = ladle::detail::quantised_biased_dot(codes.get(), c);
          const double exact = fixed_order_sq(a.data(), b.data(), d);
          const double v = std::nextafter(exact, std::numeric_limits<double>::infinity());
          cleared += ladle::detail::quantised_clears(dot, s, aa, ladle::detail::quantised_threshold(v, e, d), c);
          cleared_at_quarter += ladle::detail::quantised_clears(
              dot, s, aa, ladle::detail::quantised_threshold(exact / 4, e, d), c);
        }
        CHECK(cleared == 0);
        // Not vacuous: independent rows clear a quarter of their distance at any scale (the
        // quantisation error is ~1 % of it); d = 1, 3 have too few features to promise that.
        if (kind == 0 && d >= 17) CHECK(cleared_at_quarter == 200);
      }
    }
  }
}

TEST_CASE("k_center_greedy with the int8 screen equals the naive greedy on near-tight data") {
  for (const shape sh : {shape::near_duplicates, shape::offset_one_coordinate, shape::magnitudes}) {
    for (const index_t d : {index_t(1), index_t(3), index_t(17), index_t(129)}) {
      CAPTURE(int(sh));
      CAPTURE(d);
      const index_t n = 240, budget = 70;
      const auto x = tight_data(sh, n, d, std::uint64_t(d) * 3 + std::uint64_t(sh));
      const auto X = ladle::make_view(static_cast<const float*>(x.data()), {n, d});
      const std::vector<index_t> init = {11};
      // quantised_min_d = 1: the screen runs at every d (by default only from d = 32).
      const auto got = ladle::detail::k_center_impl(ladle::seq, X, nullptr, n, budget, seed{4},
                                                    init, "k_center_greedy", 1);
      const auto want = naive_fixed_order(x, n, d, init, budget);
      CHECK(got.order == want.order);
      CHECK(got.gains == want.gains);
      CHECK(got.radius == want.radius);
      // Threads, and the default public entry point (the screen on from d = 32), give the same.
      const auto par = ladle::detail::k_center_impl(ladle::par(3), X, nullptr, n, budget, seed{4},
                                                    init, "k_center_greedy", 1);
      CHECK(par.order == want.order);
      CHECK(par.gains == want.gains);
      const auto pub = ladle::k_center_greedy(X, budget, seed{4}, init);
      CHECK(pub.order == want.order);
      CHECK(pub.gains == want.gains);
    }
  }
}

TEST_CASE("k_center_greedy with the int8 screen on 20k rows equals the screen-free greedy") {
  // Large enough for several parallel chunks, 256-row blocks and their prefetch pipeline (with
  // a block tail); compared with the same greedy with no screen at all, i.e. exact distances
  // for every row (double data through the float path's twin: the rows widened exactly).
  const index_t n = 20000 + 77, d = 40;
  ladle::philox g(seed{31});
  std::vector<float> x(std::size_t(n * d));
  for (auto& v : x) v = float(ladle::normal(g));
  std::vector<double> xd(x.begin(), x.end());
  const auto X = ladle::make_view(static_cast<const float*>(x.data()), {n, d});
  const auto Xd = ladle::make_view(static_cast<const double*>(xd.data()), {n, d});
  const auto want = ladle::k_center_greedy(Xd, 50, seed{8});  // double: never screened
  for (int threads : {1, 2}) {
    const auto got = ladle::k_center_greedy(ladle::par(threads), X, 50, seed{8});
    CHECK(got.order == want.order);
    CHECK(got.gains == want.gains);
    CHECK(got.radius == want.radius);
  }
  // Over candidate rows (the reduce step), with an initial row outside them.
  std::vector<index_t> cand;
  for (index_t i = 0; i < n; i += 3) cand.push_back(i);
  const auto gc = ladle::k_center_greedy(ladle::par(2), X, cand, 30, seed{2}, {1});
  const auto wc = ladle::k_center_greedy(ladle::seq, Xd, cand, 30, seed{2}, {1});
  CHECK(gc.order == wc.order);
  CHECK(gc.gains == wc.gains);
  CHECK(gc.radius == wc.radius);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
