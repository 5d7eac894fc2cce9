// weighted / uniform averages: against a double-precision reference, bit identity for identical
// models, RNE and stochastic bfloat16 output, integer tensors, matching and weight errors.
#include "ladle/averaging.hpp"

#include <doctest/doctest.h>

#include "error_of.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {

std::uint32_t bits_of(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// ulp of |x| (spacing of floats at its binade), at least the subnormal spacing.
double ulp_of(double x) {
  const float f = static_cast<float>(std::fabs(x));
  if (f < std::numeric_limits<float>::min()) return std::ldexp(1.0, -149);
  int e;
  std::frexp(f, &e);
  return std::ldexp(1.0, e - 24);
}

// Independent bfloat16 round-to-nearest-even of a finite float.
std::uint16_t rne_bf16(float f) {
  const std::uint32_t u = bits_of(f);
  return static_cast<std::uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

std::vector<float> random_floats(std::mt19937& g, std::size_t n, float scale) {
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}


}  // namespace

TEST_CASE("weighted_average: float32 within stated ulps of a double reference") {
  std::mt19937 g(7);
  double worst_ratio[2] = {0, 0};  // worst error / bound seen, per mode
  for (int k : {1, 2, 3, 8, 17}) {
    for (std::size_t n : {std::size_t(1), std::size_t(7), std::size_t(67), std::size_t(1005),
                          std::size_t(4096 * 2 + 3)}) {
      std::vector<std::vector<float>> data;
      std::vector<ladle::state_dict> models;
      std::vector<double> w;
      std::uniform_real_distribution<double> wd(0.1, 3.0);
      for (int m = 0; m < k; ++m) {
        // mixed magnitudes so that cancellation happens
        data.push_back(random_floats(g, n, m % 2 ? 1.0f : 100.0f));
        w.push_back(wd(g));
      }
      for (int m = 0; m < k; ++m) {
        models.emplace_back("m" + std::to_string(m));
        models.back().add("w", ladle::make_view(data[m].data(), n));
      }
      double wsum = 0;
      for (double x : w) wsum += x;
      for (auto acc : {ladle::average_accumulation::running_mean,
                       ladle::average_accumulation::compensated}) {
        ladle::average_options o;
        o.accumulation = acc;
        o.chunk = 64;  // many chunks, with a tail
        const auto out = ladle::weighted_average(models, w, o);
        const auto v = out.values<float>("w");
        double worst = 0;
        for (std::size_t i = 0; i < n; ++i) {
          double ref = 0, big = 0;
          for (int m = 0; m < k; ++m) {
            ref += w[m] * data[m][i];
            big = std::max(big, std::fabs(double(data[m][i])));
          }
          ref /= wsum;
          worst = std::max(worst, std::fabs(v(i) - ref) / ulp_of(big));
        }
        CAPTURE(k);
        CAPTURE(n);
        if (acc == ladle::average_accumulation::running_mean) {
          CHECK(worst <= 2.0 * k - 1);
          worst_ratio[0] = std::max(worst_ratio[0], worst / (2.0 * k - 1));
        } else {
          CHECK(worst <= 2.0);
          worst_ratio[1] = std::max(worst_ratio[1], worst / 2.0);
        }
      }
    }
  }
  MESSAGE("worst error / stated bound: running_mean ", worst_ratio[0], ", compensated ",
          worst_ratio[1]);
}

TEST_CASE("weighted_average: identical models come back bit for bit, any weights and K") {
  std::vector<float> x = {0.0f, -0.0f, 1.0f, -1.5e-40f, 3.4e38f, -3.4e38f, 0.1f, 1.0f / 3.0f,
                          std::numeric_limits<float>::denorm_min(), 12345.678f};
  std::mt19937 g(3);
  for (int i = 0; i < 1000 + 5; ++i) x.push_back(std::ldexp(std::uniform_real_distribution<float>(-1, 1)(g), int(g() % 60) - 30));
  for (int k : {2, 3, 7, 10}) {
    std::vector<ladle::state_dict> models;
    for (int m = 0; m < k; ++m) {
      models.emplace_back("m" + std::to_string(m));
      models.back().add("w", ladle::make_view(x.data(), x.size()));
    }
    for (auto acc : {ladle::average_accumulation::running_mean,
                     ladle::average_accumulation::compensated}) {
      ladle::average_options o;
      o.accumulation = acc;
      std::vector<std::vector<double>> weight_sets = {{}, std::vector<double>(k, 1.0 / k)};
      std::vector<double> rw;
      for (int m = 0; m < k; ++m) rw.push_back(0.01 + (g() % 1000) / 7.0);
      weight_sets.push_back(rw);
      for (const auto& w : weight_sets) {
        const auto out = ladle::weighted_average(models, w, o);
        const auto v = out.values<float>("w");
        for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(bits_of(v(i)) == bits_of(x[i]));
      }
    }
  }
}

TEST_CASE("weighted_average: bfloat16 / float16 output are the RNE of the float32 result") {
  std::mt19937 g(11);
  const std::size_t n = 4096 + 67;
  auto a = random_floats(g, n, 2.0f), b = random_floats(g, n, 2.0f), c = random_floats(g, n, 0.01f);
  std::vector<ladle::state_dict> models(3);
  models[0].add("w", ladle::make_view(a.data(), n));
  models[1].add("w", ladle::make_view(b.data(), n));
  models[2].add("w", ladle::make_view(c.data(), n));
  const std::vector<double> w = {0.5, 0.3, 0.2};
  const auto f32 = ladle::weighted_average(models, w);
  ladle::average_options o;
  o.output = ladle::output_dtype::bfloat16;
  const auto bf = ladle::weighted_average(models, w, o);
  o.output = ladle::output_dtype::float16;
  const auto hf = ladle::weighted_average(models, w, o);
  const auto v = f32.values<float>("w");
  const auto vb = bf.values<ladle::bfloat16>("w");
  const auto vh = hf.values<ladle::half>("w");
  int ties = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint16_t got;
    std::memcpy(&got, &vb(i), 2);
    REQUIRE(got == rne_bf16(v(i)));
    REQUIRE(static_cast<float>(vh(i)) == static_cast<float>(Eigen::half(v(i))));
    ties += (bits_of(v(i)) & 0xffffu) == 0x8000u;
  }
  // exact ties: 1 + 2^-8 rounds to 1 (even), 1 + 3*2^-8 to 1 + 2^-6 ... via identical models
  std::vector<float> t = {1.0f + 1.0f / 256, 1.0f + 3.0f / 256, -1.0f - 1.0f / 256};
  std::vector<ladle::state_dict> tm(2);
  tm[0].add("t", ladle::make_view(t.data(), t.size()));
  tm[1].add("t", ladle::make_view(t.data(), t.size()));
  o.output = ladle::output_dtype::bfloat16;
  const auto tied = ladle::weighted_average(tm, {}, o);
  const auto tb = tied.values<ladle::bfloat16>("t");
  CHECK(static_cast<float>(tb(0)) == 1.0f);
  CHECK(static_cast<float>(tb(1)) == 1.0f + 4.0f / 256);
  CHECK(static_cast<float>(tb(2)) == -1.0f);
}

