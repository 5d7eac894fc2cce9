// Linear sum assignment (against scipy's optima and brute force) and permutation weight matching
// (function invariance, recovery of a known permutation, a one-hidden-layer case against scipy).
#include "ladle/averaging.hpp"
#include "ladle/core/linear_assignment.hpp"

#include <doctest/doctest.h>

#include "error_of.hpp"
#include "fixtures/subspace_fixture.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

#ifndef LADLE_AVERAGING_TEST_DIR
#  error "LADLE_AVERAGING_TEST_DIR must name tests/averaging"
#endif

namespace {

using ladle::index_t;

// The matrices of fixtures/make_assignment_fixture.py, regenerated bit for bit.
std::vector<double> fixture_matrix(std::uint64_t seed, const std::string& kind, index_t nr,
                                   index_t nc, bool maximize) {
  std::vector<double> m(static_cast<std::size_t>(nr * nc));
  for (index_t k = 0; k < nr * nc; ++k) {
    const std::uint64_t z = ladle::derive_stream(seed, static_cast<std::uint64_t>(k));
    double v;
    if (kind == "ties") {
      const std::uint64_t t = z % 10;
      v = t == 0 ? 0 : (t <= 3 ? 1 : 2);
      if (maximize) v = 2 - v;
    } else {
      v = static_cast<double>(z >> 11) * 0x1p-53 * 2.0 - 1.0;
      if (kind == "inf" && z % 5 == 0)
        v = maximize ? -std::numeric_limits<double>::infinity()
                     : std::numeric_limits<double>::infinity();
    }
    m[static_cast<std::size_t>(k)] = v;
  }
  return m;
}

bool is_assignment(const std::vector<index_t>& a, index_t nr, index_t nc) {
  std::vector<int> used(static_cast<std::size_t>(nc), 0);
  index_t assigned = 0;
  for (index_t i = 0; i < nr; ++i) {
    const index_t j = a[static_cast<std::size_t>(i)];
    if (j == -1) continue;
    if (j < 0 || j >= nc || used[static_cast<std::size_t>(j)]++) return false;
    ++assigned;
  }
  return assigned == std::min(nr, nc);
}

// Brute force over injective maps of the smaller side (r <= 6).
double brute_force(const std::vector<double>& m, index_t nr, index_t nc, bool maximize) {
  const bool tr = nr > nc;
  const index_t r = tr ? nc : nr, c = tr ? nr : nc;
  std::vector<index_t> cols(static_cast<std::size_t>(c));
  std::iota(cols.begin(), cols.end(), index_t{0});
  double best = maximize ? -1e300 : 1e300;
  do {
    double s = 0;
    for (index_t i = 0; i < r; ++i) {
      const index_t j = cols[static_cast<std::size_t>(i)];
      s += tr ? m[static_cast<std::size_t>(j * nc + i)] : m[static_cast<std::size_t>(i * nc + j)];
    }
    best = maximize ? std::max(best, s) : std::min(best, s);
  } while (std::next_permutation(cols.begin(), cols.end()));
  return best;
}

}  // namespace

TEST_CASE("linear_sum_assignment: scipy's optima and unique assignments") {
  std::ifstream f(LADLE_AVERAGING_TEST_DIR "/fixtures/assignment_fixture.txt");
  REQUIRE(f.good());
  std::string line;
  int cases = 0;
  while (std::getline(f, line)) {
    std::istringstream is(line);
    std::uint64_t seed;
    std::string kind, goal;
    index_t nr, nc;
    double optimum;
    is >> seed >> kind >> nr >> nc >> goal >> optimum;
    std::vector<index_t> expected(static_cast<std::size_t>(nr));
    for (auto& e : expected) is >> e;
    REQUIRE(is);
    CAPTURE(line.substr(0, 40));
    const bool maximize = goal == "max";
    const auto g = maximize ? ladle::assignment_goal::maximize : ladle::assignment_goal::minimize;
    const auto m = fixture_matrix(seed, kind, nr, nc, maximize);
    const auto view = ladle::make_view(m.data(), {nr, nc});
    const auto got = ladle::linear_sum_assignment(view, g);
    CHECK(is_assignment(got.column_of_row, nr, nc));
    if (kind == "ties") {
      CHECK(got.total == optimum);  // integers: exact; many optima, so only the total
    } else {
      CHECK(got.column_of_row == expected);  // unique optimum
      CHECK(std::fabs(got.total - optimum) <= 1e-12 * static_cast<double>(nr));
    }
    // The transposed problem through a strided view: the same optimum, the inverse assignment.
    const ladle::tensor_view<const double, 2> t(m.data(), {nc, nr}, {1, nc});
    const auto back = ladle::linear_sum_assignment(t, g);
    CHECK(is_assignment(back.column_of_row, nc, nr));
    if (kind == "ties") {
      CHECK(back.total == optimum);
    } else {
      for (index_t i = 0; i < nr; ++i)
        if (expected[static_cast<std::size_t>(i)] >= 0)
          CHECK(back.column_of_row[static_cast<std::size_t>(expected[static_cast<std::size_t>(i)])] == i);
    }
    ++cases;
  }
  CHECK(cases == 30);
}

