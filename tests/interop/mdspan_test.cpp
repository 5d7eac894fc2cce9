// from_mdspan against a minimal mdspan-like type (the C++17 toolchain here has no <mdspan>), with
// layout_right, layout_left and layout_stride behaviour; to_mdspan where <mdspan> exists.
#include <ladle/interop/mdspan.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <numeric>
#include <type_traits>
#include <utility>
#include <vector>

using ladle::index_t;

namespace {

enum class layout { right, left, stride };

template <std::size_t Rank>
struct test_extents {
  std::array<std::size_t, Rank> e;  // unsigned, like std::extents<std::size_t, ...>
  constexpr std::size_t extent(std::size_t r) const noexcept { return e[r]; }
};

template <class T>
struct test_accessor {
  using reference = T&;
};
struct proxy_accessor {  // an accessor whose reference is not element_type& (e.g. atomic_ref)
  using reference = std::pair<float*, int>;
};

// The members ladle reads from std::mdspan: rank(), extents(), stride(r), data_handle(),
// accessor_type, is_strided().
template <class T, std::size_t Rank, layout L, class Accessor = test_accessor<T>>
class test_mdspan {
 public:
  using element_type = T;
  using accessor_type = Accessor;
  test_mdspan(T* p, std::array<std::size_t, Rank> e, std::array<std::size_t, Rank> s = {})
      : p_(p), ext_{e}, s_(s) {}
  static constexpr std::size_t rank() noexcept { return Rank; }
  const test_extents<Rank>& extents() const noexcept { return ext_; }
  T* const& data_handle() const noexcept { return p_; }
  std::size_t stride(std::size_t r) const noexcept {
    if (L == layout::stride) return s_[r];
    std::size_t s = 1;
    if (L == layout::right)
      for (std::size_t k = r + 1; k < Rank; ++k) s *= ext_.e[k];
    else
      for (std::size_t k = 0; k < r; ++k) s *= ext_.e[k];
    return s;
  }
  bool is_strided() const noexcept { return strided_; }
  void set_strided(bool b) noexcept { strided_ = b; }
  T& operator()(std::size_t i, std::size_t j) const noexcept {  // rank 2 only, for checks
    return p_[i * stride(0) + j * stride(1)];
  }

 private:
  T* p_;
  test_extents<Rank> ext_;
  std::array<std::size_t, Rank> s_;
  bool strided_ = true;
};

// A bare duck type without accessor_type or is_strided().
struct bare_mdspan {
  double* p;
  static constexpr std::size_t rank() noexcept { return 1; }
  test_extents<1> extents() const noexcept { return {{4}}; }
  index_t stride(std::size_t) const noexcept { return 2; }
  double* data_handle() const noexcept { return p; }
};

template <class M, class = void>
struct can_view : std::false_type {};
template <class M>
struct can_view<M, std::void_t<decltype(ladle::from_mdspan(std::declval<const M&>()))>>
    : std::true_type {};

template <class V, class M>
bool same_elements(const V& v, const M& m) {
  for (index_t i = 0; i < v.extent(0); ++i)
    for (index_t j = 0; j < v.extent(1); ++j)
      if (&v(i, j) != &m(static_cast<std::size_t>(i), static_cast<std::size_t>(j))) return false;
  return true;
}

}  // namespace

TEST_CASE("from_mdspan: layout_right becomes a compact row-major view") {
  std::vector<float> buf(12);
  std::iota(buf.begin(), buf.end(), 0.f);
  test_mdspan<float, 2, layout::right> m(buf.data(), {3, 4});
  auto v = ladle::from_mdspan(m);
  static_assert(std::is_same<decltype(v), ladle::matrix_view<float>>::value, "");
  CHECK(v.data() == buf.data());
  CHECK(v.extent(0) == 3);
  CHECK(v.extent(1) == 4);
  CHECK(v.is_contiguous());
  CHECK(v.is_host());
  CHECK(same_elements(v, m));
  v(1, 2) = -1.f;
  CHECK(m(1, 2) == -1.f);
}

TEST_CASE("from_mdspan: layout_left becomes a column-major view") {
  std::vector<float> buf(12);
  test_mdspan<float, 2, layout::left> m(buf.data(), {3, 4});
  auto v = ladle::from_mdspan(m);
  CHECK(v.stride(0) == 1);
  CHECK(v.stride(1) == 3);
  CHECK_FALSE(v.is_contiguous());
  CHECK(same_elements(v, m));
}