TEST_CASE("weighted_average: bfloat16 in, float32 accumulation, bfloat16 out") {
  std::mt19937 g(5);
  const std::size_t n = 1000 + 5;
  std::vector<std::vector<ladle::bfloat16>> d(4, std::vector<ladle::bfloat16>(n));
  for (auto& v : d)
    for (auto& x : v) x = ladle::bfloat16(std::uniform_real_distribution<float>(-4, 4)(g));
  std::vector<ladle::state_dict> models(4);
  for (int m = 0; m < 4; ++m) models[m].add("w", ladle::make_view(d[m].data(), n));
  const auto out = ladle::uniform_average(models);  // same_as_first: bfloat16
  const auto v = out.values<ladle::bfloat16>("w");
  for (std::size_t i = 0; i < n; ++i) {
    double ref = 0;
    for (int m = 0; m < 4; ++m) ref += static_cast<float>(d[m][i]);
    ref /= 4;
    // one bfloat16 rounding (<= 0.5 ulp of bf16 = 2^-8 relative) plus float32 accumulation
    CHECK(std::fabs(static_cast<float>(v(i)) - ref) <= std::ldexp(ulp_of(ref), 16) * 0.5 + 8 * ulp_of(4.0));
  }
}

TEST_CASE("weighted_average: stochastic rounding keyed by (seed, name, index)") {
  const std::size_t n = 20000 + 3;
  std::vector<float> x(n), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = 1.0f + 1.0f / 512 + static_cast<float>(i % 7) * std::ldexp(1.0f, -20);
    y[i] = x[i];
  }
  std::vector<ladle::state_dict> models(2);
  models[0].add("a", ladle::make_view(x.data(), n));
  models[0].add("b", ladle::make_view(y.data(), n));
  models[1].add("a", ladle::make_view(x.data(), n));
  models[1].add("b", ladle::make_view(y.data(), n));
  ladle::average_options o;
  o.output = ladle::output_dtype::bfloat16;
  o.rounding = ladle::output_rounding::stochastic;
  o.rounding_seed = ladle::seed{99};
  const auto r1 = ladle::weighted_average(models, {}, o);
  o.chunk = 100;  // different chunking, parallel: same bits
  const auto r2 = ladle::weighted_average(ladle::par, models, {}, o);
  const auto a1 = r1.values<ladle::bfloat16>("a"), a2 = r2.values<ladle::bfloat16>("a");
  const auto b1 = r1.values<ladle::bfloat16>("b");
  std::size_t differ_by_name = 0;
  double mean = 0, ref = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint16_t p, q, r;
    std::memcpy(&p, &a1(i), 2);
    std::memcpy(&q, &a2(i), 2);
    std::memcpy(&r, &b1(i), 2);
    REQUIRE(p == q);
    const std::uint16_t lo = static_cast<std::uint16_t>(bits_of(x[i]) >> 16);
    REQUIRE((p == lo || p == lo + 1));  // one of the two neighbours
    differ_by_name += p != r;
    mean += static_cast<float>(a1(i));
    ref += x[i];
  }
  CHECK(differ_by_name > n / 4);  // another name, another stream
  // unbiased: the mean of the rounded values tracks the mean of the inputs (bf16 ulp here is
  // 2^-7; the standard error of the mean over n draws is below 2^-7 / sqrt(n) / 2)
  CHECK(std::fabs(mean / n - ref / n) < 4 * std::ldexp(1.0, -7) / std::sqrt(double(n)));
  o.rounding_seed = ladle::seed{100};
  const auto r3 = ladle::weighted_average(models, {}, o);
  CHECK(std::memcmp(r3.values<ladle::bfloat16>("a").data(), a1.data(), 2 * n) != 0);
  // stochastic rounding needs bfloat16 output
  o.output = ladle::output_dtype::float32;
  CHECK(error_of([&] { ladle::weighted_average(models, {}, o); })
            .find("needs options.output = output_dtype::bfloat16") != std::string::npos);
}

