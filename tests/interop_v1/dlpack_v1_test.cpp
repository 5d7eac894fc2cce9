// DLPack >= 1.0 paths of ladle/interop/dlpack.hpp (versioned managed tensors, the read-only flag),
// against the test-only DLPack 1.1 header beside this file. This is its own executable: a program
// must not mix it with translation units that see the packaged (0.6) header, since the two define
// DLTensor and DLDevice differently.
// clang-format off
#include "dlpack/dlpack.h"  // first: the guard makes ladle's <dlpack/dlpack.h> resolve to it
#include <ladle/interop/dlpack.hpp>
// clang-format on

#include <doctest/doctest.h>

#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

static_assert(LADLE_DLPACK_HAS_VERSIONED == 1, "the DLPack 1.x test header was not picked up");

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

}  // namespace

TEST_CASE("dlpack v1: versioned round trip of a writable view") {
  std::vector<float> buf(12);
  std::iota(buf.begin(), buf.end(), 0.f);
  auto v = ladle::make_view(buf.data(), {4, 3}, {1, 4});
  DLManagedTensorVersioned* m = ladle::to_dlpack_versioned(v);
  REQUIRE(m != nullptr);
  CHECK(m->version.major == DLPACK_MAJOR_VERSION);
  CHECK(m->version.minor == DLPACK_MINOR_VERSION);
  CHECK(m->flags == 0);
  CHECK(m->dl_tensor.ndim == 2);
  CHECK(m->dl_tensor.strides[1] == 4);

  auto w = ladle::from_dlpack<float, 2>(m);
  CHECK(w.strides() == v.strides());
  w(3, 2) = -1.f;
  CHECK(buf[11] == -1.f);
  auto r = ladle::from_dlpack<const float, 2>(m);  // a writable tensor may be viewed read-only
  CHECK(r(3, 2) == -1.f);
  m->deleter(m);
}

TEST_CASE("dlpack v1: read-only tensors give only const views") {
  std::vector<double> buf(6, 2.0);
  auto cv = ladle::as_const(ladle::make_view(buf.data(), {2, 3}));
  DLManagedTensorVersioned* m = ladle::to_dlpack_versioned(cv);
  CHECK((m->flags & DLPACK_FLAG_BITMASK_READ_ONLY) != 0);
  const std::string msg = refusal([&] { ladle::from_dlpack<double, 2>(m); });
  CHECK(contains(msg, "ladle::from_dlpack: 'flags'"));
  CHECK(contains(msg, "read-only"));
  CHECK(ladle::from_dlpack<const double, 2>(m)(1, 2) == 2.0);

  // The other flags do not matter to a view.
  m->flags = DLPACK_FLAG_BITMASK_IS_COPIED;
  CHECK_NOTHROW(ladle::from_dlpack<double, 2>(m));
  m->deleter(m);
}

TEST_CASE("dlpack v1: other major versions and null pointers are refused") {
  float x[2] = {1.f, 2.f};
  DLManagedTensorVersioned* m = ladle::to_dlpack_versioned(ladle::make_view(x, 2));
  m->version.major = 2;
  const std::string msg = refusal([&] { ladle::from_dlpack<float, 1>(m); });
  CHECK(contains(msg, "'version' has major 2, expected 1"));
  m->version.major = 0;
  CHECK_THROWS_AS((ladle::from_dlpack<const float, 1>(m)), ladle::invalid_argument);
  m->deleter(m);  // the deleter stays callable whatever the version says

  CHECK_THROWS_AS(
      (ladle::from_dlpack<float, 1>(static_cast<const DLManagedTensorVersioned*>(nullptr))),
      ladle::invalid_argument);
}

TEST_CASE("dlpack v1: the DLTensor checks still apply, with the newer codes named") {
  std::vector<std::uint8_t> buf(8, 1);
  std::int64_t shape[] = {8};
  DLTensor t{};
  t.data = buf.data();
  t.device.device_type = kDLCPU;
  t.ndim = 1;
  t.dtype.code = kDLUInt;
  t.dtype.bits = 8;
  t.dtype.lanes = 1;
  t.shape = shape;
  CHECK(ladle::from_dlpack<std::uint8_t, 1>(t)(7) == 1);

  t.dtype.code = kDLBool;
  CHECK(contains(refusal([&] { ladle::from_dlpack<std::uint8_t, 1>(t); }), "is bool8"));
  t.dtype.code = kDLFloat8_e4m3fn;
  CHECK(contains(refusal([&] { ladle::from_dlpack<std::uint8_t, 1>(t); }), "code 10 bits 8"));

  t.dtype.code = kDLUInt;
  t.device.device_type = kDLOneAPI;
  CHECK(contains(refusal([&] { ladle::from_dlpack<std::uint8_t, 1>(t); }),
                 "oneapi (device_type 14)"));
}

TEST_CASE("dlpack v1: the legacy managed tensor is still produced and accepted") {
  std::vector<ladle::half> buf(4, ladle::half(0.5f));
  DLManagedTensor* m = ladle::to_dlpack_managed(ladle::make_view(buf.data(), {2, 2}));
  CHECK(ladle::to_float(ladle::from_dlpack<ladle::half, 2>(m)(1, 1)) == 0.5f);
  m->deleter(m);
}
