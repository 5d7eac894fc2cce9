// libFuzzer target: view construction and DLPack import from arbitrary shape, strides,
// byte_offset, dtype and device fields; every accepted view is read end to end.
#include <ladle/interop/dlpack.hpp>
#include <ladle/core/tensor.hpp>

#include "fuzz_input.hpp"

#include <cstdint>
#include <vector>

namespace {

// Touches every element of an accepted view: under ASan an accepted view that reaches past the
// buffer is a crash.
template <class T, std::size_t R>
double touch(const ladle::tensor_view<T, R>& v) {
  ladle::tensor<std::remove_const_t<T>, R> copy(v);
  double s = 0;
  for (auto e : copy) s += static_cast<double>(e);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  std::vector<float> buf(256, 1.0f);
  const auto what = in.range(0, 2);
  fuzz::call([&] {
    if (what == 0) {  // make_view with arbitrary extents and strides; accepted views stay in buf
      const std::int64_t e0 = in.size(16), e1 = in.size(16), s0 = in.size(16) - 8, s1 = in.size(4) - 2;
      const auto v = ladle::make_view(static_cast<const float*>(buf.data()) + 128, {e0, e1}, {s0, s1});
      // Only read when the view provably lies inside the buffer (an empty view's other extents
      // may be anything: it addresses nothing).
      if (v.size() == 0) return;
      std::int64_t lo = 0, hi = 0;
      for (std::size_t r = 0; r < 2; ++r) {
        const std::int64_t reach = (v.extent(r) - 1) * v.stride(r);
        (reach < 0 ? lo : hi) += reach;
      }
      if (lo >= -128 && hi < 128) (void)touch(v);
      return;
    }
    if (what == 1) {  // tensor with hostile extents
      ladle::tensor<float, 2> t({in.size(64), in.size(64)});
      (void)t.size();
      return;
    }
    // DLPack import: the importer must refuse anything it cannot address.
    std::int64_t shape[3] = {in.size(8), in.size(8), in.size(8)};
    std::int64_t strides[3] = {in.size(64) - 32, in.size(8) - 4, in.size(4) - 2};
    DLTensor t{};
    t.data = in.take<std::uint8_t>() % 8 == 0 ? nullptr : static_cast<void*>(buf.data());
    std::int32_t dev = static_cast<std::int32_t>(in.range(-1, 17));
    std::memcpy(&t.device.device_type, &dev, sizeof(dev));
    t.device.device_id = static_cast<std::int32_t>(in.range(-2, 2));
    t.ndim = static_cast<std::int32_t>(in.range(-1, 3));
    t.dtype.code = static_cast<std::uint8_t>(in.range(0, 6));
    t.dtype.bits = static_cast<std::uint8_t>(in.range(0, 64));
    t.dtype.lanes = static_cast<std::uint16_t>(in.range(0, 2));
    t.shape = in.take<std::uint8_t>() % 16 == 0 ? nullptr : shape;
    t.strides = in.take<std::uint8_t>() % 2 ? nullptr : strides;
    t.byte_offset = static_cast<std::uint64_t>(in.range(0, 64)) * (in.take<std::uint8_t>() % 16 == 0 ? 1u << 31 : 1u);
    const auto v = ladle::from_dlpack<const float, 2>(t);
    if (!v.is_host() || v.size() == 0) return;
    std::int64_t lo = 0, hi = 0;
    for (std::size_t r = 0; r < 2; ++r) {
      const std::int64_t reach = (v.extent(r) - 1) * v.stride(r);
      (reach < 0 ? lo : hi) += reach;
    }
    const std::int64_t base = v.data() - static_cast<const float*>(buf.data());
    if (base + lo >= 0 && base + hi < 256) (void)touch(v);
  });
  return 0;
}