TEST_CASE("weighted_average: integer tensors are copied from the first model or refused") {
  float w1[3] = {1, 2, 3}, w2[3] = {3, 4, 5};
  std::int64_t s1 = 100, s2 = 900;
  std::int32_t ids1[2] = {7, 8}, ids2[2] = {1, 2};
  std::vector<ladle::state_dict> models = {ladle::state_dict("a"), ladle::state_dict("b")};
  models[0].add("w", ladle::make_view(w1, 3));
  models[0].add("bn.num_batches_tracked", ladle::dtype_v<std::int64_t>, {}, &s1);
  models[0].add("ids", ladle::make_view(ids1, 2));
  models[1].add("ids", ladle::make_view(ids2, 2));
  models[1].add("w", ladle::make_view(w2, 3));
  models[1].add("bn.num_batches_tracked", ladle::dtype_v<std::int64_t>, {}, &s2);
  const auto out = ladle::uniform_average(models);
  CHECK(out.values<std::int64_t>("bn.num_batches_tracked")(0) == 100);
  CHECK(out.values<std::int32_t>("ids")(1) == 8);
  CHECK(out.values<float>("w")(2) == 4.0f);
  CHECK(out.dict().tensors()[1].name == "bn.num_batches_tracked");  // first model's order
  ladle::average_options o;
  o.integers = ladle::integer_tensors::refuse;
  const std::string m = error_of([&] { ladle::uniform_average(models, o); });
  CHECK(m.find("tensor 'bn.num_batches_tracked' of 'a' has integer dtype int64") != std::string::npos);
  CHECK(s1 == 100);
  CHECK(w1[0] == 1.0f);
}

