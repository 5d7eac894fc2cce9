// Bad-input matrix for the core's public entry points: views, tensors, math.
#include <ladle/core/math.hpp>
#include <ladle/core/tensor.hpp>
#include <ladle/core/view.hpp>

#include "bad_input.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;
using bad::kind;

namespace {
constexpr index_t big = std::numeric_limits<index_t>::max();
const float qnan = std::numeric_limits<float>::quiet_NaN();
const float inf = std::numeric_limits<float>::infinity();
}  // namespace

TEST_CASE("core bad-input matrix") {
  std::vector<float> x = {1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f, 8.f};
  std::vector<float> with_nan = {0.f, 1.f, qnan, 2.f};
  std::vector<float> with_inf = {0.f, inf, 1.f, 2.f};
  std::vector<float> buf = {1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f, 8.f, 9.f};
  std::vector<float> out(8);
  auto X = ladle::make_view(x.data(), 4);
  auto XN = ladle::make_view(with_nan.data(), 4);
  auto XI = ladle::make_view(with_inf.data(), 4);
  auto O = ladle::make_view(out.data(), 4);
  const float* null_f = nullptr;

  std::vector<bad::row> rows = {
      // views and tensors: huge sizes, negative extents, unaddressable strides, null data
      {"view stride overflow", kind::invalid, {"tensor_view", "extents", "addressable"},
       [&] { ladle::make_view(x.data(), {4, 2}, {big / 2, 1}); }, {bad::of(x)}},
      {"view count overflow", kind::invalid, {"tensor_view", "64-bit"},
       [&] { ladle::make_view(x.data(), {big / 2, 3}); }, {bad::of(x)}},
      {"view negative extent", kind::invalid, {"tensor_view", "negative"},
       [&] { ladle::make_view(x.data(), {-1, 3}); }, {bad::of(x)}},
      {"view null data", kind::invalid, {"tensor_view", "data"},
       [&] { ladle::make_view(null_f, {2, 3}); }, {}},
      {"view stride min", kind::invalid, {"tensor_view", "stride"},
       [&] { ladle::make_view(x.data(), {2, 2}, {std::numeric_limits<index_t>::min(), 1}); },
       {bad::of(x)}},
      {"tensor huge", kind::runtime, {"tensor", "extents", "memory"},
       [&] { ladle::tensor<float, 2>({big / 8, 2}); }, {}},
      {"tensor overflow", kind::invalid, {"tensor", "extents", "64-bit"},
       [&] { ladle::tensor<float, 2>({big, 2}); }, {}},
      {"tensor negative", kind::invalid, {"tensor", "extents", "negative"},
       [&] { ladle::tensor<double, 1>({-5}); }, {}},
      {"tensor named huge", kind::runtime, {"ladle::my_fn", "'n'"},
       [&] { ladle::tensor<float, 1>({big / 2}, ladle::uninitialized, "my_fn", "n"); }, {}},
      {"view at out of range", kind::invalid, {"tensor_view::at", "index"},
       [&] { (void)X.at(4); }, {bad::of(x)}},
      {"view slice", kind::invalid, {"tensor_view::slice", "range"}, [&] { X.slice(2, 5); },
       {bad::of(x)}},
      // softmax / log_softmax: empty, NaN, Inf, temperature, wrong size, overlap
      {"softmax empty", kind::invalid, {"ladle::softmax", "'x'", "empty"},
       [&] { ladle::softmax(X.slice(0, 0), O.slice(0, 0)); }, {bad::of(x)}},
      {"softmax NaN", kind::domain, {"ladle::softmax", "'x'", "element 2"},
       [&] { ladle::softmax(ladle::as_const(XN), O); }, {bad::of(with_nan), bad::of(out)}},
      {"softmax Inf", kind::domain, {"ladle::softmax", "'x'", "element 1"},
       [&] { ladle::softmax(ladle::as_const(XI), O); }, {bad::of(with_inf), bad::of(out)}},
      {"softmax temperature 0", kind::domain, {"ladle::softmax", "'temperature'"},
       [&] { ladle::softmax(ladle::as_const(X), O, 0.f); }, {bad::of(x), bad::of(out)}},
      {"softmax temperature NaN", kind::domain, {"ladle::softmax", "'temperature'"},
       [&] { ladle::softmax(ladle::as_const(X), O, qnan); }, {bad::of(x), bad::of(out)}},
      {"softmax temperature denormal ok but -0", kind::domain, {"ladle::softmax", "'temperature'"},
       [&] { ladle::softmax(ladle::as_const(X), O, -0.f); }, {bad::of(x), bad::of(out)}},
      {"softmax out size", kind::invalid, {"ladle::softmax", "'out'", "length"},
       [&] { ladle::softmax(ladle::as_const(X), O.slice(0, 3)); }, {bad::of(x), bad::of(out)}},
      {"softmax partial overlap", kind::invalid, {"ladle::softmax", "'out'", "'x'", "overlap"},
       [&] { ladle::softmax(ladle::as_const(ladle::make_view(buf.data(), 4)), ladle::make_view(buf.data() + 1, 4)); },
       {bad::of(buf)}},
      {"log_softmax partial overlap", kind::invalid, {"ladle::log_softmax", "'out'", "'x'"},
       [&] { ladle::log_softmax(ladle::as_const(ladle::make_view(buf.data() + 2, 4)), ladle::make_view(buf.data(), 4)); },
       {bad::of(buf)}},
      {"log_softmax strided overlap", kind::invalid, {"ladle::log_softmax", "'out'"},
       [&] {
         ladle::log_softmax(ladle::as_const(ladle::make_view(buf.data(), {4}, {2})),
                            ladle::make_view(buf.data() + 2, 4));
       },
       {bad::of(buf)}},
      {"log_softmax NaN", kind::domain, {"ladle::log_softmax", "element 2"},
       [&] { ladle::log_softmax(ladle::as_const(XN), O); }, {bad::of(with_nan), bad::of(out)}},
      {"logsumexp empty", kind::invalid, {"ladle::logsumexp", "'x'"},
       [&] { ladle::logsumexp(ladle::as_const(X.slice(0, 0))); }, {bad::of(x)}},
      {"logsumexp Inf", kind::domain, {"ladle::logsumexp", "element 1"},
       [&] { ladle::logsumexp(ladle::as_const(XI)); }, {bad::of(with_inf)}},
      // argsort / top_k / select_k
      {"argsort NaN", kind::domain, {"ladle::argsort", "'x'", "element 2"},
       [&] { ladle::argsort(ladle::as_const(XN)); }, {bad::of(with_nan)}},
      {"top_k k too big", kind::invalid, {"ladle::top_k", "'k'"},
       [&] { ladle::top_k(ladle::as_const(X), 5); }, {bad::of(x)}},
      {"top_k k huge", kind::invalid, {"ladle::top_k", "'k'"},
       [&] { ladle::top_k(ladle::as_const(X), big); }, {bad::of(x)}},
      {"top_k k negative", kind::invalid, {"ladle::top_k", "'k'"},
       [&] { ladle::top_k(ladle::as_const(X), -1); }, {bad::of(x)}},
      {"top_k NaN", kind::domain, {"ladle::top_k", "element 2"},
       [&] { ladle::top_k(ladle::as_const(XN), 2); }, {bad::of(with_nan)}},
      {"select_k k huge", kind::invalid, {"ladle::select_k", "'k'"},
       [&] { ladle::select_k(ladle::as_const(X), big); }, {bad::of(x)}},
      {"select_k NaN", kind::domain, {"ladle::select_k", "element 2"},
       [&] { ladle::select_k(ladle::as_const(XN), 1); }, {bad::of(with_nan)}},
  };
  const std::size_t n = bad::run_matrix(rows);
  MESSAGE("core bad-input matrix: " << n << " cases");
}

