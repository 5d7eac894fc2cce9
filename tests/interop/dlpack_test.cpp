// DLPack adaptors against the installed DLPack header (Debian libdlpack-dev is DLPack 0.6).
// The DLPack >= 1.0 paths (versioned tensors, read-only flag) are tested in tests/interop_v1/.
#if defined(__has_include)
#  if __has_include(<dlpack/dlpack.h>)
#    define LADLE_TEST_HAVE_DLPACK 1
#  endif
#endif

#ifdef LADLE_TEST_HAVE_DLPACK
#  include <ladle/interop/dlpack.hpp>

#  include <doctest/doctest.h>

#  include <cstdint>
#  include <cstring>
#  include <numeric>
#  include <string>
#  include <type_traits>
#  include <utility>
#  include <vector>

using ladle::index_t;

namespace {

DLTensor make_tensor(void* data, std::int64_t* shape, int ndim, DLDataType dtype,
                     std::int64_t* strides = nullptr) {
  DLTensor t{};
  t.data = data;
  t.device.device_type = kDLCPU;
  t.device.device_id = 0;
  t.ndim = ndim;
  t.dtype = dtype;
  t.shape = shape;
  t.strides = strides;
  t.byte_offset = 0;
  return t;
}

DLDataType dt(std::uint8_t code, std::uint8_t bits, std::uint16_t lanes = 1) {
  DLDataType d{};
  d.code = code;
  d.bits = bits;
  d.lanes = lanes;
  return d;
}

// The message of the ladle::invalid_argument f throws (empty if none).
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

}  // namespace

TEST_CASE("dlpack_dtype: ladle element types map to DLPack codes") {
  CHECK(ladle::dlpack_dtype<float>().code == kDLFloat);
  CHECK(ladle::dlpack_dtype<float>().bits == 32);
  CHECK(ladle::dlpack_dtype<const double>().bits == 64);
  CHECK(ladle::dlpack_dtype<ladle::half>().code == kDLFloat);
  CHECK(ladle::dlpack_dtype<ladle::half>().bits == 16);
  CHECK(ladle::dlpack_dtype<ladle::bfloat16>().code == kDLBfloat);
  CHECK(ladle::dlpack_dtype<ladle::bfloat16>().bits == 16);
  CHECK(ladle::dlpack_dtype<std::int8_t>().code == kDLInt);
  CHECK(ladle::dlpack_dtype<std::uint16_t>().code == kDLUInt);
  CHECK(ladle::dlpack_dtype<std::int64_t>().bits == 64);
  CHECK(ladle::dlpack_dtype<float>().lanes == 1);
}

TEST_CASE("from_dlpack: compact row-major tensor (NULL strides)") {
  std::vector<float> buf(12);
  std::iota(buf.begin(), buf.end(), 0.f);
  std::int64_t shape[] = {3, 4};
  DLTensor t = make_tensor(buf.data(), shape, 2, dt(kDLFloat, 32));
  auto v = ladle::from_dlpack<float, 2>(t);
  static_assert(std::is_same<decltype(v), ladle::matrix_view<float>>::value, "");
  CHECK(v.data() == buf.data());
  CHECK(v.extent(0) == 3);
  CHECK(v.extent(1) == 4);
  CHECK(v.stride(0) == 4);
  CHECK(v.stride(1) == 1);
  CHECK(v.is_host());
  CHECK(v(2, 3) == 11.f);

  auto cv = ladle::from_dlpack<const float, 2>(t);
  static_assert(std::is_same<decltype(cv), ladle::matrix_view<const float>>::value, "");
  CHECK(cv(1, 1) == 5.f);

  std::int64_t n[] = {12};
  DLTensor flat = make_tensor(buf.data(), n, 1, dt(kDLFloat, 32));
  CHECK(ladle::from_dlpack<float, 1>(flat)(7) == 7.f);
}