TEST_CASE("weighted_average: mismatches name the tensor and both models") {
  float a[6] = {}, b[6] = {};
  ladle::half h[6] = {};
  auto two = [&](auto&& fill_second) {
    std::vector<ladle::state_dict> m = {ladle::state_dict("a.safetensors"),
                                        ladle::state_dict("b.safetensors")};
    m[0].add("w", ladle::make_view(a, {2, 3}));
    fill_second(m[1]);
    return error_of([&] { ladle::uniform_average(m); });
  };
  CHECK(two([&](ladle::state_dict& s) { s.add("w", ladle::make_view(b, {3, 2})); })
            .find("tensor 'w': model 'a.safetensors' has shape [2, 3], model 'b.safetensors' has [3, 2]") !=
        std::string::npos);
  CHECK(two([&](ladle::state_dict& s) { s.add("v", ladle::make_view(b, {2, 3})); })
            .find("tensor 'w' is in model 'a.safetensors' but not in model 'b.safetensors'") !=
        std::string::npos);
  CHECK(two([&](ladle::state_dict& s) {
          s.add("w", ladle::make_view(b, {2, 3}));
          s.add("extra", ladle::make_view(b, {6}));
        }).find("tensor 'extra' is in model 'b.safetensors' but not in model 'a.safetensors'") !=
        std::string::npos);
  CHECK(two([&](ladle::state_dict& s) { s.add("w", ladle::make_view(h, {2, 3})); })
            .find("model 'a.safetensors' has dtype float32, model 'b.safetensors' has float16") !=
        std::string::npos);
  // mixed float dtypes on request
  std::vector<ladle::state_dict> m(2);
  float fa[2] = {1.0f, 2.0f};
  ladle::half hb[2] = {ladle::half(3.0f), ladle::half(4.0f)};
  m[0].add("w", ladle::make_view(fa, 2));
  m[1].add("w", ladle::make_view(hb, 2));
  ladle::average_options o;
  o.floats = ladle::float_dtypes::may_differ;
  const auto r = ladle::uniform_average(m, o);
  CHECK(r.values<float>("w")(0) == 2.0f);
  CHECK(r.values<float>("w")(1) == 3.0f);
  // duplicate names, weights
  ladle::state_dict s("x");
  s.add("w", ladle::make_view(a, 6));
  CHECK(error_of([&] { s.add("w", ladle::make_view(b, 6)); }).find("tensor 'w' appears twice in 'x'") !=
        std::string::npos);
  std::vector<ladle::state_dict> ok = {s, s};
  CHECK(error_of([&] { ladle::weighted_average(ok, {1.0}); }).find("has 1 entries for 2 models") !=
        std::string::npos);
  CHECK(error_of([&] { ladle::weighted_average(ok, {1.0, -0.5}); }).find("entry 1 is -0.5") !=
        std::string::npos);
  CHECK(error_of([&] { ladle::weighted_average(ok, {0.0, std::nan("")}); }).find("entry 1 is nan") !=
        std::string::npos);
  CHECK(error_of([&] { ladle::weighted_average(ok, {0.0, 0.0}); }).find("sum to 0") != std::string::npos);
  CHECK(error_of([&] { ladle::weighted_average(std::vector<ladle::state_dict>{}, {}); })
            .find("'models' is empty") != std::string::npos);
}

