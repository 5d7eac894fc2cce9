// Task arithmetic, TIES, DARE, SLERP, WiSE-FT and the interpolation barrier: hand-computed cases
// and an independent numpy implementation (fixtures/make_merge_fixture.py).
#include "ladle/averaging.hpp"

#include <doctest/doctest.h>

#include "error_of.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
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


ladle::state_dict dict1(const std::string& src, std::vector<float>& v) {
  ladle::state_dict d(src);
  d.add("w", ladle::make_view(v.data(), v.size()));
  return d;
}

std::vector<float> as_vector(const ladle::owned_state_dict& d, const char* name = "w") {
  const auto v = d.values<float>(name);
  return std::vector<float>(v.data(), v.data() + v.size());
}

double ulp_of(float x) {
  int e;
  std::frexp(std::fabs(x), &e);
  return std::fabs(x) < 1e-37f ? 1e-45 : std::ldexp(1.0, e - 24);
}

struct fixture {
  // 10 groups of (a: 37x29, b: 7)
  std::vector<std::vector<float>> a, b;
  fixture() {
    std::ifstream f(LADLE_AVERAGING_TEST_DIR "/fixtures/merge_fixture.bin", std::ios::binary);
    REQUIRE(f.good());
    for (int g = 0; g < 10; ++g) {
      a.emplace_back(37 * 29);
      b.emplace_back(7);
      f.read(reinterpret_cast<char*>(a.back().data()), 4 * 37 * 29);
      f.read(reinterpret_cast<char*>(b.back().data()), 4 * 7);
    }
    REQUIRE(f.good());
  }
  ladle::state_dict dict(int g) {
    ladle::state_dict d("fixture " + std::to_string(g));
    d.add("a", ladle::make_view(a[g].data(), {37, 29}));
    d.add("b", ladle::make_view(b[g].data(), 7));
    return d;
  }
};

double worst_ulps(const ladle::owned_state_dict& got, fixture& f, int g) {
  double worst = 0;
  const auto va = got.values<float>("a");
  const auto vb = got.values<float>("b");
  for (std::size_t i = 0; i < f.a[g].size(); ++i)
    worst = std::max(worst, std::fabs(va(i) - f.a[g][i]) / ulp_of(f.a[g][i]));
  for (std::size_t i = 0; i < 7; ++i) worst = std::max(worst, std::fabs(vb(i) - f.b[g][i]) / ulp_of(f.b[g][i]));
  return worst;
}

}  // namespace

TEST_CASE("merges: agree with an independent numpy implementation") {
  fixture f;
  const auto base = f.dict(0);
  const std::vector<ladle::state_dict> models = {f.dict(1), f.dict(2), f.dict(3)};
  ladle::merge_options ta;
  ta.weights = {1, 0.5, 2};
  ta.lambda = 0.7;
  CHECK(worst_ulps(ladle::merge_task_vectors(base, models, ta), f, 4) <= 1.0);
  ladle::merge_options ties;
  ties.method = ladle::merge_method::ties;
  ties.density = 0.3;
  CHECK(worst_ulps(ladle::merge_task_vectors(base, models, ties), f, 5) <= 1.0);
  CHECK(worst_ulps(ladle::slerp(models[0], models[1], 0.3), f, 6) <= 1.0);
  CHECK(worst_ulps(ladle::slerp(f.dict(7), f.dict(8), 0.4), f, 9) <= 1.0);  // near-parallel: lerp
}