TEST_CASE("linear_sum_assignment: brute force on small tie-heavy matrices, float and double") {
  ladle::philox g(ladle::seed{11});
  int checked = 0;
  for (index_t nr = 1; nr <= 6; ++nr)
    for (index_t nc = 1; nc <= 6; ++nc)
      for (int rep = 0; rep < 8; ++rep) {
        std::vector<double> m(static_cast<std::size_t>(nr * nc));
        std::vector<float> mf(m.size());
        for (std::size_t k = 0; k < m.size(); ++k) mf[k] = static_cast<float>(m[k] = ladle::uniform_u32(g, 4));
        for (bool maximize : {false, true}) {
          const auto goal = maximize ? ladle::assignment_goal::maximize : ladle::assignment_goal::minimize;
          const double want = brute_force(m, nr, nc, maximize);
          const auto got = ladle::linear_sum_assignment(ladle::make_view(m.data(), {nr, nc}), goal);
          const auto got_f = ladle::linear_sum_assignment(ladle::make_view(mf.data(), {nr, nc}), goal);
          CHECK(is_assignment(got.column_of_row, nr, nc));
          CHECK(got.total == want);
          CHECK(got_f.total == want);
          CHECK(got_f.column_of_row == got.column_of_row);
          ++checked;
        }
      }
  CHECK(checked == 576);
}

TEST_CASE("linear_sum_assignment: documented tie-breaking, empty matrices, caller buffers") {
  // All costs equal: every row takes the lowest free column.
  const std::vector<double> zeros(15, 0.0);
  CHECK(ladle::linear_sum_assignment(ladle::make_view(zeros.data(), {3, 5})).column_of_row ==
        std::vector<index_t>{0, 1, 2});
  CHECK(ladle::linear_sum_assignment(ladle::make_view(zeros.data(), {5, 3}),
                                     ladle::assignment_goal::maximize)
            .column_of_row == std::vector<index_t>{0, 1, 2, -1, -1});
  // Empty: cost 0, rows unassigned.
  const auto e = ladle::linear_sum_assignment(ladle::make_view(zeros.data(), {4, 0}));
  CHECK(e.total == 0);
  CHECK(e.column_of_row == std::vector<index_t>(4, -1));
  CHECK(ladle::linear_sum_assignment(ladle::make_view(zeros.data(), {0, 4})).column_of_row.empty());
  // Into a caller buffer: scipy's documentation example, minimum 1 + 2 + 2 = 5 at columns 1, 0, 2.
  const std::vector<double> c = {4, 1, 3, 2, 0, 5, 3, 2, 2};
  std::vector<index_t> out(3, 9);
  CHECK(ladle::linear_sum_assignment(ladle::make_view(c.data(), {3, 3}),
                                     ladle::make_view(out.data(), {3})) == 5.0);
  CHECK(out == std::vector<index_t>{1, 0, 2});
  CHECK(ladle::linear_sum_assignment(ladle::make_view(c.data(), {3, 3}),
                                     ladle::make_view(out.data(), {3}),
                                     ladle::assignment_goal::maximize) == 11.0);  // 4 + 5 + 2
  CHECK(out == std::vector<index_t>{0, 2, 1});
}

