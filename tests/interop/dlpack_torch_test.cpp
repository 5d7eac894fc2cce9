// from_dlpack against tensors exported by PyTorch (fixtures/make_dlpack_fixtures.py): each
// DLTensor is rebuilt over a copy of the tensor's storage, and the view must read exactly the
// values PyTorch reports, in row-major logical order.
#if defined(__has_include)
#  if __has_include(<dlpack/dlpack.h>)
#    define LADLE_TEST_HAVE_DLPACK 1
#  endif
#endif

#ifdef LADLE_TEST_HAVE_DLPACK
#  include <ladle/core/dtype.hpp>
#  include <ladle/interop/dlpack.hpp>

#  include "interop/fixtures/torch_dlpack_cases.hpp"

#  include <doctest/doctest.h>

#  include <array>
#  include <cstdint>
#  include <tuple>
#  include <type_traits>
#  include <vector>

using ladle::index_t;

namespace {

template <class T>
T from_double(double x) {
  if constexpr (std::is_integral<T>::value) {
    return static_cast<T>(x);
  } else if constexpr (std::is_same<T, float>::value || std::is_same<T, double>::value) {
    return static_cast<T>(x);
  } else {
    return ladle::from_float<T>(static_cast<float>(x));
  }
}

template <class T>
double to_double(T x) {
  if constexpr (std::is_integral<T>::value || std::is_same<T, float>::value ||
                std::is_same<T, double>::value) {
    return static_cast<double>(x);
  } else {
    return static_cast<double>(ladle::to_float(x));
  }
}

// Reads every element of the view in row-major order and compares with the expected values.
template <class T, std::size_t Rank>
void check_values(const ladle::tensor_view<const T, Rank>& v, const std::vector<double>& values) {
  REQUIRE(static_cast<std::size_t>(v.size()) == values.size());
  std::array<index_t, Rank> idx{};
  for (std::size_t k = 0; k < values.size(); ++k) {
    const T got = std::apply([&](auto... i) { return v(i...); }, idx);
    CHECK(to_double(got) == values[k]);
    for (std::size_t r = Rank; r-- > 0;) {  // odometer
      if (++idx[r] < v.extent(r)) break;
      idx[r] = 0;
    }
  }
}

template <class T, std::size_t Rank>
void check_case(const torch_dlpack::dl_case& c) {
  CAPTURE(c.name);
  std::vector<T> storage;
  for (double x : c.storage) storage.push_back(from_double<T>(x));
  std::vector<std::int64_t> shape = c.shape, strides = c.strides;

  DLTensor t{};
  t.device.device_type = static_cast<DLDeviceType>(c.device_type);
  t.ndim = static_cast<int>(c.shape.size());
  t.dtype.code = c.code;
  t.dtype.bits = c.bits;
  t.dtype.lanes = c.lanes;
  t.shape = shape.data();
  t.strides = c.has_strides ? strides.data() : nullptr;

  // As PyTorch exported it (data at the first element) ...
  t.data = storage.data() + c.first;
  t.byte_offset = c.byte_offset;
  check_values<T, Rank>(ladle::from_dlpack<const T, Rank>(t), c.values);
  // ... and the equivalent form with the storage base and a byte_offset.
  t.data = storage.data();
  t.byte_offset = c.byte_offset + static_cast<std::uint64_t>(c.first) * sizeof(T);
  const auto v = ladle::from_dlpack<const T, Rank>(t);
  check_values<T, Rank>(v, c.values);
  if (c.has_strides)
    for (std::size_t r = 0; r < Rank; ++r) CHECK(v.stride(r) == c.strides[r]);

  // And back: to_dlpack describes the same tensor.
  auto back = ladle::to_dlpack(v);
  check_values<T, Rank>(ladle::from_dlpack<const T, Rank>(back.get()), c.values);
}

template <class T>
void check_any_rank(const torch_dlpack::dl_case& c) {
  switch (c.shape.size()) {
    case 1:
      check_case<T, 1>(c);
      break;
    case 2:
      check_case<T, 2>(c);
      break;
    case 3:
      check_case<T, 3>(c);
      break;
    default:
      FAIL("unexpected rank in fixture");
  }
}

}  // namespace

TEST_CASE("from_dlpack reads PyTorch-exported tensors as PyTorch does") {
  const auto cases = torch_dlpack::cases();
  REQUIRE(cases.size() >= 9);
  for (const auto& c : cases) {
    REQUIRE(c.lanes == 1);
    if (c.code == kDLFloat && c.bits == 32)
      check_any_rank<float>(c);
    else if (c.code == kDLFloat && c.bits == 64)
      check_any_rank<double>(c);
    else if (c.code == kDLFloat && c.bits == 16)
      check_any_rank<ladle::half>(c);
    else if (c.code == kDLBfloat && c.bits == 16)
      check_any_rank<ladle::bfloat16>(c);
    else if (c.code == kDLInt && c.bits == 64)
      check_any_rank<std::int64_t>(c);
    else if (c.code == kDLInt && c.bits == 8)
      check_any_rank<std::int8_t>(c);
    else
      FAIL("unexpected dtype in fixture: ", c.name);
  }
}
#else
#  include <doctest/doctest.h>
TEST_CASE("DLPack torch fixtures (skipped: <dlpack/dlpack.h> not found)" * doctest::skip()) {}
#endif  // LADLE_TEST_HAVE_DLPACK