TEST_CASE("merges: hand-computed task arithmetic, TIES and SLERP") {
  std::vector<float> base = {1, 1}, m1 = {2, 0}, m2 = {0, 3};
  ladle::merge_options ta;
  ta.lambda = 0.5;
  CHECK(as_vector(ladle::merge_task_vectors(dict1("base", base), {dict1("m1", m1), dict1("m2", m2)}, ta)) ==
        std::vector<float>{1.0f, 1.5f});

  std::vector<float> z = {0, 0, 0, 0}, t1 = {3, -1, 0.5f, 2}, t2 = {-2, -2, 1, 0}, t3 = {1, 4, -0.5f, 0};
  const std::vector<ladle::state_dict> ms = {dict1("t1", t1), dict1("t2", t2), dict1("t3", t3)};
  ladle::merge_options ties;
  ties.method = ladle::merge_method::ties;
  // no trim: signs of [2, 1, 1, 2] are +; disjoint means [mean(3,1), 4, mean(0.5,1), 2]
  CHECK(as_vector(ladle::merge_task_vectors(dict1("base", z), ms, ties)) ==
        std::vector<float>{2.0f, 4.0f, 0.75f, 2.0f});
  // density 0.5 keeps 2 of 4 per model: [3,0,0,2], [-2,-2,0,0], [1,4,0,0]; mass [2,2,0,2]
  ties.density = 0.5;
  CHECK(as_vector(ladle::merge_task_vectors(dict1("base", z), ms, ties)) ==
        std::vector<float>{2.0f, 4.0f, 0.0f, 2.0f});
  // ties at the threshold keep the lowest indices
  std::vector<float> tie = {1, -1, 1, 0.5f};
  CHECK(as_vector(ladle::merge_task_vectors(dict1("base", z), {dict1("tie", tie)}, ties)) ==
        std::vector<float>{1.0f, -1.0f, 0.0f, 0.0f});

  std::vector<float> ea = {1, 0}, eb = {0, 1};
  const auto s = as_vector(ladle::slerp(dict1("a", ea), dict1("b", eb), 0.5));
  CHECK(s[0] == doctest::Approx(std::sqrt(0.5)).epsilon(1e-7));
  CHECK(s[1] == doctest::Approx(std::sqrt(0.5)).epsilon(1e-7));
  std::vector<float> pa = {1, 2}, pb = {2, 4};  // parallel: lerp
  CHECK(as_vector(ladle::slerp(dict1("a", pa), dict1("b", pb), 0.5)) == std::vector<float>{1.5f, 3.0f});
  std::vector<float> zero = {0, 0};  // a zero vector: lerp, no NaN
  CHECK(as_vector(ladle::slerp(dict1("a", zero), dict1("b", pb), 0.25)) == std::vector<float>{0.5f, 1.0f});
}

TEST_CASE("DARE: drop rate, exact rescale, masks keyed by (seed, name, model, index)") {
  const std::size_t n = 20000;
  std::vector<float> base(n, 0.0f), m(n);
  for (std::size_t i = 0; i < n; ++i) m[i] = 0.001f * static_cast<float>(i % 97) + 0.5f;
  ladle::merge_options o;
  o.method = ladle::merge_method::dare_linear;
  o.drop_rate = 0.3;
  o.seed = ladle::seed{5};
  const auto r = as_vector(ladle::merge_task_vectors(dict1("base", base), {dict1("m", m)}, o));
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const bool keep = ladle::dare_keeps(o.seed, "w", 0, i, 0.3);
    REQUIRE(r[i] == (keep ? m[i] / 0.7f : 0.0f));
    kept += keep;
  }
  // Binomial(n, 0.7): within 4 standard deviations
  CHECK(std::fabs(double(kept) - 0.7 * n) < 4 * std::sqrt(n * 0.21));
  // same seed: same bits; other seed or other model index: other masks
  CHECK(as_vector(ladle::merge_task_vectors(dict1("base", base), {dict1("m", m)}, o)) == r);
  std::size_t differ_model = 0, differ_name = 0;
  for (std::size_t i = 0; i < 2000; ++i) {
    differ_model += ladle::dare_keeps(o.seed, "w", 0, i, 0.3) != ladle::dare_keeps(o.seed, "w", 1, i, 0.3);
    differ_name += ladle::dare_keeps(o.seed, "w", 0, i, 0.3) != ladle::dare_keeps(o.seed, "v", 0, i, 0.3);
  }
  CHECK(differ_model > 500);
  CHECK(differ_name > 500);
  // p = 0 is task arithmetic
  o.drop_rate = 0;
  CHECK(as_vector(ladle::merge_task_vectors(dict1("base", base), {dict1("m", m)}, o)) == m);
  // DARE-TIES: two models of opposite sign where both kept: the elected sign's mean
  std::vector<float> up(n, 1.0f), down(n, -0.5f);
  o.method = ladle::merge_method::dare_ties;
  o.drop_rate = 0.5;
  const auto dt = as_vector(ladle::merge_task_vectors(dict1("base", base), {dict1("up", up), dict1("down", down)}, o));
  for (std::size_t i = 0; i < n; i += 7) {
    const bool k0 = ladle::dare_keeps(o.seed, "w", 0, i, 0.5), k1 = ladle::dare_keeps(o.seed, "w", 1, i, 0.5);
    const float want = k0 ? 2.0f : (k1 ? -1.0f : 0.0f);  // kept up: 1/0.5 = 2 beats -0.5/0.5 = -1
    REQUIRE(dt[i] == want);
  }
}

