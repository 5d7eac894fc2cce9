// The shared contract helpers: checked sizes, guarded allocation, overlap, index-naming errors.
#include <ladle/core/checks.hpp>
#include <ladle/core/size.hpp>
#include <ladle/core/tensor.hpp>
#include <ladle/core/view.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

using ladle::index_t;
namespace d = ladle::detail;

namespace {

constexpr index_t big = std::numeric_limits<index_t>::max();

// Runs f, expects a ladle::error whose message contains every fragment.
template <class F>
void expect_error(F&& f, std::initializer_list<const char*> fragments) {
  try {
    f();
    FAIL("no exception");
  } catch (const ladle::error& e) {
    const std::string what = e.what();
    for (const char* frag : fragments) {
      INFO(what);
      CHECK(what.find(frag) != std::string::npos);
    }
  }
}

}  // namespace

TEST_CASE("checked_mul / checked_add refuse overflow and negative sizes at the boundary") {
  CHECK(d::checked_mul(0, big, "f", "n") == 0);
  CHECK(d::checked_mul(big, 1, "f", "n") == big);
  CHECK(d::checked_mul(3037000499, 3037000499, "f", "n") == index_t{3037000499} * 3037000499);
  expect_error([] { d::checked_mul(3037000500, 3037000500, "f", "n"); }, {"ladle::f", "'n'"});
  expect_error([] { d::checked_mul(big / 2 + 1, 2, "f", "n"); }, {"64-bit"});
  expect_error([] { d::checked_mul(-1, 2, "f", "n"); }, {"negative"});
  CHECK(d::checked_add(big - 1, 1, "f", "n") == big);
  expect_error([] { d::checked_add(big, 1, "f", "n"); }, {"64-bit"});
  expect_error([] { d::checked_add(1, -1, "f", "n"); }, {"negative"});
}

TEST_CASE("views refuse extents and strides whose reach overflows") {
  std::vector<float> b(8);
  // The hostile-caller example: stride INT64_MAX/2 on a 4-row view.
  expect_error([&] { ladle::make_view(b.data(), {4, 2}, {big / 2, 1}); },
               {"ladle::tensor_view", "'extents'", "addressable"});
  // Element count overflows even with compact strides.
  expect_error([&] { ladle::make_view(b.data(), {big / 2, 3}); }, {"64-bit"});
  expect_error([&] { ladle::make_view(b.data(), {-1, 3}); }, {"negative"});
  expect_error([&] { ladle::make_view(b.data(), {2, 2}, {std::numeric_limits<index_t>::min(), 1}); },
               {"stride"});
  // Bytes, not elements: 2^61 floats reach 2^63 bytes.
  expect_error([&] { ladle::make_view(b.data(), {index_t{1} << 61}); }, {"addressable"});
  // The largest reach that still fits is accepted (never dereferenced here).
  CHECK_NOTHROW(ladle::make_view(b.data(), {2, 2}, {(big / 4) - 8, 1}));
  // Empty views: any other extent is fine, and they are contiguous.
  auto e = ladle::make_view(b.data(), {4, 0});
  CHECK(e.is_contiguous());
  CHECK(e.empty());
  auto e2 = ladle::make_view(b.data(), {0, big});
  CHECK(e2.size() == 0);
  CHECK(e2.is_contiguous());
}

