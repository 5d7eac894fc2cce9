// libFuzzer target: the safetensors header parser on arbitrary bytes. Any input must either
// parse into a header whose tensors tile the data section, or raise a ladle::error; never crash,
// read out of bounds or hang.
#include "ladle/io/safetensors.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ladle::safetensors_limits limits;
  limits.max_header_bytes = 1 << 20;  // keep single inputs cheap
  try {
    const ladle::safetensors_header h = ladle::parse_safetensors(data, size, "<fuzz>", limits);
    std::uint64_t cursor = 0;
    for (const auto& t : h.tensors) {
      if (t.begin != cursor || t.end < t.begin || t.end > h.data_bytes) std::abort();
      if (t.elements() * ladle::safetensors_dtype_size(t.dtype) != t.bytes()) std::abort();
      if (h.find(t.name) == nullptr) std::abort();
      cursor = t.end;
    }
    if (cursor != h.data_bytes || h.data_begin + h.data_bytes != size) std::abort();
  } catch (const ladle::error&) {
  }
  return 0;
}