TEST_CASE("in-place softmax (exact aliasing) is accepted and equals the out-of-place result") {
  std::vector<double> a = {0.5, -1.0, 3.0, 2.0, 7.0}, b = a, ref(5);
  ladle::softmax(ladle::as_const(ladle::make_view(b.data(), 5)), ladle::make_view(ref.data(), 5));
  ladle::softmax(ladle::as_const(ladle::make_view(a.data(), 5)), ladle::make_view(a.data(), 5));
  CHECK(a == ref);
  // Disjoint interleaved views of one buffer (even and odd elements) are not an overlap.
  std::vector<double> c = {1, 0, 2, 0, 3, 0};
  ladle::softmax(ladle::as_const(ladle::make_view(c.data(), {3}, {2})),
                 ladle::make_view(c.data() + 1, {3}, {2}));
  CHECK(c[0] == 1.0);
  CHECK(std::abs(c[1] + c[3] + c[5] - 1.0) < 1e-15);
}

TEST_CASE("empty shapes are contiguous and valid") {
  float p[4] = {};
  CHECK(ladle::make_view(p, {4, 0}).is_contiguous());
  CHECK(ladle::make_view(p, {0, 7}).is_contiguous());
  ladle::tensor<float, 2> t({7, 0});
  CHECK(t.empty());
}

}  // namespace LADLE_TEST_FILE
}  // namespace