TEST_CASE("from_dlpack: explicit strides are kept (transposed, strided, negative, broadcast)") {
  std::vector<double> buf(24);
  std::iota(buf.begin(), buf.end(), 0.0);
  std::int64_t shape[] = {4, 3};

  std::int64_t transposed[] = {1, 4};  // a 3x4 row-major array seen transposed
  DLTensor t = make_tensor(buf.data(), shape, 2, dt(kDLFloat, 64), transposed);
  auto v = ladle::from_dlpack<double, 2>(t);
  CHECK(v.stride(0) == 1);
  CHECK(v.stride(1) == 4);
  CHECK(v(3, 2) == 11.0);

  std::int64_t every_other[] = {6, 2};
  t.strides = every_other;
  auto s = ladle::from_dlpack<double, 2>(t);
  CHECK(s(3, 2) == 22.0);

  std::int64_t flipped[] = {-3, 1};  // rows in reverse, data points at the last row
  t.data = buf.data() + 9;
  t.strides = flipped;
  auto f = ladle::from_dlpack<double, 2>(t);
  CHECK(f.stride(0) == -3);
  CHECK(f(0, 0) == 9.0);
  CHECK(f(3, 2) == 2.0);

  std::int64_t broadcast[] = {0, 1};
  t.data = buf.data();
  t.strides = broadcast;
  auto b = ladle::from_dlpack<double, 2>(t);
  CHECK(b(3, 1) == 1.0);
}

TEST_CASE("from_dlpack: byte_offset is applied") {
  std::vector<float> buf(10);
  std::iota(buf.begin(), buf.end(), 0.f);
  std::int64_t shape[] = {2, 2};
  DLTensor t = make_tensor(buf.data(), shape, 2, dt(kDLFloat, 32));
  t.byte_offset = 3 * sizeof(float);
  auto v = ladle::from_dlpack<float, 2>(t);
  CHECK(v.data() == buf.data() + 3);
  CHECK(v(1, 1) == 6.f);
}

TEST_CASE("from_dlpack: half and bfloat16") {
  std::vector<ladle::half> h = {ladle::half(1.f), ladle::half(-2.f), ladle::half(0.5f)};
  std::int64_t shape[] = {3};
  DLTensor th = make_tensor(h.data(), shape, 1, dt(kDLFloat, 16));
  CHECK(ladle::to_float(ladle::from_dlpack<ladle::half, 1>(th)(1)) == -2.f);
  // a float16 tensor is not bfloat16, and vice versa
  CHECK_THROWS_AS((ladle::from_dlpack<ladle::bfloat16, 1>(th)), ladle::invalid_argument);

  std::vector<ladle::bfloat16> b = {ladle::bfloat16(3.f), ladle::bfloat16(0.25f),
                                    ladle::bfloat16(8.f)};
  DLTensor tb = make_tensor(b.data(), shape, 1, dt(kDLBfloat, 16));
  CHECK(ladle::to_float(ladle::from_dlpack<const ladle::bfloat16, 1>(tb)(2)) == 8.f);
  CHECK_THROWS_AS((ladle::from_dlpack<ladle::half, 1>(tb)), ladle::invalid_argument);
}

TEST_CASE("from_dlpack: devices") {
  float x[4] = {};
  std::int64_t shape[] = {4};
  DLTensor t = make_tensor(x, shape, 1, dt(kDLFloat, 32));

  t.device.device_type = kDLCUDAHost;  // pinned host memory
  CHECK(ladle::from_dlpack<float, 1>(t).is_host());

  t.device.device_type = kDLCUDA;
  t.device.device_id = 3;
  auto g = ladle::from_dlpack<float, 1>(t);
  CHECK(g.device() == ladle::device::cuda(3));

  t.device.device_type = kDLCUDAManaged;
  t.device.device_id = 1;
  CHECK(ladle::from_dlpack<float, 1>(t).device() == ladle::device::cuda(1));

  for (DLDeviceType other : {kDLOpenCL, kDLVulkan, kDLMetal, kDLROCM, kDLROCMHost, kDLExtDev}) {
    t.device.device_type = other;
    const std::string msg = refusal([&] { ladle::from_dlpack<float, 1>(t); });
    CHECK(contains(msg, "'device'"));
    CHECK(contains(msg, "expected cpu"));
  }
  t.device.device_type = kDLROCM;
  CHECK(contains(refusal([&] { ladle::from_dlpack<float, 1>(t); }), "rocm (device_type 10)"));
  const std::int32_t unknown = 99;  // as a C producer may store it
  std::memcpy(&t.device.device_type, &unknown, sizeof(unknown));
  CHECK(contains(refusal([&] { ladle::from_dlpack<float, 1>(t); }), "device_type 99"));
}