TEST_CASE("weighted_average_into: in place into the first model, overlap refused") {
  std::vector<float> a = {1, 2, 3, 4, 5}, b = {3, 4, 5, 6, 7};
  ladle::mutable_state_dict out("out");
  out.add("w", ladle::make_view(a.data(), 5));
  std::vector<ladle::state_dict> models(2);
  models[0].add("w", ladle::make_view(a.data(), 5));
  models[1].add("w", ladle::make_view(b.data(), 5));
  ladle::weighted_average_into(models, {1, 3}, out);  // a <- (a + 3b) / 4
  CHECK(a[0] == 2.5f);
  CHECK(a[4] == 6.5f);
  // shifted overlap refused, inputs untouched
  std::vector<float> big(10, 1.0f), c(5, 2.0f);
  ladle::mutable_state_dict shifted("shifted");
  shifted.add("w", ladle::make_view(big.data() + 2, 5));
  std::vector<ladle::state_dict> m2(2);
  m2[0].add("w", ladle::make_view(big.data(), 5));
  m2[1].add("w", ladle::make_view(c.data(), 5));
  CHECK(error_of([&] { ladle::weighted_average_into(m2, {}, shifted); }).find("overlaps") !=
        std::string::npos);
  CHECK(big[3] == 1.0f);
  // integer output dtype must match
  std::int32_t i1[2] = {1, 2};
  std::int64_t o64[2] = {};
  std::vector<ladle::state_dict> mi(1);
  mi[0].add("i", ladle::make_view(i1, 2));
  ladle::mutable_state_dict oi("oi");
  oi.add("i", ladle::make_view(o64, 2));
  CHECK(error_of([&] { ladle::weighted_average_into(mi, {}, oi); }).find("has dtype int64") !=
        std::string::npos);
}

// The documented recurrence, replayed element by element: m = x0; m += c (x - m) by one fma,
// skipped where x == m; c = 1/2, 1/3, ... (uniform). Returns how many elements of `got` differ.
std::size_t recurrence_mismatches(const std::vector<std::vector<float>>& x, const float* got) {
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < x[0].size(); ++i) {
    float r = x[0][i];
    for (std::size_t m = 1; m < x.size(); ++m) {
      const float c = static_cast<float>(1.0 / static_cast<double>(m + 1));
      const float d = x[m][i] - r;
      const float t = std::fma(c, d, r);
      r = d == 0.0f ? r : t;
    }
    wrong += bits_of(got[i]) != bits_of(r);
  }
  return wrong;
}

