// Bad-input matrix for the interop adaptors: DLPack import, Eigen, mdspan-like and span views.
#include <ladle/interop/dlpack.hpp>
#include <ladle/interop/eigen.hpp>
#include <ladle/interop/mdspan.hpp>
#include <ladle/interop/span.hpp>

#include "bad_input.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <vector>

using ladle::index_t;
using bad::kind;

namespace {

constexpr std::int64_t big = std::numeric_limits<std::int64_t>::max();

DLTensor dl(void* data, std::int64_t* shape, std::int64_t* strides, int ndim) {
  DLTensor t{};
  t.data = data;
  t.device.device_type = kDLCPU;
  t.ndim = ndim;
  t.dtype = ladle::dlpack_dtype<float>();
  t.shape = shape;
  t.strides = strides;
  return t;
}

// A minimal strided mdspan-like type: what from_mdspan reads.
struct fake_mdspan {
  struct ext {
    std::array<std::size_t, 2> e;
    std::size_t extent(std::size_t r) const { return e[r]; }
  };
  float* p;
  ext x;
  std::array<std::size_t, 2> s;
  static constexpr std::size_t rank() { return 2; }
  float* data_handle() const { return p; }
  const ext& extents() const { return x; }
  std::size_t stride(std::size_t r) const { return s[r]; }
};

}  // namespace