TEST_CASE("linear_sum_assignment: errors name row and column; nothing written") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> c = {1, 2, 3, 4, 5, nan};
  std::vector<index_t> out(2, 7);
  auto solve = [&](ladle::assignment_goal g) {
    return [&, g] {
      ladle::linear_sum_assignment(ladle::make_view(c.data(), {2, 3}),
                                   ladle::make_view(out.data(), {2}), g);
    };
  };
  auto msg = error_of<ladle::domain_error>(solve(ladle::assignment_goal::minimize));
  CHECK(msg.find("ladle::linear_sum_assignment") != std::string::npos);
  CHECK(msg.find("NaN at row 1, column 2") != std::string::npos);
  c[5] = -inf;
  CHECK(error_of<ladle::domain_error>(solve(ladle::assignment_goal::minimize))
            .find("-inf at row 1, column 2, so the minimum is unbounded") != std::string::npos);
  c[5] = inf;
  CHECK(error_of<ladle::domain_error>(solve(ladle::assignment_goal::maximize))
            .find("inf at row 1, column 2, so the maximum is unbounded") != std::string::npos);
  // +inf (minimize) is a forbidden pair: row 0 and row 1 both may only use column 0.
  c = {1, inf, inf, 2, inf, inf};
  msg = error_of<ladle::domain_error>(solve(ladle::assignment_goal::minimize));
  CHECK(msg.find("admits no assignment that avoids the forbidden (+inf) entries: row 1") !=
        std::string::npos);
  CHECK(out == std::vector<index_t>(2, 7));
  c = {1, 2, 3, 4, 5, 6};
  std::vector<index_t> short_out(1);
  CHECK(error_of<ladle::invalid_argument>([&] {
          ladle::linear_sum_assignment(ladle::make_view(c.data(), {2, 3}),
                                       ladle::make_view(short_out.data(), {1}));
        }).find("'assignment' has length 1 but 2 was expected") != std::string::npos);
  CHECK(out == std::vector<index_t>(2, 7));
}

// ---- weight matching ---------------------------------------------------------------------------

namespace {

// A 4-layer MLP 6 -> 16 -> 12 -> 9 -> 4 with biases, a per-unit scale after layer 1 ("ln1.scale",
// applied as h *= scale before the ReLU) and an integer tensor that no spec names.
struct mlp {
  std::vector<index_t> dims{6, 16, 12, 9, 4};
  std::vector<std::vector<float>> w, b;
  std::vector<float> scale;
  std::int64_t steps = 1234;

  mlp(std::uint64_t seed, bool dyadic = false) {
    ladle::philox g(ladle::seed{seed});
    auto draw = [&] {
      return dyadic ? static_cast<float>(static_cast<int>(ladle::uniform_u32(g, 17)) - 8) / 8.0f
                    : static_cast<float>(ladle::normal(g) * 0.5);
    };
    for (std::size_t l = 0; l + 1 < dims.size(); ++l) {
      w.emplace_back(static_cast<std::size_t>(dims[l + 1] * dims[l]));
      b.emplace_back(static_cast<std::size_t>(dims[l + 1]));
      for (auto& x : w.back()) x = draw();
      for (auto& x : b.back()) x = draw();
    }
    scale.resize(static_cast<std::size_t>(dims[2]));
    for (auto& x : scale) x = draw();
  }
  ladle::state_dict dict(const std::string& source) const {
    ladle::state_dict d(source);
    for (std::size_t l = 0; l < w.size(); ++l) {
      d.add("fc" + std::to_string(l) + ".weight", ladle::make_view(w[l].data(), {dims[l + 1], dims[l]}));
      d.add("fc" + std::to_string(l) + ".bias", ladle::make_view(b[l].data(), {dims[l + 1]}));
    }
    d.add("ln1.scale", ladle::make_view(scale.data(), {dims[2]}));
    d.add("steps", ladle::dtype_v<std::int64_t>, {}, &steps);
    return d;
  }
};

ladle::mlp_permutation_spec mlp_spec(std::size_t layers = 4) {
  ladle::mlp_permutation_spec s;
  for (std::size_t l = 0; l < layers; ++l)
    s.layers.push_back({"fc" + std::to_string(l) + ".weight", "fc" + std::to_string(l) + ".bias", {}});
  if (layers == 4) s.layers[1].with_outputs = {"ln1.scale"};
  return s;
}

const float* values(const ladle::state_dict& d, const char* name) {
  return static_cast<const float*>(d.at(name).data);
}

// The forward pass in double from a state dict (the spec's layout), ReLU between layers.
std::vector<double> forward(const ladle::state_dict& d, const std::vector<index_t>& dims,
                            const std::vector<double>& x) {
  std::vector<double> h = x;
  for (std::size_t l = 0; l + 1 < dims.size(); ++l) {
    const float* w = values(d, ("fc" + std::to_string(l) + ".weight").c_str());
    const float* b = values(d, ("fc" + std::to_string(l) + ".bias").c_str());
    std::vector<double> next(static_cast<std::size_t>(dims[l + 1]));
    for (index_t i = 0; i < dims[l + 1]; ++i) {
      double s = b[i];
      for (index_t k = 0; k < dims[l]; ++k) s += static_cast<double>(w[i * dims[l] + k]) * h[static_cast<std::size_t>(k)];
      if (l == 1) s *= values(d, "ln1.scale")[i];
      next[static_cast<std::size_t>(i)] = (l + 2 < dims.size() && s < 0) ? 0 : s;
    }
    h = std::move(next);
  }
  return h;
}

std::vector<ladle::unit_permutation> random_permutations(const std::vector<index_t>& dims,
                                                         std::uint64_t seed) {
  ladle::philox g(ladle::seed{seed});
  std::vector<ladle::unit_permutation> p;
  for (std::size_t l = 1; l + 1 < dims.size(); ++l) {
    p.emplace_back(static_cast<std::size_t>(dims[l]));
    std::iota(p.back().begin(), p.back().end(), index_t{0});
    ladle::shuffle(p.back().begin(), p.back().end(), g);
  }
  return p;
}

bool same_bytes(const ladle::state_dict& x, const ladle::state_dict& y) {
  if (x.size() != y.size()) return false;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto& a = x.tensors()[i];
    const auto& b = y.tensors()[i];
    if (a.name != b.name || a.shape != b.shape || a.type != b.type ||
        std::memcmp(a.data, b.data, a.bytes()) != 0)
      return false;
  }
  return true;
}

}  // namespace

