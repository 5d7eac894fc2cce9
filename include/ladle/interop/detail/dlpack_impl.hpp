// ladle/interop/detail/dlpack_impl.hpp: definitions for ladle/interop/dlpack.hpp.
#pragma once

#include "ladle/core/dtype.hpp"
#include "ladle/core/error.hpp"
#include "ladle/core/view.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

namespace ladle {
namespace detail {

template <class T, class = void>
struct has_dtype : std::false_type {};
template <class T>
struct has_dtype<T, std::void_t<decltype(dtype_of<T>::value)>> : std::true_type {};

// "float32", "bfloat16", "uint8", "complex64", "float32x4" (4 lanes), "code 9 bits 8".
inline std::string dlpack_dtype_name(DLDataType t) {
  static const char* const names[] = {"int",    "uint",    "float", "opaque",
                                      "bfloat", "complex", "bool"};
  std::string s = t.code < sizeof(names) / sizeof(names[0])
                      ? concat(names[t.code], int(t.bits))
                      : concat("code ", int(t.code), " bits ", int(t.bits));
  if (t.lanes != 1) s += concat("x", t.lanes);
  return s;
}

inline std::string dlpack_device_name(std::int32_t type) {
  static const char* const names[] = {"?",      "cpu",       "cuda",    "cuda_host",    "opencl",
                                      "?",      "?",         "vulkan",  "metal",        "vpi",
                                      "rocm",   "rocm_host", "ext_dev", "cuda_managed", "oneapi",
                                      "webgpu", "hexagon"};
  if (type >= 0 && type < std::int32_t(sizeof(names) / sizeof(names[0])) && names[type][0] != '?')
    return concat(names[type], " (device_type ", type, ")");
  return concat("device_type ", type);
}

inline device dlpack_device(const DLDevice& d, const char* fn) {
  // Read the enum's bytes: a C producer may store a code this header's enum cannot hold, and
  // loading such a value as the C++ enum would be undefined.
  static_assert(sizeof(d.device_type) == sizeof(std::int32_t), "DLDeviceType is not 32-bit");
  std::int32_t type = 0;
  std::memcpy(&type, &d.device_type, sizeof(type));
  const auto id = static_cast<std::int32_t>(d.device_id);
  if (type == kDLCPU || type == kDLCUDAHost) return device::host();
  if (type == kDLCUDA || type == kDLCUDAManaged) {
    if (id < 0) throw_invalid_argument(fn, "device", "has device_id ", id, ", expected >= 0");
    return device::cuda(id);
  }
  throw_invalid_argument(fn, "device", "is ", dlpack_device_name(type),
                         ", expected cpu, cuda_host (host memory), cuda or cuda_managed");
}

template <class T, std::size_t Rank>
tensor_view<T, Rank> view_of_dltensor(const DLTensor& t, const char* fn) {
  static_assert(has_dtype<std::remove_cv_t<T>>::value,
                "ladle::from_dlpack: T has no DLPack dtype (use float, double, ladle::half, "
                "ladle::bfloat16 or an integer type)");
  const device dev = dlpack_device(t.device, fn);
  if (t.ndim != static_cast<decltype(t.ndim)>(Rank))
    throw_invalid_argument(fn, "ndim", "is ", t.ndim, ", expected ", Rank);
  const DLDataType want = dlpack_dtype<std::remove_cv_t<T>>();
  if (t.dtype.code != want.code || t.dtype.bits != want.bits || t.dtype.lanes != want.lanes)
    throw_invalid_argument(fn, "dtype", "is ", dlpack_dtype_name(t.dtype), " (code ",
                           int(t.dtype.code), ", bits ", int(t.dtype.bits), ", lanes ",
                           t.dtype.lanes, "), expected ", dlpack_dtype_name(want), " (code ",
                           int(want.code), ", bits ", int(want.bits), ", lanes 1)");
  if (t.shape == nullptr) throw_invalid_argument(fn, "shape", "is null for ndim ", t.ndim);

  std::array<index_t, Rank> extents{}, strides{};
  for (std::size_t r = 0; r < Rank; ++r) {
    if (t.shape[r] < 0)
      throw_invalid_argument(fn, "shape", "has extent ", t.shape[r], " on axis ", r,
                             ", expected >= 0");
    extents[r] = static_cast<index_t>(t.shape[r]);
  }
  // The element count must fit index_t (and the strides, below, an addressable range) before
  // anything is computed from them.
  const index_t count = checked_size(extents, fn, "shape");
  if (t.strides == nullptr) {
    strides = tensor_view<T, Rank>::row_major_strides(extents);
  } else {
    for (std::size_t r = 0; r < Rank; ++r) strides[r] = static_cast<index_t>(t.strides[r]);
  }
  check_layout(extents, strides, sizeof(T), fn, t.strides == nullptr ? "shape" : "strides");

  if (t.data == nullptr) {
    if (count != 0)
      throw_invalid_argument(fn, "data", "is null, expected a pointer to ", count, " elements");
    return tensor_view<T, Rank>(nullptr, extents, strides, dev);
  }
  if (t.byte_offset > static_cast<std::uint64_t>(std::numeric_limits<index_t>::max()))
    throw_invalid_argument(fn, "byte_offset", "is ", t.byte_offset, ", too large to address");
  const std::uintptr_t address =
      reinterpret_cast<std::uintptr_t>(t.data) + static_cast<std::uintptr_t>(t.byte_offset);
  if (address % alignof(T) != 0)
    throw_invalid_argument(fn, "byte_offset", "is ", t.byte_offset, ": data + byte_offset is ",
                           address % alignof(T), " bytes past a ", alignof(T),
                           "-byte boundary, expected a multiple of ", alignof(T), " (alignment of ",
                           dlpack_dtype_name(want), ")");
  T* data = reinterpret_cast<T*>(static_cast<char*>(t.data) + t.byte_offset);
  return tensor_view<T, Rank>(data, extents, strides, dev);
}

template <class T, std::size_t Rank>
void describe_view(const tensor_view<T, Rank>& v, DLTensor& t, std::int64_t* shape,
                   std::int64_t* strides) noexcept {
  t.data = const_cast<void*>(static_cast<const void*>(v.data()));
  if (v.is_host()) {
    t.device.device_type = kDLCPU;
    t.device.device_id = 0;
  } else {
    t.device.device_type = kDLCUDA;
    t.device.device_id = v.device().ordinal;
  }
  t.ndim = static_cast<decltype(t.ndim)>(Rank);
  t.dtype = dlpack_dtype<std::remove_cv_t<T>>();
  for (std::size_t r = 0; r < Rank; ++r) {
    shape[r] = static_cast<std::int64_t>(v.extent(r));
    strides[r] = static_cast<std::int64_t>(v.stride(r));
  }
  t.shape = shape;
  t.strides = strides;
  t.byte_offset = 0;
}

// Heap block behind to_dlpack_managed / to_dlpack_versioned: the struct handed out plus the
// arrays its DLTensor points to; manager_ctx points back at the block.
template <class Managed, std::size_t Rank>
struct dlpack_managed_block {
  Managed managed{};
  std::array<std::int64_t, Rank> shape{};
  std::array<std::int64_t, Rank> strides{};

