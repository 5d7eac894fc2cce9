#include <ladle/core/tensor.hpp>
#include <ladle/core/view.hpp>

#include <doctest/doctest.h>

#include <numeric>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;

TEST_CASE("tensor_view: row-major defaults, accessors and element access") {
  std::vector<float> buf(12);
  std::iota(buf.begin(), buf.end(), 0.f);
  auto v = ladle::make_view(buf.data(), {3, 4});
  CHECK(v.rank() == 2);
  CHECK(v.extent(0) == 3);
  CHECK(v.extent(1) == 4);
  CHECK(v.stride(0) == 4);
  CHECK(v.stride(1) == 1);
  CHECK(v.size() == 12);
  CHECK(v.is_contiguous());
  CHECK(v.is_host());
  CHECK(v(2, 3) == 11.f);
  CHECK(v.at(1, 2) == 6.f);
  v(0, 1) = 42.f;
  CHECK(buf[1] == 42.f);

  ladle::matrix_view<const float> cv = v;  // non-const converts to const
  CHECK(cv(0, 1) == 42.f);

  auto r = v.row(2);
  CHECK(r.extent(0) == 4);
  CHECK(r(1) == 9.f);

  auto s = v.slice(1, 3);
  CHECK(s.extent(0) == 2);
  CHECK(s(0, 0) == 4.f);
}

TEST_CASE("tensor_view: explicit strides (column-major, transposed, broadcast)") {
  std::vector<double> buf = {1, 2, 3, 4, 5, 6};  // 2x3 stored column-major
  auto cm = ladle::make_view(buf.data(), {2, 3}, {1, 2});
  CHECK(cm(0, 0) == 1);
  CHECK(cm(1, 0) == 2);
  CHECK(cm(0, 2) == 5);
  CHECK_FALSE(cm.is_contiguous());

  auto bc = ladle::make_view(buf.data(), {4, 3}, {0, 1});  // row broadcast
  CHECK(bc(3, 2) == 3);
  CHECK_FALSE(bc.is_contiguous());

  // A single row or column places no constraint on its stride.
  auto one = ladle::make_view(buf.data(), {1, 3}, {99, 1});
  CHECK(one.is_contiguous());
}

TEST_CASE("tensor_view: bad construction and access are refused") {
  float x = 0;
  CHECK_THROWS_AS(ladle::make_view(static_cast<float*>(nullptr), {2, 2}), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::make_view(&x, {-1, 2}), ladle::invalid_argument);
  CHECK_NOTHROW(ladle::make_view(static_cast<float*>(nullptr), {0, 5}));
  auto v = ladle::make_view(&x, {1, 1});
  CHECK_THROWS_AS(v.at(1, 0), ladle::invalid_argument);
  CHECK_THROWS_AS(v.at(0, -1), ladle::invalid_argument);
  CHECK_THROWS_AS(v.slice(0, 2), ladle::invalid_argument);
  try {
    (void)ladle::make_view(static_cast<float*>(nullptr), {3});
    FAIL("expected an exception");
  } catch (const ladle::error& e) {
    CHECK(std::string(e.what()).find("ladle::tensor_view") != std::string::npos);
    CHECK(e.argument() == "data");
  }
}

TEST_CASE("tensor_view: device tags and the host check") {
  float x[4] = {};
  auto dev = ladle::make_view(x, {4}, ladle::device::cuda(1));
  CHECK_FALSE(dev.is_host());
  CHECK(dev.device() == ladle::device::cuda(1));
  CHECK(dev.device() != ladle::device::cuda(0));
  CHECK_THROWS_AS(ladle::detail::require_host(dev, "f", "x"), ladle::invalid_argument);
  CHECK_NOTHROW(ladle::detail::require_host(ladle::make_view(x, 4), "f", "x"));
}

TEST_CASE("detail::overlaps detects aliasing") {
  float buf[10] = {};
  auto a = ladle::make_view(buf, {5});
  auto b = ladle::make_view(buf + 4, {3});
  auto c = ladle::make_view(buf + 5, {5});
  CHECK(ladle::detail::overlaps(a, b));
  CHECK_FALSE(ladle::detail::overlaps(a, c));
  auto rev = ladle::make_view(buf + 9, {3}, {-1});  // buf[7..9]
  CHECK(ladle::detail::overlaps(rev, c));
  CHECK_FALSE(ladle::detail::overlaps(rev, a));
}

TEST_CASE("tensor: aligned, zero-filled, deep copies, views") {
  ladle::tensor<float, 2> t({3, 5});
  CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % ladle::buffer_alignment == 0);
  CHECK(t.size() == 15);
  for (float v : t) CHECK(v == 0.f);
  t(2, 4) = 7.f;
  ladle::tensor<float, 2> u = t;
  u(2, 4) = 1.f;
  CHECK(t(2, 4) == 7.f);
  auto v = t.view();
  CHECK(v(2, 4) == 7.f);
  CHECK(v.is_contiguous());

  std::vector<int> src = {1, 2, 3, 4, 5, 6};
  auto strided = ladle::make_view(src.data(), {3, 2}, {1, 3});  // transposed 2x3
  ladle::tensor<int, 2> copy(strided);
  CHECK(copy(0, 1) == 4);
  CHECK(copy(2, 0) == 3);

  ladle::tensor<double, 1> filled({4}, 2.5);
  CHECK(filled[3] == 2.5);
  ladle::tensor<double, 1> empty({0});
  CHECK(empty.empty());
  CHECK_THROWS_AS((ladle::tensor<float, 1>({-3})), ladle::invalid_argument);
}

}  // namespace LADLE_TEST_FILE
}  // namespace