TEST_CASE("apply_permutation: the network computes the same function") {
  for (bool dyadic : {false, true}) {
    CAPTURE(dyadic);
    const mlp net(3, dyadic);
    const auto a = net.dict("a");
    const auto p = random_permutations(net.dims, 5);
    const auto b = ladle::apply_permutation(a, mlp_spec(), p);
    // The tensors moved as defined: W0'[i, k] = W0[P0[i], k], W1'[i, k] = W1[P1[i], P0[k]].
    CHECK(values(b.view(), "fc1.weight")[2 * 16 + 5] == net.w[1][static_cast<std::size_t>(p[1][2] * 16 + p[0][5])]);
    CHECK(values(b.view(), "ln1.scale")[7] == net.scale[static_cast<std::size_t>(p[1][7])]);
    CHECK(values(b.view(), "fc3.bias")[2] == net.b[3][2]);  // outputs never move
    CHECK(*static_cast<const std::int64_t*>(b.view().at("steps").data) == 1234);
    ladle::philox g(ladle::seed{9});
    double worst = 0;
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<double> x(6);
      for (auto& v : x) v = dyadic ? static_cast<double>(ladle::uniform_u32(g, 9)) - 4 : ladle::normal(g);
      const auto ya = forward(a, net.dims, x), yb = forward(b.view(), net.dims, x);
      for (std::size_t o = 0; o < ya.size(); ++o) {
        worst = std::max(worst, std::fabs(ya[o] - yb[o]) / std::max(1.0, std::fabs(ya[o])));
        if (dyadic) CHECK(ya[o] == yb[o]);  // every sum exact: bit for bit
      }
    }
    // Otherwise only the order of the double sums over hidden units changes.
    MESSAGE("worst relative output difference ", worst);
    CHECK(worst <= 1e-13);  // measured 6.6e-16 (random weights), 0 (dyadic)
    // Undo with the inverse permutations: the original bytes.
    auto inv = p;
    for (std::size_t l = 0; l < p.size(); ++l)
      for (std::size_t i = 0; i < p[l].size(); ++i) inv[l][static_cast<std::size_t>(p[l][i])] = static_cast<index_t>(i);
    CHECK(same_bytes(ladle::apply_permutation(b.view(), mlp_spec(), inv).view(), a));
  }
}

