// ladle/interop/dlpack.hpp: views of DLPack tensors (PyTorch, JAX, CuPy, TensorFlow, NumPy export
// them) and DLPack descriptions of ladle views.
//
// Needs <dlpack/dlpack.h> (Debian: libdlpack-dev; DLPack 0.6 and 1.x are both understood). If a
// DLPack header is already included (it uses the guard DLPACK_DLPACK_H_), that one is used.
// Nothing is copied and nothing is freed: a view borrows the tensor's memory, and the producer's
// deleter stays the caller's to call once the view is no longer used.
#pragma once

#include "ladle/core/dtype.hpp"
#include "ladle/core/view.hpp"

#if !defined(DLPACK_DLPACK_H_)
#  if defined(__has_include)
#    if !__has_include(<dlpack/dlpack.h>)
#      error "ladle/interop/dlpack.hpp needs <dlpack/dlpack.h> (Debian/Ubuntu: libdlpack-dev)"
#    endif
#  endif
#  include <dlpack/dlpack.h>
#endif

#include <array>
#include <cstddef>
#include <cstdint>

// 1 when the DLPack header has DLManagedTensorVersioned and its flags (DLPack >= 1.0).
#if defined(DLPACK_MAJOR_VERSION) && DLPACK_MAJOR_VERSION >= 1
#  define LADLE_DLPACK_HAS_VERSIONED 1
#else
#  define LADLE_DLPACK_HAS_VERSIONED 0
#endif

namespace ladle {

/// The DLPack dtype of element type T (const ignored): float32/64 and float16 (ladle::half) are
/// kDLFloat, ladle::bfloat16 is kDLBfloat 16, integers are kDLInt/kDLUInt; lanes is always 1.
template <class T>
constexpr DLDataType dlpack_dtype() noexcept;

/// from_dlpack<T, Rank>(t): a tensor_view<T, Rank> of a DLTensor, after checking, in this order:
///  - device: kDLCPU and kDLCUDAHost (pinned) give a host view; kDLCUDA and kDLCUDAManaged give a
///    device::cuda(device_id) view; any other device type is refused;
///  - ndim == Rank, and shape non-null with no negative extent;
///  - dtype == dlpack_dtype<T>() (code, bits and lanes == 1);
///  - data: null is accepted only for an empty tensor;
///  - byte_offset is added to data, and the resulting address must be aligned for T.
/// Strides: NULL means compact row-major; otherwise they are used as given (in elements, any
/// sign, zero for broadcast). Every refusal is a ladle::invalid_argument naming the field, the
/// value found and the value expected. T may be const.
template <class T, std::size_t Rank>
tensor_view<T, Rank> from_dlpack(const DLTensor& t);

/// from_dlpack<T, Rank>(m): the same checks on m->dl_tensor; m must not be null. The view
/// borrows: m stays owned by the caller, who calls m->deleter(m) when done with the view.
template <class T, std::size_t Rank>
tensor_view<T, Rank> from_dlpack(const DLManagedTensor* m);

#if LADLE_DLPACK_HAS_VERSIONED
/// from_dlpack<T, Rank>(m) for DLPack >= 1.0 tensors: additionally refuses a version.major other
/// than this header's DLPACK_MAJOR_VERSION (the rest of the struct cannot be read then; only the
/// deleter may be called) and a tensor flagged DLPACK_FLAG_BITMASK_READ_ONLY when T is not const.
template <class T, std::size_t Rank>
tensor_view<T, Rank> from_dlpack(const DLManagedTensorVersioned* m);
#endif

/// A DLTensor describing a ladle view, with the shape and strides arrays it points to. Copies and
/// moves re-point the DLTensor at their own arrays. Keep this object alive while the DLTensor (or
/// a copy of it) is in use; get() is therefore not available on temporaries.
template <std::size_t Rank>
class dlpack_tensor {
 public:
  /// Describes v: its data (byte_offset 0), extents, strides, dtype and device (host -> kDLCPU,
  /// cuda:N -> kDLCUDA N). For a view of const T, the consumer must not write through data.
  template <class T>
  explicit dlpack_tensor(const tensor_view<T, Rank>& v) noexcept;
  dlpack_tensor(const dlpack_tensor& other) noexcept;
  dlpack_tensor& operator=(const dlpack_tensor& other) noexcept;
  ~dlpack_tensor() = default;

  DLTensor& get() & noexcept { return tensor_; }
  const DLTensor& get() const& noexcept { return tensor_; }
  const DLTensor& get() && = delete;  // the DLTensor would point into a dead object

 private:
  std::array<std::int64_t, Rank> shape_{};
  std::array<std::int64_t, Rank> strides_{};
  DLTensor tensor_{};
};

/// to_dlpack(v): a dlpack_tensor describing v (see dlpack_tensor).
template <class T, std::size_t Rank>
dlpack_tensor<Rank> to_dlpack(const tensor_view<T, Rank>& v) noexcept;

/// to_dlpack_managed(v): a heap DLManagedTensor describing v, for handing to a consumer that
/// calls its deleter. The data is borrowed: the deleter frees only the metadata (shape, strides,
/// the struct itself), so v's memory must outlive the consumer's use. Throws std::bad_alloc.
template <class T, std::size_t Rank>
DLManagedTensor* to_dlpack_managed(const tensor_view<T, Rank>& v);

#if LADLE_DLPACK_HAS_VERSIONED
/// to_dlpack_versioned(v): like to_dlpack_managed, as a DLManagedTensorVersioned carrying this
/// header's version; a view of const T is flagged DLPACK_FLAG_BITMASK_READ_ONLY.
template <class T, std::size_t Rank>
DLManagedTensorVersioned* to_dlpack_versioned(const tensor_view<T, Rank>& v);
#endif

}  // namespace ladle

#include "ladle/interop/detail/dlpack_impl.hpp"