TEST_CASE("weighted_average: every read and store path gives the recurrence's bits") {
  // K = 3 float32 models of 32 MiB + 29 elements: the output is large enough to be written with
  // streaming stores straight from registers, and 29 leaves a two-vector step, a one-vector step
  // and a scalar tail on AVX-512 and on AVX2. The same average with the middle model given as
  // float64 (the same values, widened exactly) takes the widening path. Both must equal the
  // recurrence.
  std::mt19937 g(11);
  const std::size_t n = (std::size_t(32) << 20) / 4 + 29;
  std::vector<std::vector<float>> x;
  for (int m = 0; m < 3; ++m) x.push_back(random_floats(g, n, 1.0f));
  for (std::size_t i = 0; i < n; i += 101) x[1][i] = x[0][i];  // some steps are skipped
  std::vector<double> x1_wide(x[1].begin(), x[1].end());
  std::vector<ladle::state_dict> floats(3), mixed(3);
  for (int m = 0; m < 3; ++m) floats[m].add("w", ladle::make_view(x[m].data(), n));
  mixed[0].add("w", ladle::make_view(x[0].data(), n));
  mixed[1].add("w", ladle::make_view(x1_wide.data(), n));
  mixed[2].add("w", ladle::make_view(x[2].data(), n));
  ladle::average_options o;
  o.output = ladle::output_dtype::float32;
  o.floats = ladle::float_dtypes::may_differ;
  CHECK(recurrence_mismatches(x, ladle::uniform_average(floats, o).values<float>("w").data()) == 0);
  CHECK(recurrence_mismatches(x, ladle::uniform_average(mixed, o).values<float>("w").data()) == 0);

  SUBCASE("into a caller's buffer one float past a vector boundary, and into an input") {
    // The streamed stores need a scalar head up to the vector boundary; the output may also be
    // one of the inputs exactly (each element's inputs are read before it is written).
    std::vector<float> buffer(n + 1, -1.0f);
    ladle::mutable_state_dict shifted("shifted");
    shifted.add("w", ladle::make_view(buffer.data() + 1, n));
    ladle::weighted_average_into(floats, {}, shifted);
    CHECK(recurrence_mismatches(x, buffer.data() + 1) == 0);
    CHECK(buffer[0] == -1.0f);
    const auto expected = x;
    ladle::mutable_state_dict onto_second("onto x1");
    onto_second.add("w", ladle::make_view(x[1].data(), n));
    ladle::weighted_average_into(floats, {}, onto_second);
    CHECK(recurrence_mismatches(expected, x[1].data()) == 0);
  }
  SUBCASE("small outputs (cached stores) and bfloat16 inputs read in place") {
    // 8 models of 4096 * 3 + 29 elements, every length from one vector to several chunks; the
    // bfloat16 models hold the same values rounded to bfloat16, replayed from their widening.
    for (const std::size_t len : {std::size_t(1), std::size_t(15), std::size_t(16), std::size_t(29),
                                  std::size_t(4096 * 3 + 29)}) {
      CAPTURE(len);
      std::vector<std::vector<float>> y;
      std::vector<std::vector<ladle::bfloat16>> yb;
      for (int m = 0; m < 8; ++m) {
        y.push_back(random_floats(g, len, 1.0f));
        std::vector<ladle::bfloat16> b(len);
        ladle::convert_n(y.back().data(), b.data(), static_cast<ladle::index_t>(len));
        yb.push_back(std::move(b));
      }
      std::vector<std::vector<float>> yb_wide(8, std::vector<float>(len));
      std::vector<ladle::state_dict> fm(8), bm(8);
      for (int m = 0; m < 8; ++m) {
        for (std::size_t i = 0; i < len; ++i) yb_wide[m][i] = ladle::to_float(yb[m][i]);
        fm[m].add("w", ladle::make_view(y[m].data(), len));
        bm[m].add("w", ladle::make_view(yb[m].data(), len));
      }
      CHECK(recurrence_mismatches(y, ladle::uniform_average(fm, o).values<float>("w").data()) == 0);
      CHECK(recurrence_mismatches(yb_wide, ladle::uniform_average(bm, o).values<float>("w").data()) == 0);
    }
  }
}

TEST_CASE("weighted_average: zero-weight models are matched but not read; par == seq") {
  std::mt19937 g(1);
  const std::size_t n = 3 * 4096 * 64 + 17;  // several parallel grains
  auto a = random_floats(g, n, 1.0f), b = random_floats(g, n, 1.0f);
  std::vector<float> poison(n, std::numeric_limits<float>::quiet_NaN());
  std::vector<ladle::state_dict> models(3);
  models[0].add("w", ladle::make_view(a.data(), n));
  models[1].add("w", ladle::make_view(poison.data(), n));
  models[2].add("w", ladle::make_view(b.data(), n));
  const auto s = ladle::weighted_average(models, {1, 0, 1});
  const auto p = ladle::weighted_average(ladle::par, models, {1, 0, 1});
  const auto vs = s.values<float>("w"), vp = p.values<float>("w");
  CHECK(std::memcmp(vs.data(), vp.data(), 4 * n) == 0);
  for (std::size_t i = 0; i < n; i += 997) CHECK(std::fabs(vs(i) - 0.5 * (a[i] + b[i])) <= 1e-7);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
