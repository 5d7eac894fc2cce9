// Facility location on float X against its definition written out here with plain loops: D is
// the float32 sequential-fma sum, M its maximum over pairs, the first pick the row nearest the
// mean (argmin of sum_j (n x_cj - s_j)^2), later picks the largest gain (ties to the smallest
// row), a gain the in-order sum over chunks of 1024 rows of max(0, m_i - D(i, c)). Naive, lazy
// and threaded runs must give these exact bits; shapes reach the 16-row panels' padding, the
// 8-row blocks' tails and two row chunks.
#include "helpers.hpp"

#include <limits>

namespace {
namespace LADLE_TEST_FILE {

using ladle::facility_greedy;
using ladle::index_t;

namespace {

float ref_D(const float* a, const float* b, index_t d) {
  float s = 0;
  for (index_t j = 0; j < d; ++j) {
    const float e = a[j] - b[j];
    s = std::fma(e, e, s);
  }
  return s;
}

struct ref_result {
  std::vector<index_t> order;
  std::vector<double> gains;
  double objective = 0, M = 0;
};

ref_result ref_greedy(const std::vector<float>& x, index_t n, index_t d, index_t budget) {
  auto row = [&](index_t i) { return x.data() + i * d; };
  ref_result r;
  float M = 0;
  for (index_t a = 0; a < n; ++a)
    for (index_t b = a + 1; b < n; ++b) M = std::max(M, ref_D(row(a), row(b), d));
  r.M = double(M);
  std::vector<double> s(std::size_t(d), 0.0);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < d; ++j) s[std::size_t(j)] += double(row(i)[j]);
  index_t first = 0;
  double best_score = INFINITY;
  for (index_t c = 0; c < n; ++c) {
    double score = 0;
    for (index_t j = 0; j < d; ++j) {
      const double e = std::fma(double(n), double(row(c)[j]), -s[std::size_t(j)]);
      score = std::fma(e, e, score);
    }
    if (score < best_score) best_score = score, first = c;
  }
  std::vector<double> m(std::size_t(n), r.M);
  std::vector<bool> chosen(std::size_t(n), false);
  auto gain = [&](index_t c) {
    double total = 0;
    for (index_t b = 0; b < n; b += 1024) {
      double part = 0;
      for (index_t i = b; i < std::min(n, b + 1024); ++i) {
        const double t = m[std::size_t(i)] - double(ref_D(row(i), row(c), d));
        if (t > 0) part += t;
      }
      total += part;
    }
    return total;
  };
  for (index_t t = 0; t < budget; ++t) {
    index_t c = first;
    double g = gain(first);
    if (t > 0) {
      c = -1;
      for (index_t j = 0; j < n; ++j) {
        if (chosen[std::size_t(j)]) continue;
        const double gj = gain(j);
        if (c < 0 || gj > g) c = j, g = gj;
      }
    }
    r.order.push_back(c);
    r.gains.push_back(g);
    chosen[std::size_t(c)] = true;
    for (index_t i = 0; i < n; ++i)
      m[std::size_t(i)] = std::min(m[std::size_t(i)], double(ref_D(row(i), row(c), d)));
    m[std::size_t(c)] = 0;
  }
  for (index_t b = 0; b < n; b += 1024) {
    double part = 0;
    for (index_t i = b; i < std::min(n, b + 1024); ++i) part += r.M - m[std::size_t(i)];
    r.objective += part;
  }
  return r;
}

}  // namespace

TEST_CASE("facility_location float: the definition written out, bit for bit") {
  struct setup {
    index_t n, d, budget;
    int kind;  // 0 uniform [-1, 1), 1 integer grid 0..3 (ties everywhere), 2 rows repeated
  };
  for (const auto& c : {setup{1100, 19, 4, 0}, setup{157, 3, 20, 1}, setup{203, 67, 12, 0},
                        setup{90, 1, 30, 2}, setup{33, 16, 33, 2}, setup{17, 130, 6, 1}}) {
    CAPTURE(c.n);
    CAPTURE(c.d);
    ladle::philox g(ladle::seed{std::uint64_t(c.n * 31 + c.d)});
    std::vector<float> x(std::size_t(c.n * c.d));
    if (c.kind == 0) {
      for (auto& v : x) v = float(2 * ladle::uniform_double(g) - 1);
    } else if (c.kind == 1) {
      for (auto& v : x) v = float(ladle::uniform_index(g, 4));
    } else {
      const index_t half = c.n / 2;
      for (index_t i = 0; i < c.n; ++i)
        for (index_t j = 0; j < c.d; ++j)
          x[std::size_t(i * c.d + j)] =
              i < half ? float(ladle::normal(g)) : x[std::size_t((i - half) * c.d + j)];
    }
    const auto want = ref_greedy(x, c.n, c.d, c.budget);
    const auto X = ladle::make_view(static_cast<const float*>(x.data()), {c.n, c.d});
    for (auto m : {facility_greedy::naive, facility_greedy::lazy}) {
      ladle::facility_location_options o;
      o.method = m;
      for (int threads : {1, 3}) {
        CAPTURE(threads);
        const auto r = ladle::facility_location(ladle::par(threads), X, c.budget, o);
        CHECK(r.max_sq_distance == want.M);
        CHECK(r.order == want.order);
        CHECK(r.gains == want.gains);
        CHECK(r.objective == want.objective);
      }
    }
  }
}

}  // namespace LADLE_TEST_FILE
}  // namespace