TEST_CASE("wise_ft and interpolation_barrier") {
  std::vector<float> a(67), b(67);
  for (int i = 0; i < 67; ++i) {
    a[i] = 1.0f + i * 0.01f;
    b[i] = -a[i];
  }
  CHECK(as_vector(ladle::wise_ft(dict1("zs", a), dict1("ft", b), 0.0)) == a);
  CHECK(as_vector(ladle::wise_ft(dict1("zs", a), dict1("ft", b), 1.0)) == b);
  const auto mid = as_vector(ladle::wise_ft(dict1("zs", a), dict1("ft", b), 0.75));
  for (int i = 0; i < 67; ++i) CHECK(std::fabs(mid[i] - (0.25 * a[i] + 0.75 * b[i])) <= 2 * ulp_of(a[i]));
  // L(theta) = -sum theta^2 along a -> -a: L(lambda) = -(1 - 2 lambda)^2 S, barrier S at 0.5
  double s = 0;
  for (float x : a) s += double(x) * x;
  int calls = 0;
  const auto r = ladle::interpolation_barrier(dict1("a", a), dict1("b", b), [&](const ladle::state_dict& d) {
    ++calls;
    const auto& t = d.at("w");
    const float* p = static_cast<const float*>(t.data);
    double l = 0;
    for (ladle::index_t i = 0; i < t.elements(); ++i) l -= double(p[i]) * p[i];
    return l;
  });
  CHECK(calls == 25);
  CHECK(r.worst == 12);
  CHECK(r.lambdas[12] == 0.5);
  CHECK(r.barrier == doctest::Approx(s).epsilon(1e-6));
  CHECK(error_of([&] { ladle::interpolation_barrier(dict1("a", a), dict1("b", b), nullptr); })
            .find("'evaluate' is empty") != std::string::npos);
  CHECK(error_of([&] { ladle::wise_ft(dict1("a", a), dict1("b", b), 1.5); }).find("'alpha' must be in [0, 1]") !=
        std::string::npos);
}

TEST_CASE("merges: errors") {
  std::vector<float> z = {0, 0}, m = {1, 2}, m3 = {1, 2, 3};
  std::int64_t step = 3;
  ladle::merge_options o;
  o.method = ladle::merge_method::ties;
  o.density = 0;
  CHECK(error_of([&] { ladle::merge_task_vectors(dict1("b", z), {dict1("m", m)}, o); })
            .find("'options.density' must be in (0, 1], got 0") != std::string::npos);
  o.method = ladle::merge_method::dare_linear;
  o.drop_rate = 1;
  CHECK(error_of([&] { ladle::merge_task_vectors(dict1("b", z), {dict1("m", m)}, o); })
            .find("'options.drop_rate' must be in [0, 1), got 1") != std::string::npos);
  CHECK(error_of([&] { ladle::merge_task_vectors(dict1("base", z), {dict1("m3", m3)}); })
            .find("tensor 'w': model 'base' has shape [2], model 'm3' has [3]") != std::string::npos);
  ladle::state_dict bi = dict1("base", z), mi = dict1("m", m);
  bi.add("step", ladle::dtype_v<std::int64_t>, {}, &step);
  mi.add("step", ladle::dtype_v<std::int64_t>, {}, &step);
  const auto r = ladle::merge_task_vectors(bi, {mi});
  CHECK(r.values<std::int64_t>("step")(0) == 3);
  ladle::merge_options refuse;
  refuse.integers = ladle::integer_tensors::refuse;
  CHECK(error_of([&] { ladle::merge_task_vectors(bi, {mi}, refuse); })
            .find("tensor 'step' of 'base' has integer dtype int64") != std::string::npos);
  CHECK(error_of([&] { ladle::slerp(bi, mi, -0.1); }).find("'t' must be in [0, 1]") != std::string::npos);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