TEST_CASE("guarded allocation names the function and size instead of bad_alloc") {
  expect_error([] { d::make_buffer<double>(big, "knn_self", "k"); },
               {"ladle::knn_self", "'k'", "machine's memory"});
  expect_error([] { d::make_buffer<double>(-5, "smote", "n"); }, {"negative"});
  expect_error([] { d::allocate_aligned<float>(big / 2, "quantize", "out"); },
               {"ladle::quantize", "machine's memory"});
  std::vector<int> v;
  expect_error([&] { d::reserve_buffer(v, big / 8, "f", "count"); }, {"'count'"});
  CHECK(d::make_buffer<int>(3, "f", "n", 7) == std::vector<int>{7, 7, 7});
  CHECK(d::allocate_aligned<float>(0, "f", "n") == nullptr);
  auto p = d::allocate_aligned<float>(5, "f", "n");
  CHECK(reinterpret_cast<std::uintptr_t>(p.get()) % ladle::buffer_alignment == 0);
  CHECK(d::max_allocation_bytes() > (std::size_t{1} << 20));
  // Huge-page buffers are rounded up to whole 2 MiB only when that adds at most an eighth (and
  // never in sanitizer builds); others are requested exactly.
  const std::size_t mib2 = std::size_t(2) << 20;
  CHECK(d::allocation_request(46080000, ladle::buffer_alignment) == 46080000);
  CHECK(d::allocation_request(46080000, mib2) == (d::exact_allocation_sizes ? 46080000 : 22 * mib2));
  CHECK(d::allocation_request(2621696, mib2) == 2621696);  // rounding would add 60%
  CHECK(d::allocation_request(2 * mib2, mib2) == 2 * mib2);
  CHECK(d::allocation_request(16 * mib2 + 1, mib2) == (d::exact_allocation_sizes ? 16 * mib2 + 1 : 17 * mib2));
  if (LADLE_HUGE_PAGE_MIN_BYTES != 0) {
    // A rounded buffer is writable to its last element; tensors of that size copy and move
    // (the deleter keeps the 2 MiB alignment; ASan checks new/delete alignments match).
    const auto n = static_cast<ladle::index_t>(LADLE_HUGE_PAGE_MIN_BYTES * 8 / sizeof(float)) + 3;
    ladle::tensor<float, 1> t({n}, 0.5f);
    CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % mib2 == 0);
    ladle::tensor<float, 1> u = t;
    ladle::tensor<float, 1> w = std::move(t);
    CHECK(u[n - 1] == 0.5f);
    CHECK(w[0] == 0.5f);
  }
}

/// The VmFlags of the mapping holding address a, from /proc/self/smaps ("" when unreadable).
std::string checks_vm_flags(const void* a) {
  std::ifstream in("/proc/self/smaps");
  const auto x = reinterpret_cast<std::uintptr_t>(a);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    std::uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = lo <= x && x < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

TEST_CASE("large buffers are 2 MiB aligned and advised as huge pages") {
  const std::size_t huge = std::size_t(2) << 20;
  CHECK(d::allocation_alignment(LADLE_HUGE_PAGE_MIN_BYTES - 1) == ladle::buffer_alignment);
  CHECK(d::allocation_alignment(LADLE_HUGE_PAGE_MIN_BYTES) == huge);
  const ladle::index_t n = ladle::index_t((std::size_t(5) << 20) / sizeof(float));  // 5 MiB
  auto p = d::allocate_aligned<float>(n, "f", "n");
  CHECK(reinterpret_cast<std::uintptr_t>(p.get()) % huge == 0);
  CHECK(p.get_deleter().alignment == huge);
  for (ladle::index_t i = 0; i < n; ++i) p.get()[i] = float(i % 1000);
  CHECK(p.get()[n - 1] == float((n - 1) % 1000));
  ladle::tensor<float, 2> t({1024, 1280}, ladle::uninitialized);  // 5 MiB through tensor
  CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % huge == 0);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const std::string flags = checks_vm_flags(p.get());
  if (flags.empty()) {
    MESSAGE("skipped the madvise check: /proc/self/smaps is not readable here");
  } else {
    CAPTURE(flags);
    CHECK(flags.find(" hg") != std::string::npos);  // MADV_HUGEPAGE was applied to the mapping
  }
#endif
}