TEST_CASE("weight_matching: recovers a known permutation exactly") {
  const mlp net(21);
  const auto a = net.dict("a");
  const auto p = random_permutations(net.dims, 22);
  const auto b_owned = ladle::apply_permutation(a, mlp_spec(), p);
  const auto b = b_owned.view();
  const auto r = ladle::weight_matching(a, b, mlp_spec(), {});
  REQUIRE(r.permutations.size() == 3);
  for (std::size_t l = 0; l < 3; ++l)
    for (std::size_t i = 0; i < p[l].size(); ++i)
      CHECK(r.permutations[l][static_cast<std::size_t>(p[l][i])] == static_cast<index_t>(i));  // the inverse
  CHECK(r.converged);
  CHECK(same_bytes(ladle::apply_permutation(b, mlp_spec(), r.permutations).view(), a));
  std::vector<ladle::unit_permutation> identity;
  for (std::size_t l = 1; l + 1 < net.dims.size(); ++l) {
    identity.emplace_back(static_cast<std::size_t>(net.dims[l]));
    std::iota(identity.back().begin(), identity.back().end(), index_t{0});
  }
  CHECK(r.objective.back() == ladle::matching_objective(a, a, mlp_spec(), identity));
  CHECK(r.objective.front() == ladle::matching_objective(a, b, mlp_spec(), identity));
  CHECK(r.objective.front() < r.objective.back());
}

TEST_CASE("weight_matching: independent networks, a local optimum, determinism") {
  const mlp na(31), nb(32);
  const auto a = na.dict("a"), b = nb.dict("b");
  ladle::weight_matching_options o;
  o.seed = ladle::seed{4};
  const auto r = ladle::weight_matching(a, b, mlp_spec(), o);
  CHECK(r.converged);
  CHECK(r.sweeps == static_cast<index_t>(r.objective.size()) - 1);
  for (std::size_t s = 1; s < r.objective.size(); ++s) CHECK(r.objective[s] >= r.objective[s - 1]);
  CHECK(r.objective.back() > r.objective.front());
  CHECK(r.objective.back() == ladle::matching_objective(a, b, mlp_spec(), r.permutations));
  // Matching again from the aligned model finds nothing to gain: the identity, one sweep.
  const auto aligned = ladle::apply_permutation(b, mlp_spec(), r.permutations);
  const auto again = ladle::weight_matching(a, aligned.view(), mlp_spec(), o);
  CHECK(again.sweeps == 1);
  CHECK(again.objective.front() == r.objective.back());
  for (const auto& q : again.permutations)
    for (std::size_t i = 0; i < q.size(); ++i) CHECK(q[i] == static_cast<index_t>(i));
  // Same seed, same result.
  const auto r2 = ladle::weight_matching(a, b, mlp_spec(), o);
  CHECK(r2.permutations == r.permutations);
  CHECK(r2.objective == r.objective);
  // float64 copies of the same weights: the same permutations and objectives, bit for bit.
  std::vector<std::vector<double>> wide;
  wide.reserve(b.size());
  ladle::state_dict b64("b64");
  for (const auto& t : b.tensors()) {
    if (t.type != ladle::dtype_v<float>) continue;
    const auto* x = static_cast<const float*>(t.data);
    wide.emplace_back(x, x + t.elements());
    b64.add(t.name, ladle::dtype_v<double>, t.shape, wide.back().data());
  }
  const auto r64 = ladle::weight_matching(a, b64, mlp_spec(), o);
  CHECK(r64.permutations == r.permutations);
  CHECK(r64.objective == r.objective);
  // max_iterations caps the sweeps.
  o.max_iterations = 1;
  const auto one = ladle::weight_matching(a, b, mlp_spec(), o);
  CHECK(one.sweeps == 1);
  CHECK(one.objective.size() == 2);
}