TEST_CASE("interop bad-input matrix") {
  std::vector<float> buf(16, 1.f);
  std::int64_t shape_overflow[2] = {big / 2, 3};
  std::int64_t shape_ok[2] = {4, 2};
  std::int64_t shape_neg[2] = {-1, 2};
  std::int64_t shape_zero[2] = {0, 2};
  std::int64_t strides_far[2] = {big / 2, 1};
  std::int64_t strides_min[2] = {std::numeric_limits<std::int64_t>::min(), 1};
  std::vector<std::uint8_t> raw(64);

  std::vector<bad::row> rows = {
      {"dlpack shape overflow", kind::invalid, {"ladle::from_dlpack", "'shape'", "64-bit"},
       [&] { auto t = dl(buf.data(), shape_overflow, nullptr, 2); ladle::from_dlpack<float, 2>(t); },
       {bad::of(buf)}},
      {"dlpack strides overflow", kind::invalid, {"ladle::from_dlpack", "'strides'", "addressable"},
       [&] { auto t = dl(buf.data(), shape_ok, strides_far, 2); ladle::from_dlpack<float, 2>(t); },
       {bad::of(buf)}},
      {"dlpack stride min", kind::invalid, {"ladle::from_dlpack", "'strides'"},
       [&] { auto t = dl(buf.data(), shape_ok, strides_min, 2); ladle::from_dlpack<float, 2>(t); },
       {bad::of(buf)}},
      {"dlpack negative extent", kind::invalid, {"ladle::from_dlpack", "'shape'", "-1"},
       [&] { auto t = dl(buf.data(), shape_neg, nullptr, 2); ladle::from_dlpack<float, 2>(t); },
       {bad::of(buf)}},
      {"dlpack null data", kind::invalid, {"ladle::from_dlpack", "'data'", "8 elements"},
       [&] { auto t = dl(nullptr, shape_ok, nullptr, 2); ladle::from_dlpack<float, 2>(t); }, {}},
      {"dlpack null shape", kind::invalid, {"ladle::from_dlpack", "'shape'", "null"},
       [&] { auto t = dl(buf.data(), nullptr, nullptr, 2); ladle::from_dlpack<float, 2>(t); },
       {bad::of(buf)}},
      {"dlpack wrong ndim", kind::invalid, {"ladle::from_dlpack", "'ndim'"},
       [&] { auto t = dl(buf.data(), shape_ok, nullptr, 2); ladle::from_dlpack<float, 1>(t); },
       {bad::of(buf)}},
      {"dlpack wrong dtype", kind::invalid, {"ladle::from_dlpack", "'dtype'"},
       [&] { auto t = dl(buf.data(), shape_ok, nullptr, 2); ladle::from_dlpack<double, 2>(t); },
       {bad::of(buf)}},
      {"dlpack misaligned", kind::invalid, {"ladle::from_dlpack", "'byte_offset'"},
       [&] { auto t = dl(raw.data(), shape_ok, nullptr, 2); t.byte_offset = 1; ladle::from_dlpack<float, 2>(t); },
       {bad::of(raw)}},
      {"dlpack byte_offset huge", kind::invalid, {"ladle::from_dlpack", "'byte_offset'"},
       [&] { auto t = dl(raw.data(), shape_ok, nullptr, 2); t.byte_offset = ~std::uint64_t{0}; ladle::from_dlpack<float, 2>(t); },
       {bad::of(raw)}},
      {"dlpack unknown device", kind::invalid, {"ladle::from_dlpack", "'device'"},
       [&] { auto t = dl(buf.data(), shape_ok, nullptr, 2); t.device.device_type = static_cast<DLDeviceType>(99); ladle::from_dlpack<float, 2>(t); },
       {bad::of(buf)}},
      {"dlpack null managed", kind::invalid, {"ladle::from_dlpack", "'managed tensor'"},
       [&] { ladle::from_dlpack<float, 2>(static_cast<const DLManagedTensor*>(nullptr)); }, {}},
      {"mdspan stride overflow", kind::invalid, {"ladle::from_mdspan", "'m'", "addressable"},
       [&] { ladle::from_mdspan(fake_mdspan{buf.data(), {{4, 2}}, {{std::size_t(big / 2), 1}}}); },
       {bad::of(buf)}},
      {"mdspan extent beyond index_t", kind::invalid, {"ladle::from_mdspan", "'m'"},
       [&] { ladle::from_mdspan(fake_mdspan{buf.data(), {{std::size_t(-1), 2}}, {{2, 1}}}); },
       {bad::of(buf)}},
      {"mdspan negative stride (as size_t)", kind::invalid, {"ladle::from_mdspan", "'m'"},
       [&] { ladle::from_mdspan(fake_mdspan{buf.data(), {{2, 2}}, {{std::size_t(std::numeric_limits<std::int64_t>::min()), 1}}}); },
       {bad::of(buf)}},
      {"from_pointer negative", kind::invalid, {"ladle::from_pointer", "'size'"},
       [&] { ladle::from_pointer(buf.data(), -1); }, {bad::of(buf)}},
      {"from_pointer null", kind::invalid, {"ladle::from_pointer", "'data'"},
       [&] { ladle::from_pointer(static_cast<float*>(nullptr), 3); }, {}},
      {"from_pointer row_length 0", kind::invalid, {"ladle::from_pointer", "'row_length'"},
       [&] { ladle::from_pointer(buf.data(), 16, 0); }, {bad::of(buf)}},
      {"from_vector row_length not dividing", kind::invalid, {"ladle::from_vector", "'row_length'"},
       [&] { ladle::from_vector(buf, 5); }, {bad::of(buf)}},
      {"to_eigen negative stride", kind::invalid, {"ladle::to_eigen", "'view'", "negative"},
       [&] { ladle::to_eigen(ladle::make_view(buf.data() + 15, {4}, {-1})); }, {bad::of(buf)}},
      {"to_eigen device", kind::invalid, {"ladle::to_eigen", "'view'", "device"},
       [&] { ladle::to_eigen(ladle::make_view(buf.data(), {4}, ladle::device::cuda(0))); }, {bad::of(buf)}},
      {"to_eigen_row_major column stride", kind::invalid, {"ladle::to_eigen_row_major", "'view'"},
       [&] { ladle::to_eigen_row_major(ladle::make_view(buf.data(), {2, 2}, {4, 2})); }, {bad::of(buf)}},
  };
  const std::size_t n = bad::run_matrix(rows);
  MESSAGE("interop bad-input matrix: " << n << " cases");

  // Empty but valid shapes import.
  auto t = dl(nullptr, shape_zero, nullptr, 2);
  CHECK(ladle::from_dlpack<float, 2>(t).empty());
  CHECK(ladle::from_dlpack<float, 2>(t).is_contiguous());
}