TEST_CASE("tensor: checked extents, uninitialised form, zero fill") {
  expect_error([] { ladle::tensor<float, 2> t({big / 2, 4}); }, {"ladle::tensor", "64-bit"});
  expect_error([] { ladle::tensor<float, 1> t({big / 8}); }, {"machine's memory"});
  expect_error([] { ladle::tensor<float, 2> t({3, -1}); }, {"negative"});
  ladle::tensor<float, 2> u({3, 5}, ladle::uninitialized);
  CHECK(u.size() == 15);
  for (float& x : u) x = 1.0f;
  ladle::tensor<float, 2> z({3, 5});
  for (float x : z) CHECK(x == 0.0f);
  ladle::tensor<float, 2> f({2, 2}, 2.5f);
  for (float x : f) CHECK(x == 2.5f);
  ladle::tensor<float, 2> empty({4, 0});
  CHECK(empty.view().is_contiguous());
  // Element access is row-major, the same element as the view's (rank 1 to 3).
  ladle::tensor<int, 3> t3({2, 3, 4}, ladle::uninitialized);
  for (int i = 0; i < 24; ++i) t3[i] = i;
  const auto& c3 = t3;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) {
        CHECK(t3(i, j, k) == (i * 3 + j) * 4 + k);
        CHECK(&c3(i, j, k) == &t3.view()(i, j, k));
      }
  ladle::tensor<int, 1> t1({5}, 7);
  t1(4) = 9;
  CHECK(t1[4] == 9);
  CHECK(&u(2, 4) == u.data() + 14);
}

TEST_CASE("overlaps: extent- and stride-aware") {
  std::vector<float> b(64);
  float* p = b.data();
  // Partial overlap of two vectors (the softmax(b, b + 1) case).
  CHECK(d::overlaps(ladle::make_view(p, 4), ladle::make_view(p + 1, 4)));
  CHECK(d::overlaps(ladle::make_view(p, 4), ladle::make_view(p + 3, 4)));
  CHECK_FALSE(d::overlaps(ladle::make_view(p, 4), ladle::make_view(p + 4, 4)));
  // Columns of one 8x2 row-major matrix interleave without sharing a byte.
  auto col0 = ladle::make_view(p, {8}, {2});
  auto col1 = ladle::make_view(p + 1, {8}, {2});
  CHECK_FALSE(d::overlaps(col0, col1));
  CHECK(d::overlaps(col0, ladle::make_view(p + 2, {8}, {2})));
  // Different element sizes on the same lattice: a double at p covers both floats of a pair.
  auto dbl = ladle::make_view(reinterpret_cast<double*>(p), {8}, {1});
  CHECK(d::overlaps(dbl, col1));
  // Byte views into float storage: byte 2 of each float vs float starts.
  auto bytes = ladle::make_view(reinterpret_cast<unsigned char*>(p) + 2, {16}, {4});
  CHECK(d::overlaps(bytes, ladle::make_view(p, {16}, {1})));
  CHECK_FALSE(d::overlaps(bytes, ladle::make_view(reinterpret_cast<unsigned char*>(p), {16}, {4})));
  // Negative strides reach backwards.
  auto rev = ladle::make_view(p + 7, {8}, {-1});
  CHECK(d::overlaps(rev, ladle::make_view(p, 1)));
  CHECK_FALSE(d::overlaps(rev, ladle::make_view(p + 8, 8)));
  // A transposed 4x4 against its source: same bytes.
  CHECK(d::overlaps(ladle::make_view(p, {4, 4}, {1, 4}), ladle::make_view(p + 15, 1)));
  // Empty views overlap nothing.
  CHECK_FALSE(d::overlaps(ladle::make_view(p, 0), ladle::make_view(p, 4)));
}