TEST_CASE("weight_matching: one hidden layer is one assignment (scipy)") {
  std::ifstream f(LADLE_AVERAGING_TEST_DIR "/fixtures/weight_matching_fixture.txt");
  REQUIRE(f.good());
  double identity_objective, matched_objective;
  std::vector<index_t> perm(40);
  f >> identity_objective >> matched_objective;
  for (auto& p : perm) f >> p;
  REQUIRE(f);
  const std::vector<std::vector<index_t>> shapes = {{40, 7}, {40}, {5, 40}, {5}};
  const char* names[] = {"fc0.weight", "fc0.bias", "fc1.weight", "fc1.bias"};
  std::vector<std::vector<float>> storage;
  ladle::state_dict model[2] = {ladle::state_dict("a"), ladle::state_dict("b")};
  for (int m = 0; m < 2; ++m)
    for (int t = 0; t < 4; ++t) {
      index_t n = 1;
      for (auto d : shapes[static_cast<std::size_t>(t)]) n *= d;
      storage.emplace_back(static_cast<std::size_t>(n));
      for (index_t k = 0; k < n; ++k)
        storage.back()[static_cast<std::size_t>(k)] = static_cast<float>(
            static_cast<double>(ladle::derive_stream(1000 + 10 * m + t, static_cast<std::uint64_t>(k)) >> 40) *
                0x1p-24 * 2.0 - 1.0);
      model[m].add(names[t], ladle::dtype_v<float>, shapes[static_cast<std::size_t>(t)], storage.back().data());
    }
  const auto r = ladle::weight_matching(model[0], model[1], mlp_spec(2), {});
  CHECK(r.permutations[0] == perm);
  CHECK(r.sweeps == 2);  // one step, then a sweep that gains nothing
  CHECK(r.objective.size() == 3);
  CHECK(r.objective[1] == r.objective[2]);
  CHECK(std::fabs(r.objective[0] - identity_objective) <= 1e-12);
  CHECK(std::fabs(r.objective[1] - matched_objective) <= 1e-12);
}

TEST_CASE("singular_subspace_alignment: scipy's principal angles, and what permutations change") {
  namespace sf = subspace_fixture;
  const std::vector<index_t> dims = {4, 6, 7, 3};
  const float* w[2][3] = {{sf::model0_w0, sf::model0_w1, sf::model0_w2},
                          {sf::model1_w0, sf::model1_w1, sf::model1_w2}};
  ladle::mlp_permutation_spec spec;
  std::vector<ladle::state_dict> m(2);
  for (int k = 0; k < 2; ++k)
    for (std::size_t l = 0; l < 3; ++l)
      m[k].add("fc" + std::to_string(l) + ".weight", ladle::make_view(w[k][l], {dims[l + 1], dims[l]}));
  for (std::size_t l = 0; l < 3; ++l) spec.layers.push_back({"fc" + std::to_string(l) + ".weight", "", {}});
  for (const auto& e : sf::cases) {
    CAPTURE(e.layer);
    CAPTURE(e.k);
    const auto r = ladle::singular_subspace_alignment(m[0], m[1], spec, e.k);
    REQUIRE(r.size() == 3);
    const auto& got = r[static_cast<std::size_t>(e.layer)];
    CHECK(got.weight == "fc" + std::to_string(e.layer) + ".weight");
    const auto cap = static_cast<std::size_t>(std::min<index_t>(e.k, std::min(dims[e.layer], dims[e.layer + 1])));
    REQUIRE(got.left.size() == cap);
    REQUIRE(got.right.size() == cap);
    for (std::size_t i = 0; i < cap; ++i) {
      CHECK(got.left[i] == doctest::Approx(e.left[i]).epsilon(1e-9));
      CHECK(got.right[i] == doctest::Approx(e.right[i]).epsilon(1e-9));
    }
  }
  // A model against its own permuted copy: a hidden permutation moves the output side of the
  // layer before it (rows of W) and the input side of the layer after it (columns), so those
  // subspaces differ; the others are untouched (cosines 1); after weight matching all are 1.
  const mlp net(41);
  const auto a = net.dict("a");
  const auto b = ladle::apply_permutation(a, mlp_spec(), random_permutations(net.dims, 42));
  const auto before = ladle::singular_subspace_alignment(a, b.view(), mlp_spec(), 3);
  const auto match = ladle::weight_matching(a, b.view(), mlp_spec(), {});
  const auto aligned = ladle::apply_permutation(b.view(), mlp_spec(), match.permutations);
  const auto after = ladle::singular_subspace_alignment(a, aligned.view(), mlp_spec(), 3);
  REQUIRE(before.size() == 4);
  CHECK(before[0].right[2] == doctest::Approx(1.0).epsilon(1e-12));  // layer 0's inputs never move
  CHECK(before[3].left[2] == doctest::Approx(1.0).epsilon(1e-12));   // nor the last layer's outputs
  for (std::size_t l = 0; l < 3; ++l) CHECK(before[l].left[2] < 0.99);
  for (std::size_t l = 1; l < 4; ++l) CHECK(before[l].right[2] < 0.99);
  for (const auto& layer : after)
    for (double c : layer.left) CHECK(c == doctest::Approx(1.0).epsilon(1e-12));
  CHECK_THROWS_AS(ladle::singular_subspace_alignment(a, b.view(), mlp_spec(), 0), ladle::invalid_argument);
}