TEST_CASE("from_dlpack: every refusal names the field, what was found and what was expected") {
  std::vector<float> buf(16, 1.f);
  std::int64_t shape[] = {4, 4};
  const DLTensor good = make_tensor(buf.data(), shape, 2, dt(kDLFloat, 32));
  CHECK_NOTHROW(ladle::from_dlpack<float, 2>(good));

  DLTensor t = good;
  t.dtype = dt(kDLFloat, 64);
  std::string msg = refusal([&] { ladle::from_dlpack<float, 2>(t); });
  CHECK(contains(msg, "ladle::from_dlpack: 'dtype' is float64"));
  CHECK(contains(msg, "expected float32"));

  t = good;
  t.dtype = dt(kDLInt, 32);
  CHECK(contains(refusal([&] { ladle::from_dlpack<float, 2>(t); }), "is int32"));
  CHECK_THROWS_AS((ladle::from_dlpack<std::uint32_t, 2>(t)), ladle::invalid_argument);
  CHECK_NOTHROW(ladle::from_dlpack<std::int32_t, 2>(t));

  t = good;
  t.dtype = dt(kDLFloat, 32, 4);  // float4 vectors
  msg = refusal([&] { ladle::from_dlpack<float, 2>(t); });
  CHECK(contains(msg, "float32x4"));
  CHECK(contains(msg, "lanes 4"));

  t = good;
  t.dtype = dt(kDLComplex, 64);
  CHECK(contains(refusal([&] { ladle::from_dlpack<float, 2>(t); }), "complex64"));

  t = good;  // wrong rank, both ways
  msg = refusal([&] { ladle::from_dlpack<float, 3>(t); });
  CHECK(contains(msg, "'ndim' is 2, expected 3"));
  CHECK(contains(refusal([&] { ladle::from_dlpack<float, 1>(t); }), "'ndim' is 2, expected 1"));

  t = good;
  t.data = nullptr;
  msg = refusal([&] { ladle::from_dlpack<float, 2>(t); });
  CHECK(contains(msg, "'data' is null"));
  CHECK(contains(msg, "16 elements"));

  t = good;
  t.byte_offset = 2;  // half a float
  msg = refusal([&] { ladle::from_dlpack<float, 2>(t); });
  CHECK(contains(msg, "'byte_offset' is 2"));
  CHECK(contains(msg, "multiple of 4"));

  t = good;
  t.shape = nullptr;
  CHECK(contains(refusal([&] { ladle::from_dlpack<float, 2>(t); }), "'shape' is null"));

  std::int64_t negative[] = {4, -1};
  t = good;
  t.shape = negative;
  CHECK(contains(refusal([&] { ladle::from_dlpack<float, 2>(t); }), "extent -1 on axis 1"));

  t = good;
  t.device.device_type = kDLCUDA;
  t.device.device_id = -1;
  CHECK(contains(refusal([&] { ladle::from_dlpack<float, 2>(t); }), "device_id -1"));

  CHECK_THROWS_AS((ladle::from_dlpack<float, 2>(static_cast<const DLManagedTensor*>(nullptr))),
                  ladle::invalid_argument);
}

TEST_CASE("from_dlpack: empty tensors may have null data") {
  std::int64_t shape[] = {0, 5};
  DLTensor t = make_tensor(nullptr, shape, 2, dt(kDLFloat, 32));
  t.byte_offset = 64;  // ignored without data
  auto v = ladle::from_dlpack<float, 2>(t);
  CHECK(v.empty());
  CHECK(v.extent(1) == 5);
  CHECK(v.data() == nullptr);
}