  static void deleter(Managed* self) noexcept {
    if (self != nullptr) delete static_cast<dlpack_managed_block*>(self->manager_ctx);
  }
};

template <class Managed, class T, std::size_t Rank>
dlpack_managed_block<Managed, Rank>* new_managed_block(const tensor_view<T, Rank>& v) {
  auto* block = new dlpack_managed_block<Managed, Rank>();
  describe_view(v, block->managed.dl_tensor, block->shape.data(), block->strides.data());
  block->managed.manager_ctx = block;
  block->managed.deleter = &dlpack_managed_block<Managed, Rank>::deleter;
  return block;
}

}  // namespace detail

template <class T>
constexpr DLDataType dlpack_dtype() noexcept {
  static_assert(detail::has_dtype<std::remove_cv_t<T>>::value,
                "ladle::dlpack_dtype: T has no DLPack dtype (use float, double, ladle::half, "
                "ladle::bfloat16 or an integer type)");
  constexpr dtype d = dtype_v<T>;  // ladle's dtype codes are DLPack's
  DLDataType t{};
  t.code = static_cast<std::uint8_t>(d.code);
  t.bits = d.bits;
  t.lanes = 1;
  return t;
}

template <class T, std::size_t Rank>
tensor_view<T, Rank> from_dlpack(const DLTensor& t) {
  return detail::view_of_dltensor<T, Rank>(t, "from_dlpack");
}

template <class T, std::size_t Rank>
tensor_view<T, Rank> from_dlpack(const DLManagedTensor* m) {
  if (m == nullptr) throw_invalid_argument("from_dlpack", "managed tensor", "is null");
  return detail::view_of_dltensor<T, Rank>(m->dl_tensor, "from_dlpack");
}

#if LADLE_DLPACK_HAS_VERSIONED
template <class T, std::size_t Rank>
tensor_view<T, Rank> from_dlpack(const DLManagedTensorVersioned* m) {
  if (m == nullptr) throw_invalid_argument("from_dlpack", "managed tensor", "is null");
  if (m->version.major != static_cast<std::uint32_t>(DLPACK_MAJOR_VERSION))
    throw_invalid_argument("from_dlpack", "version", "has major ", m->version.major, ", expected ",
                           DLPACK_MAJOR_VERSION,
                           " (the tensor cannot be read; only its deleter may be called)");
  if (!std::is_const<T>::value && (m->flags & DLPACK_FLAG_BITMASK_READ_ONLY) != 0)
    throw_invalid_argument("from_dlpack", "flags",
                           "mark the tensor read-only, expected a writable tensor for a view of "
                           "non-const T (ask for a view of const T)");
  return detail::view_of_dltensor<T, Rank>(m->dl_tensor, "from_dlpack");
}
#endif

template <std::size_t Rank>
template <class T>
dlpack_tensor<Rank>::dlpack_tensor(const tensor_view<T, Rank>& v) noexcept {
  detail::describe_view(v, tensor_, shape_.data(), strides_.data());
}

template <std::size_t Rank>
dlpack_tensor<Rank>::dlpack_tensor(const dlpack_tensor& other) noexcept
    : shape_(other.shape_), strides_(other.strides_), tensor_(other.tensor_) {
  tensor_.shape = shape_.data();
  tensor_.strides = strides_.data();
}

template <std::size_t Rank>
dlpack_tensor<Rank>& dlpack_tensor<Rank>::operator=(const dlpack_tensor& other) noexcept {
  shape_ = other.shape_;
  strides_ = other.strides_;
  tensor_ = other.tensor_;
  tensor_.shape = shape_.data();
  tensor_.strides = strides_.data();
  return *this;
}

template <class T, std::size_t Rank>
dlpack_tensor<Rank> to_dlpack(const tensor_view<T, Rank>& v) noexcept {
  return dlpack_tensor<Rank>(v);
}

template <class T, std::size_t Rank>
DLManagedTensor* to_dlpack_managed(const tensor_view<T, Rank>& v) {
  return &detail::new_managed_block<DLManagedTensor>(v)->managed;
}

#if LADLE_DLPACK_HAS_VERSIONED
template <class T, std::size_t Rank>
DLManagedTensorVersioned* to_dlpack_versioned(const tensor_view<T, Rank>& v) {
  auto* block = detail::new_managed_block<DLManagedTensorVersioned>(v);
  block->managed.version.major = DLPACK_MAJOR_VERSION;
  block->managed.version.minor = DLPACK_MINOR_VERSION;
  block->managed.flags = std::is_const<T>::value ? DLPACK_FLAG_BITMASK_READ_ONLY : 0;
  return &block->managed;
}
#endif

}  // namespace ladle
