#include <ladle/interop/span.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

using ladle::index_t;

namespace {

template <class F>
std::string refusal(F&& f) {
  try {
    f();
  } catch (const ladle::invalid_argument& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

template <class V, class = void>
struct can_view_vector : std::false_type {};
template <class V>
struct can_view_vector<V, std::void_t<decltype(ladle::from_vector(std::declval<V>()))>>
    : std::true_type {};

}  // namespace

TEST_CASE("from_vector: 1-D views, const for const vectors") {
  std::vector<float> v(5);
  std::iota(v.begin(), v.end(), 1.f);
  auto a = ladle::from_vector(v);
  static_assert(std::is_same<decltype(a), ladle::vector_view<float>>::value, "");
  CHECK(a.data() == v.data());
  CHECK(a.extent(0) == 5);
  CHECK(a.stride(0) == 1);
  CHECK(a.is_host());
  a(4) = -1.f;
  CHECK(v[4] == -1.f);

  const std::vector<double> c = {1.0, 2.0};
  auto b = ladle::from_vector(c);
  static_assert(std::is_same<decltype(b), ladle::vector_view<const double>>::value, "");
  CHECK(b(1) == 2.0);

  std::vector<int> empty;
  CHECK(ladle::from_vector(empty).empty());

  // Temporaries would dangle and are refused at compile time.
  static_assert(can_view_vector<std::vector<float>&>::value, "");
  static_assert(can_view_vector<const std::vector<float>&>::value, "");
  static_assert(!can_view_vector<std::vector<float>>::value, "");
  static_assert(!can_view_vector<const std::vector<float>>::value, "");
}

TEST_CASE("from_vector: 2-D views with a row length that divides the size") {
  std::vector<std::int32_t> v(12);
  std::iota(v.begin(), v.end(), 0);
  auto m = ladle::from_vector(v, 4);
  static_assert(std::is_same<decltype(m), ladle::matrix_view<std::int32_t>>::value, "");
  CHECK(m.extent(0) == 3);
  CHECK(m.extent(1) == 4);
  CHECK(m.is_contiguous());
  CHECK(m(2, 1) == 9);

  const auto& cv = v;
  auto cm = ladle::from_vector(cv, 6);
  static_assert(std::is_same<decltype(cm), ladle::matrix_view<const std::int32_t>>::value, "");
  CHECK(cm.extent(0) == 2);
  CHECK(cm(1, 0) == 6);

  std::string msg = refusal([&] { ladle::from_vector(v, 5); });
  CHECK(contains(msg, "ladle::from_vector: 'row_length' is 5"));
  CHECK(contains(msg, "does not divide the size 12"));
  CHECK(contains(refusal([&] { ladle::from_vector(v, 0); }), "'row_length' is 0, expected > 0"));
  CHECK_THROWS_AS(ladle::from_vector(v, -3), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::from_vector(cv, 7), ladle::invalid_argument);

  std::vector<float> empty;
  auto e = ladle::from_vector(empty, 3);
  CHECK(e.extent(0) == 0);
  CHECK(e.extent(1) == 3);
}

TEST_CASE("from_pointer: pointer + size, and rows of a buffer") {
  std::array<float, 6> buf = {0, 1, 2, 3, 4, 5};
  auto v = ladle::from_pointer(buf.data(), 6);
  CHECK(v.extent(0) == 6);
  CHECK(v(5) == 5.f);
  const float* cp = buf.data();
  auto cv = ladle::from_pointer(cp, 4);
  static_assert(std::is_same<decltype(cv), ladle::vector_view<const float>>::value, "");

  auto m = ladle::from_pointer(buf.data(), 6, 3);
  CHECK(m.extent(0) == 2);
  CHECK(m(1, 2) == 5.f);
  auto g = ladle::from_pointer(buf.data(), 6, 2, ladle::device::cuda(1));
  CHECK(g.device() == ladle::device::cuda(1));

  CHECK(contains(refusal([&] { ladle::from_pointer(buf.data(), -1); }), "'size' is -1"));
  CHECK(contains(refusal([&] { ladle::from_pointer(static_cast<float*>(nullptr), 3); }),
                 "'data' is null"));
  CHECK(ladle::from_pointer(static_cast<float*>(nullptr), 0).empty());
  CHECK_THROWS_AS(ladle::from_pointer(buf.data(), 6, 4), ladle::invalid_argument);
  CHECK_THROWS_AS(ladle::from_pointer(static_cast<float*>(nullptr), 6, 3), ladle::invalid_argument);
}

#if LADLE_HAS_STD_SPAN
TEST_CASE("from_span / to_span (C++20)") {
  std::vector<double> buf(8);
  std::iota(buf.begin(), buf.end(), 0.0);
  std::span<double> s(buf);
  auto v = ladle::from_span(s);
  CHECK(v.extent(0) == 8);
  CHECK(v(3) == 3.0);
  std::span<const double, 8> fixed(buf.data(), 8);
  auto cv = ladle::from_span(fixed);
  static_assert(std::is_same<decltype(cv), ladle::vector_view<const double>>::value);
  auto m = ladle::from_span(s, 2);
  CHECK(m.extent(0) == 4);
  CHECK(m(3, 1) == 7.0);
  CHECK_THROWS_AS(ladle::from_span(s, 3), ladle::invalid_argument);

  std::span<double> back = ladle::to_span(m);
  CHECK(back.data() == buf.data());
  CHECK(back.size() == 8);
  std::span<const double> cback = ladle::to_span(ladle::as_const(v));
  CHECK(cback[7] == 7.0);

  auto strided = ladle::make_view(buf.data(), {4}, {2});
  CHECK(contains(refusal([&] { ladle::to_span(strided); }), "contiguous"));
  auto gpu = ladle::make_view(buf.data(), {8}, ladle::device::cuda(0));
  CHECK(contains(refusal([&] { ladle::to_span(gpu); }), "device memory"));
}
#else
TEST_CASE("std::span interop (skipped: the standard library has no <span>)" * doctest::skip()) {}
#endif