TEST_CASE("to_dlpack: describes the view, and round-trips through from_dlpack") {
  std::vector<float> buf(20);
  std::iota(buf.begin(), buf.end(), 0.f);
  auto v = ladle::make_view(buf.data() + 1, {3, 4}, {5, 1});
  auto dl = ladle::to_dlpack(v);
  const DLTensor& t = dl.get();
  CHECK(t.data == buf.data() + 1);
  CHECK(t.device.device_type == kDLCPU);
  CHECK(t.ndim == 2);
  CHECK(t.dtype.code == kDLFloat);
  CHECK(t.dtype.bits == 32);
  CHECK(t.dtype.lanes == 1);
  CHECK(t.shape[0] == 3);
  CHECK(t.shape[1] == 4);
  CHECK(t.strides[0] == 5);
  CHECK(t.strides[1] == 1);
  CHECK(t.byte_offset == 0);

  auto back = ladle::from_dlpack<float, 2>(t);
  CHECK(back.data() == v.data());
  CHECK(back.extents() == v.extents());
  CHECK(back.strides() == v.strides());

  // Column-major and negative strides survive the round trip.
  auto cm = ladle::make_view(buf.data() + 11, {4, 3}, {-1, 4});
  auto dcm = ladle::to_dlpack(cm);
  auto cm_back = ladle::from_dlpack<float, 2>(dcm.get());
  CHECK(cm_back.strides() == cm.strides());
  CHECK(cm_back(3, 2) == cm(3, 2));

  // Device views keep their ordinal; bf16 and const views keep their dtype.
  auto gpu = ladle::make_view(buf.data(), {20}, ladle::device::cuda(2));
  auto dg = ladle::to_dlpack(gpu);
  CHECK(dg.get().device.device_type == kDLCUDA);
  CHECK(dg.get().device.device_id == 2);
  CHECK(ladle::from_dlpack<float, 1>(dg.get()).device() == ladle::device::cuda(2));

  std::vector<ladle::bfloat16> b(6, ladle::bfloat16(1.5f));
  auto db = ladle::to_dlpack(ladle::as_const(ladle::make_view(b.data(), {2, 3})));
  CHECK(db.get().dtype.code == kDLBfloat);
  CHECK(ladle::to_float(ladle::from_dlpack<const ladle::bfloat16, 2>(db.get())(1, 2)) == 1.5f);
}

TEST_CASE("dlpack_tensor: copies and moves point at their own shape and strides") {
  std::vector<double> buf(6);
  auto a = ladle::to_dlpack(ladle::make_view(buf.data(), {2, 3}));
  ladle::dlpack_tensor<2> copy = a;
  CHECK(copy.get().shape != a.get().shape);
  CHECK(copy.get().shape[1] == 3);
  CHECK(copy.get().strides[0] == 3);

  ladle::dlpack_tensor<2> moved = std::move(copy);
  CHECK(moved.get().shape[1] == 3);
  CHECK(static_cast<const void*>(moved.get().strides) >= static_cast<const void*>(&moved));
  CHECK(static_cast<const void*>(moved.get().strides) < static_cast<const void*>(&moved + 1));

  auto other = ladle::to_dlpack(ladle::make_view(buf.data(), {3, 2}));
  other = a;
  CHECK(other.get().shape != a.get().shape);
  CHECK(other.get().shape[0] == 2);

  std::vector<ladle::dlpack_tensor<2>> many;
  for (int i = 0; i < 5; ++i)
    many.push_back(ladle::to_dlpack(ladle::make_view(buf.data(), {1, i + 1})));
  for (int i = 0; i < 5; ++i) {  // after reallocations every copy still points into itself
    const DLTensor& t = many[static_cast<std::size_t>(i)].get();
    CHECK(t.shape[1] == i + 1);
    CHECK(static_cast<const void*>(t.shape) >=
          static_cast<const void*>(&many[static_cast<std::size_t>(i)]));
    CHECK(static_cast<const void*>(t.shape) <
          static_cast<const void*>(&many[static_cast<std::size_t>(i)] + 1));
  }
}

TEST_CASE("to_dlpack_managed: a consumer can read it and its deleter frees the metadata") {
  std::vector<std::int16_t> buf(12);
  std::iota(buf.begin(), buf.end(), std::int16_t(0));
  auto v = ladle::make_view(buf.data(), {3, 4}, {1, 3});
  DLManagedTensor* m = ladle::to_dlpack_managed(v);
  REQUIRE(m != nullptr);
  REQUIRE(static_cast<bool>(m->deleter));
  CHECK(m->dl_tensor.dtype.code == kDLInt);
  CHECK(m->dl_tensor.dtype.bits == 16);
  auto back = ladle::from_dlpack<std::int16_t, 2>(m);
  CHECK(back.strides() == v.strides());
  CHECK(back(2, 3) == v(2, 3));
  m->deleter(m);  // frees the metadata only (ASan would flag a leak or a double free)
  CHECK(buf[11] == 11);
}
#else
#  include <doctest/doctest.h>
TEST_CASE("DLPack interop (skipped: <dlpack/dlpack.h> not found)" * doctest::skip()) {}
#endif  // LADLE_TEST_HAVE_DLPACK