TEST_CASE("weight_matching / apply_permutation: errors name the tensor, layer and value") {
  mlp na(41), nb(42);
  const auto a = na.dict("a");
  // Mismatched shapes between the two models name the tensor and both sources.
  std::vector<float> wide(16 * 7);
  ladle::state_dict b("b");
  b.add("fc0.weight", ladle::make_view(wide.data(), {16, 7}));
  auto msg = error_of<ladle::invalid_argument>([&] { ladle::weight_matching(a, b, mlp_spec(), {}); });
  CHECK(msg.find("ladle::weight_matching") != std::string::npos);
  CHECK(msg.find("tensor 'fc0.weight': model 'a' has shape [16, 6], model 'b' has [16, 7]") != std::string::npos);
  // NaN in a weight: the tensor and the element.
  nb.w[2][5] = std::numeric_limits<float>::quiet_NaN();
  msg = error_of<ladle::domain_error>([&] { ladle::weight_matching(a, nb.dict("b"), mlp_spec(), {}); });
  CHECK(msg.find("tensor 'fc2.weight' of 'b' has nan at element 5") != std::string::npos);
  // A spec that does not fit the model.
  auto spec = mlp_spec();
  spec.layers[2].weight = "fc3.weight";
  spec.layers[3].weight = "fc2.weight";
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::apply_permutation(a, spec, {}); })
            .find("layer 2 weight 'fc3.weight' of 'a' has shape [4, 9]: its 9 inputs differ from "
                  "the 12 outputs of layer 1") != std::string::npos);
  spec = mlp_spec();
  spec.layers[0].bias = "fc9.bias";
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::apply_permutation(a, spec, {}); })
            .find("layer 0 bias 'fc9.bias' is not in model 'a'") != std::string::npos);
  spec = mlp_spec();
  spec.layers[2].with_outputs = {"fc1.bias"};
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::apply_permutation(a, spec, {}); })
            .find("tensor 'fc1.bias' (layer 2 with_outputs tensor) is named twice") != std::string::npos);
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::apply_permutation(a, mlp_spec(1), {}); })
            .find("has 1 layers; a chain needs at least 2") != std::string::npos);
  // Permutations that are not permutations.
  auto p = random_permutations(na.dims, 1);
  p[1][3] = p[1][4];
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::apply_permutation(a, mlp_spec(), p); })
            .find("permutation 1 has " + std::to_string(p[1][4]) + " twice (again at index 4)") != std::string::npos);
  p = random_permutations(na.dims, 1);
  p[2][0] = 9;
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::apply_permutation(a, mlp_spec(), p); })
            .find("permutation 2 has 9 at index 0, outside [0, 9)") != std::string::npos);
  p.pop_back();
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::matching_objective(a, a, mlp_spec(), p); })
            .find("'permutations' has 2 entries but the spec has 3 hidden layers") != std::string::npos);
  ladle::weight_matching_options o;
  o.max_iterations = 0;
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::weight_matching(a, a, mlp_spec(), o); })
            .find("'options.max_iterations' is 0") != std::string::npos);
  // Integer weights are refused by weight matching (apply_permutation moves any dtype).
  std::vector<std::int32_t> iw(16 * 6), iw2(12 * 16);
  ladle::state_dict ints("ints");
  ints.add("w0", ladle::make_view(iw.data(), {16, 6}));
  ints.add("w1", ladle::make_view(iw2.data(), {12, 16}));
  ladle::mlp_permutation_spec is;
  is.layers = {{"w0", "", {}}, {"w1", "", {}}};
  CHECK(error_of<ladle::invalid_argument>([&] { ladle::weight_matching(ints, ints, is, {}); })
            .find("tensor 'w0' of 'ints' has dtype int32; weight matching reads float32 or float64") != std::string::npos);
  std::iota(iw.begin(), iw.end(), 0);
  const auto moved = ladle::apply_permutation(ints, is, random_permutations({6, 16, 12}, 3));
  CHECK(static_cast<const std::int32_t*>(moved.view().at("w0").data)[6] ==
        6 * random_permutations({6, 16, 12}, 3)[0][1]);
  // The inputs were never modified.
  CHECK(na.w[0] == mlp(41).w[0]);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