TEST_CASE("from_mdspan: layout_stride keeps any strides; rank 3; device tag") {
  std::vector<float> buf(64);
  test_mdspan<float, 2, layout::stride> m(buf.data(), {3, 2}, {10, 3});
  auto v = ladle::from_mdspan(m);
  CHECK(v.stride(0) == 10);
  CHECK(v.stride(1) == 3);
  CHECK(same_elements(v, m));

  test_mdspan<const float, 3, layout::right> m3(buf.data(), {2, 3, 4});
  auto v3 = ladle::from_mdspan(m3, ladle::device::cuda(1));
  static_assert(std::is_same<decltype(v3), ladle::tensor_view<const float, 3>>::value, "");
  CHECK(v3.strides() == std::array<index_t, 3>{12, 4, 1});
  CHECK(v3.device() == ladle::device::cuda(1));

  std::vector<double> d(8, 0.0);
  d[6] = 6.0;
  auto vb = ladle::from_mdspan(bare_mdspan{d.data()});
  static_assert(std::is_same<decltype(vb), ladle::vector_view<double>>::value, "");
  CHECK(vb.extent(0) == 4);
  CHECK(vb(3) == 6.0);
}

TEST_CASE("from_mdspan: refuses non-strided layouts and non-pointer accessors") {
  std::vector<float> buf(4);
  test_mdspan<float, 2, layout::right> m(buf.data(), {2, 2});
  m.set_strided(false);
  CHECK_THROWS_AS(ladle::from_mdspan(m), ladle::invalid_argument);

  static_assert(can_view<test_mdspan<float, 2, layout::left>>::value, "");
  static_assert(!can_view<test_mdspan<float, 2, layout::left, proxy_accessor>>::value,
                "an accessor whose reference is not T& must not be viewed");
  static_assert(!can_view<std::vector<float>>::value, "");
  static_assert(!can_view<int>::value, "");
}

TEST_CASE("to_layout_stride: which strides std::layout_stride accepts") {
  using a2 = std::array<index_t, 2>;
  a2 s{4, 1};
  CHECK(ladle::detail::to_layout_stride(a2{3, 4}, s));  // row-major
  s = {1, 3};
  CHECK(ladle::detail::to_layout_stride(a2{3, 4}, s));  // column-major
  s = {10, 3};
  CHECK(ladle::detail::to_layout_stride(a2{3, 2}, s));  // padded
  s = {0, 1};
  CHECK_FALSE(ladle::detail::to_layout_stride(a2{3, 4}, s));  // broadcast rows
  s = {-4, 1};
  CHECK_FALSE(ladle::detail::to_layout_stride(a2{3, 4}, s));  // reversed rows
  s = {2, 1};
  CHECK_FALSE(ladle::detail::to_layout_stride(a2{3, 4}, s));  // overlapping rows
  s = {1, 1};
  CHECK_FALSE(ladle::detail::to_layout_stride(a2{2, 2}, s));

  // An axis of extent 1 has an unused stride, replaced by one that fits.
  s = {0, 1};
  CHECK(ladle::detail::to_layout_stride(a2{1, 4}, s));
  CHECK(s[0] >= 4);
  CHECK(s[1] == 1);
  s = {7, -3};
  CHECK(ladle::detail::to_layout_stride(a2{5, 1}, s));
  CHECK(s[1] > 0);

  using a3 = std::array<index_t, 3>;
  a3 t{1, 8, 2};  // a permuted layout: axis 0 fastest, then 2, then 1
  CHECK(ladle::detail::to_layout_stride(a3{2, 3, 4}, t));
  t = {1, 7, 2};
  CHECK_FALSE(ladle::detail::to_layout_stride(a3{2, 3, 4}, t));
}

#if LADLE_HAS_STD_MDSPAN
TEST_CASE("to_mdspan: a layout_stride std::mdspan of the view, and back") {
  std::vector<float> buf(24);
  std::iota(buf.begin(), buf.end(), 0.f);
  auto v = ladle::make_view(buf.data(), {4, 3}, {1, 4});
  auto m = ladle::to_mdspan(v);
  CHECK(m.extent(0) == 4);
  CHECK(m.stride(1) == 4);
  CHECK(m[2, 1] == v(2, 1));
  auto back = ladle::from_mdspan(m);
  CHECK(back.strides() == v.strides());
  CHECK(back.data() == v.data());
  CHECK_THROWS_AS(ladle::to_mdspan(ladle::make_view(buf.data(), {4, 3}, {0, 1})),
                  ladle::invalid_argument);
}

TEST_CASE("from_mdspan: std::mdspan with layout_left") {
  std::vector<double> buf(6);
  std::mdspan<double, std::dextents<std::size_t, 2>, std::layout_left> m(buf.data(), 2, 3);
  auto v = ladle::from_mdspan(m);
  CHECK(v.stride(0) == 1);
  CHECK(v.stride(1) == 2);
}
#else
TEST_CASE("std::mdspan interop (skipped: the standard library has no <mdspan>)" * doctest::skip()) {}
#endif
