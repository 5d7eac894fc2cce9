// EMA decay schedules (timm / TF), EMA and running-mean (SWA / Polyak) updates over caller
// buffers, and merge() of running means.
#include "ladle/averaging.hpp"

#include <doctest/doctest.h>

#include "error_of.hpp"

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

namespace {


double ulp_of(double x) {
  int e;
  std::frexp(static_cast<float>(std::fabs(x)), &e);
  return std::fabs(x) < 1e-30 ? 1e-45 : std::ldexp(1.0, e - 24);
}

}  // namespace

TEST_CASE("ema_decay: timm and TF warm-up schedules") {
  ladle::ema_options t;
  t.warmup = ladle::ema_warmup::timm;
  t.decay = 1.0;  // uncapped, to read the curve itself
  // timm: steps 0 and 1 copy (decay 0); step 2 is s = 1: 1 - 2^(-2/3)
  CHECK(ladle::ema_decay(t, 0) == 0.0);
  CHECK(ladle::ema_decay(t, 1) == 0.0);
  CHECK(ladle::ema_decay(t, 2) == doctest::Approx(0.370039475).epsilon(1e-9));
  // crowsonkb's note: gamma 1, power 2/3 reaches 0.999 at ~31.6k steps, 0.9999 at ~1M
  CHECK(ladle::ema_decay(t, 31623 + 1) == doctest::Approx(0.999).epsilon(1e-6));
  CHECK(ladle::ema_decay(t, 1000000 + 1) == doctest::Approx(0.9999).epsilon(1e-7));
  t.decay = 0.99;
  CHECK(ladle::ema_decay(t, 1000000) == 0.99);  // capped
  t.min_decay = 0.5;
  CHECK(ladle::ema_decay(t, 2) == 0.5);  // floored
  t.update_after_step = 10;
  CHECK(ladle::ema_decay(t, 11) == 0.0);
  CHECK(ladle::ema_decay(t, 12) == 0.5);
  ladle::ema_options f;
  f.warmup = ladle::ema_warmup::tf;
  f.decay = 0.999;
  CHECK(ladle::ema_decay(f, 0) == doctest::Approx(0.1));
  CHECK(ladle::ema_decay(f, 90) == doctest::Approx(0.91));
  CHECK(ladle::ema_decay(f, 1000000) == 0.999);
  ladle::ema_options n;
  n.update_every = 4;
  CHECK(ladle::ema_updates_at(n, 8));
  CHECK(!ladle::ema_updates_at(n, 9));
  n.decay = 1.5;
  CHECK(error_of([&] { ladle::ema_decay(n, 1); }).find("'options.decay' must be in [0, 1], got 1.5") !=
        std::string::npos);
}

TEST_CASE("ema_update: constant input is a fixed point; a step approaches as 1 - d^t") {
  const std::size_t n = 1000 + 5;
  std::mt19937 g(2);
  std::vector<float> x(n), avg;
  for (auto& v : x) v = std::uniform_real_distribution<float>(-3, 3)(g);
  avg = x;
  ladle::ema_options o;
  o.decay = 0.9;
  for (int step = 0; step < 50; ++step)
    ladle::ema_update(ladle::make_view(avg.data(), n), ladle::make_view(x.data(), n), o, step);
  CHECK(std::memcmp(avg.data(), x.data(), 4 * n) == 0);
  // step input: avg starts at 0, x = 1: after t updates avg = 1 - d^t (double reference)
  std::vector<float> a(67, 0.0f), one(67, 1.0f);
  for (int t = 1; t <= 40; ++t) {
    ladle::ema_update(ladle::make_view(a.data(), 67), ladle::make_view(one.data(), 67), o, t);
    const double ref = 1.0 - std::pow(0.9, t);
    CHECK(std::fabs(a[66] - ref) <= 4 * t * ulp_of(1.0));
  }
  // update_every: off-grid steps leave avg untouched
  o.update_every = 3;
  const float before = a[0];
  ladle::ema_update(ladle::make_view(a.data(), 67), ladle::make_view(x.data(), 67), o, 4);
  CHECK(a[0] == before);
  // timm warm-up: the first update copies exactly, even far from avg
  ladle::ema_options t;
  t.warmup = ladle::ema_warmup::timm;
  std::vector<float> big(7, 1e30f), small(7, 1.0f);
  ladle::ema_update(ladle::make_view(big.data(), 7), ladle::make_view(small.data(), 7), t, 0);
  CHECK(big[6] == 1.0f);
}