TEST_CASE("require_disjoint / require_disjoint_or_same") {
  std::vector<float> b(16);
  auto x = ladle::make_view(b.data(), 8);
  auto same = ladle::make_view(b.data(), 8);
  auto shifted = ladle::make_view(b.data() + 1, 8);
  auto other = ladle::make_view(b.data() + 8, 8);
  CHECK_NOTHROW(d::require_disjoint(other, "out", x, "x", "softmax"));
  expect_error([&] { d::require_disjoint(same, "out", x, "x", "softmax"); },
               {"ladle::softmax", "'out'", "overlaps 'x'"});
  CHECK_NOTHROW(d::require_disjoint_or_same(same, "out", x, "x", "softmax"));
  expect_error([&] { d::require_disjoint_or_same(shifted, "out", x, "x", "softmax"); },
               {"'out'", "partially overlaps 'x'"});
  // Same start, different extent or stride: not exact aliasing.
  expect_error([&] { d::require_disjoint_or_same(ladle::make_view(b.data(), 4), "out", x, "x", "f"); },
               {"partially"});
  expect_error(
      [&] { d::require_disjoint_or_same(ladle::make_view(b.data(), {8}, {2}), "out", x, "x", "f"); },
      {"partially"});
  // Same bytes, different element type (int32 codes written over float input): refused.
  auto bytes = ladle::make_view(reinterpret_cast<std::int32_t*>(b.data()), 8);
  expect_error([&] { d::require_disjoint_or_same(bytes, "out", x, "x", "f"); }, {"partially"});
}

TEST_CASE("require_finite names the caller's index") {
  std::vector<float> b(12, 1.0f);
  b[7] = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { d::require_finite(ladle::make_view(b.data(), {3, 4}), "smote", "X"); },
               {"ladle::smote", "'X'", "row 1, column 3"});
  expect_error([&] { d::require_finite(ladle::make_view(b.data(), 12), "f", "x"); },
               {"element 7"});
  // Strided: the transposed view finds it at (3, 1).
  expect_error([&] { d::require_finite(ladle::make_view(b.data(), {4, 3}, {1, 4}), "f", "x"); },
               {"row 3, column 1"});
  b[7] = -std::numeric_limits<float>::infinity();
  b[2] = std::numeric_limits<float>::infinity();
  expect_error([&] { d::require_finite(ladle::make_view(b.data(), 12), "f", "x"); },
               {"element 2", "inf"});
  b[7] = b[2] = 0.0f;
  CHECK_NOTHROW(d::require_finite(ladle::make_view(b.data(), {3, 4}), "f", "x"));
  CHECK(d::index_text(std::array<index_t, 3>{1, 0, 4}) == "index (1, 0, 4)");
  CHECK(d::unflatten<2>(7, {3, 4}) == std::array<index_t, 2>{1, 3});
}

TEST_CASE_TEMPLATE("require_finite's contiguous pass finds a non-finite value in any chunk", T,
                   float, double) {
  // The vectorised pass reads 4096 elements at a time: plant the value at chunk edges and tails.
  const index_t n = 10000;
  std::vector<T> b(static_cast<std::size_t>(n), T(1));
  b[1] = std::numeric_limits<T>::max();  // finite extremes pass
  b[2] = -std::numeric_limits<T>::max();
  b[3] = std::numeric_limits<T>::denorm_min();
  b[4] = T(-0.0);
  CHECK_NOTHROW(d::require_finite(ladle::make_view(b.data(), n), "f", "x"));
  const T bad[] = {std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity(),
                   -std::numeric_limits<T>::infinity()};
  for (const index_t at : {index_t(0), index_t(4095), index_t(4096), index_t(8191), n - 1})
    for (const T v : bad) {
      auto c = b;
      c[static_cast<std::size_t>(at)] = v;
      const std::string flat = "element " + std::to_string(at);
      const std::string rc = "row " + std::to_string(at / 4) + ", column " + std::to_string(at % 4);
      expect_error([&] { d::require_finite(ladle::make_view(c.data(), n), "f", "x"); },
                   {flat.c_str()});
      expect_error(
          [&] { d::require_finite(ladle::make_view(c.data(), {n / 4, index_t(4)}), "f", "x"); },
          {rc.c_str()});
    }
}

TEST_CASE("require_nonempty says which axis is empty") {
  std::vector<float> b(4);
  expect_error([&] { d::require_nonempty(ladle::make_view(b.data(), {7, 0}), "smote", "X"); },
               {"'X'", "no elements (shape 7 x 0)"});
  expect_error([&] { d::require_nonempty(ladle::make_view(b.data(), 0), "f", "y"); },
               {"'y' is empty"});
}

}  // namespace LADLE_TEST_FILE
}  // namespace
