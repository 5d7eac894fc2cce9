// Shared by every benchmark program: a memory-bandwidth reference measured in the same binary,
// so family benchmarks can report "fraction of bandwidth" next to their own GB/s.
#pragma once

#include <benchmark/benchmark.h>
#include <ladle/core/simd_memory.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

namespace ladle_bench {

/// One pass of the best copy loop ladle can write: batch loads with a software prefetch ahead,
/// cache-bypassing stores (falls back to memcpy without SIMD).
inline void tuned_copy(const float* src, float* dst, std::size_t n) {
#if LADLE_HAS_SIMD
  using fb = ladle::simd::batch<float>;
  ladle::simd::store_floats(
      dst, static_cast<ladle::index_t>(n), true,
      [&](ladle::index_t i) {
        ladle::simd::prefetch(src + i);
        return fb::load_unaligned(src + i);
      },
      [&](ladle::index_t i) { dst[i] = src[i]; });
  ladle::simd::stream_fence();
#else
  std::memcpy(dst, src, n * sizeof(float));
#endif
}

/// Single-thread read+write bandwidth (GB/s) of this machine, counted as 2 * bytes copied: the
/// traffic of a streaming kernel that reads its input once and writes its output once. It is the
/// better of glibc's memcpy and tuned_copy over `bytes` bytes, best of 10 passes each after 3
/// untimed ones (first passes over fresh memory run slow on virtual machines, where the host
/// backs pages lazily). Pass the kernel's own input size: a working set that fits the last-level
/// cache runs faster than one that does not, and the reference must see the same. Cached per size.
inline double copy_bandwidth_gbs(std::size_t bytes = std::size_t(256) << 20) {
  static std::map<std::size_t, double> cache;
  const auto hit = cache.find(bytes);
  if (hit != cache.end()) return hit->second;
  const std::size_t n = bytes / sizeof(float);
  std::vector<float> a(n, 1.0f), b(n, 0.0f);
  double best = 0;
  for (int method = 0; method < 2; ++method)
    for (int rep = 0; rep < 13; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      if (method == 0) std::memcpy(b.data(), a.data(), n * sizeof(float));
      else tuned_copy(a.data(), b.data(), n);
      benchmark::DoNotOptimize(b.data());
      benchmark::ClobberMemory();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (rep >= 3) best = std::max(best, 2.0 * double(n * sizeof(float)) / s / 1e9);
    }
  cache[bytes] = best;
  return best;
}

/// Adds GB/s, the copy reference for a working set of `copy_bytes` bytes (ref_GB/s) and the
/// fraction of it reached (bw_frac) for a kernel that moved `bytes_per_iter`.
inline void report_bandwidth(benchmark::State& state, double bytes_per_iter,
                             std::size_t copy_bytes = std::size_t(256) << 20) {
  const double bytes = bytes_per_iter * double(state.iterations());
  const double ref = copy_bandwidth_gbs(copy_bytes);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsRate);
  state.counters["ref_GB/s"] = ref;
  state.counters["bw_frac"] = benchmark::Counter(bytes / 1e9 / ref, benchmark::Counter::kIsRate);
}

}  // namespace ladle_bench