TEST_CASE("ema_update: bfloat16 EMA of float32 weights rounds to nearest even") {
  std::vector<ladle::bfloat16> avg(1000 + 5);
  std::vector<float> x(avg.size());
  std::mt19937 g(9);
  std::vector<float> a_ref(avg.size());
  for (std::size_t i = 0; i < avg.size(); ++i) {
    avg[i] = ladle::bfloat16(std::uniform_real_distribution<float>(-1, 1)(g));
    x[i] = std::uniform_real_distribution<float>(-1, 1)(g);
    const float a = static_cast<float>(avg[i]);
    a_ref[i] = std::fma(0.25f, x[i] - a, a);  // the float32 formula
  }
  ladle::lerp_update(ladle::make_view(avg.data(), avg.size()), ladle::make_view(x.data(), x.size()), 0.25);
  for (std::size_t i = 0; i < avg.size(); ++i)
    REQUIRE(static_cast<float>(avg[i]) == static_cast<float>(Eigen::bfloat16(a_ref[i])));
}

TEST_CASE("running_mean: SWA over snapshots equals the arithmetic mean; merge combines ranks") {
  const std::size_t n = 4096 + 3;
  const int snaps = 12;
  std::mt19937 g(4);
  std::vector<std::vector<float>> s(snaps, std::vector<float>(n));
  for (auto& v : s)
    for (auto& x : v) x = std::uniform_real_distribution<float>(-5, 5)(g);
  std::vector<float> all(n, 123.0f), rank0(n, -7.0f), rank1(n, 0.0f);  // initial values ignored
  ladle::running_mean m_all, m0, m1;
  auto dict = [&](std::vector<float>& v, const char* src) {
    ladle::mutable_state_dict d(src);
    d.add("w", ladle::make_view(v.data(), n));
    return d;
  };
  auto cdict = [&](const std::vector<float>& v, const char* src) {
    ladle::state_dict d(src);
    d.add("w", ladle::make_view(v.data(), n));
    return d;
  };
  for (int k = 0; k < snaps; ++k) {
    m_all.update(dict(all, "swa"), cdict(s[k], "snap"));
    if (k % 3 == 0) m1.update(dict(rank1, "r1"), cdict(s[k], "snap"));
    else m0.update(dict(rank0, "r0"), cdict(s[k], "snap"));
  }
  CHECK(m_all.weight() == snaps);
  m0.merge(m1, dict(rank0, "r0"), cdict(rank1, "r1"));
  CHECK(m0.weight() == snaps);
  double worst_all = 0, worst_merged = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double ref = 0, big = 0;
    for (int k = 0; k < snaps; ++k) {
      ref += s[k][i];
      big = std::max(big, std::fabs(double(s[k][i])));
    }
    ref /= snaps;
    worst_all = std::max(worst_all, std::fabs(all[i] - ref) / ulp_of(big));
    worst_merged = std::max(worst_merged, std::fabs(rank0[i] - ref) / ulp_of(big));
  }
  CHECK(worst_all <= 2 * snaps - 1);
  CHECK(worst_merged <= 2 * snaps + 1);
  MESSAGE("SWA over 12 snapshots: worst error ", worst_all, " ulp; merged ranks ", worst_merged, " ulp");
}

TEST_CASE("running_mean / lerp_update: integer tensors copied; errors leave state alone") {
  float a[3] = {1, 2, 3}, x[3] = {3, 4, 5};
  std::int64_t na = 1, nx = 50;
  ladle::mutable_state_dict avg("ema");
  avg.add("w", ladle::make_view(a, 3));
  avg.add("n", ladle::dtype_v<std::int64_t>, {}, &na);
  ladle::state_dict model("model");
  model.add("w", ladle::make_view(x, 3));
  model.add("n", ladle::dtype_v<std::int64_t>, {}, &nx);
  ladle::lerp_update(avg, model, 0.5);
  CHECK(a[0] == 2.0f);
  CHECK(na == 50);
  ladle::running_mean m;
  CHECK(error_of([&] { m.add(-1); }).find("'w' must be positive and finite, got -1") != std::string::npos);
  float b[2] = {0, 0};
  ladle::state_dict wrong("wrong");
  wrong.add("w", ladle::make_view(b, 2));
  wrong.add("n", ladle::dtype_v<std::int64_t>, {}, &nx);
  CHECK(error_of([&] { m.update(avg, wrong); })
            .find("tensor 'w': model 'ema' has shape [3], model 'wrong' has [2]") != std::string::npos);
  CHECK(m.weight() == 0);
  CHECK(a[0] == 2.0f);
  CHECK(error_of([&] { ladle::lerp_update(avg, model, 1.5); }).find("'c' must be in [0, 1]") !=
        std::string::npos);
  std::vector<float> buf(10, 1.0f);
  CHECK(error_of([&] {
          ladle::lerp_update(ladle::make_view(buf.data() + 1, 5), ladle::make_view(buf.data(), 5), 0.5);
        }).find("partially overlaps 'x'") != std::string::npos);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
