// Structured decoding of libFuzzer bytes for ladle's fuzz targets: each target reads shapes,
// options and data from the front of the input; reads past the end give zeros, so every input
// decodes to some call.
#pragma once

#include <ladle/core/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace fuzz {

class input {
 public:
  input(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}

  template <class T>
  T take() {
    T v{};
    const std::size_t k = n_ < sizeof(T) ? n_ : sizeof(T);
    std::memcpy(&v, p_, k);
    p_ += k;
    n_ -= k;
    return v;
  }
  /// An integer in [lo, hi] (inclusive).
  std::int64_t range(std::int64_t lo, std::int64_t hi) {
    const auto u = take<std::uint32_t>();
    return lo + static_cast<std::int64_t>(u % static_cast<std::uint64_t>(hi - lo + 1));
  }
  /// A size that is usually small but sometimes hostile (negative, huge, near INT64_MAX).
  std::int64_t size(std::int64_t small_max) {
    const auto sel = take<std::uint8_t>();
    switch (sel % 16) {
      case 0: return std::numeric_limits<std::int64_t>::max() - take<std::uint8_t>();
      case 1: return -static_cast<std::int64_t>(take<std::uint8_t>());
      case 2: return std::int64_t(1) << (take<std::uint8_t>() % 63);
      default: return range(0, small_max);
    }
  }
  /// A float that is usually ordinary and sometimes NaN, Inf, huge, tiny or denormal.
  float value() {
    const auto sel = take<std::uint8_t>();
    switch (sel % 24) {
      case 0: return std::numeric_limits<float>::quiet_NaN();
      case 1: return std::numeric_limits<float>::infinity();
      case 2: return -std::numeric_limits<float>::infinity();
      case 3: return std::numeric_limits<float>::max();
      case 4: return -std::numeric_limits<float>::max();
      case 5: return std::numeric_limits<float>::denorm_min();
      case 6: return 65504.0f * (take<std::int8_t>() / 64.0f);
      case 7: return take<float>();  // raw bits
      default: return static_cast<float>(take<std::int16_t>()) / 64.0f;
    }
  }
  std::size_t left() const noexcept { return n_; }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
};

/// Runs f; a ladle::error is a correct answer to bad input, anything else escapes (and crashes
/// the fuzzer, which is the point).
template <class F>
void call(F&& f) {
  try {
    f();
  } catch (const ladle::error&) {
  }
}

}  // namespace fuzz
